"""Fixtures for the navigator tests: the real knowledge files and a record builder."""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict

import pytest

from trd.navigator import Knowledge, load_knowledge, navigate

Record = Dict[str, Any]

# Every layer of this record is worked through: every screen answered "no", labs checked, two full
# antidepressant trials that failed (sertraline, venlafaxine) and a full MAOI trial in between that was
# stopped for side effects after 8 weeks (phenelzine: `order` gives the sequence, the list keeps it
# last so tests can replace trials[1]), a full aripiprazole
# add-on, CBT finished, esketamine, TMS and ECT courses completed (navigator.md section 10: the
# mechanism layer is worked through only with ECT and an MAOI tried too), and all three emerging
# options completed.
WORKED_THROUGH: Record = {
    "phq9": [1, 1, 1, 1, 0, 0, 0, 0, 0],
    "episode_months": 30,
    "previous_episodes": True,
    "trials": [
        {
            "drug": "sertraline",
            "role": "antidepressant",
            "max_dose_mg": 150,
            "weeks_at_dose": 8,
            "adherence": "most_days",
            "outcome": "no_response",
            "still_taking": False,
            "side_effects": ["nausea"],
            "order": 1,
        },
        {
            "drug": "venlafaxine",
            "role": "antidepressant",
            "max_dose_mg": 225,
            "weeks_at_dose": 10,
            "adherence": "most_days",
            "outcome": "partial_response",
            "still_taking": True,
            "order": 3,
        },
        {
            "drug": "aripiprazole",
            "role": "augmentation",
            "max_dose_mg": 5,
            "weeks_at_dose": 6,
            "adherence": "most_days",
            "outcome": "partial_response",
            "still_taking": True,
            "order": 4,
        },
        {
            "drug": "phenelzine",
            "role": "antidepressant",
            "max_dose_mg": 60,
            "weeks_at_dose": 8,
            "adherence": "most_days",
            "outcome": "stopped_side_effects",
            "still_taking": False,
            "order": 2,
            "weeks_since_stopped": 60,
        },
    ],
    "psychotherapy": [{"type": "cbt", "sessions": 16, "completed": True}],
    "other_treatments": [
        {"type": "esketamine", "completed": True, "outcome": "partial_response"},
        {"type": "tms", "completed": True, "outcome": "no_response"},
        {"type": "psilocybin", "completed": True, "outcome": "no_response"},
        {"type": "vns", "completed": True, "outcome": "partial_response"},
        {"type": "dbs", "completed": True, "outcome": "no_response"},
        {"type": "ect", "sessions": 9, "completed": True, "outcome": "partial_response"},
    ],
    "bipolar": {
        "elevated_periods": False,
        "little_sleep_needed": False,
        "antidepressant_activation": False,
        "antidepressant_switch": False,
        "family_history": False,
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
}


def trial(
    drug: str,
    dose: Any = 100,
    weeks: Any = 8,
    adherence: Any = "most_days",
    outcome: Any = "no_response",
    still_taking: Any = False,
    role: Any = None,
) -> Record:
    """One medication trial; role None lets the lexicon decide."""
    return {
        "drug": drug,
        "role": role,
        "max_dose_mg": dose,
        "weeks_at_dose": weeks,
        "adherence": adherence,
        "outcome": outcome,
        "still_taking": still_taking,
    }


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge()


@pytest.fixture
def worked_through() -> Record:
    """A fresh deep copy of the all-worked-through record, to modify in one place per test."""
    return copy.deepcopy(WORKED_THROUGH)


@pytest.fixture
def run(knowledge: Knowledge) -> Callable[[Record], Dict[str, Any]]:
    """Validate and evaluate a record; return the JSON-ready result (what the CLI prints)."""

    def _run(record: Record) -> Dict[str, Any]:
        return navigate(record, knowledge).to_dict()

    return _run


@pytest.fixture
def make_trial() -> Callable[..., Record]:
    return trial
