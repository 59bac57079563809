"""The X-Twilio-Signature check (our own implementation) against Twilio's published vectors
and against the twilio library's RequestValidator."""

from __future__ import annotations

import random
import string
from typing import List, Tuple

import pytest
from twilio.request_validator import RequestValidator

from bot.channels.sms import compute_signature, signature_valid, url_variants

TOKEN = "12345"
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
# The example of Twilio's webhook security page.
DOCS_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]
# The vectors of Twilio's own helper library tests (twilio-python tests/unit/test_request_validator.py).
LIB_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
]


def test_twilio_docs_example() -> None:
    assert compute_signature(TOKEN, URI, DOCS_PARAMS) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert signature_valid(TOKEN, URI, DOCS_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


@pytest.mark.parametrize(
    "uri, signature",
    [
        (URI, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        # signed without the port, requested with one (https)
        ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        # signed with the port (http, 1234)
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        # signed with the scheme's default port added
        (URI, "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ],
)
def test_twilio_library_vectors(uri: str, signature: str) -> None:
    assert signature_valid(TOKEN, uri, LIB_PARAMS, signature)


def test_library_vector_computed_exactly() -> None:
    assert compute_signature(TOKEN, URI, LIB_PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_repeated_parameters_are_sorted_by_value() -> None:
    params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert compute_signature(TOKEN, URI, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_url_variants() -> None:
    assert url_variants("https://a.example/x?y=1") == [
        "https://a.example/x?y=1",
        "https://a.example:443/x?y=1",
    ]
    assert url_variants("http://127.0.0.1:5005/webhooks/twilio/webhook") == [
        "http://127.0.0.1:5005/webhooks/twilio/webhook",
        "http://127.0.0.1/webhooks/twilio/webhook",
    ]


def _random_params(rng: random.Random) -> List[Tuple[str, str]]:
    alphabet = string.ascii_letters + string.digits + " +&=?/%é💬'\""
    names = ["Body", "From", "To", "MessageSid", "AccountSid", "NumMedia", "SmsStatus", "FromCity"]
    return [(n, "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))) for n in names]


@pytest.mark.parametrize("seed", range(25))
def test_agrees_with_twilios_request_validator(seed: int) -> None:
    rng = random.Random(seed)
    token = "".join(rng.choice(string.hexdigits) for _ in range(32))
    url = f"https://sms.example.org/webhooks/twilio/webhook?k={seed}"
    params = _random_params(rng)
    signature = RequestValidator(token).compute_signature(url, dict(params))
    assert compute_signature(token, url, params) == signature
    assert signature_valid(token, url, params, signature)


def test_rejects_tampering_and_wrong_keys() -> None:
    url = "https://sms.example.org/webhooks/twilio/webhook"
    params = [("Body", "hello"), ("From", "+15550001111"), ("MessageSid", "SM" + "a" * 32)]
    good = RequestValidator("secret-token").compute_signature(url, dict(params))
    assert signature_valid("secret-token", url, params, good)
    assert not signature_valid("other-token", url, params, good)
    assert not signature_valid("secret-token", url + "?x=1", params, good)
    assert not signature_valid("secret-token", url.replace("sms.", "evil."), params, good)
    assert not signature_valid("secret-token", url, [("Body", "hello!"), *params[1:]], good)
    assert not signature_valid("secret-token", url, [*params, ("Extra", "")], good)
    assert not signature_valid("secret-token", url, params, None)
    assert not signature_valid("secret-token", url, params, "")
    assert not signature_valid("secret-token", url, params, "é" * 28)  # not ASCII: no crash
    assert not signature_valid("", url, params, good)
