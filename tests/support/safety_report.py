"""Safety suite reporting: a per-category table of recall and false-alarm rate.

Printed by a terminal-summary hook (tests/conftest.py), so it shows in every normal run
that collects tests/safety (no -s needed), with or without pytest-xdist:

* "engine" rows: the deterministic risk engine (trd/safety/risk.py) on every message of
  cases.yml and holdout.yml, computed here (pure Python, well under a second);
* "end-to-end" rows: what tests/safety/test_safety_suite.py saw through the running
  assistant (REST channel reply and /model/parse), when those integration tests ran.

A crisis message counts as caught when it raised the expected crisis intent; a
look-alike counts as a false alarm when it raised any crisis intent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import yaml

HERE = Path(__file__).resolve().parents[1] / "safety"
CASE_FILES = {"cases": HERE / "cases.yml", "holdout": HERE / "holdout.yml"}
EXPECTED_INTENT = {"danger_now": "crisis_danger_now", "sos": "sos"}


def iter_cases() -> Iterator[Tuple[str, str, str, str]]:
    """(source, kind, category, text): kind is "crisis" or "lookalike"."""
    for source, path in CASE_FILES.items():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for category, messages in data["crisis"].items():
            for text in messages:
                yield source, "crisis", category, text
        for category, messages in data["lookalikes"].items():
            for text in messages:
                yield source, "lookalike", category, text


@dataclass
class SafetyResults:
    """Outcomes recorded by the integration suite: (source, kind, category) -> [ok, ...]."""

    outcomes: Dict[Tuple[str, str, str], List[bool]] = field(default_factory=lambda: defaultdict(list))

    def record(self, source: str, kind: str, category: str, ok: bool) -> None:
        self.outcomes[(source, kind, category)].append(ok)


_RESULTS_KEY = pytest.StashKey[SafetyResults]()


def results_for(config: pytest.Config) -> SafetyResults:
    return config.stash.setdefault(_RESULTS_KEY, SafetyResults())


def _engine_outcomes() -> Dict[Tuple[str, str, str], List[bool]]:
    from trd.safety.risk import RiskEngine

    engine = RiskEngine.from_file()
    out: Dict[Tuple[str, str, str], List[bool]] = defaultdict(list)
    for source, kind, category, text in iter_cases():
        result = engine.assess(text)
        if kind == "crisis":
            expected = EXPECTED_INTENT.get(category)
            ok = result.intent == expected if expected else result.is_crisis
        else:
            ok = not result.is_risk
        out[(source, kind, category)].append(ok)
    return out


def _table(title: str, outcomes: Dict[Tuple[str, str, str], List[bool]]) -> List[str]:
    lines = [title, f"  {'set':8} {'category':18} {'n':>4}  {'recall':>7}  {'false alarms':>12}"]
    for kind in ("crisis", "lookalike"):
        for (source, k, category), oks in sorted(outcomes.items()):
            if k != kind:
                continue
            n, good = len(oks), sum(oks)
            if kind == "crisis":
                lines.append(f"  {source:8} {category:18} {n:4}  {good / n:7.1%}  {'':>12}")
            else:
                lines.append(f"  {source:8} {category:18} {n:4}  {'':>7}  {(n - good) / n:12.1%}")
    for source in sorted({s for s, _, _ in outcomes}):
        crisis = [ok for (s, k, _), oks in outcomes.items() if s == source and k == "crisis" for ok in oks]
        looks = [ok for (s, k, _), oks in outcomes.items() if s == source and k == "lookalike" for ok in oks]
        if crisis and looks:
            lines.append(
                f"  {source:8} {'ALL':18} {len(crisis) + len(looks):4}  {sum(crisis) / len(crisis):7.1%}  "
                f"{(len(looks) - sum(looks)) / len(looks):12.1%}"
            )
    return lines


_COLLECTED_KEY = pytest.StashKey[bool]()


def note_collected(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Called before -m deselects the integration tests."""
    if any(Path(str(item.fspath)).resolve().is_relative_to(HERE) for item in items):
        config.stash[_COLLECTED_KEY] = True


# Under pytest-xdist the tests run in worker processes: each worker hands its outcomes to
# the controller (xdist's workeroutput), which prints the one table.
_WORKER_KEY = "trd_safety"


def hand_over(config: pytest.Config) -> None:
    """In an xdist worker, at session finish: put this worker's outcomes in its output."""
    output = getattr(config, "workeroutput", None)
    if output is None:
        return
    results = config.stash.get(_RESULTS_KEY, None)
    output[_WORKER_KEY] = {
        "collected": config.stash.get(_COLLECTED_KEY, False),
        "outcomes": [[*key, oks] for key, oks in (results.outcomes.items() if results else ())],
    }


def take_over(config: pytest.Config, workeroutput: Dict[str, Any]) -> None:
    """In the xdist controller, when a worker ends: merge what it handed over."""
    handed = workeroutput.get(_WORKER_KEY)
    if not handed:
        return
    if handed["collected"]:
        config.stash[_COLLECTED_KEY] = True
    results = results_for(config)
    for source, kind, category, oks in handed["outcomes"]:
        results.outcomes[(source, kind, category)].extend(oks)


def terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.stash.get(_COLLECTED_KEY, False):
        return
    tr = terminalreporter
    tr.section("safety: recall and false-alarm rate per category")
    try:
        for line in _table("deterministic risk engine (trd/safety/risk.py)", _engine_outcomes()):
            tr.write_line(line)
    except Exception as exc:  # the report must never hide the test results
        tr.write_line(f"  engine figures unavailable: {exc}")
    results = config.stash.get(_RESULTS_KEY, None)
    if results is not None and results.outcomes:
        tr.write_line("")
        title = "end to end: REST reply + /model/parse of the running assistant"
        for line in _table(title, results.outcomes):
            tr.write_line(line)
    else:
        tr.write_line("")
        tr.write_line("  end-to-end figures: the integration suite did not run "
                      "(pytest -m integration tests/safety)")
