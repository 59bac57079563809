"""The intake orchestrator and its digressions: exact events, what is said, what is stored."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.base import SKIPPED
from actions.intake.actions import (
    ActionIntakeConfirmStartOver,
    ActionIntakeExplain,
    ActionIntakeGoBack,
    ActionIntakeNext,
    ActionIntakePause,
    ActionIntakeStartOver,
    ActionIntakeWelcomeBack,
)
from actions.intake.domain_gen import ACTIONS
from tests.support.trackers import make_tracker, user_event
from tests.unit.test_intake_forms import DOMAIN, SENDER
from trd.store.repository import InMemoryRepository

ROOT = Path(__file__).resolve().parents[2]
PART1 = "Part 1 of 5: how things are now"
PART2 = "Part 2 of 5: medicines you've tried"


def tracker(
    slots: Optional[Dict[str, Any]] = None,
    latest_action: str = "action_listen",
    active_loop: Optional[str] = None,
    text: str = "continue",
    intent: str = "resume",
    events: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    message = user_event(text, intent)
    all_slots: Dict[str, Any] = {name: None for name in DOMAIN["slots"]}
    all_slots["crisis_active"] = False
    all_slots.update(slots or {})
    history = events if events is not None else [message, {"event": "action", "name": latest_action}]
    return make_tracker(
        SENDER,
        all_slots,
        message["parse_data"],
        history,
        active_loop=active_loop,
        latest_action=latest_action,
    )


def run(action: Action, t: Tracker, domain: Optional[Dict[str, Any]] = None) -> Tuple[List[Any], List[Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, domain or DOMAIN))
    return events, [m.get("response") or m.get("text") for m in dispatcher.messages]


# --- action_intake_next ---------------------------------------------------------------------------


def test_the_intake_starts_with_an_intro_and_part_1() -> None:
    repo = InMemoryRepository()
    events, said = run(ActionIntakeNext(lambda: repo), tracker(text="let's start", intent="start_intake"))
    assert said == ["utter_intake_intro", "utter_intake_part_phq9"]
    assert events == [
        SlotSet("intake_parts_done", []),
        SlotSet("intake_started", True),
        SlotSet("intake_part", "phq9"),
        SlotSet("intake_part_label", PART1),
    ]
    record = repo.intake(SENDER)
    assert record is not None and record["intake"] == {
        "status": "in_progress",
        "current_part": "phq9",
        "parts_done": [],
    }


def test_a_finished_part_announces_the_next_one() -> None:
    slots = {
        "intake_started": True,
        "intake_part": "episode",
        "intake_parts_done": ["phq9"],
        "episode_months": 12,
        "previous_episodes": False,
    }
    events, said = run(
        ActionIntakeNext(lambda: InMemoryRepository()), tracker(slots, latest_action="episode_form")
    )
    assert said == ["utter_intake_part_medications"]
    assert events == [
        SlotSet("intake_parts_done", ["phq9", "episode"]),
        SlotSet("intake_started", True),
        SlotSet("intake_part", "medications"),
        SlotSet("intake_part_label", PART2),
    ]


def test_part_2_is_done_when_its_form_finishes() -> None:
    slots = {
        "intake_started": True,
        "intake_part": "medications",
        "intake_parts_done": ["phq9", "episode"],
        "trials": [{"drug": "sertraline"}],
    }
    events, said = run(
        ActionIntakeNext(lambda: InMemoryRepository()), tracker(slots, latest_action="medications_form")
    )
    assert said == ["utter_intake_part_current_meds"]  # part 2 continued: what the person takes now
    assert SlotSet("intake_parts_done", ["phq9", "episode", "medications"]) in events
    assert SlotSet("cm_lead", "What do you take at the moment, for anything at all?") in events


def test_what_the_person_takes_now_starts_from_the_medicines_still_taken() -> None:
    slots = {
        "intake_started": True,
        "intake_part": "medications",
        "intake_parts_done": ["phq9", "episode"],
        "trials": [
            {"drug": "sertraline", "still_taking": True, "name_given": "Zoloft"},
            {"drug": "lithium", "still_taking": True, "name_given": "lithium"},
            {"drug": "escitalopram", "still_taking": False, "name_given": "lexapro"},
        ],
    }
    events, _ = run(
        ActionIntakeNext(lambda: InMemoryRepository()), tracker(slots, latest_action="medications_form")
    )
    lead = (
        "You said you're still taking Zoloft and lithium, so I've noted that. "
        "What else do you take at the moment, for anything at all?"
    )
    assert SlotSet("cm_lead", lead) in events


def test_part_2_continued_moves_on_to_part_3() -> None:
    slots = {
        "intake_started": True,
        "intake_part": "current_meds",
        "intake_parts_done": ["phq9", "episode", "medications"],
        "cm_list": {"medicines": [], "none": True},
        "current_meds": [],
    }
    events, said = run(
        ActionIntakeNext(lambda: InMemoryRepository()), tracker(slots, latest_action="current_meds_form")
    )
    assert said == ["utter_intake_part_therapy"]
    assert SlotSet("intake_parts_done", ["phq9", "episode", "medications", "current_meds"]) in events


def test_resuming_a_part_picks_up_where_it_left_off() -> None:
    slots = {"intake_started": True, "intake_part": "phq9", "phq9_q1": 2, "phq9_q2": 1}
    events, said = run(ActionIntakeNext(lambda: InMemoryRepository()), tracker(slots))
    assert said == ["utter_intake_resume", "utter_intake_part_phq9"]
    assert events == [
        SlotSet("intake_parts_done", []),
        SlotSet("intake_started", True),
        SlotSet("intake_part", "phq9"),
        SlotSet("intake_part_label", PART1),
    ]


def test_a_phq9_answered_in_full_before_a_crisis_check_moves_on_to_the_episode() -> None:
    slots = {
        "intake_started": True,
        "intake_part": "phq9",
        **{f"phq9_q{i}": 1 for i in range(1, 10)},
        "crisis_interrupted_loop": "phq9_form",
    }
    events, said = run(ActionIntakeNext(lambda: InMemoryRepository()), tracker(slots))
    assert said == ["utter_intake_part_episode"]
    assert events == [
        SlotSet("crisis_interrupted_loop", None),
        SlotSet("intake_parts_done", ["phq9"]),
        SlotSet("intake_started", True),
        SlotSet("intake_part", "episode"),
        SlotSet("intake_part_label", "Part 1 of 5, continued: this episode"),
    ]


def test_going_back_into_an_earlier_part_does_not_mark_the_current_one_done() -> None:
    slots = {
        "intake_started": True,
        "intake_part": "phq9",
        "intake_nav": "back",
        "intake_parts_done": [],
        **{f"phq9_q{i}": 1 for i in range(1, 9)},
    }
    events, said = run(
        ActionIntakeNext(lambda: InMemoryRepository()), tracker(slots, latest_action="episode_form")
    )
    assert said == ["utter_intake_part_phq9"]
    assert events == [
        SlotSet("intake_nav", None),
        SlotSet("intake_parts_done", []),
        SlotSet("intake_started", True),
        SlotSet("intake_part", "phq9"),
        SlotSet("intake_part_label", PART1),
    ]


def test_the_last_part_completes_the_intake() -> None:
    repo = InMemoryRepository()
    slots = {
        "intake_started": True,
        "intake_part": "cautions",
        "intake_parts_done": ["phq9", "episode", "medications", "current_meds", "therapy", "screens"],
        "age": {"years": 44},
        "caution_bp_heart": False,
        "caution_psychosis": False,
        "caution_substance": SKIPPED,
        "caution_pregnancy": False,
        "caution_daily_visits": True,
    }
    events, said = run(ActionIntakeNext(lambda: repo), tracker(slots, latest_action="cautions_form"))
    assert said == ["utter_intake_done"]
    assert events == [
        SlotSet(
            "intake_parts_done",
            ["phq9", "episode", "medications", "current_meds", "therapy", "screens", "cautions"],
        ),
        SlotSet("intake_started", True),
        SlotSet("intake_part", "done"),
        SlotSet("intake_part_label", None),
        SlotSet("intake_undo", []),
    ]
    record = repo.intake(SENDER)
    assert record is not None and record["intake"]["status"] == "complete"
    assert record["cautions"]["substance_use_problem"] is None


def test_the_crisis_history_goes_into_the_record() -> None:
    repo = InMemoryRepository()
    history = [
        user_event("kms", "crisis"),
        {"event": "slot", "name": "risk_category", "value": "coded_language"},
        {"event": "slot", "name": "crisis_active", "value": True},
        {"event": "action", "name": "action_listen"},
    ]
    events, _ = run(ActionIntakeNext(lambda: repo), tracker(events=history))
    assert SlotSet("intake_crises", ["coded_language"]) in events
    record = repo.intake(SENDER)
    assert record is not None and record["safety"]["risk_categories"] == ["coded_language"]
    assert record["suicidal_thoughts_now"] is True


# --- pause, welcome back ------------------------------------------------------------------------------


def test_pause_stops_the_form_keeps_the_answers_and_says_how_to_resume() -> None:
    repo = InMemoryRepository()
    slots = {"intake_started": True, "intake_part": "phq9", "phq9_q1": 3, "requested_slot": "phq9_q2"}
    events, said = run(
        ActionIntakePause(lambda: repo), tracker(slots, active_loop="phq9_form", text="pause", intent="pause")
    )
    assert events == [ActiveLoop(None), SlotSet("requested_slot", None)]
    assert said == ["utter_intake_paused"]
    record = repo.intake(SENDER)
    assert record is not None and record["phq9_items"][0] == 3


def test_pause_before_the_intake_started() -> None:
    events, said = run(ActionIntakePause(lambda: InMemoryRepository()), tracker(text="pause", intent="pause"))
    assert events == [] and said == ["utter_intake_not_started"]


def test_goodbye_after_a_complete_intake_is_a_goodbye() -> None:
    events, said = run(
        ActionIntakePause(lambda: InMemoryRepository()),
        tracker({"intake_started": True, "intake_part": "done"}, text="bye", intent="goodbye"),
    )
    assert events == [] and said == ["utter_goodbye"]


def test_a_greeting_while_paused_offers_to_continue_the_part() -> None:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionIntakeWelcomeBack().run(
            dispatcher,
            tracker({"intake_started": True, "intake_part": "medications"}, text="hi", intent="greet"),
            DOMAIN,
        )
    )
    assert events == [SlotSet("intake_part_label", PART2)]
    assert dispatcher.messages[0]["response"] == "utter_intake_welcome_back"
    assert dispatcher.messages[0]["intake_part_label"] == PART2


def test_a_greeting_in_the_middle_of_a_form_welcomes_back_then_the_form_asks_again() -> None:
    events, said = run(
        ActionIntakeWelcomeBack(),
        tracker(
            {"intake_started": True, "intake_part": "screens"},
            active_loop="screens_form",
            text="hey",
            intent="greet",
        ),
    )
    assert events == [] and said == ["utter_intake_welcome_back_in_form"]


# --- start over -------------------------------------------------------------------------------------------


def test_start_over_asks_first_and_stops_the_form() -> None:
    events, said = run(
        ActionIntakeConfirmStartOver(),
        tracker({"intake_started": True}, active_loop="phq9_form", text="start over", intent="start_over"),
    )
    assert events == [ActiveLoop(None), SlotSet("requested_slot", None)]
    assert said == ["utter_intake_confirm_start_over"]


def test_start_over_confirmed_clears_every_answer_but_not_the_crisis_history() -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, {"phq9": [3] * 9})
    domain = {
        **DOMAIN,
        "forms": {**DOMAIN["forms"], "medications_form": {"required_slots": ["med_name", "med_dose"]}},
    }
    slots = {
        "intake_started": True,
        "intake_part": "screens",
        "phq9_q1": 2,
        "episode_months": 7,
        "psychotherapy": [{"type": "cbt"}],
        "trials": [{"drug": "sertraline"}],
        "med_name": "zoloft",
        "intake_parts_done": ["phq9"],
        "intake_crises": ["suicidal_ideation"],
    }
    events, said = run(
        ActionIntakeStartOver(lambda: repo), tracker(slots, text="yes", intent="affirm"), domain
    )
    assert said == ["utter_intake_cleared"]
    cleared = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert (
        cleared["phq9_q1"] is None and cleared["episode_months"] is None and cleared["psychotherapy"] is None
    )
    assert cleared["trials"] is None and cleared["med_name"] is None and cleared["med_dose"] is None
    assert (
        cleared["intake_part"] is None
        and cleared["intake_parts_done"] == []
        and cleared["intake_started"] is None
    )
    assert "intake_crises" not in cleared
    record = repo.intake(SENDER)
    assert record is not None and record["phq9"] is None and record["trials"] == []
    assert record["safety"]["risk_categories"] == ["suicidal_ideation"]


# --- go back while paused, questions -----------------------------------------------------------------------


def test_go_back_while_paused_reopens_the_last_answered_question() -> None:
    undo = [{"form": "episode_form", "part": "episode", "slots": {"previous_episodes": None}}]
    slots = {
        "intake_started": True,
        "intake_part": "medications",
        "intake_parts_done": ["phq9", "episode"],
        "previous_episodes": True,
        "intake_undo": undo,
    }
    events, said = run(ActionIntakeGoBack(), tracker(slots, text="go back", intent="go_back"))
    assert events == [
        SlotSet("previous_episodes", None),
        SlotSet("intake_undo", []),
        SlotSet("intake_part", "episode"),
        SlotSet("intake_parts_done", ["phq9"]),
        SlotSet("intake_nav", "back"),
    ]
    assert said == ["utter_intake_went_back"]


@pytest.mark.parametrize(
    ("question", "start"),
    [
        ("what is TMS?", "TMS (transcranial magnetic stimulation)"),
        ("what's Spravato", "Esketamine (Spravato)"),
        ("how does ECT work?", "ECT (electroconvulsive therapy)"),
        ("what does IFS mean", "IFS (Internal Family"),
    ],
)
def test_a_treatment_question_gets_a_short_plain_answer(question: str, start: str) -> None:
    events, said = run(ActionIntakeExplain(), tracker(text=question, intent="treatment_question"))
    assert events == []
    assert len(said) == 1 and said[0].startswith(start)


def test_a_question_outside_the_glossary_is_pointed_to_a_clinician() -> None:
    events, said = run(
        ActionIntakeExplain(), tracker(text="should I stop my meds?", intent="treatment_question")
    )
    assert events == [] and said == ["utter_intake_explain_unknown"]


@pytest.mark.slow
def test_the_action_server_registers_every_intake_action() -> None:
    """As `python -m actions.server` does, in a clean interpreter (pytest's sys.path differs)."""
    code = (
        "import json; from rasa_sdk.executor import ActionExecutor; e = ActionExecutor(); "
        "e.register_package('actions'); print(json.dumps(sorted(e.actions)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    names = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert set(ACTIONS) <= names
    forms = ("phq9_form", "episode_form", "therapy_form", "screens_form", "cautions_form")
    assert {f"validate_{f}" for f in forms} <= names
