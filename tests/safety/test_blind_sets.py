"""The blind evaluation sets stay blind: well formed, big enough, and never in training.

tests/safety/blind/ to blind6/ (the test sets of six rounds, by six writers)
and tests/safety/validation/ (for choosing thresholds) were written by helpers that never
saw the code, the lexicon or the training data. A line
from them that shows up in data/nlu (the classifier's training data), in the risk
detector's training messages (data/safety/risk_training/) or in the risk lexicon's
examples would make every figure measured on them optimistic, so this test fails
on any such copy, exact or embedded in a longer training line. (When the sets came in, 13
lines that the writers had happened to phrase exactly as a training line were dropped from
them, and 5 validation lines that repeated a test line.)
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BLIND = ROOT / "tests" / "safety" / "blind"
VALIDATION = ROOT / "tests" / "safety" / "validation" / "validation.yml"
BLIND2 = ROOT / "tests" / "safety" / "blind2"  # the second blind round (a different writer)
BLIND3 = ROOT / "tests" / "safety" / "blind3"  # the third (a third writer; all of it is test)
BLIND4 = ROOT / "tests" / "safety" / "blind4"  # the fourth, read once, after stop 19's changes
BLIND5 = ROOT / "tests" / "safety" / "blind5"  # the fifth, written before stop 20's changes
BLIND6 = ROOT / "tests" / "safety" / "blind6"  # the sixth, written at stop 21, read once at its end
BLIND7 = ROOT / "tests" / "safety" / "blind7"  # the seventh, written at stop 22, read once at its end
TEST_FOLDERS = (BLIND, BLIND2, BLIND3, BLIND4, BLIND5, BLIND6, BLIND7)
# validation round 3 (stop 21: the look-alike kinds the blind rounds block most, with matched
# risk messages), for choosing lexicon rules. The threshold scripts do not read it (they read
# validation*.yml): thresholds chosen with it were tried at stop 22 and rejected (README)
LEXICON_VALIDATION = ROOT / "tests" / "safety" / "validation" / "lexicon"

CLEAR_CATEGORIES = {
    "intent", "plan_or_method", "preparatory_acts", "self_harm", "danger_now", "ambivalence",
    "coded_language", "embedded", "third_party", "harm_to_others", "non_english", "sms_style",
}
POSSIBLE_CATEGORIES = {"hopelessness", "burden", "disappear", "isolation_despair", "future_open"}


def _load(path: Path) -> Dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    return " ".join(re.sub(r"[^\w\s]", " ", text.replace("'", "")).split())


def evaluation_lines() -> Iterator[Tuple[str, str]]:
    """(file, text) for every message of every blind and validation set (both rounds)."""
    for folder in TEST_FOLDERS:
        for name in ("crisis_test.yml", "lookalike_test.yml"):
            for m in _load(folder / name)["messages"]:
                yield f"{folder.name}/{name}", m["text"]
        for c in _load(folder / "conversations_test.yml")["conversations"]:
            for turn in c["turns"]:
                # a greeting or a one-word reply ("hey", "no") inside a conversation carries no
                # evaluation of its own and is bound to match a training line
                if len(norm(turn).split()) > 2:
                    yield f"{folder.name}/conversations_test.yml", turn
    # validation*.yml and the round for the lexicon (validation/lexicon/: not read by the threshold scripts)
    lexicon_round = sorted(LEXICON_VALIDATION.glob("*.yml"))
    for path in [*sorted(VALIDATION.parent.glob("validation*.yml")), *lexicon_round]:
        for m in _load(path)["messages"]:
            yield "validation.yml", m["text"]
    for path in sorted(VALIDATION.parent.glob("conversations_validation*.yml")):
        for c in _load(path)["conversations"]:
            for turn in c["turns"]:
                if len(norm(turn).split()) > 2:
                    yield "validation.yml", turn


def training_lines() -> List[str]:
    lines: List[str] = []
    for f in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []) or []:
            for line in (block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    lines.append(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line[2:]))
    # the risk detector's own training messages (trd/safety/detector.py)
    for f in sorted((ROOT / "data" / "safety" / "risk_training").glob("*.yml")):
        lines += [str(ex["text"]) for ex in (_load(f) or {}).get("examples", [])]
    lexicon = (ROOT / "data" / "knowledge" / "risk_lexicon.yml").read_text(encoding="utf-8")
    lines += [ln.strip().lstrip("-").strip().strip("\"'") for ln in lexicon.splitlines() if ln.strip()]
    return lines


def _check_round(
    folder: Path, *, crisis: int, clear: int, lookalikes: int, at_risk: int, others: int
) -> Tuple[List[Dict], List[Dict]]:
    """One round's test sets: every category of both tiers, at least so many messages (all,
    clear-tier, look-alikes) and conversations (at risk, others not at risk), all 15 of the
    lonely young man, and well-formed conversations. Returns (risk messages, look-alikes)."""
    messages = _load(folder / "crisis_test.yml")["messages"]
    assert {m["category"] for m in messages if m["tier"] == "clear"} == CLEAR_CATEGORIES
    assert {m["category"] for m in messages if m["tier"] == "possible"} == POSSIBLE_CATEGORIES
    assert len(messages) >= crisis and Counter(m["tier"] for m in messages)["clear"] >= clear
    lookalike_messages = _load(folder / "lookalike_test.yml")["messages"]
    assert len(lookalike_messages) >= lookalikes
    convs = _load(folder / "conversations_test.yml")["conversations"]
    assert sum(c["pattern"] == "lonely_young_man" for c in convs) == 15
    assert sum(c["at_risk"] for c in convs) >= at_risk
    assert sum(not c["at_risk"] and c["pattern"] != "lonely_young_man" for c in convs) >= others
    for c in convs:
        assert c["turns"] and all(isinstance(t, str) and t.strip() for t in c["turns"]), c["id"]
        if c["at_risk"]:
            assert 1 <= c["first_risk_turn"] <= len(c["turns"]), c["id"]
        else:
            assert c["first_risk_turn"] is None and c["clear_risk_turn"] is None, c["id"]
    return messages, lookalike_messages


def test_the_test_sets_are_big_enough_and_labelled() -> None:
    crisis, _ = _check_round(BLIND, crisis=400, clear=300, lookalikes=300, at_risk=30, others=30)
    assert Counter(m["tier"] for m in crisis)["possible"] >= 100
    labels = Counter(m["label"] for m in _load(VALIDATION)["messages"])
    assert set(labels) == {"clear", "possible", "none"}


def test_the_second_round_is_well_formed() -> None:
    """blind2: a second writer's test part (about 65% per category; the rest is validation)."""
    _check_round(BLIND2, crisis=250, clear=0, lookalikes=250, at_risk=20, others=0)
    for path in sorted(VALIDATION.parent.glob("validation*.yml")):
        assert {m["label"] for m in _load(path)["messages"]} <= {
            "clear", "possible", "third_party", "harm_to_others", "none"}, path.name


def test_the_third_round_is_well_formed() -> None:
    """blind3: a third writer's set, all of it test, with one more look-alike kind (very_short:
    one to three ordinary words or an emoji, which a detector trained on sentences misreads)."""
    _, lookalikes = _check_round(BLIND3, crisis=0, clear=250, lookalikes=300, at_risk=24, others=20)
    assert sum(m["category"] == "very_short" for m in lookalikes) >= 20


def test_the_fourth_round_is_well_formed() -> None:
    """blind4: a fourth writer's set, all of it test, measured once (in-process, README)."""
    _check_round(BLIND4, crisis=290, clear=0, lookalikes=280, at_risk=20, others=0)


def test_the_fifth_round_is_well_formed() -> None:
    """blind5: a fifth writer's set, all of it test, written while stop 20's changes were made
    (the writer saw none of them) and measured once, after them."""
    _check_round(BLIND5, crisis=320, clear=230, lookalikes=300, at_risk=30, others=15)


def test_the_sixth_round_is_well_formed() -> None:
    """blind6: a sixth writer's set, all of it test, written at stop 21 and read once, at its
    end, after that stop's changes (non-English risk in thirteen languages)."""
    crisis, lookalikes = _check_round(BLIND6, crisis=310, clear=220, lookalikes=300, at_risk=30, others=15)
    assert sum(m["category"] == "non_english" for m in crisis) >= 18
    assert len({m["category"] for m in lookalikes}) == 17


def test_the_seventh_round_is_well_formed() -> None:
    """blind7: a seventh writer's set, all of it test, written at the start of stop 22 (the
    writer saw none of that stop's changes) and read once, at its end."""
    crisis, lookalikes = _check_round(BLIND7, crisis=290, clear=210, lookalikes=270, at_risk=30, others=15)
    assert sum(m["category"] == "non_english" for m in crisis) >= 15
    assert len({m["category"] for m in lookalikes}) == 16  # its very short messages were all in training


def test_no_evaluation_line_is_in_the_training_data_or_the_lexicon() -> None:
    lines = training_lines()
    train = [norm(t) for t in lines]
    exact = set(train)
    # a line of only emoji or punctuation ("🙂", "?") normalises to nothing: compared as written
    symbols = {t.strip() for t in lines if not norm(t)}
    corpus = "\n".join(train)
    copied = []
    for source, text in evaluation_lines():
        key = norm(text)
        if not key:
            if text.strip() in symbols:
                copied.append((source, text))
            continue
        if key in exact or (len(key.split()) >= 6 and key in corpus):
            copied.append((source, text))
    assert copied == [], f"{len(copied)} evaluation lines found in training data: {copied[:10]}"


def test_the_validation_set_and_the_test_sets_do_not_share_lines() -> None:
    val = {norm(m["text"]) for path in [*sorted(VALIDATION.parent.glob("validation*.yml")),
                                        *sorted(LEXICON_VALIDATION.glob("*.yml"))]
           for m in _load(path)["messages"]}
    shared = [(s, t) for s, t in evaluation_lines() if s != "validation.yml" and norm(t) in val]
    assert shared == []


@pytest.mark.parametrize("folder", TEST_FOLDERS, ids=lambda f: f.name)
@pytest.mark.parametrize("name", ["crisis_test.yml", "lookalike_test.yml"])
def test_no_set_repeats_a_message(folder: Path, name: str) -> None:
    keys = Counter(norm(m["text"]) or m["text"].strip() for m in _load(folder / name)["messages"])
    assert [k for k, n in keys.items() if n > 1] == []


def test_the_next_validation_round_is_well_formed() -> None:
    """validation/lexicon/validation_round3.yml: 400 messages, 50 of each of eight kinds, four of
    them look-alikes (labelled none) and four matched risk kinds."""
    messages = _load(LEXICON_VALIDATION / "validation_round3.yml")["messages"]
    kinds = Counter((m["label"], m["category"]) for m in messages)
    assert len(kinds) == 8 and min(kinds.values()) >= 45
    assert {label for label, _ in kinds} == {"none", "clear", "possible", "third_party"}
