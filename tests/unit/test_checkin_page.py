"""A web person's personal check-in page over real HTTP on 127.0.0.1 (the CheckinLinks blueprint).

The form, the answers recorded with the line back, the crisis path for item 9 and for risk
in what they wrote (escalated, the crisis lines first, the safety question), possible risk
asked about and not escalated, expired and unknown links, headers.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import requests

from bot.channels.checkin_link import CheckinLinks
from tests.support.loopback_app import LoopbackApp
from trd.checkins.config import CheckinConfig
from trd.checkins.store import CheckinStore
from trd.store.migrate import upgrade
from trd.store.sql import SqlRepository

# Every test migrates a database (SQLite, and PostgreSQL where marked): 0.3 s or more each.
pytestmark = pytest.mark.slow

NY = "America/New_York"
CONV = "web-" + "a" * 22
START = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Reading:
    def __init__(self, tier: str, category: Any = None) -> None:
        self.tier = tier
        self.engine = type("E", (), {"category": category})()


class FakeAssessor:
    """The chat's assessor stands in here by its answers (its own tests measure it)."""

    def assess(self, messages: Any) -> Reading:
        text = messages[-1].lower()
        if "end it" in text:
            return Reading("clear", "suicidal_ideation")
        if "disappear" in text:
            return Reading("possible")
        return Reading("none")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dict[str, Any]]:
    monkeypatch.setenv("ESCALATION_WEBHOOK_URL", "https://care.example.org/hook")
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    clock = Clock()
    store = CheckinStore.from_url(url, config=CheckinConfig(), clock=clock)
    repo = SqlRepository.from_url(url)
    repo.save_intake(CONV, {"phq9": [2, 2, 2, 2, 2, 2, 2, 2, 0]})
    sub = store.subscribe(CONV, "web", NY)
    token = secrets.token_urlsafe(32)
    store.set_link(sub.id, token, START + timedelta(days=180))
    channel = CheckinLinks(lambda: store, lambda: repo, FakeAssessor)

    async def on_new_message(message: Any) -> None:
        raise AssertionError("the check-in page sends nothing to Rasa")

    server = LoopbackApp("checkin_page_test")
    server.app.blueprint(channel.blueprint(on_new_message), url_prefix="/checkin")
    with server:
        yield {"base": server.base, "token": token, "store": store, "repo": repo, "sub": sub, "clock": clock}
    store.dispose()
    repo.dispose()


def post(site: Dict[str, Any], data: Dict[str, str], path: str = "") -> requests.Response:
    return requests.post(f"{site['base']}/checkin/{site['token']}{path}", data=data, timeout=30)


def test_the_form_is_the_phq9_as_published_with_safe_headers(site: Dict[str, Any]) -> None:
    r = requests.get(f"{site['base']}/checkin/{site['token']}", timeout=30)
    assert r.status_code == 200
    assert (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?" in r.text
    )
    assert "(9 of 9) Thoughts that you would be better off dead or of hurting yourself in some way" in r.text
    assert r.text.count('type="radio"') == 9 * 5 and "<script" not in r.text and "988" in r.text
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "form-action 'self'" in csp
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == "no-referrer"


def test_answers_are_recorded_and_compared(site: Dict[str, Any]) -> None:
    requests.get(f"{site['base']}/checkin/{site['token']}", timeout=30)
    data = {f"q{i}": "1" for i in range(1, 9)}
    data.update(q9="0", note="started therapy")
    r = post(site, data)
    assert r.status_code == 200
    assert (
        "Your total this week is 8 out of 27: 8 lower than at your intake (16). Lower means fewer symptoms."
        in r.text
    )
    assert "Your next check-in is on Monday 9 March." in r.text and "noted what changed" in r.text
    record = site["repo"].intake(CONV)
    assert (
        record["follow_up"][0]["phq9"] == [1] * 8 + [0]
        and record["follow_up"][0]["note"] == "started therapy"
    )
    assert site["repo"].crises(CONV) == []


def test_item_9_takes_the_crisis_path_and_is_escalated(site: Dict[str, Any]) -> None:
    data = {f"q{i}": "2" for i in range(1, 9)}
    data["q9"] = "1"
    r = post(site, data)
    assert r.status_code == 200 and 'role="alert"' in r.text and "988" in r.text
    assert r.text.index("988") < r.text.index("I'm safe right now")
    [crisis] = site["repo"].crises(CONV)
    assert crisis.category == "suicidal_ideation" and crisis.channel == "web"
    assert site["repo"].escalations(CONV)  # the care team is alerted
    assert site["repo"].intake(CONV)["follow_up"][0]["phq9"][8] == 1  # the answers are kept
    r = post(site, {"answer": "safe"}, "/safety")
    assert "glad you&#39;re safe" in r.text
    assert site["repo"].crises(CONV)[0].resolved_at is not None


def test_risk_in_the_note_is_a_crisis_and_possible_risk_is_asked(site: Dict[str, Any]) -> None:
    r = post(site, {"q1": "1", "note": "I want to end it all"})
    assert 'role="alert"' in r.text
    assert [c.category for c in site["repo"].crises(CONV)] == ["suicidal_ideation"]
    site["clock"].now += timedelta(days=7)
    r = post(site, {"q1": "1", "note": "I just want to disappear"})
    assert "Are you having thoughts of ending your life?" in r.text
    assert len(site["repo"].crises(CONV)) == 1  # asked, not escalated
    r = post(site, {"answer": "not_safe"}, "/safety")
    assert "988" in r.text and len(site["repo"].crises(CONV)) == 2


def test_unknown_expired_and_empty(site: Dict[str, Any]) -> None:
    assert requests.get(f"{site['base']}/checkin/" + "x" * 43, timeout=30).status_code == 410
    assert requests.get(f"{site['base']}/checkin/short", timeout=30).status_code == 404
    r = post(site, {})
    assert r.status_code == 200 and "Please answer at least one question" in r.text
    site["clock"].now += timedelta(days=181)
    assert requests.get(f"{site['base']}/checkin/{site['token']}", timeout=30).status_code == 410
