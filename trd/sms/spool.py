"""A local, append-only journal of received SMS for when the database cannot take them.

The webhook writes a message to the inbox table before it answers 200. When the database
does not take it in time (locked, down), the message goes here instead: one line per
event, appended and fsync'ed before the 200, each line a Fernet token (the number and the
text are never in clear on disk). Two kinds of line: a message was *received* (with its
encrypted payload) and a message was *handled* (its turn ended while the database was
still away). :meth:`InboxSpool.replay` moves them into the inbox table once the database is
back (received and not handled: a pending row the inbox drain picks up; handled: a handled
row, so a provider retry is a duplicate) and then drops them from the file. Writers and
the replay hold an exclusive lock on the file (several processes may share a directory).

``SMS_SPOOL_DIR`` names the directory; unset, it is ``sms-spool`` beside a SQLite database
file, or ``var/sms-spool`` in the checkout.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping

from cryptography.fernet import Fernet, InvalidToken

logger = logging.getLogger(__name__)

FILE_NAME = "inbox.journal"


def default_spool_dir(env: Mapping[str, str], repo_root: Path) -> Path:
    configured = env.get("SMS_SPOOL_DIR", "").strip()
    if configured:
        return Path(configured)
    url = env.get("DATABASE_URL", "").strip()
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url[len("sqlite:///") :].split("?", 1)[0]).expanduser().parent / "sms-spool"
    return repo_root / "var" / "sms-spool"


class InboxSpool:
    def __init__(self, directory: Path, fernet: Fernet) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self._fernet = fernet

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _line(self, entry: Dict[str, Any]) -> bytes:
        """One journal line: the entry as JSON, encrypted."""
        return self._fernet.encrypt(json.dumps(entry).encode("utf-8")) + b"\n"

    def _append(self, entry: Dict[str, Any]) -> None:
        line = self._line(entry)
        with self._locked() as fd:
            os.write(fd, line)
            os.fsync(fd)

    def received(self, message_sid: str, sender_id: str, payload: Dict[str, Any], received_at: str) -> None:
        self._append(
            {
                "kind": "received",
                "sid": message_sid,
                "sender": sender_id,
                "payload": payload,
                "at": received_at,
            }
        )
        logger.error(
            "sms: the database did not take a received message in time; it is kept in the local "
            "spool %s until the database is back (sender %s)",
            self.path,
            sender_id,
        )

    def handled(self, message_sid: str) -> None:
        self._append({"kind": "handled", "sid": message_sid})

    def entries(self) -> List[Dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._locked():
            return self._read(self.path.with_name(self.path.name + ".replaying")) + self._read(self.path)

    def _read(self, path: Path) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        if not path.exists():
            return out
        for raw in path.read_bytes().splitlines():
            if not raw.strip():
                continue
            try:
                entry = json.loads(self._fernet.decrypt(raw.strip()).decode("utf-8"))
            except (InvalidToken, ValueError):
                logger.error("sms: an unreadable line in the spool %s was skipped", self.path)
                continue
            if isinstance(entry, dict) and isinstance(entry.get("sid"), str):
                out.append(entry)
        return out

    def replay(self, restore: Any) -> int:
        """Move every spooled message into the database with ``restore(sid, sender, payload, at,
        handled)``; returns how many. Entries that could not be restored stay spooled.

        The file lock is held only to take the entries out (into ``inbox.journal.replaying``,
        picked up again if a replay is interrupted) and to put the failed ones back, never while
        the database is being written: a locked database must not hold up the webhook's spool."""
        replaying = self.path.with_name(self.path.name + ".replaying")
        if not self.path.exists() and not replaying.exists():
            return 0
        with self._locked():
            entries = self._read(replaying) + self._read(self.path)
            if not entries:
                return 0
            self._write(replaying, entries)
            os.truncate(self.path, 0)
        received: Dict[str, Dict[str, Any]] = {}
        handled: set = set()
        for entry in entries:
            if entry.get("kind") == "received":
                received.setdefault(entry["sid"], entry)
            elif entry.get("kind") == "handled":
                handled.add(entry["sid"])
        kept: List[Dict[str, Any]] = []
        moved = 0
        for sid, entry in received.items():
            try:
                restore(sid, entry.get("sender"), entry.get("payload"), entry.get("at"), sid in handled)
                moved += 1
            except Exception:  # noqa: BLE001 - the database is still away: keep it for next time
                logger.warning("sms: a spooled message could not be moved into the database yet")
                kept.append(entry)
                if sid in handled:
                    kept.append({"kind": "handled", "sid": sid})
        for sid in handled - set(received):
            # a handled mark for a message the database took itself: apply it too
            try:
                restore(sid, None, None, None, True)
            except Exception:  # noqa: BLE001
                kept.append({"kind": "handled", "sid": sid})
        with self._locked() as fd:
            for entry in kept:
                os.write(fd, self._line(entry))
            os.fsync(fd)
            replaying.unlink(missing_ok=True)
        if moved:
            logger.warning("sms: moved %d spooled message(s) into the database", moved)
        return moved

    def _write(self, path: Path, entries: List[Dict[str, Any]]) -> None:
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            for entry in entries:
                f.write(self._line(entry))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
