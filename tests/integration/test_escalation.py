"""Crisis escalation end to end: Rasa + action server + the delivery worker as real processes,
a care team's webhook (tests/support/escalation_receiver.py, which checks every signature
itself) and a fake Twilio API, all on 127.0.0.1, with one SQLite database.

One stack serves the module (a Rasa start is slow on this machine); each test uses its own
conversation and waits only for its own escalations.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets
import signal
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, Iterator, List

import pytest
import requests
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from tests.support.escalation_receiver import EscalationReceiver, ReceivedRequest, expected_signature
from tests.support.fake_twilio import FakeTwilio
from tests.support.servers import Stack, new_sender, texts
from trd.store.db import make_engine

pytestmark = pytest.mark.integration

SECRET = secrets.token_hex(32)
ACCOUNT_SID = "AC" + uuid.uuid4().hex
AUTH_TOKEN = uuid.uuid4().hex
SERVICE_NUMBER = "+15550100000"
ONCALL_NUMBER = "+15550199999"
CRISIS = "I want to kill myself tonight"
LEASE_SECONDS = 8.0
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def receiver() -> Iterator[EscalationReceiver]:
    with EscalationReceiver(SECRET) as r:
        yield r


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as f:
        yield f


@pytest.fixture(scope="module")
def esc_stack(
    make_stack: Callable[..., Stack], receiver: EscalationReceiver, fake: FakeTwilio
) -> Iterator[Stack]:
    stack = make_stack(
        extra_env={
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_FROM_NUMBER": SERVICE_NUMBER,
            "TWILIO_API_BASE": fake.base_url,
            "SMS_REPLY_MODE": "rest",
            "ESCALATION_WEBHOOK_URL": receiver.url,
            "ESCALATION_WEBHOOK_SECRET": SECRET,
            "ONCALL_SMS_NUMBER": ONCALL_NUMBER,
            "ESCALATION_POLL_SECONDS": "0.2",
            "ESCALATION_BACKOFF_BASE_SECONDS": "0.3",
            "ESCALATION_BACKOFF_MAX_SECONDS": "1.5",
            "ESCALATION_HTTP_TIMEOUT_SECONDS": "5",
            "ESCALATION_LEASE_SECONDS": str(LEASE_SECONDS),
        }
    )
    stack.start_worker()
    yield stack
    stack.stop()  # not left polling (its fake provider and receiver close with the module)


@pytest.fixture(autouse=True)
def healthy(esc_stack: Stack, receiver: EscalationReceiver) -> Iterator[None]:
    """Each test starts with the receiver up and answering 200, and a worker running."""
    receiver.reset()
    receiver.start()
    if esc_stack._worker is None or esc_stack._worker.poll() is not None:
        esc_stack.start_worker()
    yield
    receiver.reset()


# --- helpers ----------------------------------------------------------------------------------------


def rows(stack: Stack, conversation_id: str) -> List[Dict[str, Any]]:
    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            result = conn.execute(
                sa.text(
                    "SELECT id, crisis_id, channel, destination, status, attempts, payload "
                    "FROM trd_escalations WHERE conversation_id = :c ORDER BY destination"
                ),
                {"c": conversation_id},
            )
            return [dict(r._mapping) for r in result]
    finally:
        engine.dispose()


def attempts(stack: Stack, escalation_id: str) -> List[Dict[str, Any]]:
    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            result = conn.execute(
                sa.text(
                    "SELECT attempt, outcome, http_status, error FROM trd_escalation_attempts "
                    "WHERE escalation_id = :e ORDER BY attempt"
                ),
                {"e": escalation_id},
            )
            return [dict(r._mapping) for r in result]
    finally:
        engine.dispose()


def crises(stack: Stack, conversation_id: str) -> List[Dict[str, Any]]:
    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            result = conn.execute(
                sa.text("SELECT id, channel, category FROM trd_crisis_events WHERE conversation_id = :c"),
                {"c": conversation_id},
            )
            return [dict(r._mapping) for r in result]
    finally:
        engine.dispose()


def wait_until(what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.2)


def webhook_row(stack: Stack, conversation_id: str) -> Dict[str, Any]:
    found = wait_until(
        "the webhook escalation row",
        lambda: [r for r in rows(stack, conversation_id) if r["destination"] == "webhook"],
    )
    return dict(found[0])


def for_conversation(conversation_id: str) -> Callable[[ReceivedRequest], bool]:
    return lambda r: r.payload is not None and r.payload.get("conversation_id") == conversation_id


def crisis_over_rest(stack: Stack, sender: str) -> List[Dict[str, Any]]:
    stack.rest(sender, "hello")
    started = time.monotonic()
    reply = stack.rest(sender, CRISIS)
    assert time.monotonic() - started < 30
    assert "988" in texts(reply)  # the person has the resources whatever happens to the escalation
    return reply


def assert_signed(delivery: ReceivedRequest) -> None:
    # recomputed here too, independently of the receiver and of the project's code
    own = "sha256=" + hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert delivery.signature == own == expected_signature(SECRET, delivery.body)
    assert delivery.payload is not None and delivery.escalation_id == delivery.payload["id"]


def assert_recent_utc(stamp: str) -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp), stamp
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - moment) < timedelta(minutes=5)


# --- the REST channel -------------------------------------------------------------------------------


def test_a_crisis_reaches_the_care_team_signed_with_the_right_fields(
    esc_stack: Stack, receiver: EscalationReceiver, fake: FakeTwilio
) -> None:
    sender = new_sender("esc")
    crisis_over_rest(esc_stack, sender)

    delivery = receiver.wait_for_delivery(for_conversation(sender), timeout=60)
    assert_signed(delivery)
    payload = delivery.payload
    assert payload is not None
    [crisis] = crises(esc_stack, sender)
    [row] = [r for r in rows(esc_stack, sender) if r["destination"] == "webhook"]
    assert payload["id"] == row["id"] == delivery.escalation_id
    assert payload["crisis_id"] == crisis["id"] == row["crisis_id"]
    assert (payload["type"], payload["version"], payload["conversation_id"]) == (
        "crisis_escalation",
        1,
        sender,
    )
    assert payload["channel"] == "rest" and crisis["channel"] == "rest"
    assert payload["risk_category"] == crisis["category"] and payload["risk_category"]
    assert_recent_utc(payload["time"])
    assert payload["contact"]["phone"] is None and "REST" in payload["contact"]["note"]
    said = [(m["from"], m["text"]) for m in payload["last_messages"]]
    assert said[0] == ("person", "hello") and said[-1] == ("person", CRISIS) and len(said) <= 6
    assert any(who == "assistant" for who, _ in said)  # the reply to "hello" is context too

    wait_until("delivered", lambda: webhook_row(esc_stack, sender)["status"] == "delivered", 10)
    assert [(a["outcome"], a["http_status"]) for a in attempts(esc_stack, row["id"])] == [("delivered", 200)]

    # the on-call phone gets a short alert too, without the person's words, and with a case
    # reference (the SMS delivery's id in the outbox) instead of the conversation's id
    sms_row = wait_until(
        "the on-call SMS escalation row",
        lambda: [r for r in rows(esc_stack, sender) if r["destination"] != "webhook"],
    )[0]
    case = f"Case {str(sms_row['id'])[:8]}."
    sms = fake.wait_for(lambda ms: any(case in m.body for m in ms if m.to == ONCALL_NUMBER), timeout=60)
    [alert] = [m for m in sms if m.to == ONCALL_NUMBER and case in m.body]
    assert alert.from_number == SERVICE_NUMBER
    assert "crisis alert" in alert.body and "REST API" in alert.body
    assert "kill" not in alert.body.lower() and sender not in alert.body


def test_an_escalation_raised_while_the_care_team_is_down_arrives_when_it_comes_back(
    esc_stack: Stack, receiver: EscalationReceiver
) -> None:
    receiver.stop()
    sender = new_sender("esc-down")
    crisis_over_rest(esc_stack, sender)
    row = webhook_row(esc_stack, sender)
    failed = wait_until(
        "two failed attempts",
        lambda: [a for a in attempts(esc_stack, row["id"]) if a["outcome"] == "failed"][1:],
        timeout=60,
    )
    assert all(a["http_status"] is None and "connect" in (a["error"] or "").lower() for a in failed)

    receiver.start()
    delivery = receiver.wait_for_delivery(for_conversation(sender), timeout=60)
    assert_signed(delivery)
    assert delivery.escalation_id == row["id"]  # the same escalation, not a new one
    audit = wait_until(
        "the delivery is audited",
        lambda: (lambda a: a if a and a[-1]["outcome"] == "delivered" else None)(
            attempts(esc_stack, row["id"])
        ),
        timeout=10,
    )
    assert [a["outcome"] for a in audit[:-1]] == ["failed"] * (len(audit) - 1) and len(audit) >= 3
    assert [r.escalation_id for r in receiver.deliveries if for_conversation(sender)(r)] == [row["id"]]


def test_a_care_team_answering_errors_gets_it_once_it_answers_2xx(
    esc_stack: Stack, receiver: EscalationReceiver
) -> None:
    receiver.answer(500)
    sender = new_sender("esc-500")
    crisis_over_rest(esc_stack, sender)
    row = webhook_row(esc_stack, sender)
    receiver.wait_for(lambda rs: len([r for r in rs if for_conversation(sender)(r)]) >= 2, timeout=60)
    receiver.answer(200)
    delivery = receiver.wait_for_delivery(for_conversation(sender), timeout=60)
    tried = [r for r in receiver.requests if for_conversation(sender)(r)]
    assert {r.escalation_id for r in tried} == {row["id"]}
    assert [r.status for r in tried[:2]] == [500, 500] and delivery.status == 200
    assert [r.attempt for r in tried] == [str(n) for n in range(1, len(tried) + 1)]
    assert len({r.body for r in tried}) == 1  # the same signed payload each time


def test_a_worker_killed_mid_delivery_loses_nothing(esc_stack: Stack, receiver: EscalationReceiver) -> None:
    receiver.hold()  # the care team's server takes the request and does not answer
    sender = new_sender("esc-kill")
    crisis_over_rest(esc_stack, sender)
    [held] = [
        r
        for r in receiver.wait_for(lambda rs: any(for_conversation(sender)(r) for r in rs), timeout=60)
        if for_conversation(sender)(r)
    ]
    assert esc_stack.stop_worker(signal.SIGKILL) == -signal.SIGKILL  # mid-request: no outcome recorded
    receiver.release()
    receiver.answer(200)
    row = webhook_row(esc_stack, sender)
    assert row["status"] == "pending"
    assert [a["outcome"] for a in attempts(esc_stack, row["id"])] == ["in_progress"]

    esc_stack.start_worker()
    started = time.monotonic()
    delivery = receiver.wait_for_delivery(for_conversation(sender), timeout=LEASE_SECONDS + 60)
    assert delivery.escalation_id == held.escalation_id == row["id"]  # at least once, same id
    assert delivery.body == held.body
    assert time.monotonic() - started < LEASE_SECONDS + 30
    audit = wait_until(
        "the delivery is audited",
        lambda: (lambda a: a if a and a[-1]["outcome"] == "delivered" else None)(
            attempts(esc_stack, row["id"])
        ),
        timeout=10,
    )
    assert audit[0]["outcome"] == "abandoned" and "lease" in audit[0]["error"]
    assert "was abandoned by a stopped worker" in esc_stack.log_tail("worker", n=200)


def test_the_worker_stops_cleanly_on_sigterm(esc_stack: Stack) -> None:
    assert esc_stack.stop_worker(signal.SIGTERM) == 0
    assert "escalation worker stopped" in esc_stack.log_tail("worker", n=20)


# --- the SMS channel: the "done when" ------------------------------------------------------


def sms_sender_id(stack: Stack, phone: str) -> str:
    key = stack.env["PHONE_HASH_SECRET"].encode()
    return "sms-" + hmac.new(key, phone.encode(), hashlib.sha256).hexdigest()[:32]


def text_in(stack: Stack, phone: str, body: str) -> None:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "To": SERVICE_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    url = stack.env["PUBLIC_BASE_URL"] + "/webhooks/twilio/webhook"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    r = requests.post(
        stack.base_url + "/webhooks/twilio/webhook",
        data=params,
        headers={"X-Twilio-Signature": signature},
        timeout=90,
    )
    assert r.status_code == 200, r.text


def test_a_crisis_over_sms_reaches_the_care_team_with_the_phone_number(
    esc_stack: Stack, receiver: EscalationReceiver, fake: FakeTwilio
) -> None:
    phone = f"+1555{uuid.uuid4().int % 1000:03d}{next(_numbers):04d}"
    sender = sms_sender_id(esc_stack, phone)
    text_in(esc_stack, phone, CRISIS)

    # the person is answered by SMS with the crisis resources
    fake.wait_for(lambda ms: any(m.to == phone and "988" in m.body for m in ms), timeout=90)

    delivery = receiver.wait_for_delivery(for_conversation(sender), timeout=60)
    assert_signed(delivery)
    payload = delivery.payload
    assert payload is not None
    assert payload["channel"] == "sms" and payload["conversation_id"] == sender
    assert payload["contact"]["phone"] == phone and payload["contact"]["sms_opted_out"] is False
    assert payload["risk_category"] == crises(esc_stack, sender)[0]["category"]
    assert payload["last_messages"][-1] == {"from": "person", "text": CRISIS, "time": payload["time"]}
    assert_recent_utc(payload["time"])

    alerts = fake.wait_for(lambda ms: any(m.to == ONCALL_NUMBER and phone in m.body for m in ms), timeout=60)
    [alert] = [m for m in alerts if m.to == ONCALL_NUMBER and phone in m.body]
    assert "SMS conversation" in alert.body and "kill" not in alert.body.lower()
    assert sender not in alert.body and re.search(r"Case [0-9a-f]{8}\.$", alert.body)  # a case reference

    # once both destinations have it, the number is no longer kept in clear; nothing logged it
    wait_until("both delivered", lambda: {r["status"] for r in rows(esc_stack, sender)} == {"delivered"}, 20)
    assert all(phone not in str(r["payload"]) for r in rows(esc_stack, sender))
    for log in ("rasa", "actions", "worker"):
        assert phone not in esc_stack.log_tail(log, n=100_000), log
