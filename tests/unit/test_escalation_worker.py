"""The delivery worker: notifiers over real HTTP on 127.0.0.1, the retry loop on a real SQLite
outbox, its settings, and the ``python -m trd.escalation.worker`` process itself."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from tests.support.escalation_receiver import EscalationReceiver, expected_signature, free_port
from tests.support.fake_twilio import FakeTwilio
from trd.escalation.backoff import nominal_delay
from trd.escalation.config import EscalationConfigError, SmsSettings, WebhookSettings, WorkerConfig
from trd.escalation.notifiers import (
    Delivery,
    DeliveryResult,
    FakeNotifier,
    SmsNotifier,
    UnconfiguredNotifier,
    WebhookNotifier,
)
from trd.escalation.outbox import SqlOutbox
from trd.escalation.worker import LOUD_AFTER_ATTEMPTS, Worker
from trd.store.migrate import upgrade
from trd.store.repository import EscalationRequest
from trd.store.sql import SqlRepository

ROOT = Path(__file__).resolve().parents[2]
SECRET = "receiver-secret-0123456789abcdef"
ONCALL = "+15550199999"
PHONE = "+15550142377"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def receiver() -> Iterator[EscalationReceiver]:
    with EscalationReceiver(SECRET) as r:
        yield r


def enqueue(url: str, conversation: str = "conv-w", destinations: tuple = ("webhook",)) -> List[str]:
    repo = SqlRepository.from_url(url)
    try:
        base = {
            "conversation_id": conversation,
            "channel": "sms",
            "risk_category": "plan",
            "time": "2024-12-05T14:00:50Z",
            "contact": {"phone": PHONE, "note": "n"},
        }
        payloads = {d: dict(base) for d in destinations}
        repo.record_crisis(conversation, "twilio", "plan", "x", escalation=EscalationRequest("sms", payloads))
        return [r.id for r in repo.escalations(conversation)]
    finally:
        repo.dispose()


def config(**overrides: object) -> WorkerConfig:
    values: Dict[str, object] = {
        "poll_seconds": 0.05,
        "backoff_base_seconds": 2.0,
        "backoff_max_seconds": 60.0,
        "lease_seconds": 30.0,
        "http_timeout_seconds": 2.0,
    }
    values.update(overrides)
    return WorkerConfig(**values)  # type: ignore[arg-type]


def delivery(**overrides: object) -> Delivery:
    values: Dict[str, object] = {
        "id": "3d8a0c52-6b1e-4f7a-9f57-2f0f2f7f0001",
        "destination": "webhook",
        "payload": {
            "id": "3d8a0c52-6b1e-4f7a-9f57-2f0f2f7f0001",
            "risk_category": "plan",
            "channel": "rest",
            "conversation_id": "conv-1",
            "contact": {"phone": None},
        },
        "attempt": 3,
    }
    values.update(overrides)
    return Delivery(**values)  # type: ignore[arg-type]


# --- the webhook notifier, against a receiver that checks signatures itself -------------------------


def test_webhook_posts_the_signed_payload_and_2xx_is_delivered(receiver: EscalationReceiver) -> None:
    notifier = WebhookNotifier(WebhookSettings(receiver.url, SECRET), timeout=5)

    async def go() -> DeliveryResult:
        try:
            return await notifier.deliver(delivery())
        finally:
            await notifier.close()

    result = asyncio.run(go())
    assert result == DeliveryResult(True, http_status=200)
    [got] = receiver.requests
    assert got.signature_ok and got.signature == expected_signature(SECRET, got.body)
    assert got.escalation_id == delivery().id and got.attempt == "3"
    assert got.payload == delivery().payload
    assert got.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("status", [500, 503, 404, 401, 302])
def test_webhook_anything_but_2xx_is_a_failure_with_its_status(
    receiver: EscalationReceiver, status: int
) -> None:
    receiver.answer(status)
    notifier = WebhookNotifier(WebhookSettings(receiver.url, SECRET), timeout=5)

    async def go() -> DeliveryResult:
        try:
            return await notifier.deliver(delivery())
        finally:
            await notifier.close()

    result = asyncio.run(go())
    assert not result.delivered and result.http_status == status
    assert str(status) in (result.error or "")
    assert len(receiver.requests) == 1  # a redirect is not followed


def test_webhook_with_a_wrong_secret_is_refused_by_the_receiver(receiver: EscalationReceiver) -> None:
    notifier = WebhookNotifier(WebhookSettings(receiver.url, "not-the-shared-secret"), timeout=5)
    result = asyncio.run(_once(notifier))
    assert not result.delivered and result.http_status == 401
    assert receiver.deliveries == [] and receiver.requests[0].signature_ok is False


async def _once(notifier: WebhookNotifier) -> DeliveryResult:
    try:
        return await notifier.deliver(delivery())
    finally:
        await notifier.close()


@pytest.mark.slow
def test_webhook_down_or_too_slow_is_a_failure_not_an_exception(receiver: EscalationReceiver) -> None:
    receiver.hold()
    slow = WebhookNotifier(WebhookSettings(receiver.url, SECRET), timeout=0.5)
    started = time.monotonic()
    result = asyncio.run(_once(slow))
    assert time.monotonic() - started < 3
    assert not result.delivered and result.http_status is None and "timeout" in (result.error or "")
    receiver.stop()
    down = WebhookNotifier(WebhookSettings(receiver.url, SECRET), timeout=2)
    result = asyncio.run(_once(down))
    assert not result.delivered and "ClientConnectorError" in (result.error or "")


def test_webhook_passes_on_retry_after() -> None:
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "7"})

    async def go() -> DeliveryResult:
        app = web.Application()
        app.router.add_post("/x", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        notifier = WebhookNotifier(WebhookSettings(f"http://127.0.0.1:{port}/x", SECRET), timeout=2)
        try:
            return await notifier.deliver(delivery())
        finally:
            await notifier.close()
            await runner.cleanup()

    result = asyncio.run(go())
    assert (result.delivered, result.http_status, result.retry_after) == (False, 429, 7.0)


# --- the SMS notifier, against the fake Twilio API ------------------------------------------------


@pytest.mark.slow
def test_sms_notifier_texts_the_on_call_number_a_short_alert() -> None:
    with FakeTwilio("AC" + "1" * 32, "tok") as fake:
        settings = SmsSettings(ONCALL, "AC" + "1" * 32, "tok", "+15550100000", fake.base_url)
        notifier = SmsNotifier(settings, "TRD Navigator", timeout=5)
        payload = {
            **delivery().payload,
            "channel": "sms",
            "contact": {"phone": PHONE, "sms_opted_out": False},
            "last_messages": [{"from": "person", "text": "my secret words"}],
        }

        async def go() -> List[DeliveryResult]:
            try:
                first = await notifier.deliver(delivery(destination="sms", payload=payload))
                fake.fail_next(1, 503)
                second = await notifier.deliver(delivery(destination="sms", payload=payload))
                return [first, second]
            finally:
                await notifier.close()

        first, second = asyncio.run(go())
        assert first.delivered
        assert not second.delivered and second.http_status == 503  # one try: the outbox retries
        [sms] = fake.messages
        assert (sms.to, sms.from_number) == (ONCALL, "+15550100000")
        assert sms.body.startswith("TRD Navigator crisis alert: risk plan, SMS conversation")
        assert PHONE in sms.body and "Case 3d8a0c52." in sms.body
        assert "secret words" not in sms.body


# --- the worker loop on a real outbox -------------------------------------------------------------


def test_the_worker_delivers_due_rows(db_url: str) -> None:
    ids = enqueue(db_url, destinations=("webhook", "sms"))
    web, sms = FakeNotifier("webhook"), FakeNotifier("sms")
    worker = Worker(SqlOutbox.from_url(db_url), {"webhook": web, "sms": sms}, config())
    assert asyncio.run(worker.run_once()) == 2
    assert sorted(web.delivered_ids() + sms.delivered_ids()) == sorted(ids)
    assert [(d.destination, d.attempt) for d in web.deliveries + sms.deliveries] == [
        ("webhook", 1),
        ("sms", 1),
    ]
    assert web.deliveries[0].payload["id"] == web.deliveries[0].id
    assert all(worker.outbox.get(i).status == "delivered" for i in ids)  # type: ignore[union-attr]
    assert asyncio.run(worker.run_once()) == 0
    worker.outbox.dispose()


@pytest.mark.slow
def test_failures_are_retried_on_the_backoff_schedule_forever_and_loudly(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    [row_id] = enqueue(db_url)
    clock = Clock()
    outbox = SqlOutbox.from_url(db_url, clock=clock)
    failing = FakeNotifier("webhook", default=DeliveryResult(False, http_status=500, error="answered 500"))
    worker = Worker(outbox, {"webhook": failing}, config(), clock=clock, rand=lambda: 0.0)
    clock.advance(1)
    delays = []
    with caplog.at_level(logging.WARNING, logger="trd.escalation.worker"):
        for attempt in range(1, 12):
            assert asyncio.run(worker.run_once()) == 1
            row = outbox.get(row_id)
            assert row is not None and row.status == "pending" and row.attempts == attempt
            delays.append((row.next_attempt_at - clock.now).total_seconds())
            assert asyncio.run(worker.run_once()) == 0  # not before its time
            clock.advance(delays[-1])
    assert delays == [nominal_delay(n, 2.0, 60.0) for n in range(1, 12)]
    assert delays[-4:] == [60.0] * 4  # at the cap, and still going
    records = [r for r in caplog.records if "failed on attempt" in r.getMessage()]
    assert [r.levelno for r in records] == [logging.WARNING] * (LOUD_AFTER_ATTEMPTS - 1) + [logging.ERROR] * (
        11 - LOUD_AFTER_ATTEMPTS + 1
    )
    assert "ESCALATION NOT DELIVERED" in records[-1].getMessage() and row_id in records[-1].getMessage()
    failing.default = DeliveryResult(True, http_status=200)
    assert asyncio.run(worker.run_once()) == 1
    audit = outbox.attempts(row_id)
    assert [a.outcome for a in audit] == ["failed"] * 11 + ["delivered"]
    assert {a.http_status for a in audit[:-1]} == {500} and audit[0].error == "answered 500"
    outbox.dispose()


def test_retry_after_is_honoured_up_to_the_cap(db_url: str) -> None:
    [row_id] = enqueue(db_url)
    clock = Clock()
    outbox = SqlOutbox.from_url(db_url, clock=clock)
    notifier = FakeNotifier(
        "webhook",
        results=[
            DeliveryResult(False, 429, "slow down", retry_after=30.0),
            DeliveryResult(False, 429, "slow down", retry_after=9999.0),
        ],
    )
    worker = Worker(
        outbox, {"webhook": notifier}, config(backoff_max_seconds=45.0), clock=clock, rand=lambda: 0.0
    )
    asyncio.run(worker.run_once())
    row = outbox.get(row_id)
    assert row is not None and (row.next_attempt_at - clock.now).total_seconds() == 30.0
    clock.advance(30)
    asyncio.run(worker.run_once())
    row = outbox.get(row_id)
    assert row is not None and (row.next_attempt_at - clock.now).total_seconds() == 45.0
    outbox.dispose()


def test_a_crashing_or_missing_notifier_is_an_audited_failure(db_url: str) -> None:
    web_id, sms_id = (r for r in sorted(enqueue(db_url, destinations=("webhook", "sms"))))
    outbox = SqlOutbox.from_url(db_url)

    class Broken(FakeNotifier):
        async def deliver(self, delivery: Delivery) -> DeliveryResult:
            raise RuntimeError("bug")

    worker = Worker(
        outbox,
        {"webhook": Broken("webhook"), "sms": UnconfiguredNotifier("sms", "set ONCALL_SMS_NUMBER")},
        config(),
    )
    assert asyncio.run(worker.run_once()) == 2
    errors = sorted(outbox.attempts(i)[0].error or "" for i in (web_id, sms_id))
    assert errors == ["not configured: set ONCALL_SMS_NUMBER", "notifier error: RuntimeError"]
    assert all(r.status == "pending" for r in outbox.pending())
    outbox.dispose()


@pytest.mark.slow
def test_the_loop_picks_up_new_rows_quickly_and_stops_cleanly(db_url: str) -> None:
    notifier = FakeNotifier("webhook")
    outbox = SqlOutbox.from_url(db_url)
    worker = Worker(outbox, {"webhook": notifier}, config(poll_seconds=0.05))

    async def go() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0.2)
        [row_id] = await asyncio.to_thread(enqueue, db_url)
        started = time.monotonic()
        while row_id not in notifier.delivered_ids():
            assert time.monotonic() - started < 5
            await asyncio.sleep(0.01)
        took = time.monotonic() - started
        stop.set()
        await asyncio.wait_for(task, 5)
        return took

    assert asyncio.run(go()) < 1.0
    outbox.dispose()


@pytest.mark.slow
def test_stopping_hands_back_a_delivery_still_in_flight(db_url: str) -> None:
    [row_id] = enqueue(db_url)
    outbox = SqlOutbox.from_url(db_url)
    stuck = FakeNotifier("webhook", delay=30)
    worker = Worker(outbox, {"webhook": stuck}, config(http_timeout_seconds=0.5, lease_seconds=300))

    async def go() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        deadline = time.monotonic() + 10
        while not stuck.deliveries:
            assert time.monotonic() < deadline, "the worker never tried"
            await asyncio.sleep(0.01)
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, 10)
        return time.monotonic() - started

    assert asyncio.run(go()) < 5  # the grace is the HTTP timeout + 2 s
    row = outbox.get(row_id)
    assert row is not None and row.status == "pending"
    assert row.next_attempt_at <= datetime.now(timezone.utc)  # due at once, not after the 300 s lease
    assert [a.outcome for a in outbox.attempts(row_id)] == ["released"]
    outbox.dispose()


# --- settings -------------------------------------------------------------------------------------

GOOD = {"ESCALATION_WEBHOOK_URL": "https://care.example.org/hook", "ESCALATION_WEBHOOK_SECRET": "s" * 32}
TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
    "TWILIO_AUTH_TOKEN": "t" * 32,
    "TWILIO_FROM_NUMBER": "+15550100000",
}


def test_settings_defaults_and_description_without_secrets() -> None:
    cfg = WorkerConfig.from_env({**GOOD, **TWILIO, "ONCALL_SMS_NUMBER": " +1 555 019 9999 "})
    assert cfg.webhook == WebhookSettings("https://care.example.org/hook", "s" * 32)
    assert (
        cfg.sms is not None and cfg.sms.to_number == ONCALL and cfg.sms.api_base == "https://api.twilio.com"
    )
    assert (cfg.poll_seconds, cfg.backoff_base_seconds, cfg.backoff_max_seconds) == (1.0, 2.0, 60.0)
    assert (cfg.lease_seconds, cfg.http_timeout_seconds, cfg.batch_size) == (60.0, 10.0, 10)
    text = cfg.describe() + repr(cfg)
    assert "s" * 32 not in text and "t" * 32 not in text and ONCALL not in text
    assert "https://care.example.org" in text and "/hook" not in text
    assert WorkerConfig.from_env({}).webhook is None and WorkerConfig.from_env({}).sms is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ESCALATION_WEBHOOK_URL": "https://x.org/h"}, "ESCALATION_WEBHOOK_SECRET must be set"),
        ({**GOOD, "ESCALATION_WEBHOOK_SECRET": "short"}, "at least 16"),
        ({**GOOD, "ESCALATION_WEBHOOK_URL": "ftp://x.org/h"}, "http(s) URL"),
        ({**GOOD, "ESCALATION_WEBHOOK_URL": "not a url"}, "http(s) URL"),
        ({**GOOD, "ESCALATION_WEBHOOK_URL": "https://u:p@x.org/h"}, "user name or password"),
        ({"ONCALL_SMS_NUMBER": "5551234"}, "E.164"),
        ({"ONCALL_SMS_NUMBER": ONCALL, "TWILIO_ACCOUNT_SID": "AC1"}, "TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER"),
        ({"ESCALATION_POLL_SECONDS": "soon"}, "ESCALATION_POLL_SECONDS must be a number"),
        ({"ESCALATION_POLL_SECONDS": "0"}, "ESCALATION_POLL_SECONDS must be at least"),
        (
            {"ESCALATION_BACKOFF_BASE_SECONDS": "10", "ESCALATION_BACKOFF_MAX_SECONDS": "5"},
            "must not be less",
        ),
        (
            {"ESCALATION_LEASE_SECONDS": "10"},
            "ESCALATION_LEASE_SECONDS (10) must be at least a second longer",
        ),
        ({"ESCALATION_BATCH_SIZE": "0"}, "ESCALATION_BATCH_SIZE"),
        ({"ESCALATION_BACKOFF_MAX_SECONDS": "inf"}, "ESCALATION_BACKOFF_MAX_SECONDS"),
    ],
)
def test_bad_settings_name_the_variable(env: Dict[str, str], message: str) -> None:
    with pytest.raises(EscalationConfigError) as err:
        WorkerConfig.from_env(env)
    assert message in str(err.value)
    assert "s" * 32 not in str(err.value)


def test_plain_http_to_another_host_is_warned_about() -> None:
    cfg = WorkerConfig.from_env({**GOOD, "ESCALATION_WEBHOOK_URL": "http://care.example.org/hook"})
    assert any("use https" in w for w in cfg.warnings)
    assert WorkerConfig.from_env({**GOOD, "ESCALATION_WEBHOOK_URL": "http://127.0.0.1:9/h"}).warnings == ()


# --- the process ------------------------------------------------------------------------------------


def _env(db_url: str, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESCALATION_", "ONCALL_", "TWILIO_"))}
    env.update({"DATABASE_URL": db_url, "PYTHONDONTWRITEBYTECODE": "1", **extra})
    return env


def _start(env: Dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "trd.escalation.worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.mark.slow  # worker processes
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_process_delivers_and_stops_cleanly_on_a_signal(
    db_url: str, receiver: EscalationReceiver, sig: int
) -> None:
    [row_id] = enqueue(db_url)
    proc = _start(_env(db_url, ESCALATION_WEBHOOK_URL=receiver.url, ESCALATION_WEBHOOK_SECRET=SECRET))
    try:
        got = receiver.wait_for_delivery(lambda r: r.escalation_id == row_id, timeout=60)
        assert got.payload is not None and got.payload["id"] == row_id
        os.kill(proc.pid, sig)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, out
    assert "escalation worker started" in out and "escalation worker stopped" in out
    assert f"escalation {row_id} delivered to webhook" in out
    assert PHONE not in out and SECRET not in out
    assert "Traceback" not in out


@pytest.mark.slow  # a worker process
def test_the_worker_process_refuses_to_run_with_a_bad_setting(db_url: str) -> None:
    proc = _start(_env(db_url, ESCALATION_WEBHOOK_URL="https://care.example.org/h"))
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "ESCALATION_WEBHOOK_SECRET must be set" in out and "Traceback" not in out


def test_the_number_is_decrypted_only_for_the_request(db_url: str) -> None:
    """#10: the outbox keeps the SMS sender id; the worker adds the number to what it sends."""
    from trd.escalation.payload import Contact

    sender = "sms-" + "a" * 32

    class Contacts:
        def contact_for(self, sender_id: str) -> Contact | None:
            return Contact(PHONE) if sender_id == sender else None

    repo = SqlRepository.from_url(db_url)
    contact = {"phone": None, "sms_sender": sender, "sms_opted_out": False, "note": "n"}
    payload = {"type": "crisis_escalation", "channel": "sms", "risk_category": "plan", "contact": contact}
    request = EscalationRequest("sms", {"webhook": payload, "sms": payload})
    repo.record_crisis(sender, "twilio", "plan", "m", escalation=request)
    rows = repo.escalations(sender)
    repo.dispose()
    assert all(PHONE not in str(r.payload) for r in rows)
    web, sms = FakeNotifier("webhook"), FakeNotifier("sms")
    worker = Worker(SqlOutbox.from_url(db_url), {"webhook": web, "sms": sms}, config(), contacts=Contacts())
    assert asyncio.run(worker.run_once()) == 2
    assert [d.payload["contact"]["phone"] for d in web.deliveries + sms.deliveries] == [PHONE, PHONE]
    stored = [worker.outbox.get(r.id) for r in rows]
    assert all(s is not None and s.status == "delivered" and PHONE not in str(s.payload) for s in stored)
    worker.outbox.dispose()
