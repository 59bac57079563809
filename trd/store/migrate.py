"""Bring the project's tables up to date: ``python -m trd.store.migrate``.

Upgrades the database named by ``DATABASE_URL`` (or ``--url``) to the newest
migration and prints what it did. Safe to run any number of times. Touches only
the ``trd_*`` tables, never Rasa's tracker store tables.

To add a migration after changing ``models.py`` (against an up-to-date database)::

    python -c "from alembic import command; from trd.store.migrate import alembic_config as c; \
        command.revision(c('sqlite:////tmp/m.db'), message='what changed', autogenerate=True, rev_id='0003')"

(rev_id: the next number), then review the file it writes in ``migrations/versions``;
tests/unit/test_migrations.py checks models and migrations agree on SQLite and PostgreSQL.

Exit codes: 0 done (or, with ``--check``, already up to date); 1 the migration
failed or ``--check`` found it out of date; 2 the URL is missing, malformed,
names a driver that is not installed, or the database cannot be reached.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List, Sequence, Tuple, Union

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from trd.store.db import (
    DatabaseConfigError,
    database_url_from_env,
    make_engine,
    parse_database_url,
    safe_url,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "trd_alembic_version"


def alembic_config(url: Union[str, URL, None] = None, connection: Connection | None = None) -> Config:
    """An Alembic config for our migrations; pass a URL or an open connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.attributes["url"] = parse_database_url(url)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revisions(url: Union[str, URL]) -> Tuple[str, ...]:
    """The revisions the database is at (empty before the first migration)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return tuple(ctx.get_current_heads())
    finally:
        engine.dispose()


def upgrade(url: Union[str, URL], revision: str = "head") -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """Upgrade to ``revision``; returns (revisions before, revisions after) of this run.

    Concurrent runs wait for each other; only the one that changed the schema
    reports a difference.
    """
    cfg = alembic_config(url)
    command.upgrade(cfg, revision)
    after = current_revisions(url)
    applied = cfg.attributes.get("applied") or []
    before = tuple(applied[0][0]) if applied else after
    return before, after


def _describe(revs: Sequence[str]) -> str:
    return ", ".join(revs) if revs else "an empty schema"


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trd.store.migrate",
        description="Upgrade the project's tables (trd_*) in DATABASE_URL to the newest migration.",
    )
    parser.add_argument("--url", help="database URL (default: the DATABASE_URL environment variable)")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if the database is not up to date"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    try:
        url = parse_database_url(args.url if args.url else database_url_from_env())
    except DatabaseConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    shown = safe_url(url)
    head = head_revision()
    try:
        if args.check:
            current = current_revisions(url)
            if current == (head,):
                print(f"database {shown} is up to date (revision {head})")
                return 0
            print(f"database {shown} is at {_describe(current)}; newest is {head}", file=sys.stderr)
            return 1
        before, after = upgrade(url)
    except DatabaseConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        print(f"error: cannot use the database {shown}: {reason}", file=sys.stderr)
        return 2
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        print(f"error: migrating {shown} failed: {reason}", file=sys.stderr)
        return 1
    if before == after:
        print(f"database {shown} is already up to date (revision {_describe(after)})")
    else:
        print(f"database {shown} upgraded from {_describe(before)} to revision {_describe(after)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
