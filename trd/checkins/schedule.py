"""When check-ins and reminders go out: the person's daytime, across daylight-saving changes.

Pure functions on timezone-aware datetimes (UTC in, UTC out) and an IANA zone.

- A weekly interval (any whole number of days) keeps the local wall-clock time: a check-in
  at 10:00 on a Monday is at 10:00 the next Monday even when the clocks changed in between
  (so 167 or 169 hours later). Other intervals are exact seconds.
- Quiet hours (default 21:00-09:00 local): a time inside them moves to their end, 09:00
  local the same or the next morning; a nonexistent local time (spring forward) is read
  forward. Off: times are kept as they are.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Optional, Tuple
from zoneinfo import ZoneInfo

DAY = 86400


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime given; use timezone-aware datetimes")
    return moment


def local(moment: datetime, zone: str) -> datetime:
    return _aware(moment).astimezone(_zone(zone))


def in_quiet_hours(moment: datetime, zone: str, quiet: Optional[Tuple[int, int]]) -> bool:
    if quiet is None:
        return False
    here = local(moment, zone)
    minute = here.hour * 60 + here.minute
    start, end = quiet
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def _wall(day: datetime, minute_of_day: int, zone: ZoneInfo) -> datetime:
    """``minute_of_day`` on ``day``'s local date, as an aware local time (gaps read forward)."""
    naive = datetime.combine(day.date(), time(minute_of_day // 60, minute_of_day % 60))
    candidate = naive.replace(tzinfo=zone, fold=0)
    # A time that does not exist (the spring-forward gap) comes back with a shifted offset:
    # round-trip through UTC to land on the first real instant after it.
    return candidate.astimezone(timezone.utc).astimezone(zone)


def daytime(moment: datetime, zone: str, quiet: Optional[Tuple[int, int]]) -> datetime:
    """``moment`` if it is outside the quiet hours, else the end of those quiet hours (UTC)."""
    moment = _aware(moment).astimezone(timezone.utc)
    if not in_quiet_hours(moment, zone, quiet):
        return moment
    assert quiet is not None
    tz = _zone(zone)
    here = moment.astimezone(tz)
    start, end = quiet
    minute = here.hour * 60 + here.minute
    wake_day = here
    if start > end and minute >= start:  # late evening: tomorrow morning
        wake_day = here + timedelta(days=1)
    elif start < end and minute >= end:  # pragma: no cover - not quiet then
        return moment
    return _wall(wake_day, end, tz).astimezone(timezone.utc)


def add_interval(moment: datetime, seconds: float, zone: str) -> datetime:
    """``moment`` + the interval: whole days keep the local wall-clock time, other intervals are exact."""
    moment = _aware(moment).astimezone(timezone.utc)
    if seconds >= DAY and float(seconds) % DAY == 0:
        tz = _zone(zone)
        here = moment.astimezone(tz)
        naive = here.replace(tzinfo=None) + timedelta(days=int(seconds // DAY))
        target = naive.replace(tzinfo=tz, fold=here.fold)
        return target.astimezone(timezone.utc).astimezone(tz).astimezone(timezone.utc)
    return moment + timedelta(seconds=seconds)


def first_due(now: datetime, interval: float, zone: str, quiet: Optional[Tuple[int, int]]) -> datetime:
    return daytime(add_interval(now, interval, zone), zone, quiet)


def next_due(
    previous_due: datetime,
    interval: float,
    zone: str,
    quiet: Optional[Tuple[int, int]],
    now: Optional[datetime] = None,
) -> datetime:
    """The check-in after one due at ``previous_due``: one interval on, in daytime, not in the past."""
    due = daytime(add_interval(previous_due, interval, zone), zone, quiet)
    if now is not None:
        while due <= now - timedelta(seconds=interval):  # long outage: do not send a backlog
            due = daytime(add_interval(due, interval, zone), zone, quiet)
    return due


def reminder_time(sent_at: datetime, after: float, zone: str, quiet: Optional[Tuple[int, int]]) -> datetime:
    return daytime(_aware(sent_at) + timedelta(seconds=after), zone, quiet)


def describe_day(moment: datetime, zone: str) -> str:
    """ "Monday 14 December" in the person's time zone."""
    here = local(moment, zone)
    return f"{here.strftime('%A')} {here.day} {here.strftime('%B')}"


def describe_time(moment: datetime, zone: str) -> str:
    """ "10:05 am" in the person's time zone."""
    here = local(moment, zone)
    hour = here.hour % 12 or 12
    return f"{hour}:{here.minute:02d} {'am' if here.hour < 12 else 'pm'}"
