"""The intake's version 2 answer readers, measured on a blind set (tests/unit/blind/answers_v2.yml).

The set was written by a helper who never saw the readers: 302 answers to the eleven new
questions with the value a careful human would record, ``unclear`` or ``skip``. Each answer is
read as the form reads it (tests/support/answers_blind.py: the reader through
``trd.answers.read`` with the message and the drug lexicon, then what the form does with the
value); the per-kind table, with every miss, is printed at the end of the run.

The floors are the figures measured after the readers were mended (296 of 302 right; 197 before,
see the commit history): they are optimistic, because the set guided which general gaps were
mended, so they say only that a reader must not get worse on it, not how well it reads answers
it has not seen. Reading a value where the person was unclear or declined is
the dangerous direction (a guess in the record is worse than asking again): it has its own
ceiling per kind.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Tuple

import pytest

from tests.support import answers_blind as blind

ROOT = Path(__file__).resolve().parents[2]

# kind -> (least answers read right, most values read where the person was unclear or declined)
FLOORS: Dict[str, Tuple[int, int]] = {
    # kind: (right after the mends, most values read where unclear); before the mends, in brackets
    "age": (27, 0),  # (20, 0)
    "perinatal": (28, 0),  # (14, 0)
    "drinks_per_week": (26, 0),  # (20, 0)
    "recreational_drugs": (26, 0),  # (19, 0)
    "psychosis_kind": (25, 0),  # (17, 0)
    "trial_purpose": (25, 0),  # (20, 0) with the equivalence for "both depression and sleep"
    "relapse_while_taking": (25, 0),  # (19, 2)
    "added_to": (25, 0),  # (22, 0)
    # the two values: partial answers ("X first" of three) the medicines form completes with the rest
    # in the order named (actions/forms/medications.py, _ordered): the form's choice, not the reader's
    "trial_order": (23, 2),  # (16, 4)
    "current_medicines": (39, 0),  # (13, 5)
    "thoughts_now": (27, 0),  # (18, 0)
}
KINDS = (
    "age",
    "perinatal",
    "drinks_per_week",
    "recreational_drugs",
    "psychosis_kind",
    "trial_purpose",
    "relapse_while_taking",
    "added_to",
    "trial_order",
    "current_medicines",
    "thoughts_now",
)


def test_the_blind_set_is_whole_and_every_item_has_a_value_in_the_readers_shape() -> None:
    items = blind.items()
    assert len(items) == 302
    assert set(blind.kinds_in_order()) == set(KINDS) == set(FLOORS)
    for item in items:
        if item["expect"] not in ("unclear", "skip") and item["kind"] != "added_to":
            assert blind.expected_value(item) is not None, item
        if item["kind"] == "trial_order":
            assert item.get("named"), item
        if item["kind"] in ("trial_purpose", "relapse_while_taking", "added_to"):
            assert item.get("drug"), item


def test_every_equivalence_names_an_item_of_the_set_and_says_why() -> None:
    texts = {item["text"] for item in blind.items()}
    for text, (_, why) in blind.EQUIVALENT.items():
        assert text in texts and why


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower().replace("'", "")).split())


def test_the_blind_answers_stay_out_of_the_readers_their_data_and_their_tests() -> None:
    """Evaluate blind: no answer of five words or more is copied into what it measures (shorter ones,
    "rather not say", "the first one", and the questions' own words were there before the set)."""
    sources = sorted((ROOT / "trd" / "answers").glob("*.py"))
    sources += [ROOT / "tests" / "unit" / "test_answers_v2.py"]
    sources += [ROOT / "data" / "knowledge" / name for name in ("drugs.yml", "other_medicines.yml")]
    corpus = "\n".join(_words(path.read_text(encoding="utf-8")) for path in sources)
    # the questions and their buttons, which the set's writer saw, may be answered in their own words
    asked = _words((ROOT / "data" / "knowledge" / "intake_questions.yml").read_text(encoding="utf-8"))
    copied = [
        item["text"]
        for item in blind.items()
        if len(_words(item["text"]).split()) >= 5
        and _words(item["text"]) in corpus
        and _words(item["text"]) not in asked
    ]
    assert copied == []


@pytest.mark.parametrize("kind", KINDS)
def test_the_readers_hold_their_floor_on_the_blind_set(kind: str) -> None:
    figures = blind.figures()[kind]
    least_right, most_guessed = FLOORS[kind]
    misses = [
        f"{outcome}: {item['text']!r} -> {got}"
        for item, outcome, got in blind.results()
        if item["kind"] == kind and outcome != "correct"
    ]
    assert figures["correct"] >= least_right, "\n".join(misses)
    assert figures["value_when_unclear"] <= most_guessed, "\n".join(misses)
