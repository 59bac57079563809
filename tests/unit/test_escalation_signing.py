"""The webhook signature: HMAC-SHA256 of the exact body, checked by an independent computation."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from trd.escalation.signing import encode_body, sign, verify

SECRET = "a-shared-secret-of-some-length"
PAYLOAD = {
    "id": "0b6f3c1e-0000-4000-8000-000000000001",
    "conversation_id": "sms-0123456789abcdef0123456789abcdef",
    "risk_category": "plan",
    "last_messages": [
        {"from": "person", "text": "Je n'en peux plus \U0001f61e \u2014 \u6211\u4e0d\u60f3\u6d3b\u4e86"}
    ],
}


def independent_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signature_is_hmac_sha256_hex_of_the_raw_body() -> None:
    body = encode_body(PAYLOAD)
    signature = sign(body, SECRET)
    assert signature == independent_signature(SECRET, body)
    assert signature.startswith("sha256=") and len(signature) == len("sha256=") + 64
    assert signature[len("sha256=") :] == signature[len("sha256=") :].lower()


def test_body_is_compact_sorted_utf8_json_that_round_trips() -> None:
    body = encode_body(PAYLOAD)
    assert json.loads(body.decode("utf-8")) == PAYLOAD
    assert body == json.dumps(PAYLOAD, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert "\U0001f61e".encode() in body  # not \u-escaped: what is signed is what is read
    # the same payload in another key order is the same bytes, so the same signature
    assert encode_body(dict(reversed(list(PAYLOAD.items())))) == body


def test_verify_accepts_the_signature_and_refuses_any_change() -> None:
    body = encode_body(PAYLOAD)
    good = sign(body, SECRET)
    assert verify(body, SECRET, good)
    assert verify(body, SECRET, f"  {good} ")
    assert not verify(body + b" ", SECRET, good)
    assert not verify(body.replace(b"plan", b"sos"), SECRET, good)
    assert not verify(body, SECRET + "x", good)
    assert not verify(body, SECRET, good[:-1] + ("0" if good[-1] != "0" else "1"))
    assert not verify(body, SECRET, good[len("sha256=") :])  # the prefix is part of it
    assert not verify(body, SECRET, None)
    assert not verify(body, SECRET, "")
    assert not verify(body, SECRET, "sha256=\u00e9")


def test_a_payload_json_cannot_hold_is_refused_before_sending() -> None:
    with pytest.raises(ValueError):
        encode_body({"x": float("nan")})
    with pytest.raises(ValueError):
        sign(b"{}", "")
