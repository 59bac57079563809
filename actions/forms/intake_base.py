"""The validation base of the intake's forms (parts 1-5), built on :mod:`actions.forms.base`.

On top of the base's skip handling it gives every intake form:

* answers read by the question's kind (data/knowledge/intake_questions.yml): buttons,
  numbers and words; "I don't know", "skip", "not sure" store unknown (null in the
  record) and move on; an unreadable answer is asked again with a hint, and skipped
  after ``max_attempts`` tries;
* "go back" re-asks the previous question, across forms too (an undo stack in the
  ``intake_undo`` slot remembers what each answer changed);
* "skip this part" leaves the rest of the form unknown;
* digressions: a message that is not an answer but a question ("what is TMS?"), "pause",
  "start over", "continue", a greeting... rejects the form so the rules in
  data/rules/intake.yml answer it; the form then asks the same question again. A message
  that reads as an answer is an answer, whatever the classifier thought (except a
  question naming a treatment: "what is TMS?" is a question);
* answers given before a crisis interrupted the form are checked again when the form
  resumes (values that were never validated are asked again);
* the intake record is saved after every answer (asyncio.to_thread).

Part 2 (``medications_form``) may subclass :class:`IntakeFormValidation` to get the same
behaviour: it needs questions for its slots in intake_questions.yml, or overrides
:meth:`IntakeFormValidation.parse`.
"""

from __future__ import annotations

import logging
import re
from abc import ABC
from typing import Any, Dict, List, Mapping, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.forms.base import SKIPPED, BaseFormValidation, attempts_for, normalise_answer
from trd import answers as reading
from trd.intake import answers
from trd.intake.parts import (
    FORM_PARTS,
    SLOT_CRISES,
    SLOT_CRISIS_ACTIVE,
    SLOT_INTERRUPTED_LOOP,
    SLOT_NAV,
    SLOT_PART,
    SLOT_PARTS_DONE,
    SLOT_RISK_CATEGORY,
    SLOT_UNDO,
)
from trd.intake.questions import Question, default_questions, explain
from trd.intake.store import RepositoryFactory, crisis_slot_changes, save_record
from trd.store import get_repository

logger = logging.getLogger(__name__)

NAV_BACK = "back"
# "go back" never undoes the safety path's slots or the form's own bookkeeping.
NOT_UNDONE = frozenset(
    {REQUESTED_SLOT, SLOT_UNDO, SLOT_CRISES, SLOT_CRISIS_ACTIVE, SLOT_RISK_CATEGORY, SLOT_INTERRUPTED_LOOP}
)
MAX_UNDO = 60
# Intents a non-answer is handed to the rules for (data/rules/intake.yml, data/rules/basics.yml),
# each with the words such a message contains: a classifier's guess alone never pauses or
# restarts the intake ("sometimes" is a vague answer, not "pause").
DIGRESSION_WORDS: Dict[str, re.Pattern[str]] = {
    intent: re.compile(pattern)
    for intent, pattern in {
        "pause": r"\b(pause|stop|break|later|tomorrow|another time|enough|come back|brb|save|tired|finish)\b",
        "start_over": r"\b(start|restart|reset|over|again|clear|wipe|redo|scratch|beginning|fresh|top)\b",
        "resume": r"\b(continue|resume|carry on|keep going|go on|pick( it)? up|where were we|back to)\b",
        "start_intake": r"\b(start|begin|ready|go through|questions|intake|history|ask me)\b",
        "greet": r"\b(hi|hello|hey|hiya|howdy|yo|morning|afternoon|evening|im back|back again)\b",
        "goodbye": r"\b(bye|goodbye|good night|night|cya|ttyl|see you|later|got to go|gotta go|have to go)\b",
        "what_can_you_do": r"\b(what can you|what do you|how does this|what is this|help)\b",
        "bot_challenge": r"\b(bot|robot|human|person|real|ai|machine)\b",
        "thank": r"\b(thanks?|thank you|thx|ty|cheers|appreciate)\b",
        "treatment_question": r".",  # and it must look like a question (checked below)
        "treatment_info": r".",  # the retrieval intent (data/rules/treatment_info.yml): a question too
        "share_feelings": r".",  # "I feel so hopeless" instead of an answer: heard first, then asked again
        "delete_my_data": r"\b(delete|erase|remove|forget|wipe|forgotten|get rid)\b",
    }.items()
}
DIGRESSION_INTENTS = frozenset(DIGRESSION_WORDS)
QUESTION_INTENTS = frozenset({"treatment_question", "treatment_info"})
DIGRESSION_CONFIDENCE = 0.5
COMMAND_CONFIDENCE = 0.8
_SKIP_PART_WORDS = re.compile(r"\b(part|section|rest|these|them|all|whole|next)\b")


def latest_intent(tracker: Tracker) -> Tuple[Optional[str], float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    name = intent.get("name")
    try:
        confidence = float(intent.get("confidence") or 0.0)
    except (TypeError, ValueError):
        confidence = 0.0
    return (str(name) if name else None), confidence


def canonical(kind: str, value: Any) -> bool:
    """Whether ``value`` is a validated answer of this kind (not raw text)."""
    if value == SKIPPED:
        return True
    if kind == "phq9":
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3
    if kind == "yes_no":
        return isinstance(value, bool)
    if kind in ("months", "count"):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "therapy_type":
        return isinstance(value, dict) and value.get("type") in answers.THERAPY_TYPES
    if kind == "completed":
        return isinstance(value, dict) and value.get("completed") in (True, False, None)
    if kind == "treatments":
        return isinstance(value, list) and all(v in answers.OTHER_TREATMENTS for v in value)
    if kind == "outcome":
        return isinstance(value, str) and value in answers.OUTCOMES
    return kind in reading.kinds() and reading.is_canonical(kind, value)


def to_slot_value(value: Any) -> Any:
    """A parser's result as a JSON-friendly slot value."""
    if value is answers.UNKNOWN:
        return SKIPPED
    if isinstance(value, answers.TherapyType):
        return {"type": value.type, "description": value.description}
    if isinstance(value, answers.Completion):
        return {"completed": value.completed, "ongoing": value.ongoing}
    return value


class IntakeFormValidation(BaseFormValidation, ABC):
    """Shared behaviour of the intake's forms; subclasses set ``name()`` and the hooks."""

    skipped_response = "utter_intake_skipped"
    max_attempts = 3
    #: the "go back" stack this form's answers go on (a form outside the intake's parts keeps its own)
    undo_slot: str = SLOT_UNDO

    def __init__(self, repository_factory: Optional[RepositoryFactory] = None) -> None:
        self._repository_factory: RepositoryFactory = repository_factory or get_repository

    # --- hooks for subclasses -----------------------------------------------------------

    def question(self, slot: str) -> Optional[Question]:
        return default_questions().questions.get(slot)

    def own_slots(self) -> List[str]:
        """Every slot this form may ask, in order."""
        return default_questions().form_slots(self.form_name())

    def required_for(self, slots: Mapping[str, Any]) -> List[str]:
        """The questions to ask given the answers so far (dynamic forms override)."""
        return self.own_slots()

    def after_answer(
        self,
        slot: str,
        value: Any,
        slots: Mapping[str, Any],
        tracker: Tracker,
        dispatcher: CollectingDispatcher,
    ) -> Dict[str, Any]:
        """Further slot changes an answer causes (loops, derived values). ``slots`` already holds it."""
        return {}

    def parse(
        self,
        slot: str,
        text: str,
        intent: Optional[str],
        confidence: float,
        message: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        """The answer read from ``text``; ``message`` is the whole latest message (its entities)."""
        question = self.question(slot)
        if question is None:
            return answers.INVALID
        return reading.read(question.kind, text, intent=intent, confidence=confidence, message=message).value

    def hint_response(self, slot: str) -> Optional[str]:
        question = self.question(slot)
        return f"utter_intake_hint_{question.kind}" if question else None

    def is_canonical(self, slot: str, value: Any) -> bool:
        question = self.question(slot)
        return question is not None and canonical(question.kind, value)

    # --- rasa_sdk entry points --------------------------------------------------------------

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        return self.required_for(tracker.slots)

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[EventType]:
        if tracker.slots.get(SLOT_NAV) == NAV_BACK:
            return SlotSet(REQUESTED_SLOT, None)  # this form ends; the orchestrator reopens an earlier one
        return await super().next_requested_slot(dispatcher, tracker, domain)

    async def get_validation_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[EventType]:
        candidates: Dict[str, Any] = tracker.slots_to_validate()
        requested = tracker.get_slot(REQUESTED_SLOT)
        own = set(self.own_slots())
        if isinstance(requested, str) and requested in own and requested in candidates:
            return await self._fresh_answer(requested, candidates[requested], dispatcher, tracker)
        # Form (re)activation: answers given earlier are kept if they were validated.
        changes: Dict[str, Any] = {}
        for slot, value in candidates.items():
            if slot in own:
                changes[slot] = value if value is None or self.is_canonical(slot, value) else None
        tracker.slots.update(changes)
        return [SlotSet(slot, value) for slot, value in changes.items()]

    # --- one answer -------------------------------------------------------------------------

    async def _fresh_answer(
        self, slot: str, raw: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[EventType]:
        text = self.clean_text(raw) or ""
        intent, confidence = latest_intent(tracker)
        message: Mapping[str, Any] = dict(tracker.latest_message or {})
        if answers.is_go_back(text) or (
            intent == "go_back"
            and confidence >= COMMAND_CONFIDENCE
            and len(text.split()) <= 8
            and self.parse(slot, text, intent, confidence, message) is answers.INVALID
        ):
            return self._go_back(slot, dispatcher, tracker)
        if answers.is_skip_part(text) or (
            intent == "skip_part"
            and confidence >= COMMAND_CONFIDENCE
            and _SKIP_PART_WORDS.search(text.lower())
        ):
            return await self._skip_rest(slot, dispatcher, tracker)

        if answers.looks_like_question(text) and (intent in QUESTION_INTENTS or explain(text)):
            # "what is TMS?" names a treatment but is a question, not an answer
            return await self._not_an_answer(slot, text, intent, confidence, dispatcher, tracker)
        parsed = self.parse(slot, text, intent, confidence, message) if text else answers.INVALID
        if parsed is answers.INVALID and intent == "dont_know" and confidence >= COMMAND_CONFIDENCE:
            parsed = answers.UNKNOWN
        if parsed is answers.INVALID:
            return await self._not_an_answer(slot, text, intent, confidence, dispatcher, tracker)
        if parsed is answers.UNKNOWN and self.skipped_response:
            dispatcher.utter_message(response=self.skipped_response)
        return await self._answer(slot, to_slot_value(parsed), dispatcher, tracker)

    async def _not_an_answer(
        self,
        slot: str,
        text: str,
        intent: Optional[str],
        confidence: float,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
    ) -> List[EventType]:
        question_like = answers.looks_like_question(text)
        words = DIGRESSION_WORDS.get(intent or "")
        if (
            words is not None
            and confidence >= DIGRESSION_CONFIDENCE
            and words.search(normalise_answer(text))
            and (intent not in QUESTION_INTENTS or question_like)
        ):
            # Not an answer: the rules answer it, then the form asks this question again.
            return [SlotSet(slot, None), ActionExecutionRejected(self.form_name())]
        if question_like:
            explanation = explain(text)
            if explanation:
                dispatcher.utter_message(text=explanation)
                return [SlotSet(slot, None)]
        if attempts_for(tracker, slot) >= self.max_attempts:
            if self.skipped_response:
                dispatcher.utter_message(response=self.skipped_response)
            return await self._answer(slot, SKIPPED, dispatcher, tracker)
        hint = self.hint_response(slot)
        if hint:
            dispatcher.utter_message(response=hint)
        return [SlotSet(slot, None)]

    async def _answer(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[EventType]:
        merged = dict(tracker.slots)
        merged[slot] = value
        extra = self.after_answer(slot, value, merged, tracker, dispatcher)
        return await self._commit({slot: value, **extra}, slot, tracker)

    async def _commit(self, changes: Dict[str, Any], slot: str, tracker: Tracker) -> List[EventType]:
        """Store an answer and what it caused, remember how to undo it, save the record."""
        before = dict(tracker.slots)
        before[slot] = None  # the question was unanswered when it was asked
        changes = dict(changes)
        changes.setdefault(slot, None)
        undo = self._undo_stack(tracker)
        undo.append(
            {
                "form": self.form_name(),
                "part": FORM_PARTS.get(self.form_name()),
                "slots": {
                    name: before.get(name)
                    for name in changes
                    if name not in NOT_UNDONE and name != self.undo_slot
                },
            }
        )
        changes[self.undo_slot] = undo[-MAX_UNDO:]
        merged = dict(tracker.slots)
        merged.update(changes)
        crises = crisis_slot_changes(tracker.events or [], merged)
        changes.update(crises)
        merged.update(crises)
        tracker.slots.update(changes)
        await save_record(tracker.sender_id, merged, self._repository_factory)
        return [SlotSet(name, value) for name, value in changes.items()]

    # --- navigation -------------------------------------------------------------------------

    def _undo_stack(self, tracker: Tracker) -> List[Dict[str, Any]]:
        value = tracker.get_slot(self.undo_slot)
        return [dict(e) for e in value if isinstance(e, dict)] if isinstance(value, list) else []

    def _go_back(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        undo = self._undo_stack(tracker)
        changes: Dict[str, Any] = {slot: None}
        if not undo:
            dispatcher.utter_message(response="utter_intake_first_question")
            return [SlotSet(slot, None)]
        entry = undo.pop()
        raw = entry.get("slots")
        restored: Dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
        changes.update(restored)
        changes[slot] = None if slot not in restored else restored[slot]
        changes[self.undo_slot] = undo
        part = entry.get("part")
        if entry.get("form") != self.form_name() and isinstance(part, str):
            # The previous question belongs to an earlier form: end this one, reopen that.
            done = tracker.get_slot(SLOT_PARTS_DONE)
            changes[SLOT_PARTS_DONE] = [p for p in done if p != part] if isinstance(done, list) else []
            changes[SLOT_PART] = part
            changes[SLOT_NAV] = NAV_BACK
            changes[slot] = None
            dispatcher.utter_message(response="utter_intake_back_part")
        else:
            dispatcher.utter_message(response="utter_intake_went_back")
        tracker.slots.update(changes)
        return [SlotSet(name, value) for name, value in changes.items()]

    async def _skip_rest(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[EventType]:
        """Leave every remaining question of this form unknown ("skip this part")."""
        dispatcher.utter_message(response="utter_intake_part_skipped")
        merged = dict(tracker.slots)
        merged[slot] = None
        changes: Dict[str, Any] = {}
        for _ in range(200):  # every loop in a form ends when its "another?" question is unknown
            missing = next((s for s in self.required_for(merged) if merged.get(s) is None), None)
            if missing is None:
                break
            step = {missing: SKIPPED}
            merged.update(step)
            step.update(self.after_answer(missing, SKIPPED, merged, tracker, dispatcher))
            merged.update(step)
            changes.update(step)
        return await self._commit(changes, slot, tracker)
