"""Action-server side of the crisis path: record a crisis, close it, resume afterwards.

The person never depends on these actions: the Rasa server has already sent the crisis
resources (domain responses chosen by ``bot.policies.safety_policy.SafetyPolicy``) before
``action_record_crisis`` runs. If the database fails, these actions log it and still
return their events, so the conversation goes on.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from trd.escalation.enqueue import Escalator, record_crisis_and_escalate, spool_crisis
from trd.intake.parts import SLOT_SH_DUE, SUICIDE_HISTORY_FORM
from trd.safety.contract import (
    INTENT_DANGER_NOW,
    INTENT_NOT_SAFE,
    INTENT_SOS,
    RISK_ENTITY,
    SLOT_CRISIS_ACTIVE,
    SLOT_INTERRUPTED_LOOP,
    SLOT_RISK_CATEGORY,
    RiskCategory,
)
from trd.store import get_repository
from trd.store.repository import MAX_LABEL, Repository

logger = logging.getLogger(__name__)

MAX_EXCERPT_CHARS = 500

# A crisis turn without a category (the guard's entity) still records what raised it.
_INTENT_CATEGORY = {
    INTENT_DANGER_NOW: RiskCategory.DANGER_NOW.value,
    INTENT_SOS: RiskCategory.SOS.value,
    INTENT_NOT_SAFE: RiskCategory.NOT_SAFE.value,
}

RepositoryFactory = Callable[[], Repository]


def crisis_category(tracker: Tracker) -> str:
    """The category of the current crisis: the one SafetyPolicy acted on, else the message's."""
    slot = tracker.get_slot(SLOT_RISK_CATEGORY)
    if isinstance(slot, str) and slot.strip():
        return slot.strip()[:MAX_LABEL]
    message: Dict[str, Any] = tracker.latest_message or {}
    for entity in message.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == RISK_ENTITY:
            value = entity.get("value")
            if isinstance(value, str) and value.strip():
                return value.strip()[:MAX_LABEL]
    intent = (message.get("intent") or {}).get("name")
    return _INTENT_CATEGORY.get(str(intent), RiskCategory.UNSPECIFIED.value)


def message_excerpt(tracker: Tracker) -> str:
    text = str((tracker.latest_message or {}).get("text") or "").strip()
    if len(text) > MAX_EXCERPT_CHARS:
        return text[: MAX_EXCERPT_CHARS - 1].rstrip() + "\u2026"
    return text


def message_id(tracker: Tracker) -> Optional[str]:
    """The id of the message that raised the crisis (Rasa's, or the SMS provider's)."""
    value = (tracker.latest_message or {}).get("message_id")
    return value if isinstance(value, str) and value.strip() else None


def input_channel(tracker: Tracker) -> str:
    channel = tracker.get_latest_input_channel()
    return (channel or "unknown")[:MAX_LABEL]


class _RepositoryAction(Action, ABC):
    """An action that writes through the repository (injected in tests)."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    def __init__(self, repository_factory: RepositoryFactory = get_repository) -> None:
        self._repository_factory = repository_factory

    async def _repository(self) -> Repository:
        # get_repository() may connect and migrate on first use: never on the event loop
        return await asyncio.to_thread(self._repository_factory)


class ActionRecordCrisis(_RepositoryAction):
    """Record the crisis and, with a care team configured, its escalation in the outbox.

    Only writes (in a worker thread); the delivery worker (trd.escalation.worker)
    sends the escalation, so this turn never waits on a webhook or an SMS provider.
    """

    def __init__(
        self, repository_factory: RepositoryFactory = get_repository, escalator: Optional[Escalator] = None
    ) -> None:
        super().__init__(repository_factory)
        self._escalator = escalator or Escalator()

    def name(self) -> str:
        return "action_record_crisis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        conversation_id = tracker.sender_id
        channel = input_channel(tracker)
        category = crisis_category(tracker)
        try:
            repository = await self._repository()
            outcome = await asyncio.to_thread(
                record_crisis_and_escalate,
                repository,
                self._escalator,
                conversation_id=conversation_id,
                input_channel=channel,
                category=category,
                message_excerpt=message_excerpt(tracker),
                events=list(tracker.events or []),
                message_id=message_id(tracker),
            )
            record = outcome.record
            logger.info(
                "crisis %s recorded (%s, %s); escalation: %s",
                record.id,
                category,
                channel,
                ", ".join(outcome.escalated_to) or "none",
            )
        except Exception:
            # The person already has the resources. The database could not take the crisis:
            # spool it (and its escalation) to the local journal the worker delivers from.
            logger.exception(
                "the crisis in conversation %s could not be written to the database", conversation_id
            )
            try:
                await asyncio.to_thread(
                    spool_crisis,
                    self._escalator,
                    conversation_id=conversation_id,
                    input_channel=channel,
                    category=category,
                    message_excerpt=message_excerpt(tracker),
                    events=list(tracker.events or []),
                    message_id=message_id(tracker),
                )
            except Exception:
                # Nowhere left to write it: an operator must see this in the log.
                logger.critical(
                    "COULD NOT RECORD A CRISIS: conversation %s, channel %s, category %s",
                    conversation_id,
                    channel,
                    category,
                    exc_info=True,
                )
        return [SlotSet(SLOT_CRISIS_ACTIVE, True)]


# Crises about someone else or about harming another person: not a time to ask about the
# person's own suicidal thoughts.
_NOT_ABOUT_THEMSELVES = frozenset({RiskCategory.THIRD_PARTY.value, RiskCategory.HARM_TO_OTHERS.value})
INTENT_CONFIRM_SAFE = "confirm_safe"


def gentle_questions_due(tracker: Tracker, domain: DomainDict) -> bool:
    """Whether to offer the few gentle questions about the thoughts (suicide_history_form) now:
    the person has just said they are safe after a crisis of their own, and they were never
    offered before in this conversation."""
    if SUICIDE_HISTORY_FORM not in (domain.get("forms") or {}):
        return False
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if intent != INTENT_CONFIRM_SAFE or tracker.get_slot(SLOT_CRISIS_ACTIVE) is not True:
        return False
    if tracker.get_slot(SLOT_RISK_CATEGORY) in _NOT_ABOUT_THEMSELVES:
        return False
    return tracker.get_slot("sh_offer") is None


class ActionCloseCrisis(_RepositoryAction):
    """The person said they are safe: mark the conversation's open crises resolved, and say
    whether the gentle questions about the thoughts are due (``sh_due``, read by the rules)."""

    def name(self) -> str:
        return "action_close_crisis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        try:
            repository = await self._repository()
            closed = await asyncio.to_thread(repository.resolve_open_crises, tracker.sender_id)
            logger.info("conversation %s: %d crisis record(s) resolved", tracker.sender_id, closed)
        except Exception:
            logger.exception("could not resolve the crises of conversation %s", tracker.sender_id)
        events: List[EventType] = [SlotSet(SLOT_CRISIS_ACTIVE, False)]
        if gentle_questions_due(tracker, domain):
            events.append(SlotSet(SLOT_SH_DUE, True))
        return events


class ActionResumeAfterCrisis(Action):
    """The person is safe and wants to go on: reopen the form the crisis interrupted."""

    def name(self) -> str:
        return "action_resume_after_crisis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        loop: Optional[str] = tracker.get_slot(SLOT_INTERRUPTED_LOOP)
        events: List[EventType] = [SlotSet(SLOT_INTERRUPTED_LOOP, None)]
        forms = domain.get("forms") or {}
        active = (tracker.active_loop or {}).get("name")
        if isinstance(loop, str) and loop in forms and loop != active:
            events.append(FollowupAction(loop))
        return events
