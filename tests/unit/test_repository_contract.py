"""One contract for every Repository: the in-memory fake, SQLite and PostgreSQL.

The fake is what action unit tests run against, so it must behave exactly like
the database: the same validation, the same JSON round-trip, the same order.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
import sqlalchemy as sa

from tests.support.postgres import fresh_database
from trd.store import get_repository, set_repository
from trd.store.migrate import upgrade
from trd.store.repository import InMemoryRepository, Repository
from trd.store.sql import SqlRepository


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'trd.sqlite3'}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = _sqlite_url(tmp_path)
    upgrade(url)
    return url


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    url = fresh_database("contract")
    upgrade(url)
    return url


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def make_repo(request: pytest.FixtureRequest) -> Iterator[Callable[[], Repository]]:
    """A factory of repositories sharing one store (for the SQL ones: one database)."""
    made: List[SqlRepository] = []
    if request.param == "memory":
        shared = InMemoryRepository()

        def factory() -> Repository:
            return shared

    else:
        url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")

        def factory() -> Repository:
            repo = SqlRepository.from_url(url)
            made.append(repo)
            return repo

    yield factory
    for repo in made:
        repo.dispose()


@pytest.fixture
def repo(make_repo: Callable[[], Repository]) -> Repository:
    return make_repo()


def _near_now(value: datetime) -> bool:
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0), value
    return abs(datetime.now(timezone.utc) - value) < timedelta(seconds=30)


# -- crises -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_record_crisis_returns_the_stored_record(repo: Repository) -> None:
    rec = repo.record_crisis("conv-1", "web", "self_harm", "I don't want to be here any more")
    assert rec.id > 0
    assert (rec.conversation_id, rec.channel, rec.category) == ("conv-1", "web", "self_harm")
    assert rec.message_excerpt == "I don't want to be here any more"
    assert _near_now(rec.created_at)
    assert rec.resolved_at is None
    assert repo.crises("conv-1") == [rec]


def test_crises_are_per_conversation_and_oldest_first(repo: Repository) -> None:
    a1 = repo.record_crisis("conv-a", "web", "self_harm", "first")
    b1 = repo.record_crisis("conv-b", "sms", "danger_now", "other person")
    a2 = repo.record_crisis("conv-a", "sms", "sos", "second")
    assert [c.message_excerpt for c in repo.crises("conv-a")] == ["first", "second"]
    assert repo.crises("conv-b") == [b1]
    assert repo.crises("nobody") == []
    assert len({a1.id, a2.id, b1.id}) == 3
    assert a1.id < a2.id
    assert a1.created_at <= a2.created_at


def test_resolve_open_crises_only_touches_that_conversations_open_ones(repo: Repository) -> None:
    repo.record_crisis("conv-a", "web", "self_harm", "one")
    repo.record_crisis("conv-a", "web", "self_harm", "two")
    repo.record_crisis("conv-b", "web", "self_harm", "other")

    assert repo.resolve_open_crises("conv-a") == 2
    resolved = repo.crises("conv-a")
    assert all(c.resolved_at is not None and _near_now(c.resolved_at) for c in resolved)
    assert all(c.resolved_at >= c.created_at for c in resolved if c.resolved_at)
    assert [c.resolved_at for c in repo.crises("conv-b")] == [None]

    assert repo.resolve_open_crises("conv-a") == 0  # nothing open any more
    assert [c.resolved_at for c in repo.crises("conv-a")] == [c.resolved_at for c in resolved]

    again = repo.record_crisis("conv-a", "sms", "danger_now", "three")
    assert again.resolved_at is None
    assert repo.resolve_open_crises("conv-a") == 1
    assert repo.resolve_open_crises("nobody") == 0


def test_crisis_text_of_any_kind_is_kept(repo: Repository) -> None:
    text = "Ich kann nicht mehr 😞 — 我不想活了 «adiós»"
    assert repo.record_crisis("conv-u", "sms", "self_harm", text).message_excerpt == text
    # NUL (which PostgreSQL cannot store) and a lone surrogate must not lose the crisis
    odd = repo.record_crisis("conv-u", "web", "self_harm", "end\x00it \ud800 now")
    assert odd.message_excerpt == "endit ? now"
    assert [c.message_excerpt for c in repo.crises("conv-u")] == [text, "endit ? now"]
    long_text = "x" * 20_000
    assert repo.record_crisis("conv-u", "web", "self_harm", long_text).message_excerpt == long_text


@pytest.mark.slow
@pytest.mark.parametrize(
    "conversation_id, channel, category, excerpt",
    [
        ("", "web", "self_harm", "x"),
        ("   ", "web", "self_harm", "x"),
        ("c" * 256, "web", "self_harm", "x"),
        ("conv", "", "self_harm", "x"),
        ("conv", "w" * 65, "self_harm", "x"),
        ("conv", "web", "", "x"),
        ("conv", "web", "self_harm", None),
    ],
)
def test_record_crisis_refuses_bad_input_clearly(
    repo: Repository, conversation_id: str, channel: str, category: str, excerpt: str
) -> None:
    with pytest.raises(ValueError):
        repo.record_crisis(conversation_id, channel, category, excerpt)
    assert repo.crises(conversation_id) == []


def test_longest_allowed_ids_are_accepted(repo: Repository) -> None:
    cid = "c" * 255
    rec = repo.record_crisis(cid, "w" * 64, "k" * 64, "x")
    assert repo.crises(cid) == [rec]
    repo.save_intake(cid, {"a": 1})
    assert repo.intake(cid) == {"a": 1}


# -- safety plans -----------------------------------------------------------------------------


def test_safety_plan_is_created_then_replaced(repo: Repository) -> None:
    assert repo.safety_plan("conv-p") is None
    first = repo.save_safety_plan("conv-p", {"warning_signs": "I stop eating", "who_to_call": None})
    assert first.conversation_id == "conv-p"
    assert first.sections == {"warning_signs": "I stop eating", "who_to_call": None}
    assert first.updated_at is not None and _near_now(first.updated_at)
    assert repo.safety_plan("conv-p") == first

    time.sleep(0.01)
    second = repo.save_safety_plan("conv-p", {"coping_steps": "walk the dog"})
    assert second.sections == {"coping_steps": "walk the dog"}  # replaced, not merged
    assert second.updated_at is not None and first.updated_at is not None
    assert second.updated_at > first.updated_at
    assert repo.safety_plan("conv-p") == second
    assert repo.safety_plan("conv-other") is None


def test_safety_plan_returned_is_a_copy(repo: Repository) -> None:
    saved = repo.save_safety_plan("conv-c", {"warning_signs": "a"})
    saved.sections["warning_signs"] = "changed by caller"
    loaded = repo.safety_plan("conv-c")
    assert loaded is not None and loaded.sections == {"warning_signs": "a"}
    loaded.sections["warning_signs"] = "changed again"
    again = repo.safety_plan("conv-c")
    assert again is not None and again.sections == {"warning_signs": "a"}


@pytest.mark.parametrize("sections", [{"warning_signs": 3}, {"warning_signs": ["a"]}, ["a"], {"x": {1, 2}}])
def test_safety_plan_refuses_non_text_sections(repo: Repository, sections: object) -> None:
    with pytest.raises(ValueError):
        repo.save_safety_plan("conv-bad", sections)  # type: ignore[arg-type]
    assert repo.safety_plan("conv-bad") is None


# -- intakes ------------------------------------------------------------------------------------


RECORD = {
    "schema_version": 1,
    "medications": [
        {"generic": "sertraline", "dose_mg": 150.5, "weeks": 8, "adequate": True, "response": None},
        {"generic": "bupropion", "brand": "Wellbutrin XL", "dose_mg": 300, "weeks": 6.0},
    ],
    "phq9": {"items": [2, 3, 1, 0, 2, 3, 2, 1, 0], "total": 14},
    "notes": "Ça va — pas très bien 😔",
    "empty": {},
    "none": None,
}


def test_intake_round_trips_exactly(repo: Repository) -> None:
    assert repo.intake("conv-i") is None
    repo.save_intake("conv-i", RECORD)
    assert repo.intake("conv-i") == RECORD
    assert repo.intake("conv-other") is None


def test_intake_is_replaced_not_merged(repo: Repository) -> None:
    repo.save_intake("conv-i", RECORD)
    repo.save_intake("conv-i", {"schema_version": 1, "notes": "second"})
    assert repo.intake("conv-i") == {"schema_version": 1, "notes": "second"}


def test_intake_is_isolated_from_callers_objects(repo: Repository) -> None:
    record = {"medications": [{"generic": "sertraline"}]}
    repo.save_intake("conv-iso", record)
    record["medications"].append({"generic": "changed after saving"})
    loaded = repo.intake("conv-iso")
    assert loaded == {"medications": [{"generic": "sertraline"}]}
    assert loaded is not None
    loaded["medications"].clear()
    assert repo.intake("conv-iso") == {"medications": [{"generic": "sertraline"}]}


def test_intake_is_json_normalised_like_a_json_column(repo: Repository) -> None:
    record: Dict[Any, Any] = {"tuple": (1, 2), "nested": {"k": ("a",)}, 7: "int key", "s": "a\x00b"}
    repo.save_intake("conv-j", record)
    assert repo.intake("conv-j") == {"tuple": [1, 2], "nested": {"k": ["a"]}, "7": "int key", "s": "ab"}


@pytest.mark.slow
@pytest.mark.parametrize(
    "record",
    [
        {"when": datetime(2024, 1, 1, tzinfo=timezone.utc)},
        {"set": {1, 2}},
        {"nan": float("nan")},
        ["not", "a", "dict"],
        None,
    ],
)
def test_intake_refuses_what_json_cannot_hold(repo: Repository, record: object) -> None:
    repo.save_intake("conv-keep", {"kept": True})
    with pytest.raises(ValueError):
        repo.save_intake("conv-keep", record)  # type: ignore[arg-type]
    assert repo.intake("conv-keep") == {"kept": True}  # the earlier record is not lost


# -- summary links ------------------------------------------------------------------------------

T0 = datetime(2024, 12, 6, 9, 30, 15, 123456, tzinfo=timezone.utc)
WEEK = timedelta(days=7)


def _token(n: int) -> str:
    """A well-formed token (what secrets.token_urlsafe(32) makes), distinct per n."""
    return f"tok{n:04d}-" + "A" * 30 + "_z9"


def test_summary_link_is_created_and_resolved(repo: Repository) -> None:
    link = repo.create_summary_link("conv-s", _token(1), T0 + WEEK, now=T0)
    assert link.id > 0
    assert (link.conversation_id, link.created_at, link.expires_at, link.revoked_at) == (
        "conv-s", T0, T0 + WEEK, None,
    )
    assert repo.summary_link(_token(1)) == link
    assert repo.resolve_summary_link(_token(1), now=T0 + timedelta(days=3)) == "conv-s"
    assert repo.summary_link(_token(2)) is None
    assert repo.resolve_summary_link(_token(2), now=T0) is None


def test_summary_link_default_clock_is_now(repo: Repository) -> None:
    link = repo.create_summary_link("conv-now", _token(3), datetime.now(timezone.utc) + WEEK)
    assert _near_now(link.created_at)
    assert repo.resolve_summary_link(_token(3)) == "conv-now"


def test_summary_link_expires_at_its_expiry(repo: Repository) -> None:
    repo.create_summary_link("conv-e", _token(4), T0 + WEEK, now=T0)
    assert repo.resolve_summary_link(_token(4), now=T0 + WEEK - timedelta(microseconds=1)) == "conv-e"
    assert repo.resolve_summary_link(_token(4), now=T0 + WEEK) is None
    link = repo.summary_link(_token(4))
    assert link is not None and link.state(T0 + WEEK) == "expired"
    assert link.state(T0) == "active"


def test_revoking_turns_off_only_that_conversations_active_links(repo: Repository) -> None:
    repo.create_summary_link("conv-a", _token(5), T0 + WEEK, now=T0)
    repo.create_summary_link("conv-a", _token(6), T0 + WEEK, now=T0)
    repo.create_summary_link("conv-a", _token(7), T0 + timedelta(days=1), now=T0)  # expired by then
    repo.create_summary_link("conv-b", _token(8), T0 + WEEK, now=T0)
    when = T0 + timedelta(days=2)

    assert repo.revoke_summary_links("conv-a", now=when) == 2
    assert repo.resolve_summary_link(_token(5), now=when) is None
    assert repo.resolve_summary_link(_token(6), now=when) is None
    revoked = repo.summary_link(_token(5))
    assert revoked is not None and revoked.revoked_at == when and revoked.state(when) == "revoked"
    expired = repo.summary_link(_token(7))
    assert expired is not None and expired.revoked_at is None and expired.state(when) == "expired"
    assert repo.resolve_summary_link(_token(8), now=when) == "conv-b"

    assert repo.revoke_summary_links("conv-a", now=when) == 0
    assert repo.revoke_summary_links("nobody", now=when) == 0
    # a new link after revoking works again
    repo.create_summary_link("conv-a", _token(9), when + WEEK, now=when)
    assert repo.resolve_summary_link(_token(9), now=when) == "conv-a"


@pytest.mark.slow
@pytest.mark.parametrize(
    "token",
    ["", "short", "A" * 31, "A" * 129, "\x00" * 43, "../../etc/passwd" + "a" * 30, "tok en" + "A" * 40,
     "é" * 43, None, 12345, b"A" * 43],
)
def test_malformed_tokens_resolve_to_nothing(repo: Repository, token: Any) -> None:
    repo.create_summary_link("conv-m", _token(10), T0 + WEEK, now=T0)
    assert repo.resolve_summary_link(token, now=T0) is None
    assert repo.summary_link(token) is None


@pytest.mark.slow
@pytest.mark.parametrize(
    "conversation_id, token, expires_at, now",
    [
        ("", _token(11), T0 + WEEK, T0),
        ("c" * 256, _token(11), T0 + WEEK, T0),
        ("conv-x", "not a token", T0 + WEEK, T0),
        ("conv-x", _token(11), T0, T0),  # expires when created
        ("conv-x", _token(11), T0 - WEEK, T0),
        ("conv-x", _token(11), datetime(2024, 12, 13), T0),  # naive
        ("conv-x", _token(11), T0 + WEEK, datetime(2024, 12, 6)),  # naive
    ],
)
def test_create_summary_link_refuses_bad_input(
    repo: Repository, conversation_id: str, token: str, expires_at: datetime, now: datetime
) -> None:
    with pytest.raises(ValueError):
        repo.create_summary_link(conversation_id, token, expires_at, now=now)
    assert repo.summary_link(_token(11)) is None


def test_a_token_is_used_once(repo: Repository) -> None:
    repo.create_summary_link("conv-1", _token(12), T0 + WEEK, now=T0)
    with pytest.raises(ValueError):
        repo.create_summary_link("conv-2", _token(12), T0 + WEEK, now=T0)
    assert repo.resolve_summary_link(_token(12), now=T0) == "conv-1"


# -- more than one writer ----------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(make_repo: Callable[[], Repository]) -> None:
    """Several repositories (as several processes would have) write at once."""
    repos = [make_repo() for _ in range(3)]
    errors: List[BaseException] = []
    per_thread = 8

    def worker(n: int) -> None:
        repo = repos[n % len(repos)]
        try:
            for i in range(per_thread):
                repo.record_crisis("conv-busy", "web", "self_harm", f"t{n}-{i}")
                repo.save_intake("conv-busy", {"writer": n, "i": i})
                repo.save_safety_plan("conv-busy", {"warning_signs": f"t{n}-{i}"})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    excerpts = sorted(c.message_excerpt for c in repos[0].crises("conv-busy"))
    assert excerpts == sorted(f"t{n}-{i}" for n in range(6) for i in range(per_thread))
    assert len({c.id for c in repos[1].crises("conv-busy")}) == 6 * per_thread
    intake = repos[2].intake("conv-busy")
    assert intake is not None and intake["i"] == per_thread - 1
    plan = repos[0].safety_plan("conv-busy")
    assert plan is not None and str(plan.sections["warning_signs"]).endswith(f"-{per_thread - 1}")


# -- SQL only -----------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


def test_data_survives_a_new_process(sql_url: str) -> None:
    """What one repository (process) wrote, a fresh one on the same URL reads back."""
    first = SqlRepository.from_url(sql_url)
    rec = first.record_crisis("conv-r", "sms", "danger_now", "help")
    first.save_safety_plan("conv-r", {"who_to_call": "my sister"})
    first.save_intake("conv-r", RECORD)
    first.dispose()

    second = SqlRepository.from_url(sql_url)
    try:
        assert second.crises("conv-r") == [rec]
        plan = second.safety_plan("conv-r")
        assert plan is not None and plan.sections == {"who_to_call": "my sister"}
        assert second.intake("conv-r") == RECORD
    finally:
        second.dispose()


def test_summary_tokens_are_stored_only_as_hashes(sql_url: str) -> None:
    repo = SqlRepository.from_url(sql_url)
    try:
        repo.create_summary_link("conv-h", _token(13), T0 + WEEK, now=T0)
        with repo.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT conversation_id, token_hash FROM trd_summary_links")).all()
        assert [r[0] for r in rows] == ["conv-h"]
        token_hash = rows[0][1]
        assert len(token_hash) == 64 and _token(13) not in token_hash
        assert token_hash == hashlib.sha256(_token(13).encode()).hexdigest()
    finally:
        repo.dispose()


@pytest.mark.postgres
def test_postgres_dropping_connections_loses_no_crisis(pg_url: str) -> None:
    """A PostgreSQL restart or failover between two messages: the next crisis is still stored."""
    repo = SqlRepository.from_url(pg_url)
    first = repo.record_crisis("conv-drop", "web", "self_harm", "before")
    admin = sa.create_engine(pg_url)
    with admin.connect() as conn:
        killed = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    assert killed and killed >= 1
    second = repo.record_crisis("conv-drop", "web", "self_harm", "after")
    assert repo.crises("conv-drop") == [first, second]
    repo.dispose()


def test_get_repository_builds_a_migrated_sql_repository_from_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _sqlite_url(tmp_path)  # not migrated yet, the directory does not exist yet
    monkeypatch.setenv("DATABASE_URL", url)
    set_repository(None)
    try:
        repo = get_repository()
        assert isinstance(repo, SqlRepository)
        assert get_repository() is repo
        rec = repo.record_crisis("conv-g", "web", "self_harm", "x")
        check = SqlRepository.from_url(url)
        assert check.crises("conv-g") == [rec]
        check.dispose()

        fake = InMemoryRepository()
        set_repository(fake)
        assert get_repository() is fake
    finally:
        set_repository(None)


def test_get_repository_without_database_url_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    set_repository(None)
    with pytest.raises(ValueError, match="DATABASE_URL is not set"):
        get_repository()
