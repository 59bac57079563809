"""Migration 0005 (#10): outbox rows written before it that still carry a phone number in clear
get the SMS sender id instead (the worker decrypts the number when it sends)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from tests.support.postgres import fresh_database
from trd.store.db import make_engine
from trd.store.migrate import alembic_config, upgrade

PHONE = "+15550142377"
SENDER = "sms-" + "ab" * 16


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    request.getfixturevalue("postgres_url")
    return fresh_database("m5")


def test_pending_rows_lose_the_phone_number(url: str) -> None:
    command.upgrade(alembic_config(url), "0004")
    engine = make_engine(url)
    contact = {"phone": PHONE, "sms_opted_out": False, "note": "n"}
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO trd_crisis_events (conversation_id, channel, category, message_excerpt,"
                " created_at) VALUES (:c, 'twilio', 'plan', 'x', CURRENT_TIMESTAMP)"
            ),
            {"c": SENDER},
        )
        for row_id, payload in (
            ("e1", {"type": "crisis_escalation", "contact": contact}),
            ("e2", {"type": "crisis_escalation", "contact": {"phone": None, "note": "web"}}),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO trd_escalations (id, crisis_id, conversation_id, channel, destination,"
                    " payload, status, attempts, next_attempt_at, created_at) VALUES (:id, 1, :c, 'sms',"
                    " 'webhook', :p, 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": row_id, "c": SENDER, "p": json.dumps(payload)},
            )
    upgrade(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT id, payload FROM trd_escalations")).all())
    engine.dispose()
    moved = rows["e1"] if isinstance(rows["e1"], dict) else json.loads(rows["e1"])
    assert PHONE not in json.dumps(rows, default=str)
    assert moved["contact"] == {"phone": None, "sms_sender": SENDER, "sms_opted_out": False, "note": "n"}
    untouched = rows["e2"] if isinstance(rows["e2"], dict) else json.loads(rows["e2"])
    assert untouched["contact"] == {"phone": None, "note": "web"}
