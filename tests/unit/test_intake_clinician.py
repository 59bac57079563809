"""GET /intake/<conversation_id>: the clinician channel over real HTTP on 127.0.0.1.

The blueprint is mounted by Rasa's own ``register`` (route "/webhooks/"), as the Rasa
server does, with an in-memory repository behind it.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

import pytest
import requests
from rasa.core.channels.channel import register

from bot.channels.clinician import ClinicianApi, token_matches
from tests.support.loopback_app import LoopbackApp
from trd.intake.record import build_record
from trd.store.repository import InMemoryRepository, Repository

TOKEN = "c" * 8 + "0123456789abcdef0123"


class Server(LoopbackApp):
    def __init__(self, channel: ClinicianApi) -> None:
        super().__init__("clinician_test")
        register([channel], self.app, route="/webhooks/")

    def get(
        self, conversation_id: str, token: Optional[str] = TOKEN, scheme: str = "Bearer"
    ) -> requests.Response:
        headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
        return requests.get(f"{self.base}/intake/{conversation_id}", headers=headers, timeout=10)


REPO = InMemoryRepository()
RECORD = build_record({"phq9_q1": 2, "episode_months": 14, "intake_started": True, "intake_part": "episode"})
REPO.save_intake("web-abc123", RECORD)


class BrokenRepository(InMemoryRepository):
    def intake(self, conversation_id: str) -> Any:
        raise ConnectionError("database is down")


def _factory(repo: Repository) -> Any:
    return lambda: repo


CHANNEL = ClinicianApi(TOKEN, _factory(REPO))


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    # one app for the module (starting an app is slow)
    with Server(CHANNEL) as s:
        yield s


@pytest.fixture()
def channel() -> Iterator[ClinicianApi]:
    """The served channel; a test may change its token or repository, restored afterwards."""
    token, factory = CHANNEL.token, CHANNEL._repository_factory
    yield CHANNEL
    CHANNEL.token, CHANNEL._repository_factory = token, factory


def test_the_record_is_returned_to_a_clinician_with_the_token(server: Server) -> None:
    r = server.get("web-abc123")
    assert r.status_code == 200
    assert r.json() == RECORD
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("token", "scheme"),
    [
        (None, "Bearer"),
        ("wrong-token-wrong-token", "Bearer"),
        (TOKEN[:-1], "Bearer"),
        (TOKEN, "Basic"),
        ("", "Bearer"),
        (TOKEN + "x", "Bearer"),
    ],
)
def test_no_token_or_a_wrong_one_is_401_and_reveals_nothing(server: Server, token: Any, scheme: str) -> None:
    for conversation in ("web-abc123", "no-such-conversation"):
        r = server.get(conversation, token, scheme)
        assert r.status_code == 401
        assert r.json()["error"] == "unauthorized"
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert "phq9" not in r.text


def test_an_unknown_conversation_is_404(server: Server) -> None:
    r = server.get("no-such-conversation")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_an_over_long_conversation_id_is_404_not_an_error(server: Server) -> None:
    assert server.get("x" * 300).status_code == 404


def test_without_a_configured_token_the_api_refuses_everything(server: Server, channel: ClinicianApi) -> None:
    channel.token = ""
    assert server.get("web-abc123", token="").status_code == 503
    r = server.get("web-abc123", token="anything-at-all")
    assert r.status_code == 503 and "phq9" not in r.text


def test_a_database_failure_is_503_not_a_crash(server: Server, channel: ClinicianApi) -> None:
    channel._repository_factory = _factory(BrokenRepository())
    r = server.get("web-abc123")
    assert r.status_code == 503
    assert r.json()["error"] == "unavailable"


def test_the_token_comparison_never_matches_empty_tokens() -> None:
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches("", "")
    assert not token_matches(None, TOKEN)
    assert not token_matches(TOKEN, "")


def test_the_channel_reads_its_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINICIAN_TOKEN", TOKEN)
    channel = ClinicianApi.from_credentials(None)
    assert channel.token == TOKEN and channel.url_prefix() == "/intake" and channel.name() == "clinician"
