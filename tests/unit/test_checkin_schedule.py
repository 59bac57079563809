"""When check-ins go out: the person's daytime, daylight-saving changes, settings, time zones."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from trd.checkins import schedule
from trd.checkins.config import CheckinConfig, CheckinConfigError, parse_quiet_hours
from trd.checkins.timezones import area_code, load_area_codes, parse_zone, zone_for_phone, zone_label

NY = "America/New_York"
QUIET = (21 * 60, 9 * 60)
WEEK = 604800


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def local_ny(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(NY))


def test_a_weekly_check_in_keeps_its_local_time_across_the_spring_change() -> None:
    monday = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo(NY))  # EST, the clocks go forward on 8 March
    after = schedule.add_interval(monday.astimezone(timezone.utc), WEEK, NY)
    assert local_ny(after).replace(tzinfo=None) == datetime(2026, 3, 9, 10, 0)
    assert (after - monday).total_seconds() == WEEK - 3600  # 167 hours


def test_a_weekly_check_in_keeps_its_local_time_across_the_autumn_change() -> None:
    monday = datetime(2026, 10, 26, 10, 0, tzinfo=ZoneInfo(NY))  # EDT, the clocks go back on 1 November
    after = schedule.add_interval(monday.astimezone(timezone.utc), WEEK, NY)
    assert local_ny(after).replace(tzinfo=None) == datetime(2026, 11, 2, 10, 0)
    assert (after - monday).total_seconds() == WEEK + 3600  # 169 hours


def test_short_intervals_are_exact_seconds() -> None:
    start = utc(2026, 3, 8, 6, 59, 50)  # 01:59:50 EST, ten seconds before the gap
    assert schedule.add_interval(start, 30, NY) == utc(2026, 3, 8, 7, 0, 20)


@pytest.mark.parametrize(
    "local_time, expected",
    [
        (datetime(2026, 5, 4, 20, 59), datetime(2026, 5, 4, 20, 59)),  # just before the quiet hours
        (datetime(2026, 5, 4, 21, 0), datetime(2026, 5, 5, 9, 0)),  # 9 pm: the next morning
        (datetime(2026, 5, 4, 23, 30), datetime(2026, 5, 5, 9, 0)),
        (datetime(2026, 5, 5, 3, 0), datetime(2026, 5, 5, 9, 0)),  # small hours: this morning
        (datetime(2026, 5, 5, 8, 59), datetime(2026, 5, 5, 9, 0)),
        (datetime(2026, 5, 5, 9, 0), datetime(2026, 5, 5, 9, 0)),
    ],
)
def test_quiet_hours_move_a_time_to_nine_in_the_morning(local_time: datetime, expected: datetime) -> None:
    moment = local_time.replace(tzinfo=ZoneInfo(NY)).astimezone(timezone.utc)
    assert local_ny(schedule.daytime(moment, NY, QUIET)).replace(tzinfo=None) == expected


def test_quiet_hours_on_the_night_the_clocks_change() -> None:
    night = datetime(2026, 3, 7, 22, 0, tzinfo=ZoneInfo(NY)).astimezone(timezone.utc)  # before spring forward
    wake = schedule.daytime(night, NY, QUIET)
    assert local_ny(wake).replace(tzinfo=None) == datetime(2026, 3, 8, 9, 0)
    assert local_ny(wake).utcoffset().total_seconds() == -4 * 3600  # EDT by then


def test_quiet_hours_off_keep_every_time() -> None:
    night = utc(2026, 5, 5, 3, 0)
    assert schedule.daytime(night, NY, None) == night
    assert not schedule.in_quiet_hours(night, NY, None)


def test_quiet_hours_are_the_persons_own() -> None:
    moment = utc(2026, 5, 5, 2, 0)  # 10 pm in New York, 7 pm in Los Angeles
    assert schedule.in_quiet_hours(moment, NY, QUIET)
    assert not schedule.in_quiet_hours(moment, "America/Los_Angeles", QUIET)


def test_next_due_skips_a_backlog_after_a_long_outage() -> None:
    due = utc(2026, 1, 5, 15, 0)
    now = utc(2026, 3, 2, 16, 0)  # eight weeks later
    nxt = schedule.next_due(due, WEEK, NY, QUIET, now=now)
    assert nxt > now - schedule.timedelta(seconds=WEEK)


def test_days_and_times_read_in_the_persons_zone() -> None:
    moment = utc(2026, 12, 14, 15, 5)
    assert schedule.describe_day(moment, NY) == "Monday 14 December"
    assert schedule.describe_time(moment, NY) == "10:05 am"


def test_settings_and_their_errors() -> None:
    cfg = CheckinConfig.from_env({})
    assert cfg.interval_seconds == WEEK and cfg.quiet_hours == QUIET and cfg.reminder_after_seconds == 86400
    cfg = CheckinConfig.from_env(
        {"CHECKIN_INTERVAL_SECONDS": "30", "CHECKIN_QUIET_HOURS": "off", "RASA_PORT": "9"}
    )
    assert cfg.interval_seconds == 30 and cfg.quiet_hours is None and cfg.trigger_url == "http://127.0.0.1:9"
    assert parse_quiet_hours("21:30-8:15") == (21 * 60 + 30, 8 * 60 + 15)
    for bad in (
        {"CHECKIN_INTERVAL_SECONDS": "weekly"},
        {"CHECKIN_INTERVAL_SECONDS": "1"},
        {"CHECKIN_QUIET_HOURS": "9pm"},
        {"CHECKIN_QUIET_HOURS": "25-9"},
        {"CHECKIN_QUIET_HOURS": "9-9"},
        {"CHECKIN_TRIGGER_URL": "ftp://x"},
    ):
        with pytest.raises(CheckinConfigError):
            CheckinConfig.from_env(bad)


def test_area_codes_guess_a_zone_to_confirm() -> None:
    data = load_area_codes()
    assert len(data.codes) > 300
    assert zone_for_phone("+12125550100") == NY
    assert zone_for_phone("+13125550100") == "America/Chicago"
    assert zone_for_phone("+19155550100") == "America/Denver"  # El Paso
    assert zone_for_phone("+16025550100") == "America/Phoenix"
    assert zone_for_phone("(415) 555-0100") == "America/Los_Angeles"
    assert zone_for_phone("+447700900123") is None  # not North American
    assert zone_for_phone("+15555550100") is None  # not an area code in use
    assert area_code("555-0100") is None
    assert zone_label(NY) == "Eastern time"
    assert zone_label("Europe/London") == "London time"


@pytest.mark.parametrize(
    "text, zone",
    [
        ("Eastern", NY),
        ("i'm on pacific time", "America/Los_Angeles"),
        ("PST", "America/Los_Angeles"),
        ("central time please", "America/Chicago"),
        ("Arizona", "America/Phoenix"),
        ("mountain", "America/Denver"),
        ("Europe/London", "Europe/London"),
        ("London", "Europe/London"),
        ("hawaii", "Pacific/Honolulu"),
        ("yes", None),
        ("no", None),
        ("", None),
        ("banana bread", None),
    ],
)
def test_a_typed_time_zone_is_read(text: str, zone: object) -> None:
    assert parse_zone(text) == zone
