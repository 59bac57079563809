"""The answer registry (trd/answers): every kind registered once, read(kind, text) -> Answer,
and the one number grammar's upper-bound rule, chosen explicitly by each reader."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import trd.answers as answers
from trd.answers import INVALID, UNKNOWN, Answer, read
from trd.answers.common import SKIPPED
from trd.answers.durations import parse_duration
from trd.answers.intake import parse_count, parse_months
from trd.answers.numbers import UpperBound, qualifier_pattern, read_number
from trd.answers.outcomes import OUTCOME_PATTERNS, outcome_in_correction, parse_outcome, read_outcome
from trd.intake import answers as intake_answers
from trd.intake.questions import default_questions

ROOT = Path(__file__).resolve().parents[2]


def test_every_intake_question_kind_is_registered() -> None:
    used = {q.kind for q in default_questions().questions.values()}
    assert used <= set(answers.kinds())
    assert set(intake_answers.PARSERS) <= set(answers.kinds())


def test_a_kind_is_registered_once() -> None:
    with pytest.raises(ValueError, match="already registered"):
        answers.register("dose", lambda text, context: INVALID, lambda value: False)


def test_read_returns_an_answer_with_its_value_unknown_or_invalid() -> None:
    assert read("dose", "150mg twice a day") == Answer("dose", "150mg twice a day", 300.0)
    assert read("dose", "not sure").unknown
    assert read("dose", "banana").invalid
    assert read("yes_no", "yes").known
    assert read("yes_no", "that would be right yes indeed", intent="affirm", confidence=0.95).value is True
    assert read("months", "I don't know").value is UNKNOWN


def test_readers_of_names_get_the_message_explicitly() -> None:
    message = {"text": "flibberzine", "entities": []}
    value = read("medicine_names", "sertraline and flibberzine", message=message).value
    assert value["mentions"][0] == {"drug": "sertraline", "name_given": "sertraline"}
    assert value["mentions"][1] == {"unknown": "flibberzine"}


def test_canonical_values_per_kind() -> None:
    assert answers.is_canonical("dose", 150.0)
    assert not answers.is_canonical("dose", "150mg")
    assert answers.is_canonical("months", SKIPPED)
    assert not answers.is_canonical("medicine_spelling", {"keep": True})
    assert answers.is_canonical("trial_outcome", "remission")


def test_the_old_names_are_the_same_readers() -> None:
    assert intake_answers.parse_months is parse_months
    assert intake_answers.parse_outcome is parse_outcome
    assert intake_answers.INVALID is INVALID and intake_answers.UNKNOWN is UNKNOWN


# --- one number grammar ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "value"),
    [
        ("twenty four", 24),
        ("a dozen", 12),
        ("a couple of", 2),
        ("half a", 0.5),
        ("12", 12),
        ("a hundred", 100),
    ],
)
def test_one_number_grammar(phrase: str, value: float) -> None:
    assert read_number(phrase) == value


def test_months_and_counts_read_numbers_with_the_same_grammar_as_doses() -> None:
    assert parse_months("one hundred and twenty months") == 120
    assert parse_count("fourty") == 40
    assert parse_months("One. Two. Three.") is INVALID  # separate numbers are not one number


def test_the_upper_bound_rule_is_each_readers_explicit_choice() -> None:
    # a trial is never called adequate on a guess: "almost 6 weeks" has no lower bound
    assert parse_duration("almost 6 weeks") is None
    # an episode's length and a session count are rough answers
    assert parse_months("almost 2 years") == 24
    assert parse_count("nearly 20") == 20
    assert "almost" in qualifier_pattern(UpperBound.AS_ESTIMATE)
    assert "almost" not in qualifier_pattern(UpperBound.REJECT)


# --- one outcome pattern set ----------------------------------------------------------------


def test_one_outcome_table_read_three_ways() -> None:
    assert {entry.precise for entry in OUTCOME_PATTERNS} == {True, False}
    # a medicine's outcome: buttons and precise phrases first, then the cues
    assert read_outcome("Some improvement") == "partial_response"
    assert read_outcome("it helped somewhat") == "partial_response"
    # a treatment's outcome: the cues
    assert parse_outcome("It helped, then wore off") == "response_then_relapse"
    # a correction: precise phrases only ("for a while" is no outcome there)
    assert outcome_in_correction("no it was 100 mg for a while") is None
    assert outcome_in_correction("it didnt help") == "no_response"


def test_no_context_variable_carries_the_message() -> None:
    tree = ast.parse((ROOT / "actions" / "forms" / "medications.py").read_text(encoding="utf-8"))
    imported = {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    assert "contextvars" not in imported
