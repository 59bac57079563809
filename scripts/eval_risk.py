"""The risk check on the blind sets, in-process: per category and tier.

    python scripts/eval_risk.py                 # engine, detector, and both together
    python scripts/eval_risk.py --show-misses   # also list what was missed or falsely flagged

Reads tests/safety/blind/ (written by helpers who never saw the code, the lexicon or the
training data); nothing here is tuned on them. "crisis block" means the clear tier (the
crisis answer with the crisis lines); "asked" means the possible tier (a direct question about
suicidal thoughts with resources one tap away). Conversations are read turn by turn with
the same context window the safety guard uses.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trd.safety.assessment import RiskAssessor  # noqa: E402

BLIND = ROOT / "tests" / "safety" / "blind"


def _pct(n: int, d: int) -> str:
    return f"{n / d:6.1%}" if d else "     -"


def crisis_report(assessor: RiskAssessor, show: bool) -> None:
    data = yaml.safe_load((BLIND / "crisis_test.yml").read_text(encoding="utf-8"))
    rows: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    misses: List[str] = []
    for m in data["messages"]:
        tier = assessor.assess([m["text"]]).tier
        rows[(m["tier"], m["category"])].append(tier)
        want_block = m["tier"] == "clear"
        if (want_block and tier == "none") or (not want_block and tier == "none"):
            misses.append(f"  MISS [{m['tier']}/{m['category']}] -> {tier}: {m['text']}")
    print("crisis messages (tests/safety/blind/crisis_test.yml)")
    print(f"  {'tier/category':34} {'n':>4} {'block':>7} {'asked':>7} {'other':>7} {'none':>7}")
    totals: Dict[str, List[str]] = defaultdict(list)
    for (tier, category), tiers in sorted(rows.items()):
        n = len(tiers)
        block = sum(t == "clear" for t in tiers)
        asked = sum(t == "possible" for t in tiers)
        other = sum(t in ("third_party", "harm_to_others") for t in tiers)
        none = sum(t == "none" for t in tiers)
        totals[tier].extend(tiers)
        name = f"{tier}/{category}"
        print(f"  {name:34} {n:4} {_pct(block, n)} {_pct(asked, n)} {_pct(other, n)} {_pct(none, n)}")
    for tier, tiers in sorted(totals.items()):
        n = len(tiers)
        print(f"  {tier + '/ALL':34} {n:4} {_pct(sum(t == 'clear' for t in tiers), n)} "
              f"{_pct(sum(t == 'possible' for t in tiers), n)} "
              f"{_pct(sum(t in ('third_party', 'harm_to_others') for t in tiers), n)} "
              f"{_pct(sum(t == 'none' for t in tiers), n)}")
    if show:
        print("\n".join(misses))


def lookalike_report(assessor: RiskAssessor, show: bool) -> None:
    data = yaml.safe_load((BLIND / "lookalike_test.yml").read_text(encoding="utf-8"))
    rows: Dict[str, List[str]] = defaultdict(list)
    flagged: List[str] = []
    for m in data["messages"]:
        tier = assessor.assess([m["text"]]).tier
        rows[m["category"]].append(tier)
        if tier != "none":
            flagged.append(f"  FLAG [{m['category']}] -> {tier}: {m['text']}")
    print("\nlook-alikes (tests/safety/blind/lookalike_test.yml)")
    print(f"  {'category':34} {'n':>4} {'block':>7} {'asked':>7} {'other':>7}")
    all_tiers: List[str] = []
    for category, tiers in sorted(rows.items()):
        n = len(tiers)
        all_tiers.extend(tiers)
        print(f"  {category:34} {n:4} {_pct(sum(t == 'clear' for t in tiers), n)} "
              f"{_pct(sum(t == 'possible' for t in tiers), n)} "
              f"{_pct(sum(t in ('third_party', 'harm_to_others') for t in tiers), n)}")
    n = len(all_tiers)
    print(f"  {'ALL':34} {n:4} {_pct(sum(t == 'clear' for t in all_tiers), n)} "
          f"{_pct(sum(t == 'possible' for t in all_tiers), n)} "
          f"{_pct(sum(t in ('third_party', 'harm_to_others') for t in all_tiers), n)}")
    if show:
        print("\n".join(flagged))


def conversation_report(assessor: RiskAssessor, show: bool) -> None:
    data = yaml.safe_load((BLIND / "conversations_test.yml").read_text(encoding="utf-8"))
    groups: Dict[str, List[Tuple[bool, bool, int]]] = defaultdict(list)
    lines: List[str] = []
    for conv in data["conversations"]:
        history: List[str] = []
        got_block = got_asked = False
        first = 0
        for i, turn in enumerate(conv["turns"], start=1):
            history.append(turn)
            tier = assessor.assess(history).tier
            if tier == "clear":
                got_block = True
            if tier in ("clear", "possible", "third_party", "harm_to_others"):
                got_asked = True
                first = first or i
        group = "at risk" if conv["at_risk"] else conv["id"].split("-")[0]
        groups[group].append((got_block, got_asked, first))
        lines.append(f"  {conv['id']:10} at_risk={conv['at_risk']!s:5} block={got_block!s:5} "
                     f"responded={got_asked!s:5} first_turn={first} (expected {conv.get('first_risk_turn')})")
    print("\nconversations (tests/safety/blind/conversations_test.yml)")
    for group, results in sorted(groups.items()):
        n = len(results)
        print(f"  {group:10} n={n:3}  crisis block in {sum(r[0] for r in results):3}  "
              f"risk response (block or question) in {sum(r[1] for r in results):3}")
    if show:
        print("\n".join(lines))


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    assessor = RiskAssessor.from_files()
    crisis_report(assessor, args.show_misses)
    lookalike_report(assessor, args.show_misses)
    conversation_report(assessor, args.show_misses)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
