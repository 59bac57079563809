"""'Delete my data' (#10): asked once (data/rules/privacy.yml), then everything the service keeps
about the conversation is removed (trd/privacy.py) and the conversation starts fresh.

``action_confirm_delete_my_data`` pauses a form that was asking (its answers stay until the
person confirms) and asks. ``action_delete_my_data`` deletes, in a worker thread, every row of
the conversation from every table (Rasa's events included), keeps only a hashed audit row,
says so plainly and restarts the conversation: the tracker the Rasa server saves after this
turn starts from nothing (only this turn's "yes" and the confirmation follow the restart).
If the deletion fails nothing was removed (one transaction) and the person is told to try
again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from trd.escalation.payload import care_team_channel
from trd.privacy import REASON_REQUEST, delete_conversation

logger = logging.getLogger(__name__)

UTTER_CONFIRM = "utter_delete_data_confirm"
UTTER_DONE = "utter_delete_data_done"
UTTER_FAILED = "utter_delete_data_failed"

EngineFactory = Callable[[], Any]


def _default_engine() -> Any:
    from trd.store import get_repository
    from trd.store.db import get_engine

    get_repository()  # the schema is up to date (the deletion audit's table) before the first delete
    return get_engine()


class ActionConfirmDeleteMyData(Action):
    """Ask once before deleting; a form that was asking is paused, nothing is cleared yet."""

    def name(self) -> str:
        return "action_confirm_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        dispatcher.utter_message(response=UTTER_CONFIRM)
        if (tracker.active_loop or {}).get("name"):
            return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        return []


class ActionDeleteMyData(Action):
    """Confirmed: delete everything of this conversation and start it afresh."""

    def __init__(self, engine_factory: Optional[EngineFactory] = None) -> None:
        self._engine_factory = engine_factory or _default_engine

    def name(self) -> str:
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        channel = care_team_channel(tracker.get_latest_input_channel())
        try:
            engine = await asyncio.to_thread(self._engine_factory)
            removed = await asyncio.to_thread(
                delete_conversation, engine, tracker.sender_id, channel, REASON_REQUEST
            )
        except Exception:
            logger.exception(
                "delete my data: the deletion failed (conversation %s); nothing was removed",
                tracker.sender_id,
            )
            dispatcher.utter_message(response=UTTER_FAILED)
            return []
        logger.info(
            "delete my data: done (%s), %d rows in %d tables", channel, sum(removed.values()), len(removed)
        )
        dispatcher.utter_message(response=UTTER_DONE)
        return [Restarted()]
