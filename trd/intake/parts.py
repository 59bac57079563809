"""The intake's parts and slot names: the one place the orchestration vocabulary lives."""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, Optional, Tuple

from trd.answers.common import SKIPPED
from trd.safety import contract

# intake_part values, in the order asked (part 1 = phq9 + episode).
PART_ORDER: Tuple[str, ...] = (
    "phq9",
    "episode",
    "medications",
    "current_meds",
    "therapy",
    "screens",
    "cautions",
)
DONE = "done"
PART_FORMS: Dict[str, str] = {
    "phq9": "phq9_form",
    "episode": "episode_form",
    "medications": "medications_form",
    "current_meds": "current_meds_form",
    "therapy": "therapy_form",
    "screens": "screens_form",
    "cautions": "cautions_form",
}
FORM_PARTS: Dict[str, str] = {form: part for part, form in PART_FORMS.items()}
INTAKE_FORMS: FrozenSet[str] = frozenset(PART_FORMS.values())
# The forms this module family validates (part 2 belongs to actions/forms/medications.py).
OWN_FORMS: FrozenSet[str] = INTAKE_FORMS - {"medications_form"}

# Orchestration slots (domain.yml "# --- intake").
SLOT_PART = "intake_part"  # categorical, featurized: which part runs (rules activate its form)
SLOT_STARTED = "intake_started"  # bool, featurized: an intake exists (greeting offers to continue)
SLOT_PARTS_DONE = "intake_parts_done"  # list of finished parts
SLOT_UNDO = "intake_undo"  # "go back" stack: [{"form", "part", "slots": {slot: value before}}]
SLOT_NAV = "intake_nav"  # "back" while the orchestrator reopens an earlier part
SLOT_PART_LABEL = "intake_part_label"  # "Part 2 of 5: medicines you've tried" (welcome back text)
SLOT_CRISES = "intake_crises"  # risk categories seen while the intake ran (for the record)
ORCHESTRATION_SLOTS: Tuple[str, ...] = (
    SLOT_PART,
    SLOT_STARTED,
    SLOT_PARTS_DONE,
    SLOT_UNDO,
    SLOT_NAV,
    SLOT_PART_LABEL,
    SLOT_CRISES,
)

# Aggregates built by the forms (not asked directly).
SLOT_PSYCHOTHERAPY = "psychotherapy"  # list of schema psychotherapy items
SLOT_OTHER_TREATMENTS = "other_treatments"  # list of schema other_treatments items
SLOT_OT_CURRENT = "ot_current"  # the other treatment being asked about
SLOT_OT_CURRENT_LABEL = "ot_current_label"  # its name for the questions ("TMS")
AGGREGATE_SLOTS: Tuple[str, ...] = (
    SLOT_PSYCHOTHERAPY,
    SLOT_OTHER_TREATMENTS,
    SLOT_OT_CURRENT,
    SLOT_OT_CURRENT_LABEL,
)

# Contract with part 2 (medications_form): a list of schema trials items.
SLOT_TRIALS = "trials"
MEDICATIONS_FORM = "medications_form"
# medications_form's state for the questions of version 2 (navigator.md section 10)
SLOT_MED_ORDER_CLEAR = "med_order_clear"  # the names were given in an order (no need to ask it)
SLOT_MED_ORDER_NAMES = "med_order_names"  # "Prozac, Effexor and Abilify" (the order question)
SLOT_MED_ORDER_EXAMPLE = "med_order_example"  # "Prozac, then Effexor"
MEDICATIONS_V2_SLOTS: Tuple[str, ...] = (SLOT_MED_ORDER_CLEAR, SLOT_MED_ORDER_NAMES, SLOT_MED_ORDER_EXAMPLE)

# Part 2 continued (current_meds_form): what the person takes now.
SLOT_CURRENT_MEDS = "current_meds"  # [{drug, dose_mg, name_given, recognised}]
SLOT_CM_LEAD = "cm_lead"  # the question's first sentence (names what was noted from the trials)
SLOT_CM_READBACK = "cm_readback"  # the list read back
CURRENT_MEDS_SLOTS: Tuple[str, ...] = (SLOT_CURRENT_MEDS, SLOT_CM_LEAD, SLOT_CM_READBACK)

# The gentle questions after the crisis check (suicide_history_form; not a part).
SUICIDE_HISTORY_FORM = "suicide_history_form"
SLOT_SH_DUE = "sh_due"  # bool, featurized: set by action_close_crisis when they are to be offered
SLOT_SH_UNDO = "sh_undo"  # that form's own "go back" stack

# Safety dialogue slots, re-exported from the safety contract (trd/safety/contract.py) for the
# intake's users; the categories that make the record's suicidal_thoughts_now true are the
# contract's SUICIDAL_THOUGHTS_NOW_CATEGORIES.
SLOT_CRISIS_ACTIVE = contract.SLOT_CRISIS_ACTIVE
SLOT_RISK_CATEGORY = contract.SLOT_RISK_CATEGORY
SLOT_INTERRUPTED_LOOP = contract.SLOT_INTERRUPTED_LOOP

UNKNOWN_VALUE = SKIPPED  # what an "I don't know" answer holds in its slot (null in the record)


def form_of(part: Optional[str]) -> Optional[str]:
    return PART_FORMS.get(part or "")


def next_part(done: Any) -> Optional[str]:
    finished = set(done) if isinstance(done, list) else set()
    return next((p for p in PART_ORDER if p not in finished), None)
