"""One open escalation per conversation (#10, trd/escalation/cases.py): later crises add to it,
the care team is paged once and then updated at most every few minutes, a case closes when the
person is safe or after a quiet spell, and a global rate alarm sounds once per window.

Every backend: the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, List

import pytest
import sqlalchemy as sa

from tests.support.postgres import fresh_database
from trd.escalation.cases import ALARM_TYPE, UPDATE_TYPE, FloodPolicy
from trd.escalation.outbox import SqlOutbox
from trd.store.migrate import upgrade
from trd.store.repository import EscalationRecord, EscalationRequest, InMemoryRepository, Repository
from trd.store.sql import SqlRepository

POLICY = FloodPolicy(update_min_seconds=300, close_after_seconds=7200, alarm_per_minute=20)


def request(n: int, channel: str = "rest", policy: FloodPolicy = POLICY) -> EscalationRequest:
    base = {
        "type": "crisis_escalation",
        "channel": channel,
        "risk_category": "plan" if n % 2 else "intent",
        "time": f"2026-12-07T02:{n // 60:02d}:{n % 60:02d}Z",
        "contact": {"phone": None, "note": "n"},
    }
    message = {"from": "person", "text": f"risky message {n}", "time": base["time"]}
    return EscalationRequest(
        channel=channel,
        payloads={"webhook": {**base, "last_messages": [message]}, "sms": dict(base)},
        policy=policy,
    )


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repository]:
    if request.param == "memory":
        yield InMemoryRepository()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    else:
        request.getfixturevalue("postgres_url")
        url = fresh_database("flood")
    upgrade(url)
    sql = SqlRepository.from_url(url)
    yield sql
    sql.dispose()


def kinds(rows: List[EscalationRecord]) -> List[tuple]:
    return sorted((r.kind, r.destination) for r in rows)


def test_a_hundred_crises_in_one_conversation_page_once_and_update_once(repo: Repository) -> None:
    start = datetime.now(timezone.utc)
    for n in range(100):
        repo.record_crisis("conv-flood", "rest", "plan", f"risky message {n}", escalation=request(n))
    assert len(repo.crises("conv-flood")) == 100  # the clinician's record keeps every crisis
    rows = repo.escalations("conv-flood")
    assert kinds(rows) == [("page", "sms"), ("page", "webhook"), ("update", "webhook")]
    pages = [r for r in rows if r.kind == "page"]
    [update] = [r for r in rows if r.kind == "update"]
    assert len({r.case_id for r in rows}) == 1 and rows[0].case_id
    assert all(p.payload["case_id"] == update.case_id for p in pages)
    # The update waits for the interval after the page, and holds the latest messages.
    assert update.next_attempt_at >= start + timedelta(seconds=299)
    assert update.payload["type"] == UPDATE_TYPE and update.payload["crisis_count"] == 100
    texts = [m["text"] for m in update.payload["last_messages"]]
    assert texts[-1] == "risky message 99" and len(texts) == 20 and "risky message 0" not in texts
    assert update.payload["risk_category"] == "plan"  # the latest crisis's (99 is odd)


def test_other_conversations_are_paged_on_their_own(repo: Repository) -> None:
    for conversation in ("a", "b"):
        for n in range(3):
            repo.record_crisis(conversation, "rest", "plan", "x", escalation=request(n))
    a, b = repo.escalations("a"), repo.escalations("b")
    assert kinds(a) == kinds(b) == [("page", "sms"), ("page", "webhook"), ("update", "webhook")]
    assert {r.case_id for r in a}.isdisjoint({r.case_id for r in b})


def test_a_safe_person_s_case_closes_and_a_new_crisis_pages_again(repo: Repository) -> None:
    repo.record_crisis("conv-r", "rest", "plan", "x", escalation=request(1))
    repo.record_crisis("conv-r", "rest", "plan", "x", escalation=request(2))
    repo.resolve_open_crises("conv-r")
    repo.record_crisis("conv-r", "rest", "plan", "x", escalation=request(3))
    rows = repo.escalations("conv-r")
    assert [r.kind for r in rows if r.destination == "sms"] == ["page", "page"]
    assert len({r.case_id for r in rows}) == 2


def test_a_case_closes_after_the_quiet_spell_setting(repo: Repository) -> None:
    policy = replace(POLICY, close_after_seconds=0)  # every crisis comes after the "quiet spell"
    for n in range(3):
        repo.record_crisis("conv-q", "rest", "plan", "x", escalation=request(n, policy=policy))
    assert [r.kind for r in repo.escalations("conv-q")].count("page") == 6


def test_a_crisis_from_the_journal_after_the_quiet_spell_closes_the_old_case(tmp_path: Path) -> None:
    """One open escalation per conversation also when the new page comes from the journal."""
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    repo = SqlRepository.from_url(url)
    try:
        policy = replace(POLICY, close_after_seconds=0)
        repo.record_crisis("conv-j", "rest", "plan", "x", escalation=request(0, policy=policy))
        journalled = replace(request(1, policy=policy), journal={"deliver": True, "delivered": {}})
        repo.record_crisis("conv-j", "rest", "plan", "y", escalation=journalled)
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT close_reason FROM trd_escalation_cases WHERE conversation_id = 'conv-j' "
                        "ORDER BY opened_at"
                    )
                ).all()
        finally:
            engine.dispose()
        assert [r.close_reason for r in rows] == ["idle", None]
    finally:
        repo.dispose()


def test_updates_go_to_the_on_call_sms_only_when_it_is_the_only_destination(repo: Repository) -> None:
    for n in range(3):
        sms_only = EscalationRequest(
            channel="rest", payloads={"sms": request(n).payloads["sms"]}, policy=POLICY
        )
        repo.record_crisis("conv-s", "rest", "plan", "x", escalation=sms_only)
    assert kinds(repo.escalations("conv-s")) == [("page", "sms"), ("update", "sms")]


def test_the_rate_alarm_sounds_once_per_window(repo: Repository, caplog: pytest.LogCaptureFixture) -> None:
    for n in range(30):
        repo.record_crisis(f"conv-{n}", "rest", "plan", "x", escalation=request(n))
    alarms = [r for n in range(30) for r in repo.escalations(f"conv-{n}") if r.kind == "alarm"]
    assert sorted(r.destination for r in alarms) == ["sms", "webhook"]  # once, to every destination
    assert alarms[0].payload["type"] == ALARM_TYPE and alarms[0].payload["escalations_last_minute"] == 21
    assert alarms[0].conversation_id == "conv-20"  # the crisis that passed the limit
    # every conversation still got its own page
    assert all(any(r.kind == "page" for r in repo.escalations(f"conv-{n}")) for n in range(30))
    if not isinstance(repo, InMemoryRepository):
        assert "ESCALATION RATE ALARM" in caplog.text


def test_updates_after_delivery_are_spaced_by_the_interval(tmp_path: Path) -> None:
    """Over time: the pending update is delivered when due, and the next one is due an interval later."""
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    repo = SqlRepository.from_url(url)
    policy = replace(POLICY, update_min_seconds=0.5)
    try:
        repo.record_crisis("conv-t", "rest", "plan", "x", escalation=request(0, policy=policy))
        repo.record_crisis("conv-t", "rest", "plan", "x", escalation=request(1, policy=policy))
        [first_due] = [r.next_attempt_at for r in repo.escalations("conv-t") if r.kind == "update"]
        later = datetime.now(timezone.utc) + timedelta(seconds=2)
        box = SqlOutbox.from_url(url, clock=lambda: later)
        claims = box.claim_due(10, 60)
        assert sorted(c.payload.get("type") for c in claims) == ["crisis_escalation"] * 2 + [UPDATE_TYPE]
        for claim in claims:
            box.mark_delivered(claim, 200)
        box.dispose()
        repo.record_crisis("conv-t", "rest", "plan", "x", escalation=request(2, policy=policy))
        updates = [r for r in repo.escalations("conv-t") if r.kind == "update"]
        assert len(updates) == 2 and updates[1].status == "pending"
        assert updates[1].next_attempt_at >= first_due + timedelta(seconds=0.5)
        assert updates[1].payload["last_messages"][-1]["text"] == "risky message 2"
    finally:
        repo.dispose()


def test_bad_flood_settings_fall_back_to_the_defaults(caplog: pytest.LogCaptureFixture) -> None:
    policy = FloodPolicy.from_env(
        {
            "ESCALATION_UPDATE_MIN_SECONDS": "five",
            "ESCALATION_ALARM_PER_MINUTE": "50",
            "ESCALATION_CLOSE_AFTER_SECONDS": "-1",
        }
    )
    assert policy == FloodPolicy(alarm_per_minute=50)
    assert "ESCALATION_UPDATE_MIN_SECONDS" in caplog.text and "ESCALATION_CLOSE_AFTER_SECONDS" in caplog.text
