"""Choose the classifier's crisis thresholds on the validation sets (data/safety/classifier_thresholds.json).

The safety guard (bot/nlu/safety_guard.py) lets the trained classifier's own crisis guess
stand on its own (the crisis block) only at or above a confidence chosen here, and ask
the possible-risk question above a lower one; below that, when the lexicon and the risk
detector found nothing, the message is an ordinary one. Both are chosen on the blind
validation sets (tests/safety/validation/validation*.yml), never on the test sets:

* clear: the lowest confidence at which the classifier alone adds the crisis block to at
  most CLEAR_BUDGET of the no-risk messages;
* possible: the lowest at which it adds the question to at most POSSIBLE_BUDGET of them.

    .venv/bin/python scripts/calibrate_classifier.py            # needs the trained model (make train)
    .venv/bin/python scripts/calibrate_classifier.py --check    # exit 1 if the file is for another model

The thresholds belong to one trained model: the file records the model's fingerprint.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the model names its components by module path (bot.nlu..., bot.policies...)
OUT = ROOT / "data" / "safety" / "classifier_thresholds.json"
VALIDATION = sorted((ROOT / "tests" / "safety" / "validation").glob("validation*.yml"))
CLEAR_BUDGET = 0.01
POSSIBLE_BUDGET = 0.03
CRISIS = ("crisis", "crisis_danger_now")


def fingerprint() -> str:
    out = subprocess.run(
        ["bash", "scripts/train.sh", "--fingerprint"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def messages() -> List[Tuple[str, str]]:
    found: List[Tuple[str, str]] = []
    for path in VALIDATION:
        found += [
            (m["text"], m["label"]) for m in yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
        ]
    return found


async def readings(model: Path, texts: List[str]) -> List[Dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        out.append(parsed.get("safety_guard") or {})
    return out


NEVER = 1.01  # no confidence reaches it: the classifier never decides on its own


def lowest(scores: List[float], n_none: int, budget: float) -> float:
    for step in range(5, 101):
        t = step / 100
        if sum(s >= t for s in scores) <= budget * n_none:
            return t
    return NEVER


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    key = f"trd-{fingerprint()}"
    if args.check:
        about = json.loads(OUT.read_text(encoding="utf-8"))
        if about.get("model") != key:
            print(
                f"{OUT.name} was calibrated for {about.get('model')}, the model is now {key}: "
                "run scripts/calibrate_classifier.py",
                file=sys.stderr,
            )
            return 1
        return 0
    model = ROOT / "models" / f"{key}.tar.gz"
    if not model.is_file():
        print(f"no trained model {model} (run make train)", file=sys.stderr)
        return 1
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    data = messages()
    infos = asyncio.run(readings(model, [t for t, _ in data]))
    none_scores: List[float] = []
    n_none = 0
    for (_, label), info in zip(data, infos, strict=True):
        if label != "none":
            continue
        n_none += 1
        tier = (info.get("assessment") or {}).get("tier", "none")
        explained = bool(info.get("explained_by")) or "denial" in (info.get("assessment") or {}).get(
            "notes", []
        )
        if tier == "none" and not explained and info.get("classifier_best_guess") in CRISIS:
            none_scores.append(float(info.get("classifier_confidence") or 0.0))
    clear = lowest(none_scores, n_none, CLEAR_BUDGET)
    possible = min(clear, lowest(none_scores, n_none, POSSIBLE_BUDGET))
    risk = [
        (label, info) for (_, label), info in zip(data, infos, strict=True) if label in ("clear", "possible")
    ]
    only_classifier = [
        float(info.get("classifier_confidence") or 0.0)
        for _, info in risk
        if (info.get("assessment") or {}).get("tier", "none") == "none"
        and info.get("classifier_best_guess") in CRISIS
    ]
    about = {
        "about": "Written by scripts/calibrate_classifier.py; read by bot/nlu/safety_guard.py.",
        "model": key,
        "budgets": {"clear": CLEAR_BUDGET, "possible": POSSIBLE_BUDGET},
        "thresholds": {"clear": clear, "possible": possible},
        "validation": {
            "messages": len(data),
            "no_risk_messages": n_none,
            "no_risk_where_only_the_classifier_says_crisis": len(none_scores),
            "risk_messages_only_the_classifier_catches_as_clear": sum(s >= clear for s in only_classifier),
            "risk_messages_only_the_classifier_asks_about": sum(
                possible <= s < clear for s in only_classifier
            ),
        },
    }
    OUT.write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(about, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
