"""Build rasa_sdk ``Tracker`` objects in code, as the action server receives them.

One place for what the unit tests of actions used to write out by hand (each with its
own ``Tracker(sender, slots, latest, events, False, None, loop, action)``)::

    from tests.support.trackers import make_tracker, user_event, form_answer_events

    message = user_event("2 weeks", confidence=0.95)
    t = make_tracker("s1", slots, message["parse_data"], form_answer_events(form, slot, message, "2 weeks"),
                     active_loop=form, latest_action=form)
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

Event = Dict[str, Any]


def user_event(
    text: str,
    intent: str = "intake_answer",
    confidence: float = 0.95,
    entities: Optional[List[Any]] = None,
    channel: str = "rest",
) -> Event:
    """A ``user`` event as Rasa records it (``parse_data`` is also the tracker's latest message)."""
    return {
        "event": "user",
        "text": text,
        "input_channel": channel,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
            "text": text,
        },
    }


def form_answer_events(form: str, slot: str, message: Event, value: Any) -> List[Event]:
    """The events after a form asked for ``slot`` and the person answered with ``message``,
    which the from_text mapping stored as ``value`` (what FormAction sends to validation)."""
    return [
        {"event": "slot", "name": "requested_slot", "value": slot},
        {"event": "action", "name": "action_listen"},
        message,
        {"event": "slot", "name": "requested_slot", "value": slot},
        {"event": "action", "name": form},
        {"event": "slot", "name": slot, "value": value},
    ]


def make_tracker(
    sender: str,
    slots: Optional[Dict[str, Any]] = None,
    latest_message: Optional[Dict[str, Any]] = None,
    events: Optional[List[Any]] = None,
    *,
    active_loop: Any = None,
    latest_action: str = "action_listen",
    paused: bool = False,
    followup_action: Optional[str] = None,
) -> Tracker:
    """A ``Tracker`` (the dicts and the list are passed on, not copied); ``active_loop`` is a
    form's name, a ready ``{"name": ...}`` dict, or nothing."""
    if isinstance(active_loop, str):
        loop: Dict[str, Any] = {"name": active_loop}
    else:
        loop = dict(active_loop or {})
    return Tracker(
        sender,
        slots if slots is not None else {},
        latest_message if latest_message is not None else {},
        events if events is not None else [],
        paused,
        followup_action,
        loop,
        latest_action,
    )
