"""Long conversations load with a bounded history, and nothing stored is lost or doubled."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_compaction import compact_serialised
from bot.tracker_store import SNAPSHOTS, UrlSQLTrackerStore
from tests.support.postgres import fresh_database

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, inform, affirm]
entities: []
slots:
  answer:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
  crisis_active:
    type: bool
    influence_conversation: true
    mappings: [{type: custom}]
  count:
    type: float
    influence_conversation: false
    mappings: [{type: custom}]
forms:
  intake_form:
    required_slots: [answer]
responses:
  utter_ask_answer: [{text: "next?"}]
  utter_greet: [{text: "hi"}]
"""
)


def _turn(i: int) -> List[Event]:
    return [
        ActionExecuted("action_listen"),
        UserUttered(f"answer {i}", {"name": "inform", "confidence": 1.0}),
        ActionExecuted("intake_form"),
        SlotSet("answer", f"answer {i}"),
        SlotSet("count", float(i)),
        SlotSet("requested_slot", "answer"),
        BotUttered("next?"),
    ]


def _long_tracker(turns: int, sender: str = "long") -> DialogueStateTracker:
    events: List[Event] = [
        ActionExecuted("action_session_start"),
        ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        BotUttered("hi"),
        SlotSet("crisis_active", True),
        ActionExecuted("intake_form"),
        ActiveLoop("intake_form"),
    ]
    for i in range(turns):
        events += _turn(i)
    return DialogueStateTracker.from_events(sender, events, DOMAIN.slots)


def _compacted(tracker: DialogueStateTracker, keep: int) -> DialogueStateTracker:
    """The tracker the store loads: the snapshot, then the events from the cut on."""
    events = [e.as_dict() for e in tracker.events]
    found = compact_serialised(tracker.sender_id, events, DOMAIN.slots, keep)
    assert found is not None
    cut, snapshot = found
    return DialogueStateTracker.from_dict(tracker.sender_id, snapshot + events[cut:], DOMAIN.slots)


def test_short_conversations_are_untouched() -> None:
    tracker = _long_tracker(5)
    events = [e.as_dict() for e in tracker.events]
    assert compact_serialised(tracker.sender_id, events, DOMAIN.slots, keep=100) is None


def test_compacted_tracker_has_the_same_state_and_recent_history() -> None:
    full = _long_tracker(100)
    small = _compacted(full, keep=60)
    assert len(small.events) < 80 < len(full.events)
    assert small.current_slot_values() == full.current_slot_values()
    assert small.active_loop_name == "intake_form"
    assert small.latest_message is not None and full.latest_message is not None
    assert small.latest_message.text == full.latest_message.text == "answer 99"
    # The latest state the policies featurise is identical (the form's happy path
    # reads as the turn that activated it) ...
    assert small.past_states(DOMAIN)[-1] == full.past_states(DOMAIN)[-1]
    # ... and so are the states after the form completes.
    for t in (full, small):
        for ev in [ActionExecuted("intake_form"), ActiveLoop(None), SlotSet("requested_slot", None),
                   ActionExecuted("utter_greet")]:
            t.update(ev)
    assert small.past_states(DOMAIN)[-2:] == full.past_states(DOMAIN)[-2:]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    request.getfixturevalue("postgres_url")
    return fresh_database("compaction")


def _strip(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != "timestamp"} for e in events]


def _small_store(db_url: str, monkeypatch: pytest.MonkeyPatch) -> UrlSQLTrackerStore:
    monkeypatch.setenv("TRACKER_COMPACT_AFTER_EVENTS", "50")
    monkeypatch.setenv("TRACKER_KEEP_EVENTS", "25")
    return UrlSQLTrackerStore(domain=DOMAIN, url=db_url)


@pytest.mark.slow
def test_store_keeps_every_event_exactly_once(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _small_store(db_url, monkeypatch)

    async def scenario() -> None:
        full = _long_tracker(30, sender="s1")
        await store.save(full)
        expected = [e.as_dict() for e in full.events]
        for i in range(30, 60):  # thirty more turns, each loaded bounded and saved
            loaded = await store.retrieve("s1")
            assert loaded is not None
            assert len(loaded.events) <= 50 + 7 + 10  # limit + one turn + the snapshot
            assert loaded.get_slot("count") == float(i - 1)
            assert loaded.get_slot("crisis_active") is True
            assert loaded.active_loop_name == "intake_form"
            for ev in _turn(i):
                loaded.update(ev)
            expected += [e.as_dict() for e in _turn(i)]
            await store.save(loaded)
        everything = await store.retrieve_full_tracker("s1")
        assert everything is not None
        assert _strip([e.as_dict() for e in everything.events]) == _strip(expected)

    asyncio.run(scenario())


def _events_table(db_url: str) -> Tuple[sa.engine.Engine, sa.Table]:
    engine = sa.create_engine(db_url)
    return engine, sa.Table("events", sa.MetaData(), autoload_with=engine)


def test_a_turn_reads_the_snapshot_and_the_events_after_it_not_the_whole_conversation(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _small_store(db_url, monkeypatch)

    async def scenario() -> None:
        await store.save(_long_tracker(40, sender="s3"))
        first = await store.retrieve("s3")  # long: cut, and the snapshot stored
        assert first is not None and len(first.events) < 50
        # Make the early part of the conversation unreadable: a load that still read it would fail.
        engine, events = _events_table(db_url)
        with engine.begin() as conn:
            ids = [r.id for r in conn.execute(
                sa.select(events.c.id).where(events.c.sender_id == "s3").order_by(events.c.id)
            )]
            conn.execute(events.update().where(events.c.id.in_(ids[:150])).values(data="not json"))
        engine.dispose()
        # A restarted server (a new store) reads the stored snapshot too.
        fresh = UrlSQLTrackerStore(domain=DOMAIN, url=db_url)
        for s in (store, fresh):
            again = await s.retrieve("s3")
            assert again is not None
            assert again.get_slot("count") == 39.0 and again.get_slot("crisis_active") is True
            assert again.active_loop_name == "intake_form"
            assert again.latest_message is not None and again.latest_message.text == "answer 39"
            assert _strip([e.as_dict() for e in again.events]) == _strip([e.as_dict() for e in first.events])

    asyncio.run(scenario())


@pytest.mark.slow
def test_a_lost_or_damaged_snapshot_only_costs_speed(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _small_store(db_url, monkeypatch)

    async def scenario() -> None:
        await store.save(_long_tracker(40, sender="s4"))
        expected = await store.retrieve("s4")
        assert expected is not None
        engine = sa.create_engine(db_url)
        for damage in (SNAPSHOTS.update().values(events="{broken"), SNAPSHOTS.delete()):
            with engine.begin() as conn:
                conn.execute(damage)
            loaded = await store.retrieve("s4")
            assert loaded is not None
            assert loaded.current_slot_values() == expected.current_slot_values()
            assert loaded.active_loop_name == "intake_form"
            assert _strip([e.as_dict() for e in loaded.events]) == _strip(
                [e.as_dict() for e in expected.events]
            )
        engine.dispose()

    asyncio.run(scenario())


def test_a_new_session_after_the_snapshot_loads_as_rasa_loads_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _small_store(db_url, monkeypatch)

    async def scenario() -> None:
        await store.save(_long_tracker(40, sender="s5"))
        loaded = await store.retrieve("s5")
        assert loaded is not None
        # The session expired: Rasa starts a new one, carrying the slots over.
        later = time.time() + 1
        for ev in [
            ActionExecuted("action_session_start", timestamp=later),
            SessionStarted(timestamp=later),
            SlotSet("count", 39.0, timestamp=later),
            ActionExecuted("action_listen", timestamp=later),
            UserUttered("I'm back", {"name": "greet", "confidence": 1.0}, timestamp=later + 1),
        ]:
            loaded.update(ev)
        await store.save(loaded)
        ours = await store.retrieve("s5")
        rasas = await SQLTrackerStore.retrieve(store, "s5")
        assert ours is not None and rasas is not None
        assert ours.events[0].timestamp == later  # only the new session
        assert _strip([e.as_dict() for e in ours.events]) == _strip([e.as_dict() for e in rasas.events])
        assert ours.active_loop_name is None and ours.get_slot("count") == 39.0

    asyncio.run(scenario())


def test_compaction_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_COMPACT_AFTER_EVENTS", "0")
    store = UrlSQLTrackerStore(domain=DOMAIN, url=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    async def scenario() -> None:
        full = _long_tracker(40, sender="s2")
        await store.save(full)
        loaded = await store.retrieve("s2")
        assert loaded is not None and len(loaded.events) == len(full.events)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "damage",
    [
        "[1, 2]",
        "[]",
        '{"event": "slot"}',
        '[{"event": "no_such_event", "name": "count", "value": 0}]',
        '[{"event": "slot", "name": "count", "value": 0}, {"no": "event"}]',
        '[{"event": "active_loop", "name": 17}, {"event": "user", "text": null, "parse_data": 5}]',
    ],
)
def test_a_snapshot_whose_events_do_not_make_a_tracker_is_a_cache_miss(
    db_url: str, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """#10: the conversation is read from its events, never served empty or without its state."""
    store = _small_store(db_url, monkeypatch)

    async def scenario() -> None:
        await store.save(_long_tracker(40, sender="s5"))
        expected = await store.retrieve("s5")  # stores the snapshot
        assert expected is not None
        engine = sa.create_engine(db_url)
        with engine.begin() as conn:
            assert conn.execute(SNAPSHOTS.update().values(events=damage)).rowcount == 1
        engine.dispose()
        loaded = await store.retrieve("s5")
        assert loaded is not None
        assert loaded.get_slot("count") == 39.0 and loaded.get_slot("crisis_active") is True
        assert loaded.active_loop_name == "intake_form"
        assert _strip([e.as_dict() for e in loaded.events]) == _strip([e.as_dict() for e in expected.events])

    asyncio.run(scenario())
