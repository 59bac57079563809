"""Part 2 of the intake: the medicines the person has tried (``medications_form``).

The flow, one question per slot (domain.yml, "# --- medicines form"):

``med_names``
    "Which medicines have you tried?" Several may be named in one message. Names come
    from the NLU's ``drug`` entities (value: the generic name) and from a lexicon lookup
    on the raw words, so a name the lexicon knows is never dropped; they are kept in the
    order mentioned ("X, and before that Y" puts Y first). "none" ends the part.
``med_spelling``
    For each word that stands where a name stands but is not in the lexicon: "I didn't
    recognise X: could you check the spelling?" Never a guess: the person retypes it,
    leaves it out, or keeps it as typed (the navigator then says its dose is unknown).
``med_dose`` ... ``med_still_taking``
    For each medicine in turn: highest daily dose (mg/day), weeks at that dose, taken
    most days or often missed, what happened, side effects (a list), still taking it.
``med_confirm``
    The trial read back in plain words; "yes", a typed correction ("no, it was 100 mg",
    "it was 12 weeks", "I missed a lot of doses": each field read by what the correction
    contains), or a button naming the part to change (that question is asked again).
``med_more``
    "Any other medicines?" Yes (or a name) goes round again.

Every answer is read by :mod:`trd.answers` (``read(kind, text)``: kinds ``medicine_names``,
``medicine_spelling``, ``dose``, ``weeks_at_dose``, ``adherence``, ``trial_outcome``,
``side_effects``, ``still_taking``, ``trial_confirm``, ``more_medicines``); this module is
the form: which question comes next, and what each answer changes.

"skip", "not sure", "I don't know" leave any answer unknown (null in the record);
"go back", "skip this part", "pause", questions and the record saving after every
answer come from :class:`actions.forms.intake_base.IntakeFormValidation`.

State lives in slots, so a crisis that suspends the form, a pause or a server restart
resumes at the same medicine and question: ``trials`` (every medicine named so far,
oldest first, as schema items, updated after each answer), ``med_index`` (the medicine
being asked about; the ones before it are confirmed), ``med_unknown`` (names waiting for
a spelling check, with the position they were mentioned at). Derived text for the
questions: ``med_current`` (the medicine's name), ``med_readback``, ``med_unknown_name``.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.base import SKIPPED
from actions.forms.intake_base import IntakeFormValidation
from trd import answers as reading
from trd.answers.medicines import MAX_NAME_CHARS, default_lexicon, find_medicines, is_names_value
from trd.answers.readback import join_names, readback, trial_label
from trd.answers.trials import read_corrections
from trd.answers.values import INVALID
from trd.intake.parts import MEDICATIONS_FORM, SLOT_TRIALS
from trd.navigator.lexicon import Lexicon, normalise_name

logger = logging.getLogger(__name__)

__all__ = [  # the readers' old names, for callers of this module
    "default_lexicon",
    "find_medicines",
    "join_names",
    "read_confirm",
    "read_corrections",
    "readback",
    "trial_label",
]

FORM_NAME = MEDICATIONS_FORM

# --- slots ---------------------------------------------------------------------------------
NAMES = "med_names"
SPELLING = "med_spelling"
DOSE = "med_dose"
WEEKS = "med_weeks"
ADHERENCE = "med_adherence"
OUTCOME = "med_outcome"
SIDE_EFFECTS = "med_side_effects"
STILL_TAKING = "med_still_taking"
CONFIRM = "med_confirm"
MORE = "med_more"
# state (custom mappings)
INDEX = "med_index"
UNKNOWN_NAMES = "med_unknown"
CURRENT = "med_current"
READBACK = "med_readback"
UNKNOWN_NAME = "med_unknown_name"

# The questions, in order, and the kind of answer (trd.answers) each reads.
KIND_OF_SLOT: Dict[str, str] = {
    NAMES: "medicine_names",
    SPELLING: "medicine_spelling",
    DOSE: "dose",
    WEEKS: "weeks_at_dose",
    ADHERENCE: "adherence",
    OUTCOME: "trial_outcome",
    SIDE_EFFECTS: "side_effects",
    STILL_TAKING: "still_taking",
    CONFIRM: "trial_confirm",
    MORE: "more_medicines",
}
QUESTION_SLOTS: Tuple[str, ...] = tuple(KIND_OF_SLOT)
STATE_SLOTS: Tuple[str, ...] = (SLOT_TRIALS, INDEX, UNKNOWN_NAMES, CURRENT, READBACK, UNKNOWN_NAME)
# The questions about one medicine, in the order asked, and the trial field each fills.
FIELD_SLOTS: Tuple[str, ...] = (DOSE, WEEKS, ADHERENCE, OUTCOME, SIDE_EFFECTS, STILL_TAKING)
PER_DRUG_SLOTS: Tuple[str, ...] = (*FIELD_SLOTS, CONFIRM)
FIELD_OF_SLOT: Dict[str, str] = {
    DOSE: "max_dose_mg",
    WEEKS: "weeks_at_dose",
    ADHERENCE: "adherence",
    OUTCOME: "outcome",
    SIDE_EFFECTS: "side_effects",
    STILL_TAKING: "still_taking",
}
SLOT_OF_FIELD: Dict[str, str] = {field: slot for slot, field in FIELD_OF_SLOT.items()}

MAX_SPELLING_TRIES = 2  # a name still not recognised after this many retypes is kept as typed

# Responses (domain.yml, "# --- medicines form").
UTTER_LISTED = "utter_med_listed"
UTTER_NONE = "utter_med_none"
UTTER_KEPT = "utter_med_spelling_kept"
UTTER_LEFT_OUT = "utter_med_left_out"
UTTER_WHICH_PART = "utter_med_which_part"
UTTER_CHANGED = "utter_med_changed"



def _pick_slot(value: Any) -> Any:
    """The read-back's {"pick": field} as the question to ask again: {"pick": slot}."""
    if isinstance(value, Mapping) and value.get("pick") in SLOT_OF_FIELD:
        return {"pick": SLOT_OF_FIELD[str(value["pick"])]}
    return value


def read_confirm(text: str) -> Any:
    """The read-back's answer (:func:`trd.answers.trials.read_confirm`), a pick naming its slot."""
    return _pick_slot(reading.read("trial_confirm", text).value)


# --- the trials list ----------------------------------------------------------------------------------


def new_trial(generic: str, name_given: str, lexicon: Optional[Lexicon] = None) -> Dict[str, Any]:
    """A schema trials item with nothing known yet but the medicine (role from the lexicon)."""
    lex = lexicon or default_lexicon()
    entry = lex.lookup(generic)
    return {
        "drug": entry.generic if entry else generic.strip().lower()[:MAX_NAME_CHARS],
        "role": entry.role if entry else None,
        "max_dose_mg": None,
        "weeks_at_dose": None,
        "adherence": None,
        "outcome": None,
        "still_taking": None,
        "name_given": name_given.strip()[:MAX_NAME_CHARS],
    }


def _trials(slots: Mapping[str, Any]) -> List[Dict[str, Any]]:
    value = slots.get(SLOT_TRIALS)
    return [dict(t) for t in value if isinstance(t, Mapping)] if isinstance(value, list) else []


def _index(slots: Mapping[str, Any], trials: Sequence[Any]) -> int:
    value = slots.get(INDEX)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return max(0, min(int(value), len(trials)))


def _pending(slots: Mapping[str, Any]) -> List[Dict[str, Any]]:
    value = slots.get(UNKNOWN_NAMES)
    if not isinstance(value, list):
        return []
    return [dict(u) for u in value if isinstance(u, Mapping) and isinstance(u.get("name"), str)]


def _field_value(slot: str, value: Any) -> Any:
    """What a question slot's canonical value means in the trial (unknown -> None)."""
    return None if value == SKIPPED else value


class ValidateMedicationsForm(IntakeFormValidation):
    """Validation of ``medications_form`` (part 2), on the intake's shared base."""

    def __init__(self, repository_factory: Any = None, lexicon: Optional[Lexicon] = None) -> None:
        super().__init__(repository_factory)
        self._lexicon = lexicon

    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            self._lexicon = default_lexicon()
        return self._lexicon

    # --- which questions ---------------------------------------------------------------------------

    def own_slots(self) -> List[str]:
        return list(QUESTION_SLOTS)

    def required_for(self, slots: Mapping[str, Any]) -> List[str]:
        names = slots.get(NAMES)
        required = [NAMES]
        if names is None:
            return required
        if _pending(slots):
            return required + [SPELLING]
        trials = _trials(slots)
        if _index(slots, trials) < len(trials):
            return required + list(PER_DRUG_SLOTS)
        if not trials and (names == SKIPPED or (is_names_value(names) and names.get("none"))):
            return required  # no medicines (or not sure which): nothing more to ask
        return required + [MORE]

    # --- reading answers ------------------------------------------------------------------------------

    def parse(
        self,
        slot: str,
        text: str,
        intent: Optional[str],
        confidence: float,
        message: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        kind = KIND_OF_SLOT.get(slot)
        if kind is None:
            return INVALID
        answer = reading.read(
            kind, text, intent=intent, confidence=confidence, message=message, lexicon=self.lexicon
        )
        return _pick_slot(answer.value) if slot == CONFIRM else answer.value

    def hint_response(self, slot: str) -> Optional[str]:
        return f"utter_{slot}_hint" if slot in QUESTION_SLOTS else None

    def is_canonical(self, slot: str, value: Any) -> bool:
        kind = KIND_OF_SLOT.get(slot)
        return kind is not None and reading.is_canonical(kind, value)

    # --- what an answer changes -------------------------------------------------------------------------

    def after_answer(
        self,
        slot: str,
        value: Any,
        slots: Mapping[str, Any],
        tracker: Tracker,
        dispatcher: CollectingDispatcher,
    ) -> Dict[str, Any]:
        changes = self._changes(slot, value, slots, dispatcher)
        # only what changes: a slot set to the value it already holds is noise in the tracker
        return {name: new for name, new in changes.items() if slots.get(name) != new}

    def _changes(
        self, slot: str, value: Any, slots: Mapping[str, Any], dispatcher: CollectingDispatcher
    ) -> Dict[str, Any]:
        if slot == NAMES:
            return self._names_given(value, slots, dispatcher)
        if slot == SPELLING:
            return self._spelling_checked(value, slots, dispatcher)
        if slot in FIELD_SLOTS:
            return self._field_answered(slot, value, slots)
        if slot == CONFIRM:
            return self._confirmed(value, slots, dispatcher)
        if slot == MORE:
            if is_names_value(value):
                # "yes, wellbutrin": the names, without asking "which ones?"
                changes = self._names_given(value, {**slots, NAMES: value, MORE: None}, dispatcher)
                return {NAMES: value, **changes, MORE: None}
            if value is True:
                return {NAMES: None}  # "which other medicines?"
        return {}

    def _names_given(
        self, value: Any, slots: Mapping[str, Any], dispatcher: CollectingDispatcher
    ) -> Dict[str, Any]:
        confirmed_trials = _trials(slots)
        confirmed = _index(slots, confirmed_trials)
        # the names question comes once every earlier medicine is confirmed
        trials = confirmed_trials[:confirmed]
        more_mode = slots.get(MORE) is True
        mentions = value.get("mentions") if is_names_value(value) else []
        added: List[Dict[str, Any]] = []
        unknown: List[Dict[str, Any]] = []
        for mention in mentions or []:
            if mention.get("drug"):
                said = str(mention.get("name_given") or "")
                added.append(new_trial(str(mention["drug"]), said, self.lexicon))
            elif mention.get("unknown"):
                name = str(mention["unknown"])[:MAX_NAME_CHARS]
                unknown.append({"name": name, "at": len(trials) + len(added)})
        trials = trials + added
        changes: Dict[str, Any] = {
            SLOT_TRIALS: trials,
            INDEX: confirmed,
            UNKNOWN_NAMES: unknown or None,
            UNKNOWN_NAME: unknown[0]["name"] if unknown else None,
            CURRENT: trial_label(trials[confirmed], self.lexicon) if confirmed < len(trials) else None,
            READBACK: None,
            **{name: None for name in PER_DRUG_SLOTS},
        }
        if not mentions:
            if more_mode:
                changes[MORE] = False  # "none" after "yes, another": that's all
            elif value != SKIPPED and not trials:
                dispatcher.utter_message(response=UTTER_NONE)
            return changes
        if more_mode:
            changes[MORE] = None
        if len(added) >= 2:
            dispatcher.utter_message(
                response=UTTER_LISTED, med_list=join_names([trial_label(t, self.lexicon) for t in added])
            )
        return changes

    def _spelling_checked(
        self, value: Any, slots: Mapping[str, Any], dispatcher: CollectingDispatcher
    ) -> Dict[str, Any]:
        pending = _pending(slots)
        trials = _trials(slots)
        changes: Dict[str, Any] = {SPELLING: None}
        if not pending:
            return changes
        first = pending[0]
        name = str(first["name"])
        at = first.get("at")
        position = max(0, min(int(at), len(trials))) if isinstance(at, int) else len(trials)
        inserted: List[Dict[str, Any]] = []
        if isinstance(value, Mapping) and value.get("retry"):
            retry = str(value["retry"])
            if normalise_name(retry) == normalise_name(name):
                value = {"keep": True}  # typed the same again: it is spelled as they mean it
        if isinstance(value, Mapping) and value.get("retry"):
            retry = str(value["retry"])
            tries = int(first.get("tries") or 0) + 1
            if tries < MAX_SPELLING_TRIES:
                pending[0] = {**first, "name": retry, "tries": tries}
                changes.update({UNKNOWN_NAMES: pending, UNKNOWN_NAME: retry})
                return changes  # asked again, with the new spelling
            name = retry
            value = {"keep": True}
        if isinstance(value, Mapping) and is_names_value(value):
            inserted = [
                new_trial(str(m["drug"]), str(m.get("name_given") or ""), self.lexicon)
                for m in value["mentions"]
                if m.get("drug")
            ]
        elif isinstance(value, Mapping) and value.get("keep"):
            inserted = [new_trial(name, name, self.lexicon)]
            dispatcher.utter_message(response=UTTER_KEPT, med_unknown_name=name)
        elif isinstance(value, Mapping) and value.get("drop"):
            dispatcher.utter_message(response=UTTER_LEFT_OUT, med_unknown_name=name)
        trials[position:position] = inserted
        rest = [{**u, "at": int(u.get("at") or 0) + len(inserted)} for u in pending[1:]]
        index = _index(slots, trials)
        changes.update(
            {
                SLOT_TRIALS: trials,
                UNKNOWN_NAMES: rest or None,
                UNKNOWN_NAME: rest[0]["name"] if rest else None,
                CURRENT: trial_label(trials[index], self.lexicon) if index < len(trials) else None,
            }
        )
        return changes

    def _field_answered(self, slot: str, value: Any, slots: Mapping[str, Any]) -> Dict[str, Any]:
        trials = _trials(slots)
        index = _index(slots, trials)
        if index >= len(trials):
            return {}
        trial = trials[index]
        self._set_field(trial, FIELD_OF_SLOT[slot], _field_value(slot, value))
        changes: Dict[str, Any] = {SLOT_TRIALS: trials}
        if slot == OUTCOME and value == "stopped_side_effects" and slots.get(STILL_TAKING) is None:
            # stopped because of side effects: not taking it now (read back, so it can be changed)
            trial["still_taking"] = False
            changes[STILL_TAKING] = False
        changes[READBACK] = readback(trial, self.lexicon)
        return changes

    @staticmethod
    def _set_field(trial: Dict[str, Any], field: str, value: Any) -> None:
        if field == "side_effects":
            if value is None:
                trial.pop("side_effects", None)  # unknown is not "none"
            else:
                trial["side_effects"] = list(value)
            return
        trial[field] = value

    def _confirmed(
        self, value: Any, slots: Mapping[str, Any], dispatcher: CollectingDispatcher
    ) -> Dict[str, Any]:
        trials = _trials(slots)
        index = _index(slots, trials)
        if index >= len(trials):
            return {}
        trial = trials[index]
        if isinstance(value, Mapping) and "fix" in value:
            changes: Dict[str, Any] = {CONFIRM: None}  # read back again, with the change
            for field, fixed in dict(value["fix"]).items():
                slot = SLOT_OF_FIELD.get(field)
                if slot is None:
                    continue
                self._set_field(trial, field, fixed)
                changes[slot] = fixed
            changes[SLOT_TRIALS] = trials
            changes[READBACK] = readback(trial, self.lexicon)
            dispatcher.utter_message(response=UTTER_CHANGED)
            return changes
        if isinstance(value, Mapping) and value.get("pick") in FIELD_SLOTS:
            return {CONFIRM: None, str(value["pick"]): None}
        if isinstance(value, Mapping) and value.get("which"):
            dispatcher.utter_message(response=UTTER_WHICH_PART)
            return {CONFIRM: None}
        # confirmed (or left as read): on to the next medicine
        following = index + 1
        changes = {name: None for name in PER_DRUG_SLOTS}
        changes.update(
            {
                INDEX: following,
                READBACK: None,
                CURRENT: trial_label(trials[following], self.lexicon) if following < len(trials) else None,
            }
        )
        return changes
