"""The crisis path's actions on the action server, with trackers and a domain built in code.

Each test asserts the exact events an action returns, what it says, and what the
repository stored. A repository that fails must never cost the person their turn.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.base import SKIPPED, BaseFormValidation, is_skip
from actions.forms.safety_plan import ActionSaveSafetyPlan, ValidateSafetyPlanForm
from actions.safety import ActionCloseCrisis, ActionRecordCrisis, ActionResumeAfterCrisis
from tests.support import trackers
from trd.escalation.journal import Journal
from trd.store.repository import InMemoryRepository, Repository

ROOT = Path(__file__).resolve().parents[2]
SENDER = "conv-42"
SP_SLOTS = [
    "sp_warning_signs",
    "sp_coping_steps",
    "sp_people_places",
    "sp_who_to_call",
    "sp_professionals",
    "sp_safer_surroundings",
]
DOMAIN: Dict[str, Any] = {
    "forms": {
        "safety_plan_form": {"required_slots": SP_SLOTS},
        "medication_form": {"required_slots": ["medication_name"]},
    },
    "slots": {
        "crisis_active": {"type": "bool", "initial_value": False, "influence_conversation": True},
        "risk_category": {"type": "categorical", "influence_conversation": True},
        "crisis_interrupted_loop": {"type": "text", "influence_conversation": False},
        **{slot: {"type": "text", "influence_conversation": False} for slot in SP_SLOTS},
    },
    "responses": {},
    "actions": ["action_record_crisis", "action_close_crisis", "action_save_safety_plan"],
}


def user_event(
    text: str, intent: str, entities: Optional[List[Dict[str, Any]]] = None, channel: str = "rest"
) -> Dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "input_channel": channel,
        "parse_data": {
            "intent": {"name": intent, "confidence": 0.98},
            "entities": entities or [],
            "text": text,
        },
    }


def make_tracker(
    text: str = "I want to end it all",
    intent: str = "crisis",
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    channel: str = "rest",
    events: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
) -> Tracker:
    message = user_event(text, intent, entities, channel)
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots or {})
    return trackers.make_tracker(
        SENDER,
        all_slots,
        {**message["parse_data"], "text": text},
        events if events is not None else [{"event": "action", "name": "action_listen"}, message],
        active_loop=active_loop,
    )


def run(action: Any, tracker: Tracker) -> tuple[List[Dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return events, dispatcher


class BrokenRepository(InMemoryRepository):
    """Every write fails, like a database that went away."""

    def record_crisis(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database is down")

    def resolve_open_crises(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database is down")

    def save_safety_plan(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database is down")


def unreachable() -> Repository:
    raise ConnectionError("could not connect to the database")


# --- action_record_crisis -------------------------------------------------------------


def test_record_crisis_stores_conversation_channel_category_and_excerpt() -> None:
    repo = InMemoryRepository()
    tracker = make_tracker(
        "been saving up my pills for this",
        entities=[{"entity": "risk_category", "value": "plan"}],
        slots={"risk_category": "plan", "crisis_active": True},
        channel="twilio",
    )
    events, dispatcher = run(ActionRecordCrisis(lambda: repo), tracker)

    assert events == [SlotSet("crisis_active", True)]
    assert dispatcher.messages == []  # the resources were already sent by the Rasa server
    [record] = repo.crises(SENDER)
    assert (record.conversation_id, record.channel, record.category, record.message_excerpt) == (
        SENDER,
        "twilio",
        "plan",
        "been saving up my pills for this",
    )
    assert record.resolved_at is None


def test_record_crisis_records_a_message_once_when_its_turn_runs_again() -> None:
    """After a restart (or a timed-out call) the same message's turn records nothing new."""
    repo = InMemoryRepository()
    tracker = make_tracker("I want to end it all", slots={"risk_category": "plan"})
    tracker.latest_message["message_id"] = "SM0123"
    run(ActionRecordCrisis(lambda: repo), tracker)
    run(ActionRecordCrisis(lambda: repo), tracker)
    assert len(repo.crises(SENDER)) == 1
    tracker.latest_message["message_id"] = "SM0124"  # the next message is a crisis of its own
    run(ActionRecordCrisis(lambda: repo), tracker)
    assert len(repo.crises(SENDER)) == 2


@pytest.mark.parametrize(
    ("intent", "entities", "slot", "expected"),
    [
        ("crisis", [{"entity": "risk_category", "value": "third_party"}], None, "third_party"),
        ("crisis", [{"entity": "medication", "value": "sertraline"}], None, "unspecified"),
        ("crisis_danger_now", [], None, "danger_now"),
        ("sos", [], None, "sos"),
        ("not_safe", [], None, "not_safe"),
        ("crisis", [], None, "unspecified"),
        ("crisis", [{"entity": "risk_category", "value": "plan"}], "danger_now", "danger_now"),
    ],
)
def test_record_crisis_category_comes_from_the_policy_slot_then_the_message(
    intent: str, entities: List[Dict[str, Any]], slot: Optional[str], expected: str
) -> None:
    repo = InMemoryRepository()
    run(
        ActionRecordCrisis(lambda: repo),
        make_tracker(intent=intent, entities=entities, slots={"risk_category": slot}),
    )
    assert [c.category for c in repo.crises(SENDER)] == [expected]


def test_record_crisis_keeps_a_bounded_excerpt() -> None:
    repo = InMemoryRepository()
    run(ActionRecordCrisis(lambda: repo), make_tracker("x" * 5000))
    [record] = repo.crises(SENDER)
    assert len(record.message_excerpt) == 500
    assert record.message_excerpt.endswith("\u2026")


def test_record_crisis_without_a_known_channel_says_unknown() -> None:
    repo = InMemoryRepository()
    tracker = make_tracker()
    tracker.events = [{"event": "action", "name": "action_listen"}]  # e.g. a trigger without a user event
    run(ActionRecordCrisis(lambda: repo), tracker)
    assert repo.crises(SENDER)[0].channel == "unknown"


@pytest.mark.parametrize(
    "factory", [lambda: BrokenRepository(), unreachable], ids=["write fails", "no database"]
)
def test_record_crisis_survives_a_failing_repository(factory: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="actions.safety"):
        events, dispatcher = run(ActionRecordCrisis(factory), make_tracker())
    assert events == [SlotSet("crisis_active", True)]
    assert dispatcher.messages == []
    # Not lost (#10): the crisis goes to the escalation journal (no care team here: nothing to deliver).
    assert "ESCALATION SPOOLED" in caplog.text
    assert SENDER in caplog.text
    [entry] = Journal().pending()
    assert (entry.conversation_id, entry.category, entry.payloads) == (SENDER, entry.category, {})


def test_record_crisis_says_so_when_even_the_journal_cannot_be_written(
    caplog: pytest.LogCaptureFixture, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    monkeypatch.setenv("ESCALATION_JOURNAL_PATH", str(blocked / "journal.jsonl"))
    with caplog.at_level(logging.ERROR, logger="actions.safety"):
        events, _ = run(ActionRecordCrisis(unreachable), make_tracker())
    assert events == [SlotSet("crisis_active", True)]
    assert "COULD NOT RECORD A CRISIS" in caplog.text and SENDER in caplog.text


# --- action_close_crisis --------------------------------------------------------------


def test_close_crisis_resolves_open_crises_and_clears_the_flag() -> None:
    repo = InMemoryRepository()
    repo.record_crisis(SENDER, "rest", "plan", "earlier message")
    repo.record_crisis("someone-else", "rest", "plan", "not this one")
    events, dispatcher = run(
        ActionCloseCrisis(lambda: repo),
        make_tracker("I'm safe", "confirm_safe", slots={"crisis_active": True}),
    )
    assert events == [SlotSet("crisis_active", False)]
    assert dispatcher.messages == []
    assert [c.resolved_at is not None for c in repo.crises(SENDER)] == [True]
    assert [c.resolved_at for c in repo.crises("someone-else")] == [None]


def test_close_crisis_survives_a_failing_repository(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="actions.safety"):
        events, _ = run(
            ActionCloseCrisis(lambda: BrokenRepository()), make_tracker("I'm safe", "confirm_safe")
        )
    assert events == [SlotSet("crisis_active", False)]
    assert "could not resolve" in caplog.text


# --- action_resume_after_crisis ---------------------------------------------------------


def test_resume_reopens_the_interrupted_form() -> None:
    events, _ = run(
        ActionResumeAfterCrisis(),
        make_tracker("yes", "affirm", slots={"crisis_interrupted_loop": "medication_form"}),
    )
    assert events == [SlotSet("crisis_interrupted_loop", None), FollowupAction("medication_form")]


@pytest.mark.parametrize("loop", [None, "", "a_form_that_was_removed"])
def test_resume_without_a_known_interrupted_form_only_clears_the_slot(loop: Optional[str]) -> None:
    events, _ = run(
        ActionResumeAfterCrisis(), make_tracker("yes", "affirm", slots={"crisis_interrupted_loop": loop})
    )
    assert events == [SlotSet("crisis_interrupted_loop", None)]


def test_resume_does_not_restart_a_form_that_is_already_running() -> None:
    tracker = make_tracker(
        "yes", "affirm", slots={"crisis_interrupted_loop": "medication_form"}, active_loop="medication_form"
    )
    events, _ = run(ActionResumeAfterCrisis(), tracker)
    assert events == [SlotSet("crisis_interrupted_loop", None)]


# --- validate_safety_plan_form (and the validation base) --------------------------------


def form_tracker(slot: str, answer: str, earlier_answers: int = 0) -> Tracker:
    """The tracker Rasa's FormAction sends: the answer's candidate SlotSet comes last."""
    events: List[Dict[str, Any]] = [
        {"event": "active_loop", "name": "safety_plan_form"},
        {"event": "slot", "name": "requested_slot", "value": slot},
    ]
    for i in range(earlier_answers):
        events += [
            user_event(f"unusable answer {i}", "nlu_fallback"),
            {"event": "slot", "name": "requested_slot", "value": slot},
            {"event": "action", "name": "action_listen"},
        ]
    events += [user_event(answer, "nlu_fallback"), {"event": "slot", "name": slot, "value": answer}]
    return make_tracker(
        answer,
        "nlu_fallback",
        slots={slot: answer, "requested_slot": slot},
        events=events,
        active_loop="safety_plan_form",
    )


def validate(slot: str, answer: str, earlier_answers: int = 0) -> tuple[List[Dict[str, Any]], List[Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ValidateSafetyPlanForm().run(dispatcher, form_tracker(slot, answer, earlier_answers), DOMAIN)
    )
    return events, [m.get("response") or m.get("text") for m in dispatcher.messages]


def test_an_answer_in_own_words_is_kept_trimmed() -> None:
    events, said = validate("sp_warning_signs", "  I stop answering texts and sleep all day \n")
    assert events == [SlotSet("sp_warning_signs", "I stop answering texts and sleep all day")]
    assert said == []


@pytest.mark.parametrize(
    "answer", ["skip", "Skip.", "not sure", "I don't know", "I don\u2019t know!", "idk", "pass"]
)
def test_skip_words_leave_the_part_blank_and_say_so(answer: str) -> None:
    events, said = validate("sp_professionals", answer)
    assert events == [SlotSet("sp_professionals", SKIPPED)]
    assert said == ["utter_safety_plan_skipped"]


@pytest.mark.parametrize("answer", ["nobody", "none", "I don't know many people, maybe my cousin"])
def test_real_answers_that_contain_no_skip_phrase_are_kept(answer: str) -> None:
    events, _ = validate("sp_who_to_call", answer)
    assert events == [SlotSet("sp_who_to_call", answer)]


@pytest.mark.parametrize("answer", ["   ", "...", "/affirm"])
def test_an_empty_answer_or_a_stray_button_is_asked_again_politely(answer: str) -> None:
    events, said = validate("sp_coping_steps", answer)
    assert events == [SlotSet("sp_coping_steps", None)]
    assert said == ["utter_safety_plan_reask"]


def test_after_three_unusable_answers_the_part_is_skipped_not_asked_a_fourth_time() -> None:
    events, said = validate("sp_coping_steps", "?", earlier_answers=1)
    assert events == [SlotSet("sp_coping_steps", None)]
    events, said = validate("sp_coping_steps", "?", earlier_answers=2)
    assert events == [SlotSet("sp_coping_steps", SKIPPED)]
    assert said == ["utter_safety_plan_skipped"]


def test_a_very_long_answer_is_capped() -> None:
    events, _ = validate("sp_people_places", "my sister's flat " * 400)
    [event] = events
    assert len(event["value"]) <= ValidateSafetyPlanForm.max_text_chars
    assert event["value"].startswith("my sister's flat my sister's flat")


def test_the_base_is_abstract_and_reusable_for_other_forms() -> None:
    class ValidateMedicationForm(BaseFormValidation):
        skippable_slots = frozenset({"medication_name"})
        free_text_slots = frozenset()

        def name(self) -> str:
            return "validate_medication_form"

        def validate_medication_name(
            self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
        ) -> Dict[str, Any]:
            if str(value).lower() == "aspirin":
                dispatcher.utter_message(
                    text="That one isn't an antidepressant. Which antidepressant was it?"
                )
                return {"medication_name": None}
            return {"medication_name": str(value).lower()}

    assert is_skip("Not sure!")
    tracker = make_tracker(
        "Sertraline",
        "nlu_fallback",
        slots={"medication_name": "Sertraline"},
        events=[{"event": "slot", "name": "medication_name", "value": "Sertraline"}],
        active_loop="medication_form",
    )
    dispatcher = CollectingDispatcher()
    assert asyncio.run(ValidateMedicationForm().run(dispatcher, tracker, DOMAIN)) == [
        SlotSet("medication_name", "sertraline")
    ]
    tracker.events = [{"event": "slot", "name": "medication_name", "value": "aspirin"}]
    assert asyncio.run(ValidateMedicationForm().run(dispatcher, tracker, DOMAIN)) == [
        SlotSet("medication_name", None)
    ]
    # the form's own re-ask message is used, not a second generic one
    assert [m["text"] for m in dispatcher.messages] == [
        "That one isn't an antidepressant. Which antidepressant was it?"
    ]
    tracker.events = [{"event": "slot", "name": "medication_name", "value": "no idea"}]
    assert asyncio.run(ValidateMedicationForm().run(dispatcher, tracker, DOMAIN)) == [
        SlotSet("medication_name", SKIPPED)
    ]


# --- action_save_safety_plan ------------------------------------------------------------

PLAN_SLOTS = {
    "sp_warning_signs": "I stop answering my phone",
    "sp_coping_steps": "a hot shower and loud music",
    "sp_people_places": SKIPPED,
    "sp_who_to_call": "my sister Ana",
    "sp_professionals": "Dr Lee at the clinic",
    "sp_safer_surroundings": "Ana keeps my pills for now",
}

READ_BACK = """Here's your safety plan:
1. Signs a hard time is starting: I stop answering my phone
2. Things I can do on my own: a hot shower and loud music
3. People and places that help: (left blank for now)
4. People I can reach out to: my sister Ana
5. Professionals and services: Dr Lee at the clinic
6. Making my surroundings safer: Ana keeps my pills for now"""

RESET = [SlotSet(slot, None) for slot in SP_SLOTS]


def test_save_safety_plan_stores_it_reads_it_back_and_clears_the_form() -> None:
    repo = InMemoryRepository()
    events, dispatcher = run(
        ActionSaveSafetyPlan(lambda: repo), make_tracker("done", "affirm", slots=PLAN_SLOTS)
    )

    assert events == RESET
    assert [m["text"] for m in dispatcher.messages] == [
        READ_BACK + "\nI've saved it, and it will be in your summary. You can change it any time."
    ]
    plan = repo.safety_plan(SENDER)
    assert plan is not None
    assert plan.sections == {
        "warning_signs": "I stop answering my phone",
        "coping_steps": "a hot shower and loud music",
        "people_places": None,
        "who_to_call": "my sister Ana",
        "professionals": "Dr Lee at the clinic",
        "safer_surroundings": "Ana keeps my pills for now",
    }


def test_save_safety_plan_still_reads_it_back_when_the_database_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="actions.forms.safety_plan"):
        events, dispatcher = run(
            ActionSaveSafetyPlan(lambda: BrokenRepository()), make_tracker("done", "affirm", slots=PLAN_SLOTS)
        )
    assert events == RESET
    assert [m["text"] for m in dispatcher.messages] == [
        READ_BACK
        + "\nI couldn't save it just now, sorry. Please copy it or take a screenshot so you have it."
    ]
    assert "could not save the safety plan" in caplog.text


def test_an_all_blank_plan_is_not_saved_over_an_earlier_one() -> None:
    repo = InMemoryRepository()
    repo.save_safety_plan(SENDER, {"warning_signs": "earlier plan"})
    events, dispatcher = run(
        ActionSaveSafetyPlan(lambda: repo),
        make_tracker("skip", "nlu_fallback", slots={s: SKIPPED for s in SP_SLOTS}),
    )
    assert events == RESET
    assert [m["text"] for m in dispatcher.messages] == [
        'We left every part blank, and that\'s okay. You can make the plan any time: just type "safety plan".'
    ]
    plan = repo.safety_plan(SENDER)
    assert plan is not None and plan.sections == {"warning_signs": "earlier plan"}


# --- the action server finds them ---------------------------------------------------------------


@pytest.mark.slow
def test_the_action_server_registers_every_safety_action() -> None:
    # In a fresh interpreter, as `python -m actions.server` does (pytest's sys.path would
    # let rasa_sdk's package walk wander into tests/): a bad Action class stops the server.
    code = (
        "from rasa_sdk.executor import ActionExecutor\n"
        "e = ActionExecutor()\n"
        "e.register_package('actions')\n"
        "print(' '.join(sorted(e.actions)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    registered = out.stdout.split()
    for name in (
        "action_record_crisis",
        "action_close_crisis",
        "action_resume_after_crisis",
        "action_save_safety_plan",
        "validate_safety_plan_form",
    ):
        assert name in registered, name
