"""The old home of the storage layer, kept for ``python -m actions.store.migrate``.

Storage is Rasa-free and lives in :mod:`trd.store`; import it from there.
"""
