"""The database down during a crisis (#10, trd/escalation/journal.py): the escalation is spooled
to a local journal (fsync), the worker delivers it from there to a real webhook receiver on
127.0.0.1, and when the database is back the crisis and its row land in the outbox, already
delivered: no second delivery. The database really goes away (a TCP proxy in front of the
session's PostgreSQL is cut), and the action is the one the action server runs."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from sqlalchemy.engine import make_url

from actions.safety import ActionRecordCrisis
from tests.support.escalation_receiver import EscalationReceiver
from tests.support.postgres import fresh_database
from tests.support.tcp_proxy import TcpProxy
from tests.unit.test_escalation_actions import CRISIS_TEXT, make_tracker, run
from trd.escalation.config import WebhookSettings, WorkerConfig
from trd.escalation.enqueue import Escalator
from trd.escalation.journal import Journal
from trd.escalation.notifiers import FakeNotifier, WebhookNotifier
from trd.escalation.outbox import SqlOutbox
from trd.escalation.worker import Worker
from trd.store.migrate import upgrade
from trd.store.sql import SqlRepository

SECRET = "journal-secret-0123456789abcdef"


def config() -> WorkerConfig:
    return WorkerConfig(backoff_base_seconds=0.01, backoff_max_seconds=0.05)


@pytest.fixture()
def receiver() -> Iterator[EscalationReceiver]:
    with EscalationReceiver(SECRET) as r:
        yield r


def test_journal_lines_are_fsynced_json_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j" / "journal.jsonl")
    entry = journal.spool(
        conversation_id="c1",
        input_channel="rest",
        category="plan",
        excerpt="x",
        message_id="m1",
        channel="rest",
        payloads={"webhook": {"type": "crisis_escalation"}},
    )
    second = journal.spool(
        conversation_id="c1",
        input_channel="rest",
        category="plan",
        excerpt="y",
        message_id="m2",
        channel="rest",
        payloads={"webhook": {"type": "crisis_escalation"}},
    )
    assert entry.deliver and not second.deliver  # one page per conversation while the database is down
    assert oct(journal.path.stat().st_mode & 0o777) == "0o600"
    with journal.path.open("ab") as f:
        f.write(b'{"kind": "delivered", "id"')  # a crash mid-write
    journal.mark_delivered(entry.id, "webhook")
    [first, other] = journal.pending()
    assert first.delivered.keys() == {"webhook"} and first.undelivered == []
    journal.mark_moved(entry.id)
    assert not journal.compact()  # one entry is still waiting
    journal.mark_moved(second.id)
    assert journal.compact() and journal.path.read_bytes() == b""


@pytest.mark.postgres
def test_database_down_journal_worker_delivers_database_back_outbox_no_duplicate(
    postgres_url: str, receiver: EscalationReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    url = make_url(fresh_database("journal"))
    upgrade(url.render_as_string(hide_password=False))
    env = {"ESCALATION_WEBHOOK_URL": receiver.url, "ESCALATION_WEBHOOK_SECRET": SECRET}
    with TcpProxy(int(url.port or 5432)) as proxy:
        proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
        repo = SqlRepository.from_url(proxied)
        worker = Worker(
            SqlOutbox.from_url(proxied),
            {"webhook": WebhookNotifier(WebhookSettings(receiver.url, SECRET), timeout=5)},
            config(),
            journal=Journal(),
            repository=repo,
        )
        try:
            proxy.down()  # the database goes away mid-conversation
            with caplog.at_level(logging.ERROR):
                events, _ = run(
                    ActionRecordCrisis(lambda: repo, Escalator(env)), make_tracker("conv-j", "rest")
                )
            assert events[0]["event"] == "slot" and "ESCALATION SPOOLED" in caplog.text
            [entry] = Journal().pending()
            lines = [json.loads(line) for line in Journal().path.read_text().splitlines()]
            assert [line["kind"] for line in lines] == ["escalation"]

            # The worker cannot reach the database either: it delivers from the journal.
            assert asyncio.run(worker.drain_journal()) == 1
            [request] = receiver.requests
            assert request.signature_ok
            body: Dict[str, Any] = json.loads(request.body)
            assert body["conversation_id"] == "conv-j" and body["last_messages"][-1]["text"] == CRISIS_TEXT
            assert body["id"] == entry.payloads["webhook"]["id"]
            assert asyncio.run(worker.drain_journal()) == 1
            assert len(receiver.requests) == 1  # delivered once, while still waiting to be moved

            proxy.up()  # the database is back
            assert asyncio.run(worker.drain_journal()) == 0
            assert Journal().path.read_bytes() == b""  # everything moved: the journal is emptied
            [crisis] = repo.crises("conv-j")
            assert crisis.message_excerpt == CRISIS_TEXT
            [row] = repo.escalations("conv-j")
            assert (row.id, row.status, row.kind) == (body["id"], "delivered", "page")
            assert asyncio.run(worker.run_once()) == 0  # nothing left to send
            assert len(receiver.requests) == 1  # no duplicate delivery
        finally:
            asyncio.run(worker.notifiers["webhook"].close())
            worker.outbox.dispose()
            repo.dispose()


def test_an_entry_not_delivered_before_the_database_came_back_goes_out_through_the_outbox(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    journal = Journal()
    journal.spool(
        conversation_id="conv-k",
        input_channel="rest",
        category="plan",
        excerpt="x",
        message_id="m1",
        channel="rest",
        payloads={"webhook": {"type": "crisis_escalation", "conversation_id": "conv-k"}},
    )
    repo = SqlRepository.from_url(url)
    web = FakeNotifier("webhook")
    worker = Worker(SqlOutbox.from_url(url), {"webhook": web}, config(), journal=journal, repository=repo)
    try:
        assert asyncio.run(worker.run_once()) == 1  # moved (pending), then claimed from the outbox
        assert [d.payload["conversation_id"] for d in web.deliveries] == ["conv-k"]
        [row] = repo.escalations("conv-k")
        assert row.status == "delivered"
        assert journal.pending() == []
    finally:
        worker.outbox.dispose()
        repo.dispose()


def test_the_rasa_server_spools_the_crisis_it_records_itself_when_the_database_is_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The action server hung (bot/action_guard.py records the crisis itself) and the database
    is down too: the crisis still goes to the journal."""
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    import trd.store
    from bot.action_guard import record_crisis_here

    def down() -> Any:
        raise ConnectionError("could not connect to the database")

    monkeypatch.setattr(trd.store, "get_repository", down)
    monkeypatch.setenv("ESCALATION_WEBHOOK_URL", "https://care.example.org/e")
    monkeypatch.setenv("ESCALATION_WEBHOOK_SECRET", SECRET)
    tracker = DialogueStateTracker.from_events(
        "rest-hung-1", [UserUttered(CRISIS_TEXT, {"name": "crisis", "confidence": 1.0}, input_channel="rest")]
    )
    record_crisis_here(tracker)
    [entry] = Journal().pending()
    assert (entry.conversation_id, entry.deliver, list(entry.payloads)) == ("rest-hung-1", True, ["webhook"])
    assert entry.excerpt == CRISIS_TEXT
