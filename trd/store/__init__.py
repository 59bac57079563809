"""Storage for the action server: SQLAlchemy models, the repository and migrations."""

from __future__ import annotations

import logging
import threading

from trd.store.repository import Repository

logger = logging.getLogger(__name__)

_repository: Repository | None = None
_lock = threading.Lock()


def get_repository() -> Repository:
    """The process-wide repository, built from ``DATABASE_URL`` on first use.

    The first call brings the schema up to date (idempotent; serialised between
    processes on PostgreSQL), so an action server never writes a crisis into a
    missing table. It touches the database: async code calls it in a worker thread
    (``await asyncio.to_thread(get_repository)``). Tests use :func:`set_repository`.
    """
    global _repository
    with _lock:
        if _repository is None:
            from trd.store import migrate
            from trd.store.db import database_url_from_env, safe_url
            from trd.store.sql import SqlRepository

            url = database_url_from_env()
            before, after = migrate.upgrade(url)
            if before != after:
                logger.info("migrated %s from %s to %s", safe_url(url), before or "nothing", after)
            _repository = SqlRepository.from_url(url)
        return _repository


def set_repository(repository: Repository | None) -> None:
    """Replace the process-wide repository (tests); ``None`` makes the next call rebuild it."""
    global _repository
    with _lock:
        old, _repository = _repository, repository
    dispose = getattr(old, "dispose", None)
    if old is not None and old is not repository and callable(dispose):
        dispose()
