"""Unknown is never read as "no": each unanswered question in an otherwise complete record shows up.

Starting from the all-worked-through record, one answer at a time is replaced by null. The table says
what a person (or clinician) sees change. The few answers that change nothing are listed with the
reason: another known answer already decides the question, or no rule of navigator.md uses it.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Tuple

import pytest

Run = Callable[[Dict[str, Any]], Dict[str, Any]]
Path = Tuple[Any, ...]


def set_path(record: Dict[str, Any], path: Path, value: Any) -> None:
    target: Any = record
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def statuses(result: Dict[str, Any]) -> Dict[str, str]:
    return {layer["id"]: layer["status"] for layer in result["layers"]}


VISIBLE = [
    # path, layer that is no longer worked through (or None), where the unknown is shown
    (("bipolar", "elevated_periods"), "reframe", "unknowns"),
    (("bipolar", "little_sleep_needed"), "reframe", "unknowns"),
    (("bipolar", "antidepressant_switch"), "reframe", "caution:bipolar_caution"),
    (("bipolar", "family_history"), "reframe", "unknowns"),
    (("trauma", "exposure"), "psychotherapy", "unknowns"),
    (("medical", "labs_checked_past_year", "thyroid"), "reframe", "flag:medical_workup_incomplete"),
    (("medical", "labs_checked_past_year", "b12"), "reframe", "flag:medical_workup_incomplete"),
    (("medical", "labs_checked_past_year", "vitamin_d"), "reframe", "flag:medical_workup_incomplete"),
    (("medical", "labs_checked_past_year", "blood_count"), "reframe", "flag:medical_workup_incomplete"),
    (("medical", "labs_checked_past_year", "glucose"), "reframe", "flag:medical_workup_incomplete"),
    (("medical", "loud_snoring"), "reframe", "unknowns"),
    (("medical", "breathing_pauses_seen"), "reframe", "unknowns"),
    (("medical", "heavy_alcohol_or_drugs"), "reframe", "caution:ketamine_caution"),
    (("cautions", "substance_use_problem"), "reframe", "caution:ketamine_caution"),
    (("cautions", "uncontrolled_blood_pressure_or_heart_disease"), None, "caution:t3_caution"),
    (("cautions", "psychosis_or_dissociation_history"), None, "caution:ketamine_caution"),
    (("cautions", "pregnant_or_planning"), None, "caution:pregnancy_caution"),
    (("cautions", "can_attend_daily_visits"), None, "caution:daily_visits_caution"),
    (("other_treatments", 0, "completed"), "mechanism", None),
    (("other_treatments", 2, "completed"), "emerging", None),
    (("other_treatments", 3, "completed"), "emerging", None),
    (("other_treatments", 4, "completed"), "emerging", None),
    (("trials", 0, "adherence"), "optimise", "unknowns"),
    (("trials", 0, "max_dose_mg"), "optimise", "unknowns"),
    (("trials", 1, "weeks_at_dose"), "optimise", "unknowns"),
    (("trials", 2, "adherence"), "optimise", "unknowns"),
]


@pytest.mark.parametrize(("path", "layer_id", "shown"), VISIBLE)
def test_each_unknown_answer_is_visible(run: Run, worked_through: dict, path: Path, layer_id, shown) -> None:
    before = run(worked_through)
    set_path(worked_through, path, None)
    after = run(worked_through)
    if layer_id is not None:
        assert before["layers"] and statuses(before)[layer_id] == "worked_through"
        assert statuses(after)[layer_id] != "worked_through"
    if shown == "unknowns":
        assert len(after["unknowns"]) > len(before["unknowns"])
    elif shown and shown.startswith("flag:"):
        assert shown[5:] in after["flags"]
    elif shown and shown.startswith("caution:"):
        caution = next(c for c in after["cautions"] if c["id"] == shown[8:])
        assert caution["status"] == "unknown"
    for layer, status in statuses(after).items():
        rank = ["open", "partly", "worked_through"]
        assert rank.index(status) <= rank.index(statuses(before)[layer])


UNCHANGED = [
    # decided by another known answer: ADHD needs a lifelong pattern plus two features; all features are "no"
    ("adhd", "since_childhood"),
    # decided by another known answer: ADHD features cannot reach two while since_childhood is "no"
    ("adhd", "distractible"),
    # daytime sleepiness alone does not raise the sleep-apnoea flag (common in depression)
    ("medical", "daytime_sleepiness"),
    # the PHQ-9 item 9 answer (0) already covers suicidal thoughts in the past two weeks
    ("suicidal_thoughts_now",),
    # no rule in navigator.md uses previous episodes
    ("previous_episodes",),
    # a full trial is full whether or not it is still being taken
    ("trials", 0, "still_taking"),
    # section 10: ordinary activation on an antidepressant is not a bipolar feature on its own
    ("bipolar", "antidepressant_activation"),
    # section 10: 16 sessions of CBT are a full course whether or not it is recorded as finished
    ("psychotherapy", 0, "completed"),
    # section 10: with ECT, ketamine and an MAOI tried, the mechanism layer does not need TMS too
    ("other_treatments", 1, "completed"),
    # the ECT course has 9 sessions (6 make a course) and is recorded as completed: either answer decides
    ("other_treatments", 5, "completed"),
    ("other_treatments", 5, "sessions"),
]


@pytest.mark.parametrize("path", UNCHANGED)
def test_answers_that_are_decided_elsewhere_change_no_status(
    run: Run, worked_through: dict, path: Path
) -> None:
    before = run(worked_through)
    set_path(worked_through, path, None)
    after = run(worked_through)
    assert statuses(after) == statuses(before)
    assert after["flags"] == before["flags"]


def test_unknown_adherence_is_unknown_adequacy_not_adequate(run: Run, worked_through: dict) -> None:
    worked_through["trials"][0]["adherence"] = None
    result = run(worked_through)
    assert result["trials"][0]["adequacy"] == "unknown"
    assert "trd_criteria_met" not in result["flags"]
    assert any("whether it was taken most days is not known" in u for u in result["unknowns"])


def test_inability_to_function_is_reported_as_not_asked(run: Run, worked_through: dict) -> None:
    result = run(worked_through)
    assert any("manage daily life" in u for u in result["urgency"]["unknown"])
    worked_through["unable_to_function"] = True  # read only if the intake adds this field
    result = run(worked_through)
    assert result["urgency"]["urgent"] is True
    assert (
        "The intake records that work, study or looking after yourself or others is not possible right now."
        in result["urgency"]["reasons"]
    )
    assert not any("You said" in r for r in result["urgency"]["reasons"])


# Each screen lists exactly the questions still unanswered, in the words the summary shows.
SCREEN_GAPS = [
    # changes to the worked-through record, screen, the questions listed as not yet answered
    (
        {("bipolar", "elevated_periods"): None},
        "bipolar",
        [
            "periods of days with much more energy than usual, racing thoughts, or unusual risk-taking or "
            "irritability"
        ],
    ),
    (
        {("bipolar", "little_sleep_needed"): None, ("bipolar", "family_history"): None},
        "bipolar",
        [
            "periods of needing much less sleep than usual without feeling tired",
            "a parent, brother or sister with bipolar disorder",
        ],
    ),
    (
        {("trauma", "exposure"): None},
        "trauma",
        [
            "whether you have been through a frightening, horrible or traumatic event",
            "the five PC-PTSD-5 questions",
        ],
    ),
    ({("trauma", "exposure"): True}, "trauma", ["the five PC-PTSD-5 questions"]),
    (
        {
            ("adhd", "since_childhood"): None,
            ("adhd", "trouble_finishing"): True,
            ("adhd", "distractible"): True,
        },
        "adhd",
        ["trouble that goes back to childhood"],
    ),
    (
        {
            ("adhd", "since_childhood"): True,
            ("adhd", "trouble_finishing"): True,
            ("adhd", "distractible"): None,
        },
        "adhd",
        ["being easily distracted"],
    ),
    ({("medical", "loud_snoring"): None}, "sleep_apnoea", ["loud snoring"]),
    ({("medical", "labs_checked_past_year", "thyroid"): None}, "medical", ["thyroid function"]),
]


@pytest.mark.parametrize("changes, screen, expected", SCREEN_GAPS)
def test_an_unfinished_screen_lists_the_questions_still_open(
    run: Run, worked_through: Dict[str, Any], changes: Dict[Path, Any], screen: str, expected: list
) -> None:
    for path, value in changes.items():
        set_path(worked_through, path, value)
    shown = run(worked_through)["screens"][screen]
    assert shown["unanswered"] == expected
    if screen != "medical":  # the labs raise the workup flag; its result is judged on what is known
        assert shown["result"] == "incomplete"
        assert all(question in shown["reasons"][0] for question in expected)


@pytest.mark.parametrize("screen", ["bipolar", "trauma", "adhd", "sleep_apnoea", "substance_use", "medical"])
def test_an_answered_screen_lists_nothing_open(run: Run, worked_through: Dict[str, Any], screen: str) -> None:
    shown = run(worked_through)["screens"][screen]
    assert shown["unanswered"] == [] and shown["result"] == "negative"
