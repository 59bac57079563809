"""Fixed intake records for the summary tests (shapes as trd/intake/record.py stores them).

TYPICAL is the record the goldens pin: three antidepressant trials (one adequate and
failed, one too short, one stopped for side effects), CBT started, every screen
answered but one bipolar question, two labs missing. URGENT is the same person with a
severe PHQ-9 and item 9 above zero. The tests below keep them what they claim to be.
"""

from __future__ import annotations

import copy
from typing import Any, Dict

from trd.navigator import default_knowledge, navigate

Record = Dict[str, Any]

TYPICAL: Record = {
    "phq9": [2, 2, 2, 1, 2, 2, 1, 1, 0],
    "phq9_items": [2, 2, 2, 1, 2, 2, 1, 1, 0],
    "episode_months": 18,
    "previous_episodes": True,
    "trials": [
        {
            "drug": "sertraline",
            "role": "antidepressant",
            "max_dose_mg": 100,
            "weeks_at_dose": 8,
            "adherence": "most_days",
            "outcome": "no_response",
            "still_taking": False,
        },
        {
            "drug": "escitalopram",
            "role": "antidepressant",
            "max_dose_mg": 10,
            "weeks_at_dose": 4,
            "adherence": "most_days",
            "outcome": "partial_response",
            "still_taking": False,
        },
        {
            "drug": "bupropion",
            "role": None,
            "max_dose_mg": 300,
            "weeks_at_dose": 10,
            "adherence": "often_missed",
            "outcome": "stopped_side_effects",
            "still_taking": False,
            "side_effects": ["insomnia"],
        },
    ],
    "psychotherapy_tried": True,
    "psychotherapy": [{"type": "cbt", "sessions": 6, "completed": False}],
    "other_treatments_tried": {},
    "other_treatments": [],
    "bipolar": {
        "elevated_periods": False,
        "little_sleep_needed": False,
        "antidepressant_activation": False,
        "family_history": None,
    },
    "trauma": {"exposure": False, "pc_ptsd5": None},
    "adhd": {
        "since_childhood": False,
        "trouble_finishing": False,
        "distractible": False,
        "interest_lifts_mood": False,
    },
    "medical": {
        "labs_checked_past_year": {
            "thyroid": True,
            "b12": None,
            "vitamin_d": False,
            "blood_count": True,
            "glucose": True,
        },
        "loud_snoring": False,
        "breathing_pauses_seen": False,
        "daytime_sleepiness": True,
        "heavy_alcohol_or_drugs": False,
    },
    "cautions": {
        "uncontrolled_blood_pressure_or_heart_disease": False,
        "psychosis_or_dissociation_history": False,
        "substance_use_problem": False,
        "pregnant_or_planning": False,
        "can_attend_daily_visits": True,
    },
    "suicidal_thoughts_now": False,
    "safety": {"phq9_item9_positive": False, "crisis_in_conversation": False, "risk_categories": []},
    "intake": {
        "status": "complete",
        "current_part": None,
        "parts_done": ["phq9", "episode", "medications", "therapy", "screens", "cautions"],
    },
}


def typical() -> Record:
    return copy.deepcopy(TYPICAL)


def urgent() -> Record:
    record = typical()
    record["phq9"] = [3, 3, 3, 2, 2, 3, 2, 2, 1]
    record["phq9_items"] = list(record["phq9"])
    record["suicidal_thoughts_now"] = True
    record["safety"] = {
        "phq9_item9_positive": True,
        "crisis_in_conversation": True,
        "risk_categories": ["suicidal_ideation"],
    }
    return record


def in_progress() -> Record:
    """Part 1 done, the medicines part under way: most answers unknown."""
    return {
        "phq9": [1, 2, 2, 1, 1, 1, 0, 1, 0],
        "phq9_items": [1, 2, 2, 1, 1, 1, 0, 1, 0],
        "episode_months": 7,
        "previous_episodes": None,
        "trials": [
            {
                "drug": "fluoxetine",
                "role": None,
                "max_dose_mg": 20,
                "weeks_at_dose": None,
                "adherence": None,
                "outcome": "no_response",
                "still_taking": True,
            }
        ],
        "bipolar": {},
        "trauma": {},
        "adhd": {},
        "medical": {},
        "cautions": {},
        "suicidal_thoughts_now": False,
        "intake": {"status": "in_progress", "current_part": "medications", "parts_done": ["phq9", "episode"]},
    }


def many_findings() -> Record:
    """Nearly every flag at once (the longest chat message and clinician page)."""
    record = urgent()
    record["bipolar"]["antidepressant_activation"] = True
    record["bipolar"]["antidepressant_switch"] = True  # section 10: activation alone is not a bipolar feature
    record["trauma"] = {"exposure": True, "pc_ptsd5": [True, True, True, True, False]}
    record["adhd"] = {
        "since_childhood": True,
        "trouble_finishing": True,
        "distractible": True,
        "interest_lifts_mood": False,
    }
    record["medical"]["loud_snoring"] = True
    record["medical"]["heavy_alcohol_or_drugs"] = True
    record["cautions"]["uncontrolled_blood_pressure_or_heart_disease"] = True
    record["psychotherapy"] = []
    record["trials"].append(
        {
            "drug": "Zoloft-ish <b>brand</b> & co",
            "role": "antidepressant",
            "max_dose_mg": None,
            "weeks_at_dose": None,
            "adherence": None,
            "outcome": None,
            "still_taking": None,
        }
    )
    return record


def v2() -> Record:
    """A version-2 record (navigator.md section 10): one full sertraline trial still taken, trazodone 50 mg
    for sleep, tramadol for back pain (an interaction with the pair named), a mechanism layer "not yet",
    staging from complete answers, and every new field answered."""
    return {
        "phq9": [2, 2, 2, 2, 1, 2, 1, 1, 0],
        "phq9_items": [2, 2, 2, 2, 1, 2, 1, 1, 0],
        "episode_months": 9,
        "previous_episodes": False,
        "age_years": 34,
        "perinatal": {
            "pregnant": False,
            "postpartum_within_year": False,
            "breastfeeding": False,
            "planning": False,
        },
        "current_medications": [
            {"drug": "sertraline", "dose_mg": 150},
            {"drug": "trazodone", "dose_mg": 50},
            {"drug": "tramadol", "dose_mg": 100},
        ],
        "trials": [
            {
                "drug": "sertraline",
                "role": "antidepressant",
                "max_dose_mg": 150,
                "weeks_at_dose": 12,
                "adherence": "most_days",
                "outcome": "partial_response",
                "still_taking": True,
                "order": 1,
                "purpose": "depression",
                "added_to": None,
            },
            {
                "drug": "trazodone",
                "role": None,
                "max_dose_mg": 50,
                "weeks_at_dose": 10,
                "adherence": "most_days",
                "outcome": None,
                "still_taking": True,
                "order": 2,
                "purpose": "sleep",
                "added_to": None,
            },
        ],
        "psychotherapy": [{"type": "cbt", "sessions": 12, "completed": True}],
        "other_treatments": [],
        "bipolar": {
            "elevated_periods": False,
            "little_sleep_needed": False,
            "antidepressant_activation": True,
            "antidepressant_switch": False,
            "family_history": False,
            "family_history_suicide": False,
        },
        "trauma": {"exposure": False, "pc_ptsd5": None},
        "adhd": {
            "since_childhood": False,
            "trouble_finishing": False,
            "distractible": False,
            "interest_lifts_mood": False,
        },
        "medical": {
            "labs_checked_past_year": {
                "thyroid": True,
                "b12": True,
                "vitamin_d": True,
                "blood_count": True,
                "glucose": True,
            },
            "loud_snoring": False,
            "breathing_pauses_seen": False,
            "daytime_sleepiness": False,
        },
        "substance": {"alcohol_drinks_per_week": 3, "cannabis_use": False, "other_drugs": False},
        "cautions": {
            "uncontrolled_blood_pressure_or_heart_disease": False,
            "psychosis_or_dissociation_history": False,
            "substance_use_problem": False,
            "can_attend_daily_visits": True,
        },
        "psychosis_now": {"perceptions": False, "fixed_beliefs": False},
        "catatonia_signs": False,
        "suicide_history": {"thoughts_now": "none", "plan_or_intent": False, "past_attempt": False},
        "function_impaired": False,
        "suicidal_thoughts_now": False,
        "safety": {"phq9_item9_positive": False, "crisis_in_conversation": False, "risk_categories": []},
        "intake": {
            "status": "complete",
            "current_part": None,
            "parts_done": ["phq9", "episode", "medications", "therapy", "screens", "cautions"],
        },
    }


RECORDS = {
    "typical": typical,
    "v2": v2,
    "urgent": urgent,
    "in_progress": in_progress,
    "many_findings": many_findings,
}


# --- the records are what they claim to be ----------------------------------------------------


def _result(record: Record) -> Dict[str, Any]:
    out: Dict[str, Any] = navigate(record, default_knowledge()).to_dict()
    return out


def test_every_record_matches_the_schema() -> None:
    for name, make in RECORDS.items():
        assert _result(make())["layers"], name


def test_typical_record_is_not_urgent_and_has_a_mix_of_trials() -> None:
    result = _result(typical())
    assert result["urgency"]["urgent"] is False
    assert [t["adequacy"] for t in result["trials"]] == ["adequate", "inadequate_duration", "intolerance"]
    # one failed full trial (sertraline) and no add-on: the mechanism layer is "not yet" (section 10)
    assert {layer["status"] for layer in result["layers"]} == {"open", "partly", "not_yet"}


def test_v2_record_exercises_interactions_staging_and_not_yet() -> None:
    result = _result(v2())
    assert {"one_adequate_trial", "sleep_or_pain_dose", "interaction_caution", "no_augmentation"} <= set(
        result["flags"]
    )
    assert {frozenset((i["a"], i["b"])) for i in result["interactions"]} == {
        frozenset(("tramadol", "sertraline")),
        frozenset(("tramadol", "trazodone")),
    }
    assert [t["adequacy"] for t in result["trials"]] == ["adequate", "not_a_trial"]
    statuses = {layer["id"]: layer["status"] for layer in result["layers"]}
    assert statuses["mechanism"] == "not_yet" and statuses["psychotherapy"] == "worked_through"
    assert result["staging"]["maudsley"]["total_min"] == result["staging"]["maudsley"]["total_max"] == 5
    assert result["staging"]["thase_rush"] == "I"


def test_urgent_record_asks_for_the_crisis_resources() -> None:
    result = _result(urgent())
    assert result["urgency"]["show_crisis_resources"] is True
    assert "urgent" in result["flags"]


def test_many_findings_raises_most_flags() -> None:
    flags = set(_result(many_findings())["flags"])
    assert {
        "bipolar_features",
        "trauma",
        "adhd_features",
        "sleep_apnoea_signs",
        "substance_use",
        "no_psychotherapy",
        "urgent",
        "ketamine_caution",
        "t3_caution",
    } <= flags
