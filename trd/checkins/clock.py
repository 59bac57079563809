"""The check-ins' clock, injectable: the system's, or (tests only) one read from a file.

Every part that decides *when* (the scheduler worker, the action server's "next check-in
on ...", the Rasa server's claim of a check-in) takes a ``Clock``. ``clock_from_env``
returns the system clock unless ``CHECKIN_CLOCK_FILE`` names a file: then "now" is the
ISO 8601 time written in it, so an integration test can move eight weeks in seconds for
every process at once. A missing or unreadable file falls back to the system clock, loudly.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


class FileClock:
    """Now is the time written in ``path`` (tests); the system clock if it cannot be read."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __call__(self) -> datetime:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except (OSError, ValueError):
            logger.error("checkins: the clock file %s cannot be read; using the system clock", self.path)
            return system_clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("naive datetime")
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(moment.astimezone(timezone.utc).isoformat(), encoding="utf-8")
        tmp.replace(self.path)


def clock_from_env(env: Mapping[str, str] = os.environ) -> Clock:
    path = env.get("CHECKIN_CLOCK_FILE", "").strip()
    if path:
        logger.warning("checkins: using the test clock in %s (CHECKIN_CLOCK_FILE)", path)
        return FileClock(Path(path))
    return system_clock
