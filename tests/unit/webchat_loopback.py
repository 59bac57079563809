"""A web chat channel served over real HTTP on 127.0.0.1, for the web chat's unit tests.

A small Sanic app with only the channel's blueprint (``LoopbackApp``); Rasa is
replaced by :class:`EchoRasa`, which records what Rasa would have received and
answers through the channel's output collector (the same approach as
tests/unit/test_webchat_channel.py).
"""

from __future__ import annotations

import json
import secrets
from typing import List, Optional

import requests
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain

from bot.channels.webchat import WebChatInput
from tests.support.loopback_app import LoopbackApp

SECRET = "k" * 16 + secrets.token_hex(16)
DOMAIN = Domain.from_dict({"intents": ["greet", "sos"], "responses": {"utter_greet": [{"text": "Hello."}]}})


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class EchoRasa:
    """Stands in for the agent: records each message and answers "You said: ..."."""

    def __init__(self) -> None:
        self.received: List[str] = []
        self.domain = DOMAIN
        self.tracker_store = InMemoryTrackerStore(DOMAIN)
        self.fail_next = False

    async def on_new_message(self, message: UserMessage) -> None:
        self.received.append(message.text or "")
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the model broke")
        await message.output_channel.send_text_message(message.sender_id, f"You said: {message.text}")


class LoopbackChat(LoopbackApp):
    """The channel's blueprint on a free loopback port (tests/support/loopback_app.py)."""

    def __init__(self, channel: WebChatInput, rasa: Optional[EchoRasa] = None) -> None:
        super().__init__("webchat_loopback")
        self.channel = channel
        self.rasa = rasa or EchoRasa()
        self.app.ctx.agent = self.rasa
        self.app.blueprint(channel.blueprint(self.rasa.on_new_message), url_prefix=channel.url_prefix())

    # --- client helpers ------------------------------------------------------------------------

    def new_session(self, **headers: str) -> requests.Response:
        return requests.post(self.base + "/chat/session", headers=headers, timeout=10)

    def token(self) -> str:
        r = self.new_session()
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def send(self, token: str, message: str) -> requests.Response:
        return requests.post(
            self.base + "/chat/message",
            data=json.dumps({"message": message}),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            timeout=10,
        )
