"""The structured intake: five parts, a record builder and the orchestrator.

Modules: ``questions`` (the wording, from data/knowledge/intake_questions.yml),
``answers`` (reading answers), ``parts`` (part order and slot names), ``record`` (slots
to intake.schema.json), ``store`` (saving), ``actions`` (the orchestrator and the
digressions), ``domain_gen`` (renders the wording into domain.yml). The forms live in
``actions/forms/intake_*.py``.
"""
