"""'Delete my data' through the running servers (#10), on the web chat and over SMS: asked once,
then the conversation's rows are gone from every table (Rasa's events included), one hashed
audit row stays, and the conversation starts fresh and says so.

(Named to sort after test_sms_channel.py: its SMS test uses the session's SMS stack in TwiML
mode, as test_sms_channel.py ends and test_sms_intake.py goes on, so the stack is not restarted
to change mode once more.)"""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List

import pytest
import requests
import sqlalchemy as sa

from tests.integration.test_sms_channel import new_phone, sender_id
from tests.integration.test_sms_intake import say as text
from tests.support.servers import Stack
from tests.support.sms import SmsStacks
from trd.store.db import make_engine

pytestmark = pytest.mark.integration

PRIVATE = "my neighbour Quentin knows about my lithium"


def rows_naming(stack: Stack, needles: List[str]) -> List[str]:
    """Every row of every table that contains any of ``needles``."""
    engine = make_engine(stack.database_url)
    found = []
    try:
        with engine.connect() as conn:
            for name in sa.inspect(conn).get_table_names():
                table = sa.Table(name, sa.MetaData(), autoload_with=conn)
                for row in conn.execute(sa.select(table)):
                    line = str(tuple(row))
                    found += [f"{name}: {n}" for n in needles if n in line]
    finally:
        engine.dispose()
    return found


def audits(stack: Stack, conversation: str) -> List[Any]:
    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT channel, reason FROM trd_deletions WHERE subject_hash = :h"),
                {"h": hashlib.sha256(conversation.encode()).hexdigest()},
            ).all()
    finally:
        engine.dispose()


class WebChat:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.headers = {"Origin": stack.base_url}
        r = requests.post(f"{stack.base_url}/chat/session", headers=self.headers, timeout=30)
        assert r.status_code == 200, r.text
        self.headers["Authorization"] = f"Bearer {r.json()['token']}"
        self.sender = "web-" + r.json()["token"].split(".")[1]

    def say(self, message: str) -> List[Dict[str, Any]]:
        r = requests.post(
            f"{self.stack.base_url}/chat/message", json={"message": message}, headers=self.headers, timeout=90
        )
        assert r.status_code == 200, r.text
        return list(r.json()["messages"])

    def history(self) -> List[Dict[str, Any]]:
        r = requests.get(f"{self.stack.base_url}/chat/history", headers=self.headers, timeout=30)
        assert r.status_code == 200, r.text
        return list(r.json()["messages"])


def joined(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def test_delete_my_data_on_the_web_chat(stack: Stack) -> None:
    chat = WebChat(stack)
    chat.say("/greet")
    chat.say(PRIVATE)
    assert rows_naming(stack, [chat.sender, PRIVATE])  # the conversation is stored

    asked = chat.say("delete my data")
    assert "Delete everything you've told me here?" in joined(asked)
    assert any(b["payload"] == "/affirm" for m in asked for b in m.get("buttons") or [])
    done = joined(chat.say("/affirm"))  # "Yes, delete everything"
    assert "everything you told me here has been deleted" in done and "starting fresh" in done

    assert rows_naming(stack, [PRIVATE]) == []  # nothing anyone wrote is left anywhere
    assert [tuple(a) for a in audits(stack, chat.sender)] == [("web", "request")]
    assert PRIVATE not in str(chat.history())
    hello = joined(chat.say("hi"))  # a fresh conversation greets them like the first time
    assert "988" in hello


def test_saying_no_deletes_nothing(stack: Stack) -> None:
    chat = WebChat(stack)
    chat.say(PRIVATE + " (kept)")
    chat.say("please erase all my information")
    kept = joined(chat.say("/deny"))
    assert "nothing has been deleted" in kept
    assert rows_naming(stack, [PRIVATE + " (kept)"])
    assert audits(stack, chat.sender) == []


def test_delete_my_data_over_sms(sms_stacks: SmsStacks) -> None:
    stack = sms_stacks.in_mode("twiml")
    phone = new_phone()
    sender = sender_id(stack, phone)
    text(stack, phone, "hi")
    text(stack, phone, PRIVATE)
    assert rows_naming(stack, [sender])
    asked = text(stack, phone, "delete my data")
    assert "Delete everything you've told me here?" in asked and "1" in asked
    done = text(stack, phone, "1")  # the first option: "Yes, delete everything"
    assert "everything you told me here has been deleted" in done
    assert rows_naming(stack, [PRIVATE]) == []
    leftovers = [r for r in rows_naming(stack, [sender]) if not r.startswith(("events:", "trd_sms_inbound:"))]
    assert leftovers == [], leftovers  # no contact row, no number: only this turn's reply bookkeeping
    assert [tuple(a) for a in audits(stack, sender)] == [("sms", "request")]


def test_wanting_to_delete_oneself_is_heard_as_risk_not_as_a_data_request(stack: Stack) -> None:
    """'delete myself' reads like the delete-my-data intent; the risk check must come first."""
    chat = WebChat(stack)
    chat.say("/greet")
    reply = joined(chat.say("I want to delete myself"))
    assert "988" in reply
    assert "Delete everything you've told me here?" not in reply
    assert audits(stack, chat.sender) == []
