"""Part 1: the PHQ-9 as published (Kroenke, Spitzer & Williams 2001), one item at a time.

A non-zero answer to item 9 ("thoughts that you would be better off dead or of hurting
yourself") enters the safety path at once: this form ends with ``crisis_active`` set,
and the rule in data/rules/intake.yml sends the crisis resources and check
(``utter_crisis``, ``utter_crisis_check``, ``action_record_crisis``). The intake goes on
only after the person says they are safe and want to go on.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from actions.forms.intake_base import IntakeFormValidation
from trd.intake.parts import SLOT_CRISIS_ACTIVE, SLOT_RISK_CATEGORY

FORM_NAME = "phq9_form"
ITEM9 = "phq9_q9"
ITEM9_CATEGORY = "suicidal_ideation"


def crisis_checked_since_item9_asked(tracker: Tracker) -> bool:
    """True when a crisis was already opened after item 9 was first asked (no second check)."""
    asked = False
    for event in tracker.events or []:
        if event.get("event") != "slot":
            continue
        if event.get("name") == REQUESTED_SLOT and event.get("value") == ITEM9:
            asked = True
        elif asked and event.get("name") == SLOT_CRISIS_ACTIVE and event.get("value") is True:
            return True
    return False


class ValidatePhq9Form(IntakeFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    def after_answer(
        self,
        slot: str,
        value: Any,
        slots: Mapping[str, Any],
        tracker: Tracker,
        dispatcher: CollectingDispatcher,
    ) -> Dict[str, Any]:
        if slot != ITEM9 or isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            return {}
        if crisis_checked_since_item9_asked(tracker):
            return {}
        dispatcher.utter_message(response="utter_intake_item9")
        # End the form now (even if an earlier item is still open): the rules take the crisis turn.
        return {SLOT_CRISIS_ACTIVE: True, SLOT_RISK_CATEGORY: ITEM9_CATEGORY, REQUESTED_SLOT: None}
