"""The check-ins' words built from data (``data/checkins/wording.yml``): the line after a
check-in, set-up confirmations, the time-zone question. Pure functions."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import yaml

from trd.checkins import schedule
from trd.paths import REPO_ROOT

WORDING_FILE = REPO_ROOT / "data" / "checkins" / "wording.yml"


@functools.lru_cache(maxsize=4)
def load_wording(path: Path = WORDING_FILE) -> Dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ValueError(f"{path}: expected version 1")
    for section in ("intro", "result", "subscribe", "timezone", "later", "sms"):
        if not isinstance(data.get(section), dict):
            raise ValueError(f"{path}: section {section!r} is missing")
    return data


def words() -> Dict[str, Any]:
    return load_wording()


def _versus(total: int, other: int, w: Dict[str, str]) -> str:
    if total < other:
        return w["lower"].format(n=other - total)
    if total > other:
        return w["higher"].format(n=total - other)
    return w["same"]


def result_line(
    answers: Sequence[Optional[int]],
    last_total: Optional[int],
    intake_total: Optional[int],
    next_due: Optional[datetime],
    zone: str,
) -> str:
    """One plain line: this week's total compared with last time and with the intake, and the next date."""
    w = words()["result"]
    skipped = sum(1 for a in answers if a is None)
    if skipped:
        text = w["skipped"].format(count="one question" if skipped == 1 else f"{skipped} questions")
    else:
        total = int(sum(a for a in answers if a is not None))
        total_words = w["total"].format(total=total)
        if last_total is not None and intake_total is not None:
            text = w["both"].format(
                total_words=total_words,
                vs_last=_versus(total, last_total, w),
                last=last_total,
                vs_intake=_versus(total, intake_total, w),
                intake=intake_total,
            )
        elif last_total is not None:
            text = w["last_only"].format(
                total_words=total_words, vs_last=_versus(total, last_total, w), last=last_total
            )
        elif intake_total is not None:
            text = w["intake_only"].format(
                total_words=total_words, vs_intake=_versus(total, intake_total, w), intake=intake_total
            )
        else:
            text = w["none"].format(total_words=total_words)
    if next_due is not None:
        text += " " + w["next"].format(day=schedule.describe_day(next_due, zone))
    return text


def intro(action: str, channel: str) -> str:
    w = words()["intro"]
    if action == "reminder":
        return str(w["reminder"])
    legend = w["send_sms_legend"] if channel == "twilio" else w["send_web_legend"]
    return f"{w['send']}\n{legend}"


def _clock_words(minutes: int) -> str:
    hour, minute = divmod(minutes % 1440, 60)
    shown = hour % 12 or 12
    suffix = "am" if hour < 12 else "pm"
    return f"{shown} {suffix}" if minute == 0 else f"{shown}:{minute:02d} {suffix}"


def subscribed_sms(first_due: datetime, zone: str, zone_words: str, quiet: Optional[Tuple[int, int]]) -> str:
    w = words()["subscribe"]
    quiet_words = w["quiet"].format(start=_clock_words(quiet[0]), end=_clock_words(quiet[1])) if quiet else ""
    return str(w["sms"]).format(
        day=schedule.describe_day(first_due, zone),
        time=schedule.describe_time(first_due, zone),
        zone=zone_words,
        quiet=quiet_words,
    )


def subscribed_link(url: str, first_due: datetime, expires: datetime, zone: str) -> str:
    return str(words()["subscribe"]["link"]).format(
        url=url, day=schedule.describe_day(first_due, zone), expires=schedule.describe_day(expires, zone)
    )


def already(next_due: Optional[datetime], zone: str) -> str:
    day = schedule.describe_day(next_due, zone) if next_due else "its way"
    return str(words()["subscribe"]["already"]).format(day=day)


def resumed(next_due: datetime, zone: str) -> str:
    return str(words()["subscribe"]["resumed"]).format(day=schedule.describe_day(next_due, zone))


def timezone_question(guess_words: Optional[str]) -> str:
    w = words()["timezone"]
    return str(w["guess"]).format(zone=guess_words) if guess_words else str(w["ask"])


def later_line(when: Optional[datetime], next_due: Optional[datetime], now: datetime, zone: str) -> str:
    w = words()["later"]
    if when is None:
        day = schedule.describe_day(next_due, zone) if next_due else "next week"
        return str(w["next_week"]).format(day=day)
    here, today = schedule.local(when, zone), schedule.local(now, zone)
    at = schedule.describe_time(when, zone)
    if here.date() == today.date():
        phrase = f"at {at}"
    elif here.date() == (today + timedelta(days=1)).date():
        phrase = f"tomorrow at {at}"
    else:
        phrase = f"on {schedule.describe_day(when, zone)} at {at}"
    return str(w["when"]).format(when=phrase)


def code_text(service: str, code: str) -> str:
    return str(words()["sms"]["code"]).format(service=service, code=code)
