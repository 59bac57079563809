"""The 'delete my data' actions (#10): ask once (pausing a form), then delete and restart; a
failed deletion says so and changes nothing. Trackers built in code, events asserted exactly."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Dict, List

from rasa_sdk.events import ActiveLoop, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.privacy import ActionConfirmDeleteMyData, ActionDeleteMyData
from tests.support.trackers import make_tracker
from tests.unit.test_privacy_delete import EVENTS, PHONE_A, TEXT_A, deliver_all, everything, populate, rasa
from trd.store.db import make_engine
from trd.store.migrate import upgrade

SENDER = "web-AbCdEfGhIjKlMnOpQrStUv"
EVENTS_IN: List[Dict[str, Any]] = [
    {"event": "action", "name": "action_listen"},
    {
        "event": "user",
        "text": "delete my data",
        "input_channel": "web",
        "parse_data": {"intent": {"name": "delete_my_data"}},
    },
]


def run(action: Any, tracker: Any) -> tuple:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return events, [m.get("response") for m in dispatcher.messages]


def test_asking_pauses_a_form_and_clears_nothing() -> None:
    tracker = make_tracker(
        SENDER, {"phq9_q1": 2}, {"text": "delete my data"}, EVENTS_IN, active_loop="phq9_form"
    )
    assert run(ActionConfirmDeleteMyData(), tracker) == (
        [ActiveLoop(None), SlotSet("requested_slot", None)],
        ["utter_delete_data_confirm"],
    )
    idle = make_tracker(SENDER, {}, {"text": "delete my data"}, EVENTS_IN)
    assert run(ActionConfirmDeleteMyData(), idle) == ([], ["utter_delete_data_confirm"])


def test_confirmed_deletes_everything_and_restarts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    rasa.create_all(engine)
    populate(engine, SENDER, PHONE_A, TEXT_A, time.time())
    deliver_all(engine)  # (an escalation still on its way is kept until delivered: test_privacy_delete)
    tracker = make_tracker(SENDER, {}, {"text": "yes"}, EVENTS_IN)
    events, said = run(ActionDeleteMyData(lambda: engine), tracker)
    assert events == [Restarted()] and said == ["utter_delete_data_done"]
    remaining = everything(engine)
    assert TEXT_A not in remaining and "trd_deletions" in remaining
    with engine.connect() as conn:
        assert conn.execute(EVENTS.select()).all() == []
    engine.dispose()


def test_a_failed_deletion_says_so_and_keeps_the_conversation() -> None:
    def broken() -> Any:
        raise ConnectionError("database is down")

    tracker = make_tracker(SENDER, {}, {"text": "yes"}, EVENTS_IN)
    assert run(ActionDeleteMyData(broken), tracker) == ([], ["utter_delete_data_failed"])
