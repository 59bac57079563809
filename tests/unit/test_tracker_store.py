"""UrlSQLTrackerStore: Rasa's SQL tracker store configured by DATABASE_URL alone."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
from pathlib import Path
from typing import Any, List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import (
    InMemoryTrackerStore,
    TrackerStore,
    create_tracker_store,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.tracker_store import TrackerStoreConfigError, UrlSQLTrackerStore
from tests.support.postgres import fresh_database

ROOT = Path(__file__).resolve().parents[2]

CUSTOM = [{"type": "custom"}]
DOMAIN = Domain.from_dict(
    {
        "version": "3.1",
        "intents": ["greet", "mood_low"],
        "slots": {
            "preferred_name": {"type": "text", "influence_conversation": False, "mappings": CUSTOM},
            "tried_count": {"type": "float", "influence_conversation": False, "mappings": CUSTOM},
        },
        "responses": {"utter_greet": [{"text": "Hi, I'm here to help you map what you've tried."}]},
    }
)


def _tracker(sender: str) -> DialogueStateTracker:
    events: List[Event] = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("hello", intent={"name": "greet", "confidence": 0.98}),
        ActionExecuted("utter_greet"),
        BotUttered("Hi, I'm here to help you map what you've tried."),
        SlotSet("preferred_name", "Sam 😊"),
        SlotSet("tried_count", 3.0),
        ActionExecuted("action_listen"),
        UserUttered("I've tried three — nothing helped", intent={"name": "mood_low", "confidence": 0.9}),
    ]
    return DialogueStateTracker.from_events(sender, events, slots=DOMAIN.slots)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'not' / 'yet' / 'trd.sqlite3'}"  # directory created by the store
    request.getfixturevalue("postgres_url")
    return fresh_database("tracker")


def test_saves_and_retrieves_a_tracker(db_url: str) -> None:
    store = UrlSQLTrackerStore(host=db_url, domain=DOMAIN)
    tracker = _tracker("person-1")
    _run(store.save(tracker))
    store.engine.dispose()

    # a new store, as after a restart of the Rasa server
    again = UrlSQLTrackerStore(host=db_url, domain=DOMAIN)
    full = _run(again.retrieve_full_tracker("person-1"))
    assert full is not None and list(full.events) == list(tracker.events)
    loaded = _run(again.retrieve("person-1"))  # the latest session: from SessionStarted on
    assert loaded is not None
    assert list(loaded.events) == list(tracker.events)[1:]
    assert loaded.get_slot("preferred_name") == "Sam 😊"
    assert loaded.get_slot("tried_count") == 3.0
    assert loaded.latest_message is not None
    assert loaded.latest_message.text == "I've tried three — nothing helped"
    assert _run(again.retrieve("somebody-else")) is None
    assert set(_run(again.keys())) == {"person-1"}

    # further events are appended, not duplicated
    loaded.update(ActionExecuted("action_listen"))
    _run(again.save(loaded))
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT type_name FROM events WHERE sender_id = :s ORDER BY id"), {"s": "person-1"}
        ).scalars().all()
    engine.dispose()
    assert len(rows) == len(tracker.events) + 1
    assert rows.count("user") == 2 and rows[-1] == "action"
    again.engine.dispose()


def test_endpoints_yml_gives_this_sql_store(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa falls back to an in-memory store silently if the class cannot be loaded: prove it is not."""
    endpoints = ROOT / "endpoints.yml"
    for name in set(re.findall(r"\$\{(\w+)\}", endpoints.read_text())) - {"DATABASE_URL"}:
        monkeypatch.setenv(name, os.environ.get(name, "http://127.0.0.1:9/unused"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    config = read_endpoint_config(str(endpoints), "tracker_store")
    assert config is not None and config.type == "bot.tracker_store.UrlSQLTrackerStore"
    store = create_tracker_store(config, DOMAIN)
    inner = getattr(store, "_tracker_store", store)  # create_tracker_store may wrap it
    assert isinstance(inner, UrlSQLTrackerStore)
    assert not isinstance(inner, InMemoryTrackerStore)
    _run(store.save(_tracker("person-2")))
    inner.engine.dispose()

    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = 'person-2'")).scalar()
    engine.dispose()
    assert count == len(_tracker("person-2").events)


@pytest.mark.postgres
def test_survives_the_database_dropping_its_connections(postgres_url: str) -> None:
    """After a PostgreSQL restart or failover the next message must not fail."""
    url = fresh_database("tracker")
    store = UrlSQLTrackerStore(host=url, domain=DOMAIN)
    _run(store.save(_tracker("person-5")))
    admin = sa.create_engine(url)
    with admin.connect() as conn:
        killed = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    assert killed and killed >= 1  # the store's pooled connection is gone
    loaded = _run(store.retrieve("person-5"))
    assert loaded is not None and loaded.get_slot("preferred_name") == "Sam 😊"
    store.engine.dispose()


def test_password_is_never_logged(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = UrlSQLTrackerStore(host=db_url, domain=DOMAIN)
    _run(store.save(_tracker("person-3")))
    _run(store.retrieve("person-3"))
    password = sa.engine.make_url(db_url).password
    if password:
        assert password not in caplog.text
        assert password not in repr(store)
    assert "tracker store:" in caplog.text
    store.engine.dispose()


def test_sqlite_file_is_shared_safely(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "trd.sqlite3"
    store = UrlSQLTrackerStore(host=f"sqlite:///{path}", domain=DOMAIN)
    assert path.exists()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    # another process (the action server) writing its own tables does not block the store
    other = sqlite3.connect(str(path))
    other.execute("CREATE TABLE trd_probe (x INTEGER)")
    other.execute("BEGIN")
    other.execute("INSERT INTO trd_probe VALUES (1)")
    loaded_while_writing = _run(store.retrieve("nobody"))  # reading while another process writes
    other.commit()
    other.close()
    assert loaded_while_writing is None
    _run(store.save(_tracker("person-4")))
    assert _run(store.retrieve("person-4")) is not None
    store.engine.dispose()


def test_postgres_scheme_alias_is_accepted(tmp_path: Path) -> None:
    from bot.tracker_store import parse_url

    assert parse_url("postgres://u:p@db.example:5433/trd").drivername == "postgresql"
    assert parse_url(f"sqlite:///{tmp_path}/x.db").database == f"{tmp_path}/x.db"


@pytest.mark.parametrize(
    "url, message",
    [
        ("", "needs a database URL"),
        ("not a url", "not a valid database URL"),
        ("nosuchdb+driver://u:sekrit@h/db", "unknown database dialect"),
    ],
)
def test_a_bad_url_stops_rasa_instead_of_falling_back_to_memory(
    url: str, message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: bot.tracker_store.UrlSQLTrackerStore\n  url: ${DATABASE_URL}\n"
    )
    monkeypatch.setenv("DATABASE_URL", url)
    config = read_endpoint_config(str(endpoints), "tracker_store")
    with pytest.raises(TrackerStoreConfigError, match=message) as info:
        create_tracker_store(config, DOMAIN)
    assert "sekrit" not in str(info.value)


def test_an_unwritable_sqlite_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(TrackerStoreConfigError, match="Cannot create the directory"):
        UrlSQLTrackerStore(host=f"sqlite:///{blocker}/sub/trd.sqlite3", domain=DOMAIN)


def test_tracker_store_factory_accepts_the_store_itself(tmp_path: Path) -> None:
    store = UrlSQLTrackerStore(host=f"sqlite:///{tmp_path}/t.sqlite3", domain=DOMAIN)
    assert TrackerStore.create(store) is store
    store.engine.dispose()
