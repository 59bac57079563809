"""Reading intake answers as people type them: buttons, numbers, words, hedges, "I don't know"."""

from __future__ import annotations

from typing import Any

import pytest

from trd.intake import answers as a
from trd.intake.answers import INVALID, UNKNOWN

# --- PHQ-9 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "score"),
    [
        # the buttons (the published answer words)
        ("Not at all", 0),
        ("Several days", 1),
        ("More than half the days", 2),
        ("Nearly every day", 3),
        # numbers
        ("0", 0),
        ("1", 1),
        ("2", 2),
        ("3", 3),
        (" 2. ", 2),
        ("3 - nearly every day", 3),
        ("1 several days", 1),
        # words as people type them
        ("not at all", 0),
        ("NEARLY EVERY DAY", 3),
        ("nearly every day!", 3),
        ("never", 0),
        ("no", 0),
        ("zero", 0),
        ("a few days", 1),
        ("several", 1),
        ("two", 2),
        ("most days", 2),
        ("more than half", 2),
        ("every day", 3),
        ("almost every day", 3),
        ("all the time", 3),
        ("I'd say more than half the days", 2),
        ("several days I think", 1),
        ("probably nearly every day", 3),
    ],
)
def test_phq9_answers_in_every_form(text: str, score: int) -> None:
    assert a.parse_phq9(text) == score


@pytest.mark.parametrize("text", ["sometimes", "often", "not every day", "4", "2 several days", "banana", ""])
def test_phq9_vague_or_contradictory_answers_are_asked_again(text: str) -> None:
    assert a.parse_phq9(text) is INVALID


@pytest.mark.parametrize(
    "text", ["skip", "I don't know", "not sure", "idk", "I\u2019d rather not say", "pass"]
)
def test_phq9_unknown_is_unknown_not_zero(text: str) -> None:
    assert a.parse_phq9(text) is UNKNOWN


# --- yes / no ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Yes", True),
        ("yes, twice", True),
        ("yep", True),
        ("I have", True),
        ("y", True),
        ("No", False),
        ("nope", False),
        ("no never", False),
        ("not that I know of", False),
        ("no, I haven't", False),
        ("doesn't apply", False),
    ],
)
def test_yes_no(text: str, value: bool) -> None:
    assert a.parse_yes_no(text) is value


@pytest.mark.parametrize("text", ["Not sure", "no idea", "maybe", "I can't remember", "no clue"])
def test_yes_no_unknown_is_never_no(text: str) -> None:
    assert a.parse_yes_no(text) is UNKNOWN


def test_yes_no_falls_back_to_a_confident_affirm_or_deny_intent_for_short_text() -> None:
    assert a.parse_yes_no("that would be right yes indeed", "affirm", 0.95) is True
    assert a.parse_yes_no("absolutely no chance of that", "deny", 0.95) is False
    assert a.parse_yes_no("I went to the shop", "affirm", 0.4) is INVALID


# --- durations and counts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("8 months", 8),
        ("8", 8),
        ("2 years", 24),
        ("about 2 years", 24),
        ("a year and a half", 18),
        ("one and a half years", 18),
        ("2 years and 3 months", 27),
        ("twenty four months", 24),
        ("for about 2 years now", 24),
        ("over 10 years", 120),
        ("6 weeks", 1),
        ("a couple of years", 24),
        ("half a year", 6),
    ],
)
def test_episode_months(text: str, months: int) -> None:
    assert a.parse_months(text) == months


@pytest.mark.parametrize("text", ["since March", "forever", "a few months", "last winter", "200 years"])
def test_episode_months_that_cannot_be_read_are_asked_again(text: str) -> None:
    assert a.parse_months(text) is INVALID


@pytest.mark.parametrize(
    ("text", "count"),
    [("12", 12), ("about 20", 20), ("a dozen", 12), ("10-15", 12), ("20 or 30 sessions", 25), ("none", 0)],
)
def test_session_counts(text: str, count: int) -> None:
    assert a.parse_count(text) == count


def test_session_counts_that_cannot_be_read() -> None:
    assert a.parse_count("weekly for a year") is INVALID
    assert a.parse_count("not sure") is UNKNOWN


# --- therapy, other treatments, outcomes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "description"),
    [
        ("CBT", "cbt", None),
        ("cognitive behavioral therapy", "cbt", None),
        ("Behavioural activation", "behavioural_activation", None),
        ("interpersonal therapy", "ipt", None),
        ("EMDR", "emdr", None),
        ("internal family systems", "ifs", None),
        ("sensorimotor psychotherapy", "sensorimotor", None),
        ("DBT", "dbt", None),
        ("ACT", "act", None),
        ("psychodynamic", "psychodynamic", None),
        ("Counselling or other", "other", None),
        ("just counselling", "other", "just counselling"),
        ("art therapy", "other", "art therapy"),
        ("I don't remember what kind", "other", None),
    ],
)
def test_therapy_types(text: str, kind: str, description: Any) -> None:
    assert a.parse_therapy_type(text) == a.TherapyType(kind, description)


def test_a_yes_is_not_a_kind_of_therapy() -> None:
    assert a.parse_therapy_type("yes") is INVALID


@pytest.mark.parametrize(
    ("text", "completion"),
    [
        ("Yes, I finished it", a.Completion(True)),
        ("No, I stopped early", a.Completion(False)),
        ("Still going", a.Completion(False, ongoing=True)),
        ("I quit after 3 sessions", a.Completion(False)),
        ("not sure", a.Completion(None)),
    ],
)
def test_completion(text: str, completion: a.Completion) -> None:
    assert a.parse_completed(text) == completion


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("TMS and ketamine", ["tms", "ketamine"]),
        ("Spravato", ["esketamine"]),
        ("esketamine", ["esketamine"]),
        ("ECT, then some ketamine infusions", ["ect", "ketamine"]),
        ("magic mushrooms in a study", ["psilocybin"]),
        ("deep brain stimulation", ["dbs"]),
        ("None of these", []),
        ("no", []),
    ],
)
def test_other_treatments_named(text: str, kinds: list) -> None:
    assert a.parse_treatments(text) == kinds


def test_other_treatments_unknown_or_unreadable() -> None:
    assert a.parse_treatments("Not sure") is UNKNOWN
    assert a.parse_treatments("the blue pill") is INVALID


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("It didn't help", "no_response"),
        ("It helped somewhat", "partial_response"),
        ("It helped, then wore off", "response_then_relapse"),
        ("I got well", "remission"),
        ("Stopped: side effects", "stopped_side_effects"),
        ("Too early to tell", "too_early"),
        ("worked at first then stopped working", "response_then_relapse"),
        ("the side effects were awful", "stopped_side_effects"),
    ],
)
def test_outcomes(text: str, outcome: str) -> None:
    assert a.parse_outcome(text) == outcome


# --- navigation words -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["go back", "Go back!", "back", "previous question", "undo", "I made a mistake"]
)
def test_go_back_words(text: str) -> None:
    assert a.is_go_back(text)


@pytest.mark.parametrize("text", ["skip this part", "skip the rest", "Skip this section please", "next part"])
def test_skip_part_words(text: str) -> None:
    assert a.is_skip_part(text)


@pytest.mark.parametrize("text", ["skip", "skip this one", "go back to sleep is all I want"])
def test_words_that_are_not_commands(text: str) -> None:
    assert not a.is_skip_part(text)
    assert not a.is_go_back(text)


def test_questions_look_like_questions() -> None:
    assert a.looks_like_question("what is TMS?")
    assert a.looks_like_question("how does ECT work")
    assert not a.looks_like_question("TMS and ketamine")
