"""The check-ins' schedule in the database: subscribe, claim, take, finish; exactly once.

Against SQLite and PostgreSQL (SKIP LOCKED), with a fake clock and several workers at once.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, List, Set

import pytest

from tests.support.postgres import fresh_database
from trd.checkins.config import CheckinConfig
from trd.checkins.notify import missed_hook
from trd.checkins.store import ACTION_REMIND, ACTION_SEND, CheckinStore, Claim, total_of
from trd.store.checkin_models import SUB_ACTIVE, SUB_PAUSED, SUB_STOPPED
from trd.store.escalation_models import KIND_FOLLOWUP, PRIORITY_ROUTINE, Escalation
from trd.store.migrate import upgrade

# Every test migrates a database (SQLite, and PostgreSQL where marked): 0.3 s or more each.
pytestmark = pytest.mark.slow

NY = "America/New_York"
SENDER = "sms-" + "a" * 32


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    url = fresh_database("checkins")
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


# Monday 2 March 2026, 10:00 in New York (15:00 UTC)
START = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def make_store(url: str, clock: Clock) -> Callable[..., CheckinStore]:
    made: List[CheckinStore] = []

    def make(worker: str = "w1", **config: object) -> CheckinStore:
        store = CheckinStore.from_url(url, config=CheckinConfig(**config), clock=clock, worker_id=worker)  # type: ignore[arg-type]
        made.append(store)
        return store

    yield make  # type: ignore[misc]
    for s in made:
        s.dispose()


def send(store: CheckinStore, claim: Claim) -> None:
    """What the Rasa server does with a claim: take it, text it, report it."""
    taken = store.begin(claim.checkin_id, claim.token, claim.action)
    assert taken is not None
    if claim.action == ACTION_SEND:
        store.finish(claim.checkin_id, claim.token, True, None, missed_hook(store))


def test_subscribing_schedules_one_week_ahead_in_daytime(
    make_store: Callable[..., CheckinStore], clock: Clock
) -> None:
    store = make_store()
    sub = store.subscribe(SENDER, "sms", NY, SENDER)
    assert sub.status == SUB_ACTIVE and sub.timezone == NY
    upcoming = store.upcoming(sub.id)
    assert upcoming is not None and upcoming.sequence == 1
    assert upcoming.due_at == datetime(2026, 3, 9, 14, 0, tzinfo=timezone.utc)  # 10:00 EDT, after the change
    assert store.claim_due(10) == []  # nothing due yet
    again = store.subscribe(SENDER, "sms", NY, SENDER)  # opting in twice schedules nothing more
    assert again.id == sub.id and len(store.checkins(sub.id)) == 1


def test_a_due_check_in_is_claimed_taken_and_finished_once(
    make_store: Callable[..., CheckinStore], clock: Clock
) -> None:
    store = make_store()
    sub = store.subscribe(SENDER, "sms", NY, SENDER)
    clock.advance(days=7)
    [claim] = store.claim_due(10)
    assert claim.action == ACTION_SEND and claim.sequence == 1 and claim.subscription.sms_sender_id == SENDER
    assert store.claim_due(10) == []  # leased
    assert store.begin(claim.checkin_id, "not-the-token", ACTION_SEND) is None
    assert store.begin(claim.checkin_id, claim.token, ACTION_SEND) is not None
    assert store.begin(claim.checkin_id, claim.token, ACTION_SEND) is None  # never taken twice
    result = store.finish(claim.checkin_id, claim.token, True)
    assert result.next_checkin is not None and result.next_checkin.sequence == 2
    rows = store.checkins(sub.id)
    assert [r.status for r in rows] == ["sent", "scheduled"]
    assert rows[0].next_action_at == rows[0].sent_at + timedelta(days=1)  # the one reminder
    # A day later the reminder is due, once.
    clock.advance(days=1)
    [reminder] = store.claim_due(10)
    assert reminder.action == ACTION_REMIND
    assert store.begin(reminder.checkin_id, reminder.token, ACTION_REMIND) is not None
    assert store.begin(reminder.checkin_id, reminder.token, ACTION_REMIND) is None
    clock.advance(days=2)
    assert store.claim_due(10) == []


def test_answers_complete_a_check_in_and_the_next_week_marks_nothing_missed(
    make_store: Callable[..., CheckinStore], clock: Clock
) -> None:
    store = make_store()
    sub = store.subscribe(SENDER, "sms", NY, SENDER)
    clock.advance(days=7)
    send(store, store.claim_due(10)[0])
    current = store.current(sub.id)
    assert current is not None
    store.save_progress(current.id, [1, 2, None, None, None, None, None, None, None])
    done = store.complete(current.id, [1, 2, 1, 0, 3, 1, 2, 0, 0])
    assert done is not None and done.total == 10 and done.status == "answered"
    assert store.complete(current.id, [0] * 9) is None  # finished once
    assert store.save_note(current.id, "  started   lithium  ")
    assert store.get(current.id).note == "started lithium"  # type: ignore[union-attr]
    clock.advance(days=7)
    send(store, store.claim_due(10)[0])
    assert [r.status for r in store.checkins(sub.id)] == ["answered", "sent", "scheduled"]
    assert total_of([1, None] + [0] * 7) is None


def test_unanswered_weeks_become_missed_and_two_after_a_high_score_notify_the_care_team(
    url: str, make_store: Callable[..., CheckinStore], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESCALATION_WEBHOOK_URL", "https://care.example.org/hook")
    store = make_store()
    sub = store.subscribe(SENDER, "sms", NY, SENDER)
    clock.advance(days=7)
    send(store, store.claim_due(10)[0])
    store.complete(store.current(sub.id).id, [3, 3, 2, 2, 2, 1, 2, 1, 0])  # type: ignore[union-attr]  # 16
    for _ in range(3):
        clock.advance(days=7)
        claims = [c for c in store.claim_due(10) if c.action == ACTION_SEND]
        send(store, claims[0])
    statuses = [r.status for r in store.checkins(sub.id)]
    assert statuses == ["answered", "missed", "missed", "sent", "scheduled"]
    with store.engine.connect() as conn:
        rows = conn.execute(Escalation.__table__.select()).mappings().all()
    assert len(rows) == 1  # once, not again for the third missed week
    row = rows[0]
    assert row["kind"] == KIND_FOLLOWUP and row["priority"] == PRIORITY_ROUTINE and row["crisis_id"] is None
    payload = row["payload"]
    assert payload["reason"] == "missed_after_high_score" and payload["phq9"]["latest"] == 16
    assert payload["contact"] == {"phone": None, "sms_sender": SENDER}


def test_later_moves_the_reminder_and_pause_stop_resume(
    make_store: Callable[..., CheckinStore], clock: Clock
) -> None:
    store = make_store(later_seconds=3 * 3600)
    sub = store.subscribe(SENDER, "sms", NY, SENDER)
    clock.advance(days=7)
    send(store, store.claim_due(10)[0])
    current = store.current(sub.id)
    when = store.later(current.id)  # type: ignore[union-attr]
    assert when == clock.now + timedelta(hours=3)
    store.set_status(sub.id, SUB_PAUSED)
    clock.advance(days=30)
    assert store.claim_due(10) == []  # paused: nothing sent, nothing reminded
    assert [r.status for r in store.checkins(sub.id)] == ["sent", "cancelled"]
    store.set_status(sub.id, SUB_ACTIVE)
    upcoming = store.upcoming(sub.id)
    assert upcoming is not None and upcoming.due_at > clock.now
    store.set_status(sub.id, SUB_STOPPED)
    clock.advance(days=30)
    assert store.claim_due(10) == []


def test_a_send_left_mid_way_is_counted_as_sent_never_repeated(
    make_store: Callable[..., CheckinStore], clock: Clock
) -> None:
    store = make_store(lease_seconds=60)
    sub = store.subscribe(SENDER, "sms", NY, SENDER)
    clock.advance(days=7)
    [claim] = store.claim_due(10)
    assert store.begin(claim.checkin_id, claim.token, ACTION_SEND) is not None  # then the server died
    clock.advance(seconds=61)
    assert store.claim_due(10) == []  # not sent again
    rows = store.checkins(sub.id)
    assert [r.status for r in rows] == ["sent", "scheduled"]
    assert store.attempts(claim.checkin_id)[0]["outcome"] == "abandoned"


def test_a_claim_whose_worker_died_is_taken_again_after_the_lease(
    make_store: Callable[..., CheckinStore], clock: Clock
) -> None:
    store = make_store(lease_seconds=60)
    store.subscribe(SENDER, "sms", NY, SENDER)
    clock.advance(days=7)
    [first] = store.claim_due(10)  # the worker dies before calling the server
    clock.advance(seconds=61)
    [second] = store.claim_due(10)
    assert second.checkin_id == first.checkin_id and second.attempt == 2 and second.recovered
    assert store.begin(first.checkin_id, first.token, ACTION_SEND) is None  # the stale claim is refused
    assert store.begin(second.checkin_id, second.token, ACTION_SEND) is not None


@pytest.mark.slow  # threads against a real database
def test_many_workers_claim_disjoint_rows_and_every_check_in_is_sent_once(
    make_store: Callable[..., CheckinStore], clock: Clock
) -> None:
    setup = make_store()
    subs = [setup.subscribe(f"sms-{i:032x}", "sms", NY, f"sms-{i:032x}") for i in range(60)]
    clock.advance(days=7)
    taken: List[str] = []
    lock = threading.Lock()
    errors: List[BaseException] = []

    def worker(name: str) -> None:
        store = make_store(worker=name)
        try:
            while True:
                claims = store.claim_due(7)
                if not claims:
                    return
                for claim in claims:
                    if store.begin(claim.checkin_id, claim.token, claim.action) is not None:
                        store.finish(claim.checkin_id, claim.token, True)
                        with lock:
                            taken.append(claim.checkin_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(taken) == len(set(taken)) == len(subs)
    ids: Set[str] = set()
    for sub in subs:
        rows = setup.checkins(sub.id)
        assert [r.status for r in rows] == ["sent", "scheduled"]
        ids.add(rows[0].id)
    assert ids == set(taken)


def test_web_link_subscriptions_and_codes(make_store: Callable[..., CheckinStore], clock: Clock) -> None:
    store = make_store()
    sub = store.subscribe("web-abc", "web", NY)
    token = "t" * 43
    store.set_link(sub.id, token, clock.now + timedelta(days=180))
    assert store.subscription_for_link(token).id == sub.id  # type: ignore[union-attr]
    assert store.subscription_for_link("u" * 43) is None
    clock.advance(days=181)
    assert store.subscription_for_link(token) is None  # expired
    store.create_code("web-abc", SENDER, "123456", "secret-key-123456789", NY)
    assert store.check_code("web-abc", "000000", "secret-key-123456789") is None
    found = store.check_code("web-abc", "123 456", "secret-key-123456789")
    assert found == {"sms_sender_id": SENDER, "timezone": NY}
    assert store.check_code("web-abc", "123456", "secret-key-123456789") is None  # used
    store.create_code("web-abc", SENDER, "654321", "secret-key-123456789", NY)
    for _ in range(5):
        assert store.check_code("web-abc", "111111", "secret-key-123456789") is None
    assert store.check_code("web-abc", "654321", "secret-key-123456789") is None  # too many tries
    assert store.delete_conversation("web-abc") >= 3
    assert store.subscription("web-abc") is None


def test_an_intake_save_keeps_the_follow_up_series(url: str) -> None:
    from trd.store.repository import InMemoryRepository
    from trd.store.sql import SqlRepository

    sql = SqlRepository.from_url(url)
    for repo in (InMemoryRepository(), sql):
        series = [{"date": "2026-03-09", "phq9": [1] * 9}]
        repo.save_intake("conv-f", {"phq9": [2] * 9, "follow_up": series, "follow_up_incomplete": []})
        repo.save_intake("conv-f", {"phq9": [3] * 9})  # the intake saves again, without the series
        stored = repo.intake("conv-f")
        assert stored is not None and stored["phq9"] == [3] * 9 and stored["follow_up"] == series
        repo.save_intake("conv-f", {"phq9": [3] * 9, "follow_up": []})  # the check-ins rewrite it
        assert repo.intake("conv-f")["follow_up"] == []  # type: ignore[index]
    sql.dispose()
