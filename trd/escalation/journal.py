"""The escalation journal: a crisis recorded while the database is down is not lost (#10).

When ``action_record_crisis`` cannot write the crisis and its outbox rows (the database is
unreachable, locked for longer than the retries, or the schema cannot be read), it appends
the crisis and its escalation to this local, append-only file, fsyncs it, and logs at ERROR
(``ESCALATION SPOOLED``). The delivery worker (``trd.escalation.worker``) then

1. **delivers from the journal** while the database stays down: each destination once, the
   same idempotency key (the outbox row id chosen when it was spooled) and signature as any
   other escalation, and appends a ``delivered`` line for each;
2. **moves each entry into the database** when it is back: the crisis record and its outbox
   rows, already ``delivered`` for the destinations the journal delivered (so nothing is
   sent twice), ``pending`` for the rest; then appends a ``moved`` line;
3. empties the file once every entry has been moved.

Flood control while the database is down: only a conversation's first unmoved entry is
delivered from the journal; its later crises wait in the journal and are recorded (and
update the case) when the database is back.

The file (``ESCALATION_JOURNAL_PATH``, default ``var/escalation-journal.jsonl``, mode 0600)
holds what an outbox row holds (the last messages, the SMS sender id, never a phone number).
The action server and the worker must share it: run them on one host, or on one volume.
Every append and the final truncation take an exclusive ``flock``.

Line format (JSON, one per line; a torn last line from a crash is ignored)::

    {"kind": "escalation", "id": ..., "spooled_at": ..., "conversation_id": ..., "input_channel": ...,
     "category": ..., "excerpt": ..., "message_id": ..., "channel": ..., "deliver": true,
     "payloads": {"webhook": {..., "id": <row id>}, "sms": {...}}}
    {"kind": "delivered", "id": <entry id>, "destination": "webhook", "at": ...}
    {"kind": "moved", "id": <entry id>, "at": ...}
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

from trd.paths import REPO_ROOT

logger = logging.getLogger(__name__)

DEFAULT_PATH = REPO_ROOT / "var" / "escalation-journal.jsonl"
ENV_VAR = "ESCALATION_JOURNAL_PATH"


def journal_path(env: Mapping[str, str] = os.environ) -> Path:
    text = env.get(ENV_VAR, "").strip()
    return Path(text).expanduser() if text else DEFAULT_PATH


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


@dataclass
class Entry:
    """One spooled crisis and its escalation, with what has happened to it since."""

    id: str
    conversation_id: str
    input_channel: str
    category: str
    excerpt: str
    message_id: Optional[str]
    channel: str
    payloads: Dict[str, Dict[str, Any]]
    deliver: bool
    spooled_at: str
    delivered: Dict[str, str] = field(default_factory=dict)  # destination -> when
    moved: bool = False

    @property
    def undelivered(self) -> List[str]:
        return [d for d in self.payloads if d not in self.delivered] if self.deliver else []


class Journal:
    """The append-only file (see the module docstring)."""

    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = path if path is not None else journal_path()

    def _open(self, flags: int) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, flags, 0o600)

    def _append(self, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        fd = self._open(os.O_RDWR | os.O_APPEND | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a torn line from a crash stays on its own line, skipped
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock

    # -- the action server's side ------------------------------------------------------------
    def spool(
        self,
        *,
        conversation_id: str,
        input_channel: str,
        category: str,
        excerpt: str,
        message_id: Optional[str],
        channel: str,
        payloads: Mapping[str, Dict[str, Any]],
    ) -> Entry:
        """Append one crisis (and its escalation, if any) durably; returns the entry."""
        deliver = bool(payloads) and not any(
            e.conversation_id == conversation_id and e.deliver for e in self.pending()
        )
        entry_id = str(uuid.uuid4())
        rows = {d: {**p, "id": str(uuid.uuid4())} for d, p in payloads.items()}
        record = {
            "kind": "escalation",
            "id": entry_id,
            "spooled_at": _now(),
            "conversation_id": conversation_id,
            "input_channel": input_channel,
            "category": category,
            "excerpt": excerpt,
            "message_id": message_id,
            "channel": channel,
            "deliver": deliver,
            "payloads": rows,
        }
        self._append(record)
        return _entry(record)

    # -- the worker's side --------------------------------------------------------------------
    def mark_delivered(self, entry_id: str, destination: str) -> None:
        self._append({"kind": "delivered", "id": entry_id, "destination": destination, "at": _now()})

    def mark_moved(self, entry_id: str) -> None:
        self._append({"kind": "moved", "id": entry_id, "at": _now()})

    def _lines(self) -> Iterator[Dict[str, Any]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                logger.error(
                    "escalation journal %s: an unreadable line was skipped (a torn write?)", self.path
                )
                continue
            if isinstance(record, dict):
                yield record

    def entries(self) -> List[Entry]:
        """Every entry in the file, with its delivered destinations and whether it was moved."""
        found: Dict[str, Entry] = {}
        for record in self._lines():
            kind, entry_id = record.get("kind"), str(record.get("id"))
            if kind == "escalation":
                found[entry_id] = _entry(record)
            elif kind == "delivered" and entry_id in found:
                found[entry_id].delivered[str(record.get("destination"))] = str(record.get("at"))
            elif kind == "moved" and entry_id in found:
                found[entry_id].moved = True
        return list(found.values())

    def pending(self) -> List[Entry]:
        """Entries not yet moved into the database, oldest first."""
        return [e for e in self.entries() if not e.moved]

    def compact(self) -> bool:
        """Empty the file when every entry has been moved; True when it did."""
        if not self.path.exists():
            return False
        fd = self._open(os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if self.pending():  # read again under the lock: an append may have come in
                return False
            os.ftruncate(fd, 0)
            os.fsync(fd)
            return True
        finally:
            os.close(fd)


def _entry(record: Mapping[str, Any]) -> Entry:
    return Entry(
        id=str(record["id"]),
        conversation_id=str(record.get("conversation_id") or ""),
        input_channel=str(record.get("input_channel") or "unknown"),
        category=str(record.get("category") or "unspecified"),
        excerpt=str(record.get("excerpt") or ""),
        message_id=record.get("message_id"),
        channel=str(record.get("channel") or "unknown"),
        payloads={str(k): dict(v) for k, v in (record.get("payloads") or {}).items()},
        deliver=bool(record.get("deliver")),
        spooled_at=str(record.get("spooled_at") or ""),
    )
