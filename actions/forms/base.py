"""A validation base that every form of this assistant builds on.

People here are tired; a form must never trap them. :class:`BaseFormValidation`
adds three things to rasa_sdk's :class:`FormValidationAction`:

* "skip", "not sure", "I don't know" and the like fill a skippable slot with
  :meth:`BaseFormValidation.skipped_value` instead of an answer, so the form moves on;
* a free-text slot (``free_text_slots``) is cleaned (trimmed, NULs removed, capped in
  length) and an empty answer or a stray button payload is asked again, politely;
* after ``max_attempts`` unusable answers to a skippable slot, it is skipped rather
  than asked a fourth time.

Slots with their own ``validate_<slot>`` method keep full control: the method runs
after the skip check, and may return ``{slot: None}`` to ask again (the base then
sends ``reask_response`` unless the method already said something).

Subclasses set ``name()``, ``skippable_slots``, ``free_text_slots`` and the response
names; nothing here is specific to one form.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Dict, FrozenSet, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict
from rasa_sdk.utils import call_potential_coroutine

from trd.answers.common import (  # noqa: F401  (re-exported for the forms)
    _PAYLOAD,
    MAX_TEXT_CHARS,
    SKIP_PHRASES,
    SKIPPED,
    is_skip,
    normalise_answer,
)


def attempts_for(tracker: Tracker, slot: str) -> int:
    """How many user messages have answered ``slot`` since the form started asking it."""
    count = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            count += 1
        elif kind == "slot" and event.get("name") == REQUESTED_SLOT and event.get("value") != slot:
            break
        elif kind == "active_loop":
            break
    return count


class BaseFormValidation(FormValidationAction, ABC):
    """Skip words, polite re-asks and a re-ask limit for every form."""

    #: slots that "skip" / "not sure" may leave unanswered
    skippable_slots: ClassVar[FrozenSet[str]] = frozenset()
    #: slots validated as free text when no ``validate_<slot>`` method exists
    free_text_slots: ClassVar[FrozenSet[str]] = frozenset()
    #: response sent before the form asks a slot again (None: just ask again)
    reask_response: ClassVar[Optional[str]] = None
    #: response sent when a slot is skipped (None: say nothing)
    skipped_response: ClassVar[Optional[str]] = None
    #: unusable answers to a skippable slot before it is skipped for the person
    max_attempts: ClassVar[int] = 3
    max_text_chars: ClassVar[int] = MAX_TEXT_CHARS

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    def skipped_value(self, slot: str) -> Any:
        """What a skipped slot holds (override for categorical slots, e.g. "unknown")."""
        return SKIPPED

    @staticmethod
    def is_skipped(value: Any) -> bool:
        return value == SKIPPED

    def clean_text(self, value: Any) -> Optional[str]:
        """A usable free-text answer, or None when it is empty or only a button payload."""
        if value is None:
            return None
        text = str(value).replace("\x00", "").strip()
        if not text or _PAYLOAD.match(text) or not re.search(r"\w", text):
            return None
        if len(text) > self.max_text_chars:
            text = text[: self.max_text_chars].rstrip()
        return text

    async def get_validation_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[EventType]:
        wanted = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        candidates: Dict[str, Any] = tracker.slots_to_validate()
        result: Dict[str, Any] = {}
        for slot, value in candidates.items():
            if slot not in wanted:
                continue
            validated = await self._validate_slot(slot, value, dispatcher, tracker, domain)
            result.update(validated)
            tracker.slots.update(validated)
        return [SlotSet(slot, value) for slot, value in result.items()]

    async def _validate_slot(
        self,
        slot: str,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        if slot in self.skippable_slots and is_skip(value):
            return self._skip(slot, dispatcher)

        said_before = len(dispatcher.messages)
        method = getattr(self, f"validate_{slot.replace('-', '_')}", None)
        if method is not None:
            output = await call_potential_coroutine(method(value, dispatcher, tracker, domain))
            validated: Dict[str, Any] = dict(output) if isinstance(output, dict) else {slot: value}
        elif slot in self.free_text_slots:
            validated = {slot: self.clean_text(value)}
        else:
            validated = {slot: value}

        if slot in validated and validated[slot] is None:
            if slot in self.skippable_slots and attempts_for(tracker, slot) >= self.max_attempts:
                return {**validated, **self._skip(slot, dispatcher)}
            if self.reask_response and len(dispatcher.messages) == said_before:
                dispatcher.utter_message(response=self.reask_response)
        return validated

    def _skip(self, slot: str, dispatcher: CollectingDispatcher) -> Dict[str, Any]:
        if self.skipped_response:
            dispatcher.utter_message(response=self.skipped_response)
        return {slot: self.skipped_value(slot)}
