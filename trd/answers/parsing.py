"""Doses and durations as people type them, read into numbers the navigator can use.

Pure Python (no Rasa). Two entry points (code in :mod:`trd.answers.doses` and
:mod:`trd.answers.durations`, on the number grammar of :mod:`trd.answers.numbers`):

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

from trd.answers.doses import MAX_DOSE_MG_PER_DAY, parse_dose
from trd.answers.durations import DAYS_PER_MONTH, MAX_WEEKS, WEEKS_PER_UNIT, parse_duration

__all__ = [
    "DAYS_PER_MONTH",
    "MAX_DOSE_MG_PER_DAY",
    "MAX_WEEKS",
    "WEEKS_PER_UNIT",
    "parse_dose",
    "parse_duration",
]
