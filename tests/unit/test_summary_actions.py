"""action_show_summary and action_delete_summary, with trackers and a domain built in code.

Each test asserts the exact events, what the person is told, and what the repository holds.
A repository or a record that fails must never cost the person their turn.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.summary.actions import ActionDeleteSummary, ActionShowSummary
from tests.support import trackers
from tests.unit.test_summary_records import in_progress, typical, urgent
from trd.store.repository import InMemoryRepository, Repository
from trd.summary.chat import chat_message
from trd.summary.content import run_navigator
from trd.summary.links import expand_references, token_for

ROOT = Path(__file__).resolve().parents[2]
OFFER = [FollowupAction("action_checkin_offer")]
SENDER = "conv-sum-1"
NOW = datetime(2025, 2, 3, 14, 0, tzinfo=timezone.utc)
BASE = "https://trd.example.org"
LINK_SECRET = "summary-link-secret-0123456789abcdef"
ENV = {"PUBLIC_BASE_URL": BASE, "SUMMARY_LINK_TTL_DAYS": "7", "SUMMARY_LINK_SECRET": LINK_SECRET}
REFERENCE = re.compile(r"^\[\[summary-link:([A-Za-z0-9_-]{22})\]\]$", re.M)


class _Token:
    """What LINK.search finds: the token a message's reference stands for (never in the message)."""

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce

    def group(self, n: int) -> str:
        return token_for(LINK_SECRET, self.nonce)


class LINK:
    @staticmethod
    def search(text: str) -> Optional[_Token]:
        found = REFERENCE.search(text)
        return _Token(found.group(1)) if found else None
DOMAIN: Dict[str, Any] = {
    "intents": ["show_summary", "delete_summary", "affirm", "deny"],
    "slots": {},
    "forms": {},
    "responses": {},
    "actions": ["action_show_summary", "action_delete_summary"],
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_tracker(
    text: str = "show my summary", intent: str = "show_summary", channel: str = "rest"
) -> Tracker:
    message = trackers.user_event(text, intent, 0.97, channel=channel)
    return trackers.make_tracker(
        SENDER,
        {},
        {**message["parse_data"], "text": text},
        [{"event": "action", "name": "action_listen"}, message],
    )


def run(action: Any, tracker: Optional[Tracker] = None) -> Tuple[List[Dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker or make_tracker(), DOMAIN))
    return events, dispatcher


def responses(dispatcher: CollectingDispatcher) -> List[Optional[str]]:
    return [m.get("response") for m in dispatcher.messages]


def show(repo: Repository, env: Optional[Dict[str, str]] = None, clock: Any = None) -> ActionShowSummary:
    return ActionShowSummary(lambda: repo, clock=clock or Clock(NOW), env=ENV if env is None else env)


def delete(repo: Repository, clock: Any = None) -> ActionDeleteSummary:
    return ActionDeleteSummary(lambda: repo, clock=clock or Clock(NOW), env=ENV)


class Broken(InMemoryRepository):
    def __init__(self, *failing: str) -> None:
        super().__init__()
        self.failing = set(failing)

    def __getattribute__(self, name: str) -> Any:
        if name in object.__getattribute__(self, "failing"):
            raise RuntimeError(f"database is down ({name})")
        return object.__getattribute__(self, name)


def unreachable() -> Repository:
    raise ConnectionError("could not connect to the database")


# --- action_show_summary ---------------------------------------------------------------------


def test_show_summary_sends_the_chat_message_with_a_fresh_link() -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, typical())
    events, dispatcher = run(show(repo))

    assert events == OFFER  # a complete intake: the offer of weekly check-ins follows (#12)
    [message] = dispatcher.messages
    text = message["text"]
    match = LINK.search(text)
    assert match is not None, text
    token = match.group(1)
    # The message (stored in the conversation's events) carries a reference, never the token (#10);
    # the Rasa server adds the link on the way out.
    assert token not in text and "/summary/" not in text
    assert text == chat_message(run_navigator(typical()), f"[[summary-link:{match.nonce}]]", ttl_days=7)
    assert expand_references(text, ENV) == chat_message(
        run_navigator(typical()), f"{BASE}/summary/{token}", ttl_days=7
    )
    assert message["buttons"] == [] and message["response"] is None
    link = repo.summary_link(token)
    assert link is not None
    assert (link.conversation_id, link.created_at, link.expires_at) == (SENDER, NOW, NOW + timedelta(days=7))
    assert repo.resolve_summary_link(token, now=NOW) == SENDER


def test_each_request_makes_a_new_link_and_the_old_one_keeps_working() -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, typical())
    first = LINK.search(run(show(repo))[1].messages[0]["text"])
    second = LINK.search(run(show(repo))[1].messages[0]["text"])
    assert first and second and first.group(1) != second.group(1)
    assert repo.resolve_summary_link(first.group(1), now=NOW) == SENDER


def test_urgent_record_puts_safety_first_in_the_message() -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, urgent())
    events, dispatcher = run(show(repo))
    assert events == OFFER  # a complete intake: the offer of weekly check-ins follows (#12)
    assert dispatcher.messages[0]["text"].startswith("First, and most important: things sound very hard")


def test_an_unfinished_intake_is_summarised_as_so_far() -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, in_progress())
    _, dispatcher = run(show(repo))
    assert dispatcher.messages[0]["text"].startswith("Thank you. Where things stand so far")


def test_the_link_honours_the_configured_ttl() -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, typical())
    _, dispatcher = run(show(repo, env={**ENV, "PUBLIC_BASE_URL": BASE + "/", "SUMMARY_LINK_TTL_DAYS": "2"}))
    text = dispatcher.messages[0]["text"]
    assert "works for 2 days" in text
    match = LINK.search(text)
    assert match is not None
    link = repo.summary_link(match.group(1))
    assert link is not None and link.expires_at == NOW + timedelta(days=2)


def test_without_an_intake_it_says_there_is_no_summary_yet() -> None:
    repo = InMemoryRepository()
    events, dispatcher = run(show(repo))
    assert (events, responses(dispatcher)) == ([], ["utter_summary_none"])
    repo.save_intake(SENDER, {})
    events, dispatcher = run(show(repo))
    assert (events, responses(dispatcher)) == ([], ["utter_summary_none"])


def test_without_public_base_url_the_summary_comes_without_a_link() -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, typical())
    events, dispatcher = run(show(repo, env={}))
    assert events == OFFER  # a complete intake: the offer of weekly check-ins follows (#12)
    assert dispatcher.messages[0]["text"] == chat_message(run_navigator(typical()), None, ttl_days=7)
    assert "/summary/" not in dispatcher.messages[0]["text"]


def test_a_link_that_cannot_be_stored_still_gives_the_summary() -> None:
    repo = Broken("create_summary_link")
    repo.save_intake(SENDER, typical())
    events, dispatcher = run(show(repo))
    assert events == OFFER  # a complete intake: the offer of weekly check-ins follows (#12)
    text = dispatcher.messages[0]["text"]
    assert "Where things stand" in text and 'say "show my summary"' in text and "/summary/" not in text


@pytest.mark.parametrize("factory", ["unreachable", "intake fails"])
def test_an_unreadable_database_is_said_plainly(factory: str, caplog: pytest.LogCaptureFixture) -> None:
    if factory == "unreachable":
        action = ActionShowSummary(unreachable, clock=Clock(NOW), env=ENV)
    else:
        action = show(Broken("intake"))
    events, dispatcher = run(action)
    assert (events, responses(dispatcher)) == ([], ["utter_summary_unavailable"])
    assert "could not read the intake record" in caplog.text


def test_a_record_that_does_not_match_the_schema_is_said_plainly(caplog: pytest.LogCaptureFixture) -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, {"phq9": [9, 9]})
    events, dispatcher = run(show(repo))
    assert (events, responses(dispatcher)) == ([], ["utter_summary_unavailable"])
    assert "does not match the schema" in caplog.text
    assert repo.revoke_summary_links(SENDER) == 0  # no link was made for it


# --- the weekly check-ins' chart (#12) ------------------------------------------------------------

# The intake (PHQ-9 13) and five weekly check-ins; one note the person typed, one item 9 of 1.
FOLLOW_UP = [
    {"date": "2026-03-09", "phq9": [3, 3, 2, 2, 2, 2, 2, 2, 0], "note": "started lithium <script>"},
    {"date": "2026-03-16", "phq9": [2, 2, 2, 2, 1, 2, 2, 1, 0]},
    {"date": "2026-03-23", "phq9": [2, 2, 2, 1, 1, 1, 2, 1, 1]},
    {"date": "2026-03-30", "phq9": [1, 1, 1, 1, 1, 1, 1, 1, 0]},
    {"date": "2026-04-13", "phq9": [0, 1, 1, 1, 0, 0, 1, 0, 0]},
]
CHART = {
    "phq9_chart": {
        "baseline": 13,
        "baseline_source": "intake",
        "points": [
            {"date": "2026-03-09", "total": 18},
            {"date": "2026-03-16", "total": 14},
            {"date": "2026-03-23", "total": 13},
            {"date": "2026-03-30", "total": 8},
            {"date": "2026-04-13", "total": 4},
        ],
    }
}


def _with_check_ins() -> Dict[str, Any]:
    return {**typical(), "follow_up": FOLLOW_UP}


def test_on_the_web_chat_the_chart_of_the_check_ins_follows_the_summary_text() -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, _with_check_ins())
    events, dispatcher = run(show(repo), make_tracker(channel="web"))

    assert events == OFFER
    [text, chart] = dispatcher.messages
    assert "Your weekly PHQ-9 totals: 13 at your intake, then 18, 14, 13, 8, 4" in text["text"]
    # only the dates and totals are kept in the conversation: no note, no item 9, no image
    assert chart == {
        "text": None, "buttons": [], "elements": [], "custom": CHART, "template": None,
        "response": None, "image": None, "attachment": None,
    }
    assert len(json.dumps(chart["custom"])) < 400


@pytest.mark.parametrize("channel", ["twilio", "rest"])
def test_elsewhere_the_totals_stay_in_words(channel: str) -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, _with_check_ins())
    events, dispatcher = run(show(repo), make_tracker(channel=channel))

    assert events == OFFER
    [message] = dispatcher.messages
    assert "Your weekly PHQ-9 totals: 13 at your intake, then 18, 14, 13, 8, 4" in message["text"]
    assert message["custom"] == {}


def test_without_check_ins_the_web_chat_gets_the_text_alone() -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, typical())
    events, dispatcher = run(show(repo), make_tracker(channel="web"))

    assert events == OFFER
    [message] = dispatcher.messages
    assert "PHQ-9 totals" not in message["text"] and message["custom"] == {}


# --- action_delete_summary -------------------------------------------------------------------


def test_delete_revokes_every_active_link() -> None:
    repo = InMemoryRepository()
    repo.save_intake(SENDER, typical())
    tokens = [LINK.search(run(show(repo))[1].messages[0]["text"]) for _ in range(2)]
    later = Clock(NOW + timedelta(hours=1))
    events, dispatcher = run(delete(repo, clock=later), make_tracker("yes", "affirm"))
    assert (events, responses(dispatcher)) == ([], ["utter_summary_deleted"])
    for match in tokens:
        assert match is not None
        link = repo.summary_link(match.group(1))
        assert link is not None and link.revoked_at == NOW + timedelta(hours=1)
        assert repo.resolve_summary_link(match.group(1), now=NOW + timedelta(hours=2)) is None
    assert repo.intake(SENDER) == typical()  # the answers stay

    events, dispatcher = run(delete(repo), make_tracker("yes", "affirm"))
    assert (events, responses(dispatcher)) == ([], ["utter_summary_nothing_to_delete"])


def test_delete_when_the_database_fails_says_so() -> None:
    events, dispatcher = run(delete(Broken("revoke_summary_links")), make_tracker("yes", "affirm"))
    assert (events, responses(dispatcher)) == ([], ["utter_summary_delete_failed"])
    action = ActionDeleteSummary(unreachable, clock=Clock(NOW), env=ENV)
    events, dispatcher = run(action, make_tracker("yes", "affirm"))
    assert (events, responses(dispatcher)) == ([], ["utter_summary_delete_failed"])


# --- the action server and the domain agree -----------------------------------------------------


@pytest.mark.slow
def test_the_action_server_registers_both_actions_and_the_domain_has_their_responses() -> None:
    # in a fresh interpreter, as `python -m actions.server` loads the package (pytest's sys.path differs)
    out = subprocess.run(
        [sys.executable, "-c", "from rasa_sdk.executor import ActionExecutor; e = ActionExecutor(); "
         "e.register_package('actions'); print(' '.join(sorted(e.actions)))"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert {"action_show_summary", "action_delete_summary"} <= set(out.stdout.split())
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert {"action_show_summary", "action_delete_summary"} <= set(domain["actions"])
    assert {"show_summary", "delete_summary"} <= set(domain["intents"])
    for name in ("utter_summary_none", "utter_summary_unavailable", "utter_summary_deleted",
                 "utter_summary_nothing_to_delete", "utter_summary_delete_failed",
                 "utter_summary_confirm_delete", "utter_summary_kept"):
        assert name in domain["responses"], name
    buttons = domain["responses"]["utter_summary_confirm_delete"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/affirm", "/deny"]
