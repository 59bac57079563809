"""A full intake over SMS, signed like Twilio, answered as TwiML, ending with the summary link."""

from __future__ import annotations

import re
from typing import Any, Dict, List
from xml.etree import ElementTree  # noqa: S405 - parses our own server's responses

import pytest
import requests

from tests.integration.test_sms_channel import (
    new_phone,
    params_for,
    post,
    sender_id,
)
from tests.support.servers import Stack
from tests.support.sms import SmsStacks

pytestmark = pytest.mark.integration


@pytest.fixture()
def sms_stack(sms_stacks: SmsStacks) -> Stack:
    """The session's SMS stack (shared with test_sms_channel.py) in TwiML mode."""
    return sms_stacks.in_mode("twiml")


def say(stack: Stack, phone: str, body: str) -> str:
    r = post(stack, params_for(phone, body))
    assert r.status_code == 200, r.text
    root = ElementTree.fromstring(r.text)  # noqa: S314
    messages = [m.text or "" for m in root.findall("Message")]
    assert messages, f"no reply to {body!r}"
    for m in messages:
        assert len(m) <= 600 and "<" not in m and "**" not in m, m
    return "\n".join(messages)


def test_a_full_intake_over_sms(sms_stack: Stack) -> None:
    phone = new_phone()
    reply = say(sms_stack, phone, "hi")
    assert "988" in reply
    reply = say(sms_stack, phone, "yes, let's start")
    assert "Part 1 of 5" in reply and "Reply 0" in reply  # PHQ-9 asks for numbers on SMS
    for answer in ["1", "2", "2", "0", "3", "1", "3", "0", "0"]:
        reply = say(sms_stack, phone, answer)
    assert "Part 1 of 5, continued" in reply
    say(sms_stack, phone, "about a year and a half")
    say(sms_stack, phone, "yes, twice before")
    for answer in ["no", "no", "no"]:  # work and self-care, psychotic experiences, catatonia
        reply = say(sms_stack, phone, answer)
    assert "Part 2 of 5" in reply

    reply = say(sms_stack, phone, "zoloft then lexapro")
    assert "Zoloft" in reply and "Lexapro" in reply
    for answer in ["150mg", "8 weeks", "most days", "some improvement", "nausea", "no", "on its own"]:
        reply = say(sms_stack, phone, answer)
    assert "Is that right?" in reply and re.search(r"\b1\b", reply), reply  # numbered options
    reply = say(sms_stack, phone, "1")  # "Yes, that's right"
    assert "Lexapro" in reply
    for answer in ["20 mg", "12 weeks", "most days", "no change", "none", "yes", "added to the zoloft"]:
        reply = say(sms_stack, phone, answer)
    assert "Is that right?" in reply
    reply = say(sms_stack, phone, "yes")
    assert "other medicines" in reply
    reply = say(sms_stack, phone, "no")
    assert "Part 2 of 5, continued" in reply and "still taking Lexapro" in reply
    reply = say(sms_stack, phone, "lisinopril 10 mg")
    assert "Is that everything" in reply
    reply = say(sms_stack, phone, "yes")
    assert "Part 3 of 5" in reply
    for part in ("Part 4 of 5", "Part 5 of 5"):
        reply = say(sms_stack, phone, "skip this part")
        assert part in reply, reply
    reply = say(sms_stack, phone, "skip this part")
    assert "That's all five parts" in reply
    assert "/summary/" in reply  # the summary link comes in the same turn

    r = requests.get(
        f"{sms_stack.base_url}/intake/{sender_id(sms_stack, phone)}",
        headers={"Authorization": f"Bearer {sms_stack.env['CLINICIAN_TOKEN']}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    record: Dict[str, Any] = r.json()
    assert record["phq9"] == [1, 2, 2, 0, 3, 1, 3, 0, 0]
    trials: List[Dict[str, Any]] = record["trials"]
    assert [(t["drug"], t["max_dose_mg"], t["weeks_at_dose"], t["outcome"]) for t in trials] == [
        ("sertraline", 150.0, 8.0, "partial_response"),
        ("escitalopram", 20.0, 12.0, "no_response"),
    ]
    assert [(t["order"], t["added_to"]) for t in trials] == [(1, None), (2, "sertraline")]
    assert [(m["drug"], m["dose_mg"]) for m in record["current_medications"]] == [
        ("escitalopram", 20.0),
        ("lisinopril", 10.0),
    ]
    assert phone not in r.text  # the record is keyed by the hashed sender id, never the number


def test_the_logs_hold_no_phone_number_message_text_or_token(sms_stack: Stack) -> None:
    """After an SMS intake and a crisis, no log line of any process names the person."""
    phone = new_phone()
    say(sms_stack, phone, "hi")
    say(sms_stack, phone, "my secret zebra words and I want to kill myself")
    logs = {p.name: p.read_text(errors="replace") for p in sms_stack.workdir.glob("*.log")}
    assert logs, "the stack wrote no logs"
    digits = phone.lstrip("+")
    secrets = [digits, digits[1:], "secret zebra words", sms_stack.auth_token]
    found = [(name, s) for name, text in logs.items() for s in secrets if s in text]
    assert found == [], found
