"""The action server's log redaction (:mod:`trd.logredact`), installed by ``python -m actions.server``.

The action server receives whole trackers from the Rasa server; before an action runs, the
person's latest message and the text values of the slots (free-text answers such as the
safety plan's) are registered, so rasa_sdk's debug lines (form validation, slot dumps)
show ``[text]`` in their place.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Iterator

from trd import logredact

_PATCHED = "_trd_log_privacy"


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

    run = ActionExecutor.run
    if getattr(run, _PATCHED, False):
        return

    @functools.wraps(run)
    async def remembering_run(self: Any, action_call: Any) -> Any:
        try:
            for text in texts_of_call(action_call):
                logredact.remember(text)
        except Exception:  # noqa: BLE001, S110 - never fail an action over its redaction
            pass
        return await run(self, action_call)

    setattr(remembering_run, _PATCHED, True)
    ActionExecutor.run = remembering_run
