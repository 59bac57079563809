"""The SMS inbox and outbox: nothing a person texts, and nothing we answer, is lost.

**Inbox** (``trd_sms_inbound``). The webhook writes each message here, encrypted, before it
answers 200 (:meth:`SmsQueues.accept`). The row is *claimed*: a lease names the process
handling it and until when (``SMS_INBOX_LEASE_SECONDS``, renewed while the turn runs). It is
marked handled (:meth:`SmsQueues.complete`) only after its turn was saved and its reply
parts were written to the outbox, in the same transaction, and its text is then removed.
A message whose handler died (a crash, a deploy, kill -9) stays unhandled and is claimed
again (:meth:`SmsQueues.claim_pending`) once its lease ran out, or at once when the lease
belongs to a process on this machine that no longer runs. The provider's retry of a message
is a duplicate only once the message was handled; before that it is handled by whoever holds
the lease, never twice at the same time.

**Outbox** (``trd_sms_outbox``). Every part of every reply is a row with an idempotency key
(``<MessageSid>:<n>``, ``<MessageSid>:crisis`` for the crisis lines sent before the turn
ended): writing a part twice writes one row. Parts are sent in order per person, each
marked sent when the provider took it (:meth:`SmsQueues.mark_sent`); a part that failed is
tried again later with backoff, and the parts after it wait. So a reply whose second part
failed is retried from the queue, and after a restart only what the provider had not taken
is sent again (at least once: a crash between the provider's answer and the mark sends
that one part twice). The text is encrypted; there is no phone number here: it is
decrypted from ``trd_sms_contacts`` only to send.

Synchronous (SQLAlchemy); async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from trd.escalation.backoff import nominal_delay
from trd.sms.store import ContactState, SmsStore
from trd.store.sms_models import SmsInbound, SmsOutbound

logger = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 120.0
MAX_HANDLING_ATTEMPTS = 5
MAX_SEND_ATTEMPTS = 12
SEND_RETRY_BASE_SECONDS = 5.0
SEND_RETRY_MAX_SECONDS = 600.0
MAX_KEY = 160

# accept() outcomes
NEW = "new"  # first delivery: written and claimed by this process
CLAIMED = "claimed"  # a retry of a message nobody is handling any more: claimed by this process
IN_HAND = "in_hand"  # a retry of a message another live handler holds: nothing to do
HANDLED = "handled"  # a retry of a message already handled: a duplicate


def process_owner() -> str:
    """This process's name on a lease: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(6)}"


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def owner_is_gone(owner: Optional[str], me: str) -> bool:
    """Whether a lease's process certainly no longer runs: same host, and its pid is gone
    or is this process under another name (this process restarted with the same pid)."""
    if not owner or owner == me:
        return False
    try:
        host, pid_text, _ = owner.rsplit(":", 2)
        my_host, my_pid, _ = me.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != my_host:
        return False
    if pid_text == my_pid:
        return True
    return not _pid_running(pid)


@dataclass(frozen=True)
class InboxMessage:
    """A received message to handle (decrypted)."""

    message_sid: str
    sender_id: str
    phone: str
    to: str
    body: str
    num_media: int
    attempts: int


@dataclass(frozen=True)
class Accepted:
    outcome: str  # NEW, CLAIMED, IN_HAND or HANDLED
    state: Optional[ContactState]  # the sender's state (NEW and CLAIMED)
    attempts: int = 1


@dataclass(frozen=True)
class OutboundPart:
    id: int
    sender_id: str
    body: str
    from_number: Optional[str]
    attempts: int
    key: str


class SmsQueues:
    """The inbox and outbox on the SMS store's database and keys."""

    def __init__(
        self,
        store: SmsStore,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        owner: Optional[str] = None,
        max_send_attempts: int = MAX_SEND_ATTEMPTS,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError("the lease must be longer than 0 seconds")
        self.store = store
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = owner or process_owner()
        self.max_send_attempts = max_send_attempts

    # --- plumbing ---------------------------------------------------------------------------
    def _now(self) -> datetime:
        return self.store._clock()

    def _encrypt(self, value: Any) -> str:
        return self.store.vault._fernet.encrypt(json.dumps(value).encode("utf-8")).decode("ascii")

    def _decrypt(self, token: Optional[str]) -> Any:
        if not token:
            return None
        try:
            return json.loads(self.store.vault._fernet.decrypt(token.encode("ascii")).decode("utf-8"))
        except Exception:  # noqa: BLE001 - another key, or a damaged row
            return None

    def _claimable(self, row: Any, now: datetime) -> bool:
        if row.lease_owner is None or row.lease_until is None or row.lease_until <= now:
            return True
        return owner_is_gone(row.lease_owner, self.owner)

    # --- inbox --------------------------------------------------------------------------------
    def accept(self, message_sid: str, phone: str, to: str, body: str, num_media: int) -> Accepted:
        """Write a received message (claimed by this process), or tell what a retry of it means."""
        sender_id = self.store.sender_id_for(phone)
        now = self._now()
        payload = self._encrypt({"from": phone, "to": to, "body": body, "num_media": int(num_media)})
        with self.store._session() as session:
            try:
                with session.begin():
                    session.add(
                        SmsInbound(
                            message_sid=message_sid,
                            sender_hash=sender_id,
                            received_at=now,
                            payload_encrypted=payload,
                            lease_owner=self.owner,
                            lease_until=now + self.lease,
                            attempts=1,
                        )
                    )
                outcome, attempts = NEW, 1
            except IntegrityError:
                outcome, attempts = self._retried(message_sid, payload, now)
        if outcome in (IN_HAND, HANDLED):
            return Accepted(outcome, None)
        state = self.store._upsert_contact(sender_id, phone, now)
        self.store._maybe_prune()
        return Accepted(outcome, state, attempts)

    def _retried(self, message_sid: str, payload: str, now: datetime) -> Tuple[str, int]:
        with self.store._session() as session, session.begin():
            row = session.execute(
                sa.select(SmsInbound).where(SmsInbound.message_sid == message_sid).with_for_update()
            ).scalar_one_or_none()
            if row is None or row.handled_at is not None:
                return HANDLED, 0
            if not self._claimable(row, now):
                return IN_HAND, int(row.attempts or 0)
            row.lease_owner = self.owner
            row.lease_until = now + self.lease
            row.attempts = int(row.attempts or 0) + 1
            if row.payload_encrypted is None:
                row.payload_encrypted = payload
            return CLAIMED, int(row.attempts)

    def claim_pending(self, limit: int = 20) -> List[InboxMessage]:
        """Claim unhandled messages nobody is handling (oldest first) and return them decrypted."""
        now = self._now()
        out: List[InboxMessage] = []
        with self.store._session() as session, session.begin():
            rows = (
                session.execute(
                    sa.select(SmsInbound)
                    .where(SmsInbound.handled_at.is_(None))
                    .order_by(SmsInbound.id)
                    .limit(max(limit * 5, limit))
                )
                .scalars()
                .all()
            )
            for row in rows:
                if len(out) >= limit or not self._claimable(row, now):
                    continue
                claimed = session.execute(
                    sa.update(SmsInbound)
                    .where(
                        SmsInbound.id == row.id,
                        SmsInbound.handled_at.is_(None),
                        sa.or_(SmsInbound.lease_owner.is_(None), SmsInbound.lease_owner == row.lease_owner),
                    )
                    .values(
                        lease_owner=self.owner, lease_until=now + self.lease, attempts=SmsInbound.attempts + 1
                    )
                    .execution_options(synchronize_session=False)
                )
                if not claimed.rowcount:
                    continue  # another process claimed it first
                payload = self._decrypt(row.payload_encrypted)
                if not isinstance(payload, dict) or not isinstance(payload.get("from"), str):
                    logger.error(
                        "sms: a received message (sender %s) cannot be read (key changed?); it is "
                        "marked handled without a turn",
                        row.sender_hash,
                    )
                    session.execute(
                        sa.update(SmsInbound)
                        .where(SmsInbound.id == row.id)
                        .values(handled_at=now, payload_encrypted=None, lease_owner=None, lease_until=None)
                        .execution_options(synchronize_session=False)
                    )
                    continue
                out.append(
                    InboxMessage(
                        message_sid=row.message_sid,
                        sender_id=row.sender_hash,
                        phone=payload["from"],
                        to=str(payload.get("to") or ""),
                        body=str(payload.get("body") or ""),
                        num_media=int(payload.get("num_media") or 0),
                        attempts=int(row.attempts or 0) + 1,
                    )
                )
        return out

    def renew(self, message_sids: Sequence[str]) -> int:
        """Extend this process's leases on these messages; returns how many it still holds."""
        if not message_sids:
            return 0
        now = self._now()
        with self.store._session() as session, session.begin():
            result = session.execute(
                sa.update(SmsInbound)
                .where(
                    SmsInbound.message_sid.in_(list(message_sids)),
                    SmsInbound.lease_owner == self.owner,
                    SmsInbound.handled_at.is_(None),
                )
                .values(lease_until=now + self.lease)
                .execution_options(synchronize_session=False)
            )
            return int(result.rowcount or 0)

    def release(self, message_sid: str, retry_after: float) -> None:
        """Give a message back (its turn failed): claimable again after ``retry_after`` seconds."""
        now = self._now()
        with self.store._session() as session, session.begin():
            session.execute(
                sa.update(SmsInbound)
                .where(SmsInbound.message_sid == message_sid, SmsInbound.handled_at.is_(None))
                .values(lease_owner=None, lease_until=now + timedelta(seconds=max(0.0, retry_after)))
                .execution_options(synchronize_session=False)
            )

    def complete(
        self,
        message_sid: str,
        sender_id: str,
        parts: Sequence[str],
        from_number: Optional[str],
    ) -> List[int]:
        """Queue the reply parts and mark the message handled, in one transaction.

        Returns the outbox ids of the parts (existing rows when they were queued before).
        """
        now = self._now()
        with self.store._session() as session, session.begin():
            ids = self._queue(session, sender_id, message_sid, list(enumerate(parts)), from_number, now)
            session.execute(
                sa.update(SmsInbound)
                .where(SmsInbound.message_sid == message_sid)
                .values(handled_at=now, payload_encrypted=None, lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
        return ids

    def restore(
        self,
        message_sid: str,
        sender_id: Optional[str],
        payload: Optional[Dict[str, Any]],
        received_at: Optional[str],
        handled: bool,
    ) -> None:
        """Bring a message from the local spool (trd.sms.spool) into the inbox."""
        now = self._now()
        with self.store._session() as session, session.begin():
            row = session.execute(
                sa.select(SmsInbound).where(SmsInbound.message_sid == message_sid)
            ).scalar_one_or_none()
            if row is not None:
                if handled and row.handled_at is None:
                    row.handled_at, row.payload_encrypted = now, None
                    row.lease_owner = row.lease_until = None
                return
            if not sender_id or not isinstance(payload, dict):
                return  # a handled mark for a message the database never had: nothing to keep
            try:
                at = datetime.fromisoformat(received_at) if received_at else now
            except ValueError:
                at = now
            session.add(
                SmsInbound(
                    message_sid=message_sid,
                    sender_hash=sender_id,
                    received_at=at if at.tzinfo is not None else now,
                    payload_encrypted=None if handled else self._encrypt(payload),
                    handled_at=now if handled else None,
                    attempts=1,
                )
            )
        if not handled and isinstance(payload.get("from"), str):
            self.store._upsert_contact(sender_id, payload["from"], now)

    def record_sent(
        self,
        sender_id: str,
        message_sid: str,
        index: str,
        body: str,
        provider_sid: str,
        from_number: Optional[str],
    ) -> None:
        """Note a part sent straight to the provider (the crisis lines), so a turn handled again
        after a restart does not send it twice."""
        now = self._now()
        key = f"{message_sid}:{index}"
        with self.store._session() as session, session.begin():
            existing = session.execute(
                sa.select(SmsOutbound).where(SmsOutbound.idempotency_key == key)
            ).scalar_one_or_none()
            if existing is not None:
                existing.sent_at = existing.sent_at or now
                return
            session.add(
                SmsOutbound(
                    idempotency_key=key,
                    sender_hash=sender_id,
                    inbound_sid=message_sid,
                    part_index=-1,
                    body_encrypted=self._encrypt(body),
                    from_number=from_number or None,
                    created_at=now,
                    next_attempt_at=now,
                    attempts=1,
                    sent_at=now,
                    provider_sid=(provider_sid or None) and provider_sid[:64],
                )
            )

    def sent_before(self, message_sid: str) -> List[str]:
        """The texts already sent for this message outside its turn (the crisis lines)."""
        with self.store._session() as session:
            rows = session.execute(
                sa.select(SmsOutbound.body_encrypted).where(
                    SmsOutbound.inbound_sid == message_sid,
                    SmsOutbound.part_index == -1,
                    SmsOutbound.sent_at.isnot(None),
                )
            ).all()
        return [b for b in (self._decrypt(r[0]) for r in rows) if isinstance(b, str)]

    # --- outbox -------------------------------------------------------------------------------
    def _queue(
        self,
        session: Any,
        sender_id: str,
        message_sid: Optional[str],
        parts: List[Tuple[Any, str]],
        from_number: Optional[str],
        now: datetime,
    ) -> List[int]:
        ids: List[int] = []
        for index, body in parts:
            key = f"{message_sid}:{index}" if message_sid else f"{sender_id}:{index}"
            if len(key) > MAX_KEY:
                raise ValueError(f"an outbox key is longer than {MAX_KEY} characters")
            existing = session.execute(
                sa.select(SmsOutbound.id).where(SmsOutbound.idempotency_key == key)
            ).scalar_one_or_none()
            if existing is not None:
                ids.append(int(existing))
                continue
            row = SmsOutbound(
                idempotency_key=key,
                sender_hash=sender_id,
                inbound_sid=message_sid,
                part_index=index if isinstance(index, int) else -1,
                body_encrypted=self._encrypt(body),
                from_number=from_number or None,
                created_at=now,
                next_attempt_at=now,
                attempts=0,
            )
            session.add(row)
            session.flush()
            ids.append(int(row.id))
        return ids

    def enqueue(
        self,
        sender_id: str,
        message_sid: Optional[str],
        parts: Sequence[Tuple[Any, str]],
        from_number: Optional[str],
    ) -> List[int]:
        """Queue parts keyed ``<message_sid>:<index>`` (index may be a name, e.g. "crisis")."""
        now = self._now()
        try:
            with self.store._session() as session, session.begin():
                return self._queue(session, sender_id, message_sid, list(parts), from_number, now)
        except IntegrityError:  # the same key written at the same moment elsewhere: it is queued
            with self.store._session() as session, session.begin():
                return self._queue(session, sender_id, message_sid, list(parts), from_number, now)

    def claim_due(self, limit: int = 20) -> List[OutboundPart]:
        """Claim the parts to send now: per person, only the first part not yet sent (in order)."""
        now = self._now()
        out: List[OutboundPart] = []
        seen: set = set()
        with self.store._session() as session, session.begin():
            rows = (
                session.execute(
                    sa.select(SmsOutbound)
                    .where(SmsOutbound.sent_at.is_(None), SmsOutbound.failed_at.is_(None))
                    .order_by(SmsOutbound.id)
                    .limit(500)
                )
                .scalars()
                .all()
            )
            for row in rows:
                if row.sender_hash in seen:
                    continue
                seen.add(row.sender_hash)  # later parts wait for this one
                if len(out) >= limit or row.next_attempt_at > now or not self._claimable(row, now):
                    continue
                claimed = session.execute(
                    sa.update(SmsOutbound)
                    .where(
                        SmsOutbound.id == row.id,
                        SmsOutbound.sent_at.is_(None),
                        sa.or_(SmsOutbound.lease_owner.is_(None), SmsOutbound.lease_owner == row.lease_owner),
                    )
                    .values(lease_owner=self.owner, lease_until=now + self.lease)
                    .execution_options(synchronize_session=False)
                )
                if not claimed.rowcount:
                    continue
                body = self._decrypt(row.body_encrypted)
                if not isinstance(body, str):
                    logger.error(
                        "sms: an outgoing part for %s cannot be read (key changed?); dropped", row.sender_hash
                    )
                    row.failed_at = now
                    row.last_error = "unreadable"
                    continue
                out.append(
                    OutboundPart(
                        id=int(row.id),
                        sender_id=row.sender_hash,
                        body=body,
                        from_number=row.from_number,
                        attempts=int(row.attempts or 0),
                        key=row.idempotency_key,
                    )
                )
        return out

    def mark_sent(self, part_id: int, provider_sid: str = "") -> None:
        now = self._now()
        with self.store._session() as session, session.begin():
            session.execute(
                sa.update(SmsOutbound)
                .where(SmsOutbound.id == part_id)
                .values(
                    sent_at=now,
                    provider_sid=(provider_sid or None) and provider_sid[:64],
                    attempts=SmsOutbound.attempts + 1,
                    lease_owner=None,
                    lease_until=None,
                )
                .execution_options(synchronize_session=False)
            )

    def mark_failed_attempt(self, part_id: int, error: str, permanent: bool = False) -> Optional[datetime]:
        """Record a failed send; returns when it is tried next (None: given up, logged at ERROR)."""
        now = self._now()
        with self.store._session() as session, session.begin():
            row = session.get(SmsOutbound, part_id)
            if row is None:
                return None
            row.attempts = int(row.attempts or 0) + 1
            row.last_error = error[:255]
            row.lease_owner = None
            row.lease_until = None
            if permanent or row.attempts >= self.max_send_attempts:
                row.failed_at = now
                logger.error(
                    "sms: a reply part to %s could not be sent; gave up after %d attempt(s): %s",
                    row.sender_hash,
                    row.attempts,
                    error,
                )
                return None
            delay = nominal_delay(row.attempts, SEND_RETRY_BASE_SECONDS, SEND_RETRY_MAX_SECONDS)
            row.next_attempt_at = now + timedelta(seconds=delay)
            return row.next_attempt_at

    def outbox(self, sender_id: str) -> List[Dict[str, Any]]:
        """The person's queued parts, oldest first (for tests and operators; texts decrypted)."""
        with self.store._session() as session:
            rows = (
                session.execute(
                    sa.select(SmsOutbound)
                    .where(SmsOutbound.sender_hash == sender_id)
                    .order_by(SmsOutbound.id)
                )
                .scalars()
                .all()
            )
            return [
                {
                    "key": r.idempotency_key,
                    "body": self._decrypt(r.body_encrypted) if r.body_encrypted else None,
                    "sent": r.sent_at is not None,
                    "failed": r.failed_at is not None,
                    "attempts": int(r.attempts or 0),
                }
                for r in rows
            ]
