"""Every kind of answer, registered once (imported by :mod:`trd.answers`).

The intake's question kinds (data/knowledge/intake_questions.yml ``kind``) and the
medicines form's (``actions/forms/medications.py`` asks them). Canonical checks are on
slot values: what a form stores (a therapy type as ``{"type", "description"}``).
"""

from __future__ import annotations

from typing import Any

from trd.answers import adherence, intake, medicines, outcomes, trials
from trd.answers.registry import Context, register


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _text_only(fn: Any) -> Any:
    return lambda text, context: fn(text)


def _with_names(fn: Any) -> Any:
    return lambda text, context: fn(text, context.message, context.lexicon)


# --- the intake's kinds (parts 1, 3-5) ------------------------------------------------------
register(
    "phq9",
    _text_only(intake.parse_phq9),
    lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 3,
    "PHQ-9 item score 0-3",
)
register(
    "yes_no",
    lambda text, context: intake.parse_yes_no(text, context.intent, context.confidence),
    lambda v: isinstance(v, bool),
    "yes / no",
)
register("months", _text_only(intake.parse_months), _whole, "whole months (episode length)")
register("count", _text_only(intake.parse_count), _whole, "a whole number of sessions")
register(
    "therapy_type",
    _text_only(intake.parse_therapy_type),
    lambda v: isinstance(v, dict) and v.get("type") in intake.THERAPY_TYPES,
    "the schema's therapy type",
)
register(
    "completed",
    _text_only(intake.parse_completed),
    lambda v: isinstance(v, dict) and v.get("completed") in (True, False, None),
    "finished, stopped early, or still going",
)
register(
    "treatments",
    _text_only(intake.parse_treatments),
    lambda v: isinstance(v, list) and all(t in intake.OTHER_TREATMENTS for t in v),
    "other treatments tried",
)
register(
    "outcome",
    _text_only(outcomes.parse_outcome),
    lambda v: isinstance(v, str) and v in outcomes.OUTCOMES,
    "a treatment's outcome (the outcome cues)",
)

# --- the medicines form's kinds (part 2) ---------------------------------------------------
register("medicine_names", _with_names(medicines.read_names), medicines.is_names_value, "medicines named")
register(
    "medicine_spelling",
    _with_names(medicines.read_spelling),
    lambda v: False,  # holds nothing between answers
    "the answer to a spelling check",
)
register("dose", _text_only(trials.read_dose), _number, "highest dose, mg per day")
register("weeks_at_dose", _text_only(trials.read_weeks), _number, "weeks at that dose")
register(
    "adherence",
    _text_only(adherence.read_adherence),
    lambda v: v in adherence.ADHERENCE_VALUES,
    "taken most days or often missed",
)
register(
    "trial_outcome",
    _text_only(outcomes.read_outcome),
    lambda v: v in outcomes.OUTCOMES,
    "a medicine's outcome (buttons, then every outcome pattern)",
)
register(
    "side_effects",
    _text_only(trials.read_side_effects),
    lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
    "side effects, a list ([] for none)",
)
register(
    "still_taking", _text_only(trials.read_still_taking), lambda v: isinstance(v, bool), "still taking it"
)
register("trial_confirm", _text_only(trials.read_confirm), lambda v: v is True, "the read-back confirmed")
register(
    "more_medicines",
    _with_names(medicines.read_more),
    lambda v: isinstance(v, bool),
    "any other medicines (or the names)",
)


# The intake's kinds as parsers (text, intent, confidence) -> value, for the intake forms
# and the question loader (a question's ``kind`` must be one of these).
INTAKE_KINDS = ("phq9", "yes_no", "months", "count", "therapy_type", "completed", "treatments", "outcome")


def _parser(name: str) -> Any:
    from trd.answers.registry import kind

    reader = kind(name).read
    return lambda text, intent=None, confidence=0.0: reader(text, Context(intent, confidence))


PARSERS = {name: _parser(name) for name in INTAKE_KINDS}

__all__ = ["INTAKE_KINDS", "PARSERS", "Context"]
