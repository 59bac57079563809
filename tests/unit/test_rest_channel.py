"""The REST channel (bot/channels/rest.py): the token, rest- senders, the slash guard (#10).

Rasa's own REST channel let anyone who reached the port write into any conversation by
its sender id, inject /intent{...} past the safety guard, and set input_channel and
metadata. Each of these tests fails against it.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from bot.channels.rest import AuthenticatedRestInput
from bot.channels.webchat_text import MAX_MESSAGE_CHARS
from tests.support.loopback_app import LoopbackApp, free_port
from tests.unit.test_webchat_channel import FakeRasa

TOKEN = "t" * 40


class RestServer(LoopbackApp):
    def __init__(self, channel: AuthenticatedRestInput, rasa: FakeRasa, port: int) -> None:
        super().__init__("rest_test", port)
        self.rasa = rasa
        self.app.ctx.agent = rasa
        prefix = f"/webhooks/{channel.url_prefix()}"  # where Rasa mounts a channel
        self.app.blueprint(channel.blueprint(rasa.on_new_message), url_prefix=prefix)

    def post(
        self, body: Any, token: Optional[str] = TOKEN, query: bool = False, raw: Optional[bytes] = None
    ) -> requests.Response:
        headers: Dict[str, str] = {"Content-Type": "application/json"}
        params = {}
        if token is not None and query:
            params["token"] = token
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else json.dumps(body).encode()
        return requests.post(self.base + "/webhooks/rest/webhook", data=data, headers=headers, params=params,
                             timeout=10)


@pytest.fixture(scope="module")
def server() -> Iterator[RestServer]:
    with RestServer(AuthenticatedRestInput(token=TOKEN), FakeRasa(), free_port()) as srv:
        yield srv


def _texts(r: requests.Response) -> List[str]:
    return [m.get("text", "") for m in r.json()]


def test_a_message_with_the_token_is_answered(server: RestServer) -> None:
    r = server.post({"sender": "rest-a1", "message": "hello"})
    assert r.status_code == 200, r.text
    assert _texts(r) == ["You said: hello. Call or text 988."]
    r = server.post({"sender": "rest-a1", "message": "hello again"}, query=True)
    assert r.status_code == 200


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN[:-1], TOKEN + "x"])
def test_without_the_right_token_it_is_401_and_nothing_reaches_rasa(server: RestServer, token: Optional[str]
                                                                   ) -> None:
    before = len(server.rasa.received)
    r = server.post({"sender": "rest-a2", "message": "hello"}, token=token)
    assert r.status_code == 401
    assert len(server.rasa.received) == before


@pytest.mark.parametrize(
    "sender", ["web-1234", "sms-abcd", "4f1c2d", "", None, 42, "REST-x", "rest-" + "x" * 200]
)
def test_only_rest_senders_so_no_web_or_sms_conversation_can_be_addressed(server: RestServer, sender: Any
                                                                          ) -> None:
    before = len(server.rasa.received)
    r = server.post({"sender": sender, "message": "hello"})
    assert r.status_code == 403
    assert r.json()["error"] == "sender_not_allowed"
    assert len(server.rasa.received) == before


def test_client_metadata_and_input_channel_are_ignored(server: RestServer) -> None:
    r = server.post({"sender": "rest-a3", "message": "hi", "input_channel": "twilio",
                     "metadata": {"phone": "+15551234567", "role": "clinician"}})
    assert r.status_code == 200
    got = server.rasa.received[-1]
    assert got.input_channel == "rest" and not got.metadata


def test_an_intent_shortcut_is_classified_like_any_text(server: RestServer) -> None:
    r = server.post({"sender": "rest-a4", "message": '/confirm_safe{"risk_category": null}'})
    assert r.status_code == 200
    assert server.rasa.received[-1].text == 'confirm_safe{"risk_category": null}'


def test_a_payload_the_assistant_offered_passes(server: RestServer) -> None:
    server.post({"sender": "rest-a5", "message": "check"})  # the bot sends a button of its own
    r = server.post({"sender": "rest-a5", "message": '/choose{"d":"x"}'})
    assert r.status_code == 200
    assert server.rasa.received[-1].text == '/choose{"d":"x"}'
    server.post({"sender": "rest-a5", "message": "/confirm_safe"})  # a domain button
    assert server.rasa.received[-1].text == "/confirm_safe"


def test_an_over_long_message_is_a_polite_400_unless_it_is_a_crisis(server: RestServer) -> None:
    before = len(server.rasa.received)
    r = server.post({"sender": "rest-a6", "message": "word " * (MAX_MESSAGE_CHARS // 4)})
    assert r.status_code == 400 and "too long" in r.json()["message"]
    assert len(server.rasa.received) == before
    crisis = "word " * (MAX_MESSAGE_CHARS // 4) + "I want to kill myself"
    r = server.post({"sender": "rest-a6", "message": crisis})
    assert r.status_code == 200
    assert "kill myself" in server.rasa.received[-1].text


@pytest.mark.parametrize(
    "raw", [b"not json", b"[]", b'{"sender": "rest-a7"}', b'{"sender": "rest-a7", "message": 3}']
)
def test_bad_bodies_are_400_not_500(server: RestServer, raw: bytes) -> None:
    r = server.post(None, raw=raw)
    assert r.status_code == 400


def test_with_no_token_configured_every_request_is_refused() -> None:
    with RestServer(AuthenticatedRestInput(token=""), FakeRasa(), free_port()) as srv:
        assert srv.post({"sender": "rest-a8", "message": "hi"}, token="").status_code == 503
        assert srv.post({"sender": "rest-a8", "message": "hi"}).status_code == 503
