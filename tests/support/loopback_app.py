"""A Sanic app served over real HTTP on 127.0.0.1, for unit tests of one channel's blueprint.

The unit tests of a channel (web chat, SMS webhook, summary pages, clinician API) mount only
that channel's blueprint on a small Sanic app and talk to it with real HTTP requests.
``LoopbackApp`` owns the part they share: a free loopback port, the app, a thread running
the app's own event loop, waiting until the server answers, and an orderly stop.

Use it directly, or subclass it to add a test's client helpers::

    server = LoopbackApp("webchat_test")
    server.app.blueprint(channel.blueprint(on_new_message), url_prefix="/chat")
    with server:                       # start(), then stop() on the way out
        requests.get(server.base + "/chat/")

Several test modules start apps in the same pytest process. Sanic 21.12 rewrites its own
classes when the first app starts (TouchUp), and a second app then fails to start unless
``Sanic.test_mode`` was on from the first one: ``tests/conftest.py`` turns it on before any
test module is imported, and ``start()`` keeps it on.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any, Optional, Type, TypeVar

import requests
from sanic import Sanic

HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0

L = TypeVar("L", bound="LoopbackApp")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class LoopbackApp:
    """A Sanic app named ``<name>_<port>`` served on ``http://127.0.0.1:<port>`` from a thread.

    Mount blueprints on ``self.app`` before ``start()``. ``start()`` returns once the server
    answers HTTP (any status: the probe only needs a connection); ``stop()`` runs the app's
    ``before_server_stop`` listeners (channels drain their background tasks there), closes the
    connections and the server, cancels what is still pending and closes the loop.
    """

    def __init__(self, name: str, port: Optional[int] = None) -> None:
        self.port = port if port is not None else free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.app = Sanic(f"{name}_{self.port}")
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name=f"{name}_{self.port}", daemon=True)

    async def _start_server(self) -> Any:
        server = await self.app.create_server(
            host=HOST, port=self.port, return_asyncio_server=True, access_log=False
        )
        assert server is not None
        await server.startup()
        await server.before_start()
        await server.after_start()
        return server

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            server = self.loop.run_until_complete(self._start_server())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(server.before_stop())
        for connection in list(server.connections):
            connection.close_if_idle()
        server.close()
        self.loop.run_until_complete(server.wait_closed())
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def start(self: L) -> L:
        """Start serving; return self once a request to the server gets any answer."""
        Sanic.test_mode = True  # see the module docstring; tests/conftest.py already set it
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise TimeoutError(f"test server {self.app.name} did not start")
        if self._error is not None:
            raise RuntimeError(f"test server did not start: {self._error!r}") from self._error
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                requests.get(self.base + "/", timeout=2)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError(f"test server {self.app.name} did not answer")

    def stop(self) -> None:
        """Stop the loop and wait for the server thread to close everything."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(STOP_TIMEOUT)

    def __enter__(self: L) -> L:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()
