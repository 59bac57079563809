"""The old home of the navigator, kept for ``python -m actions.navigator INTAKE.json``.

The navigator is Rasa-free and lives in :mod:`trd.navigator`; import it from there.
"""
