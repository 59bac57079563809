"""bot/api_guard.py: Rasa's HTTP API answers this machine only, with a constant-time token."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional

import pytest
from sanic import Sanic

from bot import api_guard
from bot.api_guard import decide, guard_app, is_api_path, is_loopback

TOKEN = "s3cret-token"


@pytest.mark.parametrize(
    "path",
    [
        "/model",
        "/model/parse",
        "/model/train",
        "/conversations/web-1/tracker",
        "/conversations/x/trigger_intent",
        "/status",
        "/version",
        "/domain",
    ],
)
def test_rasas_api_routes_are_api_paths(path: str) -> None:
    assert is_api_path(path)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/webhooks/rest/webhook",
        "/webhooks/web/session",
        "/chat/",
        "/summary/abc",
        "/modelling",
        "/statusx",
    ],
)
def test_channel_and_page_routes_are_not(path: str) -> None:
    assert not is_api_path(path)


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("10.0.0.5", False),
        ("192.168.1.2", False),
        ("", False),
        (None, False),
        ("not-an-ip", False),
    ],
)
def test_loopback(address: Optional[str], loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_the_api_from_outside_is_refused_whatever_the_token() -> None:
    assert decide("/model", "203.0.113.9", TOKEN, TOKEN) == 403  # PUT /model from outside
    assert decide("/model/parse", "10.1.2.3", TOKEN, TOKEN) == 403


def test_a_request_a_local_proxy_passed_on_is_refused() -> None:
    assert decide("/conversations/web-1/tracker", "127.0.0.1", TOKEN, TOKEN, proxied=True) == 403


def test_on_this_machine_the_token_decides() -> None:
    assert decide("/model/parse", "127.0.0.1", TOKEN, TOKEN) is None
    assert decide("/model/parse", "127.0.0.1", "s3cret-tokeN", TOKEN) == 401
    assert decide("/model/parse", "127.0.0.1", None, TOKEN) == 401
    assert decide("/model/parse", "::1", "", TOKEN) == 401


def test_channels_are_never_touched() -> None:
    assert decide("/webhooks/twilio/webhook", "203.0.113.9", None, TOKEN) is None


class _Request:
    def __init__(self, path: str, ip: str, args: Dict[str, Any], headers: Dict[str, str]) -> None:
        self.path, self.ip, self.args, self.headers, self.method = path, ip, args, headers, "GET"
        self.conn_info = None


async def _run(app: Sanic, request: _Request) -> Any:
    (middleware,) = [m for m in app.request_middleware]
    return await middleware(request)


def test_the_middleware_answers_with_json_errors() -> None:
    asyncio.run(_middleware_answers())


async def _middleware_answers() -> None:
    app = guard_app(Sanic("api-guard-test"), TOKEN)
    refused = await _run(app, _Request("/model", "198.51.100.7", {"token": TOKEN}, {}))
    assert refused.status == 403 and b"this machine only" in refused.body
    proxied = await _run(
        app, _Request("/model/parse", "127.0.0.1", {"token": TOKEN}, {"x-forwarded-for": "1.2.3.4"})
    )
    assert proxied.status == 403
    wrong = await _run(app, _Request("/model/parse", "127.0.0.1", {"token": "nope"}, {}))
    assert wrong.status == 401
    assert await _run(app, _Request("/model/parse", "127.0.0.1", {"token": TOKEN}, {})) is None
    assert await _run(app, _Request("/webhooks/rest/webhook", "198.51.100.7", {}, {})) is None


def test_install_wraps_rasas_create_app_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.server

    calls = []

    def fake_create_app(**kwargs: Any) -> Sanic:
        calls.append(kwargs)
        return Sanic(f"fake-{len(calls)}")

    monkeypatch.setattr(rasa.server, "create_app", fake_create_app)
    api_guard.install()
    api_guard.install()  # idempotent
    app = rasa.server.create_app(auth_token=TOKEN)
    assert len(calls) == 1 and len(app.request_middleware) == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/model/parse", b"{not json", 400),
        ("POST", "/model/parse", b"[1, 2]", 400),
        ("POST", "/model/parse", b'{"message": "hi"}', 400),
        ("POST", "/model/parse", b"[" * 5000 + b"]" * 5000, 400),
        ("POST", "/model/parse", b'{"text": "hi"}', None),
        ("POST", "/conversations/rest-1/messages", b'{"text": "hi"}', 400),
        ("POST", "/conversations/rest-1/messages", b'{"text": "hi", "sender": "user"}', None),
        ("POST", "/conversations/rest-1/tracker/events", b"[]", 400),
        ("POST", "/conversations/rest-1/tracker/events", b'[{"event": "slot"}, 3]', 400),
        ("PUT", "/conversations/rest-1/tracker/events", b'{"event": "restart"}', None),
        ("POST", "/conversations/rest-1/trigger_intent", b'{"nam": "x"}', 400),
        ("PUT", "/model", b'"x"', 400),
        ("POST", "/model/train", b"{}", 403),
        ("POST", "/model/test/intents", b"{}", 403),
        ("GET", "/conversations/rest-1/tracker", b"", None),
        ("POST", "/conversations/rest-1/predict", b"", None),
    ],
)
def test_malformed_api_bodies_get_400_not_rasas_500(method: str, path: str, body: bytes, status: Any) -> None:
    """#10 fuzz run: Rasa answers these with a 500 and a traceback; the guard says what to send."""
    problem = api_guard.body_problem(method, path, body)
    assert (problem[0] if problem else None) == status
    if problem:
        assert problem[1]  # a message that says what to send


def test_a_body_over_the_apps_limit_is_a_413_not_a_400_about_json() -> None:
    """Over REQUEST_MAX_SIZE the body is not kept: the guard said "The body must be JSON." (400)."""

    async def run() -> None:
        app = guard_app(Sanic("api-guard-size-test"), TOKEN)
        app.config.REQUEST_MAX_SIZE = 65536
        request = _Request("/model/parse", "127.0.0.1", {"token": TOKEN}, {"content-length": "70012"})
        request.method, request.app, request.body = "POST", app, b""  # type: ignore[attr-defined]
        refused = await _run(app, request)
        assert refused.status == 413 and b"too large" in refused.body
        small = _Request("/model/parse", "127.0.0.1", {"token": TOKEN}, {"content-length": "16"})
        small.method, small.app, small.body = "POST", app, b'{"text": "hi"}'  # type: ignore[attr-defined]
        assert await _run(app, small) is None

    asyncio.run(run())
