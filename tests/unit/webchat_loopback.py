"""A web chat channel served over real HTTP on 127.0.0.1, for the web chat's unit tests.

A small Sanic app with only the channel's blueprint, run in a thread; Rasa is
replaced by :class:`EchoRasa`, which records what Rasa would have received and
answers through the channel's output collector (the same approach as
tests/unit/test_webchat_channel.py).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time
from typing import Any, List, Optional

import requests
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from sanic import Sanic

from bot.channels.webchat import WebChatInput

SECRET = "k" * 16 + secrets.token_hex(16)
DOMAIN = Domain.from_dict({"intents": ["greet", "sos"], "responses": {"utter_greet": [{"text": "Hello."}]}})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


class LoopbackChat:
    """The channel's blueprint on a free loopback port, served from a thread."""

    def __init__(self, channel: WebChatInput, rasa: Optional[EchoRasa] = None) -> None:
        self.channel = channel
        self.rasa = rasa or EchoRasa()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.app = Sanic(f"webchat_loopback_{self.port}")
        self.app.ctx.agent = self.rasa
        self.app.blueprint(channel.blueprint(self.rasa.on_new_message), url_prefix=channel.url_prefix())
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> Any:
            server = await self.app.create_server(
                host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
            )
            assert server is not None
            await server.startup()
            await server.before_start()
            await server.after_start()
            return server

        try:
            server = self.loop.run_until_complete(start())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        for connection in list(server.connections):
            connection.close_if_idle()
        server.close()
        self.loop.run_until_complete(server.wait_closed())
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def start(self) -> LoopbackChat:
        self._thread.start()
        self._ready.wait(20)
        if self._error is not None:
            raise RuntimeError("test server did not start") from self._error
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(self.base + "/chat/static/app.css", timeout=2)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError("test server did not answer")

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

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
