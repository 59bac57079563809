"""Layer statuses (open / partly / worked_through), urgency ordering, cautions, plan, questions, sources."""

from __future__ import annotations

from typing import Any, Callable, Dict

import pytest

from trd.navigator import LAYER_IDS, STATUSES

Run = Callable[[Dict[str, Any]], Dict[str, Any]]


def status(result: Dict[str, Any], layer_id: str) -> str:
    return next(layer["status"] for layer in result["layers"] if layer["id"] == layer_id)


def layer(result: Dict[str, Any], layer_id: str) -> Dict[str, Any]:
    return next(item for item in result["layers"] if item["id"] == layer_id)


def test_layers_in_order_with_valid_statuses(run: Run, worked_through: dict) -> None:
    result = run(worked_through)
    assert [item["id"] for item in result["layers"]] == list(LAYER_IDS)
    assert all(status(result, layer_id) == "worked_through" for layer_id in LAYER_IDS)
    for item in result["layers"]:
        assert item["status"] in STATUSES
        assert item["reasons"] and item["options"] and item["title"]


def test_empty_record_is_open_everywhere(run: Run) -> None:
    result = run({})
    assert {item["id"]: item["status"] for item in result["layers"]} == dict.fromkeys(LAYER_IDS, "open")
    assert result["flags"] == ["medical_workup_incomplete"]
    assert result["trials"] == []
    assert "No medication history was recorded" in " ".join(result["unknowns"])


# ----------------------------------------------------------------- reframe

REFRAME_CASES = [
    ("bipolar", "family_history", None, "partly"),
    ("bipolar", "family_history", True, "open"),
    ("adhd", "since_childhood", None, "worked_through"),  # the other answers are "no": cannot be positive
    ("trauma", "exposure", None, "partly"),
    ("medical", "loud_snoring", None, "partly"),
    ("medical", "loud_snoring", True, "open"),
    ("medical", "heavy_alcohol_or_drugs", True, "open"),
]


@pytest.mark.parametrize(("section", "key", "value", "expected"), REFRAME_CASES)
def test_reframe_status(run: Run, worked_through: dict, section, key, value, expected) -> None:
    worked_through[section][key] = value
    assert status(run(worked_through), "reframe") == expected


def test_reframe_open_when_labs_unknown_and_says_so(run: Run, worked_through: dict) -> None:
    worked_through["medical"]["labs_checked_past_year"]["vitamin_d"] = None
    result = run(worked_through)
    assert status(result, "reframe") == "open"
    assert any("not known to have been checked" in r for r in layer(result, "reframe")["reasons"])


def test_reframe_lists_an_option_for_each_positive_screen(run: Run, worked_through: dict) -> None:
    worked_through["bipolar"]["elevated_periods"] = True
    worked_through["trauma"] = {"exposure": True, "pc_ptsd5": [True, True, True, True, False]}
    worked_through["adhd"] = {"since_childhood": True, "trouble_finishing": True, "distractible": True}
    worked_through["medical"]["breathing_pauses_seen"] = True
    worked_through["medical"]["heavy_alcohol_or_drugs"] = True
    ids = [o["id"] for o in layer(run(worked_through), "reframe")["option_details"]]
    assert ids == [
        "bipolar_evaluation",
        "trauma_focused_lead",
        "adhd_evaluation",
        "sleep_study",
        "substance_review",
        "medicines_review",
    ]


# ----------------------------------------------------------------- optimise


def test_optimise_open_without_trials(run: Run, worked_through: dict) -> None:
    del worked_through["trials"]
    assert status(run(worked_through), "optimise") == "open"


@pytest.mark.parametrize(
    ("index", "changes"),
    [
        (0, {"max_dose_mg": 25}),  # inadequate dose
        (0, {"adherence": None}),  # adequacy unknown: never read as adequate
        (1, {"weeks_at_dose": 3}),  # still taking, too early
    ],
)
def test_optimise_open_while_an_antidepressant_trial_is_not_full(
    run: Run, worked_through: dict, index, changes
):
    worked_through["trials"][index].update(changes)
    assert status(run(worked_through), "optimise") == "open"


def test_optimise_open_without_augmentation(run: Run, worked_through: dict) -> None:
    del worked_through["trials"][2]
    assert status(run(worked_through), "optimise") == "open"


def test_optimise_partly_when_the_addon_is_not_known_to_be_full(run: Run, worked_through: dict, make_trial):
    worked_through["trials"][2] = make_trial("lithium", 900, 8, role="augmentation")
    result = run(worked_through)
    assert status(result, "optimise") == "partly"
    assert any("blood level" in r for r in layer(result, "optimise")["reasons"])
    lithium = next(o for o in layer(result, "optimise")["option_details"] if o["id"] == "lithium")
    assert lithium["tried"] and "lithium" in lithium["tried"]


def test_optimise_partly_when_every_trial_was_stopped_for_side_effects(run: Run, make_trial) -> None:
    record = {"trials": [make_trial("sertraline", 50, 1, outcome="stopped_side_effects")]}
    result = run(record)
    assert status(result, "optimise") == "partly"
    ids = [o["id"] for o in layer(result, "optimise")["option_details"]]
    assert ids[0] == "different_class_after_intolerance"


def test_optimise_lists_finish_trial_first_when_trials_are_incomplete(run: Run, make_trial) -> None:
    result = run({"trials": [make_trial("sertraline", 25, 8)]})
    ids = [o["id"] for o in layer(result, "optimise")["option_details"]]
    assert ids == ["finish_trial", "lithium", "t3", "atypical_antipsychotic", "antidepressant_combination"]


# ----------------------------------------------------------------- mechanism


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        ([{"type": "esketamine", "completed": True}, {"type": "ect", "completed": True}], "worked_through"),
        ([{"type": "tms", "completed": True}], "partly"),
        ([{"type": "esketamine", "completed": None}, {"type": "tms", "completed": True}], "partly"),
        ([{"type": "ketamine", "completed": False}, {"type": "tms", "completed": True}], "partly"),
        ([{"type": "psilocybin", "completed": True}], "partly"),
        ([], "open"),
    ],
)
def test_mechanism_status(run: Run, worked_through: dict, others, expected) -> None:
    worked_through["other_treatments"] = others
    assert status(run(worked_through), "mechanism") == expected


def test_mechanism_open_when_other_treatments_unknown(run: Run, worked_through: dict) -> None:
    del worked_through["other_treatments"]
    assert status(run(worked_through), "mechanism") == "open"


def test_mechanism_partly_with_a_glutamate_medicine(run: Run, make_trial) -> None:
    result = run({"trials": [make_trial("sertraline"), {"drug": "Auvelity"}], "other_treatments": []})
    assert status(result, "mechanism") == "partly"
    assert "monoamine_only" not in result["flags"]


NORMAL_ORDER = ["tms", "ketamine_esketamine", "ect", "maoi_tca"]
URGENT_ORDER = ["ect", "ketamine_esketamine", "tms", "maoi_tca"]


@pytest.mark.parametrize(
    ("changes", "order"),
    [
        ({}, NORMAL_ORDER),
        ({"phq9": [3, 3, 3, 3, 2, 2, 2, 2, 0]}, URGENT_ORDER),
        ({"phq9": [0, 0, 0, 0, 0, 0, 0, 0, 2]}, NORMAL_ORDER),  # section 10: a safety check, not urgency
        ({"suicidal_thoughts_now": True}, NORMAL_ORDER),
        ({"suicide_history": {"thoughts_now": "active"}}, URGENT_ORDER),
        ({"function_impaired": True}, URGENT_ORDER),
        ({"phq9": [3, 3, 3, 3, 2, 2, 2, 1, 0]}, NORMAL_ORDER),
    ],
)
def test_urgency_raises_ect_and_ketamine_to_the_top(run: Run, worked_through: dict, changes, order) -> None:
    worked_through.update(changes)
    result = run(worked_through)
    # treatment-resistance criteria are met, so the specialist referral follows (section 10)
    assert [o["id"] for o in layer(result, "mechanism")["option_details"]] == [*order, "specialist_referral"]
    if order == URGENT_ORDER:
        assert result["questions"][0].startswith("Given how severe things are right now")
        assert result["measurement_plan"]["safety"].startswith("Because things look urgent")


def test_tried_treatments_are_marked(run: Run, worked_through: dict) -> None:
    details = {o["id"]: o for o in layer(run(worked_through), "mechanism")["option_details"]}
    assert details["tms"]["tried"] == "TMS (course completed, no response)"
    assert details["ketamine_esketamine"]["tried"] == "esketamine (course completed, a partial response)"
    assert details["ect"]["tried"] == "ECT (course completed, 9 sessions, a partial response)"


# ----------------------------------------------------------------- psychotherapy


@pytest.mark.parametrize(
    ("therapies", "trauma", "expected"),
    [
        ([{"type": "cbt", "completed": True}], None, "worked_through"),
        ([{"type": "cbt", "completed": False, "sessions": 3}], None, "partly"),
        ([{"type": "ipt", "completed": None}], None, "partly"),
        ([{"type": "other", "completed": True}], None, "open"),
        ([], None, "open"),
        ([{"type": "cbt", "completed": True}], "positive", "open"),
        ([{"type": "cbt", "completed": True}, {"type": "emdr", "completed": False}], "positive", "partly"),
        (
            [{"type": "cbt", "completed": True}, {"type": "ifs", "completed": True}],
            "positive",
            "worked_through",
        ),
        ([{"type": "cbt", "completed": True}], "incomplete", "partly"),
        ([{"type": "sensorimotor", "completed": True}], "incomplete", "worked_through"),
    ],
)
def test_psychotherapy_status(run: Run, worked_through: dict, therapies, trauma, expected) -> None:
    worked_through["psychotherapy"] = therapies
    if trauma == "positive":
        worked_through["trauma"] = {"exposure": True, "pc_ptsd5": [True, True, True, False, False]}
    elif trauma == "incomplete":
        worked_through["trauma"] = {"exposure": None}
    assert status(run(worked_through), "psychotherapy") == expected


def test_trauma_puts_trauma_focused_therapy_first(run: Run, worked_through: dict) -> None:
    worked_through["trauma"] = {"exposure": True, "pc_ptsd5": [True, True, True, False, False]}
    ids = [o["id"] for o in layer(run(worked_through), "psychotherapy")["option_details"]]
    assert ids[0] == "trauma_focused"


# ----------------------------------------------------------------- emerging


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        (
            [
                {"type": "psilocybin", "completed": True},
                {"type": "vns", "completed": True},
                {"type": "dbs", "completed": True},
            ],
            "worked_through",
        ),
        ([{"type": "vns", "completed": True}], "partly"),
        (
            [
                {"type": "psilocybin", "completed": True},
                {"type": "vns", "completed": True},
                {"type": "dbs", "completed": None},
            ],
            "partly",
        ),
        ([{"type": "tms", "completed": True}], "open"),
    ],
)
def test_emerging_status(run: Run, worked_through: dict, others, expected) -> None:
    worked_through["other_treatments"] = others
    result = run(worked_through)
    assert status(result, "emerging") == expected
    details = layer(result, "emerging")["option_details"]
    assert [o["id"] for o in details] == ["psilocybin", "vns", "dbs", "accelerated_tms"]
    assert all(o["limited_access"] for o in details)


# ----------------------------------------------------------------- cautions


def test_ketamine_caution_is_attached_to_the_ketamine_option(run: Run, worked_through: dict) -> None:
    worked_through["cautions"]["psychosis_or_dissociation_history"] = True
    result = run(worked_through)
    details = {o["id"]: o for o in layer(result, "mechanism")["option_details"]}
    assert any("past psychosis" in c for c in details["ketamine_esketamine"]["cautions"])
    assert details["tms"]["cautions"] == []
    caution = next(c for c in result["cautions"] if c["id"] == "ketamine_caution")
    assert caution["status"] == "present"
    assert caution["because"] == ["past psychosis or severe dissociation"]


def test_t3_caution_is_attached_to_the_t3_option(run: Run, worked_through: dict) -> None:
    worked_through["cautions"]["uncontrolled_blood_pressure_or_heart_disease"] = True
    details = {o["id"]: o for o in layer(run(worked_through), "optimise")["option_details"]}
    assert any("heart disease" in c for c in details["t3"]["cautions"])
    assert details["lithium"]["cautions"] == []


def test_unanswered_cautions_are_listed_as_unknown_not_absent(run: Run) -> None:
    result = run({"cautions": {"pregnant_or_planning": None}})
    statuses = {c["id"]: c["status"] for c in result["cautions"]}
    assert statuses == {
        "ketamine_caution": "unknown",
        "t3_caution": "unknown",
        "pregnancy_caution": "unknown",
        "daily_visits_caution": "unknown",
        "bipolar_caution": "unknown",
    }
    assert "ketamine_caution" not in result["flags"]


@pytest.mark.parametrize(
    ("section", "key", "value", "caution", "option"),
    [
        ("cautions", "pregnant_or_planning", True, "pregnancy_caution", "lithium"),
        ("cautions", "can_attend_daily_visits", False, "daily_visits_caution", "tms"),
        ("bipolar", "antidepressant_switch", True, "bipolar_caution", "antidepressant_combination"),
        ("bipolar", "antidepressant_switch", True, "bipolar_caution", "tms"),
        ("bipolar", "antidepressant_switch", True, "bipolar_caution", "ketamine_esketamine"),
    ],
)
def test_other_cautions(run: Run, worked_through: dict, section, key, value, caution, option) -> None:
    worked_through[section][key] = value
    result = run(worked_through)
    found = next(c for c in result["cautions"] if c["id"] == caution)
    assert found["status"] == "present"
    details = {o["id"]: o for item in result["layers"] for o in item["option_details"]}
    assert found["text"] in details[option]["cautions"]


def test_no_cautions_when_all_answered_no(run: Run, worked_through: dict) -> None:
    assert run(worked_through)["cautions"] == []


# ----------------------------------------------------------------- plan, questions, sources, wording


def test_measurement_plan(run: Run, worked_through: dict) -> None:
    worked_through["phq9"] = [3, 2, 3, 1, 0, 2, 0, 0, 1]
    plan = run(worked_through)["measurement_plan"]
    assert plan["measure"] == "PHQ-9" and plan["frequency"] == "weekly"
    assert plan["baseline"] == {"phq9_total": 12, "severity": "moderate"}
    assert plan["target_symptoms"][:2] == [
        "little interest or pleasure in doing things",
        "sleep problems (too little or too much)",
    ]
    assert plan["target_symptoms"][-1].startswith("thoughts of being better off dead")
    assert [p["week"] for p in plan["decision_points"]] == [4, 8]
    assert plan["backup_plan"] and plan["safety"] and plan["sources"]


def test_measurement_plan_without_phq9(run: Run) -> None:
    plan = run({})["measurement_plan"]
    assert plan["baseline"] == {"phq9_total": None, "severity": None}
    assert plan["target_symptoms"] == []
    assert "No PHQ-9 yet" in plan["target_note"]
    assert "Change the question" in plan["backup_plan"]


def test_appointment_questions_from_seed_001(run: Run, worked_through: dict) -> None:
    questions = run(worked_through)["questions"]
    assert questions[:5] == [
        "What diagnosis and comorbidities best explain my symptoms?",
        "Which past trials were truly adequate, and which were limited by dose, duration, or adherence?",
        "What is our next-step strategy, and why does it fit my symptom profile?",
        "How will we measure response, and when will we decide to continue, adjust, or stop?",
        "What is the safety plan if symptoms worsen?",
    ]


def test_personal_questions_name_the_drugs_and_labs(run: Run, make_trial) -> None:
    record = {
        "trials": [make_trial("sertraline", 25, 8), make_trial("citalopram", None, 8)],
        "medical": {
            "labs_checked_past_year": {
                "thyroid": False,
                "b12": True,
                "vitamin_d": True,
                "blood_count": True,
                "glucose": True,
            }
        },
    }
    questions = run(record)["questions"]
    expected = (
        "Were my trials of sertraline long enough, at a high enough dose,"
        " and taken regularly enough to count?"
    )
    assert expected in questions
    assert any("citalopram" in q and "records" in q for q in questions)
    assert any(q.startswith("Can we check thyroid function") for q in questions)


def test_every_statement_has_a_source(run: Run, worked_through: dict, make_trial) -> None:
    worked_through["trials"].append(make_trial("zapinexol"))
    worked_through["bipolar"]["family_history"] = None
    result = run(worked_through)
    assert result["evidence"]
    for item in result["evidence"]:
        assert item["sources"], item["statement"]
    stated = {item["statement"] for item in result["evidence"]}
    for item in result["layers"]:
        assert set(item["reasons"]) <= stated
        assert set(item["options"]) <= stated
    assert set(result["questions"]) <= stated
    assert all(any(s in result["sources"] for s in item["sources"]) for item in result["evidence"])


def test_options_are_questions_for_a_clinician_never_instructions(run: Run, worked_through: dict) -> None:
    worked_through["phq9"] = [3, 3, 3, 3, 3, 3, 3, 3, 3]
    worked_through["trauma"] = {"exposure": True, "pc_ptsd5": [True, True, True, False, False]}
    result = run(worked_through)
    for item in result["layers"]:
        for option in item["option_details"]:
            assert option["text"].startswith("Ask"), option["id"]
    text = " ".join(str(v) for v in _strings(result)).lower()
    for banned in ("you should take", "start taking", "stop taking", "increase your dose", "we recommend"):
        assert banned not in text


def test_disclaimer(run: Run) -> None:
    disclaimer = run({})["disclaimer"]
    assert "educational" in disclaimer and "not an emergency service" in disclaimer


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
