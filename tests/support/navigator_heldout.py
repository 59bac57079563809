"""The navigator's blind held-out set (tests/unit/navigator/heldout_v2.yml), checked and reported per rule.

The cases were written by a helper who saw only navigator.md, the intake schema and the seeds, never
the navigator's code. They are never edited to pass: a case that contradicts navigator.md section 10
is listed in XFAIL with the written reason (and the lead is told).

`check(case)` runs one record through the navigator and returns what it got wrong, one line per
expectation; `table()` is the per-rule report that tests/conftest.py prints at the end of any run
that collected the held-out test (with or without pytest-xdist: the table is recomputed in the
controller, pure Python, well under a second).
"""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import pytest
import yaml

HELDOUT = Path(__file__).resolve().parents[1] / "unit" / "navigator" / "heldout_v2.yml"

# case id -> why it is expected to fail. Keep this empty unless a case contradicts section 10.
XFAIL: Dict[str, str] = {
    "sequencing-two-failed-classes-opens-mechanism": (
        "expects monoamine_only from a record with no other_treatments at all; navigator.md section 1 "
        "('unknown is never treated as no', which section 10 keeps) means TMS, ECT or ketamine may have "
        "been tried, so the navigator reports it as unknown instead of asserting only monoamines were tried"
    ),
    "staging-unknown-phq-range": (
        "the case's own arithmetic: severity 1-4 + duration 2 + failed trials 1 (+0 augmentation, +0 ECT) "
        "is 4-7 under section 10's Maudsley parts, not the 5-8 it expects"
    ),
}
FOLLOW_UP_PENDING = (
    "follow-up status is issue 12's part (trd/navigator/follow_up.py), not built in this checkout yet"
)


def expected_failure(case: Mapping[str, Any]) -> Optional[str]:
    """Why this case may fail (an XFAIL entry, or the follow-up module not being there yet), else None."""
    if case["id"] in XFAIL:
        return XFAIL[case["id"]]
    if case["rule"] == "follow_up" and importlib.util.find_spec("trd.navigator.follow_up") is None:
        return FOLLOW_UP_PENDING
    return None


@lru_cache(maxsize=1)
def cases() -> Tuple[Mapping[str, Any], ...]:
    return tuple(yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["cases"])


@lru_cache(maxsize=1)
def _knowledge() -> Any:
    from trd.navigator import load_knowledge

    return load_knowledge()


def _pair(a: str, b: str) -> frozenset:
    return frozenset({a.lower(), b.lower()})


def check(case: Mapping[str, Any]) -> List[str]:
    """What the navigator got wrong for one case (empty: every expectation holds)."""
    from trd.navigator import navigate

    result = navigate(case["record"], _knowledge()).to_dict()
    expect = case["expect"]
    wrong: List[str] = []
    flags = set(result["flags"])
    for flag in expect.get("flags_include", []):
        if flag not in flags:
            wrong.append(f"flag {flag} missing")
    for flag in expect.get("flags_exclude", []):
        if flag in flags:
            wrong.append(f"flag {flag} raised")
    by_drug = {t["drug"]: t["adequacy"] for t in result["trials"]}
    for drug, adequacy in (expect.get("trials") or {}).items():
        if by_drug.get(drug) != adequacy:
            wrong.append(f"trial {drug}: {by_drug.get(drug)} (expected {adequacy})")
    layers = {layer["id"]: layer for layer in result["layers"]}
    for layer_id, status in (expect.get("layers") or {}).items():
        if layers[layer_id]["status"] != status:
            wrong.append(f"layer {layer_id}: {layers[layer_id]['status']} (expected {status})")
    staging = expect.get("staging") or {}
    got_staging = result.get("staging") or {}
    for key, value in (staging.get("maudsley") or {}).items():
        got = (got_staging.get("maudsley") or {}).get(key)
        if got != value:
            wrong.append(f"maudsley {key}: {got} (expected {value})")
    if "thase_rush" in staging and got_staging.get("thase_rush") != str(staging["thase_rush"]):
        wrong.append(f"thase_rush: {got_staging.get('thase_rush')} (expected {staging['thase_rush']})")
    got_pairs = {_pair(i["a"], i["b"]) for i in result.get("interactions") or []}
    for a, b in expect.get("interactions") or []:
        if _pair(a, b) not in got_pairs:
            wrong.append(f"interaction {a} + {b} not named")
    for layer_id, needles in (expect.get("options_mention") or {}).items():
        texts = [o.lower() for o in layers[layer_id]["options"]]
        for needle in needles:
            if not any(needle.lower() in text for text in texts):
                wrong.append(f"no {layer_id} option mentions {needle!r}")
    if "follow_up_status" in expect:
        got = (result.get("follow_up") or {}).get("status")
        if got != expect["follow_up_status"]:
            wrong.append(f"follow_up status: {got} (expected {expect['follow_up_status']})")
    return wrong


def outcomes() -> Dict[str, List[Tuple[str, List[str]]]]:
    """rule -> [(case id, what went wrong)] for every case."""
    out: Dict[str, List[Tuple[str, List[str]]]] = defaultdict(list)
    for case in cases():
        try:
            wrong = check(case)
        except Exception as exc:  # a crash is a failure of that case, not of the report
            wrong = [f"error: {type(exc).__name__}: {exc}"]
        out[case["rule"]].append((case["id"], wrong))
    return out


def table() -> List[str]:
    lines = [f"  {'rule':28} {'cases':>5} {'pass':>5} {'xfail':>5} {'fail':>5}"]
    total = passed = xfailed = 0
    excused = {case["id"]: expected_failure(case) for case in cases()}
    for rule, results in outcomes().items():
        n = len(results)
        ok = sum(1 for _, wrong in results if not wrong)
        xf = sum(1 for case_id, wrong in results if wrong and excused[case_id])
        total, passed, xfailed = total + n, passed + ok, xfailed + xf
        lines.append(f"  {rule:28} {n:5} {ok:5} {xf:5} {n - ok - xf:5}")
        for case_id, wrong in results:
            if wrong:
                tag = "xfail" if excused[case_id] else "FAIL"
                lines.append(f"      {tag} {case_id}: {'; '.join(wrong)}")
    lines.append(f"  {'ALL':28} {total:5} {passed:5} {xfailed:5} {total - passed - xfailed:5}")
    return lines


# ------------------------------------------------------------------ the terminal report

_COLLECTED_KEY = pytest.StashKey[bool]()
_WORKER_KEY = "trd_navigator_heldout"
_TEST_FILE = Path(__file__).resolve().parents[1] / "unit" / "navigator" / "test_nav_heldout_v2.py"


def note_collected(config: pytest.Config, items: List[pytest.Item]) -> None:
    if any(Path(str(item.fspath)).resolve() == _TEST_FILE for item in items):
        config.stash[_COLLECTED_KEY] = True


def hand_over(config: pytest.Config) -> None:
    output = getattr(config, "workeroutput", None)
    if output is not None:
        output[_WORKER_KEY] = config.stash.get(_COLLECTED_KEY, False)


def take_over(config: pytest.Config, workeroutput: Mapping[str, Any]) -> None:
    if workeroutput.get(_WORKER_KEY):
        config.stash[_COLLECTED_KEY] = True


def terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.stash.get(_COLLECTED_KEY, False):
        return
    terminalreporter.section("navigator v2: blind held-out set per rule (heldout_v2.yml)")
    try:
        for line in table():
            terminalreporter.write_line(line)
    except Exception as exc:  # the report must never hide the test results
        terminalreporter.write_line(f"  held-out figures unavailable: {exc}")
