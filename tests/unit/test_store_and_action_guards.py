"""#10, no silent reset and no silent action failure: the guards `python -m bot` installs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List

import pytest
import sqlalchemy as sa
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import action_guard, store_guard
from bot.tracker_store import TrackerStoreUnavailable, UrlSQLTrackerStore
from trd.store import set_repository
from trd.store.repository import InMemoryRepository

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [crisis, greet]
slots:
  crisis_active: {type: bool, influence_conversation: true, mappings: [{type: custom}]}
  risk_category: {type: text, influence_conversation: false, mappings: [{type: custom}]}
actions: [action_record_crisis, action_intake_next]
"""
)


@pytest.fixture(autouse=True)
def _guard_installed() -> None:
    """python -m bot installs the guard before Rasa starts; each test here does too, whatever
    ran before it in this process (install is idempotent)."""
    store_guard.install()


def test_our_store_is_not_wrapped_in_the_failsafe_store(tmp_path: Path) -> None:
    store = UrlSQLTrackerStore(domain=DOMAIN, url=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert Agent._create_tracker_store(store, DOMAIN) is store
    # any other store keeps Rasa's wrapper
    assert isinstance(Agent._create_tracker_store(InMemoryTrackerStore(DOMAIN), DOMAIN), FailSafeTrackerStore)


def test_a_read_or_save_error_is_raised_never_an_empty_conversation(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    store = UrlSQLTrackerStore(domain=DOMAIN, url=url)
    tracker = DialogueStateTracker.from_events(
        "web-1", [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"})], slots=DOMAIN.slots
    )
    asyncio.run(store.save(tracker))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE events RENAME TO events_gone"))
    engine.dispose()
    wrapped = Agent._create_tracker_store(store, DOMAIN)
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(wrapped.retrieve("web-1"))
    tracker.update(ActionExecuted("action_listen"))
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(wrapped.save(tracker))


# --- the action timeout ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ACTION_TIMEOUT_SECONDS": "ten"}, "a number of seconds"),
        ({"ACTION_TIMEOUT_SECONDS": "0"}, "more than 0"),
        ({"ACTION_TIMEOUT_SECONDS": "60"}, "less than the conversation lock"),
        ({"ACTION_TIMEOUT_SECONDS": "30", "TICKET_LOCK_LIFETIME": "20"}, "(20 s)"),
    ],
)
def test_a_bad_timeout_is_refused_clearly(env: Dict[str, str], message: str) -> None:
    with pytest.raises(
        action_guard.ActionGuardConfigError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        action_guard.timeout_seconds(env)


def test_the_timeout_defaults_to_ten_seconds() -> None:
    assert action_guard.timeout_seconds({}) == 10.0
    assert action_guard.timeout_seconds({"ACTION_TIMEOUT_SECONDS": "2.5"}) == 2.5


class _Hung:
    """An action server that accepts the connection and never answers."""

    def __init__(self) -> None:
        self.server: Any = None
        self.port = 0

    async def __aenter__(self) -> _Hung:
        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(3600)

        self.server = await asyncio.start_server(hold, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.server.close()


def _tracker(channel: str = "web") -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "web-2",
        [
            ActionExecuted("action_listen"),
            UserUttered("I want to end it all", {"name": "crisis"}, input_channel=channel, message_id="m-42"),
            SlotSet("risk_category", "plan"),
        ],
        slots=DOMAIN.slots,
    )


def _run_action(name: str, url: str, channel: str = "web") -> List[Any]:
    async def go() -> List[Any]:
        action = RemoteAction(name, EndpointConfig(url))
        return await action.run(CollectingOutputChannel(), None, _tracker(channel), DOMAIN)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_a_hung_action_server_costs_the_timeout_and_gets_a_polite_reply(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    action_guard.install({"ACTION_TIMEOUT_SECONDS": "0.5"})

    async def scenario() -> List[Any]:
        async with _Hung() as hung:
            action = RemoteAction(
                "action_intake_next", EndpointConfig(f"http://127.0.0.1:{hung.port}/webhook")
            )
            loop = asyncio.get_running_loop()
            start = loop.time()
            events = await action.run(CollectingOutputChannel(), None, _tracker(), DOMAIN)  # type: ignore[arg-type]
            assert loop.time() - start < 2.0
            return events

    try:
        events = asyncio.run(scenario())
    finally:
        action_guard.install({})
    assert [type(e) for e in events] == [BotUttered]
    assert events[0].text == action_guard.slow_text(sms=False)
    assert "988" in events[0].text and "911" in events[0].text


def test_an_unreachable_action_server_gets_the_sms_wording_on_sms() -> None:
    action_guard.install({})
    events = _run_action("action_intake_next", "http://127.0.0.1:9/webhook", channel="twilio")
    assert [e.text for e in events] == [action_guard.slow_text(sms=True)]
    assert "text or call 988" in events[0].text


def test_record_crisis_is_done_here_once_when_the_action_server_does_not_answer() -> None:
    action_guard.install({})
    repo = InMemoryRepository()
    set_repository(repo)
    try:
        first = _run_action("action_record_crisis", "http://127.0.0.1:9/webhook")
        second = _run_action("action_record_crisis", "http://127.0.0.1:9/webhook")
    finally:
        set_repository(None)
    assert first == second == [SlotSet("crisis_active", True)]
    [crisis] = repo.crises("web-2")
    assert (crisis.channel, crisis.category, crisis.message_excerpt) == (
        "web",
        "plan",
        "I want to end it all",
    )


def test_a_write_locked_database_does_not_stop_the_event_loop(tmp_path: Path) -> None:
    """A turn's save waits for the lock in a worker thread; the server goes on answering."""
    import sqlite3
    import threading

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    store = UrlSQLTrackerStore(domain=DOMAIN, url=url)
    tracker = DialogueStateTracker.from_events(
        "web-3", [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"})], slots=DOMAIN.slots
    )
    holder = sqlite3.connect(str(tmp_path / "db.sqlite3"), check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process's write transaction
    holder.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('x', 'y', 0, '{}')")
    threading.Timer(1.5, holder.rollback).start()

    async def scenario() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        t = asyncio.ensure_future(ticker())
        await store.save(tracker)
        t.cancel()
        return ticks

    ticks = asyncio.run(scenario())
    holder.close()
    assert ticks >= 20  # about 1.5 s of a running loop while the save waited
    loaded = asyncio.run(store.retrieve("web-3"))
    assert loaded is not None and loaded.latest_message is not None and loaded.latest_message.text == "hi"
