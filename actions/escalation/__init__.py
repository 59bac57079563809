"""The old home of escalation, kept for ``python -m actions.escalation.worker``.

Escalation is Rasa-free and lives in :mod:`trd.escalation`; import it from there.
"""
