"""The log redaction filter (trd/logredact.py): phone numbers, message text and tokens never
reach a log line, from any logger, at any level."""

from __future__ import annotations

import io
import json
import logging
from typing import Iterator

import pytest

from trd import logredact
from trd.logredact import PHONE, SECRET, TEXT, redact


@pytest.fixture()
def captured() -> Iterator[io.StringIO]:
    """Redaction installed, and a handler on the root logger that keeps what it writes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(name)s %(levelname)s %(message)s %(request)s", defaults={"request": ""})
    )
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logredact.install(
        {
            "RASA_AUTH_TOKEN": "tok-0123456789abcdef",
            "TWILIO_AUTH_TOKEN": "twilio-secret-value-42",
            "DATABASE_URL": "postgresql://u:db-password-xyz@h/db",
        }
    )
    try:
        yield stream
    finally:
        logredact.uninstall()
        logredact.forget_all()
        logredact.set_secrets([])
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.mark.parametrize(
    "number",
    [
        "+15551234567",
        "+447700900123",
        "%2B15551234567",
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "1 555 123 4567",
        "+1 555-123-4567",
        "5551234567",
        "15551234567",
    ],
)
def test_phone_numbers_are_redacted(number: str) -> None:
    out = redact(f"sms: reply to {number} failed")
    assert PHONE in out and "123" not in out.replace(PHONE, ""), out


@pytest.mark.parametrize(
    "text",
    [
        '{"timestamp": 1701234567.123456, "event": "user"}',
        "crisis 17 recorded at 2026-12-07 02:25:29,123 on 127.0.0.1:5005",
        "call 988 or text 741741",
        "escalation 3f2a9c1e-1d2b-4c5d-9e8f-123456789012 delivered",
        "took 0.0123 s for 120 events",
    ],
)
def test_things_that_are_not_phone_numbers_stay(text: str) -> None:
    assert PHONE not in redact(text)


@pytest.mark.parametrize(
    "line, secret",
    [
        ("Authorization: Bearer abc.def-123_XYZ", "abc.def-123_XYZ"),
        ("GET /webhooks/rest/webhook?token=s3cr3t-token&x=1", "s3cr3t-token"),
        ("POST /conversations/x/messages?auth_token=abcdef123", "abcdef123"),
        ("GET /summary/Zm9vYmFyYmF6cXV4cXV1eHh5enp5eA-_aa HTTP/1.1", "Zm9vYmFyYmF6cXV4cXV1eHh5enp5eA-_aa"),
        ("headers {'X-Twilio-Signature': 'aGVsbG8gd29ybGQ='}", "aGVsbG8gd29ybGQ="),
        ("X-Escalation-Signature: sha256=0123abcd", "sha256=0123abcd"),
        ("cookie trd_chat=v1.abc; Path=/chat", "v1.abc"),
        (
            "token v1.AAAAAAAAAAAAAAAAAAAAAA.1701234567.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB used",
            "AAAAAAAAAAAAAAAAAAAAAA",
        ),
        ("row gAAAAABlZ2V0dGluZ3NvbWVmZXJuZXR0b2tlbmhlcmVmb3J0ZXN0aW5n== stored", "gAAAAABlZ2V0"),
    ],
)
def test_tokens_are_redacted(line: str, secret: str) -> None:
    out = redact(line)
    assert secret not in out and SECRET in out, out


def test_rasa_structured_debug_events_lose_the_text_bearing_fields() -> None:
    line = json.dumps(
        {
            "event": "processor.message.parse",
            "parse_data_text": "my dog died and I want to kill myself",
            "parse_data_intent": {"name": "crisis", "confidence": 0.99},
            "parse_data_entities": [{"entity": "risk_category", "value": "plan"}],
            "level": "debug",
        }
    )
    out = json.loads(redact(line))
    assert out["parse_data_text"] == TEXT and out["parse_data_entities"] == TEXT
    assert out["parse_data_intent"]["name"] == "crisis"  # what is not personal stays useful
    slots = json.dumps({"event": "processor.slots.log", "slot_values": "\tsp_who_to_call: my sister Ana"})
    assert "Ana" not in redact(slots)


def test_rasa_text_dumps_are_redacted() -> None:
    assert "zebra" not in redact("Received user message 'secret zebra words' with intent '{'name': 'x'}'")
    assert "zebra" not in redact("Validating user input '{'text': 'secret zebra words', 'intent': {}}'")
    assert "zebra" not in redact('tracker {"text": "secret \\"zebra\\" words", "x": 1}')


def test_remembered_texts_are_redacted_wherever_they_appear(captured: io.StringIO) -> None:
    logredact.remember("my secret zebra words")
    logredact.remember("ok")  # too short to matter (and would blank common words)
    logging.getLogger("rasa_sdk.forms").debug("Validating extracted slots: {'sp': 'my secret zebra words'}")
    out = captured.getvalue()
    assert "zebra" not in out and TEXT in out
    assert "ok" not in logredact.describe()  # counts only
    assert logredact.describe()["texts"] == 1


def test_every_logger_is_redacted_with_its_arguments_traceback_and_extras(captured: io.StringIO) -> None:
    logredact.remember("I wrote this privately")
    logging.getLogger("sanic.access").info(
        "", extra={"request": "GET /summary/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
    )
    logging.getLogger("trd.sms").warning("sms: reply to %s failed", "+15551234567")
    try:
        raise ValueError("could not save 'I wrote this privately' with key tok-0123456789abcdef")
    except ValueError:
        logging.getLogger("rasa.core.processor").exception("failed")
    logging.getLogger("sqlalchemy.engine").error(
        "connect to postgresql://u:db-password-xyz@h/db failed (twilio-secret-value-42)",
        extra={"request": ""},
    )
    out = captured.getvalue()
    for leaked in (
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "+15551234567",
        "I wrote this privately",
        "tok-0123456789abcdef",
        "db-password-xyz",
        "twilio-secret-value-42",
    ):
        assert leaked not in out, (leaked, out)
    assert "ValueError" in out and "Traceback" in out  # the traceback itself is kept, redacted
    assert "sms: reply to [phone] failed" in out


def test_install_is_idempotent_and_reversible() -> None:
    original = logging.Logger.makeRecord
    logredact.install({})
    patched = logging.Logger.makeRecord
    logredact.install({})
    assert logging.Logger.makeRecord is patched is not original
    logredact.uninstall()
    assert logging.Logger.makeRecord is original


def test_secrets_come_from_the_settings() -> None:
    found = logredact.secrets_from_env(
        {"WEBCHAT_SECRET": "w" * 64, "CLINICIAN_TOKEN": "short", "DATABASE_URL": "sqlite:////tmp/x.db"}
    )
    assert found == ["w" * 64]  # too short to be a real secret: left out; no password in the URL


@pytest.mark.parametrize(
    ("entry", "call"),
    [
        ("bot/__main__.py", "log_privacy.install()"),
        ("actions/server.py", "log_privacy.install()"),
        ("trd/escalation/worker.py", "logredact.install()"),
        ("trd/checkins/worker.py", "logredact.install()"),
    ],
)
def test_every_process_installs_the_redaction_before_logging(entry: str, call: str) -> None:
    from trd.paths import REPO_ROOT

    source = (REPO_ROOT / entry).read_text(encoding="utf-8")
    main = source[source.index("def main(") :]
    assert call in main
    configured = main.find("logging.basicConfig")
    assert configured == -1 or main.index(call) < configured
