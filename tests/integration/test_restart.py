"""Conversations survive a restart of the Rasa server, on SQLite and on PostgreSQL.

A person starts a safety plan, the Rasa server restarts in the middle of it, and
the next answer is taken as the answer to the question they were asked. The
tracker is read back through the HTTP API and straight from the ``events`` table,
and the finished plan lands in the project's ``trd_safety_plans`` table of the
same database: one DATABASE_URL for both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest
import sqlalchemy as sa
import yaml

from tests.support.postgres import fresh_database
from tests.support.restarts import RestartedStack, finish
from tests.support.servers import Stack, new_sender, texts

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# The button payload the bot itself offers ("Make a safety plan").
SAFETY_PLAN_PAYLOAD = "/safety_plan_request"


def _response(name: str) -> str:
    """The default (web) text of a domain response, so the test follows copy edits."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    variants = domain["responses"][name]
    default = [v for v in variants if not v.get("channel")] or variants
    return str(default[0]["text"]).strip()


def _event_keys(tracker: Dict[str, Any]) -> List[Tuple[Any, ...]]:
    return [
        (e.get("event"), e.get("name"), e.get("text"), e.get("value"), e.get("timestamp"))
        for e in tracker["events"]
    ]


def _user_texts(tracker: Dict[str, Any]) -> List[str]:
    return [e["text"] for e in tracker["events"] if e.get("event") == "user"]


def _rows(database_url: str, sql: str, **params: Any) -> List[Any]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).all())
    finally:
        engine.dispose()


def conversation_survives_restart(stack: Stack) -> Iterator[None]:
    """The safety-plan scenario; yields where the Rasa server restarts."""
    sender = new_sender("restart")
    assert stack.rest(sender, "hello"), "the bot did not answer a greeting"
    opened = texts(stack.rest(sender, SAFETY_PLAN_PAYLOAD))
    assert _response("utter_ask_sp_warning_signs") in opened

    before = stack.tracker(sender)
    assert before["active_loop"].get("name") == "safety_plan_form"
    assert before["slots"]["requested_slot"] == "sp_warning_signs"
    assert _user_texts(before) == ["hello", SAFETY_PLAN_PAYLOAD]

    # The tracker is in the SQL database, not in the server's memory.
    stored = _rows(
        stack.database_url,
        "SELECT type_name, data FROM events WHERE sender_id = :sender ORDER BY id",
        sender=sender,
    )
    stored_user_texts = [json.loads(data)["text"] for type_name, data in stored if type_name == "user"]
    assert stored_user_texts == ["hello", SAFETY_PLAN_PAYLOAD]
    assert len(stored) >= len(before["events"])

    yield  # the Rasa server restarts here

    after = stack.tracker(sender)
    assert _event_keys(after) == _event_keys(before)
    assert after["slots"] == before["slots"]
    assert after["active_loop"].get("name") == "safety_plan_form"

    # The next message answers the question asked before the restart.
    reply = texts(stack.rest(sender, "I stop answering my phone"))
    assert _response("utter_ask_sp_coping_steps") in reply
    assert _response("utter_greet") not in reply  # not a new conversation
    now = stack.tracker(sender)
    assert now["slots"]["sp_warning_signs"] == "I stop answering my phone"
    assert now["slots"]["requested_slot"] == "sp_coping_steps"
    assert _user_texts(now) == ["hello", SAFETY_PLAN_PAYLOAD, "I stop answering my phone"]
    sessions = [e for e in now["events"] if e.get("event") == "session_started"]
    assert len(sessions) == 1

    # Finish the plan: the action server saves it in the same database.
    for answer in ["I go for a walk", "skip", "my sister Ana and my friend Joe", "skip"]:
        stack.rest(sender, answer)
    done = texts(stack.rest(sender, "ask Sam to keep some things for a while"))
    assert "Here's your safety plan:" in done
    plans = _rows(
        stack.database_url,
        "SELECT sections FROM trd_safety_plans WHERE conversation_id = :sender",
        sender=sender,
    )
    assert len(plans) == 1
    sections = plans[0][0] if isinstance(plans[0][0], dict) else json.loads(plans[0][0])
    assert sections["warning_signs"] == "I stop answering my phone"
    assert sections["who_to_call"] == "my sister Ana and my friend Joe"
    assert sections["safer_surroundings"] == "ask Sam to keep some things for a while"
    assert sections["people_places"] is None


def _conversation_survives_restart(stack: Stack) -> None:
    scenario = conversation_survives_restart(stack)
    next(scenario)
    stack.restart_rasa()
    finish(scenario)


def test_conversation_survives_a_restart_on_sqlite(restarted_stack: RestartedStack) -> None:
    # the shared stack, whose Rasa server restarts once for all such scenarios
    assert restarted_stack.stack.database_url.startswith("sqlite")
    restarted_stack.finish("conversation_survives_restart")


@pytest.mark.postgres
def test_conversation_survives_a_restart_on_postgresql(
    make_stack: Callable[..., Stack], postgres_url: str
) -> None:
    stack = make_stack(database_url=fresh_database("stack"))
    try:
        assert stack.database_url.startswith("postgresql")
        _conversation_survives_restart(stack)
    finally:
        stack.stop()
