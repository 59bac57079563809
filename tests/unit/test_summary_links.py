"""Summary links: created, resolved, expired (with an injected clock) and revoked, on the in-memory
fake and on a real migrated SQLite database; and their configuration from the environment."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from trd.store.migrate import upgrade
from trd.store.repository import InMemoryRepository, Repository
from trd.store.sql import SqlRepository
from trd.summary.links import (
    SummaryLinks,
    new_token,
    public_base_url,
    summary_url,
    ttl_days,
)

T0 = datetime(2025, 1, 10, 12, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture(params=["memory", "sqlite"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repository]:
    if request.param == "memory":
        yield InMemoryRepository()
        return
    url = f"sqlite:///{tmp_path / 'links.sqlite3'}"
    upgrade(url)
    sql = SqlRepository.from_url(url)
    yield sql
    sql.dispose()


def test_a_link_lives_for_the_ttl_then_expires(repo: Repository) -> None:
    clock = Clock(T0)
    links = SummaryLinks(repo, clock=clock, ttl=7)
    token, link = links.create("conv-1")
    assert (link.created_at, link.expires_at) == (T0, T0 + timedelta(days=7))
    assert links.resolve(token) == "conv-1"
    assert links.lookup(token).state == "active" and links.lookup(token).conversation_id == "conv-1"

    clock.advance(days=6, hours=23, minutes=59)
    assert links.resolve(token) == "conv-1"
    clock.advance(minutes=1)
    assert links.resolve(token) is None
    found = links.lookup(token)
    assert found.state == "expired" and found.conversation_id is None and found.link == link


def test_revoking_turns_every_active_link_off(repo: Repository) -> None:
    clock = Clock(T0)
    links = SummaryLinks(repo, clock=clock, ttl=7)
    first, _ = links.create("conv-2")
    second, _ = links.create("conv-2")
    other, _ = links.create("conv-3")
    clock.advance(hours=1)
    assert links.revoke("conv-2") == 2
    assert links.lookup(first).state == links.lookup(second).state == "revoked"
    assert links.resolve(first) is None and links.resolve(second) is None
    assert links.resolve(other) == "conv-3"
    assert links.revoke("conv-2") == 0
    fresh, _ = links.create("conv-2")
    assert links.resolve(fresh) == "conv-2"


def test_unknown_and_malformed_tokens(repo: Repository) -> None:
    links = SummaryLinks(repo, clock=Clock(T0))
    for token in (new_token(), "", "x", "../../etc/passwd", "\x00" * 43, "A" * 500):
        found = links.lookup(token)
        assert found.state == "unknown" and found.link is None
        assert links.resolve(token) is None


def test_tokens_are_random_url_safe_and_unguessable() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in tokens)


@pytest.mark.parametrize(
    "raw, days, warned",
    [
        (None, 7, False), ("", 7, False), ("14", 14, False), (" 1 ", 1, False), ("90", 90, False),
        ("0", 7, True), ("91", 7, True), ("-3", 7, True), ("7.5", 7, True), ("a week", 7, True),
    ],
)
def test_ttl_from_the_environment(
    raw: str | None, days: int, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    env = {} if raw is None else {"SUMMARY_LINK_TTL_DAYS": raw}
    with caplog.at_level(logging.WARNING):
        assert ttl_days(env) == days
    assert ("SUMMARY_LINK_TTL_DAYS" in caplog.text) == warned


def test_the_default_ttl_is_seven_days(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUMMARY_LINK_TTL_DAYS", raising=False)
    _, link = SummaryLinks(repo, clock=Clock(T0)).create("conv-d")
    assert link.expires_at - link.created_at == timedelta(days=7)
    monkeypatch.setenv("SUMMARY_LINK_TTL_DAYS", "2")
    _, link = SummaryLinks(repo, clock=Clock(T0)).create("conv-d")
    assert link.expires_at - link.created_at == timedelta(days=2)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("https://trd.example.org", "https://trd.example.org"),
        ("https://trd.example.org/", "https://trd.example.org"),
        ("http://127.0.0.1:5005", "http://127.0.0.1:5005"),
        ("https://example.org/chat-service/", "https://example.org/chat-service"),
        ("", None),
        ("trd.example.org", None),
        ("ftp://example.org", None),
        ("https://example.org/?a=1", None),
    ],
)
def test_public_base_url(raw: str, expected: str | None) -> None:
    assert public_base_url({"PUBLIC_BASE_URL": raw}) == expected


def test_summary_url() -> None:
    assert summary_url("https://x.example.org/", "abc") == "https://x.example.org/summary/abc"
