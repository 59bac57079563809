"""The core of the TRD navigator: everything that does not need Rasa.

``knowledge``-style loaders, the safety contract and risk engine (``safety``), the
navigator's rules (``navigator``), answer reading (``answers``, ``intake``), storage
(``store``), escalation (``escalation``), SMS formatting and sending (``sms``) and the
summaries (``summary``). ``bot/`` (the Rasa server) and ``actions/`` (the action
server) are thin adapters that import this package and never each other; nothing in
here imports ``rasa``, ``rasa_sdk``, ``bot`` or ``actions`` (import-linter checks it
in ``make check``).
"""
