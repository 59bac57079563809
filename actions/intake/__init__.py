"""The intake's action-server side: the orchestrator (``actions``) and ``domain_gen``.

The Rasa-free parts (wording, answers, parts, record, saving) live in :mod:`trd.intake`.
"""
