"""Bounded conversation history for long intakes.

Every turn, Rasa loads the whole conversation, replays it, featurises all of
it for each policy and sends all of it to the action server, so a turn late in
an 80-150 turn intake costs several times a turn at its start. The dialogue
here never looks further back than a few turns (MemoizationPolicy
``max_history: 4``, rules of a few steps, forms that read their own slots), so
the tracker handed to the processor can start with a *snapshot* of the state
(the slots and the active form) followed by only the recent events.

The database still receives and keeps every event: the snapshot only changes
what is loaded. ``UrlSQLTrackerStore`` keeps the latest snapshot of each
conversation in its own row, so a turn reads the snapshot and the events after
it, never the whole conversation (see ``bot.tracker_store``).

Everything here works on serialised events (the dicts the SQL store keeps),
so cutting a conversation costs one replay of the part before the cut.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker

# Compact once the loaded part of a session holds more events than this, keeping at least KEEP.
DEFAULT_COMPACT_AFTER = 100
DEFAULT_KEEP = 50

EventDict = Dict[str, Any]


def _starts_user_turn(events: Sequence[EventDict], i: int) -> bool:
    ev = events[i]
    nxt = events[i + 1] if i + 1 < len(events) else None
    return (
        ev.get("event") == ActionExecuted.type_name
        and ev.get("name") == ACTION_LISTEN_NAME
        and nxt is not None
        and nxt.get("event") == UserUttered.type_name
    )


def cut_index(events: Sequence[EventDict], keep: int, floor: int = 1) -> Optional[int]:
    """Index (>= ``floor``) of an ``action_listen`` that starts a user turn, with at least
    ``keep`` events after it; ``None`` when there is none."""
    for i in range(len(events) - keep, max(floor, 1) - 1, -1):
        if _starts_user_turn(events, i):
            return i
    return None


def snapshot_events(before: DialogueStateTracker, timestamp: float) -> List[Event]:
    """Events that recreate the state of ``before`` (slots, active form) in a new tracker."""
    snapshot: List[Event] = [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=timestamp),
        SessionStarted(timestamp=timestamp),
    ]
    for slot in before.slots.values():
        if slot.value != slot.initial_value:
            snapshot.append(SlotSet(slot.name, slot.value, timestamp=timestamp))
    loop = before.active_loop_name
    if loop:
        # Replay the turn that activated the form, with the message that triggered it:
        # Rasa reads the turns after it as the form's happy path and featurises this
        # turn as the latest state, exactly as it does with the full history.
        trigger = getattr(before.active_loop, "trigger_message", None) or {}
        intent = trigger.get("intent") or {}
        snapshot.append(ActionExecuted(ACTION_LISTEN_NAME, timestamp=timestamp))
        snapshot.append(
            UserUttered(
                trigger.get("text"),
                intent if intent.get("name") else None,
                trigger.get("entities") or [],
                timestamp=timestamp,
            )
        )
        snapshot.append(ActionExecuted(loop, timestamp=timestamp))
        snapshot.append(ActiveLoop(loop, timestamp=timestamp))
    return snapshot


def compact_serialised(
    sender_id: str,
    events: List[EventDict],
    slots: List[Slot],
    keep: int,
    floor: int = 1,
) -> Optional[Tuple[int, List[EventDict]]]:
    """Where to cut ``events`` and the serialised snapshot that replaces ``events[:cut]``.

    ``None`` when there is no user turn to cut at (at or after ``floor``) that
    leaves ``keep`` events.
    """
    cut = cut_index(events, keep, floor)
    if cut is None:
        return None
    before = DialogueStateTracker.from_dict(sender_id, events[:cut], slots)
    timestamp = float(events[cut].get("timestamp") or 0.0)
    return cut, [event.as_dict() for event in snapshot_events(before, timestamp)]

