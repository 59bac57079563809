"""The one number grammar: numbers as people type them, in digits or words.

Pure Python (no Rasa). Every answer reader that needs a number reads it here
(doses, durations, months, counts), so "twenty four", "a dozen", "one and a half",
"1 1/2", "½" and "fifteen hundred" mean the same thing everywhere.

* :func:`tokens` splits typed text into words, numbers and signs (after :func:`normalise`);
  :func:`numberise` replaces each number (digits or words) by its float value.
* :func:`read_number` reads a phrase that is one number ("twenty four", "a couple of").
* Bounds: hedges ("about", "roughly") never change a number; lower bounds ("over",
  "at least") keep it; upper bounds ("almost", "nearly", "under", "less than") have no
  usable lower bound. What a reader does with an upper bound is its explicit choice
  (:class:`UpperBound`): the trial readers (doses, weeks at a dose) REJECT it, so a trial
  is never called adequate on a guess; the episode-length reader reads a few of them
  AS_ESTIMATE ("almost 2 years" -> 24 months), as the intake always has.
"""

from __future__ import annotations

import calendar
import enum
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

Token = Union[str, float]


class UpperBound(enum.Enum):
    """What a reader does with "almost 6 weeks", "under 100 mg", "less than 2 years"."""

    REJECT = "reject"  # no usable lower bound: not read (asked again)
    AS_ESTIMATE = "as_estimate"  # the number is taken as a rough answer


# Upper bounds: the number is a ceiling, not a floor.
UPPER_BOUND = re.compile(
    r"\b(?:less than|fewer than|under|below|up to|at most|no more than|almost|nearly|not quite|"
    r"just under|short of|shy of|not even)\b"
)
# The upper bounds that a reader choosing UpperBound.AS_ESTIMATE reads as rough answers.
ESTIMATE_UPPER_BOUNDS: Tuple[str, ...] = ("almost", "nearly", "just under", "under", "less than")
# Hedges and lower bounds a whole-answer reader skips before the number.
HEDGES: Tuple[str, ...] = (
    "about", "around", "roughly", "approximately", "approx", "maybe", "probably", "like", "some",
)
LOWER_BOUNDS: Tuple[str, ...] = ("over", "more than", "at least", "just over")


def qualifier_pattern(upper_bound: UpperBound) -> str:
    """A regex for one qualifier before a number ("about ", "over "), per the upper-bound rule."""
    words = list(HEDGES) + list(LOWER_BOUNDS)
    if upper_bound is UpperBound.AS_ESTIMATE:
        words += list(ESTIMATE_UPPER_BOUNDS)
    return r"(?:" + "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True)) + r")\s+"


RANGE_WORDS = {"to", "-", "or"}
VAGUE = re.compile(r"\b(?:few|several|some|couple of weeks or|a while|ages|long time|many|handful)\b")

MONTHS: Dict[str, int] = {}
for _i, _name in enumerate(calendar.month_name):
    if _name:
        MONTHS[_name.lower()] = _i
        MONTHS[_name.lower()[:3]] = _i
MONTHS["sept"] = 9

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


def normalise(text: str) -> str:
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


def tokens(text: str) -> List[str]:
    return _TOKEN_RE.findall(normalise(text))


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


def numberise(toks: Sequence[str]) -> List[Token]:
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


def render(items: Sequence[Token]) -> str:
    return " ".join(f"#{x:g}" if isinstance(x, float) else x for x in items)


def unrender(text: str) -> List[Token]:
    return [float(w[1:]) if w.startswith("#") else w for w in text.split()]


def num_at(items: Sequence[Token], i: int) -> Optional[float]:
    """items[i] if it is a number (and i is in range), else None."""
    if 0 <= i < len(items):
        x = items[i]
        if isinstance(x, float):
            return x
    return None


def token_at(items: Sequence[Token], i: int) -> Optional[Token]:
    return items[i] if 0 <= i < len(items) else None



def whole_at(items: Sequence[Token], i: int, low: int, high: int) -> Optional[int]:
    """items[i] as a whole number within [low, high], else None."""
    x = num_at(items, i)
    if x is None or not x.is_integer() or not low <= x <= high:
        return None
    return int(x)


def read_number(phrase: str) -> Optional[float]:
    """The value of a phrase that is one number ("twenty four", "a dozen", "half a", "12"), else None."""
    items = numberise(tokens(phrase))
    values = [x for x in items if isinstance(x, float)]
    rest = [x for x in items if not isinstance(x, float)]
    if len(values) != 1 or any(w not in ("a", "an", "of") for w in rest):
        return None
    return values[0]
