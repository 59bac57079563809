"""Server-side web chat sessions (#10): "start over" and "clear this chat" end a token at once,
a revoked token never reopens its conversation, an idle session ends, and the revocation holds
across processes (the database registry, on SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import sqlalchemy as sa

from bot.channels.webchat import COOKIE_NAME, WebChatInput, parse_allowed_origins
from bot.channels.webchat_session import SessionSigner
from tests.support.loopback_app import free_port
from tests.support.postgres import fresh_database
from tests.unit.test_webchat_channel import ChatServer, FakeRasa
from trd.store.db import make_engine
from trd.store.migrate import upgrade
from trd.store.web_sessions import (
    ACTIVE,
    EXPIRED,
    REVOKED,
    UNKNOWN,
    InMemorySessionRegistry,
    SqlSessionRegistry,
)

SECRET = "s" * 16 + secrets.token_hex(16)


class BrokenRegistry(InMemorySessionRegistry):
    def check(self, *args: Any) -> str:
        raise ConnectionError("database is down")


@pytest.fixture()
def server() -> Iterator[ChatServer]:
    port = free_port()
    channel = WebChatInput(
        SessionSigner(SECRET, ttl_seconds=3600),
        parse_allowed_origins(f"http://127.0.0.1:{port}"),
        message_timeout=0.5,
        idle_seconds=600,
    )
    with ChatServer(channel, FakeRasa(), port) as srv:
        yield srv


def _end(
    server: ChatServer, token: str | None, cookie: str | None = None, reason: str = ""
) -> requests.Response:
    return requests.post(
        server.base + "/chat/session/end" + (f"?reason={reason}" if reason else ""),
        headers={"Origin": server.origin, **({"Authorization": f"Bearer {token}"} if token else {})},
        cookies={COOKIE_NAME: cookie} if cookie else {},
        timeout=10,
    )


def _history(server: ChatServer, token: str) -> requests.Response:
    return requests.get(
        server.base + "/chat/history",
        headers={"Origin": server.origin, "Authorization": f"Bearer {token}"},
        timeout=10,
    )


def _resume(server: ChatServer, cookie: str) -> requests.Response:
    return requests.post(
        server.base + "/chat/session",
        json={"resume": True},
        cookies={COOKIE_NAME: cookie},
        headers={"Origin": server.origin},
        timeout=10,
    )


def test_an_ended_session_can_never_reopen_its_conversation(server: ChatServer) -> None:
    token, _ = server.session()
    assert server.send(token, {"message": "my private words"}).status_code == 200
    assert "my private words" in _history(server, token).text
    old_sender = server.rasa.received[-1].sender_id

    r = _end(server, token, reason="clear")
    assert r.status_code == 200 and r.json() == {"ended": True}
    assert f"{COOKIE_NAME}=" in r.headers["Set-Cookie"] and "Max-Age=0" in r.headers["Set-Cookie"]

    # The old token: neither readable nor writable, by header or by cookie.
    for response in (_history(server, token), server.send(token, {"message": "still me?"})):
        assert response.status_code == 401 and response.json()["error"] == "session_ended"
        assert "my private words" not in response.text
    resumed = _resume(server, token)
    assert resumed.json()["resumed"] is False and resumed.json()["token"] != token
    new_token = resumed.json()["token"]
    assert server.send(new_token, {"message": "hello again"}).status_code == 200
    assert server.rasa.received[-1].sender_id != old_sender  # a new session is a new conversation
    assert "my private words" not in _history(server, new_token).text
    assert _end(server, token).json() == {"ended": False}  # ending it again changes nothing


def test_ending_without_a_session_just_clears_the_cookie(server: ChatServer) -> None:
    r = _end(server, None)
    assert r.status_code == 200 and r.json() == {"ended": False}
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    assert _end(server, None, cookie="v1.forged").json() == {"ended": False}


def test_the_cookie_alone_ends_the_session(server: ChatServer) -> None:
    token, _ = server.session()
    assert _end(server, None, cookie=token).json() == {"ended": True}
    assert _history(server, token).status_code == 401


def test_an_idle_session_ends(server: ChatServer) -> None:
    token, _ = server.session()
    registry = server.channel.sessions
    assert isinstance(registry, InMemorySessionRegistry)
    session_id = token.split(".")[1]
    registry._rows[session_id].last_seen_at -= timedelta(seconds=601)
    r = _history(server, token)
    assert r.status_code == 401 and r.json()["error"] == "session_expired"
    registry._rows[session_id].last_seen_at += timedelta(days=1)
    assert _history(server, token).status_code == 401  # expired for good, even if used again


def test_a_token_the_server_never_recorded_is_refused(server: ChatServer) -> None:
    # Signed with the right key, but not in the registry (e.g. purged, or from before #10).
    token = server.channel.signer.issue().token
    r = server.send(token, {"message": "hi"})
    assert r.status_code == 401 and r.json()["error"] == "session_ended"


def test_an_unreadable_registry_fails_closed_with_the_crisis_lines(server: ChatServer) -> None:
    token, _ = server.session()
    server.channel.sessions = BrokenRegistry()
    try:
        r = server.send(token, {"message": "hi"})
        assert r.status_code == 503 and "988" in r.json()["message"]
    finally:
        server.channel.sessions = InMemorySessionRegistry()


# --- the database registry ------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    else:
        request.getfixturevalue("postgres_url")
        url = fresh_database("ws")
    upgrade(url)
    return url


def test_the_database_registry_holds_a_revocation_across_processes(db_url: str) -> None:
    first, second = make_engine(db_url), make_engine(db_url)  # two processes' engines
    try:
        a, b = SqlSessionRegistry(lambda: first), SqlSessionRegistry(lambda: second)
        now = datetime.now(timezone.utc)
        idle = timedelta(hours=2)
        a.create("s1", now)
        a.create("s2", now)
        assert b.check("s1", now, idle) == ACTIVE
        assert b.revoke("s1", now, "start_over") is True
        assert a.check("s1", now, idle) == REVOKED
        assert a.revoke("s1", now, "clear") is False
        assert a.check("nope", now, idle) == UNKNOWN
        later = now + timedelta(hours=3)
        assert b.check("s2", later, idle) == EXPIRED
        assert a.check("s2", now, idle) == REVOKED  # once expired, it stays ended
        a.create("s3", later)
        assert b.purge(now + timedelta(minutes=1)) == 2  # s1, s2 (last used at `now`)
        assert a.check("s1", later, idle) == UNKNOWN and a.check("s3", later, idle) == ACTIVE
    finally:
        first.dispose()
        second.dispose()


def test_a_session_in_use_is_touched_at_most_once_a_minute(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        registry = SqlSessionRegistry(lambda: engine)
        now = datetime.now(timezone.utc)
        registry.create("s", now)
        idle = timedelta(minutes=10)
        # Used every 5 minutes for an hour: never idle for 10 minutes, so still active.
        for step in range(1, 13):
            when = now + timedelta(minutes=5 * step)
            assert registry.check("s", when, idle) == ACTIVE
            registry.touch("s", when)  # the channel does this in the background
    finally:
        engine.dispose()


def test_a_write_locked_database_never_holds_a_message_up(tmp_path: Path) -> None:
    """Another process holds SQLite's write lock (a long migration, a stuck writer): reading a
    session does not wait for it, and the registry's own writes give up after a few seconds."""
    import sqlite3
    import time as clock

    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    registry = SqlSessionRegistry.for_url(url)
    now = datetime.now(timezone.utc)
    registry.create("s", now - timedelta(minutes=5))
    locker = sqlite3.connect(str(tmp_path / "trd.sqlite3"), timeout=1)
    locker.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        started = clock.monotonic()
        assert registry.check("s", now, timedelta(hours=2)) == ACTIVE
        assert clock.monotonic() - started < 1.0
        started = clock.monotonic()
        with pytest.raises(sa.exc.OperationalError):
            registry.touch("s", now)
        assert clock.monotonic() - started < 10  # the project's 30 s busy wait is not used here
    finally:
        locker.rollback()
        locker.close()
        registry.engine.dispose()
