"""Settings of the weekly check-ins, from the environment (README: "Weekly check-ins").

    CHECKIN_INTERVAL_SECONDS        604800 (a week) between check-ins
    CHECKIN_QUIET_HOURS             21-9: never text between 9 pm and 9 am the person's time;
                                    "off" disables (e.g. to watch the loop with a short interval)
    CHECKIN_REMINDER_AFTER_SECONDS  86400: one reminder this long after an unanswered check-in
    CHECKIN_LATER_SECONDS           10800: "later" asks again this much later (3 hours)
    CHECKIN_POLL_SECONDS            5: how often the scheduler looks for due work
    CHECKIN_LEASE_SECONDS           120: a check-in claimed by a worker that died is taken again after this
    CHECKIN_BATCH_SIZE              50: check-ins claimed per pass
    CHECKIN_HIGH_SCORE              15: a PHQ-9 total this high, then two missed check-ins,
                                    notifies the care team
    CHECKIN_LINK_TTL_DAYS           180: a web person's personal check-in link lasts this long
    CHECKIN_TRIGGER_URL             where the worker reaches the Rasa server (default http://127.0.0.1:$RASA_PORT)
    CHECKIN_CLOCK_FILE              tests only: read "now" from this file (ISO 8601), not the system clock

A malformed value raises :class:`CheckinConfigError` naming it: a deployment that
believes it follows people up must not run without doing so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple


class CheckinConfigError(ValueError):
    """A check-in setting is malformed (the message names it)."""


DEFAULT_INTERVAL = 604800
DEFAULT_QUIET = "21-9"
DEFAULT_REMINDER_AFTER = 86400


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise CheckinConfigError(f"{name} must be a number, not {text!r}") from None
    if not low <= value <= high:
        raise CheckinConfigError(f"{name} must be between {low:g} and {high:g}, not {text}")
    return value


def parse_quiet_hours(text: str) -> Optional[Tuple[int, int]]:
    """(start, end) in minutes after midnight from "21-9" or "21:30-8:45"; None for "off"."""
    value = (text or "").strip().lower()
    if value in ("off", "none", "0", "false", "no"):
        return None
    parts = value.split("-")
    if len(parts) != 2:
        raise CheckinConfigError(f"CHECKIN_QUIET_HOURS must look like 21-9 (or off), not {text!r}")
    minutes = []
    for part in parts:
        hour, _, minute = part.strip().partition(":")
        try:
            h, m = int(hour), int(minute or 0)
        except ValueError:
            raise CheckinConfigError(
                f"CHECKIN_QUIET_HOURS must look like 21-9 (or off), not {text!r}"
            ) from None
        if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
            raise CheckinConfigError(f"CHECKIN_QUIET_HOURS has an impossible time: {text!r}")
        minutes.append((h * 60 + m) % 1440)
    if minutes[0] == minutes[1]:
        raise CheckinConfigError("CHECKIN_QUIET_HOURS starts and ends at the same time; use off to disable")
    return minutes[0], minutes[1]


@dataclass(frozen=True)
class CheckinConfig:
    interval_seconds: float = DEFAULT_INTERVAL
    quiet_hours: Optional[Tuple[int, int]] = (21 * 60, 9 * 60)
    reminder_after_seconds: float = DEFAULT_REMINDER_AFTER
    later_seconds: float = 10800
    poll_seconds: float = 5
    lease_seconds: float = 120
    batch_size: int = 50
    high_score: int = 15
    link_ttl_days: float = 180
    trigger_url: str = "http://127.0.0.1:5005"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> CheckinConfig:
        port = env.get("RASA_PORT", "").strip() or "5005"
        trigger = env.get("CHECKIN_TRIGGER_URL", "").strip() or f"http://127.0.0.1:{port}"
        if not trigger.startswith(("http://", "https://")):
            raise CheckinConfigError(f"CHECKIN_TRIGGER_URL must be an http(s) URL, not {trigger!r}")
        return cls(
            interval_seconds=_number(env, "CHECKIN_INTERVAL_SECONDS", DEFAULT_INTERVAL, 10, 366 * 86400),
            quiet_hours=parse_quiet_hours(env.get("CHECKIN_QUIET_HOURS", "") or DEFAULT_QUIET),
            reminder_after_seconds=_number(
                env, "CHECKIN_REMINDER_AFTER_SECONDS", DEFAULT_REMINDER_AFTER, 1, 366 * 86400
            ),
            later_seconds=_number(env, "CHECKIN_LATER_SECONDS", 10800, 1, 7 * 86400),
            poll_seconds=_number(env, "CHECKIN_POLL_SECONDS", 5, 0.05, 3600),
            lease_seconds=_number(env, "CHECKIN_LEASE_SECONDS", 120, 1, 86400),
            batch_size=int(_number(env, "CHECKIN_BATCH_SIZE", 50, 1, 10000)),
            high_score=int(_number(env, "CHECKIN_HIGH_SCORE", 15, 1, 27)),
            link_ttl_days=_number(env, "CHECKIN_LINK_TTL_DAYS", 180, 1, 3650),
            trigger_url=trigger.rstrip("/"),
        )

    def describe(self) -> str:
        quiet = "off"
        if self.quiet_hours is not None:
            (h1, m1), (h2, m2) = divmod(self.quiet_hours[0], 60), divmod(self.quiet_hours[1], 60)
            quiet = f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"
        return (
            f"every {self.interval_seconds:g}s, quiet hours {quiet}, reminder after "
            f"{self.reminder_after_seconds:g}s, poll {self.poll_seconds:g}s, lease {self.lease_seconds:g}s, "
            f"batch {self.batch_size}"
        )
