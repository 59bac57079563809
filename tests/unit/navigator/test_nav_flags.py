"""Every flag of navigator.md section 8: raised when it should be, not raised when it should not."""

from __future__ import annotations

from typing import Any, Callable, Dict

import pytest

from trd.navigator import FLAG_VOCABULARY

Run = Callable[[Dict[str, Any]], Dict[str, Any]]


def test_worked_through_record_raises_only_trd(run: Run, worked_through: dict) -> None:
    result = run(worked_through)
    assert result["flags"] == ["trd_criteria_met", "combination_tried"]  # the aripiprazole add-on
    assert "sertraline" in result["flag_reasons"]["trd_criteria_met"][0]
    assert "venlafaxine" in result["flag_reasons"]["trd_criteria_met"][0]


def test_flags_are_from_the_vocabulary_in_its_order(run: Run) -> None:
    record = {
        "phq9": [3, 3, 3, 3, 3, 3, 3, 3, 3],
        "trials": [{"drug": "sertraline", "max_dose_mg": 25, "weeks_at_dose": 2, "outcome": "no_response"}],
        "psychotherapy": [],
        "other_treatments": [],
        "bipolar": {"family_history": True},
    }
    flags = run(record)["flags"]
    assert flags == [f for f in FLAG_VOCABULARY if f in flags]
    assert {"false_resistance", "bipolar_features", "no_psychotherapy", "urgent"} <= set(flags)


# ----------------------------------------------------------------- trial flags


def test_trd_needs_two_different_failed_adequate_antidepressants(
    run: Run, worked_through: dict, make_trial
) -> None:
    worked_through["trials"][1] = make_trial(
        "sertraline", 200, 10, outcome="no_response", role="antidepressant"
    )
    result = run(worked_through)
    assert "trd_criteria_met" not in result["flags"]
    assert result["counts"]["failed_adequate_antidepressants"] == 1


def test_trd_not_met_when_second_trial_was_too_short(run: Run, worked_through: dict) -> None:
    worked_through["trials"][1]["weeks_at_dose"] = 4
    worked_through["trials"][1]["still_taking"] = False
    flags = run(worked_through)["flags"]
    assert "trd_criteria_met" not in flags
    assert "false_resistance" in flags


def test_trd_ignores_augmentation_trials(run: Run, worked_through: dict, make_trial) -> None:
    worked_through["trials"][1] = make_trial("lithium", 900, 10, role="augmentation")
    assert "trd_criteria_met" not in run(worked_through)["flags"]


@pytest.mark.parametrize(
    ("dose", "weeks", "adherence", "still_taking", "outcome"),
    [
        (5, 8, "most_days", False, "no_response"),  # inadequate dose (minimum 10 mg)
        (100, 3, "most_days", False, "no_response"),  # inadequate duration
        (100, 8, "often_missed", False, "no_response"),  # inadequate adherence
        (100, 3, "most_days", True, None),  # too early: finish the trial
    ],
)
def test_false_resistance(
    run: Run, worked_through: dict, make_trial, dose, weeks, adherence, still_taking, outcome
) -> None:
    worked_through["trials"].append(make_trial("escitalopram", dose, weeks, adherence, outcome, still_taking))
    result = run(worked_through)
    assert "false_resistance" in result["flags"]
    assert "escitalopram" in result["flag_reasons"]["false_resistance"][0]


@pytest.mark.parametrize(
    "trial_fields",
    [
        {"max_dose_mg": 25, "weeks_at_dose": 2, "outcome": "stopped_side_effects"},  # intolerance
        {"max_dose_mg": 20, "weeks_at_dose": 8, "adherence": None},  # unknown: not known to be inadequate
    ],
)
def test_no_false_resistance_for_intolerance_or_unknown(run: Run, worked_through: dict, trial_fields) -> None:
    worked_through["trials"].append({"drug": "escitalopram", **trial_fields})
    assert "false_resistance" not in run(worked_through)["flags"]


def test_intolerance_only(run: Run, make_trial) -> None:
    record = {
        "trials": [
            make_trial("sertraline", 50, 1, outcome="stopped_side_effects"),
            make_trial("duloxetine", 30, 2, outcome="stopped_side_effects"),
        ]
    }
    result = run(record)
    assert "intolerance_only" in result["flags"]
    assert "false_resistance" not in result["flags"]
    record["trials"][1]["outcome"] = "no_response"
    assert "intolerance_only" not in run(record)["flags"]


@pytest.mark.parametrize(
    ("first_outcome", "second", "expected"),
    [
        ("no_response", "escitalopram", True),
        ("partial_response", "Prozac", True),
        (None, "fluoxetine", True),  # why it was switched is unknown: not read as "side effects"
        ("stopped_side_effects", "escitalopram", False),  # switching within a class after intolerance is fine
        ("remission", "escitalopram", False),
        ("no_response", "venlafaxine", False),  # a different class
        ("no_response", "sertraline", False),  # the same drug again is not a switch
    ],
)
def test_same_class_switching(run: Run, make_trial, first_outcome, second, expected) -> None:
    record = {"trials": [make_trial("sertraline", outcome=first_outcome), make_trial(second)]}
    result = run(record)
    assert ("same_class_switching" in result["flags"]) is expected
    if expected:
        assert "SSRI" in result["flag_reasons"]["same_class_switching"][0]


def test_monoamine_only(run: Run, make_trial) -> None:
    record: Dict[str, Any] = {
        "trials": [make_trial("sertraline"), make_trial("bupropion", 300)],
        "other_treatments": [],
    }
    result = run(record)
    assert "monoamine_only" in result["flags"]
    assert "SSRI" in result["flag_reasons"]["monoamine_only"][0]
    # lithium and an antipsychotic add-on do not change the antidepressant mechanism
    record["trials"] += [make_trial("lithium", role="augmentation"), make_trial("aripiprazole", 5)]
    assert "monoamine_only" in run(record)["flags"]


@pytest.mark.parametrize(
    "change",
    [
        {"other_treatments": [{"type": "tms", "sessions": 24, "completed": False}]},
        {"other_treatments": [{"type": "ketamine"}]},
        {"extra_trial": {"drug": "Auvelity"}},
        {"extra_trial": {"drug": "zuranolone"}},
        {"extra_trial": {"drug": "agomelatine", "max_dose_mg": 25}},
    ],
)
def test_monoamine_only_cleared_by_another_mechanism(run: Run, make_trial, change) -> None:
    record: Dict[str, Any] = {"trials": [make_trial("sertraline")], "other_treatments": []}
    if "other_treatments" in change:
        record["other_treatments"] = change["other_treatments"]
    else:
        record["trials"].append(change["extra_trial"])
    assert "monoamine_only" not in run(record)["flags"]


def test_monoamine_only_not_claimed_when_other_treatments_unknown(run: Run, make_trial) -> None:
    result = run({"trials": [make_trial("sertraline")]})
    assert "monoamine_only" not in result["flags"]
    assert any("were not asked about" in u for u in result["unknowns"])


def test_no_augmentation(run: Run, worked_through: dict) -> None:
    del worked_through["trials"][2]  # the aripiprazole add-on
    result = run(worked_through)
    assert "no_augmentation" in result["flags"]
    assert "venlafaxine (a partial response)" in result["flag_reasons"]["no_augmentation"][0]


def test_no_augmentation_after_partial_response_even_if_trial_short(run: Run, make_trial) -> None:
    result = run({"trials": [make_trial("sertraline", 100, 4, outcome="partial_response")]})
    assert "no_augmentation" in result["flags"]


def test_no_augmentation_not_raised_without_a_reason_to_augment(run: Run, make_trial) -> None:
    result = run({"trials": [make_trial("sertraline", 25, 3, outcome="no_response")]})
    assert "no_augmentation" not in result["flags"]


def test_no_augmentation_unknown_when_a_drug_role_is_unknown(run: Run, make_trial) -> None:
    result = run({"trials": [make_trial("sertraline", outcome="partial_response"), {"drug": "zapinexol"}]})
    assert "no_augmentation" not in result["flags"]
    assert any("could not tell whether an add-on" in u for u in result["unknowns"])


def test_an_augmenting_antidepressant_counts_as_augmentation(
    run: Run, worked_through: dict, make_trial
) -> None:
    worked_through["trials"][2] = make_trial("bupropion", 300, 8, role="augmentation")
    assert "no_augmentation" not in run(worked_through)["flags"]


# ----------------------------------------------------------------- screens


@pytest.mark.parametrize(
    "key", ["elevated_periods", "little_sleep_needed", "antidepressant_switch", "family_history"]
)
def test_bipolar_features_any_one_answer(run: Run, worked_through: dict, key: str) -> None:
    worked_through["bipolar"][key] = True
    result = run(worked_through)
    assert "bipolar_features" in result["flags"]
    assert result["screens"]["bipolar"]["result"] == "positive"


def test_ordinary_activation_alone_is_not_a_bipolar_feature(run: Run, worked_through: dict) -> None:
    """Section 10: jittery or poor sleep on an antidepressant counts only beside another feature."""
    worked_through["bipolar"]["antidepressant_activation"] = True
    result = run(worked_through)
    assert "bipolar_features" not in result["flags"]
    assert result["screens"]["bipolar"]["result"] == "negative"
    assert "ordinary activation" in result["screens"]["bipolar"]["reasons"][0]
    worked_through["bipolar"]["family_history"] = True
    reasons = run(worked_through)["screens"]["bipolar"]["reasons"][0]
    assert "jittery" in reasons and "parent, brother or sister" in reasons


@pytest.mark.parametrize(
    ("exposure", "items", "expected"),
    [
        (True, [True, True, True, False, False], "positive"),
        (True, [True, True, True, True, True], "positive"),
        (True, [True, True, False, False, False], "negative"),
        (False, [True, True, True, True, True], "negative"),
        (None, [True, True, True, False, False], "incomplete"),
        (True, None, "incomplete"),
        (None, None, "incomplete"),
    ],
)
def test_trauma_needs_exposure_and_three_of_five(
    run: Run, worked_through: dict, exposure, items, expected
) -> None:
    worked_through["trauma"] = {"exposure": exposure, "pc_ptsd5": items}
    result = run(worked_through)
    assert result["screens"]["trauma"]["result"] == expected
    assert ("trauma" in result["flags"]) is (expected == "positive")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"since_childhood": True, "trouble_finishing": True, "distractible": True}, "positive"),
        ({"since_childhood": True, "trouble_finishing": True, "interest_lifts_mood": True}, "positive"),
        (
            {
                "since_childhood": True,
                "trouble_finishing": True,
                "distractible": False,
                "interest_lifts_mood": False,
            },
            "negative",
        ),
        ({"since_childhood": False, "trouble_finishing": True, "distractible": True}, "negative"),
        ({"since_childhood": None, "trouble_finishing": True, "distractible": True}, "incomplete"),
        ({"since_childhood": True, "trouble_finishing": True}, "incomplete"),
    ],
)
def test_adhd_features(run: Run, worked_through: dict, answers, expected) -> None:
    worked_through["adhd"] = answers
    result = run(worked_through)
    assert result["screens"]["adhd"]["result"] == expected
    assert ("adhd_features" in result["flags"]) is (expected == "positive")


@pytest.mark.parametrize(
    ("labs", "phrase"),
    [
        ({"thyroid": False}, "not checked in the past year: thyroid function"),
        ({"b12": None}, "not known to have been checked in the past year: vitamin B12"),
        ({"glucose": False, "vitamin_d": None}, "not checked in the past year: blood glucose"),
    ],
)
def test_medical_workup_incomplete(run: Run, worked_through: dict, labs, phrase) -> None:
    worked_through["medical"]["labs_checked_past_year"].update(labs)
    result = run(worked_through)
    assert "medical_workup_incomplete" in result["flags"]
    assert phrase in result["flag_reasons"]["medical_workup_incomplete"][0]
    reframe = result["layers"][0]
    medical_option = [o for o in reframe["option_details"] if o["id"] == "medical_workup"]
    assert medical_option and "Missing or not known" in medical_option[0]["text"]


def test_labs_never_asked_means_workup_not_known_complete(run: Run, worked_through: dict) -> None:
    del worked_through["medical"]["labs_checked_past_year"]
    result = run(worked_through)
    assert "medical_workup_incomplete" in result["flags"]
    assert "not known to have been checked" in result["flag_reasons"]["medical_workup_incomplete"][0]


@pytest.mark.parametrize(
    ("signs", "expected"),
    [
        ({"loud_snoring": True}, True),
        ({"breathing_pauses_seen": True}, True),
        ({"daytime_sleepiness": True}, False),  # common in depression on its own
    ],
)
def test_sleep_apnoea_signs(run: Run, worked_through: dict, signs, expected) -> None:
    worked_through["medical"].update(signs)
    assert ("sleep_apnoea_signs" in run(worked_through)["flags"]) is expected


@pytest.mark.parametrize(
    ("section", "key"), [("medical", "heavy_alcohol_or_drugs"), ("cautions", "substance_use_problem")]
)
def test_substance_use(run: Run, worked_through: dict, section: str, key: str) -> None:
    worked_through[section][key] = True
    result = run(worked_through)
    assert "substance_use" in result["flags"]
    assert "ketamine_caution" in result["flags"]


# ----------------------------------------------------------------- psychotherapy


@pytest.mark.parametrize("therapies", [[], [{"type": "other", "sessions": 30, "completed": True}]])
def test_no_psychotherapy(run: Run, worked_through: dict, therapies) -> None:
    worked_through["psychotherapy"] = therapies
    assert "no_psychotherapy" in run(worked_through)["flags"]


def test_no_psychotherapy_not_claimed_when_unknown(run: Run, worked_through: dict) -> None:
    del worked_through["psychotherapy"]
    result = run(worked_through)
    assert "no_psychotherapy" not in result["flags"]
    assert "We don't know yet which talking therapies you have had." in result["unknowns"]


def test_no_trauma_focused_therapy(run: Run, worked_through: dict) -> None:
    worked_through["trauma"] = {"exposure": True, "pc_ptsd5": [True, True, True, False, False]}
    assert "no_trauma_focused_therapy" in run(worked_through)["flags"]
    worked_through["psychotherapy"].append({"type": "emdr", "sessions": 4, "completed": False})
    assert "no_trauma_focused_therapy" not in run(worked_through)["flags"]


# ----------------------------------------------------------------- urgency and cautions


@pytest.mark.parametrize(
    ("phq9", "thoughts", "expected"),
    [
        ([3, 3, 3, 3, 2, 2, 2, 2, 0], False, True),  # total 20
        ([3, 3, 3, 3, 2, 2, 2, 1, 0], False, False),  # total 19, item 9 zero
        # section 10, safety is not urgency: item 9 alone, or thoughts of unknown kind, is a safety check
        ([0, 0, 0, 0, 0, 0, 0, 0, 1], False, False),
        ([0, 0, 0, 0, 0, 0, 0, 0, 0], True, False),
        (None, None, False),
    ],
)
def test_urgent(run: Run, worked_through: dict, phq9, thoughts, expected) -> None:
    worked_through["phq9"] = phq9
    worked_through["suicidal_thoughts_now"] = thoughts
    result = run(worked_through)
    assert ("urgent" in result["flags"]) is expected
    assert result["urgency"]["urgent"] is expected
    safety = (phq9 is not None and phq9[8] > 0) or thoughts is True
    assert ("safety_check" in result["flags"]) is safety
    assert result["urgency"]["show_crisis_resources"] is (expected or safety)


@pytest.mark.parametrize(
    ("key", "flags"),
    [
        ("uncontrolled_blood_pressure_or_heart_disease", {"ketamine_caution", "t3_caution"}),
        ("psychosis_or_dissociation_history", {"ketamine_caution"}),
        ("substance_use_problem", {"ketamine_caution", "substance_use"}),
    ],
)
def test_caution_flags(run: Run, worked_through: dict, key: str, flags: set) -> None:
    worked_through["cautions"][key] = True
    raised = set(run(worked_through)["flags"])
    assert flags <= raised
    assert not ({"ketamine_caution", "t3_caution"} - flags) & raised
