"""The check-in scheduler's decisions, with a fake Rasa server: quiet hours, pauses, web links,
an unreachable server, and eight weeks of a fake clock in well under a second."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List

import pytest

from trd.checkins.config import CheckinConfig
from trd.checkins.store import ACTION_SEND, CheckinStore, Claim
from trd.checkins.worker import Scheduler, TriggerResult
from trd.store.checkin_models import SUB_PAUSED
from trd.store.migrate import upgrade

# Every test migrates a database (SQLite, and PostgreSQL where marked): 0.3 s or more each.
pytestmark = pytest.mark.slow

NY = "America/New_York"
SENDER = "sms-" + "b" * 32
START = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)  # Monday 10:00 in New York


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class FakeServer:
    """What the Rasa server's check-in route does, minus the texting; or an outage."""

    def __init__(self, store: CheckinStore) -> None:
        self.store = store
        self.down = False
        self.texts: List[tuple] = []

    async def trigger(self, claim: Claim) -> TriggerResult:
        if self.down:
            return TriggerResult("failed", "network error: ClientConnectorError", retry=True)
        taken = self.store.begin(claim.checkin_id, claim.token, claim.action)
        if taken is None:
            return TriggerResult("duplicate")
        if claim.action == ACTION_SEND:
            self.store.finish(claim.checkin_id, claim.token, True)
        self.texts.append((claim.action, claim.sequence, self.store.now()))
        return TriggerResult("sent")

    async def close(self) -> None:
        return None


@pytest.fixture
def parts(tmp_path: Path) -> tuple:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    clock = Clock()
    config = CheckinConfig()
    store = CheckinStore.from_url(url, config=config, clock=clock)
    server = FakeServer(store)
    yield store, server, Scheduler(store, server, config, clock), clock
    store.dispose()


def run(scheduler: Scheduler) -> List[str]:
    return asyncio.run(scheduler.run_once())


@pytest.mark.slow  # 1,345 scheduler passes (one an hour for eight weeks)
def test_eight_weeks_of_check_ins_and_reminders_in_daytime(parts: tuple) -> None:
    store, server, scheduler, clock = parts
    sub = store.subscribe(SENDER, "sms", NY, SENDER)
    hour = timedelta(hours=1)
    end = START + timedelta(weeks=8, hours=1)
    while clock.now < end:
        clock.now += hour
        run(scheduler)
    sends = [t for t in server.texts if t[0] == "send"]
    reminders = [t for t in server.texts if t[0] == "reminder"]
    assert [s[1] for s in sends] == list(range(1, 9))
    assert [r[1] for r in reminders] == list(
        range(1, 8)
    )  # nobody answered: one reminder each (the 8th is due tomorrow)
    for _, _, when in server.texts:
        local = when.astimezone(__import__("zoneinfo").ZoneInfo(NY))
        assert 9 <= local.hour < 21, local  # never in the quiet hours
        assert local.weekday() in (0, 1)  # Mondays, reminders on Tuesdays
    statuses = [r.status for r in store.checkins(sub.id)]
    assert statuses == ["missed"] * 7 + ["sent", "scheduled"]


def test_a_due_check_in_waits_for_the_end_of_the_quiet_hours(parts: tuple) -> None:
    store, server, scheduler, clock = parts
    clock.now = datetime(2026, 3, 3, 3, 0, tzinfo=timezone.utc)  # 22:00 in New York
    store.subscribe(SENDER, "sms", NY, SENDER)  # due a week later at 22:00, moved to 9:00
    upcoming = store.upcoming(store.subscription(SENDER).id)  # type: ignore[union-attr]
    assert upcoming is not None and upcoming.due_at == datetime(2026, 3, 10, 13, 0, tzinfo=timezone.utc)
    # The worker was down over the due time and comes back in the evening:
    clock.now = datetime(2026, 3, 11, 2, 30, tzinfo=timezone.utc)  # 22:30 EDT
    assert run(scheduler) == ["deferred"]
    assert server.texts == []
    clock.now = datetime(2026, 3, 11, 12, 59, tzinfo=timezone.utc)
    assert run(scheduler) == []
    clock.now = datetime(2026, 3, 11, 13, 0, tzinfo=timezone.utc)  # 9:00 EDT
    assert run(scheduler) == ["sent"]


def test_an_unreachable_server_is_retried_with_backoff_and_loses_nothing(parts: tuple) -> None:
    store, server, scheduler, clock = parts
    sub = store.subscribe(SENDER, "sms", NY, SENDER)
    clock.now += timedelta(days=7)
    server.down = True
    assert run(scheduler) == ["retry"]
    assert run(scheduler) == []  # backing off
    clock.now += timedelta(seconds=6)
    assert run(scheduler) == ["retry"]
    server.down = False
    clock.now += timedelta(seconds=11)
    assert run(scheduler) == ["sent"]
    first = store.checkins(sub.id)[0]
    assert [a["outcome"] for a in store.attempts(first.id)] == ["failed", "failed", "sent"]


def test_paused_check_ins_are_not_sent(parts: tuple) -> None:
    store, server, scheduler, clock = parts
    sub = store.subscribe(SENDER, "sms", NY, SENDER)
    store.set_status(sub.id, SUB_PAUSED)
    clock.now += timedelta(days=8)
    assert run(scheduler) == []
    assert server.texts == []


def test_a_web_link_check_in_opens_without_a_text(parts: tuple) -> None:
    store, server, scheduler, clock = parts
    sub = store.subscribe("web-xyz", "web", NY)
    clock.now += timedelta(days=7)
    assert run(scheduler) == ["open"]
    assert server.texts == []
    rows = store.checkins(sub.id)
    assert [r.status for r in rows] == ["sent", "scheduled"] and rows[0].next_action_at is None
