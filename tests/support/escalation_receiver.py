"""A care team's escalation webhook on 127.0.0.1, for tests.

    with EscalationReceiver(secret) as receiver:
        env = {"ESCALATION_WEBHOOK_URL": receiver.url, "ESCALATION_WEBHOOK_SECRET": secret}
        ...
        delivery = receiver.wait_for_delivery(lambda r: r.payload["conversation_id"] == sender)

Every request is checked the way a receiver should check it, independently of the
project's code: HMAC-SHA256 of the raw body keyed with the shared secret, compared in
constant time with ``X-Escalation-Signature: sha256=<hex>``. A bad or missing
signature is answered 401. Every request is recorded (:attr:`requests`); the ones
answered 2xx with a valid signature are the deliveries (:attr:`deliveries`).

Faults, to exercise the worker:

- ``answer(status)``: answer every request with ``status`` (e.g. 500) from now on.
- ``stop()`` / ``start()``: down and up again, on the same port (the URL stays valid).
- ``hold()``: requests are recorded on arrival and then kept waiting until
  ``release()`` (or :data:`MAX_HOLD_SECONDS`); a held request is always answered 503
  in the end, because it stands for a delivery that never completed (the client has
  usually been killed or timed out by then).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web

MAX_HOLD_SECONDS = 120.0
PATH = "/care-team/escalations"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def expected_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass
class ReceivedRequest:
    """One request as the receiver saw it (``status`` is None while it is being held)."""

    escalation_id: Optional[str]
    signature: Optional[str]
    signature_ok: bool
    attempt: Optional[str]
    body: bytes
    payload: Optional[Dict[str, Any]]
    headers: Dict[str, str]
    arrived: float
    status: Optional[int] = None
    held: bool = False

    @property
    def delivered(self) -> bool:
        return self.signature_ok and self.status is not None and 200 <= self.status < 300


@dataclass
class _State:
    status: int = 200
    holding: bool = False
    release: threading.Event = field(default_factory=threading.Event)


class EscalationReceiver:
    def __init__(self, secret: str, port: Optional[int] = None) -> None:
        self.secret = secret
        self.port = port or free_port()
        self._state = _State()
        self._requests: List[ReceivedRequest] = []
        self._cond = threading.Condition()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.AppRunner] = None

    # --- lifecycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> EscalationReceiver:
        if self._thread is not None:
            return self
        ready = threading.Event()
        errors: List[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                app = web.Application()
                app.router.add_post(PATH, self._handle)
                runner = web.AppRunner(app, access_log=None)
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, "127.0.0.1", self.port, shutdown_timeout=1.0, reuse_address=True)
                loop.run_until_complete(site.start())
                self._runner = runner
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._state.release.clear()
        thread = threading.Thread(target=serve, name="escalation-receiver", daemon=True)
        thread.start()
        ready.wait(10)
        if errors:
            thread.join(5)
            raise RuntimeError(f"the escalation receiver could not start on port {self.port}: {errors[0]}")
        self._thread = thread
        return self

    def stop(self) -> None:
        """Go down (connections are refused until :meth:`start`)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        self._state.release.set()  # held requests end now
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._thread = None
        self._loop = None

    def __enter__(self) -> EscalationReceiver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- behaviour ------------------------------------------------------------------------------
    def answer(self, status: int) -> None:
        self._state.status = status

    def hold(self) -> None:
        self._state.release.clear()
        self._state.holding = True

    def release(self) -> None:
        self._state.holding = False
        self._state.release.set()

    def reset(self) -> None:
        self.release()
        self.answer(200)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get("X-Escalation-Signature")
        ok = signature is not None and hmac.compare_digest(
            expected_signature(self.secret, body).encode(), signature.encode("utf-8", "replace")
        )
        try:
            parsed = json.loads(body.decode("utf-8"))
            payload = parsed if isinstance(parsed, dict) else None
        except (UnicodeDecodeError, ValueError):
            payload = None
        received = ReceivedRequest(
            escalation_id=request.headers.get("X-Escalation-Id"),
            signature=signature,
            signature_ok=ok,
            attempt=request.headers.get("X-Escalation-Attempt"),
            body=body,
            payload=payload,
            headers=dict(request.headers),
            arrived=time.time(),
            held=self._state.holding,
        )
        with self._cond:
            self._requests.append(received)
            self._cond.notify_all()
        if received.held:
            release = self._state.release
            await asyncio.get_running_loop().run_in_executor(None, release.wait, MAX_HOLD_SECONDS)
            status = 503
        elif not ok:
            status = 401
        else:
            status = self._state.status
        with self._cond:
            received.status = status
            self._cond.notify_all()
        return web.json_response({"ok": 200 <= status < 300}, status=status)

    # --- for tests --------------------------------------------------------------------------------
    @property
    def requests(self) -> List[ReceivedRequest]:
        with self._cond:
            return list(self._requests)

    @property
    def deliveries(self) -> List[ReceivedRequest]:
        return [r for r in self.requests if r.delivered]

    def wait_for(
        self, predicate: Callable[[List[ReceivedRequest]], bool], timeout: float = 30.0
    ) -> List[ReceivedRequest]:
        """Wait until ``predicate(requests)`` holds; returns the requests (raises TimeoutError)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(list(self._requests)):
                left = deadline - time.monotonic()
                if left <= 0:
                    summary = [(r.escalation_id, r.status, r.signature_ok) for r in self._requests]
                    raise TimeoutError(
                        f"escalation receiver: condition not met in {timeout:.0f}s; got {summary}"
                    )
                self._cond.wait(min(left, 0.5))
            return list(self._requests)

    def wait_for_delivery(
        self, match: Callable[[ReceivedRequest], bool], timeout: float = 30.0
    ) -> ReceivedRequest:
        """The first delivery (valid signature, answered 2xx) that ``match`` accepts."""
        requests = self.wait_for(lambda rs: any(r.delivered and match(r) for r in rs), timeout)
        return next(r for r in requests if r.delivered and match(r))
