"""The migrations build exactly the models' schema, leave Rasa's tables alone, and the
``python -m trd.store.migrate`` command is idempotent with clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.support.postgres import fresh_database
from trd.store.db import make_engine
from trd.store.migrate import VERSION_TABLE, alembic_config, current_revisions, head_revision, upgrade
from trd.store.models import all_metadata

ROOT = Path(__file__).resolve().parents[2]
TRD_TABLES = {"trd_crisis_events", "trd_safety_plans", "trd_intakes"}

# A stand-in for Rasa's tracker store table, created the way Rasa creates it.
rasa_metadata = sa.MetaData()
rasa_events = sa.Table(
    "events",
    rasa_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


def _env(database_url: str | None) -> Dict[str, str]:
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


def _migrate(args: List[str], database_url: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trd.store.migrate", *args],
        cwd=ROOT, env=_env(database_url), capture_output=True, text=True, timeout=120,
    )


def _start_migrate(database_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "trd.store.migrate"],
        cwd=ROOT, env=_env(database_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm' / 'trd.sqlite3'}"
    request.getfixturevalue("postgres_url")
    return fresh_database("mig")


def _diff(url: str) -> List[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, type_, parents: (
                        type_ != "table" or (str(name).startswith("trd_") and name != VERSION_TABLE)
                    ),
                },
            )
            return list(compare_metadata(ctx, all_metadata()))
    finally:
        engine.dispose()


def _tables(url: str) -> set:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_and_migrations_agree(empty_url: str) -> None:
    assert _diff(empty_url) != []  # the comparison does see a missing schema
    before, after = upgrade(empty_url)
    assert before == () and after == (head_revision(),)
    assert _diff(empty_url) == []
    assert TRD_TABLES | {VERSION_TABLE} <= _tables(empty_url)


def test_migrations_leave_rasas_tables_alone(empty_url: str) -> None:
    engine = make_engine(empty_url)
    rasa_metadata.create_all(engine)  # Rasa's tracker store got there first
    with engine.begin() as conn:
        conn.execute(rasa_events.insert().values(sender_id="s1", type_name="user", data="{}"))
    upgrade(empty_url)
    assert _diff(empty_url) == []  # and the comparison does not want to drop `events`
    assert "events" in _tables(empty_url)

    command.downgrade(alembic_config(empty_url), "base")
    assert _tables(empty_url) & TRD_TABLES == set()
    with engine.connect() as conn:
        assert conn.execute(sa.select(rasa_events.c.sender_id)).scalars().all() == ["s1"]
    upgrade(empty_url)  # and back up again
    assert TRD_TABLES <= _tables(empty_url)
    engine.dispose()


@pytest.mark.slow  # migration processes
def test_concurrent_migrations_all_succeed(empty_url: str) -> None:
    """Several processes (setup scripts, action servers) migrating a fresh database at once."""
    procs = [_start_migrate(empty_url) for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    said = sorted("upgraded" if "upgraded" in out else "already" for out, _ in outputs)
    assert said == ["already", "already", "upgraded"], outputs
    assert current_revisions(empty_url) == (head_revision(),)
    assert _diff(empty_url) == []


# -- the command ------------------------------------------------------------------------------




@pytest.mark.slow  # migration processes
def test_migrate_command_is_idempotent(empty_url: str) -> None:
    shown = empty_url.split("@")[-1]
    check = _migrate(["--check"], empty_url)
    assert check.returncode == 1, check.stderr
    assert "newest is" in check.stderr

    first = _migrate([], empty_url)
    assert first.returncode == 0, first.stderr
    assert "upgraded from an empty schema to revision" in first.stdout
    assert shown in first.stdout

    second = _migrate([], empty_url)
    assert second.returncode == 0, second.stderr
    assert "already up to date" in second.stdout

    check = _migrate(["--check"], empty_url)
    assert check.returncode == 0 and "up to date" in check.stdout


@pytest.mark.parametrize(
    "url, message",
    [
        (None, "DATABASE_URL is not set"),
        ("", "DATABASE_URL is not set"),
        ("not a url", "not a valid database URL"),
        ("mysqlx+nodriver://u:p@h/db", "unknown database dialect/driver"),
        ("postgresql+psycopg2://u:sekrit-pw@127.0.0.1:1/db", "cannot use the database"),
    ],
)
@pytest.mark.slow  # a migration process per case
def test_migrate_command_explains_a_bad_url(url: str | None, message: str) -> None:
    result = _migrate([], url)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "sekrit-pw" not in result.stdout + result.stderr


@pytest.mark.slow  # a migration process
def test_migrate_command_creates_the_sqlite_directory(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "trd.sqlite3"
    result = _migrate([], f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr
    assert db.exists()
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()
