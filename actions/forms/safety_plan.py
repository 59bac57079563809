"""The safety plan: six short questions in the person's own words, saved and read back.

``safety_plan_form`` (domain.yml) asks the six parts one at a time; every part can be
skipped. ``validate_safety_plan_form`` cleans the answers (see :mod:`actions.forms.base`);
``action_save_safety_plan`` stores the plan through the repository and reads it back. If
the database is down the person still gets their plan on screen, with a note to keep a
copy, and the turn goes on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms.base import SKIPPED, BaseFormValidation
from actions.forms.intake_base import QUESTION_INTENTS
from trd.intake.answers import looks_like_question
from trd.store import get_repository
from trd.store.repository import Repository

logger = logging.getLogger(__name__)

FORM_NAME = "safety_plan_form"

# (slot, repository section key, heading in the read-back), in the order asked.
SECTIONS: Tuple[Tuple[str, str, str], ...] = (
    ("sp_warning_signs", "warning_signs", "Signs a hard time is starting"),
    ("sp_coping_steps", "coping_steps", "Things I can do on my own"),
    ("sp_people_places", "people_places", "People and places that help"),
    ("sp_who_to_call", "who_to_call", "People I can reach out to"),
    ("sp_professionals", "professionals", "Professionals and services"),
    ("sp_safer_surroundings", "safer_surroundings", "Making my surroundings safer"),
)
SLOTS = frozenset(slot for slot, _, _ in SECTIONS)

RepositoryFactory = Callable[[], Repository]


class ValidateSafetyPlanForm(BaseFormValidation):
    """Every part is free text and may be skipped."""

    skippable_slots = SLOTS
    free_text_slots = SLOTS
    reask_response = "utter_safety_plan_reask"
    skipped_response = "utter_safety_plan_skipped"

    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        slot = tracker.get_slot("requested_slot")
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        text = latest.get("text") or ""
        fresh = slot in tracker.slots_to_validate()  # this run reads a new message for the slot
        if fresh and slot in SLOTS and intent in QUESTION_INTENTS and looks_like_question(text):
            # "what is TMS?" is a question, not part of the plan: the rules answer it and
            # the form asks this part again. ("my psychiatrist and my TMS clinic" stays an answer.)
            # Only the run that reads the message rejects it: when the form comes back after
            # the answer, the same question is still the latest message and must not be
            # rejected again (that would end in the fallback's "Sorry, I didn't quite follow").
            return [SlotSet(slot, None), ActionExecutionRejected(FORM_NAME)]
        return await super().run(dispatcher, tracker, domain)


def plan_sections(tracker: Tracker) -> Dict[str, Optional[str]]:
    """The plan from the form's slots; skipped or missing parts are None."""
    sections: Dict[str, Optional[str]] = {}
    for slot, key, _ in SECTIONS:
        value = tracker.get_slot(slot)
        if value is None or value == SKIPPED or not str(value).strip():
            sections[key] = None
        else:
            sections[key] = str(value).strip()
    return sections


def read_back(sections: Dict[str, Optional[str]], saved: bool) -> str:
    lines = ["Here's your safety plan:"]
    for number, (_, key, heading) in enumerate(SECTIONS, start=1):
        lines.append(f"{number}. {heading}: {sections.get(key) or '(left blank for now)'}")
    if saved:
        lines.append("I've saved it, and it will be in your summary. You can change it any time.")
    else:
        lines.append(
            "I couldn't save it just now, sorry. Please copy it or take a screenshot so you have it."
        )
    return "\n".join(lines)


class ActionSaveSafetyPlan(Action):
    def __init__(self, repository_factory: RepositoryFactory = get_repository) -> None:
        self._repository_factory = repository_factory

    def name(self) -> str:
        return "action_save_safety_plan"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        sections = plan_sections(tracker)
        reset: List[EventType] = [SlotSet(slot, None) for slot, _, _ in SECTIONS]
        if not any(sections.values()):
            dispatcher.utter_message(
                text="We left every part blank, and that's okay. You can make the plan any time: "
                'just type "safety plan".'
            )
            return reset
        saved = await self._save(tracker.sender_id, sections)
        dispatcher.utter_message(text=read_back(sections, saved))
        return reset

    async def _save(self, conversation_id: str, sections: Dict[str, Optional[str]]) -> bool:
        try:
            repository = await asyncio.to_thread(self._repository_factory)
            await asyncio.to_thread(repository.save_safety_plan, conversation_id, sections)
            return True
        except Exception:
            logger.exception("could not save the safety plan of conversation %s", conversation_id)
            return False
