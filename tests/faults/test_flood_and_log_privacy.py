"""Two faults a deployment meets (#10), on one deployment of real processes on 127.0.0.1 (the Rasa
server, the action server, the escalation worker, SQLite, a care team's webhook and a fake
Twilio), every process logging at DEBUG:

- **an escalation flood**: 100 crisis messages in one conversation make one escalation, one
  page (one on-call SMS, one page webhook) and a bounded number of updates, not 100 pages;
- **the logs**: after a full intake and a crisis over SMS while the care team's webhook fails,
  no log line of any process holds the phone number, what the person wrote, or a token or
  secret (the API token, Twilio's token and signatures, the webhook secret, the summary link).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Callable, Iterator, List

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.integration.test_sms_channel import params_for
from tests.support.escalation_receiver import EscalationReceiver
from tests.support.fake_twilio import FakeTwilio
from tests.support.servers import ROOT, Stack
from tests.support.sms import ACCOUNT_SID, AUTH_TOKEN, SERVICE_NUMBER

pytestmark = pytest.mark.integration

SECRET = "flood-webhook-" + uuid.uuid4().hex
ONCALL = "+15550177777"
UPDATE_MIN_SECONDS = 6.0
CRISIS = "I want to kill myself tonight"
FLOOD = 100
SMS_PATH = "/webhooks/twilio/webhook"


@pytest.fixture(scope="module")
def receiver() -> Iterator[EscalationReceiver]:
    with EscalationReceiver(SECRET) as r:
        yield r


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as f:
        yield f


@pytest.fixture(scope="module")
def debug_stack(
    make_stack: Callable[..., Stack], receiver: EscalationReceiver, fake: FakeTwilio
) -> Iterator[Stack]:
    stack = make_stack(
        extra_env={
            "LOG_LEVEL": "DEBUG",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_FROM_NUMBER": SERVICE_NUMBER,
            "TWILIO_API_BASE": fake.base_url,
            "SMS_REPLY_MODE": "twiml",
            "ESCALATION_WEBHOOK_URL": receiver.url,
            "ESCALATION_WEBHOOK_SECRET": SECRET,
            "ONCALL_SMS_NUMBER": ONCALL,
            "ESCALATION_UPDATE_MIN_SECONDS": str(UPDATE_MIN_SECONDS),
            "ESCALATION_POLL_SECONDS": "0.2",
            "ESCALATION_BACKOFF_BASE_SECONDS": "0.3",
            "ESCALATION_BACKOFF_MAX_SECONDS": "1.5",
        }
    )
    stack.start_worker()
    yield stack
    stack.stop()  # not left polling (its fake provider and receiver close with the module)


def rest(stack: Stack, sender: str, text: str) -> str:
    r = requests.post(
        stack.base_url + "/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        headers={"Authorization": f"Bearer {stack.auth_token}"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    return "\n".join(m.get("text") or "" for m in r.json())


def test_a_hundred_crisis_messages_page_once_and_update_a_bounded_number_of_times(
    debug_stack: Stack, receiver: EscalationReceiver, fake: FakeTwilio
) -> None:
    sender = "rest-flood-" + uuid.uuid4().hex[:8]
    oncall_before = len(fake.messages_to(ONCALL))
    start = time.monotonic()
    for i in range(FLOOD):
        reply = rest(debug_stack, sender, f"{CRISIS} ({i + 1})")
        assert "988" in reply  # every single message still gets the crisis lines
    took = time.monotonic() - start

    def mine(kind: str) -> List[dict]:
        return [
            r.payload
            for r in receiver.deliveries
            if r.payload and r.payload.get("conversation_id") == sender and r.payload.get("type") == kind
        ]

    # The last update is due at most UPDATE_MIN_SECONDS after the one before: wait for it.
    receiver.wait_for(
        lambda rs: any(
            r.delivered
            and r.payload
            and r.payload.get("conversation_id") == sender
            and any(f"({FLOOD})" in m.get("text", "") for m in r.payload.get("last_messages") or [])
            for r in rs
        ),
        timeout=UPDATE_MIN_SECONDS * 3 + 60,
    )
    time.sleep(2)  # anything more would arrive now
    pages, updates = mine("crisis_escalation"), mine("crisis_escalation_update")
    assert len(pages) == 1, pages  # one escalation, one page
    bound = int(took // UPDATE_MIN_SECONDS) + 2
    assert 1 <= len(updates) <= bound, (len(updates), bound, took)
    assert all(u["case_id"] == pages[0]["case_id"] for u in updates)
    counts = [u["crisis_count"] for u in updates]
    assert counts == sorted(counts) and counts[-1] > 1
    assert len(fake.messages_to(ONCALL)) - oncall_before == 1  # the on-call phone buzzed once
    assert mine("escalation_rate_alarm") == []  # one person is not a surge
    print(f"flood: {FLOOD} messages in {took:.0f}s -> 1 page, {len(updates)} updates (bound {bound})")


# --- the logs -----------------------------------------------------------------------------------


def sms(stack: Stack, phone: str, body: str, signatures: List[str]) -> str:
    params = params_for(phone, body)
    url = stack.env["PUBLIC_BASE_URL"] + SMS_PATH
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    signatures.append(signature)
    r = requests.post(
        stack.base_url + SMS_PATH, data=params, headers={"X-Twilio-Signature": signature}, timeout=120
    )
    assert r.status_code == 200, r.text
    return r.text


INTAKE = [
    "hi",
    "yes, let's start",
    *["1", "2", "2", "0", "3", "1", "3", "0", "0"],
    "about a year and a half, since my father's funeral",
    "yes, twice before",
]
MORE = ["zoloft then lexapro", "150mg for eight weeks", "skip this part"]
MAX_TURNS = 60
CRISIS_SMS = "my secret zebra words: I have the pills counted out and I want to kill myself"


def personal(texts: List[str]) -> List[str]:
    """The person's own words: what they typed that the assistant itself never says."""
    domain = (ROOT / "domain.yml").read_text(encoding="utf-8").lower()
    return [t for t in texts if len(t) >= 8 and re.search(r"[a-z]", t) and t.lower() not in domain]


def test_no_log_line_holds_a_number_what_was_written_or_a_token(
    debug_stack: Stack, receiver: EscalationReceiver
) -> None:
    phone = f"+1555{uuid.uuid4().int % 900 + 100:03d}{uuid.uuid4().int % 10000:04d}"
    signatures: List[str] = []
    sent = list(INTAKE)
    replies = [sms(debug_stack, phone, text, signatures) for text in INTAKE]
    # Then through every part to the end (answers the intake cannot use are asked again, then
    # skipped; "skip this part" moves on), whatever questions this version of the intake asks.
    for turn in range(MAX_TURNS):
        if "/summary/" in replies[-1]:
            break
        text = MORE[turn] if turn < len(MORE) else "skip this part"
        sent.append(text)
        replies.append(sms(debug_stack, phone, text, signatures))
    link = re.search(r"/summary/([A-Za-z0-9_-]{43})", replies[-1])
    assert link, replies[-1]  # the intake finished with a summary link
    receiver.answer(500)  # the care team's webhook is failing
    try:
        sms(debug_stack, phone, CRISIS_SMS, signatures)
        receiver.wait_for(
            lambda rs: len([r for r in rs if r.status == 500 and "zebra" in r.body.decode()]) >= 2, timeout=90
        )
    finally:
        receiver.answer(200)

    logs = {p.name: p.read_text(errors="replace") for p in debug_stack.workdir.glob("*.log")}
    assert {"rasa.log", "actions.log", "worker.log"} <= set(logs), sorted(logs)
    everything = "\n".join(logs.values())
    assert " DEBUG " in everything or '"level": "debug"' in everything  # the scan is of debug logs
    assert "[text]" in everything  # and something was there to redact
    digits = phone.lstrip("+")
    secrets = {
        "the phone number": [phone, digits, digits[1:], f"({digits[1:4]}) {digits[4:7]}-{digits[7:]}"],
        "what they wrote": personal([*sent, CRISIS_SMS]) + ["zebra"],
        "tokens": [
            debug_stack.auth_token,
            AUTH_TOKEN,
            SECRET,
            link.group(1),
            debug_stack.env["WEBCHAT_SECRET"],
            debug_stack.env["PHONE_HASH_SECRET"],
            debug_stack.env["CLINICIAN_TOKEN"],
            *signatures,
        ],
    }
    found = [
        (what, name, s)
        for what, needles in secrets.items()
        for s in needles
        for name, text in logs.items()
        if s and s in text
    ]
    assert found == [], found


# --- the fuzz run (a smaller pass of bench/fuzz.py) ---------------------------------------------


def test_malformed_requests_on_every_endpoint_get_no_5xx_and_no_traceback(debug_stack: Stack) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import fuzz

    target = fuzz.Target(
        debug_stack.base_url,
        debug_stack.auth_token,
        AUTH_TOKEN,
        debug_stack.env["CLINICIAN_TOKEN"],
        debug_stack.env["PUBLIC_BASE_URL"],
    )
    logs = [debug_stack.workdir / f"{name}.log" for name in ("rasa", "actions", "worker")]
    figures = fuzz.run(target, count=800, seed=7, workers=4, logs=logs)
    print(figures["table"])
    assert figures["server_errors"] == []
    assert figures["tracebacks"] == []
    assert figures["still_answers"]
    assert sum(sum(v.values()) for v in figures["table"].values()) == 800
    assert len(figures["table"]) >= 10  # every kind of endpoint was tried
