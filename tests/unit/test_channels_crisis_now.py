"""#10: a crisis message gets the crisis lines at once on the web chat and REST, whatever holds
its turn up, and a store error is a 503 that carries them (never an empty conversation).

Rasa is replaced by a stand-in that hangs (a stuck action server, a held lock, a locked
database) or fails as the tracker store fails; the channels run over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Iterator, List, Optional

import pytest
import requests
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain

from bot.channels import crisis_now
from bot.channels.rest import AuthenticatedRestInput
from bot.channels.webchat import WebChatInput
from bot.channels.webchat_session import SessionSigner
from bot.tracker_store import TrackerStoreUnavailable
from tests.support.loopback_app import LoopbackApp, free_port
from tests.unit.webchat_loopback import SECRET, LoopbackChat

WAIT = 0.4
HANG = 2.0
TOKEN = "r" * 40
CRISIS = "I want to kill myself"
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
responses:
  utter_crisis:
  - text: "Domain crisis text: call or text 988."
  - text: "Domain SMS crisis text: text 988."
    channel: twilio
"""
)


class StuckRasa:
    """Hangs on every message until released, or raises as a failing tracker store does."""

    def __init__(self) -> None:
        self.domain = DOMAIN
        self.tracker_store = InMemoryTrackerStore(DOMAIN)
        self.mode = "hang"  # "hang" (finishes after HANG seconds), "store_error", "answer"
        self.finished: List[str] = []

    async def on_new_message(self, message: UserMessage) -> None:
        if self.mode == "store_error":
            raise TrackerStoreUnavailable("conversation could not be read")
        if self.mode == "hang":
            await asyncio.sleep(HANG)
        await message.output_channel.send_text_message(message.sender_id, "The turn's own reply.")
        self.finished.append(message.text or "")


@pytest.fixture()
def web() -> Iterator[LoopbackChat]:
    rasa = StuckRasa()
    channel = WebChatInput(SessionSigner(SECRET, 3600), [], crisis_wait=WAIT)
    with LoopbackChat(channel, rasa) as chat:  # type: ignore[arg-type]
        yield chat


class RestServer(LoopbackApp):
    def __init__(self, rasa: StuckRasa) -> None:
        super().__init__("rest_crisis_now", free_port())
        self.rasa = rasa
        channel = AuthenticatedRestInput(token=TOKEN, crisis_wait=WAIT)
        self.app.ctx.agent = rasa
        self.app.blueprint(channel.blueprint(rasa.on_new_message), url_prefix="/webhooks/rest")

    def send(self, message: str) -> requests.Response:
        return requests.post(
            self.base + "/webhooks/rest/webhook",
            data=json.dumps({"sender": "rest-crisis", "message": message}),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            timeout=10,
        )


@pytest.fixture()
def rest() -> Iterator[RestServer]:
    with RestServer(StuckRasa()) as server:
        yield server


def test_the_web_chat_answers_a_crisis_at_once_while_the_turn_hangs(web: LoopbackChat) -> None:
    token = web.token()
    start = time.monotonic()
    r = web.send(token, CRISIS)
    took = time.monotonic() - start
    assert r.status_code == 200, r.text
    assert [m["text"] for m in r.json()["messages"]] == ["Domain crisis text: call or text 988."]
    assert WAIT <= took < WAIT + 1.0
    # the turn was not cancelled: it goes on and finishes
    rasa: StuckRasa = web.rasa  # type: ignore[assignment]
    assert rasa.finished == []
    deadline = time.monotonic() + 6
    while not rasa.finished and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rasa.finished == [CRISIS]


def test_an_ordinary_message_is_not_answered_early(web: LoopbackChat) -> None:
    rasa: StuckRasa = web.rasa  # type: ignore[assignment]
    rasa.mode = "answer"
    r = web.send(web.token(), "hello there")
    assert [m["text"] for m in r.json()["messages"]] == ["The turn's own reply."]


def test_a_store_error_on_the_web_is_a_503_with_the_crisis_lines(web: LoopbackChat) -> None:
    rasa: StuckRasa = web.rasa  # type: ignore[assignment]
    rasa.mode = "store_error"
    token = web.token()
    r = web.send(token, "hello there")
    assert r.status_code == 503
    assert r.json()["error"] == "server_error"
    assert "call or text 988" in r.json()["message"] and "911" in r.json()["message"]
    crisis = web.send(token, CRISIS)
    assert crisis.status_code == 503
    assert crisis.json()["message"] == "Domain crisis text: call or text 988."


def test_rest_answers_a_crisis_at_once_while_the_turn_hangs(rest: RestServer) -> None:
    start = time.monotonic()
    r = rest.send(CRISIS)
    assert r.status_code == 200
    assert [m["text"] for m in r.json()] == ["Domain crisis text: call or text 988."]
    assert time.monotonic() - start < WAIT + 1.0


def test_a_store_error_on_rest_is_a_503_with_the_crisis_lines(rest: RestServer) -> None:
    rest.rasa.mode = "store_error"
    r = rest.send("hello")
    assert r.status_code == 503
    assert "call or text 988" in r.json()["message"]


@pytest.mark.parametrize(
    ("text", "response"),
    [
        ("I want to kill myself", "utter_crisis"),
        ("i took all my pills just now", "utter_crisis_danger_now"),
        ("SOS", "utter_sos"),
        ("my friend says he wants to kill himself", "utter_crisis_third_party"),
        ("hello", None),
        ("I'm not suicidal, just worn out", None),
        ("I feel a bit low today", None),
    ],
)
def test_the_check_is_the_lexicon_floor(text: str, response: Optional[str]) -> None:
    assert crisis_now.crisis_response(text) == response


def test_without_a_model_the_texts_come_from_the_data_file() -> None:
    web_text = crisis_now.crisis_message(None, "utter_crisis")["text"]
    sms_text = crisis_now.crisis_message(None, "utter_crisis", channel="twilio")["text"]
    assert web_text.startswith("I'm really glad you told me.") and "988" in web_text
    assert "- Text 988" in sms_text and "{" not in sms_text
    assert crisis_now.crisis_message(DOMAIN, "utter_crisis", channel="twilio") == {
        "text": "Domain SMS crisis text: text 988."
    }


@pytest.mark.parametrize("value", ["0", "-1", "11", "soon"])
def test_a_bad_wait_setting_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="CRISIS_REPLY_WAIT_SECONDS"):
        crisis_now.wait_seconds({"CRISIS_REPLY_WAIT_SECONDS": value})
