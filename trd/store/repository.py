"""The repository interface every part of the action server writes through.

Actions depend on :class:`Repository`, never on SQLAlchemy directly, so unit tests
can use :class:`InMemoryRepository` and production uses ``SqlRepository``
(``trd.store.sql``). Methods are synchronous; async callers run them in a
worker thread (``await asyncio.to_thread(repo.method, ...)``) so the action
server's event loop never blocks on the database.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional, Protocol, Tuple


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# Keys of the intake record written by the weekly check-ins (#12, trd/checkins): saving the
# intake record (built from the conversation's slots) keeps the stored ones when it has none.
FOLLOW_UP_KEYS = ("follow_up", "follow_up_incomplete")

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


def check_message_id(message_id: Any) -> str | None:
    """The id of the message that raised a crisis (None: none given); at most 255 characters."""
    if message_id is None:
        return None
    if not isinstance(message_id, str) or not message_id.strip():
        raise ValueError("message_id must be None or a non-empty string")
    if len(message_id) > MAX_CONVERSATION_ID:
        raise ValueError(f"message_id is longer than {MAX_CONVERSATION_ID} characters")
    return message_id


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


# Where an escalation goes (trd_escalations.destination).
DESTINATION_WEBHOOK = "webhook"
DESTINATION_SMS = "sms"
DESTINATIONS = (DESTINATION_WEBHOOK, DESTINATION_SMS)


@dataclass(frozen=True)
class EscalationRequest:
    """Escalate the crisis being recorded: one outbox row per destination.

    ``payloads`` maps each destination (``webhook``, ``sms``) to the JSON object it
    delivers. The repository adds two keys to each: ``id`` (the row's UUID, the
    idempotency key) and ``crisis_id``. ``channel`` is the care team's name of the
    channel (sms, web, rest).
    """

    channel: str
    payloads: Mapping[str, Dict[str, Any]]
    # One open escalation per conversation (trd.escalation.cases.FloodPolicy); None: the defaults
    policy: Any = None
    # A crisis moved in from the escalation journal (trd.escalation.journal): each payload keeps
    # its row id, and {"deliver": bool, "delivered": {destination: ISO time}} says what the
    # journal already sent (those rows are written delivered: nothing is sent twice).
    journal: Optional[Mapping[str, Any]] = None

    @property
    def destinations(self) -> Tuple[str, ...]:
        return tuple(self.payloads)

    def flood_policy(self) -> Any:
        from trd.escalation.cases import FloodPolicy

        return self.policy if self.policy is not None else FloodPolicy()


@dataclass(frozen=True)
class EscalationRecord:
    """One outbox row (``trd_escalations``)."""

    id: str
    crisis_id: int | None  # None for a follow-up notification from the check-ins (#12)
    conversation_id: str
    channel: str
    destination: str
    payload: Dict[str, Any]
    status: str  # pending, delivered
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None = None
    kind: str = "page"  # page, update, alarm (#10: one open escalation per conversation)
    case_id: str | None = None


def check_escalation(request: EscalationRequest) -> Dict[str, Dict[str, Any]]:
    """The request's payloads, validated and JSON-normalised (ValueError when unusable)."""
    if not isinstance(request, EscalationRequest):
        raise ValueError(f"escalation must be an EscalationRequest, got {type(request).__name__}")
    check_label("escalation channel", request.channel)
    if not isinstance(request.payloads, Mapping) or not request.payloads:
        raise ValueError("an escalation needs at least one destination")
    docs: Dict[str, Dict[str, Any]] = {}
    for destination, payload in request.payloads.items():
        if destination not in DESTINATIONS:
            raise ValueError(f"unknown escalation destination {destination!r}; expected {DESTINATIONS}")
        docs[destination] = to_json_document(payload, f"{destination} escalation payload")
    return docs


def new_escalation_id() -> str:
    return str(uuid.uuid4())


# -- summary links (trd_summary_links) --------------------------------------------------------
# A token is what ``secrets.token_urlsafe(32)`` makes (43 characters); only its SHA-256 is stored.
SUMMARY_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,128}")
LINK_ACTIVE = "active"
LINK_EXPIRED = "expired"
LINK_REVOKED = "revoked"


def summary_token_hash(token: Any) -> str | None:
    """The SHA-256 (hex) of a well-formed summary token; None for anything else. Never raises."""
    if not isinstance(token, str) or not SUMMARY_TOKEN_PATTERN.fullmatch(token):
        return None
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def check_aware(name: str, value: Any) -> datetime:
    """``value`` as a UTC datetime; ValueError for anything but a timezone-aware datetime."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class SummaryLink:
    """A link to a conversation's summary (the token itself is never stored)."""

    id: int
    conversation_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def state(self, now: datetime) -> str:
        """``revoked``, ``expired`` (from ``expires_at`` on) or ``active``."""
        if self.revoked_at is not None:
            return LINK_REVOKED
        if now >= self.expires_at:
            return LINK_EXPIRED
        return LINK_ACTIVE


def check_summary_link(
    conversation_id: str, token: str, expires_at: datetime, now: datetime | None
) -> Tuple[str, datetime, datetime]:
    """(token hash, created_at, expires_at) for a new link; ValueError when unusable."""
    check_conversation_id(conversation_id)
    token_hash = summary_token_hash(token)
    if token_hash is None:
        raise ValueError("a summary token must be 32-128 URL-safe characters (secrets.token_urlsafe(32))")
    created = check_aware("now", now) if now is not None else utcnow()
    expires = check_aware("expires_at", expires_at)
    if expires <= created:
        raise ValueError("a summary link must expire after it is created")
    return token_hash, created, expires


class Repository(Protocol):
    def record_crisis(
        self,
        conversation_id: str,
        channel: str,
        category: str,
        message_excerpt: str,
        escalation: EscalationRequest | None = None,
        message_id: str | None = None,
    ) -> CrisisRecord:
        """Store a crisis; returns it with its id. Must never lose a crisis.

        ``message_id`` (the message that raised it) makes it idempotent: when this
        conversation already has a crisis for that message (its turn ran again after a
        restart, or both servers recorded it when an action timed out), that crisis is
        returned and nothing new is written, no escalation either.

        Every implementation validates the same way (ValueError for an empty or
        over-long conversation_id, channel or category) and stores text cleaned by
        :func:`clean_text`; JSON documents come back JSON-normalised.

        With ``escalation``, the crisis and one pending outbox row per destination
        are written in one transaction: all of it or (on any error) none of it.
        """

    def escalations(self, conversation_id: str) -> List[EscalationRecord]:
        """The conversation's escalations (outbox rows): by crisis, oldest first, then by destination."""

    def resolve_open_crises(self, conversation_id: str) -> int:
        """Mark the conversation's open crises resolved (person said they are safe)."""

    def crises(self, conversation_id: str) -> List[CrisisRecord]:
        """All crises of a conversation, oldest first."""

    def save_safety_plan(self, conversation_id: str, sections: Dict[str, str | None]) -> SafetyPlan:
        """Create or replace the conversation's safety plan."""

    def safety_plan(self, conversation_id: str) -> SafetyPlan | None:
        """The saved plan, or None."""

    def save_intake(self, conversation_id: str, record: Dict[str, Any]) -> None:
        """Create or replace the intake record (intake.schema.json) of a conversation.

        A record without the check-ins' keys (:data:`FOLLOW_UP_KEYS`) keeps the stored ones:
        the intake, built from the conversation's slots, never drops the follow-up series.
        """

    def intake(self, conversation_id: str) -> Dict[str, Any] | None:
        """The stored intake record, or None."""

    def create_summary_link(
        self, conversation_id: str, token: str, expires_at: datetime, now: datetime | None = None
    ) -> SummaryLink:
        """Store a link to the conversation's summary; only the token's SHA-256 is kept.

        ``now`` (default: the current time) becomes ``created_at``. ValueError for a bad
        conversation id, a malformed token (see :func:`summary_token_hash`), a naive
        datetime, an expiry not after ``now``, or a token already in use.
        """

    def summary_link(self, token: str) -> SummaryLink | None:
        """The link of a token whatever its state; None for an unknown or malformed token."""

    def resolve_summary_link(self, token: str, now: datetime | None = None) -> str | None:
        """The conversation id of an active link; None if unknown, malformed, expired or revoked."""

    def revoke_summary_links(self, conversation_id: str, now: datetime | None = None) -> int:
        """Revoke the conversation's active links (not revoked, not expired); returns how many."""


class InMemoryRepository:
    """A faithful in-process fake of :class:`Repository` for unit tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._crises: List[CrisisRecord] = []
        self._crisis_by_message: Dict[Tuple[str, str], CrisisRecord] = {}
        self._escalations: List[EscalationRecord] = []
        self._plans: Dict[str, SafetyPlan] = {}
        self._intakes: Dict[str, Dict[str, Any]] = {}
        self._summary_links: Dict[str, SummaryLink] = {}  # by token hash
        self._cases: Dict[str, Any] = {}  # conversation -> its open trd.escalation.cases.CaseState
        self._cases_opened: List[datetime] = []

    def record_crisis(
        self,
        conversation_id: str,
        channel: str,
        category: str,
        message_excerpt: str,
        escalation: EscalationRequest | None = None,
        message_id: str | None = None,
    ) -> CrisisRecord:
        check_conversation_id(conversation_id)
        check_label("channel", channel)
        check_label("category", category)
        if not isinstance(message_excerpt, str):
            raise ValueError("message_excerpt must be a string")
        message_id = check_message_id(message_id)
        docs = check_escalation(escalation) if escalation is not None else {}
        with self._lock:
            if message_id is not None:
                key = (conversation_id, message_id)
                if key in self._crisis_by_message:
                    return self._crisis_by_message[key]
            now = utcnow()
            rec = CrisisRecord(
                id=len(self._crises) + 1,
                conversation_id=conversation_id,
                channel=channel,
                category=category,
                message_excerpt=clean_text(message_excerpt),
                created_at=now,
            )
            self._crises.append(rec)
            if docs:
                assert escalation is not None
                self._escalate(conversation_id, escalation, docs, rec.id, now)
            if message_id is not None:
                self._crisis_by_message[(conversation_id, message_id)] = rec
            return rec

    def _escalate(
        self,
        conversation_id: str,
        escalation: EscalationRequest,
        docs: Dict[str, Dict[str, Any]],
        crisis_id: int,
        now: datetime,
    ) -> None:
        """What ``trd.escalation.cases.write_sql`` does, in memory (under the lock)."""
        from trd.escalation import cases as flood

        policy = escalation.flood_policy()

        def add(
            destination: str, kind: str, payload: Dict[str, Any], due: datetime, case_id: str | None
        ) -> None:
            row_id = new_escalation_id()
            self._escalations.append(
                EscalationRecord(
                    id=row_id,
                    crisis_id=crisis_id,
                    conversation_id=conversation_id,
                    channel=escalation.channel,
                    destination=destination,
                    payload={**payload, "id": row_id, "crisis_id": crisis_id},
                    status="pending",
                    attempts=0,
                    next_attempt_at=due,
                    created_at=now,
                    kind=kind,
                    case_id=case_id,
                )
            )

        case = self._cases.get(conversation_id)
        if escalation.journal is not None:  # moved in from the escalation journal
            if not escalation.journal.get("deliver"):
                return
            if not flood.is_open(case, now, policy):
                case = flood.CaseState(flood.new_id(), now, now, 1, None)
                self._cases[conversation_id] = case
            assert case is not None
            delivered = escalation.journal.get("delivered") or {}
            for destination, doc in docs.items():
                add(destination, "page", {**doc, "case_id": case.id}, now, case.id)
                row = self._escalations[-1]
                row_id = str(doc.get("id") or row.id)
                when = delivered.get(destination)
                self._escalations[-1] = EscalationRecord(
                    **{
                        **row.__dict__,
                        "id": row_id,
                        "payload": {**row.payload, "id": row_id},
                        "status": "delivered" if when else "pending",
                        "delivered_at": datetime.fromisoformat(when) if when else None,
                    }
                )
            return
        if not flood.is_open(case, now, policy):
            case = flood.CaseState(flood.new_id(), now, now, 1, None)
            self._cases[conversation_id] = case
            for destination, doc in docs.items():
                add(destination, "page", {**doc, "case_id": case.id}, now, case.id)
        else:
            assert case is not None
            count = case.crisis_count + 1
            last_update = case.last_update_at
            for destination in flood.update_destinations(list(docs)):
                doc = docs[destination]
                for i, row in enumerate(self._escalations):
                    if (row.case_id, row.kind, row.destination, row.status, row.attempts) == (
                        case.id,
                        "update",
                        destination,
                        "pending",
                        0,
                    ):
                        merged = flood.merge_update(row.payload, doc, count)
                        self._escalations[i] = EscalationRecord(**{**row.__dict__, "payload": merged})
                        break
                else:
                    due = flood.update_due_at(case, now, policy)
                    add(destination, "update", flood.update_payload(case.id, doc, count), due, case.id)
                    last_update = due
            self._cases[conversation_id] = flood.CaseState(case.id, case.opened_at, now, count, last_update)
        if case.opened_at != now:
            return  # an update: the rate alarm counts escalations (cases opened), not messages
        self._cases_opened.append(now)
        recent = sum(1 for t in self._cases_opened if t > now - timedelta(minutes=1))
        if policy.alarm_per_minute > 0 and recent > policy.alarm_per_minute:
            window = now - timedelta(seconds=policy.alarm_window_seconds)
            if not any(e.kind == "alarm" and e.created_at > window for e in self._escalations):
                for destination in docs:
                    add(destination, "alarm", flood.alarm_payload(recent, policy, now), now, None)

    def escalations(self, conversation_id: str) -> List[EscalationRecord]:
        with self._lock:
            rows = [e for e in self._escalations if e.conversation_id == conversation_id]
            return [
                EscalationRecord(**{**e.__dict__, "payload": json.loads(json.dumps(e.payload))})
                for e in sorted(rows, key=lambda e: (e.crisis_id, e.destination))
            ]

    def resolve_open_crises(self, conversation_id: str) -> int:
        with self._lock:
            n = 0
            for i, rec in enumerate(self._crises):
                if rec.conversation_id == conversation_id and rec.resolved_at is None:
                    self._crises[i] = CrisisRecord(**{**rec.__dict__, "resolved_at": utcnow()})
                    n += 1
            self._cases.pop(conversation_id, None)  # the case closes: the next crisis pages again
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
            stored = self._intakes.get(conversation_id) or {}
            for key in FOLLOW_UP_KEYS:
                if key not in doc and key in stored:
                    doc[key] = stored[key]
            self._intakes[conversation_id] = doc

    def intake(self, conversation_id: str) -> Dict[str, Any] | None:
        with self._lock:
            rec = self._intakes.get(conversation_id)
            return json.loads(json.dumps(rec)) if rec is not None else None

    def create_summary_link(
        self, conversation_id: str, token: str, expires_at: datetime, now: datetime | None = None
    ) -> SummaryLink:
        token_hash, created, expires = check_summary_link(conversation_id, token, expires_at, now)
        with self._lock:
            if token_hash in self._summary_links:
                raise ValueError("this summary token is already in use")
            link = SummaryLink(len(self._summary_links) + 1, conversation_id, created, expires)
            self._summary_links[token_hash] = link
            return link

    def summary_link(self, token: str) -> SummaryLink | None:
        token_hash = summary_token_hash(token)
        if token_hash is None:
            return None
        with self._lock:
            return self._summary_links.get(token_hash)

    def resolve_summary_link(self, token: str, now: datetime | None = None) -> str | None:
        link = self.summary_link(token)
        when = check_aware("now", now) if now is not None else utcnow()
        if link is None or link.state(when) != LINK_ACTIVE:
            return None
        return link.conversation_id

    def revoke_summary_links(self, conversation_id: str, now: datetime | None = None) -> int:
        when = check_aware("now", now) if now is not None else utcnow()
        with self._lock:
            n = 0
            for token_hash, link in self._summary_links.items():
                if link.conversation_id == conversation_id and link.state(when) == LINK_ACTIVE:
                    self._summary_links[token_hash] = SummaryLink(**{**link.__dict__, "revoked_at": when})
                    n += 1
            return n
