"""The SMS channel in the real stack: Rasa + action server + SQLite, a fake Twilio API on 127.0.0.1.

Requests are signed with twilio's own RequestValidator, as Twilio signs them.
Replies (REST mode) are captured by tests/support/fake_twilio.py.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import uuid
from typing import Any, Dict, List, Optional
from xml.etree import ElementTree  # noqa: S405 - parses our own server's responses

import pytest
import requests
import sqlalchemy as sa
import yaml
from twilio.request_validator import RequestValidator

from tests.support.fake_twilio import CapturedSms, FakeTwilio
from tests.support.servers import ROOT, Stack
from tests.support.sms import ACCOUNT_SID, AUTH_TOKEN, SERVICE_NUMBER, SmsStacks
from trd.store.db import make_engine

pytestmark = pytest.mark.integration

PATH = "/webhooks/twilio/webhook"
RESOURCES_FILE = ROOT / "data" / "knowledge" / "crisis_resources.yml"
RESOURCES = yaml.safe_load(RESOURCES_FILE.read_text(encoding="utf-8"))["resources"]
_numbers = itertools.count(1)


def new_phone() -> str:
    return f"+1555{uuid.uuid4().int % 1000:03d}{next(_numbers):04d}"


@pytest.fixture(scope="module")
def fake(sms_fake: FakeTwilio) -> FakeTwilio:
    return sms_fake


# The SMS stack is shared with test_sms_intake.py (tests/integration/conftest.py); changing
# the reply mode restarts its Rasa server.
@pytest.fixture()
def rest_stack(sms_stacks: SmsStacks) -> Stack:
    return sms_stacks.in_mode("rest")


@pytest.fixture()
def twiml_stack(sms_stacks: SmsStacks) -> Stack:
    return sms_stacks.in_mode("twiml")


def sender_id(stack: Stack, phone: str) -> str:
    key = stack.env["PHONE_HASH_SECRET"].encode()
    return "sms-" + hmac.new(key, phone.encode(), hashlib.sha256).hexdigest()[:32]


def params_for(phone: str, body: Optional[str], sid: Optional[str] = None) -> Dict[str, str]:
    params = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "To": SERVICE_NUMBER,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    if body is not None:
        params["Body"] = body
    return params


def post(stack: Stack, params: Dict[str, str], signature: Optional[str] = "sign") -> requests.Response:
    headers = {}
    if signature == "sign":
        url = stack.env["PUBLIC_BASE_URL"] + PATH
        headers["X-Twilio-Signature"] = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return requests.post(stack.base_url + PATH, data=params, headers=headers, timeout=90)


def text(stack: Stack, phone: str, body: str, sid: Optional[str] = None) -> requests.Response:
    r = post(stack, params_for(phone, body, sid))
    assert r.status_code == 200, r.text
    return r


def is_empty_twiml(r: requests.Response) -> bool:
    root = ElementTree.fromstring(r.text)  # noqa: S314
    return r.status_code == 200 and root.tag == "Response" and list(root) == []


def replies(fake: FakeTwilio, phone: str, count: int, timeout: float = 90) -> List[CapturedSms]:
    fake.wait_for(lambda msgs: len([m for m in msgs if m.to == phone]) >= count, timeout=timeout)
    return fake.messages_to(phone)


def user_events(stack: Stack, sid: str) -> List[Dict[str, Any]]:
    r = requests.get(
        f"{stack.base_url}/conversations/{sid}/tracker", params={"token": stack.auth_token}, timeout=30
    )
    r.raise_for_status()
    return [e for e in r.json()["events"] if e["event"] == "user"]


# --- REST mode ----------------------------------------------------------------------------------


def test_a_signed_message_is_answered_through_the_provider(rest_stack: Stack, fake: FakeTwilio) -> None:
    phone = new_phone()
    r = text(rest_stack, phone, "hello")
    assert is_empty_twiml(r)
    [reply] = replies(fake, phone, 1)
    assert reply.from_number == SERVICE_NUMBER and reply.account_sid == ACCOUNT_SID
    assert reply.body.strip() and len(reply.body) <= 600
    assert "**" not in reply.body and "](" not in reply.body
    tracker = requests.get(
        f"{rest_stack.base_url}/conversations/{sender_id(rest_stack, phone)}/tracker",
        params={"token": rest_stack.auth_token},
        timeout=30,
    ).json()
    assert tracker["latest_input_channel"] == "twilio"
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["hello"]


def test_forged_or_missing_signatures_are_refused(rest_stack: Stack, fake: FakeTwilio) -> None:
    phone = new_phone()
    params = params_for(phone, "hello")
    forged = RequestValidator("some-other-token").compute_signature(rest_stack.base_url + PATH, params)
    assert post(rest_stack, params, signature=forged).status_code == 403
    assert post(rest_stack, params, signature=None).status_code == 403
    assert user_events(rest_stack, sender_id(rest_stack, phone)) == []
    assert fake.messages_to(phone) == []


def test_missing_body_or_sender_is_a_400(rest_stack: Stack) -> None:
    phone = new_phone()
    assert post(rest_stack, params_for(phone, None)).status_code == 400
    assert post(rest_stack, params_for(phone, "")).status_code == 400
    no_from = params_for(phone, "hello")
    del no_from["From"]
    assert post(rest_stack, no_from).status_code == 400
    assert user_events(rest_stack, sender_id(rest_stack, phone)) == []


def test_a_retried_message_is_answered_once(rest_stack: Stack, fake: FakeTwilio) -> None:
    phone = new_phone()
    sid = "SM" + uuid.uuid4().hex
    first = text(rest_stack, phone, "hello", sid=sid)
    second = text(rest_stack, phone, "hello", sid=sid)
    assert is_empty_twiml(first) and is_empty_twiml(second)
    replies(fake, phone, 1)
    fake.settle(quiet=3)
    assert len(fake.messages_to(phone)) == 1
    events = user_events(rest_stack, sender_id(rest_stack, phone))
    assert [e["message_id"] for e in events] == [sid]


def test_stop_silences_and_start_resumes(rest_stack: Stack, fake: FakeTwilio) -> None:
    phone = new_phone()
    text(rest_stack, phone, "STOP")
    [confirmation] = replies(fake, phone, 1)
    assert f"text or call {RESOURCES['lifeline_number']}" in confirmation.body
    assert "START" in confirmation.body

    text(rest_stack, phone, "hello")
    text(rest_stack, phone, "stop")
    fake.settle(quiet=4)
    assert len(fake.messages_to(phone)) == 1  # nothing after the confirmation
    # the message still reached Rasa (a crisis would be recorded and escalated)
    events = user_events(rest_stack, sender_id(rest_stack, phone))
    assert [e["text"] for e in events] == ["hello"]
    assert events[0]["metadata"]["sms"]["opted_out"] is True

    text(rest_stack, phone, "START")
    assert "again" in replies(fake, phone, 2)[1].body
    text(rest_stack, phone, "hello")
    assert replies(fake, phone, 3)[2].body.strip()


def test_help_names_the_service_and_the_crisis_lines(rest_stack: Stack, fake: FakeTwilio) -> None:
    phone = new_phone()
    text(rest_stack, phone, "HELP")
    body = replies(fake, phone, 1)[0].body
    r = RESOURCES
    positions = [
        body.index(f"text {r['lifeline_number']}"),
        body.index(f"text {r['text_line_keyword']} to {r['text_line_number']}"),
        body.index(f"call {r['lifeline_number']}"),
        body.index(f"Call {r['emergency_number']}"),
    ]
    assert positions == sorted(positions)
    assert "not an emergency service" in body
    assert user_events(rest_stack, sender_id(rest_stack, phone)) == []  # keywords are not sent to Rasa


def _crisis(stack: Stack, fake: FakeTwilio, phone: str) -> List[CapturedSms]:
    text(stack, phone, "I want to kill myself tonight")
    replies(fake, phone, 1)
    fake.settle(quiet=3)
    return fake.messages_to(phone)


def test_a_crisis_over_sms_leads_with_the_text_options(rest_stack: Stack, fake: FakeTwilio) -> None:
    phone = new_phone()
    got = _crisis(rest_stack, fake, phone)
    first = got[0].body.lower()
    r = RESOURCES
    assert f"text {r['lifeline_number']}" in first
    call = first.index("call")
    assert first.index(f"text {r['lifeline_number']}") < call
    assert first.index(f"text {r['text_line_keyword'].lower()} to {r['text_line_number']}") < call
    assert all(len(m.body) <= 600 for m in got)
    assert any(re.search(r"Reply 1 for .+, 2 for ", m.body) for m in got)  # the safety check's options
    # and, verbatim, the SMS crisis message pinned in the golden file
    golden = (ROOT / "tests" / "golden" / "crisis_sms.txt").read_text(encoding="utf-8")
    pinned = golden.split("## utter_crisis\n", 1)[1].split("\n## ", 1)[0].strip()
    assert got[0].body.strip().startswith(pinned + "\n")


def test_a_number_picks_the_offered_option(rest_stack: Stack, fake: FakeTwilio) -> None:
    phone = new_phone()
    got = _crisis(rest_stack, fake, phone)
    options = [m.body for m in got if "Reply 1 for " in m.body][-1]
    first_title = re.search(r"Reply 1 for (.+?), 2 for ", options)
    assert first_title is not None
    text(rest_stack, phone, "1")
    replies(fake, phone, len(got) + 1)
    events = user_events(rest_stack, sender_id(rest_stack, phone))
    assert events[-1]["text"].startswith("/")  # the button's payload
    assert events[-1]["parse_data"]["intent"]["name"] == events[-1]["text"][1:].split("{")[0]


def test_a_typed_slash_does_not_skip_the_safety_guard(rest_stack: Stack, fake: FakeTwilio) -> None:
    phone = new_phone()
    text(rest_stack, phone, "/greet")
    replies(fake, phone, 1)
    events = user_events(rest_stack, sender_id(rest_stack, phone))
    assert [e["text"] for e in events] == ["greet"]


def test_the_phone_number_is_never_stored_or_logged(rest_stack: Stack, fake: FakeTwilio) -> None:
    phone = new_phone()
    text(rest_stack, phone, "hello, my number is in the From field only")
    replies(fake, phone, 1)
    text(rest_stack, phone, "STOP")
    replies(fake, phone, 2)
    fake.settle(quiet=2)
    needles = [phone, phone[1:], phone[-10:]]
    engine = make_engine(rest_stack.database_url)
    try:
        with engine.connect() as conn:
            events = conn.execute(sa.text("SELECT sender_id, data FROM events")).all()
            assert any(row[0] == sender_id(rest_stack, phone) for row in events)
            for row in events:
                assert not any(n in (row[0] or "") or n in (row[1] or "") for n in needles)
            for table in sa.inspect(engine).get_table_names():
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')).all():  # noqa: S608
                    assert not any(n in str(tuple(row)) for n in needles), table
    finally:
        engine.dispose()
    for log in ("rasa", "actions"):
        tail = rest_stack.log_tail(log, n=100_000)
        assert not any(n in tail for n in needles), log


# --- TwiML mode (restarts the Rasa server; keep these last) ----------------------------------------


def test_twiml_mode_answers_in_the_webhook_response(twiml_stack: Stack, fake: FakeTwilio) -> None:
    phone = new_phone()
    r = text(twiml_stack, phone, "hello")
    root = ElementTree.fromstring(r.text)  # noqa: S314
    messages = [m.text or "" for m in root.findall("Message")]
    assert root.tag == "Response" and messages and all(m.strip() for m in messages)
    assert r.headers["content-type"].startswith("application/xml")
    r = text(twiml_stack, phone, "HELP")
    help_messages = [m.text or "" for m in ElementTree.fromstring(r.text).findall("Message")]  # noqa: S314
    assert len(help_messages) == 1 and f"text {RESOURCES['lifeline_number']}" in help_messages[0]
    assert fake.messages_to(phone) == []  # nothing through the REST API
