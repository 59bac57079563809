"""What the care team receives: the payload built from a tracker made in code, and the on-call SMS."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker

from tests.support.trackers import make_tracker
from trd.escalation.enqueue import Escalator
from trd.escalation.payload import (
    MAX_MESSAGE_CHARS,
    NOTE_REST,
    NOTE_SMS,
    NOTE_SMS_OPTED_OUT,
    NOTE_SMS_UNKNOWN,
    NOTE_WEB,
    Contact,
    SmsStoreContacts,
    build_payload,
    care_team_channel,
    last_messages,
    sms_text,
    with_phone,
)
from trd.sms.store import PhoneVault, SmsStore
from trd.store.migrate import upgrade

SMS_SENDER = "sms-" + "ab" * 16
PHONE = "+15550142377"
T0 = datetime(2024, 12, 5, 14, 0, 0, tzinfo=timezone.utc).timestamp()
NOW = datetime(2024, 12, 5, 14, 9, 0, tzinfo=timezone.utc)


def user(text: str, at: float, channel: str = "rest") -> Dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "timestamp": at,
        "input_channel": channel,
        "parse_data": {"intent": {"name": "inform", "confidence": 0.9}, "entities": [], "text": text},
    }


def bot(text: Optional[str], at: float) -> Dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": at, "data": {}}


def conversation(channel: str = "rest") -> List[Dict[str, Any]]:
    """A conversation whose last user message is a crisis, followed by the crisis replies."""
    events: List[Dict[str, Any]] = [{"event": "action", "name": "action_session_start", "timestamp": T0}]
    for i in range(4):
        events += [
            {"event": "action", "name": "action_listen", "timestamp": T0 + 10 * i},
            user(f"answer {i}", T0 + 10 * i + 1, channel),
            {"event": "slot", "name": "x", "value": i, "timestamp": T0 + 10 * i + 2},
            bot(f"question {i + 1}?", T0 + 10 * i + 3),
        ]
    events += [
        bot(None, T0 + 45),  # a message with only an image or buttons: no text
        user("   ", T0 + 46, channel),  # nothing said
        user("I have been saving my pills, I want to end it tonight", T0 + 50, channel),
        bot("Please call or text 988 now ...", T0 + 51),
        bot("Are you safe right now?", T0 + 52),
        {"event": "action", "name": "action_record_crisis", "timestamp": T0 + 53},
    ]
    return events


def tracker(events: List[Dict[str, Any]], sender: str = "conv-7") -> Tracker:
    latest = next(e for e in reversed(events) if e["event"] == "user")
    latest_message = {**latest["parse_data"], "text": latest["text"]}
    return make_tracker(sender, {}, latest_message, events, latest_action="")


class FakeContacts:
    def __init__(self, contacts: Dict[str, Contact], error: Optional[Exception] = None) -> None:
        self.contacts = contacts
        self.error = error
        self.asked: List[str] = []

    def contact_for(self, sender_id: str) -> Optional[Contact]:
        self.asked.append(sender_id)
        if self.error is not None:
            raise self.error
        return self.contacts.get(sender_id)


@pytest.mark.parametrize(
    ("rasa_name", "expected"),
    [
        ("twilio", "sms"),
        ("web", "web"),
        ("rest", "rest"),
        ("REST", "rest"),
        (None, "unknown"),
        ("", "unknown"),
        ("socketio", "socketio"),
    ],
)
def test_rasa_channel_names_map_to_the_care_teams(rasa_name: Optional[str], expected: str) -> None:
    assert care_team_channel(rasa_name) == expected


def test_the_last_six_texts_end_with_the_message_that_raised_the_crisis() -> None:
    got = last_messages(conversation())
    assert [m["from"] for m in got] == ["assistant", "person", "assistant", "person", "assistant", "person"]
    assert got[-1] == {
        "from": "person",
        "text": "I have been saving my pills, I want to end it tonight",
        "time": "2024-12-05T14:00:50Z",
    }
    # the crisis replies sent after it (fixed resources) are not repeated; blank texts are skipped
    assert all("988" not in m["text"] and m["text"].strip() for m in got)
    assert [m["text"] for m in got] == [
        "question 2?",
        "answer 2",
        "question 3?",
        "answer 3",
        "question 4?",
        "I have been saving my pills, I want to end it tonight",
    ]


def test_long_messages_are_trimmed() -> None:
    events = [user("x" * 5000, T0), bot("  padded  ", T0 + 1), user("y " * 10, T0 + 2)]
    got = last_messages(events)
    assert len(got[0]["text"]) == MAX_MESSAGE_CHARS and got[0]["text"].endswith("\u2026")
    assert got[1]["text"] == "padded"
    assert got[2]["text"] == ("y " * 10).strip()


def test_a_conversation_with_no_texts_has_no_messages() -> None:
    assert last_messages([{"event": "action", "name": "action_listen"}]) == []


def test_payload_of_a_rest_conversation_has_no_contact_details() -> None:
    contacts = FakeContacts({})
    payload = build_payload(
        conversation_id="conv-7",
        input_channel="rest",
        category="plan",
        events=conversation("rest"),
        lookup=contacts,
        now=NOW,
    )
    assert payload == {
        "type": "crisis_escalation",
        "version": 1,
        "conversation_id": "conv-7",
        "channel": "rest",
        "risk_category": "plan",
        "time": "2024-12-05T14:00:50Z",  # when the person wrote it, not when it was processed
        "contact": {"phone": None, "sms_opted_out": None, "note": NOTE_REST},
        "last_messages": last_messages(conversation("rest")),
    }
    assert contacts.asked == []  # no lookup for a channel without phone numbers


def test_payload_of_a_web_conversation_says_there_is_no_way_to_reach_them() -> None:
    payload = build_payload(
        conversation_id="w-1",
        input_channel="web",
        category="sos",
        events=conversation("web"),
        lookup=FakeContacts({SMS_SENDER: Contact(PHONE)}),
        now=NOW,
    )
    assert payload["channel"] == "web"
    assert payload["contact"] == {"phone": None, "sms_opted_out": None, "note": NOTE_WEB}


def test_payload_of_an_sms_conversation_carries_the_sender_id_not_the_number() -> None:
    contacts = FakeContacts({SMS_SENDER: Contact(PHONE)})
    payload = build_payload(
        conversation_id=SMS_SENDER,
        input_channel="twilio",
        category="plan",
        events=conversation("twilio"),
        lookup=contacts,
        now=NOW,
    )
    assert payload["channel"] == "sms"
    # Stored without the number (#10): the worker decrypts it when it sends (with_phone).
    assert payload["contact"] == {
        "phone": None,
        "sms_sender": SMS_SENDER,
        "sms_opted_out": False,
        "note": NOTE_SMS,
    }
    assert PHONE not in json.dumps(payload)
    assert contacts.asked == [SMS_SENDER]
    sent = with_phone(payload, contacts)
    assert sent["contact"] == {
        "phone": PHONE,
        "sms_sender": SMS_SENDER,
        "sms_opted_out": False,
        "note": NOTE_SMS,
    }
    assert payload["contact"]["phone"] is None  # the stored payload is not changed
    gone = with_phone(payload, FakeContacts({}))  # the person deleted their data, or the key changed
    assert gone["contact"]["phone"] is None and gone["contact"]["note"] == NOTE_SMS_UNKNOWN


def test_an_opted_out_sms_person_is_still_escalated_and_the_care_team_is_told() -> None:
    contacts = FakeContacts({SMS_SENDER: Contact(PHONE, opted_out=True)})
    payload = build_payload(
        conversation_id=SMS_SENDER,
        input_channel="twilio",
        category="plan",
        events=conversation("twilio"),
        lookup=contacts,
        now=NOW,
    )
    assert payload["contact"] == {
        "phone": None,
        "sms_sender": SMS_SENDER,
        "sms_opted_out": True,
        "note": NOTE_SMS_OPTED_OUT,
    }
    assert with_phone(payload, contacts)["contact"]["phone"] == PHONE


@pytest.mark.parametrize(
    "contacts",
    [
        FakeContacts({}),
        FakeContacts({SMS_SENDER: Contact(None)}),
        FakeContacts({}, error=RuntimeError("db down")),
    ],
    ids=["unknown sender", "number unreadable", "lookup fails"],
)
def test_an_sms_number_that_cannot_be_found_still_escalates(contacts: FakeContacts) -> None:
    payload = build_payload(
        conversation_id=SMS_SENDER,
        input_channel="twilio",
        category="plan",
        events=conversation("twilio"),
        lookup=contacts,
        now=NOW,
    )
    if contacts.error is not None:
        # The store could not be read (e.g. the database is down and the crisis is spooled): the
        # sender id stays, so the worker can still add the number when it sends (#10).
        assert payload["contact"] == {
            "phone": None,
            "sms_sender": SMS_SENDER,
            "sms_opted_out": None,
            "note": NOTE_SMS,
        }
    else:
        assert payload["contact"] == {"phone": None, "sms_opted_out": None, "note": NOTE_SMS_UNKNOWN}
    assert payload["risk_category"] == "plan" and payload["last_messages"]


def test_without_a_timestamp_the_time_is_now_in_utc() -> None:
    events = [{"event": "user", "text": "help", "timestamp": None}]
    payload = build_payload(
        conversation_id="c",
        input_channel="rest",
        category="sos",
        events=events,
        lookup=None,
        now=datetime(2024, 12, 5, 9, 3, 4, 999, tzinfo=timezone(timedelta(hours=-5))),
    )
    assert payload["time"] == "2024-12-05T14:03:04Z"
    assert payload["last_messages"] == [{"from": "person", "text": "help", "time": None}]


def test_the_sms_store_lookup_decrypts_the_stored_number(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    from trd.store.db import make_engine

    engine = make_engine(url)
    store = SmsStore(PhoneVault("h" * 32), engine=engine)
    state = store.record_inbound("SM" + "1" * 32, PHONE)
    assert state is not None
    lookup = SmsStoreContacts(lambda: store)
    assert lookup.contact_for(state.sender_id) == Contact(PHONE, opted_out=False)
    store.set_opted_out(state.sender_id, True)
    assert lookup.contact_for(state.sender_id) == Contact(PHONE, opted_out=True)
    assert lookup.contact_for("sms-" + "0" * 32) is None
    engine.dispose()


# --- the on-call SMS ----------------------------------------------------------------------------


def _sms_payload(channel: str, contact: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "id": "9f1c2d3e-aaaa-4bbb-8ccc-000000000000",
        "conversation_id": SMS_SENDER if channel == "sms" else "web-3",
        "channel": channel,
        "risk_category": "method_seeking",
        "time": "2024-12-05T14:00:50Z",
        "contact": contact,
    }


def test_the_on_call_sms_says_what_is_needed_to_act_and_nothing_the_person_wrote() -> None:
    payload = _sms_payload("sms", {"phone": PHONE, "sms_opted_out": False, "note": NOTE_SMS})
    payload["last_messages"] = [{"from": "person", "text": "saving my pills"}]  # must never be texted
    text = sms_text(payload, "TRD Navigator")
    assert text == (
        "TRD Navigator crisis alert: risk method seeking, SMS conversation, 2024-12-05 14:00:50 UTC. "
        f"Reach them: {PHONE} (call/text). Case 9f1c2d3e."
    )
    assert "pills" not in text and len(text) <= 320
    assert SMS_SENDER not in text  # a case reference, not the sender id (issue 10)


def test_the_on_call_sms_for_other_channels_and_opted_out_people() -> None:
    opted = sms_text(_sms_payload("sms", {"phone": PHONE, "sms_opted_out": True}), "X")
    assert f"Reach them: call {PHONE} (opted out of our texts)." in opted
    web = sms_text(_sms_payload("web", {"phone": None, "note": NOTE_WEB}), "X")
    assert "Reach them: no phone number (web chat)." in web and "web chat conversation" in web
    unknown = sms_text(_sms_payload("sms", {"phone": None}), "X")
    assert "Reach them: number unavailable." in unknown
    assert not re.search(r"\+\d", web + unknown)


# --- which destinations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "destinations"),
    [
        ({}, None),
        ({"ESCALATION_WEBHOOK_SECRET": "s" * 32}, None),
        (
            {"ESCALATION_WEBHOOK_URL": "https://care.example.org/e", "ESCALATION_WEBHOOK_SECRET": "s" * 32},
            ("webhook",),
        ),
        ({"ONCALL_SMS_NUMBER": "+15550000001"}, ("sms",)),
        (
            {"ESCALATION_WEBHOOK_URL": "https://care.example.org/e", "ONCALL_SMS_NUMBER": "+15550000001"},
            ("webhook", "sms"),
        ),
    ],
)
def test_the_environment_decides_the_destinations(env: Dict[str, str], destinations: Any) -> None:
    contacts = FakeContacts({SMS_SENDER: Contact(PHONE)})
    request = Escalator(env, contacts=contacts, clock=lambda: NOW).request_for(
        SMS_SENDER, "twilio", "plan", conversation("twilio")
    )
    if destinations is None:
        assert request is None
        assert contacts.asked == []  # no care team: the number is not even decrypted
        return
    assert request is not None
    assert request.channel == "sms" and request.destinations == destinations
    if "webhook" in destinations:
        assert request.payloads["webhook"]["contact"]["sms_sender"] == SMS_SENDER
        assert PHONE not in json.dumps(request.payloads["webhook"])
        assert len(request.payloads["webhook"]["last_messages"]) == 6
    if "sms" in destinations:
        assert "last_messages" not in request.payloads["sms"]
        assert request.payloads["sms"]["contact"]["sms_sender"] == SMS_SENDER
