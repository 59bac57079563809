"""What the care team receives about a crisis: the webhook payload and the on-call SMS text.

The webhook payload (JSON; ``id`` and ``crisis_id`` are added when the outbox row is
written, see ``trd.store.repository.EscalationRequest``)::

    {
      "type": "crisis_escalation", "version": 1,
      "id": "<UUID: the idempotency key, the same on every retry>",
      "crisis_id": 17,
      "conversation_id": "sms-3f...",
      "channel": "sms",                         # sms | web | rest (Rasa's twilio/web/rest)
      "risk_category": "plan",                  # from the safety guard / SafetyPolicy
      "time": "2024-12-05T14:02:11Z",          # when the person sent the message (UTC)
      "contact": {"phone": "+15551234567", "sms_sender": "sms-3f...", "sms_opted_out": false, "note": "..."},
      "last_messages": [{"from": "person", "text": "...", "time": "..."}, ...]
    }

``contact.phone`` is set only for an SMS conversation, and only in what is sent: the outbox
row (and the escalation journal) keep ``phone: null`` and the SMS sender id in
``contact.sms_sender``; the worker decrypts the number from ``trd_sms_contacts`` when it
sends (:func:`with_phone`), so the database holds no phone number in clear. Web and REST
conversations have no contact details: ``phone`` is null and ``note`` says so.

``last_messages`` holds up to :data:`MAX_MESSAGES` texts of the conversation, person's
and assistant's, in order, ending with the message that raised the crisis; each cut to
:data:`MAX_MESSAGE_CHARS`. The crisis replies sent in the same turn are not repeated:
they are the fixed crisis resources for ``risk_category``.

The SMS row carries the same payload without ``last_messages``; :func:`sms_text`
renders it as a short alert for the on-call phone: the service, the risk category, the
channel, the time, how to reach the person and the conversation id, but never what the
person wrote (an SMS shows on a lock screen and sits in a carrier's logs; the webhook
carries the details).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Protocol

logger = logging.getLogger(__name__)

PAYLOAD_TYPE = "crisis_escalation"
PAYLOAD_VERSION = 1
MAX_MESSAGES = 6
MAX_MESSAGE_CHARS = 300

# Rasa's input channel names -> the care team's.
CHANNELS = {"twilio": "sms", "web": "web", "rest": "rest"}
SMS_CHANNEL = "sms"

NOTE_SMS = (
    "The person is texting this service from this number. You can call or text them from your own phone."
)
NOTE_SMS_OPTED_OUT = (
    "The person texted this service from this number but has opted out of its texts (STOP), so the service "
    "cannot text them; you can still call or text them from your own phone."
)
NOTE_SMS_UNKNOWN = (
    "The person is texting this service, but their number could not be looked up (unknown sender or the "
    "encryption key changed). The conversation id identifies them in this service's records."
)
NOTE_WEB = (
    "The person is using the web chat, which collects no phone number or other contact details. "
    "The crisis resources were shown to them in the chat."
)
NOTE_REST = (
    "The person is using the REST API channel (an app or integration), which passes no contact details."
)
NOTE_OTHER = "This channel passes no contact details."


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second: 2024-12-05T14:02:11Z."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def care_team_channel(input_channel: Optional[str]) -> str:
    """sms, web or rest for Rasa's twilio, web and rest; another channel keeps its own name."""
    name = (input_channel or "").strip().lower()
    if not name:
        return "unknown"
    return CHANNELS.get(name, name[:64])


@dataclass(frozen=True)
class Contact:
    """How to reach a person outside the conversation (only SMS conversations have one)."""

    phone: Optional[str]
    opted_out: bool = False


class ContactLookup(Protocol):
    def contact_for(self, sender_id: str) -> Optional[Contact]:
        """The person behind an SMS sender id, number decrypted; None when unknown. Synchronous
        (touches the database). Only the worker calls it, when it sends."""
        ...


class SmsStoreContacts:
    """:class:`ContactLookup` on the SMS channel's store (``trd_sms_contacts``).

    Built on first use (``SmsStore.from_env``: PHONE_HASH_SECRET, DATABASE_URL), so
    nothing connects at import time.
    """

    def __init__(self, store_factory: Optional[Callable[[], Any]] = None) -> None:
        self._factory = store_factory
        self._store: Any = None

    def _get_store(self) -> Any:
        if self._store is None:
            if self._factory is not None:
                self._store = self._factory()
            else:
                from trd.sms.store import SmsStore

                self._store = SmsStore.from_env()
        return self._store

    def contact_for(self, sender_id: str) -> Optional[Contact]:
        store = self._get_store()
        state = store.contact(sender_id)
        if state is None:
            return None
        return Contact(phone=store.phone_for_sender(sender_id), opted_out=bool(state.opted_out))

    def opted_out(self, sender_id: str) -> Optional[bool]:
        """Whether a known SMS sender opted out; None when unknown. Decrypts nothing."""
        state = self._get_store().contact(sender_id)
        return None if state is None else bool(state.opted_out)


def _trim(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = text.strip()
    if len(text) > limit:
        return text[: limit - 1].rstrip() + "\u2026"
    return text


def _event_time(event: Mapping[str, Any]) -> Optional[str]:
    stamp = event.get("timestamp")
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) and stamp > 0:
        try:
            return iso_utc(datetime.fromtimestamp(float(stamp), tz=timezone.utc))
        except (OverflowError, OSError, ValueError):
            return None
    return None


def last_messages(events: Iterable[Mapping[str, Any]], limit: int = MAX_MESSAGES) -> List[Dict[str, Any]]:
    """Up to ``limit`` person/assistant texts, oldest first, ending with the person's latest message."""
    messages: List[Dict[str, Any]] = []
    last_user = -1
    for event in events:
        if not isinstance(event, Mapping) or event.get("event") not in ("user", "bot"):
            continue
        text = event.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        who = "person" if event["event"] == "user" else "assistant"
        messages.append({"from": who, "text": _trim(text), "time": _event_time(event)})
        if who == "person":
            last_user = len(messages) - 1
    if last_user >= 0:
        messages = messages[: last_user + 1]
    return messages[-limit:] if limit > 0 else []


def message_time(events: Iterable[Mapping[str, Any]], default: datetime) -> str:
    """When the person sent their latest message (the crisis), else ``default``."""
    found: Optional[str] = None
    for event in events:
        if isinstance(event, Mapping) and event.get("event") == "user":
            found = _event_time(event) or found
    return found or iso_utc(default)


def contact_block(channel: str, sender_id: str, lookup: Optional[ContactLookup]) -> Dict[str, Any]:
    """The payload's ``contact`` as stored: for SMS the sender id (the worker adds the number
    when it sends), else null and a note. No phone number is decrypted here."""
    if channel != SMS_CHANNEL:
        note = {"web": NOTE_WEB, "rest": NOTE_REST}.get(channel, NOTE_OTHER)
        return {"phone": None, "sms_opted_out": None, "note": note}
    opted_out: Optional[bool] = None
    if lookup is not None:
        try:
            known = getattr(lookup, "opted_out", None)
            if callable(known):
                opted_out = known(sender_id)
            else:  # a lookup without the cheap check
                contact = lookup.contact_for(sender_id)
                opted_out = None if contact is None or not contact.phone else contact.opted_out
        except Exception:  # noqa: BLE001 - the escalation goes out without the number rather than not at all
            logger.exception("escalation: could not look up the SMS contact of %s", sender_id)
            # e.g. the database is down (the escalation journal): the worker tries again when it sends
            return {"phone": None, "sms_sender": sender_id, "sms_opted_out": None, "note": NOTE_SMS}
    if opted_out is None:
        return {"phone": None, "sms_opted_out": None, "note": NOTE_SMS_UNKNOWN}
    return {
        "phone": None,
        "sms_sender": sender_id,
        "sms_opted_out": opted_out,
        "note": NOTE_SMS_OPTED_OUT if opted_out else NOTE_SMS,
    }


def with_phone(payload: Mapping[str, Any], lookup: Optional[ContactLookup]) -> Dict[str, Any]:
    """What is sent: the stored payload with the person's number decrypted into ``contact.phone``.

    The worker calls this for each attempt; the number lives only in the request. When it
    cannot be read (unknown sender, the key changed, no lookup), ``phone`` stays null and the
    note says the number is unavailable: the escalation still goes.
    """
    contact = payload.get("contact")
    if not isinstance(contact, Mapping) or contact.get("phone") or not contact.get("sms_sender"):
        return dict(payload)
    found: Optional[Contact] = None
    if lookup is not None:
        try:
            found = lookup.contact_for(str(contact["sms_sender"]))
        except Exception:  # noqa: BLE001 - send without the number rather than not at all
            logger.exception("escalation: could not read the SMS contact of %s", contact["sms_sender"])
    if found is None or not found.phone:
        return {**payload, "contact": {**contact, "phone": None, "note": NOTE_SMS_UNKNOWN}}
    return {**payload, "contact": {**contact, "phone": found.phone, "sms_opted_out": found.opted_out}}


def build_payload(
    *,
    conversation_id: str,
    input_channel: Optional[str],
    category: str,
    events: List[Mapping[str, Any]],
    lookup: Optional[ContactLookup],
    now: Optional[datetime] = None,
) -> Dict[str, Any]:
    """The webhook payload (without ``id``/``crisis_id``, which the outbox adds)."""
    channel = care_team_channel(input_channel)
    return {
        "type": PAYLOAD_TYPE,
        "version": PAYLOAD_VERSION,
        "conversation_id": conversation_id,
        "channel": channel,
        "risk_category": category,
        "time": message_time(events, now or utcnow()),
        "contact": contact_block(channel, conversation_id, lookup),
        "last_messages": last_messages(events),
    }


def sms_payload(webhook_payload: Mapping[str, Any]) -> Dict[str, Any]:
    """The SMS row's payload: the same facts without the messages."""
    return {k: v for k, v in webhook_payload.items() if k != "last_messages"}


_CHANNEL_WORDS = {"sms": "SMS", "web": "web chat", "rest": "REST API"}


def sms_text(payload: Mapping[str, Any], service_name: str) -> str:
    """The on-call alert: no message contents, only what is needed to act."""
    if payload.get("type") == "escalation_rate_alarm":  # trd.escalation.cases
        count = payload.get("escalations_last_minute")
        return (
            f"{service_name} ALARM: {count} crisis escalations in the last minute, more than the "
            f"{payload.get('limit_per_minute')} expected. Each still has its own alert; "
            "check for a surge or a script."
        )
    if payload.get("type") == "followup_notification":  # a weekly check-in's notification (#12)
        from trd.checkins.notify import sms_text as followup_text

        return followup_text(payload, service_name)
    category = str(payload.get("risk_category") or "unspecified").replace("_", " ")
    channel = str(payload.get("channel") or "unknown")
    channel_words = _CHANNEL_WORDS.get(channel, channel)
    when = str(payload.get("time") or "")
    when_words = when.replace("T", " ").replace("Z", " UTC") if when else "just now"
    contact = payload.get("contact") if isinstance(payload.get("contact"), Mapping) else {}
    assert isinstance(contact, Mapping)
    phone = contact.get("phone")
    if isinstance(phone, str) and phone:
        reach = (
            f"call {phone} (opted out of our texts)"
            if contact.get("sms_opted_out")
            else f"{phone} (call/text)"
        )
    elif channel == SMS_CHANNEL:
        reach = "number unavailable"
    else:
        reach = f"no phone number ({channel_words})"
    # A short case reference (the escalation's id in the outbox), never the sender id: a
    # texted alert can be read over a shoulder or forwarded; the signed webhook and the
    # outbox row carry the conversation for the care team's tools.
    ref = str(payload.get("id") or "")[:8]
    lead = "crisis alert"
    if payload.get("type") == "crisis_escalation_update":  # trd.escalation.cases
        lead = f"crisis update ({payload.get('crisis_count')} risky messages so far)"
    return (
        f"{service_name} {lead}: risk {category}, {channel_words} conversation, {when_words}. "
        f"Reach them: {reach}. Case {ref}."
    )
