"""How regularly a medicine was taken: "most days" or "often missed" (never a guess)."""

from __future__ import annotations

import re
from typing import Any, Optional, Tuple

from trd.answers.intake import strip_filler, unknownish
from trd.answers.values import INVALID, UNKNOWN

ADHERENCE_VALUES: Tuple[str, ...] = ("most_days", "often_missed")

_OFTEN_MISSED = re.compile(
    r"\boften missed\b|\bmissed (it |them |doses )?(a lot|lots|loads|many|often|a great deal|half)\b"
    r"|\bmissed (many|lots of|loads of|a lot of) (doses|days|pills)\b|\boften (forgot|missed|skipped)\b"
    r"|\b(forgot|skipped) (it |them |doses )?(a lot|lots|often|many)\b"
    r"|\b(forgot|skipped) (many|lots of|a lot of)\b"
    r"|\bon and off\b|\boff and on\b|\bhit and miss\b|\bhit or miss\b|\bsporadic|\birregular|\binconsistent"
    r"|\bnot (very |always )?(regularly|consistently|every day|everyday|daily)\b|\bhalf the time\b"
    r"|\bwhen i remembered\b|\bnot often\b|\brarely took\b|\bmostly missed\b|\bmissed most\b"
)
_MOST_DAYS = re.compile(
    r"\bmost days\b|\bevery ?day\b|\bdaily\b|\balways\b|\b(never|rarely|hardly( ever)?|seldom|almost never) "
    r"(missed|forgot|skipped)\b|\bregularly\b|\bconsistently\b|\breligiously\b|\bas prescribed\b"
    r"|\b(nearly|almost) every\b|\bevery (single )?(morning|night|evening)\b|\bdidnt (miss|forget|skip)\b"
    r"|\bmissed (only )?(a few|one or two|a couple|the odd one|very few|hardly any)\b|\bmostly took\b"
    r"|\btook it most\b"
)



def read_adherence(text: str) -> Any:
    t = strip_filler(text)
    if _OFTEN_MISSED.search(t):
        return "often_missed"
    if _MOST_DAYS.search(t):
        return "most_days"
    if unknownish(text):
        return UNKNOWN
    return INVALID



# In a correction to the read-back ("no, I missed a lot of doses"): stricter words.
_CORRECTION_OFTEN = re.compile(
    r"\bmissed\b|\bforgot\b|\bskipped\b|\bon and off\b|\boff and on\b|\bhit and miss\b|\birregular"
    r"|\bnot (every day|regularly|consistently)\b"
)
_CORRECTION_MOST = re.compile(
    r"\bmost days\b|\b(took|taken|take|taking) it (on )?(most days|every ?day|daily|regularly)\b"
    r"|\b(never|rarely|hardly( ever)?) (missed|forgot|skipped)\b|\bdidnt (miss|forget|skip)\b"
)


def adherence_in_correction(rest: str) -> Tuple[Optional[str], str]:
    """(the adherence a correction's normalised words say or None, the words left over)."""
    if _CORRECTION_OFTEN.search(rest):
        return "often_missed", _CORRECTION_OFTEN.sub(" ", rest)
    if _CORRECTION_MOST.search(rest):
        return "most_days", _CORRECTION_MOST.sub(" ", rest)
    return None, rest
