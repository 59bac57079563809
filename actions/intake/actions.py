"""The intake's orchestrator and its digressions (rules: data/rules/intake.yml).

``action_intake_next`` decides which part runs: it marks the part whose form just
finished (or whose questions are all answered) as done, announces the next part
("Part 2 of 5: medicines you've tried") and sets ``intake_part``; a rule then activates
that part's form. It is also how the intake starts, resumes after a pause, a crisis
or a return visit, and goes back into an earlier part.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Callable, Dict, List, Mapping, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.forms import intake_current_meds
from actions.forms.intake_base import NAV_BACK, IntakeFormValidation
from actions.forms.intake_cautions import ValidateCautionsForm
from actions.forms.intake_current_meds import ValidateCurrentMedsForm
from actions.forms.intake_episode import ValidateEpisodeForm
from actions.forms.intake_phq9 import ValidatePhq9Form
from actions.forms.intake_screens import ValidateScreensForm
from actions.forms.intake_therapy import ValidateTherapyForm
from trd.intake.parts import (
    AGGREGATE_SLOTS,
    CURRENT_MEDS_SLOTS,
    DONE,
    INTAKE_FORMS,
    MEDICATIONS_FORM,
    MEDICATIONS_V2_SLOTS,
    PART_ORDER,
    SLOT_CRISIS_ACTIVE,
    SLOT_INTERRUPTED_LOOP,
    SLOT_NAV,
    SLOT_PART,
    SLOT_PART_LABEL,
    SLOT_PARTS_DONE,
    SLOT_STARTED,
    SLOT_TRIALS,
    SLOT_UNDO,
    form_of,
    next_part,
)
from trd.intake.questions import default_questions, explain
from trd.intake.store import RepositoryFactory, crisis_slot_changes, save_record
from trd.store import get_repository

logger = logging.getLogger(__name__)

# The validators of the parts this package owns, by part (their required_for() says when a part is complete).
_VALIDATORS: Dict[str, Callable[[], IntakeFormValidation]] = {
    "phq9": ValidatePhq9Form,
    "episode": ValidateEpisodeForm,
    "current_meds": ValidateCurrentMedsForm,
    "therapy": ValidateTherapyForm,
    "screens": ValidateScreensForm,
    "cautions": ValidateCautionsForm,
}


# What a part's questions need before its form asks them (slots the wording names).
_PART_SETUP: Dict[str, Callable[[Mapping[str, Any]], Dict[str, Any]]] = {
    "current_meds": intake_current_meds.part_setup,
}


def part_complete(part: str, slots: Mapping[str, Any]) -> bool:
    """Every question of one of our parts is answered (part 2 is complete only when its form says so)."""
    factory = _VALIDATORS.get(part)
    if factory is None:
        return False
    validator = factory()
    return all(slots.get(slot) is not None for slot in validator.required_for(slots))


def _active_loop(tracker: Tracker) -> Optional[str]:
    name = (tracker.active_loop or {}).get("name")
    return str(name) if name else None


def _done_list(slots: Mapping[str, Any]) -> List[str]:
    value = slots.get(SLOT_PARTS_DONE)
    return [p for p in PART_ORDER if isinstance(value, list) and p in value]


def medications_slots(domain: DomainDict) -> List[str]:
    """Part 2's slots as the domain declares them: its required slots and any slot mapped to its form."""
    names: List[str] = [SLOT_TRIALS]
    form = (domain.get("forms") or {}).get(MEDICATIONS_FORM) or {}
    required = form.get("required_slots") if isinstance(form, dict) else None
    if isinstance(required, list):
        names += [str(s) for s in required]
    for slot, spec in (domain.get("slots") or {}).items():
        for mapping in (spec or {}).get("mappings") or []:
            for condition in (mapping or {}).get("conditions") or []:
                if (condition or {}).get("active_loop") == MEDICATIONS_FORM:
                    names.append(str(slot))
    return list(dict.fromkeys(names))


def _deactivate(tracker: Tracker) -> List[EventType]:
    """Stop an intake form that is asking a question (its answers stay in their slots)."""
    if _active_loop(tracker) in INTAKE_FORMS:
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
    return []


class _IntakeAction(Action, ABC):
    """An intake action that saves the record (abstract: the action server registers only concrete ones)."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    def __init__(self, repository_factory: Optional[RepositoryFactory] = None) -> None:
        self._repository_factory: RepositoryFactory = repository_factory or get_repository

    async def _save(self, tracker: Tracker, changes: Dict[str, Any], replace: bool = False) -> Dict[str, Any]:
        """Save the record with ``changes`` applied; returns the changes plus the crisis history.

        ``replace``: the confirmed "start over" (every other save keeps known answers)."""
        merged = dict(tracker.slots)
        merged.update(changes)
        crises = crisis_slot_changes(tracker.events or [], merged)
        merged.update(crises)
        await save_record(tracker.sender_id, merged, self._repository_factory, replace=replace)
        return {**changes, **crises}


class ActionIntakeNext(_IntakeAction):
    """Start, continue or resume the intake at the right part."""

    def name(self) -> str:
        return "action_intake_next"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        slots = tracker.slots
        part = slots.get(SLOT_PART)
        done = _done_list(slots)
        nav = slots.get(SLOT_NAV)
        started = slots.get(SLOT_STARTED) is True
        changes: Dict[str, Any] = {}
        if nav is not None:
            changes[SLOT_NAV] = None
        just_finished = (
            nav != NAV_BACK
            and part in PART_ORDER
            and tracker.latest_action_name == form_of(part)
            and _active_loop(tracker) is None
        )
        if part in PART_ORDER and part not in done and (just_finished or part_complete(part, slots)):
            done.append(part)
        if slots.get(SLOT_INTERRUPTED_LOOP) in INTAKE_FORMS and not slots.get(SLOT_CRISIS_ACTIVE):
            changes[SLOT_INTERRUPTED_LOOP] = None  # we resume it here; a stale value must not reopen it later
        upcoming = next_part(done)
        changes[SLOT_PARTS_DONE] = [p for p in PART_ORDER if p in done]
        changes[SLOT_STARTED] = True
        if upcoming is None:
            dispatcher.utter_message(
                response="utter_intake_already_done" if part == DONE else "utter_intake_done"
            )
            changes.update({SLOT_PART: DONE, SLOT_PART_LABEL: None, SLOT_UNDO: []})
        else:
            announcement = default_questions().part(upcoming)
            if not started:
                dispatcher.utter_message(response="utter_intake_intro")
            elif upcoming == part and nav != NAV_BACK and _active_loop(tracker) != form_of(upcoming):
                dispatcher.utter_message(response="utter_intake_resume")
            dispatcher.utter_message(response=announcement.response)
            changes.update({SLOT_PART: upcoming, SLOT_PART_LABEL: announcement.label})
            setup = _PART_SETUP.get(upcoming)
            if setup is not None:
                changes.update(setup(slots))
        changes = await self._save(tracker, changes)
        return [SlotSet(name, value) for name, value in changes.items()]


class ActionIntakePause(_IntakeAction):
    """ "Pause" (or goodbye mid-intake): stop asking, keep every answer, say how to resume."""

    def name(self) -> str:
        return "action_intake_pause"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events = _deactivate(tracker)
        part = tracker.get_slot(SLOT_PART)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if part == DONE:
            dispatcher.utter_message(
                response="utter_goodbye" if intent == "goodbye" else "utter_intake_already_done"
            )
            return events
        if tracker.get_slot(SLOT_STARTED) is not True:
            dispatcher.utter_message(
                response="utter_goodbye" if intent == "goodbye" else "utter_intake_not_started"
            )
            return events
        changes = await self._save(tracker, {})
        dispatcher.utter_message(response="utter_intake_paused")
        return events + [SlotSet(name, value) for name, value in changes.items()]


class ActionIntakeWelcomeBack(Action):
    """A greeting once an intake exists: offer to continue where the person left off."""

    def name(self) -> str:
        return "action_intake_welcome_back"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        part = tracker.get_slot(SLOT_PART)
        if _active_loop(tracker) in INTAKE_FORMS:
            # the form asks its question again right after this
            dispatcher.utter_message(response="utter_intake_welcome_back_in_form")
            return []
        if part == DONE or part not in PART_ORDER:
            dispatcher.utter_message(response="utter_greet")
            if part == DONE:
                dispatcher.utter_message(response="utter_intake_already_done")
            return []
        label = default_questions().part(str(part)).label
        dispatcher.utter_message(response="utter_intake_welcome_back", intake_part_label=label)
        return [SlotSet(SLOT_PART_LABEL, label)]


class ActionIntakeConfirmStartOver(Action):
    """ "Start over": pause the form and ask before clearing anything."""

    def name(self) -> str:
        return "action_intake_confirm_start_over"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if tracker.get_slot(SLOT_STARTED) is True:
            dispatcher.utter_message(response="utter_intake_confirm_start_over")
        else:
            dispatcher.utter_message(response="utter_intake_start_over_nothing")
        return _deactivate(tracker)


class ActionIntakeStartOver(_IntakeAction):
    """Confirmed: clear every answer of the intake (the crisis history stays) and save that."""

    def name(self) -> str:
        return "action_intake_start_over"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events = _deactivate(tracker)
        questions = default_questions()
        # the gentle questions after a crisis check belong to the safety path: they stay,
        # as the crisis history does
        asked = [q.slot for q in questions.questions.values() if q.form not in questions.other_forms]
        names = (
            asked
            + list(AGGREGATE_SLOTS)
            + list(MEDICATIONS_V2_SLOTS)
            + list(CURRENT_MEDS_SLOTS)
            + medications_slots(domain)
        )
        changes: Dict[str, Any] = {name: None for name in names}
        changes.update(
            {
                SLOT_PART: None,
                SLOT_PARTS_DONE: [],
                SLOT_UNDO: [],
                SLOT_NAV: None,
                SLOT_PART_LABEL: None,
                SLOT_STARTED: None,
            }
        )
        changes = await self._save(tracker, changes, replace=True)
        dispatcher.utter_message(response="utter_intake_cleared")
        return events + [SlotSet(name, value) for name, value in changes.items()]


class ActionIntakeGoBack(Action):
    """ "Go back" while no form is asking (after a pause): reopen the last question answered."""

    def name(self) -> str:
        return "action_intake_go_back"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        value = tracker.get_slot(SLOT_UNDO)
        undo = [dict(e) for e in value if isinstance(e, dict)] if isinstance(value, list) else []
        if not undo:
            dispatcher.utter_message(response="utter_intake_first_question")
            return []
        entry = undo.pop()
        raw = entry.get("slots")
        restored: Dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
        changes: Dict[str, Any] = dict(restored)
        changes[SLOT_UNDO] = undo
        part = entry.get("part")
        if isinstance(part, str) and part in PART_ORDER:
            changes[SLOT_PART] = part
            changes[SLOT_PARTS_DONE] = [p for p in _done_list(tracker.slots) if p != part]
            changes[SLOT_NAV] = NAV_BACK
        dispatcher.utter_message(response="utter_intake_went_back")
        return [SlotSet(name, value) for name, value in changes.items()]


class ActionIntakeExplain(Action):
    """A question asked in the middle of the intake ("what is TMS?"): a short plain answer."""

    def name(self) -> str:
        return "action_intake_explain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = str((tracker.latest_message or {}).get("text") or "")
        explanation = explain(text)
        if explanation:
            dispatcher.utter_message(text=explanation)
        else:
            dispatcher.utter_message(response="utter_intake_explain_unknown")
        return []
