"""Every kind of answer, registered once (imported by :mod:`trd.answers`).

The intake's question kinds (data/knowledge/intake_questions.yml ``kind``) and the
medicines form's (``actions/forms/medications.py`` asks them). Canonical checks are on
slot values: what a form stores (a therapy type as ``{"type", "description"}``).
"""

from __future__ import annotations

from typing import Any

from trd.answers import adherence, current, intake, medicines, outcomes, person, trial_context, trials
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


# --- version 2 (navigator.md section 10) -------------------------------------------------------
# the person now (parts 1, 4, 5) and the gentle questions after the safety check
register("age", _text_only(person.read_age), person.is_age_value, "age in years, or a range")
register(
    "perinatal",
    _text_only(person.read_perinatal),
    person.is_perinatal_value,
    "pregnant, had a baby in the past year, breastfeeding, planning a pregnancy",
)
register(
    "drinks_per_week",
    _text_only(person.read_drinks_per_week),
    lambda v: _number(v) and v <= person.MAX_DRINKS_PER_WEEK,
    "alcoholic drinks in a usual week",
)
register(
    "recreational_drugs",
    _text_only(person.read_recreational_drugs),
    person.is_drugs_value,
    "cannabis and other recreational drugs used now",
)
register(
    "psychosis_kind",
    _text_only(person.read_psychosis_kind),
    person.is_psychosis_value,
    "hearing or seeing things, firmly held beliefs, or both",
)
register(
    "thoughts_now",
    _text_only(person.read_thoughts_now),
    lambda v: v in person.THOUGHTS_NOW,
    "suicidal thoughts now: none, passive or active",
)
register(
    "go_ahead",
    lambda text, context: person.read_go_ahead(text, context.intent, context.confidence),
    lambda v: isinstance(v, bool),
    "whether the person is happy to be asked",
)
# a medicine trial's context (part 2) and what the person takes now
register(
    "trial_purpose",
    _text_only(trial_context.read_purpose),
    lambda v: v in trial_context.PURPOSES,
    "what a medicine was taken for",
)
register(
    "relapse_while_taking",
    _text_only(trial_context.read_relapse_while_taking),
    lambda v: isinstance(v, bool),
    "the illness came back while still on the medicine at the same dose",
)
register(
    "added_to",
    _with_names(trial_context.read_added_to),
    trial_context.is_added_to_value,
    "the medicine it was added on top of ([] on its own)",
)
register(
    "trial_order",
    _with_names(trial_context.read_trial_order),
    trial_context.is_order_value,
    "the order the medicines were tried in",
)
register(
    "current_medicines",
    _with_names(current.read_current_medicines),
    current.is_medicines_value,
    "every medicine taken now, with doses",
)
register(
    "current_confirm",
    _with_names(current.read_current_confirm),
    current.is_confirm_value,
    "the list of medicines taken now, confirmed",
)


# The intake's kinds as parsers (text, intent, confidence) -> value, for the intake forms
# and the question loader (a question's ``kind`` must be one of these).
INTAKE_KINDS = (
    "phq9",
    "yes_no",
    "months",
    "count",
    "therapy_type",
    "completed",
    "treatments",
    "outcome",
    "age",
    "perinatal",
    "drinks_per_week",
    "recreational_drugs",
    "psychosis_kind",
    "thoughts_now",
    "go_ahead",
    "trial_purpose",
    "relapse_while_taking",
    "added_to",
    "trial_order",
    "current_medicines",
    "current_confirm",
)


def _parser(name: str) -> Any:
    from trd.answers.registry import kind

    reader = kind(name).read
    return lambda text, intent=None, confidence=0.0: reader(text, Context(intent, confidence))


PARSERS = {name: _parser(name) for name in INTAKE_KINDS}

__all__ = ["INTAKE_KINDS", "PARSERS", "Context"]
