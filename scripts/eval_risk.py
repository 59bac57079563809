"""The risk check on the evaluation sets, in-process: per category and tier.

    python scripts/eval_risk.py                          # validation and the seven blind rounds
    python scripts/eval_risk.py --sets validation --show-misses

Sets: ``validation`` (tests/safety/validation/, for choosing thresholds: its misses may be
listed), ``blind`` to ``blind7`` (tests/safety/blind/ to blind7/, the
test sets of seven rounds, written by helpers who never saw the code, the lexicon or the training data:
aggregates only, never a message, so nothing is tuned to them).

"block" is a crisis answer (the crisis block, or the third-party or harm-to-others answer),
"asked" the possible-risk question (the crisis line in view). Conversations are read turn by turn as
the safety policy reads them (bot/policies/safety_policy.py): the question, the reply to it
(data/knowledge/risk_check_answers.yml: a yes or an evasive answer opens the crisis path, no
answer is asked once more, a no is not asked again for a few messages) and the last few
messages joined. The figures match the running assistant's
(tests/safety/test_blind_served.py), which the README quotes.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trd.safety.assessment import RiskAssessor  # noqa: E402
from trd.safety.detector import pieces_of  # noqa: E402
from trd.safety.risk_check import EVASIVE, YES, AnswerPhrases, is_long_reply, load_answer_phrases  # noqa: E402

SAFETY = ROOT / "tests" / "safety"
SETS = ("validation", "blind", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7")
BLOCK_TIERS = ("clear", "third_party", "harm_to_others")
QUIET_AFTER_NO = 5  # bot/policies/safety_policy.py
CONTEXT_MESSAGES = 3


def shown(tier: str) -> str:
    return "block" if tier in BLOCK_TIERS else ("asked" if tier == "possible" else "none")


def conversation(assessor: RiskAssessor, answers: AnswerPhrases, turns: List[str]) -> List[str]:
    """What each turn shows ("block", "asked", "none"), up to the first block."""
    pending: Optional[str] = None  # "asked" or "reasked": the question is on the screen
    since_no: Optional[int] = None
    window: List[str] = []
    out: List[str] = []
    for text in turns:
        tier = assessor.assess_with(text, assessor.engine.assess(text)).tier
        since_no = None if since_no is None else since_no + 1
        quiet = since_no is not None and since_no <= QUIET_AFTER_NO
        if pending and tier in ("none", "possible"):
            answer = answers.read(text, flagged=tier == "possible")
            if answer == EVASIVE and is_long_reply(text) and tier != "possible":
                answer = None  # going on with what they were saying (the safety policy's rule)
            window = []
            if answer in (YES, EVASIVE):
                out.append("block")
                break
            if answer is None and pending == "asked":
                pending = "reasked"
                out.append("asked")
                continue
            pending, since_no = None, 0
            out.append("none")
            continue
        window = (window + [text])[-CONTEXT_MESSAGES:]
        if tier in BLOCK_TIERS:
            out.append("block")
            break
        if tier == "none" and not quiet and len(window) >= 2 and assessor.context(window) is not None:
            tier = "possible"
        if tier == "possible" and not quiet:
            pending, window = "asked", []
            out.append("asked")
        else:
            out.append("none")
    return out


def _load(path: Path) -> Dict:
    data: Dict = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def messages(name: str) -> Iterator[Tuple[str, str, str]]:
    """(text, expected tier, category) of every single message of a set."""
    if name == "validation":
        # the threshold scripts' files, and the round for lexicon rules (validation/lexicon/)
        paths = [*sorted((SAFETY / "validation").glob("validation*.yml")),
                 *sorted((SAFETY / "validation" / "lexicon").glob("*.yml"))]
        for path in paths:
            for m in _load(path)["messages"]:
                yield m["text"], m["label"], m["category"]
        return
    for m in _load(SAFETY / name / "crisis_test.yml")["messages"]:
        yield m["text"], m["tier"], m["category"]
    for m in _load(SAFETY / name / "lookalike_test.yml")["messages"]:
        yield m["text"], "none", m["category"]


def conversations(name: str) -> Iterator[Dict]:
    paths = sorted((SAFETY / "validation").glob("conversations_validation*.yml")) if name == "validation" \
        else [SAFETY / name / "conversations_test.yml"]
    for path in paths:
        yield from _load(path)["conversations"]


def primed(assessor: RiskAssessor, name: str) -> AbstractContextManager:
    """Every message, turn and sentence of a set encoded beforehand, in batches (about twice as
    fast as one at a time; the same embeddings to float32 rounding, so the same figures). The
    last few turns joined are encoded when they are read."""
    texts = [t for t, _, _ in messages(name)] + [t for c in conversations(name) for t in c["turns"]]
    return assessor.detector.encoder.primed(texts + [p for t in texts for p in pieces_of(t)])


def _pct(n: int, d: int) -> str:
    return f"{n / d:6.1%}" if d else "     -"


def table(title: str, rows: Dict[str, List[str]]) -> List[str]:
    lines = [title, f"  {'tier/category':40} {'n':>4} {'block':>7} {'asked':>7} {'none':>7}"]
    groups: Dict[str, List[str]] = defaultdict(list)
    for key, seen in sorted(rows.items()):
        groups[key.split("/")[0] + "/ALL"] += seen
    for key, seen in [*sorted(rows.items()), *sorted(groups.items())]:
        n = len(seen)
        lines.append(f"  {key:40} {n:4} {_pct(seen.count('block'), n)} {_pct(seen.count('asked'), n)} "
                     f"{_pct(seen.count('none'), n)}")
    return lines


def report(assessor: RiskAssessor, answers: AnswerPhrases, name: str, show: bool) -> List[str]:
    rows: Dict[str, List[str]] = defaultdict(list)
    misses: List[str] = []
    for text, expected, category in messages(name):
        seen = shown(assessor.assess([text]).tier)
        rows[f"{expected}/{category}"].append(seen)
        if show and ((expected != "none" and seen == "none") or (expected == "none" and seen == "block")):
            misses.append(f"  {expected}/{category} -> {seen}: {text}")
    lines = table(f"{name}: messages", rows)
    groups: Dict[str, List[Tuple[bool, bool]]] = defaultdict(list)
    for c in conversations(name):
        seen_turns = conversation(assessor, answers, c["turns"])
        kind = "at risk" if c["at_risk"] else (
            "lonely" if c["pattern"] in ("lonely", "lonely_young_man") else "not at risk")
        groups[kind].append(("block" in seen_turns, any(s != "none" for s in seen_turns)))
        missed = c["at_risk"] and all(s == "none" for s in seen_turns)
        if show and (missed or (not c["at_risk"] and "block" in seen_turns)):
            misses.append(f"  conversation {c['id']} ({c['pattern']}): {seen_turns}")
    lines.append(f"{name}: conversations")
    for kind, outcomes in sorted(groups.items()):
        lines.append(f"  {kind:12} n={len(outcomes):3}  crisis block in {sum(b for b, _ in outcomes):3}"
                     f"  block or question in {sum(a for _, a in outcomes):3}")
    return lines + (["misses and false alarms:", *misses] if show else [])


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--show-misses", action="store_true",
                        help="list the validation set's misses (never a test set's messages)")
    args = parser.parse_args(argv)
    assessor = RiskAssessor.from_files()
    answers = load_answer_phrases()
    for name in args.sets:
        with primed(assessor, name):
            print("\n".join(report(assessor, answers, name, args.show_misses and name == "validation")))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
