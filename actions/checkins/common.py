"""Shared plumbing of the check-in actions: the store, the channel, phone lookups, sending a code."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Tracker

from trd.checkins.service import get_store
from trd.checkins.store import CheckinStore, Subscription

logger = logging.getLogger(__name__)

StoreFactory = Callable[[], CheckinStore]

ITEM_SLOTS = tuple(f"checkin_q{i}" for i in range(1, 10))
SLOT_NOTE = "checkin_note"
SLOT_ID = "checkin_id"
SLOT_COMMAND = "checkin_command"
SLOT_TZ = "checkin_tz"
SLOT_TZ_GUESS = "checkin_tz_guess"
SLOT_METHOD = "checkin_method"
SLOT_PHONE = "checkin_phone"
SLOT_CODE = "checkin_code"
SLOT_SMS_SENDER = "checkin_sms_sender"
SLOT_OFFERED = "checkin_offered"
FORM = "checkin_form"
SETUP_FORM = "checkin_setup_form"
SMS_CHANNEL = "twilio"

METHOD_SMS = "sms"
METHOD_LINK = "link"
METHOD_NONE = "none"

COMMAND_LATER = "later"
COMMAND_STOP = "stop"
COMMAND_PAUSE = "pause"
COMMAND_CRISIS = "crisis"


def channel_of(tracker: Tracker) -> str:
    channel = tracker.get_latest_input_channel() or ""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user" and event.get("input_channel"):
            channel = channel or str(event["input_channel"])
            break
    return channel or "web"


def checkin_metadata(tracker: Tracker) -> Dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    value = metadata.get("checkin") if isinstance(metadata, dict) else None
    return dict(value) if isinstance(value, dict) else {}


def sms_store() -> Any:
    from trd.sms.store import SmsStore

    return SmsStore.from_env()


async def phone_for(sender_id: str) -> Optional[str]:
    try:
        store = await asyncio.to_thread(sms_store)
        return await asyncio.to_thread(store.phone_for_sender, sender_id)
    except Exception:  # noqa: BLE001 - a guess of the time zone is all this is for
        logger.exception("checkins: could not look up the number of %s", sender_id)
        return None


async def text_phone(number: str, body: str, env: Optional[Dict[str, str]] = None) -> bool:
    """Text one message to ``number`` through the provider's API (the confirmation code)."""
    from trd.sms.sender import DEFAULT_API_BASE, AioHttpTwilioSender, SmsSendError

    source = env if env is not None else os.environ
    sid = source.get("TWILIO_ACCOUNT_SID", "").strip()
    token = source.get("TWILIO_AUTH_TOKEN", "").strip()
    sender_number = source.get("TWILIO_FROM_NUMBER", "").strip()
    if not (sid and token and sender_number):
        logger.error(
            "checkins: cannot text a code: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_FROM_NUMBER are needed"
        )
        return False
    sender = AioHttpTwilioSender(
        sid,
        token,
        from_number=sender_number,
        api_base=source.get("TWILIO_API_BASE", "").strip() or DEFAULT_API_BASE,
    )
    try:
        await sender.send(number, body)
        return True
    except SmsSendError as exc:
        logger.error("checkins: the code could not be texted (%s)", exc)
        return False
    finally:
        await sender.close()


async def store_of(factory: StoreFactory) -> CheckinStore:
    return await asyncio.to_thread(factory)


def default_store() -> CheckinStore:
    return get_store()


async def subscription_of(store: CheckinStore, sender_id: str) -> Optional[Subscription]:
    """The subscription whose check-ins happen in this conversation (its own, or the SMS one)."""
    return await asyncio.to_thread(store.subscription_for_sender, sender_id)


class StoreAndEnv:
    """What a check-in action or the set-up form works with: the store (made in a worker
    thread, from ``store_factory``) and the environment (``env``, else the process's)."""

    def __init__(
        self, store_factory: StoreFactory = default_store, env: Optional[Dict[str, str]] = None
    ) -> None:
        self._store_factory = store_factory
        self._env = env

    @property
    def env(self) -> Dict[str, str]:
        return self._env if self._env is not None else dict(os.environ)

    async def store(self) -> CheckinStore:
        return await store_of(self._store_factory)


def item_values(slots: Dict[str, Any]) -> List[Optional[int]]:
    out: List[Optional[int]] = []
    for slot in ITEM_SLOTS:
        value = slots.get(slot)
        out.append(
            value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3 else None
        )
    return out
