"""A few gentle questions about suicidal thoughts, offered once, after the crisis check.

When someone who raised a crisis for themselves (a message, PHQ-9 item 9, "help now") answers
the check with "I'm safe", ``action_close_crisis`` sets ``sh_due`` and the rule in
data/rules/safety_followup.yml runs ``suicide_history_form`` before the usual "go on or stop
for today?". The crisis resources came first and stay in the chat; this form never runs before
them and is offered only once per conversation.

It asks first ("Okay" / "Not now"): "not now", "skip" or "not sure" ends it at once. Then:
whether the thoughts are more like wishing not to be here or have gone further (passive /
active, or none lately); only with thoughts, a plan or intent and things within reach; then a
past attempt and a stay in hospital. Short acknowledgements between answers; our own wording,
not the C-SSRS (data/knowledge/intake_questions.yml, ``other_forms``). Any risk typed here
still takes the crisis turn (SafetyPolicy); possible risk is not asked about again inside
this form, whose questions are about exactly that.

Answers go to the intake record's ``suicide_history`` (saved after every answer). The form
keeps its own "go back" stack, so going back in the intake never undoes these answers, and
"start over" leaves them (they are part of the crisis history).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms.intake_base import IntakeFormValidation
from trd.intake.parts import SLOT_SH_DUE, SLOT_SH_UNDO, SUICIDE_HISTORY_FORM

FORM_NAME = SUICIDE_HISTORY_FORM
OFFER = "sh_offer"
THOUGHTS = "sh_thoughts"
PLAN = "sh_plan"
MEANS = "sh_means"
ATTEMPT = "sh_attempt"
HOSPITAL = "sh_hospital"
WITH_THOUGHTS = ("passive", "active")


class ValidateSuicideHistoryForm(IntakeFormValidation):
    undo_slot = SLOT_SH_UNDO

    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    def required_for(self, slots: Mapping[str, Any]) -> List[str]:
        if slots.get(OFFER) is not True:
            return [OFFER]
        required = [OFFER, THOUGHTS]
        if slots.get(THOUGHTS) in WITH_THOUGHTS:
            required += [PLAN, MEANS]
        return required + [ATTEMPT, HOSPITAL]

    def after_answer(
        self,
        slot: str,
        value: Any,
        slots: Mapping[str, Any],
        tracker: Tracker,
        dispatcher: CollectingDispatcher,
    ) -> Dict[str, Any]:
        if slot == OFFER and value is not True:
            dispatcher.utter_message(response="utter_intake_sh_declined")
            return {}
        if slot == THOUGHTS and value in WITH_THOUGHTS:
            dispatcher.utter_message(response="utter_intake_sh_heard")
        elif slot == ATTEMPT and value is True:
            dispatcher.utter_message(response="utter_intake_sh_attempt_heard")
        if all(slots.get(s) is not None for s in self.required_for(slots)):
            dispatcher.utter_message(response="utter_intake_sh_thanks")
        return {}

    async def get_validation_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        if tracker.get_slot(SLOT_SH_DUE) is not None:
            # the rule that opened this form has run: the flag must not stay in every later state
            events.append(SlotSet(SLOT_SH_DUE, None))
        return events
