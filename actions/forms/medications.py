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
``med_purpose`` (only for a medicine the lexicon marks with a sleep or pain dose range)
    "What was trazodone for: depression, sleep or pain?" Taken for sleep or pain, only its
    dose and whether it is still taken are asked (it is not a depression trial).
``med_dose`` ... ``med_still_taking``
    For each medicine in turn: highest daily dose (mg/day), weeks at that dose, taken
    most days or often missed, what happened (after "improved, then it came back":
    ``med_relapse``, whether that was while still on it at the same dose), side effects
    (a list), still taking it.
``med_added_to`` (once two or more medicines have been named, or for an add-on such as
    lithium) Taken on its own, or added on top of which medicine.
``med_confirm``
    The trial read back in plain words; "yes", a typed correction ("no, it was 100 mg",
    "it was 12 weeks", "I missed a lot of doses": each field read by what the correction
    contains), or a button naming the part to change (that question is asked again).
``med_more``
    "Any other medicines?" Yes (or a name) goes round again.
``med_order`` (two or more medicines whose order the words did not give: "zoloft, lexapro
    and abilify", or named across several answers) "Which did you take first?"; the trials'
    ``order`` (1 = first) comes from that answer, or from the order given.

Every answer is read by :mod:`trd.answers` (``read(kind, text)``: kinds ``medicine_names``,
``medicine_spelling``, ``dose``, ``weeks_at_dose``, ``adherence``, ``trial_outcome``,
``side_effects``, ``still_taking``, ``trial_confirm``, ``more_medicines``, ``trial_purpose``,
``relapse_while_taking``, ``added_to``, ``trial_order``); this module is
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
from trd.intake.parts import (
    MEDICATIONS_FORM,
    SLOT_MED_ORDER_CLEAR,
    SLOT_MED_ORDER_EXAMPLE,
    SLOT_MED_ORDER_NAMES,
    SLOT_TRIALS,
)
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
# version 2 (navigator.md section 10); wording in data/knowledge/intake_questions.yml
PURPOSE = "med_purpose"
RELAPSE = "med_relapse"
ADDED_TO = "med_added_to"
ORDER = "med_order"
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
    PURPOSE: "trial_purpose",
    DOSE: "dose",
    WEEKS: "weeks_at_dose",
    ADHERENCE: "adherence",
    OUTCOME: "trial_outcome",
    RELAPSE: "relapse_while_taking",
    SIDE_EFFECTS: "side_effects",
    STILL_TAKING: "still_taking",
    ADDED_TO: "added_to",
    CONFIRM: "trial_confirm",
    MORE: "more_medicines",
    ORDER: "trial_order",
}
QUESTION_SLOTS: Tuple[str, ...] = tuple(KIND_OF_SLOT)
# questions whose wording and hint live in intake_questions.yml (utter_intake_hint_<kind>)
V2_SLOTS = frozenset({PURPOSE, RELAPSE, ADDED_TO, ORDER})
STATE_SLOTS: Tuple[str, ...] = (SLOT_TRIALS, INDEX, UNKNOWN_NAMES, CURRENT, READBACK, UNKNOWN_NAME)
# The questions about one medicine, in the order asked, and the trial field each fills.
FIELD_SLOTS: Tuple[str, ...] = (
    PURPOSE,
    DOSE,
    WEEKS,
    ADHERENCE,
    OUTCOME,
    RELAPSE,
    SIDE_EFFECTS,
    STILL_TAKING,
    ADDED_TO,
)
PER_DRUG_SLOTS: Tuple[str, ...] = (*FIELD_SLOTS, CONFIRM)
FIELD_OF_SLOT: Dict[str, str] = {
    PURPOSE: "purpose",
    DOSE: "max_dose_mg",
    WEEKS: "weeks_at_dose",
    ADHERENCE: "adherence",
    OUTCOME: "outcome",
    RELAPSE: "relapse_while_taking",
    SIDE_EFFECTS: "side_effects",
    STILL_TAKING: "still_taking",
    ADDED_TO: "added_to",
}
# Taken for sleep or pain: not a depression trial, so only these are asked about it.
NOT_FOR_DEPRESSION_SLOTS: Tuple[str, ...] = (DOSE, STILL_TAKING)
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


def sleep_or_pain_uses(entry: Any) -> Tuple[str, ...]:
    """The uses ("sleep", "pain") of the low doses the lexicon marks for a drug (drugs.yml
    ``sleep_pain_dose``), or () when it marks none."""
    marked = getattr(entry, "sleep_pain_dose", None) if entry is not None else None
    if marked is None:
        return ()
    uses = getattr(marked, "uses", None)
    if uses is None and isinstance(marked, Mapping):
        uses = marked.get("uses")
    return tuple(str(u) for u in (uses if uses is not None else ("sleep", "pain")))


def _added_to(value: Any, drug: str) -> Optional[str]:
    """The medicine a trial was added on top of (its own name is not it), from an added_to answer."""
    names = value.get("added_to") if isinstance(value, Mapping) else None
    for name in names or []:
        if isinstance(name, str) and normalise_name(name) != normalise_name(drug):
            return name[:MAX_NAME_CHARS]
    return None


def _orders(trials: List[Dict[str, Any]], ranked: Optional[Sequence[int]]) -> None:
    """Set each trial's ``order`` (1 = first) from indices earliest first; None: order unknown."""
    for trial in trials:
        trial["order"] = None
    if ranked is None:
        return
    for position, index in enumerate(ranked, start=1):
        trials[index]["order"] = position


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
        index = _index(slots, trials)
        if index < len(trials):
            return required + self.drug_slots(trials[index], slots, len(trials))
        if not trials and (names == SKIPPED or (is_names_value(names) and names.get("none"))):
            return required  # no medicines (or not sure which): nothing more to ask
        if slots.get(MORE) is False and len(trials) >= 2 and slots.get(SLOT_MED_ORDER_CLEAR) is not True:
            return required + [MORE, ORDER]
        return required + [MORE]

    def drug_slots(self, trial: Mapping[str, Any], slots: Mapping[str, Any], count: int) -> List[str]:
        """The questions about one medicine, given the answers so far (follow-ups only when they apply)."""
        entry = self.lexicon.lookup(str(trial.get("drug") or ""))
        asked: List[str] = []
        if sleep_or_pain_uses(entry):
            asked.append(PURPOSE)
        purpose = slots.get(PURPOSE)
        if purpose in ("sleep", "pain"):
            asked += list(NOT_FOR_DEPRESSION_SLOTS)
        else:
            asked += [DOSE, WEEKS, ADHERENCE, OUTCOME]
            if slots.get(OUTCOME) == "response_then_relapse":
                asked.append(RELAPSE)
            asked += [SIDE_EFFECTS, STILL_TAKING]
        if count >= 2 or (entry is not None and entry.role == "augmentation"):
            asked.append(ADDED_TO)
        return asked + [CONFIRM]

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
        if slot in V2_SLOTS:
            return f"utter_intake_hint_{KIND_OF_SLOT[slot]}"
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
            return self._naming_done(slots)
        if slot == ORDER:
            return self._ordered(value, slots)
        return {}

    def _naming_done(self, slots: Mapping[str, Any]) -> Dict[str, Any]:
        """No more medicines: their order, from the words or (unclear) the question that follows."""
        trials = _trials(slots)
        if not trials:
            return {}
        if len(trials) == 1 or slots.get(SLOT_MED_ORDER_CLEAR) is True:
            _orders(trials, list(range(len(trials))))
            return {SLOT_TRIALS: trials}
        if slots.get(MORE) is not False:
            _orders(trials, None)  # "skip this part": the order stays unknown
            return {SLOT_TRIALS: trials}
        labels = [trial_label(t, self.lexicon) for t in trials]
        example = ", then ".join(labels[:2])
        return {SLOT_MED_ORDER_NAMES: join_names(labels), SLOT_MED_ORDER_EXAMPLE: example, ORDER: None}

    def _ordered(self, value: Any, slots: Mapping[str, Any]) -> Dict[str, Any]:
        trials = _trials(slots)
        if isinstance(value, Mapping) and value.get("as_named"):
            _orders(trials, list(range(len(trials))))
        elif isinstance(value, Mapping) and isinstance(value.get("order"), list):
            ranked: List[int] = []
            for mention in value["order"]:
                if not isinstance(mention, Mapping):
                    continue
                key = normalise_name(str(mention.get("drug") or mention.get("unknown") or ""))
                for index, trial in enumerate(trials):
                    names = {
                        normalise_name(str(trial.get("drug") or "")),
                        normalise_name(str(trial.get("name_given") or "")),
                    }
                    if key in names and index not in ranked:
                        ranked.append(index)
                        break
            if not ranked:
                _orders(trials, None)
            else:
                # the ones not named keep the order they were named in, after those
                _orders(trials, ranked + [i for i in range(len(trials)) if i not in ranked])
        else:
            _orders(trials, None)  # not sure, or taken together
        return {SLOT_TRIALS: trials}

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
        first_batch = not trials
        trials = trials + added
        clear = first_batch and not (is_names_value(value) and value.get("in_sequence") is False)
        changes: Dict[str, Any] = {
            SLOT_TRIALS: trials,
            INDEX: confirmed,
            UNKNOWN_NAMES: unknown or None,
            UNKNOWN_NAME: unknown[0]["name"] if unknown else None,
            CURRENT: trial_label(trials[confirmed], self.lexicon) if confirmed < len(trials) else None,
            READBACK: None,
            **{name: None for name in PER_DRUG_SLOTS},
        }
        if mentions:
            changes[SLOT_MED_ORDER_CLEAR] = clear
        if not mentions:
            if more_mode:
                changes[MORE] = False  # "none" after "yes, another": that's all
                changes.update(self._naming_done({**slots, **changes}))
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
        field_value = _field_value(slot, value)
        if slot == ADDED_TO:
            field_value = _added_to(value, str(trial.get("drug") or ""))
        self._set_field(trial, FIELD_OF_SLOT[slot], field_value)
        changes: Dict[str, Any] = {SLOT_TRIALS: trials}
        if slot == OUTCOME and value != "response_then_relapse":
            trial.pop("relapse_while_taking", None)  # asked only about an illness that came back
            changes[RELAPSE] = None
        if slot == PURPOSE and value in ("sleep", "pain"):
            for other in (WEEKS, ADHERENCE, OUTCOME, RELAPSE, SIDE_EFFECTS):
                changes[other] = None  # not a depression trial: those are not asked
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
