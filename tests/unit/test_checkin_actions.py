"""The check-in's forms and actions, with trackers built in code and a real SQLite store.

Exact events and messages: an answer per item, "skip", "later", "stop check-ins", a hint
for an unreadable answer, item 9 above zero ending the form on the crisis path, the line
after the ninth item, the set-up's time zone, phone number and code.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.checkins.actions import ActionCheckinDone, ActionCheckinStart, ActionCheckinSubscribe
from actions.checkins.forms import ValidateCheckinForm, ValidateCheckinSetupForm, command_in, normalise_phone
from tests.support.trackers import form_answer_events, make_tracker, user_event
from trd.checkins.config import CheckinConfig
from trd.checkins.store import ACTION_SEND, CheckinStore
from trd.store.migrate import upgrade
from trd.store.repository import InMemoryRepository

# Every test migrates a database (SQLite, and PostgreSQL where marked): 0.3 s or more each.
pytestmark = pytest.mark.slow

NY = "America/New_York"
SENDER = "sms-" + "c" * 32
START = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def env(tmp_path: Path) -> Dict[str, Any]:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    clock = Clock()
    store = CheckinStore.from_url(url, config=CheckinConfig(), clock=clock)
    repo = InMemoryRepository()
    repo.save_intake(SENDER, {"phq9": [2, 2, 2, 2, 2, 2, 2, 2, 0]})
    sub = store.subscribe(SENDER, "sms", NY, SENDER)
    clock.now += timedelta(days=7)
    [claim] = store.claim_due(5)
    store.begin(claim.checkin_id, claim.token, ACTION_SEND)
    store.finish(claim.checkin_id, claim.token, True)
    yield {"store": store, "repo": repo, "sub": sub, "checkin_id": claim.checkin_id, "clock": clock}
    store.dispose()


def answer(env: Dict[str, Any], slot: str, text: str, slots: Optional[Dict[str, Any]] = None) -> tuple:
    form = ValidateCheckinForm(store_factory=lambda: env["store"], repository_factory=lambda: env["repo"])
    message = user_event(text, channel="twilio")
    all_slots = {"checkin_id": env["checkin_id"], "requested_slot": slot, **(slots or {}), slot: text}
    tracker = make_tracker(
        SENDER,
        all_slots,
        message["parse_data"],
        form_answer_events("checkin_form", slot, message, text),
        active_loop="checkin_form",
        latest_action="checkin_form",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(form.get_validation_events(dispatcher, tracker, {}))
    return events, dispatcher.messages


def test_an_item_is_read_as_the_intake_reads_it(env: Dict[str, Any]) -> None:
    events, messages = answer(env, "checkin_q1", "2")
    assert events == [SlotSet("checkin_q1", 2)] and messages == []
    events, _ = answer(env, "checkin_q2", "nearly every day", {"checkin_q1": 2})
    assert events == [SlotSet("checkin_q2", 3)]
    events, messages = answer(env, "checkin_q3", "skip", {"checkin_q1": 2, "checkin_q2": 3})
    assert events == [SlotSet("checkin_q3", "__skipped__")]
    events, messages = answer(env, "checkin_q4", "purple")
    assert events == [SlotSet("checkin_q4", None)]
    assert [m["response"] for m in messages] == ["utter_checkin_hint"]
    progress = env["store"].get(env["checkin_id"])
    assert progress.answers[:3] == [2, 3, None]


@pytest.mark.parametrize(
    "text, command",
    [
        ("later", "later"),
        ("Later.", "later"),
        ("not now", "later"),
        ("stop check-ins", "stop"),
        ("please stop the check ins", "stop"),
        ("pause check-ins", "pause"),
        ("2", None),
        ("stop", None),
    ],
)
def test_commands_inside_a_check_in(text: str, command: Optional[str]) -> None:
    assert command_in(text) == command


def test_later_ends_the_form_with_the_command(env: Dict[str, Any]) -> None:
    events, messages = answer(env, "checkin_q2", "later", {"checkin_q1": 1})
    assert events == [SlotSet("checkin_q2", None), SlotSet("checkin_command", "later")]
    done = ActionCheckinDone(store_factory=lambda: env["store"])
    tracker = make_tracker(SENDER, {"checkin_command": "later", "checkin_id": env["checkin_id"]})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(done.run(dispatcher, tracker, {}))
    assert events == [SlotSet("checkin_command", None)]
    assert dispatcher.messages[0]["text"] == "Okay, I'll ask again at 2:00 pm. Your answers so far are saved."


NINE_SLOTS = {f"checkin_q{i}": 1 for i in range(1, 9)}


def test_the_ninth_item_records_the_check_in_and_answers_with_one_line(env: Dict[str, Any]) -> None:
    events, messages = answer(env, "checkin_q9", "0", NINE_SLOTS)
    assert events == [SlotSet("checkin_q9", 0)]
    assert messages[0]["text"] == (
        "Your total this week is 8 out of 27: 8 lower than at your intake (16). Lower means fewer symptoms. "
        "Your next check-in is on Monday 16 March."
    )
    record = env["store"].get(env["checkin_id"])
    assert record.status == "answered" and record.total == 8
    assert [e["phq9"] for e in env["repo"].intake(SENDER)["follow_up"]] == [[1] * 8 + [0]]
    assert env["repo"].intake(SENDER)["phq9"] == [2] * 8 + [0]  # the intake's answers are kept


def test_item_9_above_zero_takes_the_crisis_path(env: Dict[str, Any]) -> None:
    events, messages = answer(env, "checkin_q9", "1", NINE_SLOTS)
    assert events == [
        SlotSet("checkin_q9", 1),
        SlotSet("crisis_active", True),
        SlotSet("risk_category", "suicidal_ideation"),
        SlotSet("checkin_command", "crisis"),
    ]
    assert [m["response"] for m in messages] == [
        "utter_intake_item9"
    ]  # no score line: the crisis comes first
    assert env["store"].get(env["checkin_id"]).status == "answered"  # the answers are kept


def test_worsening_by_five_notifies_the_care_team_in_the_same_transaction(
    env: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESCALATION_WEBHOOK_URL", "https://care.example.org/hook")
    answer(env, "checkin_q9", "0", {f"checkin_q{i}": 3 for i in range(1, 9)})  # 24, intake 16
    import sqlalchemy as sa

    from trd.store.escalation_models import Escalation

    with env["store"].engine.connect() as conn:
        rows = conn.execute(sa.select(Escalation.payload, Escalation.kind)).all()
    assert len(rows) == 1 and rows[0].kind == "followup"
    assert rows[0].payload["reason"] == "worsening" and rows[0].payload["phq9"]["latest"] == 24


def test_the_start_keeps_a_reminders_answers_and_resets_a_new_week(env: Dict[str, Any]) -> None:
    start = ActionCheckinStart(store_factory=lambda: env["store"])
    meta = {"checkin": {"id": env["checkin_id"], "action": "reminder"}}
    latest = {"intent": {"name": "EXTERNAL_checkin"}, "metadata": meta, "text": "/EXTERNAL_checkin"}
    tracker = make_tracker(
        SENDER,
        {"checkin_id": env["checkin_id"], "checkin_q1": 2},
        latest,
        [{"event": "user", "input_channel": "twilio", "text": "/EXTERNAL_checkin"}],
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(start.run(dispatcher, tracker, {}))
    assert events == [
        SlotSet("checkin_command", None),
        SlotSet("checkin_id", env["checkin_id"]),
        FollowupAction("checkin_form"),
    ]
    assert dispatcher.messages[0]["text"].startswith("A gentle reminder")
    meta["checkin"]["action"] = "send"
    dispatcher = CollectingDispatcher()
    events = asyncio.run(start.run(dispatcher, tracker, {}))
    assert SlotSet("checkin_q1", None) in events and events[-1] == FollowupAction("checkin_form")
    assert dispatcher.messages[0]["text"].startswith("Time for your weekly check-in.")


def setup_step(
    slot: str,
    text: str,
    slots: Dict[str, Any],
    store: CheckinStore,
    env_vars: Dict[str, str],
    channel: str = "web",
) -> tuple:
    form = ValidateCheckinSetupForm(store_factory=lambda: store, env=env_vars)
    message = user_event(text, channel=channel)
    tracker = make_tracker(
        "web-abc",
        {**slots, "requested_slot": slot, slot: text},
        message["parse_data"],
        form_answer_events("checkin_setup_form", slot, message, text),
        active_loop="checkin_setup_form",
        latest_action="checkin_setup_form",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(form.get_validation_events(dispatcher, tracker, {}))
    return events, dispatcher.messages


def test_a_web_user_confirms_a_phone_with_a_texted_code(
    env: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    texted: List[tuple] = []

    async def fake_text(number: str, body: str, env_vars: Any = None) -> bool:
        texted.append((number, body))
        return True

    class FakeSms:
        def __init__(self) -> None:
            from trd.sms.store import PhoneVault

            self.vault = PhoneVault("p" * 32)

        def sender_id_for(self, number: str) -> str:
            return self.vault.sender_id_for(number)

        def contact(self, sender_id: str) -> None:
            return None

        def ensure_contact(self, number: str) -> None:
            return None

    monkeypatch.setattr("actions.checkins.forms.text_phone", fake_text)
    monkeypatch.setattr("actions.checkins.forms.sms_store", FakeSms)
    store = env["store"]
    env_vars = {"PHONE_HASH_SECRET": "p" * 32, "SMS_SERVICE_NAME": "TRD Navigator"}
    events, _ = setup_step("checkin_method", "Text me", {}, store, env_vars)
    assert events == [SlotSet("checkin_method", "sms")]
    events, messages = setup_step(
        "checkin_phone", "call me maybe", {"checkin_method": "sms"}, store, env_vars
    )
    assert (
        events == [SlotSet("checkin_phone", None)]
        and messages[0]["response"] == "utter_checkin_phone_invalid"
    )
    events, _ = setup_step("checkin_phone", "(312) 555-0142", {"checkin_method": "sms"}, store, env_vars)
    assert events == [SlotSet("checkin_phone", "code_sent"), SlotSet("checkin_tz_guess", "America/Chicago")]
    [(number, body)] = texted
    assert number == "+13125550142"
    code = body.split("code is ")[1][:6]
    assert (
        body
        == f"TRD Navigator: your check-in code is {code}. If you didn't ask for it, you can ignore this text."
    )
    slots = {"checkin_method": "sms", "checkin_phone": "code_sent", "checkin_tz_guess": "America/Chicago"}
    events, messages = setup_step(
        "checkin_code", "000000" if code != "000000" else "111111", slots, store, env_vars
    )
    assert events == [SlotSet("checkin_code", None)] and messages[0]["response"] == "utter_checkin_code_wrong"
    events, _ = setup_step("checkin_code", code, slots, store, env_vars)
    sender = FakeSms().sender_id_for("+13125550142")
    assert events == [
        SlotSet("checkin_code", "confirmed"),
        SlotSet("checkin_sms_sender", sender),
        SlotSet("checkin_tz_guess", "America/Chicago"),
    ]
    events, _ = setup_step("checkin_tz", "yes", {**slots, "checkin_code": "confirmed"}, store, env_vars)
    assert events == [SlotSet("checkin_tz", "America/Chicago")]
    subscribe = ActionCheckinSubscribe(store_factory=lambda: store, env=env_vars)
    tracker = make_tracker(
        "web-abc",
        {"checkin_method": "sms", "checkin_tz": "America/Chicago", "checkin_sms_sender": sender},
        events=[{"event": "user", "input_channel": "web", "text": "yes"}],
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(subscribe.run(dispatcher, tracker, {}))
    assert dispatcher.messages[0]["text"].startswith(
        "You're signed up. Your first check-in comes on Monday 16 March"
    )
    sub = store.subscription("web-abc")
    assert sub is not None and sub.sms_sender_id == sender and sub.channel == "sms"
    assert store.subscription_for_sender(sender).conversation_id == "web-abc"  # type: ignore[union-attr]


def test_a_web_user_can_take_a_personal_link(env: Dict[str, Any]) -> None:
    store = env["store"]
    env_vars = {"PUBLIC_BASE_URL": "https://chat.example.org"}
    events, _ = setup_step("checkin_method", "a personal link", {}, store, env_vars)
    assert events == [SlotSet("checkin_method", "link")]
    events, messages = setup_step("checkin_tz", "somewhere nice", {"checkin_method": "link"}, store, env_vars)
    assert events == [SlotSet("checkin_tz", None)] and messages[0]["response"] == "utter_checkin_tz_hint"
    events, _ = setup_step("checkin_tz", "Pacific", {"checkin_method": "link"}, store, env_vars)
    assert events == [SlotSet("checkin_tz", "America/Los_Angeles")]
    subscribe = ActionCheckinSubscribe(store_factory=lambda: store, env=env_vars)
    tracker = make_tracker(
        "web-abc",
        {"checkin_method": "link", "checkin_tz": "America/Los_Angeles"},
        events=[{"event": "user", "input_channel": "web", "text": "Pacific"}],
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(subscribe.run(dispatcher, tracker, {}))
    text = dispatcher.messages[0]["text"]
    assert text.startswith(
        "You're signed up. Here is your personal check-in link: https://chat.example.org/checkin/"
    )
    token = text.split("/checkin/")[1].split()[0]
    assert store.subscription_for_link(token).conversation_id == "web-abc"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text, number",
    [
        ("555-123-4567", None),
        ("212-555-0100", "+12125550100"),
        ("+1 (212) 555 0100", "+12125550100"),
        ("12125550100", "+12125550100"),
        ("+44 7700 900123", "+447700900123"),
        ("my number", None),
        ("12", None),
    ],
)
def test_phone_numbers_are_read(text: str, number: Optional[str]) -> None:
    assert normalise_phone(text) == number
