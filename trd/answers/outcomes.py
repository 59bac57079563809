"""What happened with a treatment: the one outcome pattern set, read for every question.

The schema's outcome words (:data:`OUTCOMES`), the medicines question's button words
(:data:`OUTCOME_BUTTONS`) and one ordered table of descriptions (:data:`OUTCOME_PATTERNS`);
the first match wins. Each entry is *precise* (a whole phrase that says the outcome,
safe to find inside a correction that also names a dose: "no, it was 100 mg and it
didn't help") or a *cue* (one word such as "helped" or "nothing" that only means an
outcome when it is the whole answer to "what happened?").

Three readings of the same table, each keeping what its caller has always done:

* :func:`read_outcome` (a medicine's ``med_outcome``): buttons, then every entry in order,
  then "not sure" words;
* :func:`parse_outcome` (a treatment's ``ot_outcome``, kind ``outcome``): the cues only;
* :func:`outcome_in_correction` (the medicines read-back): the precise entries only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from trd.answers.intake import is_unknown, strip_filler
from trd.answers.values import INVALID, UNKNOWN

OUTCOMES: Tuple[str, ...] = (
    "no_response",
    "partial_response",
    "response_then_relapse",
    "remission",
    "stopped_side_effects",
    "too_early",
)

# The medicines question's buttons (domain.yml utter_ask_med_outcome), normalised.
OUTCOME_BUTTONS: Dict[str, str] = {
    "no change": "no_response",
    "some improvement": "partial_response",
    "improved then it came back": "response_then_relapse",
    "improved then came back": "response_then_relapse",
    "got well": "remission",
    "stopped for side effects": "stopped_side_effects",
    "too early to tell": "too_early",
}


@dataclass(frozen=True)
class OutcomePattern:
    pattern: re.Pattern[str]
    outcome: str
    precise: bool


def _table(*rows: Tuple[str, str, bool]) -> Tuple[OutcomePattern, ...]:
    return tuple(OutcomePattern(re.compile(p), outcome, precise) for p, outcome, precise in rows)


# Checked in order: the first match wins (relapse before "helped", negations before help).
OUTCOME_PATTERNS: Tuple[OutcomePattern, ...] = _table(
    # --- precise phrases
    (
        r"\b(stopped|quit|came off|gave up)\b.*\b(side ?effects?|couldnt (tolerate|stand))\b"
        r"|\bcouldnt (tolerate|stand|handle) (it|the side ?effects?)\b|\bintolerable\b",
        "stopped_side_effects",
        True,
    ),
    (
        r"\b(improved|improvement|helped|worked|better)\b.*"
        r"\b(came back|wore off|stopped working|didnt last|faded|went back|relapsed?)\b|\bpooped out\b",
        "response_then_relapse",
        True,
    ),
    (
        r"\bno (change|improvement|difference|effect)\b|\bnot improved\b"
        r"|\bdidnt (improve|help|work|change)\b"
        r"|\b(did|made) (nothing|no difference)\b|\bnothing changed\b|\bnothing at all\b"
        r"|\bdidnt do (anything|much|a thing)\b",
        "no_response",
        True,
    ),
    (r"\btoo (early|soon)( to tell)?\b|\bcant tell yet\b|\bjust started\b", "too_early", True),
    (
        r"\bgot well\b|\bremission\b|\bfully (recovered|better|well)\b|\bback to (normal|myself)\b"
        r"|\bcompletely (better|well)\b|\brecovered\b",
        "remission",
        True,
    ),
    (
        r"\b(some|slight|small|little|partial|bit of) improvement\b"
        r"|\bimproved (a bit|a little|somewhat|slightly)\b"
        r"|\bimproved\b|\bimprovement\b",
        "partial_response",
        True,
    ),
    # --- cues: a whole answer only
    (
        r"\bside ?effects?\b|\bcouldnt (tolerate|stand|handle)\b|\bintolerable\b|\bmade me (sick|ill)\b",
        "stopped_side_effects",
        False,
    ),
    (
        r"\btoo (early|soon)\b|\bstill (going|early|on it|doing it|in it)\b|\bjust started\b"
        r"|\bcant tell yet\b",
        "too_early",
        False,
    ),
    (
        r"\bwore off\b|\bstopped working\b|\bcame back\b|\brelapsed?\b|\bthen (it )?(didnt|stopped)\b"
        r"|\bat first\b|\bfor a while\b|\bdidnt last\b|\bfaded\b",
        "response_then_relapse",
        False,
    ),
    (
        r"\b(didnt|did not|doesnt|does not|never) (help|work)\b|\bno (change|effect|difference|help)\b"
        r"|\bnothing\b|\bnot at all\b|\buseless\b|\bdid nothing\b|\bno response\b|\bno\b$|\bnope\b",
        "no_response",
        False,
    ),
    (
        r"\bgot well\b|\bremission\b|\bcompletely\b|\bfully\b|\bback to (normal|myself)\b|\bresolved\b"
        r"|\bworked great\b|\bcured\b|\bdepression (went|lifted)\b",
        "remission",
        False,
    ),
    (
        r"\bsomewhat\b|\ba (little|bit)\b|\bpartly\b|\bpartially\b|\bsome\b|\bslightly\b"
        r"|\bkind of\b|\bsort of\b|\bhelped\b|\bbetter\b|\bit worked\b|\bpartial\b",
        "partial_response",
        False,
    ),
)


def _first(t: str, precise: Optional[bool]) -> Optional[str]:
    for entry in OUTCOME_PATTERNS:
        if (precise is None or entry.precise == precise) and entry.pattern.search(t):
            return entry.outcome
    return None


def parse_outcome(text: str) -> Any:
    """The schema's outcome words from the buttons or a short description (kind ``outcome``)."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if t in OUTCOMES:
        return t
    found = _first(t, precise=False)
    return found if found is not None else INVALID


def outcome_in_correction(normalised: str) -> Optional[str]:
    """The outcome a correction's (normalised) words say, from the precise phrases only."""
    return _first(normalised, precise=True)


def read_outcome(text: str) -> Any:
    """A medicine's outcome: buttons, outcome names, every description, else unknown or INVALID."""
    from trd.answers.trials import unknownish

    t = strip_filler(text)
    if t in OUTCOME_BUTTONS:
        return OUTCOME_BUTTONS[t]
    if t.replace(" ", "_") in OUTCOMES:
        return t.replace(" ", "_")
    found = _first(t, precise=True)
    if found is not None:
        return found
    parsed = parse_outcome(text)
    if parsed is INVALID and unknownish(text):
        return UNKNOWN
    return parsed


__all__ = [
    "OUTCOMES",
    "OUTCOME_BUTTONS",
    "OUTCOME_PATTERNS",
    "OutcomePattern",
    "outcome_in_correction",
    "parse_outcome",
    "read_outcome",
]
