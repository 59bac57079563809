"""Delete my data (#10, trd/privacy.py): every table loses the conversation's rows (Rasa's events
included), only a hashed audit row stays; an undelivered crisis escalation and an SMS opt-out
are the two stated exceptions; the retention purge deletes idle conversations the same way.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.postgres import fresh_database
from trd import privacy
from trd.escalation.outbox import SqlOutbox
from trd.sms.store import PhoneVault, SmsStore
from trd.store.db import make_engine
from trd.store.migrate import upgrade
from trd.store.models import all_metadata
from trd.store.repository import EscalationRequest
from trd.store.sql import SqlRepository
from trd.store.web_sessions import SqlSessionRegistry

PHONE_A, PHONE_B = "+15550142377", "+15550142388"
SECRET = "hash-secret-0123456789abcdef0123"
TEXT_A = "my private zebra words about lithium"

rasa = sa.MetaData()
EVENTS = sa.Table(
    "events",
    rasa,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("data", sa.Text),
)
SNAPSHOTS = sa.Table(
    "rasa_tracker_snapshots",
    rasa,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("events", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    else:
        request.getfixturevalue("postgres_url")
        url = fresh_database("privacy")
    upgrade(url)
    eng = make_engine(url)
    rasa.create_all(eng)
    yield eng
    eng.dispose()


def populate(engine: Engine, conversation: str, phone: str, text: str, when: float) -> None:
    """What a conversation leaves behind: events, a snapshot, intake, plan, crises, escalations,
    a summary link, SMS rows."""
    repo = SqlRepository(engine)
    with engine.begin() as conn:
        for i, kind in enumerate(("user", "bot", "user")):
            data = json.dumps({"event": kind, "text": f"{text} {i}", "timestamp": when + i})
            conn.execute(
                EVENTS.insert().values(sender_id=conversation, type_name=kind, timestamp=when + i, data=data)
            )
        conn.execute(
            SNAPSHOTS.insert().values(
                sender_id=conversation, last_event_id=1, events=json.dumps([{"text": text}]), updated_at=when
            )
        )
    repo.save_intake(conversation, {"note": text})
    repo.save_safety_plan(conversation, {"who_to_call": text})
    payload = {"type": "crisis_escalation", "last_messages": [{"from": "person", "text": text}]}
    repo.record_crisis(
        conversation, "twilio", "plan", text, escalation=EscalationRequest("sms", {"webhook": payload})
    )
    repo.create_summary_link(
        conversation, secrets.token_urlsafe(32), datetime.now(timezone.utc) + timedelta(days=1)
    )
    sms_store(engine).record_inbound("SM" + conversation[-8:].replace("-", "x"), phone)


def everything(engine: Engine) -> str:
    """Every row of every table, as text."""
    out = []
    with engine.connect() as conn:
        for name in sa.inspect(conn).get_table_names():
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            out += [f"{name}: {tuple(row)}" for row in conn.execute(sa.select(table))]
    return "\n".join(out)


def deliver_all(engine: Engine) -> None:
    box = SqlOutbox(engine)
    for claim in box.claim_due(100, 60):
        box.mark_delivered(claim, 200)


def sms_store(engine: Engine) -> SmsStore:
    return SmsStore(PhoneVault(SECRET), engine=engine)


def sender(phone: str) -> str:
    return PhoneVault(SECRET).sender_id_for(phone)


def test_delete_my_data_leaves_only_a_hashed_audit_row(engine: Engine) -> None:
    a, b = sender(PHONE_A), sender(PHONE_B)
    populate(engine, a, PHONE_A, TEXT_A, time.time())
    populate(engine, b, PHONE_B, "someone else's words", time.time())
    deliver_all(engine)  # the care team has both escalations
    before = everything(engine)
    assert a in before and TEXT_A in before

    removed = privacy.delete_conversation(engine, a, "sms")

    after = everything(engine)
    assert a not in after and TEXT_A not in after  # no row names them or holds what they wrote
    assert b in after and "someone else's words" in after  # nobody else's data is touched
    assert {
        "events",
        "rasa_tracker_snapshots",
        "trd_intakes",
        "trd_safety_plans",
        "trd_crisis_events",
        "trd_escalations",
        "trd_escalation_attempts",
        "trd_summary_links",
        "trd_sms_contacts",
        "trd_sms_inbound",
        "trd_escalation_cases",
    } <= set(removed)
    with engine.connect() as conn:
        [audit] = conn.execute(
            sa.text("SELECT channel, reason, subject_hash, rows_removed FROM trd_deletions")
        ).all()
    assert (audit.channel, audit.reason) == ("sms", "request")
    assert audit.subject_hash == privacy.subject_hash(a) and a not in str(tuple(audit))


def test_an_undelivered_escalation_is_kept_until_delivered_and_an_opt_out_is_kept(engine: Engine) -> None:
    a = sender(PHONE_A)
    populate(engine, a, PHONE_A, TEXT_A, time.time())  # its escalation is still pending
    store = sms_store(engine)
    store.set_opted_out(a, True)
    privacy.delete_conversation(engine, a, "sms")

    repo = SqlRepository(engine)
    [pending] = repo.escalations(a)
    assert pending.status == "pending" and TEXT_A in json.dumps(
        pending.payload
    )  # the care team still gets it
    assert [c.message_excerpt for c in repo.crises(a)] == [""]  # but the crisis text is gone now
    assert store.is_opted_out(a) and store.phone_for_sender(a) is None  # STOP honoured, number gone
    assert repo.intake(a) is None and repo.safety_plan(a) is None

    assert privacy.finish_deletions(engine) == 0  # not delivered yet: nothing more to do
    deliver_all(engine)
    assert privacy.finish_deletions(engine) == 1
    after = everything(engine)
    assert TEXT_A not in after and repo.escalations(a) == [] and repo.crises(a) == []
    assert store.is_opted_out(a)


def test_every_table_is_covered_by_the_deletion() -> None:
    """A table added later must name the conversation (or hang off one that does), or be listed."""
    covered = set(privacy._selectors("x")) | privacy.NOT_DELETED
    assert {t.name for t in all_metadata().sorted_tables} <= covered


def test_the_retention_purge_deletes_only_idle_conversations(engine: Engine) -> None:
    old, recent = "web-old-conversation", "web-recent-conversation"
    populate(engine, old, PHONE_A, "old words", time.time() - 40 * 86400)
    populate(engine, recent, PHONE_B, "recent words", time.time())
    deliver_all(engine)
    SqlSessionRegistry(lambda: engine).create("stale", datetime.now(timezone.utc) - timedelta(days=3))
    assert privacy.purge_idle(engine, days=30) == 1
    after = everything(engine)
    assert old not in after and "old words" not in after and recent in after
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT reason FROM trd_deletions")).scalars().all() == ["retention"]
    done = privacy.run_maintenance(engine, {"RETENTION_DAYS": "30", "WEBCHAT_SESSION_TTL": "7200"})
    assert done == {"retention": 0, "finished": 0, "sessions": 1}


def test_retention_setting() -> None:
    assert privacy.retention_days({}) is None and privacy.retention_days({"RETENTION_DAYS": "0"}) is None
    assert privacy.retention_days({"RETENTION_DAYS": "90"}) == 90
    with pytest.raises(ValueError, match="RETENTION_DAYS"):
        privacy.retention_days({"RETENTION_DAYS": "a year"})


def test_the_escalation_worker_runs_the_retention_purge(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from trd.escalation.config import WorkerConfig
    from trd.escalation.worker import Worker

    populate(engine, "rest-old-conversation", PHONE_A, "old words", time.time() - 40 * 86400)
    deliver_all(engine)
    monkeypatch.setenv("RETENTION_DAYS", "30")
    worker = Worker(SqlOutbox(engine), {}, WorkerConfig(maintenance_seconds=3600))
    asyncio.run(worker.maintain())
    assert "old words" not in everything(engine)
    asyncio.run(worker.maintain())  # not again within the hour
