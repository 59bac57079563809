"""Engine and session factory for the project's own tables, from ``DATABASE_URL``.

Nothing here connects at import time: engines are built on first use and cached
per URL. SQLite files get WAL mode, a busy timeout and foreign keys so the Rasa
server (tracker store) and the action server can share one file; PostgreSQL
connections are pinged before use so a restarted database does not surface as
an error in a conversation.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Dict, Union

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

ENV_VAR = "DATABASE_URL"
# How long a SQLite writer waits for another process's write lock (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseConfigError(ValueError):
    """``DATABASE_URL`` is missing, malformed or names a driver that is not installed."""


def safe_url(url: Union[str, URL]) -> str:
    """The URL as text with any password masked, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot parse is shown as a placeholder
        return "<unparseable database URL>"


def database_url_from_env() -> str:
    url = os.environ.get(ENV_VAR, "").strip()
    if not url:
        raise DatabaseConfigError(
            f"{ENV_VAR} is not set. Set it to a SQLAlchemy URL, e.g. "
            "sqlite:////abs/path/var/trd.sqlite3 or postgresql+psycopg2://user:pass@host:5432/db "
            "(scripts/lib.sh sets a local SQLite default)."
        )
    return url


def parse_database_url(url: Union[str, URL]) -> URL:
    """Parse and check a database URL; raises :class:`DatabaseConfigError` with a clear message.

    ``postgres://`` (as printed by some hosting providers) is accepted as ``postgresql://``.
    The driver must be importable, so a typo fails here rather than at the first query.
    """
    if isinstance(url, URL):
        parsed = url
    else:
        text = str(url).strip()
        if not text:
            raise DatabaseConfigError(f"{ENV_VAR} is empty.")
        if text.startswith("postgres://") or text.startswith("postgres+"):
            text = "postgresql" + text[len("postgres") :]
        try:
            parsed = make_url(text)
        except (ArgumentError, ValueError) as exc:
            raise DatabaseConfigError(
                f"{ENV_VAR} is not a valid database URL ({safe_url(text)}): expected e.g. "
                "sqlite:////abs/path/trd.sqlite3 or postgresql+psycopg2://user:pass@host:5432/db"
            ) from exc
    try:
        dialect_cls: Any = parsed.get_dialect()
        import_dbapi = getattr(dialect_cls, "import_dbapi", None) or dialect_cls.dbapi
        import_dbapi()  # imports the driver module
    except NoSuchModuleError as exc:
        raise DatabaseConfigError(
            f"{ENV_VAR} names an unknown database dialect/driver {parsed.drivername!r} "
            f"({safe_url(parsed)}); use sqlite or postgresql+psycopg2."
        ) from exc
    except ImportError as exc:
        raise DatabaseConfigError(
            f"The database driver for {parsed.drivername!r} is not installed ({exc}); "
            "for PostgreSQL install psycopg2-binary."
        ) from exc
    if parsed.get_backend_name() != "sqlite" and not parsed.database:
        raise DatabaseConfigError(f"{ENV_VAR} names no database ({safe_url(parsed)}).")
    return parsed


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def is_sqlite_memory(url: URL) -> bool:
    database = url.database
    return is_sqlite(url) and (not database or database == ":memory:" or "mode=memory" in database)


def ensure_sqlite_directory(url: URL) -> None:
    """Create the parent directory of a SQLite file so the first connection can create it."""
    if not is_sqlite(url) or is_sqlite_memory(url) or url.database is None:
        return
    database = url.database
    if database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    parent = Path(database).expanduser().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseConfigError(
            f"Cannot create the directory {str(parent)!r} for the SQLite database: {exc.strerror}"
        ) from exc
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DatabaseConfigError(f"The directory {str(parent)!r} for the SQLite database is not writable.")


def set_sqlite_pragmas(dbapi_connection: Any, foreign_keys: bool = True) -> None:
    """WAL (readers never block the writer), a busy timeout, and foreign keys."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_MS)}")
        mode = cursor.execute("PRAGMA journal_mode").fetchone()
        if mode is not None and str(mode[0]).lower() not in ("wal", "memory"):
            cursor.execute("PRAGMA journal_mode = WAL")
        if foreign_keys:
            cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def make_engine(url: Union[str, URL], **kwargs: Any) -> Engine:
    """A new engine for ``url`` with the project's connection settings (no connection yet)."""
    parsed = parse_database_url(url)
    options: Dict[str, Any] = {"future": True}
    if is_sqlite(parsed):
        ensure_sqlite_directory(parsed)
        connect_args: Dict[str, Any] = {
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            # sessions are used from worker threads (asyncio.to_thread)
            "check_same_thread": False,
        }
        options["connect_args"] = connect_args
        if is_sqlite_memory(parsed):
            # one shared in-memory database for the engine's lifetime
            options["poolclass"] = StaticPool
    else:
        options["pool_pre_ping"] = True
        options["pool_size"] = int(os.environ.get("TRD_DB_POOL_SIZE", "5"))
        options["max_overflow"] = int(os.environ.get("TRD_DB_MAX_OVERFLOW", "10"))
    # An error message or a log line never carries what people typed: SQL parameters are
    # left out of both ("[SQL parameters hidden due to hide_parameters=True]").
    options["hide_parameters"] = True
    options.update(kwargs)
    engine = sa.create_engine(parsed, **options)
    if is_sqlite(parsed):
        event.listen(engine, "connect", lambda conn, _record: set_sqlite_pragmas(conn))
    return engine


_engines: Dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: Union[str, URL] | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: ``DATABASE_URL``), created on first use."""
    parsed = parse_database_url(url if url is not None else database_url_from_env())
    key = parsed.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = make_engine(parsed)
            _engines[key] = engine
        return engine


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def dispose_engines() -> None:
    """Close every cached engine's connections (tests, process shutdown)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
