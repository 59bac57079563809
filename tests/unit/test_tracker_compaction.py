"""Long conversations load with a bounded history, and nothing stored is lost or doubled."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_compaction import compact
from bot.tracker_store import UrlSQLTrackerStore

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


def test_short_conversations_are_untouched() -> None:
    tracker = _long_tracker(5)
    assert compact(tracker, DOMAIN, compact_after=200, keep=100) is tracker


def test_compacted_tracker_has_the_same_state_and_recent_history() -> None:
    full = _long_tracker(100)
    small = compact(full, DOMAIN, compact_after=200, keep=60)
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


def test_store_keeps_every_event_exactly_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_COMPACT_AFTER_EVENTS", "50")
    monkeypatch.setenv("TRACKER_KEEP_EVENTS", "25")
    store = UrlSQLTrackerStore(domain=DOMAIN, url=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    async def scenario() -> None:
        full = _long_tracker(30, sender="s1")
        await store.save(full)
        expected = [e.as_dict() for e in full.events]
        for i in range(30, 45):  # fifteen more turns, each loaded compacted and saved
            loaded = await store.retrieve("s1")
            assert loaded is not None
            assert len(loaded.events) < 60
            assert loaded.get_slot("count") == float(i - 1)
            for ev in _turn(i):
                loaded.update(ev)
            expected += [e.as_dict() for e in _turn(i)]
            await store.save(loaded)
        everything = await store.retrieve_full_tracker("s1")
        assert everything is not None
        got = [e.as_dict() for e in everything.events]
        strip = lambda d: {k: v for k, v in d.items() if k != "timestamp"}  # noqa: E731
        assert [strip(e) for e in got] == [strip(e) for e in expected]

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
