"""Doses and durations as people type them (trd/answers/parsing.py)."""

from __future__ import annotations

from datetime import date
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trd.answers.parsing import parse_dose, parse_duration

TODAY = date(2026, 11, 21)
MONTH = 365.25 / 12 / 7
YEAR = 365.25 / 7


@pytest.mark.parametrize(
    ("text", "mg"),
    [
        # plain amounts and units
        ("150mg", 150),
        ("150 mg", 150),
        ("150 milligrams", 150),
        ("150MG", 150),
        ("a hundred and fifty", 150),
        ("one hundred fifty mg", 150),
        ("twenty-five milligrams", 25),
        ("fifteen hundred mg", 1500),
        ("1,200 mg", 1200),
        ("1.5 g", 1500),
        ("2 grams", 2000),
        ("25 mcg", 0.025),
        ("25 µg", 0.025),
        ("50 micrograms", 0.05),
        ("about 200", 200),
        ("I think it was 225mg", 225),
        ("300mg XL", 300),
        ("Wellbutrin XL 300", 300),
        ("sertraline 100 mg daily", 100),
        ("zoloft50mg", 50),
        ("t3 25 mcg", 0.025),
        ("2 and a half mg", 2.5),
        ("2.5mg", 2.5),
        # how often
        ("20 mg twice a day", 40),
        ("20mg bid", 40),
        ("20 mg b.i.d.", 40),
        ("150 mg three times a day", 450),
        ("100mg 3 times a day", 300),
        ("75mg morning and night", 150),
        ("600mg of lithium carbonate twice daily", 1200),
        ("40mg/day", 40),
        ("150 mg per day", 150),
        ("50 mg once a day", 50),
        ("10mg every other day", 5),
        ("50mg once a week", 50 / 7),
        ("150 twice a day", 300),
        # pills and parts of pills
        ("half a 50mg pill", 25),
        ("half of a 50", 25),
        ("two 150mg tablets", 300),
        ("2 x 150mg", 300),
        ("150mg x2", 300),
        ("1.5 tablets of 100mg", 150),
        ("one and a half 100mg tablets", 150),
        # split doses are added
        ("150mg in the morning and 75mg at night", 225),
        ("100mg + 50mg", 150),
        ("100 + 50 mg", 150),
        # ranges: the lower bound
        ("100-150mg", 100),
        ("100 to 150 mg", 100),
        ("between 100 and 150mg", 100),
        ("100 or 150 mg", 100),
    ],
)
def test_parse_dose_reads_mg_per_day(text: str, mg: float) -> None:
    got = parse_dose(text)
    assert got is not None, text
    assert got == pytest.approx(mg, rel=1e-3), text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "I don't know",
        "not sure",
        "mg",
        "2 pills",  # a count without a strength
        "one tablet",
        "5 ml",  # liquid: not mg
        "10 drops",
        "half",
        "less than 50mg",  # upper bounds have no lower bound
        "under 100 mg",
        "up to 200mg",
        "started at 50 then 100mg",  # which one? ask again
        "50mg then went up to 100mg",
        "20 mg twice a day and 10 mg three times a day",  # contradictory frequencies
        "since June 2025",
        "6 weeks",
        "a lot",
        "999999 mg",
        "0 mg",
        "-5 mg",
    ],
)
def test_parse_dose_returns_none_when_it_would_have_to_guess(text: str) -> None:
    assert parse_dose(text) is None


@pytest.mark.parametrize(
    ("text", "weeks"),
    [
        ("6 weeks", 6),
        ("6 wks", 6),
        ("3 wks", 3),
        ("1 wk", 1),
        ("about 8 weeks", 8),
        ("around eight weeks", 8),
        ("roughly 10 weeks or so", 10),
        ("twelve weeks or so", 12),
        ("for 6 weeks", 6),
        ("6 weeks ago", 6),
        ("over 6 weeks", 6),
        ("at least 6 weeks", 6),
        ("10 days", 10 / 7),
        ("14 days", 2),
        ("a fortnight", 2),
        ("two months", 2 * MONTH),
        ("2 months", 2 * MONTH),
        ("2.5 months", 2.5 * MONTH),
        ("a couple of months", 2 * MONTH),
        ("a month", MONTH),
        ("18 months", 18 * MONTH),
        ("a year", YEAR),
        ("a year and a half", 1.5 * YEAR),
        ("one and a half years", 1.5 * YEAR),
        ("1.5 years", 1.5 * YEAR),
        ("2 years and a half", 2.5 * YEAR),
        ("half a year", 0.5 * YEAR),
        ("a week and a half", 1.5),
        ("1 year 3 months", YEAR + 3 * MONTH),
        ("2 months and 2 weeks", 2 * MONTH + 2),
        ("once a week for 6 weeks", 6),
        ("8 wks at 150mg", 8),
        # ranges: the lower bound
        ("6-8 weeks", 6),
        ("6 to 8 weeks", 6),
        ("6 or 7 weeks", 6),
        ("between 6 and 8 weeks", 6),
        ("2-3 months", 2 * MONTH),
        # start dates, counted to TODAY (2026-11-21)
        ("since March", (TODAY - date(2026, 3, 31)).days / 7),  # lower bound: the end of March
        ("since last March", (TODAY - date(2026, 3, 31)).days / 7),
        ("since December", (TODAY - date(2025, 12, 31)).days / 7),  # December is still ahead: last year's
        ("since March 3rd", (TODAY - date(2026, 3, 3)).days / 7),
        ("since the 3rd of March", (TODAY - date(2026, 3, 3)).days / 7),
        ("since 3 March 2025", (TODAY - date(2025, 3, 3)).days / 7),
        ("since November 2nd", (TODAY - date(2026, 11, 2)).days / 7),
        ("since December 25", (TODAY - date(2025, 12, 25)).days / 7),  # the last December 25 that has been
        ("since 2024", (TODAY - date(2024, 12, 31)).days / 7),
        ("since last year", (TODAY - date(2025, 12, 31)).days / 7),
        ("since 2026-10-01", (TODAY - date(2026, 10, 1)).days / 7),
        ("I started it in August", (TODAY - date(2026, 8, 31)).days / 7),
        ("started on it in june 2025", (TODAY - date(2025, 6, 30)).days / 7),
    ],
)
def test_parse_duration_reads_weeks(text: str, weeks: float) -> None:
    got = parse_duration(text, today=TODAY)
    assert got is not None, text
    assert got == pytest.approx(weeks, abs=0.01), text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a while",
        "a few weeks",  # vague: ask again
        "several months",
        "ages",
        "weeks",
        "6",  # no unit and the caller named none
        "less than 6 weeks",  # upper bounds
        "under a month",
        "almost 6 weeks",
        "nearly 3 months",
        "up to 8 weeks",
        "since my divorce",
        "since November",  # this month, no day: no usable lower bound
        "since December 25 2026",  # in the future
        "since 2030",
        "6 weeks then 8 weeks",  # which one?
        "I don't know",
        "still taking it",
        "150mg",
    ],
)
def test_parse_duration_returns_none_when_it_would_have_to_guess(text: str) -> None:
    assert parse_duration(text, today=TODAY) is None


@pytest.mark.parametrize(
    ("text", "unit", "weeks"),
    [
        ("6", "weeks", 6),
        ("six", "weeks", 6),
        ("about 6", "weeks", 6),
        ("6-8", "weeks", 6),
        ("3", "months", 3 * MONTH),
        ("10", "days", 10 / 7),
        ("2 months", "weeks", 2 * MONTH),  # an explicit unit wins
    ],
)
def test_parse_duration_bare_number_uses_the_unit_asked_in(text: str, unit: str, weeks: float) -> None:
    assert parse_duration(text, today=TODAY, default_unit=unit) == pytest.approx(weeks, abs=0.01)


def test_parse_duration_since_uses_todays_date_by_default() -> None:
    got = parse_duration("since 2020")
    assert got is not None
    assert got == pytest.approx((date.today() - date(2020, 12, 31)).days / 7, abs=0.01)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.text(max_size=120))
def test_parsers_never_raise_on_arbitrary_text(text: str) -> None:
    dose: Optional[float] = parse_dose(text)
    weeks: Optional[float] = parse_duration(text, today=TODAY, default_unit="weeks")
    assert dose is None or dose > 0
    assert weeks is None or weeks >= 0


_WORDS = st.sampled_from(
    "a an and half one two twenty hundred thousand mg g mcg x times twice a day week weeks month "
    "months year since march last 150 1.5 1/2 - to or + of pill tablets every other daily ago about "
    "between 2024 3rd the".split()
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.lists(_WORDS, max_size=12).map(" ".join))
def test_parsers_never_raise_on_dose_and_date_like_word_salad(text: str) -> None:
    dose = parse_dose(text)
    weeks = parse_duration(text, today=TODAY)
    assert dose is None or 0 < dose <= 20000
    assert weeks is None or weeks >= 0
