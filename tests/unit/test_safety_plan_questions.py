"""A treatment question asked while making a safety plan is answered, not saved into the plan."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.safety_plan import FORM_NAME, SLOTS, ValidateSafetyPlanForm
from tests.support.trackers import make_tracker

DOMAIN: Dict[str, Any] = {
    "slots": {slot: {"type": "text", "mappings": [{"type": "from_text"}]} for slot in SLOTS},
    "forms": {FORM_NAME: {"required_slots": sorted(SLOTS)}},
    "responses": {
        "utter_safety_plan_reask": [{"text": "again?"}],
        "utter_safety_plan_skipped": [{"text": "ok"}],
    },
}


def _tracker(text: str, intent: str) -> Tracker:
    slots = {slot: None for slot in SLOTS}
    slots["requested_slot"] = "sp_professionals"
    slots["sp_professionals"] = text  # what the from_text mapping extracted
    message = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": []}
    events = [
        {"event": "user", "text": text, "parse_data": message},
        {"event": "slot", "name": "sp_professionals", "value": text},  # from_text extraction
    ]
    return make_tracker(
        "plan-1", slots, message, events, active_loop={"name": FORM_NAME, "validate": True, "rejected": False}
    )


def _run(tracker: Tracker) -> List[Dict[str, Any]]:
    return asyncio.run(ValidateSafetyPlanForm().run(CollectingDispatcher(), tracker, DOMAIN))


def test_a_treatment_question_is_handed_back_to_the_rules() -> None:
    events = _run(_tracker("what is TMS?", "treatment_info"))
    assert events == [SlotSet("sp_professionals", None), ActionExecutionRejected(FORM_NAME)]


def test_an_answer_that_names_treatments_stays_in_the_plan() -> None:
    events = _run(_tracker("my psychiatrist and my TMS clinic", "treatment_info"))
    assert SlotSet("sp_professionals", "my psychiatrist and my TMS clinic") in events
    assert not any(e.get("event") == "action_execution_rejected" for e in events)
