"""What the fuzz run (bench/fuzz.py, #10) found, pinned: each was a 500 and a traceback before."""

from __future__ import annotations

import json
from typing import Iterator

import pytest
import requests

from bot.channels.clinician import token_matches
from bot.channels.rest import AuthenticatedRestInput
from bot.channels.webchat import WebChatInput, parse_allowed_origins
from bot.channels.webchat_session import SessionSigner
from tests.support.loopback_app import free_port
from tests.unit.test_rest_channel import TOKEN, RestServer
from tests.unit.test_webchat_channel import SECRET, ChatServer, FakeRasa
from trd.text_guard import remove_invisible

DEEP = b"[" * 5000 + b"]" * 5000  # json.loads raises RecursionError, not ValueError


@pytest.fixture(scope="module")
def rest() -> Iterator[RestServer]:
    with RestServer(AuthenticatedRestInput(token=TOKEN), FakeRasa(), free_port()) as srv:
        yield srv


@pytest.fixture(scope="module")
def chat() -> Iterator[ChatServer]:
    port = free_port()
    channel = WebChatInput(SessionSigner(SECRET, 3600), parse_allowed_origins(f"http://127.0.0.1:{port}"))
    with ChatServer(channel, FakeRasa(), port) as srv:
        yield srv


def test_deeply_nested_json_is_a_400(rest: RestServer, chat: ChatServer) -> None:
    assert rest.post(None, raw=DEEP).status_code == 400
    token, _ = chat.session()
    assert chat.send(token, None, raw=DEEP).status_code == 400
    r = requests.post(chat.base + "/chat/session", data=DEEP, headers={"Origin": chat.origin}, timeout=10)
    assert r.status_code == 400


def test_a_lone_surrogate_never_reaches_rasa(rest: RestServer, chat: ChatServer) -> None:
    assert remove_invisible("a\ud800b\udfff") == "a\ufffdb\ufffd"
    r = rest.post(None, raw=b'{"sender": "rest-s1", "message": "hi \\ud800 there"}')
    assert r.status_code == 200, r.text
    assert rest.rasa.received[-1].text == "hi \ufffd there"
    token, _ = chat.session()
    assert chat.send(token, None, raw=b'{"message": "\\udfff\\ud800"}').status_code == 200
    chat.rasa.received[-1].text.encode("utf-8")  # storable, loggable


@pytest.mark.parametrize("sender", ["rest-\ud800", "rest-caf\u00e9", "rest-a b", "rest-\x00"])
def test_a_rest_sender_id_is_printable_ascii(rest: RestServer, sender: str) -> None:
    body = json.dumps({"sender": sender, "message": "hi"}).encode()  # \ud800 as a JSON escape
    assert rest.post(None, raw=body).status_code == 403


def test_tokens_with_lone_surrogates_are_refused_not_a_crash(rest: RestServer) -> None:
    r = requests.post(
        rest.base + "/webhooks/rest/webhook?token=%ED%A0%80x",  # a lone surrogate, URL-encoded
        json={"sender": "rest-s2", "message": "hi"},
        timeout=10,
    )
    assert r.status_code == 401
    assert token_matches("\ud800", "expected-token") is False
