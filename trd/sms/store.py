"""Phone numbers and SMS state, kept out of Rasa's tracker store.

A phone number never becomes a sender id, a log line or event JSON. It is used
in three ways only:

- ``sender_id_for(number)``: the Rasa sender id, ``"sms-"`` + the first 32 hex
  digits of HMAC-SHA256(PHONE_HASH_SECRET, number). Keyed, so the id cannot be
  reversed by hashing every phone number.
- the ``trd_sms_contacts`` table keeps the number Fernet-encrypted, with the
  opt-out state and the buttons last offered, under that sender id (the inbox keeps a
  message's sender number encrypted with its text until it is handled, trd.sms.queues).
- ``SmsStore.phone_for_sender(sender_id)`` decrypts it for whoever must reach
  the person (the reply sender, the escalation engineer's SMS notifier).

The encryption key: ``SMS_ENCRYPTION_KEY`` when set (any secret text, at least
32 characters; a Fernet key works too), else derived from ``PHONE_HASH_SECRET``.
Either way the Fernet key is HKDF-SHA256(secret, info="trd-sms-contacts/v1"),
so the hash key and the encryption key are never the same bytes. Changing the
key makes stored numbers unreadable until the person texts again (the row is
re-encrypted then); changing PHONE_HASH_SECRET changes every sender id, i.e.
starts every SMS conversation afresh.

Methods are synchronous (SQLAlchemy); async callers run them in a worker thread
(``await asyncio.to_thread(store.method, ...)``). Nothing connects at import
time: the engine is ``trd.store.db.get_engine()`` (``DATABASE_URL``) on
first use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, List, Mapping, Optional, Tuple

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from trd.store.sms_models import SmsContact, SmsInbound

logger = logging.getLogger(__name__)

SENDER_PREFIX = "sms-"
SENDER_HEX_CHARS = 32
HKDF_INFO = b"trd-sms-contacts/v1"
MIN_SECRET_CHARS = 16
DEFAULT_DEDUP_RETENTION = timedelta(days=7)
PRUNE_EVERY_SECONDS = 3600.0
MAX_MESSAGE_SID = 64


class SmsConfigError(ValueError):
    """PHONE_HASH_SECRET (or SMS_ENCRYPTION_KEY) is missing or unusable."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def normalize_phone(number: str) -> str:
    """The provider's address as one canonical string (E.164 from Twilio; whitespace removed)."""
    return "".join(str(number).split())


def fernet_key(secret: str) -> bytes:
    """The Fernet key for a server secret: HKDF-SHA256, 32 bytes, url-safe base64."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(secret.encode("utf-8"))
    return base64.urlsafe_b64encode(raw)


class PhoneVault:
    """Keyed hashing (sender ids) and encryption of phone numbers."""

    def __init__(self, hash_secret: str, encryption_secret: Optional[str] = None) -> None:
        if not hash_secret or len(hash_secret) < MIN_SECRET_CHARS:
            raise SmsConfigError(
                f"PHONE_HASH_SECRET must be set to a random secret of at least {MIN_SECRET_CHARS} "
                "characters (e.g. 64 hex digits); it keys the hash that turns phone numbers into sender ids."
            )
        if encryption_secret is not None and len(encryption_secret) < MIN_SECRET_CHARS:
            raise SmsConfigError(
                f"SMS_ENCRYPTION_KEY must be at least {MIN_SECRET_CHARS} characters (e.g. 64 hex digits), "
                "or unset to derive the key from PHONE_HASH_SECRET."
            )
        self._hash_key = hash_secret.encode("utf-8")
        self._fernet = Fernet(fernet_key(encryption_secret or hash_secret))

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PhoneVault:
        encryption = env.get("SMS_ENCRYPTION_KEY", "").strip() or None
        return cls(env.get("PHONE_HASH_SECRET", "").strip(), encryption)

    def sender_id_for(self, number: str) -> str:
        digest = hmac.new(self._hash_key, normalize_phone(number).encode("utf-8"), hashlib.sha256).hexdigest()
        return SENDER_PREFIX + digest[:SENDER_HEX_CHARS]

    def encrypt(self, number: str) -> str:
        return self._fernet.encrypt(normalize_phone(number).encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> Optional[str]:
        """The number, or None when the token was made with another key or is damaged."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError, UnicodeError):
            return None


def is_sms_sender(sender_id: str) -> bool:
    rest = sender_id[len(SENDER_PREFIX) :] if sender_id.startswith(SENDER_PREFIX) else ""
    return len(rest) == SENDER_HEX_CHARS and all(c in "0123456789abcdef" for c in rest)


def clean_buttons(buttons: Any) -> List[dict]:
    """Stored buttons as a list of {"title", "payload"} strings (anything else dropped)."""
    out: List[dict] = []
    for b in buttons or []:
        if isinstance(b, Mapping) and isinstance(b.get("title"), str) and isinstance(b.get("payload"), str):
            out.append({"title": b["title"], "payload": b["payload"]})
    return out


@dataclass(frozen=True)
class ContactState:
    """What the channel needs to know about a sender before handling a message."""

    sender_id: str
    opted_out: bool
    last_buttons: Tuple[Tuple[str, str], ...] = ()  # (title, payload)


def _state(row: SmsContact) -> ContactState:
    buttons = tuple((b["title"], b["payload"]) for b in clean_buttons(row.last_buttons))
    return ContactState(sender_id=row.sender_hash, opted_out=bool(row.opted_out), last_buttons=buttons)


class SmsStore:
    """The SMS tables (``trd_sms_contacts``, ``trd_sms_inbound``); synchronous, thread-safe."""

    def __init__(
        self,
        vault: PhoneVault,
        engine: Optional[Engine] = None,
        engine_factory: Optional[Callable[[], Engine]] = None,
        dedup_retention: timedelta = DEFAULT_DEDUP_RETENTION,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.vault = vault
        self._engine = engine
        self._engine_factory = engine_factory
        self._sessions: Optional[sessionmaker] = None
        self._lock = threading.Lock()
        self.dedup_retention = dedup_retention
        self._clock = clock
        self._last_prune = 0.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SmsStore:
        """A store on ``DATABASE_URL`` (connected on first use) with keys from the environment.

        Raises SmsConfigError when PHONE_HASH_SECRET is missing or too short.
        """
        days_text = env.get("SMS_DEDUP_RETENTION_DAYS", "").strip() or "7"
        try:
            days = float(days_text)
        except ValueError:
            raise SmsConfigError(
                f"SMS_DEDUP_RETENTION_DAYS must be a number of days, not {days_text!r}"
            ) from None
        if days <= 0:
            raise SmsConfigError("SMS_DEDUP_RETENTION_DAYS must be more than 0")

        def factory() -> Engine:
            from trd.store.db import get_engine

            return get_engine()

        return cls(PhoneVault.from_env(env), engine_factory=factory, dedup_retention=timedelta(days=days))

    # --- plumbing ------------------------------------------------------------------------

    def _session(self) -> Session:
        with self._lock:
            if self._sessions is None:
                if self._engine is None:
                    if self._engine_factory is None:
                        raise RuntimeError("SmsStore has neither an engine nor an engine factory")
                    self._engine = self._engine_factory()
                self._sessions = sessionmaker(bind=self._engine, future=True, expire_on_commit=False)
            return self._sessions()

    def sender_id_for(self, number: str) -> str:
        return self.vault.sender_id_for(number)

    # --- the channel's operations -----------------------------------------------------------

    def record_inbound(self, message_sid: str, number: str) -> Optional[ContactState]:
        """Note a received message and its sender; None when this MessageSid was seen before.

        Creates the contact (number encrypted) on the first message. If the stored
        number no longer decrypts (the key was changed), it is encrypted again.
        """
        if not message_sid or len(message_sid) > MAX_MESSAGE_SID:
            raise ValueError(f"message_sid must be 1-{MAX_MESSAGE_SID} characters")
        sender_id = self.vault.sender_id_for(number)
        now = self._clock()
        with self._session() as session:
            try:
                with session.begin():
                    # handled as it is recorded (the channel's inbox is trd.sms.queues.SmsQueues.accept)
                    session.add(
                        SmsInbound(
                            message_sid=message_sid, sender_hash=sender_id, received_at=now, handled_at=now
                        )
                    )
            except IntegrityError:
                return None
        state = self._upsert_contact(sender_id, number, now)
        self._maybe_prune()
        return state

    def _upsert_contact(self, sender_id: str, number: str, now: datetime) -> ContactState:
        for attempt in range(3):
            with self._session() as session:
                try:
                    with session.begin():
                        row = session.execute(
                            sa.select(SmsContact).where(SmsContact.sender_hash == sender_id)
                        ).scalar_one_or_none()
                        if row is None:
                            row = SmsContact(
                                sender_hash=sender_id,
                                phone_encrypted=self.vault.encrypt(number),
                                opted_out=False,
                                created_at=now,
                                updated_at=now,
                                last_seen_at=now,
                            )
                            session.add(row)
                        else:
                            row.last_seen_at = now
                            if self.vault.decrypt(row.phone_encrypted) is None:
                                logger.warning("sms: re-encrypting the number of %s (key changed)", sender_id)
                                row.phone_encrypted = self.vault.encrypt(number)
                                row.updated_at = now
                        return _state(row)
                except IntegrityError:
                    # Two first messages from one number at once: the other insert won; read it.
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def ensure_contact(self, number: str) -> ContactState:
        """The contact of a number that has not texted yet (a web user confirming a phone for
        check-ins, #12): created with the number encrypted, or the existing one."""
        return self._upsert_contact(self.vault.sender_id_for(number), number, self._clock())

    def contact(self, sender_id: str) -> Optional[ContactState]:
        with self._session() as session:
            row = session.execute(
                sa.select(SmsContact).where(SmsContact.sender_hash == sender_id)
            ).scalar_one_or_none()
            return _state(row) if row is not None else None

    def set_opted_out(self, sender_id: str, opted_out: bool) -> bool:
        """Record STOP (True) or START (False); returns whether the state changed."""
        now = self._clock()
        with self._session() as session, session.begin():
            row = session.execute(
                sa.select(SmsContact).where(SmsContact.sender_hash == sender_id)
            ).scalar_one_or_none()
            if row is None or bool(row.opted_out) == opted_out:
                return False
            row.opted_out = opted_out
            row.opted_out_at = now if opted_out else None
            row.updated_at = now
            if opted_out:
                row.last_buttons = None
            return True

    def set_last_buttons(self, sender_id: str, buttons: List[Tuple[str, str]]) -> None:
        """Remember the buttons last offered (an empty list forgets them)."""
        value = [{"title": t, "payload": p} for t, p in buttons] or None
        with self._session() as session, session.begin():
            session.execute(
                sa.update(SmsContact).where(SmsContact.sender_hash == sender_id).values(last_buttons=value)
            )

    def is_opted_out(self, sender_id: str) -> bool:
        state = self.contact(sender_id)
        return bool(state and state.opted_out)

    def phone_for_sender(self, sender_id: str) -> Optional[str]:
        """The phone number behind an SMS sender id, or None (unknown sender, or the key changed).

        Callers must not send to a person who opted out (see :meth:`is_opted_out`):
        carriers forbid messages after STOP other than its confirmation.
        """
        if not is_sms_sender(sender_id):
            return None
        with self._session() as session:
            token = session.execute(
                sa.select(SmsContact.phone_encrypted).where(SmsContact.sender_hash == sender_id)
            ).scalar_one_or_none()
        if token is None:
            return None
        number = self.vault.decrypt(token)
        if number is None:
            logger.error("sms: the stored number of %s cannot be decrypted (key changed?)", sender_id)
        return number

    def prune_inbound(self, older_than: Optional[datetime] = None) -> int:
        """Forget handled messages received before the retention period; returns how many.

        A message not handled yet is never forgotten (the inbox still owes it a turn)."""
        cutoff = older_than or (self._clock() - self.dedup_retention)
        with self._session() as session, session.begin():
            result = session.execute(
                sa.delete(SmsInbound).where(
                    SmsInbound.received_at < cutoff, SmsInbound.handled_at.isnot(None)
                )
            )
            return int(result.rowcount or 0)

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        with self._lock:
            if self._last_prune and now - self._last_prune < PRUNE_EVERY_SECONDS:
                return
            self._last_prune = now
        try:
            removed = self.prune_inbound()
            if removed:
                logger.info("sms: forgot %d received message ids older than the retention period", removed)
        except Exception:  # noqa: BLE001 - pruning is housekeeping; never fail a message for it
            logger.exception("sms: pruning received message ids failed")
