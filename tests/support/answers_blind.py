"""The intake's version 2 answer readers on their blind set (tests/unit/blind/answers_v2.yml).

The set was written by a helper who saw only the questions' wording, never the readers or their
tests: 302 answers to the eleven new questions, each with the value a careful human would record,
``unclear`` (the reader should not read a value: the form asks again or leaves it unknown) or
``skip`` (the person declined: the reader says UNKNOWN, the form moves on). The items are never
edited; where the writer made a judgment call that a reasonable reader may read differently (its
notes name them), :data:`EQUIVALENT` accepts the other reading explicitly, with the reason.

``check(item)`` reads one answer through :func:`trd.answers.read` with the context a form gives
(the message, the drug lexicon) and then what the form does with the value: ``added_to`` through
the medicines form's own choice of the medicine (its own name is not it), ``trial_order`` through
the form's ranking of the trials named; it returns one outcome:

* ``correct``;
* ``wrong``: a value, but not the one a careful human would record;
* ``unknown_when_known``: asked again or left unknown where the answer gave a value;
* ``value_when_unclear``: a value read where the person was unclear or declined (the dangerous
  direction: worse than asking again);
* ``reasked_skip``: asked again after the person declined (not dangerous, but tiresome).

``table()`` is the per-kind report tests/conftest.py prints after any run that collected
tests/unit/test_answers_v2_blind.py.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import pytest
import yaml

BLIND = Path(__file__).resolve().parents[1] / "unit" / "blind" / "answers_v2.yml"
_TEST_FILE = Path(__file__).resolve().parents[1] / "unit" / "test_answers_v2_blind.py"

OUTCOMES = ("correct", "wrong", "unknown_when_known", "value_when_unclear", "reasked_skip")
DOSE_TOLERANCE = 0.01  # doses within 1%
DRINKS_TOLERANCE = 0.1  # the reader rounds drinks a week to one decimal

# The writer's judgment calls another careful reader may make differently, each accepted
# explicitly. Keyed by the answer's text; each entry names the other value(s) accepted and why.
# Never an excuse for a reading the writer's note does not allow.
EQUIVALENT: Dict[str, Tuple[Any, str]] = {
    "a bottle of wine most nights honestly": (
        {"drinks_range": (25.0, 30.0)},
        "the writer's note: 25-30 acceptable ('most nights' is 5 or 6 nights)",
    ),
    "maybe one drink a month": (
        {"drinks_range": (0.0, 0.25)},
        "the writer's note: 0 to 0.25 acceptable (one a month is 0.23 a week)",
    ),
    "both depression and sleep": (
        {"accept": "depression"},
        "the writer's note: 'two purposes named; a careful human asks which mainly'. The reader's rule is"
        " that a medicine taken for depression at all was a depression treatment (what the person said,"
        " not a guess); the navigator still calls a sleep-range dose not a trial (navigator.md section 10)",
    ),
    "mirtazapine 15mg, metformin 500 twice a day, atorvastatin 20": (
        {"dose_either": {"metformin": (500.0, 1000.0)}},
        "the writer's note: 500 per dose or 1000 a day are the same answer in two conventions",
    ),
}
# Names that mean the same medicine in the writer's notes: a reader recording either is right.
SAME_MEDICINE: Tuple[Tuple[str, ...], ...] = (
    # "Adderall = mixed amphetamine salts; 'amphetamine' or 'dextroamphetamine/amphetamine' both acceptable"
    ("amphetamine", "dextroamphetamine", "dextroamphetamine-amphetamine", "mixed amphetamine salts"),
    # "'valproate' / 'valproic acid' also acceptable for Depakote"
    ("divalproex", "valproate", "valproic acid", "sodium valproate"),
    # "Mirena = levonorgestrel hormonal IUD; 'contraceptive' also acceptable"; "the pill" is one too
    ("contraceptive", "hormonal contraceptive", "levonorgestrel"),
)


@lru_cache(maxsize=1)
def items() -> Tuple[Mapping[str, Any], ...]:
    data = yaml.safe_load(BLIND.read_text(encoding="utf-8"))
    return tuple(data["answers"])


def kinds_in_order() -> List[str]:
    return list(dict.fromkeys(item["kind"] for item in items()))


@lru_cache(maxsize=1)
def _lexicon() -> Any:
    from trd.answers.medicines import default_lexicon

    return default_lexicon()


@lru_cache(maxsize=1)
def _names() -> Any:
    from trd.answers.medicines import taken_now_lexicon

    return taken_now_lexicon(_lexicon())


def _name(name: Any) -> str:
    """A medicine's name for comparing: the generic when the lexicon of "what do you take now"
    (drugs.yml and other_medicines.yml) knows the name ("cbd" and "cannabidiol" are one)."""
    from trd.navigator.lexicon import normalise_name

    text = str(name or "")
    entry = _names().lookup(text)
    key = entry.generic if entry is not None else normalise_name(text).replace("'", "")
    key = re.sub(r"[^\w]+", " ", key).strip()
    for group in SAME_MEDICINE:
        if key in group:
            return group[0]
    return key


# --- the value a careful human records, in the reader's shape ----------------------------------------


def expected_value(item: Mapping[str, Any]) -> Any:
    """The expected value in the reader's canonical shape (None for unclear / skip)."""
    kind, expect = item["kind"], item["expect"]
    if expect in ("unclear", "skip"):
        return None
    if kind == "age":
        if "age_years" in expect:
            return {"years": expect["age_years"]}
        low, high = expect["age_range"]
        return {"min": low, "max": high}
    if kind == "drinks_per_week":
        return float(expect["drinks"])
    if kind == "recreational_drugs":
        return {"cannabis": expect["cannabis"], "other": expect["other_drugs"]}
    if kind == "psychosis_kind":
        return {
            "perceptions": expect in ("perceptions", "both"),
            "fixed_beliefs": expect in ("fixed_beliefs", "both"),
        }
    if kind == "added_to":
        return expect["added_to"]
    if kind == "current_medicines":
        return [(_name(m["drug"]), m["dose_mg"]) for m in expect]
    return expect  # perinatal, trial_purpose, relapse_while_taking, trial_order, thoughts_now


# --- what the form records from the reader's value ------------------------------------------------------


def recorded(item: Mapping[str, Any], value: Any) -> Any:
    """What the form records from a known reader value, in the expected value's shape."""
    kind = item["kind"]
    if kind == "added_to":
        from actions.forms.medications import _added_to

        return _added_to(value, str(item.get("drug") or ""))
    if kind == "trial_order":
        return _form_order(value, list(item["named"]))
    if kind == "current_medicines":
        return [(_name(m["drug"]), m.get("dose_mg")) for m in value.get("medicines") or []]
    return value


def _form_order(value: Any, named: Sequence[str]) -> Optional[List[str]]:
    """The order the medicines form records for trials named in this order (None: unknown)."""
    from actions.forms.medications import SLOT_TRIALS, ValidateMedicationsForm

    trials = [{"drug": generic, "name_given": generic} for generic in named]
    form = ValidateMedicationsForm(repository_factory=lambda: None, lexicon=_lexicon())
    ranked = form._ordered(value, {SLOT_TRIALS: trials})[SLOT_TRIALS]
    if any(trial.get("order") is None for trial in ranked):
        return None
    return [trial["drug"] for trial in sorted(ranked, key=lambda t: t["order"])]


def _same(item: Mapping[str, Any], got: Any, want: Any) -> bool:
    kind = item["kind"]
    extra = EQUIVALENT.get(item["text"], (None, ""))[0] or {}
    if kind == "drinks_per_week":
        if "drinks_range" in extra:
            low, high = extra["drinks_range"]
            return low - DRINKS_TOLERANCE <= got <= high + DRINKS_TOLERANCE
        return abs(got - want) <= max(DRINKS_TOLERANCE, abs(want) * DOSE_TOLERANCE)
    if kind == "current_medicines":
        return _same_medicines(got, want, extra.get("dose_either") or {})
    return bool(got == want)


def _same_dose(got: Any, want: Any, either: Sequence[float] = ()) -> bool:
    if want is None or got is None:
        return got is None and want is None
    choices = list(either) or [want]
    return any(abs(float(got) - c) <= abs(c) * DOSE_TOLERANCE for c in choices)


def _same_medicines(got: Sequence[Tuple[str, Any]], want: Sequence[Tuple[str, Any]], either: Mapping) -> bool:
    """The same medicines (as a set of names) with the same dose each (within 1%)."""
    if sorted(name for name, _ in got) != sorted(name for name, _ in want):
        return False
    wanted = dict(want)
    return all(_same_dose(dose, wanted[name], either.get(name, ())) for name, dose in got)


# --- one item -----------------------------------------------------------------------------------------


def read_item(item: Mapping[str, Any]) -> Any:
    """The reader's value for one item, with the context the form gives."""
    from trd.answers import read

    text = str(item["text"])
    return read(item["kind"], text, message={"text": text, "entities": []}, lexicon=_lexicon()).value


def check(item: Mapping[str, Any]) -> Tuple[str, str]:
    """(outcome, what was read) for one item."""
    from trd.answers import INVALID, UNKNOWN

    value = read_item(item)
    expect = item["expect"]
    if value is UNKNOWN or value is INVALID:
        if expect == "skip":
            return ("correct" if value is UNKNOWN else "reasked_skip"), repr(value)
        return ("correct" if expect == "unclear" else "unknown_when_known"), repr(value)
    got = recorded(item, value)
    if got is None and item["kind"] == "trial_order":
        # the form records the order as unknown (taken together, or nobody named)
        return ("correct" if expect in ("unclear", "skip") else "unknown_when_known"), f"{value!r} -> unknown"
    if expect in ("unclear", "skip"):
        accepted = (EQUIVALENT.get(item["text"], (None, ""))[0] or {}).get("accept", INVALID)
        return ("correct" if got == accepted else "value_when_unclear"), repr(got)
    return ("correct" if _same(item, got, expected_value(item)) else "wrong"), repr(got)


@lru_cache(maxsize=1)
def results() -> Tuple[Tuple[Mapping[str, Any], str, str], ...]:
    return tuple((item, *check(item)) for item in items())


def figures() -> Dict[str, Counter]:
    """Per kind: n and the count of each outcome."""
    out: Dict[str, Counter] = defaultdict(Counter)
    for item, outcome, _ in results():
        out[item["kind"]]["n"] += 1
        out[item["kind"]][outcome] += 1
    return out


def table(show_misses: bool = True) -> List[str]:
    per_kind = figures()
    lines = [
        f"  {'kind':22} {'n':>4} {'right':>6} {'wrong':>6} {'unk/known':>9} {'val/unclear':>11}"
        f" {'reask skip':>10}"
    ]
    total: Counter = Counter()
    for kind in kinds_in_order():
        c = per_kind[kind]
        total.update(c)
        lines.append(
            f"  {kind:22} {c['n']:4} {c['correct']:6} {c['wrong']:6} {c['unknown_when_known']:9}"
            f" {c['value_when_unclear']:11} {c['reasked_skip']:10}"
        )
    lines.append(
        f"  {'ALL':22} {total['n']:4} {total['correct']:6} {total['wrong']:6} {total['unknown_when_known']:9}"
        f" {total['value_when_unclear']:11} {total['reasked_skip']:10}"
    )
    if show_misses:
        for item, outcome, got in results():
            if outcome != "correct":
                lines.append(f"      {outcome}: [{item['kind']}] {item['text']!r} -> {got}")
    return lines


# ------------------------------------------------------------------ the terminal report

_COLLECTED_KEY = pytest.StashKey[bool]()
_WORKER_KEY = "trd_answers_blind"


def note_collected(config: pytest.Config, collected: List[pytest.Item]) -> None:
    if any(Path(str(item.fspath)).resolve() == _TEST_FILE for item in collected):
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
    terminalreporter.section("answer readers v2: blind set per kind (tests/unit/blind/answers_v2.yml)")
    try:
        for line in table():
            terminalreporter.write_line(line)
    except Exception as exc:  # the report must never hide the test results
        terminalreporter.write_line(f"  blind-set figures unavailable: {exc}")
