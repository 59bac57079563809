"""The intake record builder: slots in, intake.schema.json JSON out. Pure (no I/O after the
schema is loaded once).

Unknown is never "no": a question not answered yet, skipped, or answered "I don't know"
is ``null``. The schema's names and meanings are kept; the record adds a few fields so
nothing the person said is lost (the schema allows extra fields):

* ``phq9_items``: the nine answers with nulls (``phq9`` itself is null unless all nine
  are known, because the schema's items are integers);
* ``trauma.pc_ptsd5_items`` and ``trauma.pc_ptsd5_score`` (0 when no exposure, as the
  instrument scores it);
* ``psychotherapy_tried`` and ``other_treatments_tried`` (tried / not tried / unknown per
  treatment); ``psychotherapy[].ongoing`` and ``.description`` (the person's words for an
  unlisted kind); ``medical.blood_tests_past_year``;
* ``trials_unreadable``: part-2 entries that do not match the schema, kept verbatim;
* ``age_range`` (only a range was given: ``age_years`` is then its midpoint or lower
  bound, and ``notes`` says which), ``current_medications[].name_given`` and
  ``.recognised`` (a name the lexicon does not know is kept as typed);
* ``notes``: plain sentences about how an answer was recorded;
* ``safety``: PHQ-9 item 9 and the crisis categories raised during the intake;
* ``intake``: status, current part and parts done.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Dict, List, Mapping, Optional, Sequence

from trd.answers.person import PERINATAL_FIELDS, THOUGHTS_NOW, age_years
from trd.intake.answers import OTHER_TREATMENTS, OUTCOMES, THERAPY_TYPES
from trd.intake.parts import (
    DONE,
    PART_ORDER,
    SLOT_CRISES,
    SLOT_CURRENT_MEDS,
    SLOT_OT_CURRENT,
    SLOT_OTHER_TREATMENTS,
    SLOT_PART,
    SLOT_PARTS_DONE,
    SLOT_PSYCHOTHERAPY,
    SLOT_STARTED,
    SLOT_TRIALS,
    UNKNOWN_VALUE,
)
from trd.safety.contract import (
    RISK_CHECK_DECLINED,
    RISK_CHECK_STATES,
    SLOT_RISK_CHECK,
    SUICIDAL_THOUGHTS_NOW_CATEGORIES,
)

logger = logging.getLogger(__name__)

PHQ9_SLOTS = tuple(f"phq9_q{i}" for i in range(1, 10))
PTSD_SLOTS = tuple(f"ptsd_{i}" for i in range(1, 6))
LAB_SLOTS = {
    "thyroid": "lab_thyroid",
    "b12": "lab_b12",
    "vitamin_d": "lab_vitamin_d",
    "blood_count": "lab_blood_count",
    "glucose": "lab_glucose",
}
BIPOLAR_SLOTS = {
    "elevated_periods": "bp_elevated_periods",
    "little_sleep_needed": "bp_little_sleep",
    "antidepressant_activation": "bp_ad_activation",
    "family_history": "bp_family_history",
    "family_history_suicide": "bp_family_suicide",
}
ADHD_SLOTS = {
    "since_childhood": "adhd_since_childhood",
    "trouble_finishing": "adhd_trouble_finishing",
    "distractible": "adhd_distractible",
    "interest_lifts_mood": "adhd_interest_lifts_mood",
}
SLEEP_SLOTS = {
    "loud_snoring": "apnea_snoring",
    "breathing_pauses_seen": "apnea_pauses",
    "daytime_sleepiness": "apnea_sleepy",
    "heavy_alcohol_or_drugs": "heavy_substance",
}
CAUTION_SLOTS = {
    "uncontrolled_blood_pressure_or_heart_disease": "caution_bp_heart",
    "psychosis_or_dissociation_history": "caution_psychosis",
    "substance_use_problem": "caution_substance",
    "pregnant_or_planning": "caution_pregnancy",
    "can_attend_daily_visits": "caution_daily_visits",
}


# --- canonical slot values -> record values ---------------------------------------------


def known(value: Any) -> bool:
    return value is not None and value != UNKNOWN_VALUE


def as_bool(value: Any) -> Optional[bool]:
    return value if isinstance(value, bool) else None


def as_count(value: Any) -> Optional[int]:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def as_phq(value: Any) -> Optional[int]:
    count = as_count(value)
    return count if count is not None and count <= 3 else None


def therapy_entry(type_value: Any, sessions: Any, completed: Any) -> Dict[str, Any]:
    """One schema psychotherapy item from the therapy form's canonical slot values."""
    kind = "other"
    description: Optional[str] = None
    if isinstance(type_value, Mapping) and type_value.get("type") in THERAPY_TYPES:
        kind = str(type_value["type"])
        raw = type_value.get("description")
        description = raw if isinstance(raw, str) and raw.strip() else None
    entry: Dict[str, Any] = {"type": kind, "sessions": as_count(sessions), "completed": None}
    if isinstance(completed, Mapping):
        entry["completed"] = as_bool(completed.get("completed"))
        if completed.get("ongoing") is True:
            entry["ongoing"] = True
    if description:
        entry["description"] = description
    return entry


# The other treatments given as a course of sessions (navigator.md section 10: adequate courses).
SESSION_TREATMENTS = frozenset({"tms", "ect", "ketamine", "esketamine"})


def other_treatment_entry(kind: str, completed: Any, outcome: Any, sessions: Any = None) -> Dict[str, Any]:
    """One schema other_treatments item (``sessions`` for TMS, ECT, ketamine and esketamine)."""
    entry: Dict[str, Any] = {"type": kind, "completed": None, "outcome": None}
    if kind in SESSION_TREATMENTS:
        entry["sessions"] = as_count(sessions)
    if isinstance(completed, Mapping):
        entry["completed"] = as_bool(completed.get("completed"))
        if completed.get("ongoing") is True:
            entry["ongoing"] = True
    if isinstance(outcome, str) and outcome in OUTCOMES:
        entry["outcome"] = outcome
    return entry


def tried_treatments(value: Any) -> List[str]:
    """The other treatments the person named (canonical ot_tried: a list of kinds)."""
    if not isinstance(value, list):
        return []
    return [kind for kind in OTHER_TREATMENTS if kind in value]


def pending_treatments(tried: Any, recorded: Any) -> List[str]:
    """Named treatments whose questions are still to come."""
    done = (
        {e.get("type") for e in recorded if isinstance(e, Mapping)} if isinstance(recorded, list) else set()
    )
    return [kind for kind in tried_treatments(tried) if kind not in done]


def _entries(value: Any) -> List[Dict[str, Any]]:
    return [dict(e) for e in value if isinstance(e, Mapping)] if isinstance(value, list) else []


def _psychotherapy(slots: Mapping[str, Any]) -> List[Dict[str, Any]]:
    entries = [e for e in _entries(slots.get(SLOT_PSYCHOTHERAPY)) if e.get("type") in THERAPY_TYPES]
    if (
        slots.get("therapy_any") is True
        and slots.get("therapy_type") is not None
        and slots.get("therapy_more") is None
    ):
        # an entry still being asked about: keep what is known so far
        entries.append(
            therapy_entry(
                slots.get("therapy_type"), slots.get("therapy_sessions"), slots.get("therapy_completed")
            )
        )
    return entries


def _other_treatments(slots: Mapping[str, Any]) -> List[Dict[str, Any]]:
    entries = [e for e in _entries(slots.get(SLOT_OTHER_TREATMENTS)) if e.get("type") in OTHER_TREATMENTS]
    current = slots.get(SLOT_OT_CURRENT)
    if (
        isinstance(current, str)
        and current in OTHER_TREATMENTS
        and current not in {e["type"] for e in entries}
    ):
        entries.append(
            other_treatment_entry(
                current, slots.get("ot_completed"), slots.get("ot_outcome"), slots.get("ot_sessions")
            )
        )
    return entries


def _other_treatments_tried(slots: Mapping[str, Any], entries: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    value = slots.get("ot_tried")
    if isinstance(value, list):
        named = set(tried_treatments(value)) | {str(e.get("type")) for e in entries}
        return {kind: kind in named for kind in OTHER_TREATMENTS}
    named = {str(e.get("type")) for e in entries}
    return {kind: (True if kind in named else None) for kind in OTHER_TREATMENTS}


def _trauma(slots: Mapping[str, Any]) -> Dict[str, Any]:
    exposure = as_bool(slots.get("trauma_exposure"))
    items = [as_bool(slots.get(s)) for s in PTSD_SLOTS]
    complete = exposure is True and all(i is not None for i in items)
    score: Optional[int] = None
    if exposure is False:
        score = 0
    elif complete:
        score = sum(1 for i in items if i)
    return {
        "exposure": exposure,
        "pc_ptsd5": items if complete else None,
        "pc_ptsd5_items": items if exposure is True else None,
        "pc_ptsd5_score": score,
    }


def _medical(slots: Mapping[str, Any]) -> Dict[str, Any]:
    any_tests = as_bool(slots.get("labs_any"))
    if any_tests is False:
        labs: Dict[str, Optional[bool]] = {name: False for name in LAB_SLOTS}
    else:
        labs = {name: (as_bool(slots.get(slot)) if any_tests else None) for name, slot in LAB_SLOTS.items()}
    medical: Dict[str, Any] = {"labs_checked_past_year": labs, "blood_tests_past_year": any_tests}
    medical.update({name: as_bool(slots.get(slot)) for name, slot in SLEEP_SLOTS.items()})
    return medical


def _bipolar(slots: Mapping[str, Any]) -> Dict[str, Any]:
    bipolar = {name: as_bool(slots.get(slot)) for name, slot in BIPOLAR_SLOTS.items()}
    switch = as_bool(slots.get("bp_ad_switch"))
    if bipolar["antidepressant_activation"] is False:
        switch = False  # no reaction to an antidepressant at all: no elevated period on one
    bipolar["antidepressant_switch"] = switch
    return bipolar


def _perinatal(slots: Mapping[str, Any]) -> Dict[str, Optional[bool]]:
    value = slots.get("caution_pregnancy")
    if isinstance(value, Mapping):
        return {name: as_bool(value.get(name)) for name in PERINATAL_FIELDS}
    return {name: None for name in PERINATAL_FIELDS}


def _pregnant_or_planning(
    slots: Mapping[str, Any], perinatal: Mapping[str, Optional[bool]]
) -> Optional[bool]:
    value = slots.get("caution_pregnancy")
    if isinstance(value, bool):  # an answer to the version 1 question
        return value
    pregnant, planning = perinatal["pregnant"], perinatal["planning"]
    if pregnant is True or planning is True:
        return True
    if pregnant is False and planning is False:
        return False
    return None


def _psychosis_now(slots: Mapping[str, Any]) -> Dict[str, Optional[bool]]:
    any_now = as_bool(slots.get("psychosis_any"))
    if any_now is False:
        return {"perceptions": False, "fixed_beliefs": False}
    kind = slots.get("psychosis_kind")
    if any_now is True and isinstance(kind, Mapping):
        return {
            "perceptions": as_bool(kind.get("perceptions")),
            "fixed_beliefs": as_bool(kind.get("fixed_beliefs")),
        }
    return {"perceptions": None, "fixed_beliefs": None}


def _suicide_history(slots: Mapping[str, Any]) -> Dict[str, Any]:
    thoughts = slots.get("sh_thoughts")
    thoughts_now = thoughts if isinstance(thoughts, str) and thoughts in THOUGHTS_NOW else None
    plan = as_bool(slots.get("sh_plan"))
    if thoughts_now == "none":
        plan = False  # no thoughts now: no plan or intent now
    return {
        "thoughts_now": thoughts_now,
        "plan_or_intent": plan,
        "past_attempt": as_bool(slots.get("sh_attempt")),
        "hospitalised": as_bool(slots.get("sh_hospital")),
        "access_to_means": as_bool(slots.get("sh_means")),
    }


def _substance(slots: Mapping[str, Any]) -> Dict[str, Any]:
    drinks = slots.get("sub_alcohol")
    drugs = slots.get("sub_drugs")
    known_drinks = (
        float(drinks)
        if isinstance(drinks, (int, float)) and not isinstance(drinks, bool) and drinks >= 0
        else None
    )
    return {
        "alcohol_drinks_per_week": known_drinks,
        "cannabis_use": as_bool(drugs.get("cannabis")) if isinstance(drugs, Mapping) else None,
        "other_drugs": as_bool(drugs.get("other")) if isinstance(drugs, Mapping) else None,
    }


def _number_or_none(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return value


def _current_medications(slots: Mapping[str, Any]) -> Optional[List[Dict[str, Any]]]:
    """What the person takes now (null until asked; [] for "none")."""
    value = slots.get(SLOT_CURRENT_MEDS)
    if not isinstance(value, list):
        return None
    items: List[Dict[str, Any]] = []
    for raw in value:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("drug"), str) or not raw["drug"].strip():
            continue
        item: Dict[str, Any] = {
            "drug": raw["drug"].strip().lower(),
            "dose_mg": _number_or_none(raw.get("dose_mg")),
        }
        if isinstance(raw.get("name_given"), str):
            item["name_given"] = raw["name_given"]
        item["recognised"] = raw.get("recognised") is not False
        items.append(item)
    return items


def crisis_categories(slots: Mapping[str, Any]) -> List[str]:
    value = slots.get(SLOT_CRISES)
    return [str(c) for c in value if isinstance(c, str)] if isinstance(value, list) else []


def _possible_risk_question(slots: Mapping[str, Any]) -> Optional[str]:
    """Whether the possible-risk question ("... Are you having thoughts like that?") was asked:
    "asked" (no answer yet), "declined" (the person said no, or twice gave no answer), or None
    (not asked, or a yes or an evasive answer opened the crisis path: see risk_categories)."""
    value = slots.get(SLOT_RISK_CHECK)
    if value not in RISK_CHECK_STATES:
        return None
    return "declined" if value == RISK_CHECK_DECLINED else "asked"


def _suicidal_thoughts_now(item9: Optional[int], categories: Sequence[str]) -> Optional[bool]:
    if (item9 is not None and item9 > 0) or SUICIDAL_THOUGHTS_NOW_CATEGORIES.intersection(categories):
        return True
    if item9 == 0:
        return False
    return None


def _status(slots: Mapping[str, Any]) -> Dict[str, Any]:
    done_value = slots.get(SLOT_PARTS_DONE)
    done = [p for p in PART_ORDER if isinstance(done_value, list) and p in done_value]
    part = slots.get(SLOT_PART)
    if part == DONE:
        status = "complete"
    elif slots.get(SLOT_STARTED) is True or part in PART_ORDER:
        status = "in_progress"
    else:
        status = "not_started"
    return {"status": status, "current_part": part if part in PART_ORDER else None, "parts_done": done}


def _trials(slots: Mapping[str, Any]) -> Dict[str, List[Any]]:
    value = slots.get(SLOT_TRIALS)
    good: List[Any] = []
    bad: List[Any] = []
    if isinstance(value, list):
        validator = default_validator()
        for entry in value:
            if not validator.errors({"trials": [entry]}):
                good.append(entry)
            else:
                bad.append(entry)
    if bad:
        logger.warning("intake record: %d medication trial(s) do not match the schema; kept apart", len(bad))
    return {"trials": good, "trials_unreadable": bad}


def build_record(slots: Mapping[str, Any]) -> Dict[str, Any]:
    """The intake record (intake.schema.json plus the fields above) from the tracker's slots."""
    items = [as_phq(slots.get(s)) for s in PHQ9_SLOTS]
    categories = crisis_categories(slots)
    other = _other_treatments(slots)
    trials = _trials(slots)
    perinatal = _perinatal(slots)
    cautions = {name: as_bool(slots.get(slot)) for name, slot in CAUTION_SLOTS.items()}
    cautions["pregnant_or_planning"] = _pregnant_or_planning(slots, perinatal)
    age, age_note = age_years(slots.get("age"))
    age_value = slots.get("age")
    record: Dict[str, Any] = {
        "phq9": items if all(i is not None for i in items) else None,
        "phq9_items": items,
        "episode_months": as_count(slots.get("episode_months")),
        "previous_episodes": as_bool(slots.get("previous_episodes")),
        "trials": trials["trials"],
        "psychotherapy_tried": as_bool(slots.get("therapy_any")),
        "psychotherapy": _psychotherapy(slots),
        "other_treatments_tried": _other_treatments_tried(slots, other),
        "other_treatments": other,
        "bipolar": _bipolar(slots),
        "trauma": _trauma(slots),
        "adhd": {name: as_bool(slots.get(slot)) for name, slot in ADHD_SLOTS.items()},
        "medical": _medical(slots),
        "cautions": cautions,
        "suicidal_thoughts_now": _suicidal_thoughts_now(items[8], categories),
        "safety": {
            "phq9_item9_positive": None if items[8] is None else items[8] > 0,
            "crisis_in_conversation": bool(categories),
            "risk_categories": categories,
            "possible_risk_question": _possible_risk_question(slots),
        },
        "intake": _status(slots),
        # version 2 (navigator.md section 10)
        "age_years": age,
        "perinatal": perinatal,
        "current_medications": _current_medications(slots),
        "psychosis_now": _psychosis_now(slots),
        "catatonia_signs": as_bool(slots.get("catatonia")),
        "suicide_history": _suicide_history(slots),
        "substance": _substance(slots),
        "function_impaired": as_bool(slots.get("function_impaired")),
        "notes": [age_note] if age_note else [],
    }
    if isinstance(age_value, Mapping) and "min" in age_value:
        record["age_range"] = {"min_years": age_value.get("min"), "max_years": age_value.get("max")}
    if trials["trials_unreadable"]:
        record["trials_unreadable"] = trials["trials_unreadable"]
    return record


def empty_record() -> Dict[str, Any]:
    """The record of an intake that has nothing in it (after "start over")."""
    return build_record({})


@functools.lru_cache(maxsize=1)
def default_validator() -> Any:
    """The navigator's schema validator (trd/navigator/intake.schema.json), built once."""
    from trd.navigator.loader import load_schema
    from trd.navigator.validation import IntakeValidator

    return IntakeValidator(load_schema())


def validate_record(record: Mapping[str, Any]) -> None:
    """Raise IntakeValidationError (naming the field) unless the record matches the schema."""
    default_validator().validate(record)
