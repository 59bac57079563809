"""Doses as people type them, read into milligrams per day.

Pure Python (no Rasa). :func:`parse_dose` -> milligrams per day, or None:
"150mg", "150 milligrams", "a hundred and fifty", "1.5 g", "25 mcg",
"20 mg twice a day" (40), "half a 50mg pill" (25), "two 150mg tablets" (300),
"150mg in the morning and 75mg at night" (225), "10mg every other day" (5).
The rules (never a guess; upper bounds rejected) are in :mod:`trd.answers.parsing`.
"""

from __future__ import annotations

import re
from typing import List, Optional, Sequence, Set, Tuple

from trd.answers.numbers import (
    MONTHS,
    RANGE_WORDS,
    UPPER_BOUND,
    Token,
    normalise,
    num_at,
    numberise,
    render,
    token_at,
    tokens,
    unrender,
)

MAX_DOSE_MG_PER_DAY = 20000.0

_MG_UNITS = {"mg", "mgs", "milligram", "milligrams", "milligramme", "milligrammes", "mili", "milli", "mgrams"}
_G_UNITS = {"g", "gm", "gms", "gram", "grams", "gramme", "grammes", "gr"}
_MCG_UNITS = {"mcg", "mcgs", "ug", "microgram", "micrograms", "microgramme", "microgrammes"}
_OTHER_UNITS = {
    "ml", "mls", "millilitre", "millilitres", "milliliter", "milliliters", "cc", "l", "litre", "liter",
    "unit", "units", "iu", "drop", "drops", "puff", "puffs", "spray", "sprays", "mmol", "meq",
    "percent", "patch", "patches", "day", "days", "week", "weeks", "wk", "wks", "month", "months",
    "year", "years", "yr", "yrs", "hour", "hours", "hr", "hrs", "minute", "minutes", "min", "mins",
    "session", "sessions", "times", "time", "am", "pm", "oclock", "lbs", "lb", "kg", "kilos", "pounds",
}
_PILL_WORDS = {"pill", "pills", "tablet", "tablets", "tab", "tabs", "capsule", "capsules", "cap", "caps"}
_SUM_WORDS = {"and", "+", "plus", ",", "with", "&"}
# (pattern over the rendered text, doses per day); a negative factor means the count is in the match:
# -1 per day, -7 per week.
_FREQUENCIES: Tuple[Tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(p), f)
    for p, f in (
        (r"\bevery (?:other|second) day\b|\balternate days\b|\beod\b|\bqod\b", 0.5),
        (r"#(\d+(?:\.\d+)?) (?:times|x) (?:(?:a|per|each|every) |/ ?)week\b", -7.0),
        (r"\btwice (?:(?:a|per|each|every) |/ ?)week\b", 2 / 7),
        (r"(?<![a-z])(?:once )?(?:(?:a|per|each|every) |/ ?)week\b|\bweekly\b|\bonce a week\b", 1 / 7),
        (
            r"#(\d+(?:\.\d+)?) (?:times|x) (?:(?:a|per|each|every) |/ ?)?day\b|"
            r"#(\d+(?:\.\d+)?) (?:times|x) daily\b",
            -1.0,
        ),
        (r"\btwice (?:(?:a|per|each|every) |/ ?)?day\b|\btwice daily\b|\btwice\b|\bbid\b|\bbd\b", 2.0),
        (r"\b(?:in the )?morning and (?:at )?(?:night|evening|bedtime)\b|\bam and pm\b|\bam / pm\b", 2.0),
        (r"\bthree times\b|\bthrice\b|\btid\b|\btds\b", 3.0),
        (r"\bfour times\b|\bqid\b|\bqds\b", 4.0),
        (
            r"(?<![a-z])(?:once )?(?:(?:a|per|each|every) |/ ?)day\b|"
            r"\bonce daily\b|\bdaily\b|\bqd\b|\bod\b|\bnightly\b|"
            r"\bonce\b|\bevery (?:morning|night|evening)\b|\bat (?:night|bedtime)\b|"
            r"\bin the (?:morning|evening|am|pm)\b|\bevery (?:am|pm)\b|\bbefore bed\b",
            1.0,
        ),
    )
)


_DECIMAL_BELOW_ONE = re.compile(r"(?<![\d/])0?\.\d+\b")


def _frequency(rendered: str) -> Tuple[Optional[float], str]:
    """(daily factor or None if contradictory, text with the frequency phrases removed)."""
    factors: List[float] = []
    text = f" {rendered} "
    for pattern, factor in _FREQUENCIES:
        while True:
            m = pattern.search(text)
            if m is None:
                break
            if factor < 0:  # "#3 times a day" / "#2 x per week": the count is in the match
                count = next(float(g) for g in m.groups() if g)
                factors.append(count / -factor if factor == -7.0 else count)
            else:
                factors.append(factor)
            text = text[: m.start()] + " ; " + text[m.end():]
    distinct = {f for f in factors if f != 1.0}
    if len(distinct) > 1:
        return None, text
    return (distinct.pop() if distinct else 1.0), text


def _unit_factor(tok: Optional[Token]) -> Optional[float]:
    if not isinstance(tok, str):
        return None
    if tok in _MG_UNITS:
        return 1.0
    if tok in _G_UNITS:
        return 1000.0
    if tok in _MCG_UNITS:
        return 0.001
    return None


def parse_dose(text: str) -> Optional[float]:
    """Milligrams per day from a typed dose, or None when it cannot be read without guessing."""
    try:
        return _parse_dose(text)
    except (ValueError, ArithmeticError, IndexError):
        return None


def _parse_dose(text: str) -> Optional[float]:
    if not isinstance(text, str) or not text.strip() or len(text) > 500:
        return None
    low = normalise(text)
    if UPPER_BOUND.search(low) or re.match(r"\s*-\s*\.?\d", low):  # "-5 mg" is no dose
        return None
    items = numberise(tokens(text))
    if not any(isinstance(x, float) for x in items):
        return None
    factor, rest = _frequency(render(items))
    if factor is None:
        return None
    items = unrender(rest)
    if any(isinstance(x, str) and x in _OTHER_UNITS for x in items):
        return None
    has_unit = any(_unit_factor(x) is not None for x in items)
    if not has_unit:
        # A unitless amount is in mg, unless it only counts pills ("2 pills"), is a bare fraction
        # ("half"), or sits among date words ("since June 2025").
        if any(isinstance(x, str) and (x in MONTHS or x in ("since", "ago", "and")) for x in items):
            return None
        numbers = [x for x in items if isinstance(x, float)]
        if len(numbers) == 1 and numbers[0] < 1 and not _DECIMAL_BELOW_ONE.search(low):
            return None  # "half", "1/2": a part of a pill; ".5", "0.25" written in digits are mg
        with_unit = _add_virtual_unit(items)
        if with_unit is None:
            return None
        items = with_unit
    terms = _dose_terms(items)
    if terms is None or not terms:
        return None
    total = _combine(items, terms)
    if total is None:
        return None
    mg = total * factor
    if not (0 < mg <= MAX_DOSE_MG_PER_DAY):
        return None
    return round(mg, 4)


def _add_virtual_unit(items: List[Token]) -> Optional[List[Token]]:
    out: List[Token] = []
    for k, x in enumerate(items):
        out.append(x)
        if not isinstance(x, float):
            continue
        nxt = items[k + 1] if k + 1 < len(items) else None
        nxt2 = items[k + 2] if k + 2 < len(items) else None
        if isinstance(nxt, str) and nxt in _PILL_WORDS:
            continue  # a count of pills
        if nxt in ("x", "×", "*") or (nxt in ("a", "an", "of") and isinstance(nxt2, (float, str))):
            # "half a 50", "2 x 150": a multiplier, unless nothing numeric follows
            if any(isinstance(y, float) for y in items[k + 1 :]):
                continue
        out.append("mg")
    if not any(x == "mg" for x in out):
        return None
    return out


# A term: (mg amount, index of its first token, index after its last token)
Term = Tuple[float, int, int]



_TIMES = ("x", "×", "*")


def _dose_terms(items: List[Token]) -> Optional[List[Term]]:
    """Every 'amount unit' in the text, with the multipliers and ranges around it, in mg."""
    terms: List[Term] = []
    used: Set[int] = set()
    k = 0
    while k < len(items):
        x = num_at(items, k)
        unit = _unit_factor(token_at(items, k + 1))
        if x is None or unit is None:
            k += 1
            continue
        amount = x * unit
        start, end = k, k + 2
        before = num_at(items, k - 2) if (k - 2) not in used else None
        joiner = token_at(items, k - 1)
        between_and = token_at(items, k - 3) == "between" and joiner == "and"
        if before is not None and (joiner in RANGE_WORDS or between_and):
            # a range with the unit written once: "100-150 mg", "between 100 and 150mg"
            amount, start = min(before, x) * unit, k - 2
            if token_at(items, k - 3) == "between":
                start = k - 3
        elif before is not None and joiner in ("+", "plus"):
            amount, start = (before + x) * unit, k - 2  # "100 + 50 mg"
        else:
            # a multiplier before: "2 x 150mg", "half a 50mg", "two 150mg", "1.5 tablets of 100mg"
            j = k - 1
            while j >= 0 and (items[j] in ("a", "an", "of") + _TIMES or items[j] in _PILL_WORDS):
                j -= 1
            count = num_at(items, j) if j not in used else None
            if count is not None:
                gap = items[j + 1 : k]
                if gap or count < 20:
                    amount *= count
                    start = j
        after = num_at(items, end + 1)
        if token_at(items, end) in _TIMES and after is not None:  # "150mg x 2"
            amount *= after
            end += 2
        terms.append((amount, start, end))
        used.update(range(start, end))
        k = end
    # A number left over that is not part of a term makes the answer ambiguous.
    if any(isinstance(x, float) and idx not in used for idx, x in enumerate(items)):
        return None
    return terms or None


def _combine(items: Sequence[Token], terms: List[Term]) -> Optional[float]:
    """One amount; several joined by and/+/plus are added; joined by to/-/or, the lowest wins."""
    if len(terms) == 1:
        return terms[0][0]
    relations = {_dose_relation(items, a, b) for a, b in zip(terms, terms[1:], strict=False)}
    if relations == {"sum"}:
        return sum(t[0] for t in terms)
    if relations == {"range"}:
        return min(t[0] for t in terms)
    return None


_SEQUENCE_WORDS = {
    "then", "up", "increased", "went", "down", "decreased", "lowered", "raised", "later", "after",
}


def _dose_relation(items: Sequence[Token], a: Term, b: Term) -> Optional[str]:
    between = {x for x in items[a[2] : b[1]] if isinstance(x, str)}
    if between & _SEQUENCE_WORDS:
        return None
    if between & RANGE_WORDS and not between & _SUM_WORDS:
        return "range"
    if between & _SUM_WORDS and not between & RANGE_WORDS:
        return "sum"
    return None

