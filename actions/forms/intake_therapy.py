"""Part 3: psychotherapy (several, one at a time) and the other treatments (TMS, ECT, ...).

Psychotherapy: "have you had talking therapy?"; if yes, its type, about how many
sessions and whether it was finished, then "another kind as well?" which loops. Each
finished entry is appended to the ``psychotherapy`` slot (schema items).

Other treatments: one question names the ones tried ("TMS and ketamine", "none", "not
sure"); for each named one, whether the course was completed, about how many sessions (TMS,
ECT, ketamine and esketamine: navigator.md section 10 counts courses by sessions) and how
it worked. Entries
are appended to ``other_treatments``; ``ot_current`` is the one being asked about.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.intake_base import IntakeFormValidation
from trd.intake.answers import OTHER_TREATMENT_LABELS
from trd.intake.parts import (
    SLOT_OT_CURRENT,
    SLOT_OT_CURRENT_LABEL,
    SLOT_OTHER_TREATMENTS,
    SLOT_PSYCHOTHERAPY,
)
from trd.intake.record import SESSION_TREATMENTS, other_treatment_entry, pending_treatments, therapy_entry

FORM_NAME = "therapy_form"
THERAPY_ENTRY_SLOTS = ("therapy_type", "therapy_sessions", "therapy_completed", "therapy_more")
OT_ENTRY_SLOTS = ("ot_completed", "ot_sessions", "ot_outcome")


def _list(value: Any) -> List[Any]:
    return list(value) if isinstance(value, list) else []


def _current(kind: Optional[str]) -> Dict[str, Any]:
    return {SLOT_OT_CURRENT: kind, SLOT_OT_CURRENT_LABEL: OTHER_TREATMENT_LABELS.get(kind or "")}


class ValidateTherapyForm(IntakeFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    def required_for(self, slots: Mapping[str, Any]) -> List[str]:
        required = ["therapy_any"]
        if slots.get("therapy_any") is True:
            required += list(THERAPY_ENTRY_SLOTS)
        required.append("ot_tried")
        current = slots.get(SLOT_OT_CURRENT)
        if current:
            required += [s for s in OT_ENTRY_SLOTS if s != "ot_sessions" or current in SESSION_TREATMENTS]
        return required

    def after_answer(
        self,
        slot: str,
        value: Any,
        slots: Mapping[str, Any],
        tracker: Tracker,
        dispatcher: CollectingDispatcher,
    ) -> Dict[str, Any]:
        if slot == "therapy_more":
            entry = therapy_entry(
                slots.get("therapy_type"), slots.get("therapy_sessions"), slots.get("therapy_completed")
            )
            changes: Dict[str, Any] = {SLOT_PSYCHOTHERAPY: _list(slots.get(SLOT_PSYCHOTHERAPY)) + [entry]}
            if value is True:  # another one: ask the same four questions again
                changes.update({name: None for name in THERAPY_ENTRY_SLOTS})
            return changes
        if slot == "ot_tried":
            pending = pending_treatments(value, slots.get(SLOT_OTHER_TREATMENTS))
            return _current(pending[0] if pending else None)
        if slot == "ot_outcome" and slots.get(SLOT_OT_CURRENT):
            entry = other_treatment_entry(
                str(slots.get(SLOT_OT_CURRENT)), slots.get("ot_completed"), value, slots.get("ot_sessions")
            )
            recorded = _list(slots.get(SLOT_OTHER_TREATMENTS)) + [entry]
            pending = pending_treatments(slots.get("ot_tried"), recorded)
            return {
                SLOT_OTHER_TREATMENTS: recorded,
                **_current(pending[0] if pending else None),
                **{name: None for name in OT_ENTRY_SLOTS},
            }
        return {}
