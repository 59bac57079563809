"""What the background workers share (``python -m trd.escalation.worker``, ``python -m
trd.checkins.worker``): logs on stdout (redacted: each main installs trd.logredact first),
SIGTERM and SIGINT as a stop, and waiting for the database (the schema brought up to date)
before the first claim."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

# The longest wait between two tries of an unusable database (at start, and between claims).
DB_RETRY_MAX_SECONDS = 30.0


def setup_logging() -> None:
    """Log to stdout at LOG_LEVEL (INFO). Each worker's main installs the redaction
    (``trd.logredact.install()``) before it calls this: tests/unit/test_log_redaction.py checks."""
    logging.basicConfig(
        stream=sys.stdout,
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for noisy in ("alembic", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (call it inside the running event loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on Linux
            pass
    return stop


async def migrate_until_ready(url: str, stop: asyncio.Event, log: logging.Logger) -> bool:
    """Bring the schema up to date, waiting for the database if need be; False if stopped first."""
    from trd.store import migrate

    failures = 0
    while not stop.is_set():
        try:
            await asyncio.to_thread(migrate.upgrade, url)
            return True
        except Exception as exc:  # noqa: BLE001 - e.g. PostgreSQL still starting
            failures += 1
            wait = min(DB_RETRY_MAX_SECONDS, 2.0 ** min(failures, 5))
            log.error("the database is not usable yet (%s); trying again in %.0fs", exc, wait)
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass
    return False
