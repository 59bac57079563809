"""A crisis is recorded once per message (#10, nothing lost): a turn handled again after a
restart, or recorded by both servers when an action timed out, writes no second crisis and
no second escalation. The same contract on the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, List

import pytest

from tests.unit.test_repository_contract import make_repo, pg_url, repo, sqlite_url  # noqa: F401
from trd.store.migrate import upgrade
from trd.store.repository import EscalationRequest, Repository
from trd.store.sql import SqlRepository


def _request() -> EscalationRequest:
    return EscalationRequest(channel="web", payloads={"webhook": {"conversation_id": "conv-1"}})


def test_the_same_message_records_one_crisis_and_one_escalation(repo: Repository) -> None:  # noqa: F811
    first = repo.record_crisis("conv-1", "web", "plan", "first", escalation=_request(), message_id="m-1")
    again = repo.record_crisis("conv-1", "twilio", "plan", "again", escalation=_request(), message_id="m-1")
    assert again == first
    assert [c.message_excerpt for c in repo.crises("conv-1")] == ["first"]
    assert len(repo.escalations("conv-1")) == 1


def test_other_messages_and_messages_without_an_id_each_record(repo: Repository) -> None:  # noqa: F811
    repo.record_crisis("conv-1", "web", "plan", "one", message_id="m-1")
    repo.record_crisis("conv-1", "web", "plan", "two", message_id="m-2")
    repo.record_crisis("conv-2", "web", "plan", "other conversation", message_id="m-1")
    repo.record_crisis("conv-1", "web", "plan", "no id")
    repo.record_crisis("conv-1", "web", "plan", "no id again")
    assert [c.message_excerpt for c in repo.crises("conv-1")] == ["one", "two", "no id", "no id again"]
    assert [c.message_excerpt for c in repo.crises("conv-2")] == ["other conversation"]


@pytest.mark.parametrize("bad", ["", "   ", "x" * 256, 7])
def test_a_bad_message_id_is_refused(repo: Repository, bad: object) -> None:  # noqa: F811
    with pytest.raises(ValueError, match="message_id"):
        repo.record_crisis("conv-1", "web", "plan", "text", message_id=bad)  # type: ignore[arg-type]
    assert repo.crises("conv-1") == []


def test_two_processes_recording_one_message_at_once_write_it_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    repos: List[SqlRepository] = [SqlRepository.from_url(url) for _ in range(4)]
    ids: List[int] = []
    barrier = threading.Barrier(len(repos))

    def record(r: SqlRepository) -> Callable[[], None]:
        def run() -> None:
            barrier.wait()
            ids.append(
                r.record_crisis("conv-1", "web", "plan", "x", escalation=_request(), message_id="m-1").id
            )

        return run

    threads = [threading.Thread(target=record(r)) for r in repos]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 4 and len(set(ids)) == 1
    assert len(repos[0].crises("conv-1")) == 1
    assert len(repos[0].escalations("conv-1")) == 1
    for r in repos:
        r.dispose()
