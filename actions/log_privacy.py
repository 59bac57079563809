"""The action server's log redaction (:mod:`trd.logredact`), installed by ``python -m actions.server``.

The action server receives whole trackers from the Rasa server; before an action runs, the
person's latest message and the text values of the slots (free-text answers such as the
safety plan's) are registered, so rasa_sdk's debug lines (form validation, slot dumps)
show ``[text]`` in their place.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator

from trd import logredact


def texts_of_call(action_call: Any) -> Iterator[str]:
    """The person's texts in an action call: the latest message and string slot values."""
    if not isinstance(action_call, dict):
        return
    tracker: Dict[str, Any] = action_call.get("tracker") or {}
    if not isinstance(tracker, dict):
        return
    latest = tracker.get("latest_message") or {}
    if isinstance(latest, dict) and isinstance(latest.get("text"), str):
        yield latest["text"]
    slots = tracker.get("slots") or {}
    if isinstance(slots, dict):
        for value in slots.values():
            if isinstance(value, str):
                yield value


def install() -> None:
    logredact.install()
    from rasa_sdk.executor import ActionExecutor

    ActionExecutor.run = logredact.remembering(ActionExecutor.run, texts_of_call)
