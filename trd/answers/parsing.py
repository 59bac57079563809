"""Doses and durations as people type them, read into numbers the navigator can use.

Pure Python (no Rasa). Two entry points:

* :func:`parse_dose` -> milligrams per day, or None.
  "150mg", "150 milligrams", "a hundred and fifty", "1.5 g", "25 mcg",
  "20 mg twice a day" (40), "half a 50mg pill" (25), "two 150mg tablets" (300),
  "150mg in the morning and 75mg at night" (225), "10mg every other day" (5).
* :func:`parse_duration` -> weeks (float), or None.
  "6 weeks", "3 wks", "two months", "a year and a half", "10 days",
  "about 8 weeks", "1 year 3 months", "6 weeks ago", "since March" (with ``today``).

Rules, chosen so that a trial is never called adequate on a guess (the
navigator compares these numbers with a minimum dose and a minimum time):

* What cannot be read returns None; the form then asks again with an example.
  Vague amounts ("a few weeks", "several months", "a while") are None.
* Ranges use the lower bound: "6-8 weeks" -> 6, "100 to 150mg" -> 100,
  "100 or 150 mg" -> 100. "over 6 weeks" / "at least 6 weeks" -> 6.
* Upper bounds have no usable lower bound and return None: "less than 6
  weeks", "under 100mg", "up to 8 weeks", "almost 6 weeks", "nearly 3 months".
* Hedges are ignored: "about", "around", "roughly", "approximately", "maybe",
  "~", "or so", "-ish".
* A dose with no unit is in milligrams ("a hundred and fifty" -> 150), the
  unit the form asks in. Pills without a strength ("2 pills"), millilitres and
  other units return None. Several amounts joined by "and", "+" or "plus"
  are added (split doses); amounts in any other relation ("50 then 100")
  return None.
* A bare number is a duration only when the caller says in which unit it
  asked (``default_unit="weeks"``).
* Months are 365.25/12 days, years 365.25 days. A date with no day ("since
  March") counts from the last day of that month (the lower bound); a date in
  the future, or in the current month with no day, returns None.
* Numbers are read up to the thousands, in digits or words ("fifteen hundred",
  "one and a half", "a couple of", "a dozen"), with fractions ("half", "1/2",
  "½", "0.5").
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

Token = Union[str, float]

MAX_DOSE_MG_PER_DAY = 20000.0
MAX_WEEKS = 100 * 52.18

DAYS_PER_MONTH = 365.25 / 12
WEEKS_PER_UNIT: Dict[str, float] = {
    "day": 1 / 7,
    "week": 1.0,
    "fortnight": 2.0,
    "month": DAYS_PER_MONTH / 7,
    "year": 365.25 / 7,
}

# ------------------------------------------------------------------ numbers
_ONES: Dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS: Dict[str, int] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES: Dict[str, int] = {"hundred": 100, "thousand": 1000}
_FRACTION_WORDS: Dict[str, float] = {"half": 0.5, "quarter": 0.25}
_GROUP_WORDS: Dict[str, int] = {"dozen": 12, "couple": 2}
_UNICODE_FRACTIONS: Dict[str, str] = {"½": " 1/2", "¼": " 1/4", "¾": " 3/4", "⅓": " 1/3", "⅔": " 2/3"}

_TOKEN_RE = re.compile(r"\d+(?:\.\d+)?(?:/\d+)?|\.\d+|[a-z]+|[+×*/,;~()-]")


def _normalise(text: str) -> str:
    t = str(text).lower()
    for k, v in _UNICODE_FRACTIONS.items():
        t = t.replace(k, v)
    t = t.replace("µg", " mcg").replace("μg", " mcg")
    t = re.sub(r"[\u2010-\u2015\u2212]", "-", t)
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)  # 1,000 -> 1000
    t = re.sub(r"\b(b|t|q)\.?\s?i\.?\s?d\b\.?", r"\1id", t)  # b.i.d. -> bid
    t = re.sub(r"\bq\.?\s?d\b\.?", "qd", t)
    # Names with digits are not amounts: t3, t4, b12, d3, axs-05, comp360 lose their digits.
    t = re.sub(r"\b(?!x\d)([a-z]{1,4})-?\d+\b", r"\1", t)
    t = re.sub(r"(?<=[a-z]{5})(?=\d)", " ", t)  # zoloft50 -> zoloft 50
    t = re.sub(r"(?<=\d)(?=[a-z])", " ", t)  # 150mg -> 150 mg, 2x -> 2 x
    t = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", t)  # twenty-five, one-and-a-half
    return t


def _tokens(text: str) -> List[str]:
    return _TOKEN_RE.findall(_normalise(text))


def _number_token(tok: str) -> Optional[float]:
    try:
        if "/" in tok:
            num, den = tok.split("/", 1)
            d = float(den)
            return float(num) / d if d else None
        return float(tok)
    except ValueError:
        return None


def _read_number(toks: Sequence[str], i: int) -> Optional[Tuple[float, int]]:
    """A number written in digits or words starting at toks[i]: (value, index after it)."""
    n = len(toks)
    tok = toks[i]
    # "a"/"an" only stands for 1 before a scale or fraction word: "a hundred", "a half", "a couple of"
    if tok in ("a", "an") and i + 1 < n and (toks[i + 1] in _SCALES or toks[i + 1] in _GROUP_WORDS):
        tok = "one"
    value: Optional[float] = None
    j = i
    if re.fullmatch(r"\d+(?:\.\d+)?(?:/\d+)?|\.\d+", tok):
        value = _number_token(tok)
        j = i + 1
        # "1 thousand", "2 hundred"
        while j < n and toks[j] in _SCALES and value is not None:
            value *= _SCALES[toks[j]]
            j += 1
        # "1 1/2" -> 1.5
        if value is not None and j < n and re.fullmatch(r"\d+/\d+", toks[j]) and float(value).is_integer():
            frac = _number_token(toks[j])
            if frac is not None and frac < 1:
                value += frac
                j += 1
    elif tok in _FRACTION_WORDS:
        value, j = _FRACTION_WORDS[tok], i + 1
    elif tok in _GROUP_WORDS and tok != "couple":
        value, j = float(_GROUP_WORDS[tok]), i + 1
    elif tok == "couple":
        value, j = 2.0, i + 1
    elif tok == "one" or tok in _ONES or tok in _TENS or tok in _SCALES:
        total, current = 0, 0
        seen = False
        j = i
        while j < n:
            w = toks[j]
            if w in _ONES:
                current += _ONES[w]
            elif w in _TENS:
                current += _TENS[w]
            elif w in _SCALES:
                scale = _SCALES[w]
                if scale == 1000:
                    total += max(current, 1) * 1000
                    current = 0
                else:
                    current = max(current, 1) * 100
            elif w == "and" and seen and j + 1 < n and (toks[j + 1] in _ONES or toks[j + 1] in _TENS):
                j += 1
                continue
            else:
                break
            seen = True
            j += 1
        value = float(total + current)
    if value is None:
        return None
    # "one and a half", "2 and a half", "a dozen and a half"
    if j + 2 < len(toks) + 0 and toks[j : j + 3] == ["and", "a", "half"]:
        value += 0.5
        j += 3
    elif j + 1 < len(toks) + 0 and toks[j : j + 2] == ["and", "half"]:
        value += 0.5
        j += 2
    # "a couple of", "a dozen of"
    if j < n and toks[j] == "of" and toks[i] in ("couple", "a", "an") and value in (2.0, 12.0):
        j += 1
    return value, j


def _numberise(toks: Sequence[str]) -> List[Token]:
    """Replace each number (digits or words) by its float value; other tokens stay strings."""
    out: List[Token] = []
    i = 0
    while i < len(toks):
        # "half a 50" / "half of a" keep "half" as a number (multiplier) followed by the rest
        got = _read_number(toks, i)
        if got is not None and got[1] > i:
            value, j = got
            # "a" before a fraction word: "a half" -> 0.5
            if out and out[-1] in ("a", "an") and toks[i] in _FRACTION_WORDS:
                out.pop()
            out.append(value)
            i = j
        else:
            out.append(toks[i])
            i += 1
    return out


def _render(items: Sequence[Token]) -> str:
    return " ".join(f"#{x:g}" if isinstance(x, float) else x for x in items)


def _unrender(text: str) -> List[Token]:
    return [float(w[1:]) if w.startswith("#") else w for w in text.split()]


# --------------------------------------------------------------------- doses
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
_RANGE_WORDS = {"to", "-", "or"}
_UPPER_BOUND = re.compile(
    r"\b(?:less than|fewer than|under|below|up to|at most|no more than|almost|nearly|not quite|"
    r"just under|short of|shy of|not even)\b"
)
_VAGUE = re.compile(r"\b(?:few|several|some|couple of weeks or|a while|ages|long time|many|handful)\b")

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
            r"\bin the (?:morning|evening)\b|\bbefore bed\b",
            1.0,
        ),
    )
)


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
    low = _normalise(text)
    if _UPPER_BOUND.search(low) or re.match(r"\s*-\s*\.?\d", low):  # "-5 mg" is no dose
        return None
    items = _numberise(_tokens(text))
    if not any(isinstance(x, float) for x in items):
        return None
    factor, rest = _frequency(_render(items))
    if factor is None:
        return None
    items = _unrender(rest)
    if any(isinstance(x, str) and x in _OTHER_UNITS for x in items):
        return None
    has_unit = any(_unit_factor(x) is not None for x in items)
    if not has_unit:
        # A unitless amount is in mg, unless it only counts pills ("2 pills"), is a bare fraction
        # ("half"), or sits among date words ("since June 2025").
        if any(isinstance(x, str) and (x in _MONTHS or x in ("since", "ago", "and")) for x in items):
            return None
        numbers = [x for x in items if isinstance(x, float)]
        if len(numbers) == 1 and numbers[0] < 1:
            return None
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


def _num(items: Sequence[Token], i: int) -> Optional[float]:
    """items[i] if it is a number (and i is in range), else None."""
    if 0 <= i < len(items):
        x = items[i]
        if isinstance(x, float):
            return x
    return None


def _at(items: Sequence[Token], i: int) -> Optional[Token]:
    return items[i] if 0 <= i < len(items) else None


_TIMES = ("x", "×", "*")


def _dose_terms(items: List[Token]) -> Optional[List[Term]]:
    """Every 'amount unit' in the text, with the multipliers and ranges around it, in mg."""
    terms: List[Term] = []
    used: Set[int] = set()
    k = 0
    while k < len(items):
        x = _num(items, k)
        unit = _unit_factor(_at(items, k + 1))
        if x is None or unit is None:
            k += 1
            continue
        amount = x * unit
        start, end = k, k + 2
        before = _num(items, k - 2) if (k - 2) not in used else None
        joiner = _at(items, k - 1)
        between_and = _at(items, k - 3) == "between" and joiner == "and"
        if before is not None and (joiner in _RANGE_WORDS or between_and):
            # a range with the unit written once: "100-150 mg", "between 100 and 150mg"
            amount, start = min(before, x) * unit, k - 2
            if _at(items, k - 3) == "between":
                start = k - 3
        elif before is not None and joiner in ("+", "plus"):
            amount, start = (before + x) * unit, k - 2  # "100 + 50 mg"
        else:
            # a multiplier before: "2 x 150mg", "half a 50mg", "two 150mg", "1.5 tablets of 100mg"
            j = k - 1
            while j >= 0 and (items[j] in ("a", "an", "of") + _TIMES or items[j] in _PILL_WORDS):
                j -= 1
            count = _num(items, j) if j not in used else None
            if count is not None:
                gap = items[j + 1 : k]
                if gap or count < 20:
                    amount *= count
                    start = j
        after = _num(items, end + 1)
        if _at(items, end) in _TIMES and after is not None:  # "150mg x 2"
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
    if between & _RANGE_WORDS and not between & _SUM_WORDS:
        return "range"
    if between & _SUM_WORDS and not between & _RANGE_WORDS:
        return "sum"
    return None


# -------------------------------------------------------------- durations
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

_MONTHS: Dict[str, int] = {}
for _i, _name in enumerate(calendar.month_name):
    if _name:
        _MONTHS[_name.lower()] = _i
        _MONTHS[_name.lower()[:3]] = _i
_MONTHS["sept"] = 9


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
    low = _normalise(text)
    if _UPPER_BOUND.search(low):
        return None
    items = _numberise(_tokens(text))
    # how often is not how long: "once a week for 6 weeks", "twice a day"
    items = _unrender(_FREQUENCY_IN_DURATION.sub(" ", _render(items)))
    weeks = _duration_terms(items)
    if weeks is None and any(w in ("since", "started", "start", "from", "began", "begun") for w in items):
        weeks = _weeks_since(items, today or date.today())
    if weeks is None and default_unit:
        unit = _DURATION_UNITS.get(default_unit.lower().strip())
        nums = [x for x in items if isinstance(x, float)]
        words = [x for x in items if isinstance(x, str) and x not in _DURATION_FILLER]
        if unit and len(nums) == 1 and not words:
            weeks = nums[0] * WEEKS_PER_UNIT[unit]
        elif unit and len(nums) == 2 and set(words) <= _RANGE_WORDS and words:
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
    tok = _at(items, i)
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
        x = _num(items, k)
        unit = _unit_at(items, k + 1)
        if x is not None and unit is not None:
            amount, start = x, k
            before = _num(items, k - 2)
            joiner = _at(items, k - 1)
            between_and = joiner == "and" and _at(items, k - 3) == "between"
            if before is not None and (joiner in _RANGE_WORDS or between_and):
                amount, start = min(before, x), k - 2
                if _at(items, k - 3) == "between":
                    start = k - 3
        elif items[k] in ("a", "an") and _unit_at(items, k + 1, words_only=True) is not None:
            unit = _unit_at(items, k + 1, words_only=True)
            amount, start = 1.0, k  # "a month"
            if _num(items, k - 1) == 0.5:  # "half a year"
                amount, start = 0.5, k - 1
        else:
            k += 1
            continue
        assert unit is not None
        end = k + 2
        if _at(items, end) == "and" and _num(items, end + 1) == 0.5:  # "a year and a half"
            amount, end = amount + 0.5, end + 2
        terms.append((amount, unit))
        consumed.update(range(start, end))
        k = end
    if not terms:
        return None
    for idx, tok in enumerate(items):
        if isinstance(tok, float) and idx not in consumed and _unit_factor(_at(items, idx + 1)) is None:
            return None  # a number that is not part of a duration ("2 or 3"); "at 150mg" is a dose
    units = [u for _, u in terms]
    if len(set(units)) != len(units):
        return None  # "6 weeks ... 8 weeks": which one?
    if _VAGUE.search(" ".join(x for x in items if isinstance(x, str))):
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
            isinstance(rest[0], float) or rest[0] in _MONTHS or rest[0] in ("last", "this")
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


def _whole(items: Sequence[Token], i: int, low: int, high: int) -> Optional[int]:
    """items[i] as a whole number within [low, high], else None."""
    x = _num(items, i)
    if x is None or not x.is_integer() or not low <= x <= high:
        return None
    return int(x)


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
    year = _whole(toks, 0, 1900, 2100)
    if year is not None:
        month_num, day_num = _whole(toks, 2, 1, 12), _whole(toks, 4, 1, 31)
        if toks[1:2] == ["-"] and toks[3:4] == ["-"] and month_num is not None and day_num is not None:
            return date(year, month_num, day_num)  # ISO: 2024-03-15
        return date(year, 12, 31) if year < today.year else None  # "since 2022": the end of that year
    i = 0
    day = _whole(toks, 0, 1, 31)
    if day is not None:
        i = 2 if _at(toks, 1) in _ORDINAL_SUFFIXES else 1
    name = _at(toks, i)
    if not isinstance(name, str) or name not in _MONTHS:
        return None
    month = _MONTHS[name]
    i += 1
    if day is None:
        day = _whole(toks, i, 1, 31)
        if day is not None:
            i += 2 if _at(toks, i + 1) in _ORDINAL_SUFFIXES else 1
    given_year = _whole(toks, i, 1900, 2100)
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
