"""Durations as people type them: weeks at a dose, and months of an episode.

Pure Python (no Rasa), on the one number grammar (:mod:`trd.answers.numbers`).

* :func:`parse_duration` -> weeks (float), or None: "6 weeks", "two months",
  "a year and a half", "1 year 3 months", "since March" (with ``today``). Upper bounds
  ("almost 6 weeks") are rejected (:attr:`UpperBound.REJECT`).
* :func:`parse_months` -> whole months (int), or None: the episode length, a whole answer
  of one shape ("8 months", "2 years and 3 months", "a year and a half", "18"); a few
  upper bounds ("almost 2 years") are read as estimates (:attr:`UpperBound.AS_ESTIMATE`).
The rules are in :mod:`trd.answers.parsing`.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Dict, List, Optional, Sequence, Set, Tuple

from trd.answers.doses import _unit_factor
from trd.answers.numbers import (
    MONTHS,
    RANGE_WORDS,
    UPPER_BOUND,
    VAGUE,
    Token,
    normalise,
    num_at,
    numberise,
    render,
    token_at,
    tokens,
    unrender,
    whole_at,
)

MAX_WEEKS = 100 * 52.18

DAYS_PER_MONTH = 365.25 / 12
WEEKS_PER_UNIT: Dict[str, float] = {
    "day": 1 / 7,
    "week": 1.0,
    "fortnight": 2.0,
    "month": DAYS_PER_MONTH / 7,
    "year": 365.25 / 7,
}

_DURATION_UNITS: Dict[str, str] = {}
for _u, _forms in {
    "day": ("day", "days", "d", "dys"),
    "week": ("week", "weeks", "wk", "wks", "w", "wek", "weks", "weels"),
    "fortnight": ("fortnight", "fortnights"),
    "month": ("month", "months", "mo", "mos", "mth", "mths", "mnth", "mnths", "monhts", "moths"),
    "year": ("year", "years", "yr", "yrs", "y", "yeras", "yeaes"),
}.items():
    for _f in _forms:
        _DURATION_UNITS[_f] = _u


def parse_duration(
    text: str, today: Optional[date] = None, default_unit: Optional[str] = None
) -> Optional[float]:
    """Weeks from a typed duration or start date, or None when it cannot be read without guessing.

    ``today`` anchors "since March" (default: the current date). ``default_unit``
    ("days", "weeks", "months", "years") is the unit the question asked in, used
    for a bare number ("6").
    """
    try:
        return _parse_duration(text, today, default_unit)
    except (ValueError, ArithmeticError, IndexError, OverflowError):
        return None


def _parse_duration(text: str, today: Optional[date], default_unit: Optional[str]) -> Optional[float]:
    if not isinstance(text, str) or not text.strip() or len(text) > 500:
        return None
    low = normalise(text)
    if UPPER_BOUND.search(low):
        return None
    items = numberise(tokens(text))
    # how often is not how long: "once a week for 6 weeks", "twice a day"
    items = unrender(_FREQUENCY_IN_DURATION.sub(" ", render(items)))
    weeks = _duration_terms(items)
    if weeks is None and any(w in ("since", "started", "start", "from", "began", "begun") for w in items):
        weeks = _weeks_since(items, today or date.today())
    if weeks is None and default_unit:
        unit = _DURATION_UNITS.get(default_unit.lower().strip())
        nums = [x for x in items if isinstance(x, float)]
        words = [x for x in items if isinstance(x, str) and x not in _DURATION_FILLER]
        if unit and len(nums) == 1 and not words:
            weeks = nums[0] * WEEKS_PER_UNIT[unit]
        elif unit and len(nums) == 2 and set(words) <= RANGE_WORDS and words:
            weeks = min(nums) * WEEKS_PER_UNIT[unit]
    if weeks is None or weeks < 0 or weeks > MAX_WEEKS:
        return None
    return round(weeks, 2)


_FREQUENCY_IN_DURATION = re.compile(
    r"(?:\b(?:once|twice|thrice)|#\S+ (?:times|x))? ?\b(?:per|each|every) (?:day|week|month)\b|"
    r"\b(?:once|twice|thrice|#\S+ times|#\S+ x) (?:a|per|each|every) (?:day|week|month)\b|"
    r"\b(?:daily|weekly|nightly|monthly)\b"
)

_DURATION_FILLER = {
    "about", "around", "roughly", "approximately", "approx", "maybe", "probably", "like", "~", "i", "think",
    "was", "it", "for", "so", "ish", "guess", "or", "just", "over", "more", "than", "at", "least", "now",
    "already", "total", "in", "on", "the", "and", ",", "a", "an", "ago", "took", "taking", "been", "ive",
    "have", "had", "that", "only", "good", "solid", "full", "whole", "straight", "of",
    "lasted", "stayed", "this", "dose", "still", "almost", "went", "stuck", "with", "yes", "yeah", "well",
}


def _unit_at(items: Sequence[Token], i: int, words_only: bool = False) -> Optional[str]:
    """The duration unit at items[i] ("weeks" -> "week"), or None."""
    tok = token_at(items, i)
    if not isinstance(tok, str):
        return None
    if words_only and len(tok) <= 2 and tok not in ("mo", "yr", "wk"):
        return None  # "a d" is not a day
    return _DURATION_UNITS.get(tok)


def _duration_terms(items: List[Token]) -> Optional[float]:
    """Sum of 'NUM unit' terms ("1 year 3 months"); ranges take the lower bound; None if ambiguous."""
    terms: List[Tuple[float, str]] = []
    consumed: Set[int] = set()
    k = 0
    while k < len(items):
        x = num_at(items, k)
        unit = _unit_at(items, k + 1)
        if x is not None and unit is not None:
            amount, start = x, k
            before = num_at(items, k - 2)
            joiner = token_at(items, k - 1)
            between_and = joiner == "and" and token_at(items, k - 3) == "between"
            if before is not None and (joiner in RANGE_WORDS or between_and):
                amount, start = min(before, x), k - 2
                if token_at(items, k - 3) == "between":
                    start = k - 3
        elif items[k] in ("a", "an") and _unit_at(items, k + 1, words_only=True) is not None:
            unit = _unit_at(items, k + 1, words_only=True)
            amount, start = 1.0, k  # "a month"
            if num_at(items, k - 1) == 0.5:  # "half a year"
                amount, start = 0.5, k - 1
        else:
            k += 1
            continue
        assert unit is not None
        end = k + 2
        if token_at(items, end) == "and" and num_at(items, end + 1) == 0.5:  # "a year and a half"
            amount, end = amount + 0.5, end + 2
        terms.append((amount, unit))
        consumed.update(range(start, end))
        k = end
    if not terms:
        return None
    for idx, tok in enumerate(items):
        if isinstance(tok, float) and idx not in consumed and _unit_factor(token_at(items, idx + 1)) is None:
            return None  # a number that is not part of a duration ("2 or 3"); "at 150mg" is a dose
    units = [u for _, u in terms]
    if len(set(units)) != len(units):
        return None  # "6 weeks ... 8 weeks": which one?
    if VAGUE.search(" ".join(x for x in items if isinstance(x, str))):
        return None
    return sum(a * WEEKS_PER_UNIT[u] for a, u in terms)


def _weeks_since(items: List[Token], today: date) -> Optional[float]:
    """Weeks from a start date ("since March", "since 3 March 2024", "since last year") to today."""
    words = [x for x in items]
    start: Optional[date] = None
    for k, x in enumerate(words):
        if x not in ("since", "started", "start", "from", "began", "begun"):
            continue
        rest = list(words[k + 1 : k + 10])
        # skip a few words before the date: "started it in August", "started taking it around May"
        skip = 0
        while rest and skip < 4 and not (
            isinstance(rest[0], float) or rest[0] in MONTHS or rest[0] in ("last", "this")
        ):
            rest.pop(0)
            skip += 1
        start = _read_date(rest, today)
        if start is not None:
            break
    if start is None or start > today:
        return None
    if start == today and not _has_day(words):
        return None
    return (today - start).days / 7


def _has_day(words: Sequence[Token]) -> bool:
    return any(isinstance(w, float) and 1 <= w <= 31 for w in words)


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])



_ORDINAL_SUFFIXES = ("st", "nd", "rd", "th")


def _read_date(rest: Sequence[Token], today: date) -> Optional[date]:
    """A start date: "March", "last March", "3 March 2024", "the 3rd of March", "2022", "2024-03-15"."""
    toks = [t for t in rest if t not in ("in", "on", "around", "about", "the", "of", "early", ",", "mid")]
    if not toks:
        return None
    last = False
    if toks[0] == "last" and len(toks) > 1:
        if toks[1] == "year":
            return date(today.year - 1, 12, 31)
        last = True
        toks = toks[1:]
    if toks[:2] == ["this", "year"]:
        return None
    year = whole_at(toks, 0, 1900, 2100)
    if year is not None:
        month_num, day_num = whole_at(toks, 2, 1, 12), whole_at(toks, 4, 1, 31)
        if toks[1:2] == ["-"] and toks[3:4] == ["-"] and month_num is not None and day_num is not None:
            return date(year, month_num, day_num)  # ISO: 2024-03-15
        return date(year, 12, 31) if year < today.year else None  # "since 2022": the end of that year
    i = 0
    day = whole_at(toks, 0, 1, 31)
    if day is not None:
        i = 2 if token_at(toks, 1) in _ORDINAL_SUFFIXES else 1
    name = token_at(toks, i)
    if not isinstance(name, str) or name not in MONTHS:
        return None
    month = MONTHS[name]
    i += 1
    if day is None:
        day = whole_at(toks, i, 1, 31)
        if day is not None:
            i += 2 if token_at(toks, i + 1) in _ORDINAL_SUFFIXES else 1
    given_year = whole_at(toks, i, 1900, 2100)
    if given_year is None and toks[i : i + 2] == ["last", "year"]:
        given_year = today.year - 1
    if given_year is None:
        # the most recent such date that has begun
        passed = (month, day) <= (today.month, today.day) if day is not None else month <= today.month
        given_year = today.year if passed and not (last and month == today.month) else today.year - 1
    if day is not None:
        return date(given_year, month, day)
    if (given_year, month) == (today.year, today.month):
        return None  # "since March" said in March: somewhere in this month, not a usable lower bound
    return _last_day(given_year, month)
