"""The check-ins as the action server and the Rasa server use them: one store per process,
the intake's baseline, and the follow-up series written into the intake record."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from trd.checkins import schedule
from trd.checkins.clock import clock_from_env
from trd.checkins.config import CheckinConfig
from trd.checkins.store import CheckinRecord, CheckinStore
from trd.store.checkin_models import ST_ANSWERED
from trd.store.repository import FOLLOW_UP_KEYS, Repository

logger = logging.getLogger(__name__)

_store: Optional[CheckinStore] = None
_lock = threading.Lock()


def get_store(env: Mapping[str, str] = os.environ) -> CheckinStore:
    """The process-wide store on ``DATABASE_URL`` (migrated first); touches the database: call in a thread."""
    global _store
    with _lock:
        if _store is None:
            from trd.store import get_repository
            from trd.store.db import database_url_from_env, get_engine

            get_repository()  # brings the schema up to date once
            _store = CheckinStore(
                get_engine(database_url_from_env()),
                config=CheckinConfig.from_env(env),
                clock=clock_from_env(env),
            )
        return _store


def intake_items(record: Optional[Mapping[str, Any]]) -> Optional[List[int]]:
    items = (record or {}).get("phq9")
    if (
        isinstance(items, list)
        and len(items) == 9
        and all(isinstance(i, int) and not isinstance(i, bool) for i in items)
    ):
        return [int(i) for i in items]
    return None


def intake_total(record: Optional[Mapping[str, Any]]) -> Optional[int]:
    items = intake_items(record)
    return sum(items) if items is not None else None


def follow_up_series(
    checkins: Sequence[CheckinRecord], zone: str
) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(complete check-ins as schema ``follow_up`` entries, check-ins with skipped items), in date order."""
    complete: List[Dict[str, Any]] = []
    incomplete: List[Dict[str, Any]] = []
    for c in checkins:
        if c.status != ST_ANSWERED or c.answers is None or c.answered_at is None:
            continue
        when = schedule.local(c.answered_at, zone)
        entry: Dict[str, Any] = {"date": when.date().isoformat(), "time": c.answered_at.isoformat()}
        if all(a is not None for a in c.answers):
            entry.update(phq9=[int(a) for a in c.answers if a is not None], total=c.total)
            if c.note:
                entry["note"] = c.note
            complete.append(entry)
        else:
            entry.update(phq9_items=list(c.answers))
            if c.note:
                entry["note"] = c.note
            incomplete.append(entry)
    return complete, incomplete


def write_follow_up(
    repository: Repository, conversation_id: str, checkins: Sequence[CheckinRecord], zone: str
) -> None:
    """Rewrite the record's follow-up keys from the check-ins (the whole series each time)."""
    complete, incomplete = follow_up_series(checkins, zone)
    record = repository.intake(conversation_id) or {}
    record = dict(record)
    record[FOLLOW_UP_KEYS[0]] = complete
    record[FOLLOW_UP_KEYS[1]] = incomplete
    repository.save_intake(conversation_id, record)
