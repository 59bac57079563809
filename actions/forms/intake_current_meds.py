"""Part 2, continued: everything the person takes now (navigator.md section 10, for interactions).

Psychiatric or not, supplements included, several in one message ("sertraline 100 mg,
lisinopril 10 mg, St John's wort"), each with its dose when given. The medicines from part 2
the person is still taking are noted first (the question says so, and the read-back lists
them with the dose given there), so nobody types them twice. The list is then read back, one
line per medicine, like the trials; "yes" confirms it, and a change is read from the words
("also ibuprofen", "I stopped the lisinopril", "sertraline is 50 mg"): the list is changed and
read back again. A bare "no" asks what to change.

Answers are read by :mod:`trd.answers` (kinds ``current_medicines`` and ``current_confirm``);
the list is kept in the ``current_meds`` slot ([{drug, dose_mg, name_given, recognised}]),
which the record builder turns into ``current_medications``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.base import SKIPPED
from actions.forms.intake_base import IntakeFormValidation
from trd.answers.current import apply_edits, current_readback, noted_names
from trd.answers.medicines import default_lexicon
from trd.intake.parts import SLOT_CM_LEAD, SLOT_CM_READBACK, SLOT_CURRENT_MEDS, SLOT_TRIALS

FORM_NAME = "current_meds_form"
LIST = "cm_list"
CONFIRM = "cm_confirm"
UTTER_CHANGED = "utter_intake_cm_changed"
UTTER_WHICH = "utter_intake_cm_which"

LEAD_NOTHING_NOTED = "What do you take at the moment, for anything at all?"


def still_taking(slots: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The part 2 medicines the person said they still take, as current medicines."""
    trials = slots.get(SLOT_TRIALS)
    items: List[Dict[str, Any]] = []
    for trial in trials if isinstance(trials, list) else []:
        if not isinstance(trial, Mapping) or trial.get("still_taking") is not True:
            continue
        drug = trial.get("drug")
        if not isinstance(drug, str) or not drug or any(i["drug"] == drug for i in items):
            continue
        dose = trial.get("max_dose_mg")
        items.append(
            {
                "drug": drug,
                "dose_mg": dose if isinstance(dose, (int, float)) and not isinstance(dose, bool) else None,
                "name_given": str(trial.get("name_given") or drug),
                "recognised": default_lexicon().lookup(drug) is not None,
            }
        )
    return items


def question_lead(slots: Mapping[str, Any]) -> str:
    """The question's first sentence: what was noted from part 2, if anything."""
    noted = still_taking(slots)
    if not noted:
        return LEAD_NOTHING_NOTED
    return (
        f"You said you're still taking {noted_names(noted)}, so I've noted that. "
        "What else do you take at the moment, for anything at all?"
    )


def _items(value: Any) -> List[Dict[str, Any]]:
    return [dict(i) for i in value if isinstance(i, Mapping)] if isinstance(value, list) else []


class ValidateCurrentMedsForm(IntakeFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    def required_for(self, slots: Mapping[str, Any]) -> List[str]:
        if slots.get(LIST) is None:
            return [LIST]
        if _items(slots.get(SLOT_CURRENT_MEDS)):
            return [LIST, CONFIRM]
        return [LIST]  # nothing taken now (or not sure, with nothing noted): nothing to read back

    def after_answer(
        self,
        slot: str,
        value: Any,
        slots: Mapping[str, Any],
        tracker: Tracker,
        dispatcher: CollectingDispatcher,
    ) -> Dict[str, Any]:
        if slot == LIST:
            return self._listed(value, slots)
        if slot == CONFIRM:
            return self._confirmed(value, slots, dispatcher)
        return {}

    def _listed(self, value: Any, slots: Mapping[str, Any]) -> Dict[str, Any]:
        noted = still_taking(slots)
        if isinstance(value, Mapping) and isinstance(value.get("medicines"), list):
            edits = [{"op": "set", **item} for item in value["medicines"] if isinstance(item, Mapping)]
            items: Optional[List[Dict[str, Any]]] = apply_edits(noted, edits)
        elif value == SKIPPED:
            items = noted or None  # not sure: what part 2 said is still known
        else:
            items = noted
        return {
            SLOT_CURRENT_MEDS: items,
            SLOT_CM_READBACK: current_readback(items) if items else None,
            CONFIRM: None,
        }

    def _confirmed(
        self, value: Any, slots: Mapping[str, Any], dispatcher: CollectingDispatcher
    ) -> Dict[str, Any]:
        if isinstance(value, Mapping) and isinstance(value.get("edits"), list):
            items = apply_edits(_items(slots.get(SLOT_CURRENT_MEDS)), value["edits"])
            dispatcher.utter_message(response=UTTER_CHANGED)
            if not items:
                return {SLOT_CURRENT_MEDS: [], SLOT_CM_READBACK: None, CONFIRM: True}
            return {SLOT_CURRENT_MEDS: items, SLOT_CM_READBACK: current_readback(items), CONFIRM: None}
        if isinstance(value, Mapping) and value.get("which"):
            dispatcher.utter_message(response=UTTER_WHICH)
            return {CONFIRM: None}
        return {}  # confirmed, or left as read ("not sure")


def part_setup(slots: Mapping[str, Any]) -> Dict[str, Any]:
    """Slot values the part's question needs, set when the part is announced (or resumed)."""
    return {SLOT_CM_LEAD: question_lead(slots)}
