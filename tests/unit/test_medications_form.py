"""Part 2 of the intake (medications_form), with rasa_sdk trackers and a dict domain built in code.

Each test hands ValidateMedicationsForm the tracker Rasa's FormAction sends (the answer's
candidate SlotSet last, the NLU's ``drug`` entities in the message) and asserts the exact
events it returns, what it says, and the record the repository holds afterwards. The
longer tests play a whole conversation turn by turn through the same validator, applying
its events as Rasa would, and check the final ``trials`` against the intake schema with
the navigator's validator.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.base import SKIPPED
from actions.forms.medications import (
    FIELD_SLOTS,
    KIND_OF_SLOT,
    QUESTION_SLOTS,
    STATE_SLOTS,
    V2_SLOTS,
    ValidateMedicationsForm,
    find_medicines,
    read_confirm,
    read_corrections,
    readback,
)
from tests.support.trackers import form_answer_events, make_tracker, user_event
from trd.navigator import default_knowledge, navigate
from trd.store.repository import InMemoryRepository, Repository

SENDER = "med-1"
FORM = "medications_form"
NOT_INTENT = ["crisis", "crisis_danger_now", "sos", "not_safe", "safety_plan_request"]
OTHER_SLOTS = (
    "intake_part",
    "intake_started",
    "intake_parts_done",
    "intake_undo",
    "intake_nav",
    "intake_part_label",
    "intake_crises",
    "crisis_active",
    "risk_category",
    "crisis_interrupted_loop",
    "requested_slot",
)


def _text_slot(slot: str) -> Dict[str, Any]:
    return {
        "type": "any",
        "influence_conversation": False,
        "mappings": [
            {
                "type": "from_text",
                "not_intent": NOT_INTENT,
                "conditions": [{"active_loop": FORM, "requested_slot": slot}],
            }
        ],
    }


DOMAIN: Dict[str, Any] = {
    "forms": {FORM: {"required_slots": list(QUESTION_SLOTS)}},
    "slots": {
        **{slot: _text_slot(slot) for slot in QUESTION_SLOTS},
        **{
            slot: {"type": "any", "influence_conversation": False, "mappings": [{"type": "custom"}]}
            for slot in (*STATE_SLOTS, *OTHER_SLOTS)
        },
    },
    "responses": {},
    "actions": [f"validate_{FORM}"],
}
INTAKE = {"intake_part": "medications", "intake_started": True, "intake_parts_done": ["phq9", "episode"]}


def drug(start: int, end: int, value: str) -> Dict[str, Any]:
    """A `drug` entity as bot/nlu/drug_normaliser.py leaves it (value: the generic name)."""
    return {"entity": "drug", "start": start, "end": end, "value": value, "extractor": "SpacyEntityExtractor"}


def answer_tracker(
    slot: str,
    text: str,
    slots: Optional[Dict[str, Any]] = None,
    intent: str = "intake_answer",
    entities: Optional[List[Any]] = None,
    history: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    """What FormAction sends after the person answered ``slot`` with ``text``."""
    message = user_event(text, intent, entities=entities)
    events = list(history or []) + form_answer_events(FORM, slot, message, text)
    all_slots: Dict[str, Any] = {name: None for name in DOMAIN["slots"]}
    all_slots.update(INTAKE)
    all_slots.update(slots or {})
    all_slots.update({slot: text, "requested_slot": slot})
    latest = message["parse_data"]
    return make_tracker(SENDER, all_slots, latest, events, active_loop=FORM, latest_action=FORM)


def activation_tracker(slots: Dict[str, Any], prefilled: Dict[str, Any]) -> Tracker:
    """What FormAction sends when the form starts (again): required slots already filled come last."""
    events: List[Dict[str, Any]] = [
        {"event": "action", "name": "action_resume_after_crisis"},
        {"event": "slot", "name": "requested_slot", "value": None},
        {"event": "action", "name": FORM},
        *({"event": "slot", "name": k, "value": v} for k, v in prefilled.items()),
    ]
    all_slots: Dict[str, Any] = {name: None for name in DOMAIN["slots"]}
    all_slots.update(INTAKE)
    all_slots.update(slots)
    all_slots.update(prefilled)
    return make_tracker(SENDER, all_slots, {}, events, latest_action=FORM)


def validate(
    tracker: Tracker, repo: Optional[Repository] = None
) -> Tuple[List[Dict[str, Any]], List[Any], Repository]:
    repository = repo if repo is not None else InMemoryRepository()
    validator = ValidateMedicationsForm(lambda: repository)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(validator.run(dispatcher, tracker, DOMAIN))
    said = [m.get("response") or m.get("text") for m in dispatcher.messages]
    return events, said, repository


def undo(**slots: Any) -> Dict[str, Any]:
    return {"form": FORM, "part": "medications", "slots": slots}


def blank(name: str, given: str, role: str = "antidepressant") -> Dict[str, Any]:
    return {
        "drug": name,
        "role": role,
        "max_dose_mg": None,
        "weeks_at_dose": None,
        "adherence": None,
        "outcome": None,
        "still_taking": None,
        "name_given": given,
    }


class Chat:
    """A conversation with the form: each answer goes through the validator, its events applied."""

    def __init__(self) -> None:
        self.repo = InMemoryRepository()
        self.slots: Dict[str, Any] = {}
        self.asked: Optional[str] = None
        self.said: List[Any] = []
        events, said, _ = validate(activation_tracker({}, {}), self.repo)
        self._apply(events, said)

    def _apply(self, events: List[Dict[str, Any]], said: List[Any]) -> None:
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        self.asked = self.slots.get("requested_slot")
        self.said = said

    def say(
        self, text: str, intent: str = "intake_answer", entities: Optional[List[Any]] = None
    ) -> List[Dict[str, Any]]:
        assert self.asked, "the form is not asking anything"
        tracker = answer_tracker(self.asked, text, dict(self.slots), intent, entities)
        events, said, _ = validate(tracker, self.repo)
        self._apply(events, said)
        return events

    @property
    def trials(self) -> List[Dict[str, Any]]:
        value = self.slots.get("trials")
        return list(value) if isinstance(value, list) else []

    def record(self) -> Dict[str, Any]:
        record = self.repo.intake(SENDER)
        assert record is not None
        return record


def schema_valid(trials: List[Dict[str, Any]]) -> None:
    """The navigator's validator (intake.schema.json), on the trials as the intake record holds them."""
    default_knowledge().validator.validate({"trials": trials})


SERTRALINE_DONE = {
    **blank("sertraline", "zoloft"),
    "max_dose_mg": 150.0,
    "weeks_at_dose": 8.0,
    "adherence": "most_days",
    "outcome": "partial_response",
    "side_effects": ["nausea"],
    "still_taking": True,
}
AT_CONFIRM = {
    "med_names": {"mentions": [{"drug": "sertraline", "name_given": "zoloft"}], "none": False},
    "trials": [SERTRALINE_DONE],
    "med_index": 0,
    "med_current": "Zoloft",
    "med_dose": 150.0,
    "med_weeks": 8.0,
    "med_adherence": "most_days",
    "med_outcome": "partial_response",
    "med_side_effects": ["nausea"],
    "med_still_taking": True,
    "med_readback": readback(SERTRALINE_DONE),
}


# --- the medicines named ----------------------------------------------------------------------------


def test_the_form_starts_by_asking_which_medicines() -> None:
    events, said, _ = validate(activation_tracker({}, {}))
    assert events == [SlotSet("requested_slot", "med_names")]
    assert said == []


def test_several_medicines_in_one_message_are_kept_in_the_order_mentioned() -> None:
    text = "zoloft then lexapro, and abilify was added"
    entities = [drug(0, 6, "sertraline"), drug(12, 19, "escitalopram"), drug(25, 32, "aripiprazole")]
    tracker = answer_tracker("med_names", text, entities=entities, intent="inform_medications")
    events, said, repo = validate(tracker)
    mentions = [
        {"drug": "sertraline", "name_given": "zoloft"},
        {"drug": "escitalopram", "name_given": "lexapro"},
        {"drug": "aripiprazole", "name_given": "abilify"},
    ]
    trials = [
        blank("sertraline", "zoloft"),
        blank("escitalopram", "lexapro"),
        blank("aripiprazole", "abilify", role="augmentation"),
    ]
    assert events == [
        # "and abilify was added": the words do not put all three in order (asked at the end)
        SlotSet("med_names", {"mentions": mentions, "none": False, "in_sequence": False}),
        SlotSet("trials", trials),
        SlotSet("med_index", 0),
        SlotSet("med_current", "Zoloft"),
        SlotSet("med_order_clear", False),
        SlotSet(
            "intake_undo",
            [undo(med_names=None, trials=None, med_index=None, med_current=None, med_order_clear=None)],
        ),
        SlotSet("requested_slot", "med_dose"),
    ]
    assert said == ["utter_med_listed"]
    record = repo.intake(SENDER)
    assert record is not None and record["trials"] == trials  # saved as soon as it is said
    schema_valid(trials)


def test_a_message_without_entities_still_finds_every_name_the_lexicon_knows() -> None:
    """The NLU may miss a name (or run without the drug pipeline): the lexicon lookup does not."""
    events, _, _ = validate(answer_tracker("med_names", "Zoloft then Lexapro, and Abilify was added"))
    trials = events[1]["value"]
    assert [(t["drug"], t["name_given"], t["role"]) for t in trials] == [
        ("sertraline", "Zoloft", "antidepressant"),
        ("escitalopram", "Lexapro", "antidepressant"),
        ("aripiprazole", "Abilify", "augmentation"),
    ]


@pytest.mark.parametrize(
    ("text", "generics"),
    [
        ("wellbutrin xl 300", ["bupropion"]),
        ("lexipro", ["escitalopram"]),  # a listed misspelling
        ("prozak and celexia", ["fluoxetine", "citalopram"]),
        ("Effexor-XR", ["venlafaxine"]),
        ("lithium carbonate with my sertraline", ["lithium", "sertraline"]),
        ("T3 on top of venlafaxine", ["liothyronine", "venlafaxine"]),
        ("duloxetine and before that citalopram", ["citalopram", "duloxetine"]),
        ("lexapro now, before that zoloft, before that prozac", ["fluoxetine", "sertraline", "escitalopram"]),
        ("sertraline 100mg for 3 months then switched to escitalopram", ["sertraline", "escitalopram"]),
        ("prozac, then zoloft, then prozac again", ["fluoxetine", "sertraline"]),
    ],
)
def test_brands_misspellings_and_order_words_give_generic_names_oldest_first(
    text: str, generics: List[str]
) -> None:
    assert [m.generic for m in find_medicines(text)] == generics


def test_a_fuzzy_match_from_the_nlu_is_used_and_read_back_by_its_generic_name() -> None:
    """ "zolft" is not a listed misspelling: only the NLU's fuzzy matcher knows it is sertraline."""
    events, _, _ = validate(answer_tracker("med_names", "zolft", entities=[drug(0, 5, "sertraline")]))
    assert events[1] == SlotSet("trials", [blank("sertraline", "zolft")])
    assert SlotSet("med_order_clear", True) in events  # one medicine: its order is clear
    assert SlotSet("med_current", "sertraline") in events  # the generic, never the misspelling


def test_an_unknown_name_is_asked_about_never_guessed() -> None:
    events, said, repo = validate(answer_tracker("med_names", "zoloft, lexapro and flibberzine"))
    pending = [{"name": "flibberzine", "at": 2}]
    assert events == [
        SlotSet(
            "med_names",
            {
                "mentions": [
                    {"drug": "sertraline", "name_given": "zoloft"},
                    {"drug": "escitalopram", "name_given": "lexapro"},
                    {"unknown": "flibberzine"},
                ],
                "none": False,
                "in_sequence": False,
            },
        ),
        SlotSet("trials", [blank("sertraline", "zoloft"), blank("escitalopram", "lexapro")]),
        SlotSet("med_index", 0),
        SlotSet("med_unknown", pending),
        SlotSet("med_unknown_name", "flibberzine"),
        SlotSet("med_current", "Zoloft"),
        SlotSet("med_order_clear", False),
        SlotSet(
            "intake_undo",
            [
                undo(
                    med_names=None,
                    trials=None,
                    med_index=None,
                    med_unknown=None,
                    med_unknown_name=None,
                    med_current=None,
                    med_order_clear=None,
                )
            ],
        ),
        SlotSet("requested_slot", "med_spelling"),  # "I didn't recognise "flibberzine" ..."
    ]
    assert said == ["utter_med_listed"]
    record = repo.intake(SENDER)
    assert record is not None and [t["drug"] for t in record["trials"]] == ["sertraline", "escitalopram"]


def test_a_retyped_name_goes_where_it_was_mentioned() -> None:
    slots = {
        "med_names": {"mentions": [], "none": False},
        "trials": [blank("sertraline", "zoloft"), blank("escitalopram", "lexapro")],
        "med_index": 0,
        "med_unknown": [{"name": "welbutrn", "at": 1}],
        "med_unknown_name": "welbutrn",
        "med_current": "Zoloft",
    }
    events, said, _ = validate(answer_tracker("med_spelling", "wellbutrin", slots))
    trials = [
        blank("sertraline", "zoloft"),
        blank("bupropion", "wellbutrin"),
        blank("escitalopram", "lexapro"),
    ]
    assert events[:4] == [
        SlotSet("med_spelling", None),
        SlotSet("trials", trials),
        SlotSet("med_unknown", None),
        SlotSet("med_unknown_name", None),
    ]
    assert events[-1] == SlotSet("requested_slot", "med_dose")
    assert said == []


def test_a_name_still_unknown_after_a_retype_is_kept_as_typed_for_the_clinician() -> None:
    slots = {
        "med_names": {"mentions": [], "none": False},
        "trials": [],
        "med_index": 0,
        "med_unknown": [{"name": "flibberzine", "at": 0}],
        "med_unknown_name": "flibberzine",
    }
    events, said, _ = validate(answer_tracker("med_spelling", "flibberzene", slots))
    assert events[:3] == [
        SlotSet("med_spelling", None),
        SlotSet("med_unknown", [{"name": "flibberzene", "at": 0, "tries": 1}]),
        SlotSet("med_unknown_name", "flibberzene"),
    ]
    assert events[-1] == SlotSet("requested_slot", "med_spelling")  # asked again, with the new spelling
    events, said, _ = validate(
        answer_tracker("med_spelling", "It's spelled right", {**slots, "med_unknown_name": "flibberzene"})
    )
    kept = {**blank("flibberzine", "flibberzine"), "role": None}
    assert events[1] == SlotSet("trials", [kept])
    assert said == ["utter_med_spelling_kept"]
    schema_valid([kept])


def test_an_unknown_name_can_be_left_out() -> None:
    slots = {
        "med_names": {"mentions": [], "none": False},
        "trials": [blank("sertraline", "zoloft")],
        "med_index": 0,
        "med_unknown": [{"name": "blue", "at": 1}],
        "med_unknown_name": "blue",
        "med_current": "Zoloft",
    }
    events, said, _ = validate(answer_tracker("med_spelling", "Leave it out", slots))
    assert events[:3] == [
        SlotSet("med_spelling", None),
        SlotSet("med_unknown", None),
        SlotSet("med_unknown_name", None),
    ]
    assert events[-1] == SlotSet("requested_slot", "med_dose")
    assert said == ["utter_med_left_out"]


@pytest.mark.parametrize("text", ["none", "No", "I haven't tried any"])
def test_no_medicines_ends_the_part(text: str) -> None:
    events, said, repo = validate(answer_tracker("med_names", text, intent="deny"))
    assert events == [
        SlotSet("med_names", {"mentions": [], "none": True}),
        SlotSet("trials", []),
        SlotSet("med_index", 0),
        SlotSet("intake_undo", [undo(med_names=None, trials=None, med_index=None)]),
        SlotSet("requested_slot", None),
    ]
    assert said == ["utter_med_none"]
    record = repo.intake(SENDER)
    assert record is not None and record["trials"] == []


@pytest.mark.parametrize("text", ["umm", "I took some pills", "antidepressants"])
def test_an_answer_without_a_name_is_asked_again_with_an_example(text: str) -> None:
    events, said, repo = validate(answer_tracker("med_names", text, intent="nlu_fallback"))
    assert events == [SlotSet("med_names", None), SlotSet("requested_slot", "med_names")]
    assert said == ["utter_med_names_hint"]
    assert repo.intake(SENDER) is None


# --- each question about one medicine ----------------------------------------------------------------

FIELDS = ["med_dose", "med_weeks", "med_adherence", "med_outcome", "med_side_effects", "med_still_taking"]
ONE = {
    "med_names": {"mentions": [{"drug": "sertraline", "name_given": "zoloft"}], "none": False},
    "trials": [blank("sertraline", "zoloft")],
    "med_index": 0,
    "med_current": "Zoloft",
}


FIELD_OF = {
    "med_dose": "max_dose_mg",
    "med_weeks": "weeks_at_dose",
    "med_adherence": "adherence",
    "med_outcome": "outcome",
    "med_side_effects": "side_effects",
    "med_still_taking": "still_taking",
}


@pytest.mark.parametrize(
    ("slot", "text", "value"),
    [
        ("med_dose", "150mg", 150.0),
        ("med_dose", "100 mg twice a day", 200.0),
        ("med_dose", "a hundred and fifty", 150.0),
        ("med_dose", "25 mcg", 0.025),
        ("med_weeks", "8 weeks", 8.0),
        ("med_weeks", "3 months", 13.04),
        ("med_weeks", "12", 12.0),
        ("med_adherence", "Most days", "most_days"),
        ("med_adherence", "Often missed", "often_missed"),
        ("med_adherence", "I missed a lot", "often_missed"),
        ("med_outcome", "No change", "no_response"),
        ("med_outcome", "Some improvement", "partial_response"),
        ("med_outcome", "Improved, then it came back", "response_then_relapse"),
        ("med_outcome", "Got well", "remission"),
        ("med_outcome", "Too early to tell", "too_early"),
        ("med_side_effects", "None", []),
        ("med_side_effects", "nausea, weight gain and poor sleep", ["nausea", "weight gain", "poor sleep"]),
        ("med_still_taking", "Yes", True),
        ("med_still_taking", "No, I stopped it last year", False),
    ],
)
def test_each_answer_is_read_stored_in_the_trial_and_saved(slot: str, text: str, value: Any) -> None:
    answered = {s: AT_CONFIRM[s] for s in FIELDS[: FIELDS.index(slot)]}
    trial = blank("sertraline", "zoloft")
    trial.update({FIELD_OF[s]: v for s, v in answered.items()})
    events, said, repo = validate(answer_tracker(slot, text, {**ONE, "trials": [trial], **answered}))
    expected_trial = {**trial, FIELD_OF[slot]: value}
    following = FIELDS[FIELDS.index(slot) + 1] if slot != FIELDS[-1] else "med_confirm"
    if value == "response_then_relapse":
        following = "med_relapse"  # it came back: while still taking it?
    assert events == [
        SlotSet(slot, value),
        SlotSet("trials", [expected_trial]),
        SlotSet("med_readback", readback(expected_trial)),
        SlotSet("intake_undo", [undo(**{slot: None, "trials": [trial], "med_readback": None})]),
        SlotSet("requested_slot", following),
    ]
    assert said == []
    record = repo.intake(SENDER)
    assert record is not None and record["trials"] == [expected_trial]
    schema_valid([expected_trial])


@pytest.mark.parametrize(
    ("slot", "text", "hint"),
    [
        ("med_dose", "50 then 100", "utter_med_dose_hint"),  # which was the highest? never a guess
        ("med_dose", "two pills", "utter_med_dose_hint"),
        ("med_dose", "less than 100mg", "utter_med_dose_hint"),
        ("med_weeks", "a while", "utter_med_weeks_hint"),
        ("med_weeks", "less than 6 weeks", "utter_med_weeks_hint"),
        ("med_adherence", "sometimes", "utter_med_adherence_hint"),
        ("med_outcome", "hmm", "utter_med_outcome_hint"),
        ("med_still_taking", "maybe later this year", "utter_med_still_taking_hint"),
    ],
)
def test_an_unreadable_answer_is_asked_again_with_an_example(slot: str, text: str, hint: str) -> None:
    earlier = {s: SKIPPED for s in FIELDS[: FIELDS.index(slot)]}
    events, said, repo = validate(answer_tracker(slot, text, {**ONE, **earlier}, intent="nlu_fallback"))
    assert events == [SlotSet(slot, None), SlotSet("requested_slot", slot)]
    assert said == [hint]
    assert repo.intake(SENDER) is None


@pytest.mark.parametrize(
    ("slot", "field"),
    [
        ("med_dose", "max_dose_mg"),
        ("med_weeks", "weeks_at_dose"),
        ("med_adherence", "adherence"),
        ("med_outcome", "outcome"),
        ("med_still_taking", "still_taking"),
    ],
)
@pytest.mark.parametrize("text", ["skip", "I don't know", "not sure", "Not sure", "I can't remember"])
def test_skip_or_dont_know_stores_null_and_moves_on(slot: str, field: str, text: str) -> None:
    order = ["med_dose", "med_weeks", "med_adherence", "med_outcome", "med_side_effects", "med_still_taking"]
    answered = {s: SKIPPED for s in order[: order.index(slot)]}
    events, said, repo = validate(answer_tracker(slot, text, {**ONE, **answered}, intent="dont_know"))
    assert events[0] == SlotSet(slot, SKIPPED)
    assert said == ["utter_intake_skipped"]
    record = repo.intake(SENDER)
    assert record is not None and record["trials"][0][field] is None
    nxt = order[order.index(slot) + 1] if slot != "med_still_taking" else "med_confirm"
    assert events[-1] == SlotSet("requested_slot", nxt)


def test_unknown_side_effects_are_left_out_of_the_trial_not_recorded_as_none() -> None:
    slots = {**ONE, **{s: SKIPPED for s in ("med_dose", "med_weeks", "med_adherence", "med_outcome")}}
    events, said, repo = validate(answer_tracker("med_side_effects", "not sure", slots, intent="dont_know"))
    assert events[0] == SlotSet("med_side_effects", SKIPPED)
    record = repo.intake(SENDER)
    assert record is not None and "side_effects" not in record["trials"][0]
    schema_valid(record["trials"])


def test_stopped_for_side_effects_means_not_taking_it_now() -> None:
    slots = {**ONE, "med_dose": 50.0, "med_weeks": 2.0, "med_adherence": "most_days"}
    events, _, _ = validate(answer_tracker("med_outcome", "Stopped for side effects", slots))
    assert events[0] == SlotSet("med_outcome", "stopped_side_effects")
    assert SlotSet("med_still_taking", False) in events
    assert events[-1] == SlotSet("requested_slot", "med_side_effects")  # still_taking is not asked


# --- the read-back and its corrections ------------------------------------------------------------


def test_the_read_back_is_plain_words() -> None:
    trial = {**SERTRALINE_DONE, "name_given": "sertraline"}
    assert readback(trial) == (
        "Sertraline, up to 150 mg a day for about 8 weeks, taken most days; some improvement; "
        "side effects: nausea; still taking it."
    )
    assert readback({**blank("sertraline", "Zoloft"), "weeks_at_dose": 13.04}) == (
        "Zoloft (sertraline), dose not known, for about 3 months, not sure how regularly it was taken; "
        "what happened is not known; side effects not known; not sure whether still taking it."
    )


def test_yes_confirms_the_trial_and_moves_to_the_next_medicine() -> None:
    trials = [SERTRALINE_DONE, blank("escitalopram", "lexapro")]
    tracker = answer_tracker("med_confirm", "Yes, that's right", {**AT_CONFIRM, "trials": trials})
    events, said, repo = validate(tracker)
    assert events == [
        SlotSet("med_confirm", None),
        SlotSet("med_dose", None),
        SlotSet("med_weeks", None),
        SlotSet("med_adherence", None),
        SlotSet("med_outcome", None),
        SlotSet("med_side_effects", None),
        SlotSet("med_still_taking", None),
        SlotSet("med_index", 1),
        SlotSet("med_readback", None),
        SlotSet("med_current", "Lexapro"),
        SlotSet(
            "intake_undo",
            [
                undo(
                    med_dose=150.0,
                    med_weeks=8.0,
                    med_adherence="most_days",
                    med_outcome="partial_response",
                    med_side_effects=["nausea"],
                    med_still_taking=True,
                    med_confirm=None,
                    med_index=0,
                    med_readback=AT_CONFIRM["med_readback"],
                    med_current="Zoloft",
                )
            ],
        ),
        SlotSet("requested_slot", "med_dose"),  # the same questions about Lexapro
    ]
    assert said == []
    record = repo.intake(SENDER)
    assert record is not None and record["trials"] == trials


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("no, it was 100 mg", "med_dose", 100.0),
        ("it was 12 weeks", "med_weeks", 12.0),
        ("I missed a lot of doses", "med_adherence", "often_missed"),
        ("actually it didn't help at all", "med_outcome", "no_response"),
        ("side effects were nausea and headaches", "med_side_effects", ["nausea", "headaches"]),
        ("no side effects", "med_side_effects", []),
        ("I'm not taking it anymore", "med_still_taking", False),
    ],
)
def test_a_typed_correction_is_read_by_what_it_contains(text: str, slot: str, value: Any) -> None:
    events, said, repo = validate(answer_tracker("med_confirm", text, AT_CONFIRM, intent="deny"))
    fixed = {**SERTRALINE_DONE, FIELD_OF[slot]: value}
    assert events == [
        SlotSet("med_confirm", None),
        SlotSet(slot, value),
        SlotSet("trials", [fixed]),
        SlotSet("med_readback", readback(fixed)),
        SlotSet(
            "intake_undo",
            [
                undo(
                    **{
                        "med_confirm": None,
                        slot: AT_CONFIRM[slot],
                        "trials": [SERTRALINE_DONE],
                        "med_readback": AT_CONFIRM["med_readback"],
                    }
                )
            ],
        ),
        SlotSet("requested_slot", "med_confirm"),  # read back again, with the change
    ]
    assert said == ["utter_med_changed"]
    record = repo.intake(SENDER)
    assert record is not None and record["trials"] == [fixed]


def test_a_correction_may_change_two_fields_at_once() -> None:
    assert read_corrections("no, 100 mg for 12 weeks") == {"max_dose_mg": 100.0, "weeks_at_dose": 12.0}
    assert read_confirm("yes but it was 200mg") == {"fix": {"max_dose_mg": 200.0}}


def test_a_number_without_a_unit_is_not_guessed_to_be_a_dose_or_a_time() -> None:
    events, said, _ = validate(answer_tracker("med_confirm", "no, 100", AT_CONFIRM, intent="deny"))
    assert events == [SlotSet("med_confirm", None), SlotSet("requested_slot", "med_confirm")]
    assert said == ["utter_med_confirm_hint"]


@pytest.mark.parametrize(
    ("text", "slot"),
    [
        ("Change the dose", "med_dose"),
        ("Change how long", "med_weeks"),
        ("Change missed doses", "med_adherence"),
        ("Change what happened", "med_outcome"),
        ("Change side effects", "med_side_effects"),
        ("Change still taking", "med_still_taking"),
        ("the dose is wrong", "med_dose"),
        ("side effects", "med_side_effects"),
    ],
)
def test_a_button_naming_a_part_asks_that_question_again(text: str, slot: str) -> None:
    events, said, _ = validate(answer_tracker("med_confirm", text, AT_CONFIRM))
    assert events == [
        SlotSet("med_confirm", None),
        SlotSet(slot, None),
        SlotSet("intake_undo", [undo(**{"med_confirm": None, slot: AT_CONFIRM[slot]})]),
        SlotSet("requested_slot", slot),
    ]
    assert said == []


def test_a_part_button_is_an_answer_even_if_the_classifier_calls_it_a_question() -> None:
    events, said, _ = validate(
        answer_tracker("med_confirm", "Change what happened", AT_CONFIRM, intent="treatment_question")
    )
    assert events[-1] == SlotSet("requested_slot", "med_outcome")
    assert said == []


def test_a_bare_no_asks_which_part_to_change() -> None:
    events, said, _ = validate(answer_tracker("med_confirm", "no", AT_CONFIRM, intent="deny"))
    assert events == [
        SlotSet("med_confirm", None),
        SlotSet("intake_undo", [undo(med_confirm=None)]),
        SlotSet("requested_slot", "med_confirm"),  # read back again, with the buttons
    ]
    assert said == ["utter_med_which_part"]


# --- more medicines --------------------------------------------------------------------------------

DONE_ONE = {**AT_CONFIRM, **{s: None for s in AT_CONFIRM if s.startswith("med_") and s != "med_names"}}
DONE_ONE.update({"med_index": 1, "med_current": None})


def test_after_the_last_medicine_the_form_asks_for_others() -> None:
    events, _, _ = validate(answer_tracker("med_confirm", "yes", AT_CONFIRM, intent="affirm"))
    assert events[-1] == SlotSet("requested_slot", "med_more")


def test_yes_to_more_asks_which_and_no_ends_the_part() -> None:
    events, said, _ = validate(answer_tracker("med_more", "Yes", DONE_ONE, intent="affirm"))
    assert events == [
        SlotSet("med_more", True),
        SlotSet("med_names", None),
        SlotSet("intake_undo", [undo(med_more=None, med_names=DONE_ONE["med_names"])]),
        SlotSet("requested_slot", "med_names"),  # "Which other medicines?"
    ]
    events, said, _ = validate(answer_tracker("med_more", "No, that's all", DONE_ONE, intent="deny"))
    ordered = [{**SERTRALINE_DONE, "order": 1}]  # one medicine: the first
    assert events == [
        SlotSet("med_more", False),
        SlotSet("trials", ordered),
        SlotSet("intake_undo", [undo(med_more=None, trials=[SERTRALINE_DONE])]),
        SlotSet("requested_slot", None),
    ]


def test_naming_a_medicine_instead_of_yes_goes_straight_to_its_questions() -> None:
    events, _, _ = validate(answer_tracker("med_more", "yes, wellbutrin", DONE_ONE))
    assert SlotSet("trials", [SERTRALINE_DONE, blank("bupropion", "wellbutrin")]) in events
    assert SlotSet("med_current", "Wellbutrin") in events
    assert events[-1] == SlotSet("requested_slot", "med_dose")


# --- whole conversations -------------------------------------------------------------------------------


def test_two_medicines_with_a_correction_and_a_skip_end_in_schema_valid_trials_in_order() -> None:
    chat = Chat()
    assert chat.asked == "med_names"
    chat.say("I took zoloft first and then lexapro", intent="inform_medications")
    assert chat.said == ["utter_med_listed"] and chat.asked == "med_dose"
    chat.say("150mg")
    chat.say("about 8 weeks")
    chat.say("Most days")
    chat.say("Some improvement")
    chat.say("nausea")
    chat.say("No")
    assert chat.asked == "med_added_to"  # two medicines named: was this one added to another?
    chat.say("On its own")
    assert chat.asked == "med_confirm"
    assert chat.slots["med_readback"] == (
        "Zoloft (sertraline), up to 150 mg a day for about 8 weeks, taken most days; some improvement; "
        "side effects: nausea; not taking it now."
    )
    chat.say("no, it was 100 mg", intent="deny")
    assert chat.said == ["utter_med_changed"] and chat.asked == "med_confirm"
    assert chat.slots["med_readback"].startswith("Zoloft (sertraline), up to 100 mg a day")
    chat.say("Yes, that's right", intent="affirm")
    assert chat.asked == "med_dose" and chat.slots["med_current"] == "Lexapro"
    chat.say("20 mg")
    chat.say("skip", intent="dont_know")
    assert chat.said == ["utter_intake_skipped"]
    chat.say("Often missed")
    chat.say("Too early to tell")
    chat.say("None")
    chat.say("yes, still taking it")
    chat.say("added to the zoloft")
    assert chat.slots["med_readback"].endswith("still taking it; added on top of sertraline.")
    chat.say("Yes", intent="affirm")
    assert chat.asked == "med_more"
    chat.say("No, that's all", intent="deny")
    assert chat.asked is None  # "first and then": the order was given; the orchestrator moves on

    expected = [
        {
            **blank("sertraline", "zoloft"),
            "max_dose_mg": 100.0,
            "weeks_at_dose": 8.0,
            "adherence": "most_days",
            "outcome": "partial_response",
            "side_effects": ["nausea"],
            "still_taking": False,
            "added_to": None,
            "order": 1,
        },
        {
            **blank("escitalopram", "lexapro"),
            "max_dose_mg": 20.0,
            "weeks_at_dose": None,
            "adherence": "often_missed",
            "outcome": "too_early",
            "side_effects": [],
            "still_taking": True,
            "added_to": "sertraline",
            "order": 2,
        },
    ]
    assert chat.trials == expected
    schema_valid(chat.trials)
    record = chat.record()
    assert record["trials"] == expected and "trials_unreadable" not in record
    result = navigate({"trials": record["trials"]}, default_knowledge()).to_dict()
    assert [(t["drug"], t["adequacy"]) for t in result["trials"]] == [
        ("sertraline", "adequate"),
        ("escitalopram", "inadequate_adherence"),
    ]


def test_another_medicine_loop_appends_after_the_ones_already_confirmed() -> None:
    chat = Chat()
    chat.say("prozac", intent="inform_medications")
    for answer in ("20 mg", "6 weeks", "Most days", "No change", "None", "No", "Yes"):
        chat.say(answer)
    assert chat.asked == "med_more"
    chat.say("Yes", intent="affirm")
    assert chat.asked == "med_names"
    chat.say("effexor and then abilify", intent="inform_medications")
    assert [t["drug"] for t in chat.trials] == ["fluoxetine", "venlafaxine", "aripiprazole"]
    assert chat.slots["med_current"] == "Effexor" and chat.asked == "med_dose"
    for _ in range(2):  # six questions and "added on top of another?" (three medicines named)
        for answer in ("skip", "skip", "skip", "skip", "skip", "skip", "skip", "Yes"):
            chat.say(answer, intent="dont_know" if answer == "skip" else "affirm")
    assert chat.asked == "med_more"
    chat.say("nope", intent="deny")
    assert chat.asked == "med_order"  # named in two answers: which came first is asked
    assert chat.slots["med_order_names"] == "Prozac, Effexor and Abilify"
    chat.say("effexor first, then prozac, then abilify")
    assert chat.asked is None
    schema_valid(chat.trials)
    assert chat.trials[0]["outcome"] == "no_response"
    assert [t["order"] for t in chat.trials] == [2, 1, 3]
    assert chat.trials[2] == {
        **blank("aripiprazole", "abilify", role="augmentation"),
        "added_to": None,
        "order": 3,
    }


def test_skip_this_part_leaves_the_named_medicines_with_unknown_answers() -> None:
    chat = Chat()
    chat.say("zoloft and lexapro", intent="inform_medications")
    chat.say("150mg")
    chat.say("skip this part", intent="skip_part")
    assert chat.asked is None
    assert [t["drug"] for t in chat.trials] == ["sertraline", "escitalopram"]
    assert chat.trials[0]["max_dose_mg"] == 150.0 and chat.trials[1]["max_dose_mg"] is None
    schema_valid(chat.record()["trials"])


def test_go_back_from_the_first_question_about_a_medicine_returns_to_the_names() -> None:
    chat = Chat()
    chat.say("zoloft", intent="inform_medications")
    assert chat.asked == "med_dose"
    chat.say("go back", intent="go_back")
    assert chat.said == ["utter_intake_went_back"] and chat.asked == "med_names"
    assert chat.trials == []


def test_state_left_from_before_a_start_over_does_not_leak_into_new_answers() -> None:
    """ "start over" clears the answers and `trials`; a stale index must not skip a medicine."""
    stale = {"med_index": 2, "med_current": "Effexor", "med_readback": "Effexor, ..."}
    events, _, _ = validate(answer_tracker("med_names", "prozac", stale, intent="inform_medications"))
    assert SlotSet("trials", [blank("fluoxetine", "prozac")]) in events
    assert SlotSet("med_index", 0) in events
    assert SlotSet("med_current", "Prozac") in events
    assert SlotSet("med_readback", None) in events
    assert events[-1] == SlotSet("requested_slot", "med_dose")


# --- a crisis in the middle, and what is never taken as an answer ------------------------------------------


def test_after_a_crisis_the_form_resumes_at_the_same_medicine_and_question() -> None:
    """SafetyPolicy deactivated the form at the dose of the second medicine; it comes back there."""
    slots = {
        "med_names": {"mentions": [], "none": False},
        "trials": [SERTRALINE_DONE, blank("escitalopram", "lexapro")],
        "med_index": 1,
        "med_current": "Lexapro",
    }
    prefilled = {"med_names": slots["med_names"], "med_dose": "I don't want to be here anymore"}
    events, said, _ = validate(activation_tracker(slots, prefilled))
    assert events == [
        SlotSet("med_names", slots["med_names"]),
        SlotSet("med_dose", None),  # the crisis message is never an answer
        SlotSet("requested_slot", "med_dose"),
    ]
    assert said == []


def test_a_resumed_form_keeps_the_answers_already_given_for_the_current_medicine() -> None:
    slots = {**ONE, "trials": [{**blank("sertraline", "zoloft"), "max_dose_mg": 150.0}]}
    prefilled = {"med_names": ONE["med_names"], "med_dose": 150.0, "med_weeks": SKIPPED}
    events, _, _ = validate(activation_tracker(slots, prefilled))
    assert events == [
        SlotSet("med_names", ONE["med_names"]),
        SlotSet("med_dose", 150.0),
        SlotSet("med_weeks", SKIPPED),
        SlotSet("requested_slot", "med_adherence"),
    ]


def test_a_question_mid_form_is_handed_to_the_rules() -> None:
    events, said, _ = validate(answer_tracker("med_dose", "what is TMS?", ONE, intent="treatment_question"))
    assert events[:2] == [SlotSet("med_dose", None), ActionExecutionRejected(FORM)]
    assert said == []


# --- the domain section the form relies on ----------------------------------------------------------------


@pytest.mark.slow
def test_the_domain_declares_every_question_with_a_guarded_mapping_a_question_and_a_hint() -> None:
    domain = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))
    assert domain["forms"][FORM]["required_slots"] == list(QUESTION_SLOTS)
    assert f"validate_{FORM}" in domain["actions"]
    for slot in QUESTION_SLOTS:
        mappings = domain["slots"][slot]["mappings"]
        assert [m["type"] for m in mappings] == ["from_text"], slot
        assert set(NOT_INTENT) <= set(mappings[0]["not_intent"]), slot
        assert mappings[0]["conditions"] == [{"active_loop": FORM, "requested_slot": slot}], slot
        assert f"utter_ask_{slot}" in domain["responses"], slot
        if slot in V2_SLOTS:  # worded in intake_questions.yml, with a hint per kind
            assert f"utter_intake_hint_{KIND_OF_SLOT[slot]}" in domain["responses"], slot
        else:
            assert f"utter_{slot}_hint" in domain["responses"], slot
    for slot in STATE_SLOTS:
        assert domain["slots"][slot]["mappings"] == [{"type": "custom"}], slot
        assert domain["slots"][slot]["influence_conversation"] is False, slot
    for slot in FIELD_SLOTS:
        assert "{med_current}" in domain["responses"][f"utter_ask_{slot}"][0]["text"], slot
    confirm = domain["responses"]["utter_ask_med_confirm"][0]
    assert confirm["text"].startswith("{med_readback} Is that right?")
    for button in confirm["buttons"]:
        assert button["title"] == button["payload"]  # plain words through the NLU, never a /payload
        assert read_confirm(button["title"]) in (True, *({"pick": s} for s in FIELD_SLOTS))


# --- version 2: what it was for, when it came back, added to what, and the order ---------------------------


class _Marked:
    """A lexicon entry as drugs.yml marks one with a sleep or pain dose range (``sleep_pain_dose``)."""

    def __init__(self, entry: Any, uses: Tuple[str, ...]) -> None:
        self._entry = entry
        self.sleep_pain_dose = {"uses": list(uses), "max_mg": 100}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._entry, name)


class _MarkedLexicon:
    """The real lexicon, with trazodone marked for sleep (whatever drugs.yml says today)."""

    def __init__(self) -> None:
        self._lexicon = default_knowledge().lexicon

    def lookup(self, name: str) -> Any:
        entry = self._lexicon.lookup(name)
        if entry is not None and entry.generic == "trazodone":
            return _Marked(entry, ("sleep",))
        if entry is not None and getattr(entry, "sleep_pain_dose", None) is not None:
            return _Marked(entry, ())  # no other drug is marked in these tests
        return entry

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lexicon, name)


def validate_marked(tracker: Tracker) -> Tuple[List[Dict[str, Any]], List[Any], Repository]:
    repository = InMemoryRepository()
    validator = ValidateMedicationsForm(lambda: repository, lexicon=_MarkedLexicon())  # type: ignore[arg-type]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(validator.run(dispatcher, tracker, DOMAIN))
    said = [m.get("response") or m.get("text") for m in dispatcher.messages]
    return events, said, repository


TRAZODONE = {
    "med_names": {"mentions": [{"drug": "trazodone", "name_given": "trazodone"}], "none": False},
    "trials": [blank("trazodone", "trazodone")],
    "med_index": 0,
    "med_current": "trazodone",
}


def test_a_medicine_with_a_sleep_dose_range_is_asked_what_it_was_for_before_its_dose() -> None:
    events, said, _ = validate_marked(activation_tracker(TRAZODONE, {}))
    assert events[-1] == SlotSet("requested_slot", "med_purpose")
    events, said, repo = validate_marked(answer_tracker("med_purpose", "to help me sleep", TRAZODONE))
    trial = {**blank("trazodone", "trazodone"), "purpose": "sleep"}
    assert events == [
        SlotSet("med_purpose", "sleep"),
        SlotSet("trials", [trial]),
        SlotSet("med_readback", "Trazodone, for sleep, dose not known; not sure whether still taking it."),
        SlotSet(
            "intake_undo",
            [undo(med_purpose=None, trials=TRAZODONE["trials"], med_readback=None)],
        ),
        SlotSet("requested_slot", "med_dose"),
    ]
    assert said == []
    # for sleep: only the dose and whether it is still taken, then the read-back
    slots = {**TRAZODONE, "trials": [trial], "med_purpose": "sleep"}
    events, _, _ = validate_marked(answer_tracker("med_dose", "50mg at night", slots))
    assert events[-1] == SlotSet("requested_slot", "med_still_taking")
    slots = {**slots, "med_dose": 50.0, "trials": [{**trial, "max_dose_mg": 50.0}]}
    events, _, repo = validate_marked(answer_tracker("med_still_taking", "yes", slots, intent="affirm"))
    assert events[-1] == SlotSet("requested_slot", "med_confirm")
    assert SlotSet("med_readback", "Trazodone, for sleep, up to 50 mg a day; still taking it.") in events
    record = repo.intake(SENDER)
    assert record is not None and record["trials"][0]["purpose"] == "sleep"


def test_a_medicine_without_a_sleep_or_pain_range_is_not_asked_what_it_was_for() -> None:
    events, _, _ = validate_marked(activation_tracker(ONE, {}))
    assert events[-1] == SlotSet("requested_slot", "med_dose")


def test_after_it_came_back_the_form_asks_whether_that_was_while_still_taking_it() -> None:
    answered = {
        "med_dose": 150.0,
        "med_weeks": 8.0,
        "med_adherence": "most_days",
        "med_outcome": "response_then_relapse",
    }
    trial = {
        **blank("sertraline", "zoloft"),
        "max_dose_mg": 150.0,
        "weeks_at_dose": 8.0,
        "adherence": "most_days",
        "outcome": "response_then_relapse",
    }
    slots = {**ONE, "trials": [trial], **answered}
    events, said, repo = validate(answer_tracker("med_relapse", "No, I'd stopped or lowered it", slots))
    expected = {**trial, "relapse_while_taking": False}
    assert events == [
        SlotSet("med_relapse", False),
        SlotSet("trials", [expected]),
        SlotSet("med_readback", readback(expected)),
        SlotSet("intake_undo", [undo(med_relapse=None, trials=[trial], med_readback=None)]),
        SlotSet("requested_slot", "med_side_effects"),
    ]
    assert "improved, then it came back after stopping or lowering it" in readback(expected)
    record = repo.intake(SENDER)
    assert record is not None and record["trials"] == [expected]
    schema_valid([expected])
    # a changed outcome drops the answer that no longer applies
    events, _, _ = validate(
        answer_tracker("med_outcome", "No change", {**slots, "med_relapse": False, "trials": [expected]})
    )
    assert SlotSet("trials", [{**trial, "outcome": "no_response"}]) in events
    assert events[-1] == SlotSet("requested_slot", "med_side_effects")


TWO = {
    "med_names": {
        "mentions": [
            {"drug": "sertraline", "name_given": "zoloft"},
            {"drug": "bupropion", "name_given": "wellbutrin"},
        ],
        "none": False,
    },
    "trials": [{**SERTRALINE_DONE, "added_to": None}, blank("bupropion", "wellbutrin")],
    "med_index": 1,
    "med_current": "Wellbutrin",
    "med_dose": 300.0,
    "med_weeks": 10.0,
    "med_adherence": "most_days",
    "med_outcome": "no_response",
    "med_side_effects": [],
    "med_still_taking": True,
}


def test_with_two_medicines_each_is_asked_whether_it_was_added_on_top_of_another() -> None:
    events, said, repo = validate(answer_tracker("med_added_to", "it was added to the zoloft", TWO))
    added = {**TWO["trials"][1], "added_to": "sertraline"}
    assert events == [
        SlotSet("med_added_to", {"added_to": ["sertraline"]}),
        SlotSet("trials", [TWO["trials"][0], added]),
        SlotSet("med_readback", readback(added)),
        SlotSet("intake_undo", [undo(med_added_to=None, trials=TWO["trials"], med_readback=None)]),
        SlotSet("requested_slot", "med_confirm"),
    ]
    assert readback(added).endswith("; added on top of sertraline.")
    record = repo.intake(SENDER)
    assert record is not None and record["trials"][1]["added_to"] == "sertraline"


def test_added_without_saying_to_which_is_asked_which_one() -> None:
    events, said, _ = validate(answer_tracker("med_added_to", "yes it was added", TWO))
    assert events == [SlotSet("med_added_to", None), SlotSet("requested_slot", "med_added_to")]
    assert said == ["utter_intake_hint_added_to"]


def test_an_unclear_order_is_asked_once_at_the_end_and_read_from_the_names() -> None:
    trials = [{**SERTRALINE_DONE}, {**blank("escitalopram", "lexapro")}, {**blank("aripiprazole", "abilify")}]
    slots = {
        "med_names": {"mentions": [], "none": False},
        "trials": trials,
        "med_index": 3,
        "med_order_clear": False,
    }
    events, _, _ = validate(answer_tracker("med_more", "no, that's all", slots, intent="deny"))
    assert events == [
        SlotSet("med_more", False),
        SlotSet("med_order_names", "Zoloft, Lexapro and Abilify"),
        SlotSet("med_order_example", "Zoloft, then Lexapro"),
        SlotSet(
            "intake_undo",
            [undo(med_more=None, med_order_names=None, med_order_example=None)],
        ),
        SlotSet("requested_slot", "med_order"),
    ]
    slots.update({"med_more": False, "med_order_names": "Zoloft, Lexapro and Abilify"})
    events, _, repo = validate(answer_tracker("med_order", "lexapro first, then zoloft", slots))
    ordered = [{**trials[0], "order": 2}, {**trials[1], "order": 1}, {**trials[2], "order": 3}]
    assert events[:2] == [
        SlotSet(
            "med_order",
            {
                "order": [
                    {"drug": "escitalopram", "name_given": "lexapro"},
                    {"drug": "sertraline", "name_given": "zoloft"},
                ]
            },
        ),
        SlotSet("trials", ordered),
    ]
    assert events[-1] == SlotSet("requested_slot", None)
    record = repo.intake(SENDER)
    assert record is not None and [t["order"] for t in record["trials"]] == [2, 1, 3]
    events, _, _ = validate(answer_tracker("med_order", "In the order I named them", slots))
    assert SlotSet("trials", [{**t, "order": i} for i, t in enumerate(trials, start=1)]) in events
    events, _, _ = validate(answer_tracker("med_order", "not sure", slots, intent="dont_know"))
    assert SlotSet("trials", [{**t, "order": None} for t in trials]) in events
