"""A fake of Twilio's Messages API on 127.0.0.1, capturing the SMS the assistant sends.

    with FakeTwilio(account_sid, auth_token) as fake:
        env = {"TWILIO_API_BASE": fake.base_url, ...}
        ...
        fake.wait_for(lambda msgs: len(msgs) >= 1)

It answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` like the real API:
HTTP basic auth with the account SID and auth token (401 otherwise), form-encoded
To/From/Body (400 with Twilio's error code 21602 if Body is missing), 201 with a
JSON body carrying the new message's ``sid``. ``fail_next(n, status)`` makes the
next ``n`` requests fail (e.g. 503 or 429) to exercise retries.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, List, Optional, Tuple
from urllib.parse import parse_qsl

_PATH = re.compile(r"^/2010-04-01/Accounts/([A-Za-z0-9]+)/Messages\.json$")


@dataclass(frozen=True)
class CapturedSms:
    account_sid: str
    to: str
    from_number: str
    body: str
    sid: str
    at: float


class FakeTwilio:
    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "fake-auth-token") -> None:  # noqa: S107
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._messages: List[CapturedSms] = []
        self._failures: List[Tuple[int, Optional[str]]] = []
        self.requests = 0
        self._cond = threading.Condition()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

            def _reply(self, status: int, body: dict, headers: Optional[dict] = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                fake._handle(self, raw)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- the API --------------------------------------------------------------------------------
    def _handle(self, handler: Any, raw: bytes) -> None:
        with self._cond:
            self.requests += 1
        match = _PATH.match(handler.path.split("?", 1)[0])
        if match is None:
            handler._reply(404, {"code": 20404, "message": "The requested resource was not found"})
            return
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if match.group(1) != self.account_sid or handler.headers.get("Authorization") != expected:
            handler._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        with self._cond:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            status, retry_after = failure
            handler._reply(
                status,
                {"code": 20429 if status == 429 else 20500, "message": "Try again later", "status": status},
                {"Retry-After": retry_after} if retry_after else None,
            )
            return
        form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        if not form.get("Body"):
            handler._reply(400, {"code": 21602, "message": "Message body is required.", "status": 400})
            return
        if not form.get("To") or not form.get("From"):
            handler._reply(400, {"code": 21604, "message": "A 'To' phone number is required.", "status": 400})
            return
        sid = "SM" + uuid.uuid4().hex
        captured = CapturedSms(match.group(1), form["To"], form["From"], form["Body"], sid, time.time())
        with self._cond:
            self._messages.append(captured)
            self._cond.notify_all()
        handler._reply(201, {"sid": sid, "status": "queued", "to": form["To"], "body": form["Body"]})

    # --- for tests --------------------------------------------------------------------------------
    @property
    def messages(self) -> List[CapturedSms]:
        with self._cond:
            return list(self._messages)

    def messages_to(self, number: str) -> List[CapturedSms]:
        return [m for m in self.messages if m.to == number]

    def fail_next(self, count: int = 1, status: int = 503, retry_after: Optional[str] = None) -> None:
        with self._cond:
            self._failures.extend([(status, retry_after)] * count)

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()
            self._failures.clear()
            self.requests = 0

    def wait_for(
        self, predicate: Callable[[List[CapturedSms]], bool], timeout: float = 30.0
    ) -> List[CapturedSms]:
        """Wait until ``predicate(messages)`` holds; returns the messages (raises TimeoutError)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(list(self._messages)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"fake Twilio: condition not met in {timeout:.0f}s; got {self._messages!r}"
                    )
                self._cond.wait(left)
            return list(self._messages)

    def settle(self, quiet: float = 1.0, timeout: float = 30.0) -> List[CapturedSms]:
        """Wait until no message has arrived for ``quiet`` seconds; returns the messages."""
        deadline = time.monotonic() + timeout
        with self._cond:
            count = len(self._messages)
            while time.monotonic() < deadline:
                self._cond.wait(quiet)
                if len(self._messages) == count:
                    return list(self._messages)
                count = len(self._messages)
            return list(self._messages)
