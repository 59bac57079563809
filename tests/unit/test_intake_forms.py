"""The intake forms' validation, with rasa_sdk trackers and a dict domain built in code.

Each test hands a validator the tracker Rasa's FormAction sends (the answer's candidate
SlotSet last) and asserts the exact events it returns, what it says, and the record the
repository holds afterwards.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.base import SKIPPED
from actions.forms.intake_base import IntakeFormValidation
from actions.forms.intake_cautions import ValidateCautionsForm
from actions.forms.intake_episode import ValidateEpisodeForm
from actions.forms.intake_phq9 import ValidatePhq9Form
from actions.forms.intake_screens import ValidateScreensForm
from actions.forms.intake_therapy import ValidateTherapyForm
from tests.support.trackers import form_answer_events, make_tracker, user_event
from trd.intake.questions import default_questions
from trd.store.repository import InMemoryRepository, Repository

SENDER = "intake-7"
Q = default_questions()
FORMS = ("phq9_form", "episode_form", "therapy_form", "screens_form", "cautions_form")
EXTRA_SLOTS = (
    "intake_part",
    "intake_started",
    "intake_parts_done",
    "intake_undo",
    "intake_nav",
    "intake_part_label",
    "intake_crises",
    "psychotherapy",
    "other_treatments",
    "ot_current",
    "ot_current_label",
    "trials",
    "crisis_active",
    "risk_category",
    "crisis_interrupted_loop",
    "requested_slot",
)
DOMAIN: Dict[str, Any] = {
    "forms": {form: {"required_slots": Q.form_slots(form)} for form in FORMS},
    "slots": {
        **{slot: {"type": "any", "influence_conversation": False, "mappings": []} for slot in Q.questions},
        **{slot: {"type": "any", "influence_conversation": False, "mappings": []} for slot in EXTRA_SLOTS},
    },
    "responses": {},
    "actions": [f"validate_{form}" for form in FORMS],
}


def answer_tracker(
    form: str,
    slot: str,
    text: str,
    intent: str = "intake_answer",
    confidence: float = 0.95,
    slots: Optional[Dict[str, Any]] = None,
    history: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    """What FormAction sends after the person answered ``slot`` with ``text``."""
    message = user_event(text, intent, confidence)
    events = list(history or []) + form_answer_events(form, slot, message, text)
    all_slots: Dict[str, Any] = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots or {})
    all_slots.update({slot: text, "requested_slot": slot})
    latest = message["parse_data"]
    return make_tracker(SENDER, all_slots, latest, events, active_loop=form, latest_action=form)


def activation_tracker(
    form: str, prefilled: Dict[str, Any], slots: Optional[Dict[str, Any]] = None
) -> Tracker:
    """What FormAction sends when a form starts (again) with answers already in its slots."""
    events: List[Dict[str, Any]] = [
        {"event": "action", "name": "action_resume_after_crisis"},
        {"event": "slot", "name": "requested_slot", "value": None},
        {"event": "action", "name": form},
        *({"event": "slot", "name": k, "value": v} for k, v in prefilled.items()),
    ]
    all_slots: Dict[str, Any] = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots or {})
    all_slots.update(prefilled)
    return make_tracker(SENDER, all_slots, {}, events, latest_action=form)


VALIDATORS = {
    "phq9_form": ValidatePhq9Form,
    "episode_form": ValidateEpisodeForm,
    "therapy_form": ValidateTherapyForm,
    "screens_form": ValidateScreensForm,
    "cautions_form": ValidateCautionsForm,
}


def validate(
    tracker: Tracker, repo: Optional[Repository] = None
) -> Tuple[List[Dict[str, Any]], List[Any], Repository]:
    repository = repo if repo is not None else InMemoryRepository()
    form = str(tracker.active_loop.get("name") or tracker.latest_action_name)
    validator: IntakeFormValidation = VALIDATORS[form](lambda: repository)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(validator.run(dispatcher, tracker, DOMAIN))
    said = [m.get("response") or m.get("text") for m in dispatcher.messages]
    return events, said, repository


def undo_entry(form: str, part: str, **slots: Any) -> Dict[str, Any]:
    return {"form": form, "part": part, "slots": slots}


PHQ_DONE = {f"phq9_q{i}": 1 for i in range(1, 9)}

# --- PHQ-9 answers in all forms ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("Not at all", 0),
        ("Several days", 1),
        ("More than half the days", 2),
        ("Nearly every day", 3),
        ("0", 0),
        ("2", 2),
        ("3", 3),
        ("most days", 2),
        ("every day", 3),
        ("never", 0),
    ],
)
def test_a_phq9_answer_by_button_number_or_words_is_stored_and_saved(text: str, score: int) -> None:
    events, said, repo = validate(answer_tracker("phq9_form", "phq9_q2", text, slots={"phq9_q1": 1}))
    assert events == [
        SlotSet("phq9_q2", score),
        SlotSet("intake_undo", [undo_entry("phq9_form", "phq9", phq9_q2=None)]),
    ]
    assert said == []
    record = repo.intake(SENDER)
    assert record is not None and record["phq9_items"][:3] == [1, score, None]


@pytest.mark.parametrize("text", ["sometimes", "4", "banana", "?"])
def test_an_unreadable_phq9_answer_is_asked_again_with_the_options(text: str) -> None:
    events, said, repo = validate(answer_tracker("phq9_form", "phq9_q4", text, intent="nlu_fallback"))
    assert events == [SlotSet("phq9_q4", None)]
    assert said == ["utter_intake_hint_phq9"]
    assert repo.intake(SENDER) is None


def test_after_three_unreadable_answers_the_question_is_left_unknown() -> None:
    history = []
    for attempt in ("meh", "dunno really what to say"):
        history += [
            {"event": "slot", "name": "requested_slot", "value": "phq9_q4"},
            user_event(attempt, "nlu_fallback"),
            {"event": "slot", "name": "requested_slot", "value": "phq9_q4"},
        ]
    events, said, repo = validate(
        answer_tracker("phq9_form", "phq9_q4", "ugh", "nlu_fallback", history=history)
    )
    assert events == [
        SlotSet("phq9_q4", SKIPPED),
        SlotSet("intake_undo", [undo_entry("phq9_form", "phq9", phq9_q4=None)]),
    ]
    assert said == ["utter_intake_skipped"]
    record = repo.intake(SENDER)
    assert record is not None and record["phq9_items"][3] is None


@pytest.mark.parametrize("text", ["skip", "I don't know", "not sure", "Not sure", "idk", "I can't remember"])
def test_skip_and_dont_know_store_unknown_and_move_on(text: str) -> None:
    events, said, repo = validate(answer_tracker("phq9_form", "phq9_q5", text, intent="dont_know"))
    assert events == [
        SlotSet("phq9_q5", SKIPPED),
        SlotSet("intake_undo", [undo_entry("phq9_form", "phq9", phq9_q5=None)]),
    ]
    assert said == ["utter_intake_skipped"]
    record = repo.intake(SENDER)
    assert record is not None and record["phq9_items"][4] is None and record["phq9"] is None


def test_a_confident_dont_know_intent_in_other_words_is_unknown_too() -> None:
    events, _, _ = validate(
        answer_tracker(
            "episode_form",
            "previous_episodes",
            "honestly no recollection",
            intent="dont_know",
            confidence=0.93,
        )
    )
    assert events[0] == SlotSet("previous_episodes", SKIPPED)


# --- item 9 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "score"), [("Several days", 1), ("2", 2), ("Nearly every day", 3)])
def test_item_9_above_zero_enters_the_safety_path_at_once(text: str, score: int) -> None:
    events, said, repo = validate(answer_tracker("phq9_form", "phq9_q9", text, slots=PHQ_DONE))
    assert events == [
        SlotSet("phq9_q9", score),
        SlotSet("crisis_active", True),
        SlotSet("risk_category", "suicidal_ideation"),
        SlotSet("requested_slot", None),  # the form ends; the rule sends utter_crisis and the check
        SlotSet("intake_undo", [undo_entry("phq9_form", "phq9", phq9_q9=None)]),
    ]
    assert said == ["utter_intake_item9"]
    record = repo.intake(SENDER)
    assert record is not None
    assert record["phq9_items"][8] == score and record["suicidal_thoughts_now"] is True
    assert record["safety"]["phq9_item9_positive"] is True


def test_item_9_at_zero_just_finishes_the_phq9() -> None:
    events, said, repo = validate(answer_tracker("phq9_form", "phq9_q9", "Not at all", slots=PHQ_DONE))
    assert events == [
        SlotSet("phq9_q9", 0),
        SlotSet("intake_undo", [undo_entry("phq9_form", "phq9", phq9_q9=None)]),
    ]
    assert said == []
    record = repo.intake(SENDER)
    assert record is not None and record["phq9"] == [1] * 8 + [0] and record["suicidal_thoughts_now"] is False


def test_item_9_unknown_is_not_zero_and_not_a_crisis() -> None:
    events, _, repo = validate(answer_tracker("phq9_form", "phq9_q9", "I'd rather not say", slots=PHQ_DONE))
    assert events[0] == SlotSet("phq9_q9", SKIPPED)
    assert SlotSet("crisis_active", True) not in events
    record = repo.intake(SENDER)
    assert record is not None and record["suicidal_thoughts_now"] is None


def test_item_9_after_a_crisis_check_on_the_same_question_is_not_checked_twice() -> None:
    history = [
        {"event": "slot", "name": "requested_slot", "value": "phq9_q9"},
        user_event("I think about killing myself every day", "crisis"),
        {"event": "slot", "name": "crisis_active", "value": True},
        {"event": "slot", "name": "crisis_active", "value": False},
    ]
    events, said, repo = validate(
        answer_tracker("phq9_form", "phq9_q9", "3", slots=PHQ_DONE, history=history)
    )
    assert events == [
        SlotSet("phq9_q9", 3),
        SlotSet("intake_undo", [undo_entry("phq9_form", "phq9", phq9_q9=None)]),
    ]
    assert said == []
    record = repo.intake(SENDER)
    assert record is not None and record["suicidal_thoughts_now"] is True


# --- go back -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [("go back", "go_back"), ("Back", "nlu_fallback"), ("wait can we go to the previous one", "go_back")],
)
def test_go_back_re_asks_the_previous_question(text: str, intent: str) -> None:
    undo = [undo_entry("phq9_form", "phq9", phq9_q1=None), undo_entry("phq9_form", "phq9", phq9_q2=None)]
    events, said, _ = validate(
        answer_tracker(
            "phq9_form",
            "phq9_q3",
            text,
            intent=intent,
            slots={"phq9_q1": 0, "phq9_q2": 3, "intake_undo": undo},
        )
    )
    assert (
        events
        == [
            SlotSet("phq9_q3", None),
            SlotSet("phq9_q2", None),  # asked next: the first unanswered question
            SlotSet("intake_undo", undo[:1]),
        ]
    )
    assert said == ["utter_intake_went_back"]


def test_go_back_at_the_very_first_question_says_so_and_asks_it_again() -> None:
    events, said, _ = validate(answer_tracker("phq9_form", "phq9_q1", "go back", intent="go_back"))
    assert events == [SlotSet("phq9_q1", None)]
    assert said == ["utter_intake_first_question"]


def test_go_back_at_the_first_question_of_a_part_reopens_the_previous_part() -> None:
    undo = [undo_entry("phq9_form", "phq9", phq9_q9=None)]
    events, said, _ = validate(
        answer_tracker(
            "episode_form",
            "episode_months",
            "go back",
            intent="go_back",
            slots={
                **PHQ_DONE,
                "phq9_q9": 0,
                "intake_undo": undo,
                "intake_part": "episode",
                "intake_parts_done": ["phq9"],
            },
        )
    )
    assert events == [
        SlotSet("episode_months", None),
        SlotSet("phq9_q9", None),
        SlotSet("intake_undo", []),
        SlotSet("intake_parts_done", []),
        SlotSet("intake_part", "phq9"),
        SlotSet("intake_nav", "back"),
        SlotSet("requested_slot", None),  # this form ends; action_intake_next reopens part 1
    ]
    assert said == ["utter_intake_back_part"]


def test_go_back_in_a_loop_restores_the_entry_being_asked_about() -> None:
    """Back from the second therapy's first question to "another kind as well?"."""
    cbt = {"type": "cbt", "sessions": 12, "completed": True}
    before = {
        "therapy_more": None,
        "psychotherapy": [],
        "therapy_type": {"type": "cbt", "description": None},
        "therapy_sessions": 12,
        "therapy_completed": {"completed": True, "ongoing": False},
    }
    undo = [undo_entry("therapy_form", "therapy", **before)]
    events, said, _ = validate(
        answer_tracker(
            "therapy_form",
            "therapy_type",
            "go back",
            intent="go_back",
            slots={"therapy_any": True, "psychotherapy": [cbt], "intake_undo": undo},
        )
    )
    assert events == [
        SlotSet("therapy_type", {"type": "cbt", "description": None}),
        SlotSet("therapy_more", None),
        SlotSet("psychotherapy", []),
        SlotSet("therapy_sessions", 12),
        SlotSet("therapy_completed", {"completed": True, "ongoing": False}),
        SlotSet("intake_undo", []),
        SlotSet("requested_slot", "therapy_more"),
    ]
    assert said == ["utter_intake_went_back"]


# --- skip this part -----------------------------------------------------------------------------------


def test_skip_this_part_leaves_the_rest_of_the_form_unknown() -> None:
    events, said, repo = validate(
        answer_tracker(
            "cautions_form",
            "caution_psychosis",
            "skip this part",
            intent="skip_part",
            slots={"age": {"years": 50}, "caution_bp_heart": True},
        )
    )
    rest = ["caution_psychosis", "caution_substance", "caution_pregnancy", "caution_daily_visits"]
    assert events == [
        *(SlotSet(slot, SKIPPED) for slot in rest),
        SlotSet("intake_undo", [undo_entry("cautions_form", "cautions", **{slot: None for slot in rest})]),
    ]
    assert said == ["utter_intake_part_skipped"]
    record = repo.intake(SENDER)
    assert record is not None
    assert record["cautions"]["uncontrolled_blood_pressure_or_heart_disease"] is True
    assert record["cautions"]["can_attend_daily_visits"] is None


# --- digressions: not an answer -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("what is TMS?", "treatment_question"),
        ("how long should I wait before calling a medicine a failure?", "treatment_info"),
        ("can we pause", "pause"),
        ("start over", "start_over"),
        ("hello", "greet"),
        ("continue", "resume"),
        ("what can you do", "what_can_you_do"),
        ("honestly I just feel so hopeless about all of it", "share_feelings"),
    ],
)
def test_a_digression_rejects_the_form_so_the_rules_answer_it(text: str, intent: str) -> None:
    events, said, repo = validate(answer_tracker("phq9_form", "phq9_q3", text, intent=intent))
    assert events == [
        SlotSet("phq9_q3", None),
        ActionExecutionRejected("phq9_form"),
    ]
    assert said == []
    assert repo.intake(SENDER) is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [("sometimes", "pause"), ("ugh whatever", "start_over"), ("TMS", "treatment_question"), ("meh", "greet")],
)
def test_a_classifier_guess_alone_never_pauses_or_restarts_the_intake(text: str, intent: str) -> None:
    events, said, _ = validate(answer_tracker("phq9_form", "phq9_q3", text, intent=intent, confidence=0.9))
    assert events == [SlotSet("phq9_q3", None)]
    assert said == ["utter_intake_hint_phq9"]


def test_an_answer_is_an_answer_whatever_the_classifier_thought() -> None:
    events, _, _ = validate(answer_tracker("phq9_form", "phq9_q3", "Nearly every day", intent="greet"))
    assert events[0] == SlotSet("phq9_q3", 3)
    events, _, _ = validate(
        answer_tracker("therapy_form", "ot_tried", "TMS and ketamine", intent="treatment_question")
    )
    assert events[0] == SlotSet("ot_tried", ["tms", "ketamine"])


def test_a_question_the_classifier_missed_is_answered_in_place_then_asked_again() -> None:
    events, said, _ = validate(
        answer_tracker(
            "therapy_form", "ot_tried", "what's esketamine?", "nlu_fallback", slots={"therapy_any": False}
        )
    )
    assert events == [SlotSet("ot_tried", None), SlotSet("requested_slot", "ot_tried")]
    assert len(said) == 1 and said[0].startswith("Esketamine (Spravato) is a nasal spray")


# --- resuming a form: answers given earlier ----------------------------------------------------------


def test_a_resumed_form_keeps_validated_answers_and_re_asks_raw_text() -> None:
    """A message the safety path took (text in the slot, never validated) is asked again."""
    prefilled = {"phq9_q1": 2, "phq9_q2": SKIPPED, "phq9_q3": "i want to end it all, every day"}
    events, said, _ = validate(activation_tracker("phq9_form", prefilled))
    assert events == [SlotSet("phq9_q1", 2), SlotSet("phq9_q2", SKIPPED), SlotSet("phq9_q3", None)]
    assert said == []


def test_a_resumed_phq9_does_not_reopen_the_crisis_path_for_an_item_9_already_answered() -> None:
    prefilled = {**PHQ_DONE, "phq9_q9": 2}
    events, said, _ = validate(activation_tracker("phq9_form", prefilled))
    assert SlotSet("crisis_active", True) not in events
    assert events == [SlotSet(k, v) for k, v in prefilled.items()]
    assert said == []


# --- episode ---------------------------------------------------------------------------------------


def test_episode_length_in_words_is_months() -> None:
    events, _, repo = validate(answer_tracker("episode_form", "episode_months", "about a year and a half"))
    assert events[0] == SlotSet("episode_months", 18)
    record = repo.intake(SENDER)
    assert record is not None and record["episode_months"] == 18


def test_episode_length_that_cannot_be_read_gets_a_hint() -> None:
    events, said, _ = validate(answer_tracker("episode_form", "episode_months", "since my divorce"))
    assert events == [SlotSet("episode_months", None), SlotSet("requested_slot", "episode_months")]
    assert said == ["utter_intake_hint_months"]


# --- therapy: several, then other treatments ------------------------------------------------------------


def test_no_therapy_goes_straight_to_other_treatments() -> None:
    events, _, _ = validate(answer_tracker("therapy_form", "therapy_any", "no"))
    assert events == [
        SlotSet("therapy_any", False),
        SlotSet("intake_undo", [undo_entry("therapy_form", "therapy", therapy_any=None)]),
        SlotSet("requested_slot", "ot_tried"),
    ]


def test_another_therapy_loops_and_keeps_the_first() -> None:
    slots = {
        "therapy_any": True,
        "therapy_type": {"type": "cbt", "description": None},
        "therapy_sessions": 12,
        "therapy_completed": {"completed": True, "ongoing": False},
    }
    events, _, repo = validate(answer_tracker("therapy_form", "therapy_more", "yes", slots=slots))
    cbt = {"type": "cbt", "sessions": 12, "completed": True}
    assert events[:6] == [
        SlotSet("therapy_more", None),
        SlotSet("psychotherapy", [cbt]),
        SlotSet("therapy_type", None),
        SlotSet("therapy_sessions", None),
        SlotSet("therapy_completed", None),
        SlotSet(
            "intake_undo",
            [
                undo_entry(
                    "therapy_form",
                    "therapy",
                    therapy_more=None,
                    psychotherapy=None,
                    therapy_type=slots["therapy_type"],
                    therapy_sessions=12,
                    therapy_completed=slots["therapy_completed"],
                )
            ],
        ),
    ]
    assert events[6:] == [SlotSet("requested_slot", "therapy_type")]
    record = repo.intake(SENDER)
    assert record is not None and record["psychotherapy"] == [cbt]


def test_other_treatments_ask_about_each_one_named() -> None:
    events, _, _ = validate(
        answer_tracker("therapy_form", "ot_tried", "TMS and ketamine", slots={"therapy_any": False})
    )
    assert events[:3] == [
        SlotSet("ot_tried", ["tms", "ketamine"]),
        SlotSet("ot_current", "tms"),
        SlotSet("ot_current_label", "TMS"),
    ]
    assert events[-1] == SlotSet("requested_slot", "ot_completed")

    slots = {
        "therapy_any": False,
        "ot_tried": ["tms", "ketamine"],
        "ot_current": "tms",
        "ot_current_label": "TMS",
        "ot_completed": {"completed": True, "ongoing": False},
        "ot_sessions": 30,
    }
    events, _, repo = validate(
        answer_tracker("therapy_form", "ot_outcome", "It helped, then wore off", slots=slots)
    )
    tms = {"type": "tms", "completed": True, "outcome": "response_then_relapse", "sessions": 30}
    assert events[:5] == [
        SlotSet("ot_outcome", None),
        SlotSet("other_treatments", [tms]),
        SlotSet("ot_current", "ketamine"),
        SlotSet("ot_current_label", "ketamine"),
        SlotSet("ot_completed", None),
    ]
    assert SlotSet("ot_sessions", None) in events
    assert events[-1] == SlotSet("requested_slot", "ot_completed")
    record = repo.intake(SENDER)
    assert record is not None and record["other_treatments"][0] == tms


def test_the_last_other_treatment_finishes_the_form() -> None:
    tms = {"type": "tms", "completed": True, "outcome": "response_then_relapse"}
    slots = {
        "therapy_any": False,
        "ot_tried": ["tms", "ect"],
        "other_treatments": [tms],
        "ot_current": "ect",
        "ot_current_label": "ECT",
        "ot_completed": {"completed": True, "ongoing": False},
        "ot_sessions": 9,
    }
    events, _, repo = validate(answer_tracker("therapy_form", "ot_outcome", "I got well", slots=slots))
    assert SlotSet("ot_current", None) in events
    assert SlotSet("ot_sessions", None) in events  # ready for the next treatment
    assert events[-1] == SlotSet("requested_slot", None)
    record = repo.intake(SENDER)
    assert record is not None
    assert record["other_treatments"] == [
        tms,
        {"type": "ect", "completed": True, "outcome": "remission", "sessions": 9},
    ]


# --- screens ---------------------------------------------------------------------------------------------


def test_no_trauma_exposure_skips_the_five_items() -> None:
    slots = {
        name: False
        for name in (
            "bp_elevated_periods",
            "bp_little_sleep",
            "bp_ad_activation",
            "bp_family_history",
            "bp_family_suicide",
        )
    }
    events, _, _ = validate(answer_tracker("screens_form", "trauma_exposure", "no", slots=slots))
    assert events[-1] == SlotSet("requested_slot", "adhd_since_childhood")


def test_trauma_exposure_yes_asks_the_pc_ptsd5_items() -> None:
    slots = {
        name: False
        for name in (
            "bp_elevated_periods",
            "bp_little_sleep",
            "bp_ad_activation",
            "bp_family_history",
            "bp_family_suicide",
        )
    }
    events, _, _ = validate(answer_tracker("screens_form", "trauma_exposure", "yes", slots=slots))
    assert events[-1] == SlotSet("requested_slot", "ptsd_1")


def test_blood_tests_are_asked_one_by_one_only_after_a_yes() -> None:
    before_labs = Q.form_slots("screens_form")[: Q.form_slots("screens_form").index("labs_any")]
    slots = {name: False for name in before_labs if not name.startswith("ptsd_") and name != "bp_ad_switch"}
    events, _, _ = validate(answer_tracker("screens_form", "labs_any", "Yes", slots=slots))
    assert events[-1] == SlotSet("requested_slot", "lab_thyroid")
    events, _, _ = validate(answer_tracker("screens_form", "labs_any", "No", slots=slots))
    assert events[-1] == SlotSet("requested_slot", "apnea_snoring")


# --- cautions ---------------------------------------------------------------------------------------------


def test_a_caution_answer_is_saved_as_it_is_given() -> None:
    repo = InMemoryRepository()
    events, _, _ = validate(answer_tracker("cautions_form", "caution_pregnancy", "doesn't apply"), repo)
    none_apply = {
        "pregnant": False,
        "postpartum_within_year": False,
        "breastfeeding": False,
        "planning": False,
    }
    assert events[0] == SlotSet("caution_pregnancy", none_apply)
    record = repo.intake(SENDER)
    assert record is not None and record["cautions"]["pregnant_or_planning"] is False
    assert record["perinatal"] == none_apply


class _DownRepository(InMemoryRepository):
    def save_intake(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database is down")


def test_a_database_failure_does_not_lose_the_answer_or_the_turn(caplog: pytest.LogCaptureFixture) -> None:
    events, said, _ = validate(answer_tracker("cautions_form", "caution_bp_heart", "yes"), _DownRepository())
    assert events[0] == SlotSet(
        "caution_bp_heart", True
    )  # kept in the conversation; saved with the next answer
    assert said == []
    assert "COULD NOT SAVE the intake record" in caplog.text
