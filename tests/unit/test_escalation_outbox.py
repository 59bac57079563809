"""The escalation outbox: written with the crisis (one transaction), claimed safely, audited.

The repository part runs against the in-memory fake, SQLite and PostgreSQL (the same
contract as tests/unit/test_repository_contract.py); the claim logic against SQLite and
PostgreSQL, with several workers at once.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Set

import pytest
import sqlalchemy as sa

from tests.support.postgres import fresh_database
from trd.escalation.cases import FloodPolicy
from trd.escalation.outbox import ABANDONED_NOTE, Claim, SqlOutbox
from trd.store.migrate import upgrade
from trd.store.repository import EscalationRequest, InMemoryRepository, Repository
from trd.store.sql import SqlRepository

PHONE = "+15550142377"


def request(channel: str = "sms", destinations: tuple = ("webhook", "sms")) -> EscalationRequest:
    base = {
        "type": "crisis_escalation",
        "conversation_id": "conv-e",
        "channel": channel,
        "risk_category": "plan",
        "contact": {"phone": PHONE if channel == "sms" else None, "note": "n"},
    }
    payloads = {
        d: {**base, **({"last_messages": [{"from": "person", "text": "t"}]} if d == "webhook" else {})}
        for d in destinations
    }
    return EscalationRequest(channel=channel, payloads=payloads)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'db' / 'trd.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    url = fresh_database("outbox")
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def repo(request: pytest.FixtureRequest) -> Iterator[Repository]:
    if request.param == "memory":
        yield InMemoryRepository()
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    sql = SqlRepository.from_url(url)
    yield sql
    sql.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# --- written with the crisis --------------------------------------------------------------------


def test_a_crisis_with_an_escalation_writes_one_pending_row_per_destination(repo: Repository) -> None:
    crisis = repo.record_crisis("conv-e", "twilio", "plan", "excerpt", escalation=request())
    rows = repo.escalations("conv-e")
    assert [r.destination for r in rows] == ["sms", "webhook"]
    assert repo.crises("conv-e") == [crisis]
    for row in rows:
        assert str(uuid.UUID(row.id)) == row.id
        assert (row.crisis_id, row.conversation_id, row.channel) == (crisis.id, "conv-e", "sms")
        assert (row.status, row.attempts, row.delivered_at) == ("pending", 0, None)
        assert row.payload["id"] == row.id and row.payload["crisis_id"] == crisis.id
        assert row.payload["contact"]["phone"] == PHONE
        assert row.next_attempt_at == row.created_at  # due at once
        assert abs(row.created_at - crisis.created_at) < timedelta(seconds=5)
    assert rows[0].id != rows[1].id
    assert "last_messages" in rows[1].payload and "last_messages" not in rows[0].payload


def test_without_an_escalation_no_row_is_written(repo: Repository) -> None:
    repo.record_crisis("conv-e", "rest", "plan", "excerpt")
    assert repo.escalations("conv-e") == []
    repo.record_crisis("conv-e", "rest", "sos", "again", escalation=request("rest", ("webhook",)))
    second = repo.escalations("conv-e")
    assert [(r.destination, r.crisis_id) for r in second] == [("webhook", repo.crises("conv-e")[1].id)]


def test_every_crisis_gets_its_own_escalation(repo: Repository) -> None:
    a = repo.record_crisis("conv-e", "rest", "plan", "one", escalation=request("rest", ("webhook",)))
    b = repo.record_crisis("conv-e", "rest", "sos", "two", escalation=request("rest", ("webhook",)))
    repo.record_crisis("conv-other", "rest", "sos", "x", escalation=request("rest", ("webhook",)))
    rows = repo.escalations("conv-e")
    assert [r.crisis_id for r in rows] == [a.id, b.id]
    assert len({r.id for r in rows}) == 2


@pytest.mark.slow
@pytest.mark.parametrize(
    "bad",
    [
        EscalationRequest(channel="sms", payloads={}),
        EscalationRequest(channel="sms", payloads={"email": {"a": 1}}),
        EscalationRequest(channel="", payloads={"webhook": {"a": 1}}),
        EscalationRequest(channel="sms", payloads={"webhook": {"a": float("nan")}}),
        EscalationRequest(channel="sms", payloads={"webhook": {"when": datetime.now(timezone.utc)}}),
    ],
    ids=["no destination", "unknown destination", "no channel", "NaN", "datetime"],
)
def test_an_unusable_escalation_is_refused_and_nothing_is_written(
    repo: Repository, bad: EscalationRequest
) -> None:
    with pytest.raises(ValueError):
        repo.record_crisis("conv-bad", "rest", "plan", "x", escalation=bad)
    assert repo.crises("conv-bad") == []
    assert repo.escalations("conv-bad") == []


def test_payload_text_is_cleaned_like_every_other_json_document(repo: Repository) -> None:
    req = EscalationRequest(
        "rest", {"webhook": {"last_messages": [{"text": "end\x00it \ud800"}], "t": (1, 2)}}
    )
    repo.record_crisis("conv-j", "rest", "plan", "x", escalation=req)
    [row] = repo.escalations("conv-j")
    assert row.payload["last_messages"] == [{"text": "endit ?"}]
    assert row.payload["t"] == [1, 2]


def test_if_the_outbox_insert_fails_the_crisis_is_not_half_recorded(sql_url: str) -> None:
    """One transaction: the outbox table is missing (migration 0003 not applied) -> nothing is written."""
    repo = SqlRepository.from_url(sql_url)
    try:
        with repo.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE trd_escalations RENAME TO trd_escalations_elsewhere"))
        with pytest.raises(sa.exc.DBAPIError):
            repo.record_crisis("conv-atomic", "twilio", "plan", "x", escalation=request())
        assert repo.crises("conv-atomic") == []
        with repo.engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM trd_escalations_elsewhere")).scalar()
        assert count == 0
        # the crisis alone can still be recorded (what the action falls back to; see test_escalation_actions)
        alone = repo.record_crisis("conv-atomic", "twilio", "plan", "x")
        assert repo.crises("conv-atomic") == [alone]
    finally:
        repo.dispose()


# --- claiming -------------------------------------------------------------------------------------


def _enqueue(url: str, n: int, conversation: str = "conv-c") -> List[str]:
    """``n`` crises in ``n`` conversations (one conversation's later crises update its one
    open escalation instead of paging again: test_escalation_flood.py)."""
    repo = SqlRepository.from_url(url)
    try:
        for i in range(n):
            repo.record_crisis(
                f"{conversation}-{i}",
                "rest",
                "plan",
                f"m{i}",
                # no rate alarm here: the claims under test are the crises' own rows
                escalation=replace(request("rest", ("webhook",)), policy=FloodPolicy(alarm_per_minute=0)),
            )
        return [r.id for i in range(n) for r in repo.escalations(f"{conversation}-{i}")]
    finally:
        repo.dispose()


def _outbox(url: str, clock: Callable[[], datetime], name: str) -> SqlOutbox:
    return SqlOutbox.from_url(url, worker_id=name, clock=clock)


def test_a_due_row_is_claimed_once_and_audited(sql_url: str) -> None:
    [row_id] = _enqueue(sql_url, 1)
    clock = Clock()
    a, b = _outbox(sql_url, clock, "worker-a"), _outbox(sql_url, clock, "worker-b")
    try:
        [claim] = a.claim_due(10, lease_seconds=30)
        assert (claim.id, claim.attempt, claim.destination, claim.recovered) == (row_id, 1, "webhook", False)
        assert claim.payload["id"] == row_id
        assert b.claim_due(10, lease_seconds=30) == []  # held by worker-a for the lease
        assert a.claim_due(10, lease_seconds=30) == []
        row = a.get(row_id)
        assert row is not None and row.status == "pending" and row.attempts == 1
        assert row.next_attempt_at == clock.now + timedelta(seconds=30)
        [attempt] = a.attempts(row_id)
        assert (attempt.attempt, attempt.worker, attempt.outcome, attempt.finished_at) == (
            1,
            "worker-a",
            "in_progress",
            None,
        )
    finally:
        a.dispose()
        b.dispose()


def test_a_failed_attempt_waits_for_its_backoff_then_is_due_again(sql_url: str) -> None:
    [row_id] = _enqueue(sql_url, 1)
    clock = Clock()
    box = _outbox(sql_url, clock, "w")
    try:
        [claim] = box.claim_due(10, 30)
        assert box.mark_failed(claim, clock.now + timedelta(seconds=4), 500, "the webhook answered 500")
        assert box.claim_due(10, 30) == []
        clock.advance(3.9)
        assert box.claim_due(10, 30) == []
        clock.advance(0.2)
        [again] = box.claim_due(10, 30)
        assert (again.id, again.attempt, again.recovered) == (row_id, 2, False)
        row = box.get(row_id)
        assert row is not None and row.attempts == 2
        first, second = box.attempts(row_id)
        assert (first.outcome, first.http_status, first.error) == ("failed", 500, "the webhook answered 500")
        assert first.finished_at is not None and second.outcome == "in_progress"
    finally:
        box.dispose()


def test_delivered_rows_are_never_claimed_again_and_lose_the_phone_number(sql_url: str) -> None:
    repo = SqlRepository.from_url(sql_url)
    repo.record_crisis("conv-d", "twilio", "plan", "x", escalation=request("sms", ("sms",)))
    clock = Clock()
    box = _outbox(sql_url, clock, "w")
    try:
        [claim] = box.claim_due(10, 30)
        assert claim.payload["contact"]["phone"] == PHONE  # what the notifier sends
        assert box.mark_delivered(claim, 201)
        assert not box.mark_delivered(claim, 201)  # already delivered
        clock.advance(3600)
        assert box.claim_due(10, 30) == []
        [row] = repo.escalations("conv-d")
        assert row.status == "delivered" and row.delivered_at == clock.now - timedelta(seconds=3600)
        assert (
            row.payload["contact"]["phone"] is None and "removed" in row.payload["contact"]["phone_removed"]
        )
        with box.engine.connect() as conn:
            dump = str(conn.execute(sa.text("SELECT * FROM trd_escalations")).all())
        assert PHONE not in dump
        [attempt] = box.attempts(row.id)
        assert (attempt.outcome, attempt.http_status, attempt.error) == ("delivered", 201, None)
    finally:
        box.dispose()
        repo.dispose()


def test_a_worker_that_died_mid_delivery_loses_nothing(sql_url: str) -> None:
    """No report from the claiming worker: after the lease the row is taken again, same id."""
    [row_id] = _enqueue(sql_url, 1)
    clock = Clock()
    dead, alive = _outbox(sql_url, clock, "dead"), _outbox(sql_url, clock, "alive")
    try:
        [lost] = dead.claim_due(10, lease_seconds=20)
        clock.advance(19)
        assert alive.claim_due(10, 20) == []
        clock.advance(1.5)
        [claim] = alive.claim_due(10, 20)
        assert (claim.id, claim.attempt, claim.recovered) == (row_id, 2, True)
        assert claim.payload == lost.payload  # the same escalation, the same idempotency key
        first, second = alive.attempts(row_id)
        assert (first.worker, first.outcome, first.error) == ("dead", "abandoned", ABANDONED_NOTE)
        assert (second.worker, second.outcome) == ("alive", "in_progress")
        # the old worker coming back to life cannot reschedule a row it no longer holds...
        assert not dead.mark_failed(lost, clock.now + timedelta(hours=1), None, "timeout")
        row = alive.get(row_id)
        assert row is not None and row.next_attempt_at == clock.now + timedelta(seconds=20)
        assert alive.attempts(row_id)[0].outcome == "failed"  # ...but its attempt's real outcome is kept
        # ...while a delivery is a delivery, whoever made it
        assert dead.mark_delivered(lost, 200)
        assert not alive.mark_delivered(claim, 200)
        row = alive.get(row_id)
        assert row is not None and row.status == "delivered"
    finally:
        dead.dispose()
        alive.dispose()


def test_a_released_claim_is_due_at_once(sql_url: str) -> None:
    [row_id] = _enqueue(sql_url, 1)
    clock = Clock()
    box = _outbox(sql_url, clock, "w")
    try:
        [claim] = box.claim_due(10, 60)
        assert box.release(claim)
        [again] = box.claim_due(10, 60)
        assert (again.id, again.attempt, again.recovered) == (row_id, 2, False)
        assert [a.outcome for a in box.attempts(row_id)] == ["released", "in_progress"]
    finally:
        box.dispose()


def test_claims_take_the_oldest_due_rows_up_to_the_limit(sql_url: str) -> None:
    ids = _enqueue(sql_url, 5)
    clock = Clock()
    box = _outbox(sql_url, clock, "w")
    try:
        first = box.claim_due(2, 60)
        rest = box.claim_due(10, 60)
        assert len(first) == 2 and len(rest) == 3
        assert {c.id for c in first} | {c.id for c in rest} == set(ids)
        assert box.claim_due(0, 60) == []
    finally:
        box.dispose()


def test_urgent_rows_are_claimed_before_routine_ones_due_earlier(sql_url: str) -> None:
    """A crisis page never waits behind follow-up notifications (priority routine, issue 12)."""
    ids = _enqueue(sql_url, 3)
    engine = sa.create_engine(sql_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE trd_escalations SET priority = 'routine', next_attempt_at = :early "
                    "WHERE id IN (:a, :b)"
                ),
                {"early": datetime(2000, 1, 1), "a": ids[0], "b": ids[1]},
            )
    finally:
        engine.dispose()
    box = _outbox(sql_url, Clock(), "w")
    try:
        assert [c.id for c in box.claim_due(1, 60)] == [ids[2]]
        assert {c.id for c in box.claim_due(5, 60)} == {ids[0], ids[1]}
    finally:
        box.dispose()


def _race(url: str, workers: int, rows: int) -> Dict[str, List[str]]:
    """``workers`` outboxes (own engines, like processes) claim all ``rows`` at once."""
    _enqueue(url, rows, conversation="conv-race")
    claimed: Dict[str, List[str]] = {}
    errors: List[BaseException] = []
    start = threading.Barrier(workers)

    def work(name: str) -> None:
        box = SqlOutbox.from_url(url, worker_id=name)
        mine: List[str] = []
        try:
            start.wait()
            while True:
                got: List[Claim] = box.claim_due(3, lease_seconds=300)
                if not got:
                    break
                mine.extend(c.id for c in got)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            claimed[name] = mine
            box.dispose()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return claimed


@pytest.mark.slow
def test_concurrent_workers_never_hold_the_same_row_sqlite(sqlite_url: str) -> None:
    claimed = _race(sqlite_url, workers=4, rows=30)
    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == 30 and len(set(every)) == 30


@pytest.mark.postgres
def test_concurrent_workers_never_hold_the_same_row_postgres(pg_url: str) -> None:
    claimed = _race(pg_url, workers=6, rows=60)
    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == 60 and len(set(every)) == 60
    assert sum(1 for ids in claimed.values() if ids) >= 2  # really concurrent, not one worker taking all


@pytest.mark.postgres
def test_postgres_skips_rows_another_worker_has_locked_instead_of_waiting(pg_url: str) -> None:
    ids = _enqueue(pg_url, 3)
    engine = sa.create_engine(pg_url)
    box = SqlOutbox.from_url(pg_url, worker_id="w")
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(sa.text("SET lock_timeout = '5s'"))
            locked = conn.execute(
                sa.text("SELECT id FROM trd_escalations WHERE id = :id FOR UPDATE"), {"id": ids[0]}
            ).scalar()
            assert locked == ids[0]
            # another worker mid-claim holds ids[0]: this claim gets the others, at once
            got: Set[str] = {c.id for c in box.claim_due(10, 60)}
            assert got == set(ids[1:])
        [late] = box.claim_due(10, 60)
        assert late.id == ids[0]
    finally:
        box.dispose()
        engine.dispose()
