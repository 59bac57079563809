"""action_record_crisis with a care team configured: the crisis and its outbox rows, written together.

Trackers and the domain are built in code; the action's events are asserted exactly.
The action only writes the outbox (in a thread); nothing is sent from here.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import sqlalchemy as sa
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import ActionRecordCrisis
from tests.support import trackers
from trd.escalation.enqueue import Escalator
from trd.escalation.journal import Journal
from trd.escalation.payload import NOTE_REST, NOTE_SMS, Contact
from trd.store.migrate import upgrade
from trd.store.repository import CrisisRecord, EscalationRequest, InMemoryRepository
from trd.store.sql import SqlRepository

SMS_SENDER = "sms-" + "cd" * 16
PHONE = "+15550142377"
CARE_TEAM = {
    "ESCALATION_WEBHOOK_URL": "https://care.example.org/escalations",
    "ESCALATION_WEBHOOK_SECRET": "x" * 32,
    "ONCALL_SMS_NUMBER": "+15550199999",
}
DOMAIN: Dict[str, Any] = {
    "slots": {"crisis_active": {"type": "bool"}, "risk_category": {"type": "categorical"}},
    "responses": {},
    "actions": ["action_record_crisis"],
    "forms": {},
}
CRISIS_TEXT = "I've been saving my pills and tonight is the night"


def make_tracker(sender: str, channel: str, category: Optional[str] = "plan") -> Tracker:
    events: List[Dict[str, Any]] = [
        {"event": "action", "name": "action_listen", "timestamp": 1733407200.0},
        {
            "event": "user",
            "text": "hi",
            "timestamp": 1733407201.0,
            "input_channel": channel,
            "parse_data": {"intent": {"name": "greet"}, "entities": []},
        },
        {"event": "bot", "text": "Hello, I'm here to help.", "timestamp": 1733407202.0},
        {
            "event": "user",
            "text": CRISIS_TEXT,
            "timestamp": 1733407250.0,
            "input_channel": channel,
            "parse_data": {
                "intent": {"name": "crisis"},
                "entities": [{"entity": "risk_category", "value": "plan"}],
            },
        },
        {"event": "bot", "text": "Please text or call 988 now.", "timestamp": 1733407251.0},
        {"event": "bot", "text": "Are you safe right now?", "timestamp": 1733407252.0},
    ]
    latest = {"intent": {"name": "crisis", "confidence": 1.0}, "entities": [], "text": CRISIS_TEXT}
    slots = {"crisis_active": True, "risk_category": category}
    return trackers.make_tracker(sender, slots, latest, events, latest_action="utter_crisis_check")


class FakeContacts:
    def __init__(self) -> None:
        self.asked: List[str] = []

    def contact_for(self, sender_id: str) -> Optional[Contact]:
        self.asked.append(sender_id)
        return Contact(PHONE) if sender_id == SMS_SENDER else None


def run(action: ActionRecordCrisis, tracker: Tracker) -> tuple[List[Dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return events, dispatcher


def escalator(env: Optional[Dict[str, str]] = None, contacts: Optional[FakeContacts] = None) -> Escalator:
    return Escalator(CARE_TEAM if env is None else env, contacts=contacts or FakeContacts())


def test_a_crisis_over_rest_is_recorded_with_a_webhook_and_an_sms_escalation() -> None:
    repo = InMemoryRepository()
    contacts = FakeContacts()
    events, dispatcher = run(
        ActionRecordCrisis(lambda: repo, escalator(contacts=contacts)), make_tracker("c-1", "rest")
    )

    assert events == [SlotSet("crisis_active", True)]
    assert dispatcher.messages == []
    [crisis] = repo.crises("c-1")
    assert (crisis.channel, crisis.category, crisis.message_excerpt) == ("rest", "plan", CRISIS_TEXT)
    sms, webhook = repo.escalations("c-1")
    assert (webhook.destination, sms.destination) == ("webhook", "sms")
    assert webhook.crisis_id == sms.crisis_id == crisis.id
    assert webhook.payload == {
        "type": "crisis_escalation",
        "version": 1,
        "id": webhook.id,
        "crisis_id": crisis.id,
        "conversation_id": "c-1",
        "channel": "rest",
        "risk_category": "plan",
        "time": "2024-12-05T14:00:50Z",
        "contact": {"phone": None, "sms_opted_out": None, "note": NOTE_REST},
        "case_id": webhook.case_id,  # the conversation's one open escalation (#10)
        "last_messages": [
            {"from": "person", "text": "hi", "time": "2024-12-05T14:00:01Z"},
            {"from": "assistant", "text": "Hello, I'm here to help.", "time": "2024-12-05T14:00:02Z"},
            {"from": "person", "text": CRISIS_TEXT, "time": "2024-12-05T14:00:50Z"},
        ],
    }
    assert sms.payload == {k: v for k, v in webhook.payload.items() if k != "last_messages"} | {"id": sms.id}
    assert contacts.asked == []  # REST has no phone numbers to look up


def test_a_crisis_over_sms_carries_the_sender_id_not_the_number_into_the_outbox(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = InMemoryRepository()
    contacts = FakeContacts()
    with caplog.at_level(logging.DEBUG):
        events, _ = run(
            ActionRecordCrisis(lambda: repo, escalator(contacts=contacts)), make_tracker(SMS_SENDER, "twilio")
        )
    assert events == [SlotSet("crisis_active", True)]
    assert repo.crises(SMS_SENDER)[0].channel == "twilio"
    rows = repo.escalations(SMS_SENDER)
    assert [r.channel for r in rows] == ["sms", "sms"]
    assert all(
        r.payload["contact"]
        == {"phone": None, "sms_sender": SMS_SENDER, "sms_opted_out": False, "note": NOTE_SMS}
        for r in rows
    )
    assert contacts.asked == [SMS_SENDER]
    assert PHONE not in caplog.text
    assert "escalation: webhook, sms" in caplog.text


@pytest.mark.parametrize(
    ("env", "destinations"),
    [
        ({}, []),
        ({"ONCALL_SMS_NUMBER": "+15550199999"}, ["sms"]),
        ({k: v for k, v in CARE_TEAM.items() if k != "ONCALL_SMS_NUMBER"}, ["webhook"]),
    ],
    ids=["no care team", "on-call SMS only", "webhook only"],
)
def test_only_the_configured_destinations_get_a_row(env: Dict[str, str], destinations: List[str]) -> None:
    repo = InMemoryRepository()
    events, _ = run(ActionRecordCrisis(lambda: repo, escalator(env)), make_tracker("c-2", "web"))
    assert events == [SlotSet("crisis_active", True)]
    assert len(repo.crises("c-2")) == 1
    assert [r.destination for r in repo.escalations("c-2")] == destinations


class OutboxFails(InMemoryRepository):
    """The outbox write fails (e.g. its table is missing); a crisis alone can be written."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: List[bool] = []

    def record_crisis(
        self, *args: Any, escalation: Optional[EscalationRequest] = None, **kw: Any
    ) -> CrisisRecord:
        self.calls.append(escalation is not None)
        if escalation is not None:
            raise RuntimeError("no such table: trd_escalations")
        return super().record_crisis(*args, **kw)


def test_when_the_outbox_write_fails_the_crisis_is_still_recorded_and_an_operator_is_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = OutboxFails()
    with caplog.at_level(logging.INFO):
        events, dispatcher = run(ActionRecordCrisis(lambda: repo, escalator()), make_tracker("c-3", "rest"))
    assert events == [SlotSet("crisis_active", True)]
    assert dispatcher.messages == []
    assert repo.calls == [True, False]
    assert [c.category for c in repo.crises("c-3")] == ["plan"]
    assert repo.escalations("c-3") == []
    [alarm] = [r for r in caplog.records if "CARE TEAM NOT ALERTED" in r.getMessage()]
    assert alarm.levelno == logging.CRITICAL and "c-3" in alarm.getMessage()
    assert "COULD NOT RECORD A CRISIS" not in caplog.text


def test_the_same_on_a_real_database_whose_outbox_table_is_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    repo = SqlRepository.from_url(url)
    with repo.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE trd_escalations RENAME TO trd_escalations_gone"))
    with caplog.at_level(logging.CRITICAL, logger="trd.escalation.enqueue"):
        events, _ = run(ActionRecordCrisis(lambda: repo, escalator()), make_tracker("c-4", "rest"))
    assert events == [SlotSet("crisis_active", True)]
    assert [c.message_excerpt for c in repo.crises("c-4")] == [CRISIS_TEXT]  # exactly once
    assert "CARE TEAM NOT ALERTED" in caplog.text
    repo.dispose()


def test_an_unreachable_database_is_not_written_twice(caplog: pytest.LogCaptureFixture) -> None:
    calls: List[bool] = []

    class Down(InMemoryRepository):
        def record_crisis(self, *args: Any, escalation: Any = None, **kw: Any) -> CrisisRecord:
            calls.append(escalation is not None)
            raise sa.exc.OperationalError("INSERT", {}, Exception("could not connect to server"))

    with caplog.at_level(logging.ERROR, logger="actions.safety"):
        events, _ = run(ActionRecordCrisis(lambda: Down(), escalator()), make_tracker("c-5", "rest"))
    assert events == [SlotSet("crisis_active", True)]
    assert calls == [True]  # the crisis-only write would fail the same way; the turn must not wait twice
    # Not lost (#10): spooled to the journal the worker delivers from, logged at ERROR.
    assert "ESCALATION SPOOLED" in caplog.text and "c-5" in caplog.text
    [entry] = Journal().pending()
    assert (entry.conversation_id, entry.deliver, sorted(entry.payloads)) == ("c-5", True, ["sms", "webhook"])


def test_an_escalation_that_cannot_be_built_does_not_cost_the_crisis_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(Escalator):
        def request_for(self, *args: Any, **kwargs: Any) -> Optional[EscalationRequest]:
            raise KeyError("unexpected tracker shape")

    repo = InMemoryRepository()
    with caplog.at_level(logging.CRITICAL, logger="trd.escalation.enqueue"):
        events, _ = run(ActionRecordCrisis(lambda: repo, Broken(CARE_TEAM)), make_tracker("c-6", "rest"))
    assert events == [SlotSet("crisis_active", True)]
    assert len(repo.crises("c-6")) == 1 and repo.escalations("c-6") == []
    assert "CARE TEAM NOT ALERTED" in caplog.text


@pytest.mark.slow
def test_the_database_work_runs_off_the_event_loop() -> None:
    main_thread = threading.get_ident()
    seen: List[int] = []

    class Slow(InMemoryRepository):
        def record_crisis(self, *args: Any, **kwargs: Any) -> CrisisRecord:
            seen.append(threading.get_ident())
            time.sleep(0.4)
            return super().record_crisis(*args, **kwargs)

    async def go() -> int:
        ticks = 0
        task = asyncio.create_task(
            ActionRecordCrisis(lambda: Slow(), escalator()).run(
                CollectingDispatcher(), make_tracker("c-7", "rest"), DOMAIN
            )
        )
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.02)
        assert await task == [SlotSet("crisis_active", True)]
        return ticks

    assert asyncio.run(go()) >= 10  # the loop kept running while the write waited
    assert seen and main_thread not in seen
