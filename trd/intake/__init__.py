"""The structured intake, without Rasa: wording, answers, parts, the record and saving.

Modules: ``questions`` (the wording, from data/knowledge/intake_questions.yml),
``answers`` (reading answers), ``parts`` (part order and slot names), ``record`` (slots
to intake.schema.json), ``store`` (saving). The orchestrator and the digressions live
in ``actions/intake/actions.py``, the forms in ``actions/forms/intake_*.py``, and
``actions/intake/domain_gen.py`` renders the wording into domain.yml.
"""
