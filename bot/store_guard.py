"""No silent reset: Rasa's FailSafeTrackerStore is not put around this project's tracker store.

Rasa 3.6 wraps every tracker store in ``FailSafeTrackerStore`` (``Agent._create_tracker_store``
in rasa/core/agent.py): when a read fails it serves an empty conversation, and when a save
fails it keeps the turn in this process's memory only. A database hiccup then starts the
person's conversation over (a crisis in progress forgotten), and the next save of the intake
rebuilds the record from empty slots. :func:`install` makes the agent use
:class:`bot.tracker_store.UrlSQLTrackerStore` as it is: a failed read or save raises
:class:`bot.tracker_store.TrackerStoreUnavailable`, the turn stops, nothing is written in
the conversation's place, and the channels answer with the crisis lines (the web chat and
REST with 503, SMS with its apology; the SMS inbox keeps the message and handles it again
later). Any other tracker store keeps Rasa's wrapper.

Installed by ``python -m bot`` (bot/__main__.py) before Rasa builds its agent; idempotent.
"""

from __future__ import annotations

from typing import Any

_MARK = "_trd_no_failsafe"


def install() -> None:
    from rasa.core.agent import Agent

    from bot.tracker_store import UrlSQLTrackerStore

    current = Agent.__dict__["_create_tracker_store"]
    if getattr(current, _MARK, False):
        return
    original = current.__func__ if isinstance(current, staticmethod) else current

    def _create_tracker_store(store: Any, domain: Any) -> Any:
        if isinstance(store, UrlSQLTrackerStore):
            store.domain = domain
            return store
        return original(store, domain)

    setattr(_create_tracker_store, _MARK, True)
    Agent._create_tracker_store = staticmethod(_create_tracker_store)
