"""Bounded conversation history for long intakes.

Every turn, Rasa loads the whole conversation, replays it, featurises all of
it for each policy and sends all of it to the action server, so a turn late in
an 80-150 turn intake costs several times a turn at its start. The dialogue
here never looks further back than a few turns (MemoizationPolicy
``max_history: 4``, rules of a few steps, forms that read their own slots), so
the tracker handed to the processor can start with a *snapshot* of the state
(the slots and the active form) followed by only the recent events.

The database still receives and keeps every event: :func:`compact` only
changes what is loaded, and the tracker store writes new events by position
in the loaded tracker (see ``UrlSQLTrackerStore``), not by counting rows.
"""

from __future__ import annotations

from typing import List, Optional

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

# Compact once the session holds more events than this, keeping at least KEEP.
DEFAULT_COMPACT_AFTER = 200
DEFAULT_KEEP = 100


def _cut_index(events: List[Event], keep: int) -> Optional[int]:
    """Index of an ``action_listen`` that starts a user turn, with at least ``keep`` events after it."""
    start = max(1, len(events) - keep)
    for i in range(start, 0, -1):
        ev, nxt = events[i], events[i + 1] if i + 1 < len(events) else None
        if (
            isinstance(ev, ActionExecuted)
            and ev.action_name == ACTION_LISTEN_NAME
            and isinstance(nxt, UserUttered)
        ):
            return i
    return None


def compact(
    tracker: DialogueStateTracker,
    domain: Domain,
    compact_after: int = DEFAULT_COMPACT_AFTER,
    keep: int = DEFAULT_KEEP,
) -> DialogueStateTracker:
    """The same conversation state with a bounded history (or ``tracker`` itself if short)."""
    events = list(tracker.events)
    if len(events) <= compact_after:
        return tracker
    cut = _cut_index(events, keep)
    if cut is None:
        return tracker
    before = DialogueStateTracker.from_events(tracker.sender_id, events[:cut], domain.slots)
    ts = events[cut].timestamp
    snapshot: List[Event] = [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=ts),
        SessionStarted(timestamp=ts),
    ]
    for slot in before.slots.values():
        if slot.value != slot.initial_value:
            snapshot.append(SlotSet(slot.name, slot.value, timestamp=ts))
    loop = before.active_loop_name
    if loop:
        # Replay the turn that activated the form, with the message that triggered it:
        # Rasa reads the turns after it as the form's happy path and featurises this
        # turn as the latest state, exactly as it does with the full history.
        trigger = getattr(before.active_loop, "trigger_message", None) or {}
        intent = trigger.get("intent") or {}
        snapshot.append(ActionExecuted(ACTION_LISTEN_NAME, timestamp=ts))
        snapshot.append(
            UserUttered(
                trigger.get("text"),
                intent if intent.get("name") else None,
                trigger.get("entities") or [],
                timestamp=ts,
            )
        )
        snapshot.append(ActionExecuted(loop, timestamp=ts))
        snapshot.append(ActiveLoop(loop, timestamp=ts))
    compacted = DialogueStateTracker.from_events(
        tracker.sender_id, snapshot + events[cut:], domain.slots, sender_source=tracker.sender_source
    )
    compacted.model_id = tracker.model_id
    compacted.assistant_id = tracker.assistant_id
    return compacted
