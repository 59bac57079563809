"""Alembic environment for the project's own tables (``trd_*``).

Configured programmatically by ``trd.store.migrate`` (no alembic.ini). Only
tables named ``trd_*`` are managed: Rasa's tracker store tables (``events``) may
live in the same database and are never touched. The version table is
``trd_alembic_version`` for the same reason.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from trd.store.models import TABLE_PREFIX, all_metadata

VERSION_TABLE = f"{TABLE_PREFIX}alembic_version"
# An arbitrary constant: concurrent migrators on one PostgreSQL database wait for each other.
PG_ADVISORY_LOCK_KEY = 7_310_012_001


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if type_ == "table":
        return bool(name) and str(name).startswith(TABLE_PREFIX) and name != VERSION_TABLE
    return True


def _record_step(ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
    """Tell ``trd.store.migrate`` what was applied (it reports it)."""
    context.config.attributes.setdefault("applied", []).append(
        (tuple(step.source_revision_ids), tuple(step.destination_revision_ids))
    )


def _configure(connection: Connection | None = None, **kwargs: Any) -> None:
    context.configure(
        on_version_apply=_record_step,
        connection=connection,
        target_metadata=all_metadata(),
        version_table=VERSION_TABLE,
        include_name=include_name,
        compare_type=True,
        render_as_batch=True,  # SQLite needs batch mode for ALTER TABLE
        **kwargs,
    )


def run_migrations_offline() -> None:
    url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")
    _configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    """Run the migrations in one transaction that concurrent migrators wait for.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: DDL is transactional
    too, so the whole run is one ``BEGIN IMMEDIATE`` write transaction (others wait
    on the busy timeout, then find the schema up to date).
    """
    sqlite = connection.dialect.name == "sqlite"
    _configure(connection, transactional_ddl=True if sqlite else None)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_ADVISORY_LOCK_KEY})")
        elif sqlite:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from trd.store.db import make_engine

    engine = make_engine(context.config.attributes["url"])
    try:
        with engine.connect() as conn:
            _run(conn)
            if conn.in_transaction():
                conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
