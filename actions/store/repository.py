"""The repository interface every part of the action server writes through.

Actions depend on :class:`Repository`, never on SQLAlchemy directly, so unit tests
can use :class:`InMemoryRepository` and production uses ``SqlRepository``
(``actions.store.sql``). Methods are synchronous; async callers run them in a
worker thread (``await asyncio.to_thread(repo.method, ...)``) so the action
server's event loop never blocks on the database.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Protocol


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# Column sizes shared by every implementation (Rasa's own sender_id is 255 wide).
MAX_CONVERSATION_ID = 255
MAX_LABEL = 64


def clean_text(value: str) -> str:
    """Text every backend can store: NUL removed (PostgreSQL refuses it), lone surrogates replaced."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def check_conversation_id(conversation_id: str) -> str:
    if not isinstance(conversation_id, str) or not conversation_id.strip():
        raise ValueError("conversation_id must be a non-empty string")
    if len(conversation_id) > MAX_CONVERSATION_ID:
        raise ValueError(f"conversation_id is longer than {MAX_CONVERSATION_ID} characters")
    return conversation_id


def check_label(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    if len(value) > MAX_LABEL:
        raise ValueError(f"{name} is longer than {MAX_LABEL} characters")
    return value


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value


def to_json_document(value: Dict[str, Any], what: str) -> Dict[str, Any]:
    """A deep, JSON-normalised copy of ``value``: exactly what a JSON column gives back.

    Raises ValueError for anything JSON cannot hold (sets, datetimes, NaN), so the
    in-memory fake refuses what the database would refuse.
    """
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object (dict), got {type(value).__name__}")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} is not JSON-serialisable: {exc}") from exc
    result: Dict[str, Any] = _clean_json(json.loads(text))
    return result


def check_sections(sections: Dict[str, str | None]) -> Dict[str, str | None]:
    doc = to_json_document(sections, "safety plan sections")
    for key, val in doc.items():
        if val is not None and not isinstance(val, str):
            raise ValueError(f"safety plan section {key!r} must be text or None")
    return doc


@dataclass(frozen=True)
class CrisisRecord:
    """One crisis raised in a conversation (what the clinician summary shows)."""

    id: int
    conversation_id: str
    channel: str
    category: str
    message_excerpt: str
    created_at: datetime
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class SafetyPlan:
    conversation_id: str
    # keys: warning_signs, coping_steps, people_places, who_to_call,
    # professionals, safer_surroundings (any may be missing or None)
    sections: Dict[str, str | None] = field(default_factory=dict)
    updated_at: datetime | None = None


class Repository(Protocol):
    def record_crisis(
        self, conversation_id: str, channel: str, category: str, message_excerpt: str
    ) -> CrisisRecord:
        """Store a crisis; returns it with its id. Must never lose a crisis.

        Every implementation validates the same way (ValueError for an empty or
        over-long conversation_id, channel or category) and stores text cleaned by
        :func:`clean_text`; JSON documents come back JSON-normalised.
        """

    def resolve_open_crises(self, conversation_id: str) -> int:
        """Mark the conversation's open crises resolved (person said they are safe)."""

    def crises(self, conversation_id: str) -> List[CrisisRecord]:
        """All crises of a conversation, oldest first."""

    def save_safety_plan(self, conversation_id: str, sections: Dict[str, str | None]) -> SafetyPlan:
        """Create or replace the conversation's safety plan."""

    def safety_plan(self, conversation_id: str) -> SafetyPlan | None:
        """The saved plan, or None."""

    def save_intake(self, conversation_id: str, record: Dict[str, Any]) -> None:
        """Create or replace the intake record (intake.schema.json) of a conversation."""

    def intake(self, conversation_id: str) -> Dict[str, Any] | None:
        """The stored intake record, or None."""


class InMemoryRepository:
    """A faithful in-process fake of :class:`Repository` for unit tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._crises: List[CrisisRecord] = []
        self._plans: Dict[str, SafetyPlan] = {}
        self._intakes: Dict[str, Dict[str, Any]] = {}

    def record_crisis(
        self, conversation_id: str, channel: str, category: str, message_excerpt: str
    ) -> CrisisRecord:
        check_conversation_id(conversation_id)
        check_label("channel", channel)
        check_label("category", category)
        if not isinstance(message_excerpt, str):
            raise ValueError("message_excerpt must be a string")
        with self._lock:
            rec = CrisisRecord(
                id=len(self._crises) + 1,
                conversation_id=conversation_id,
                channel=channel,
                category=category,
                message_excerpt=clean_text(message_excerpt),
                created_at=utcnow(),
            )
            self._crises.append(rec)
            return rec

    def resolve_open_crises(self, conversation_id: str) -> int:
        with self._lock:
            n = 0
            for i, rec in enumerate(self._crises):
                if rec.conversation_id == conversation_id and rec.resolved_at is None:
                    self._crises[i] = CrisisRecord(**{**rec.__dict__, "resolved_at": utcnow()})
                    n += 1
            return n

    def crises(self, conversation_id: str) -> List[CrisisRecord]:
        with self._lock:
            return [c for c in self._crises if c.conversation_id == conversation_id]

    def save_safety_plan(self, conversation_id: str, sections: Dict[str, str | None]) -> SafetyPlan:
        check_conversation_id(conversation_id)
        doc = check_sections(sections)
        with self._lock:
            plan = SafetyPlan(conversation_id, doc, utcnow())
            self._plans[conversation_id] = plan
            return SafetyPlan(conversation_id, dict(doc), plan.updated_at)

    def safety_plan(self, conversation_id: str) -> SafetyPlan | None:
        with self._lock:
            plan = self._plans.get(conversation_id)
            return SafetyPlan(plan.conversation_id, dict(plan.sections), plan.updated_at) if plan else None

    def save_intake(self, conversation_id: str, record: Dict[str, Any]) -> None:
        check_conversation_id(conversation_id)
        doc = to_json_document(record, "intake record")
        with self._lock:
            self._intakes[conversation_id] = doc

    def intake(self, conversation_id: str) -> Dict[str, Any] | None:
        with self._lock:
            rec = self._intakes.get(conversation_id)
            return json.loads(json.dumps(rec)) if rec is not None else None
