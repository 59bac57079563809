"""The check-ins' actions (rules: data/rules/checkins.yml; forms: actions/checkins/forms.py).

- ``action_checkin_offer``: after the summary at the end of the intake, once.
- ``action_checkin_optin``: "weekly check-ins" (or yes to the offer): already signed up,
  paused (back on), or the set-up form (SMS: the time zone guessed from the area code, to
  confirm; web: text me, with a code, or a personal link).
- ``action_checkin_subscribe``: the set-up is done: the schedule is written to the database.
- ``action_checkin_start``: the scheduler's EXTERNAL_checkin: the intro, then the form.
- ``action_checkin_done``: every way out of the check-in form (finished, later, stop, pause).
- ``action_checkin_stop`` / ``_pause`` / ``_resume``: the commands outside a check-in.

Database work runs in worker threads; a failure is logged and the person is told plainly.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from abc import ABC, abstractmethod
from datetime import timedelta
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.checkins.common import (
    COMMAND_LATER,
    COMMAND_PAUSE,
    COMMAND_STOP,
    FORM,
    ITEM_SLOTS,
    METHOD_LINK,
    METHOD_NONE,
    METHOD_SMS,
    SETUP_FORM,
    SLOT_CODE,
    SLOT_COMMAND,
    SLOT_ID,
    SLOT_METHOD,
    SLOT_NOTE,
    SLOT_OFFERED,
    SLOT_PHONE,
    SLOT_SMS_SENDER,
    SLOT_TZ,
    SLOT_TZ_GUESS,
    SMS_CHANNEL,
    StoreAndEnv,
    channel_of,
    checkin_metadata,
    phone_for,
    subscription_of,
)
from trd.checkins import wording
from trd.checkins.store import CheckinStore, Subscription
from trd.checkins.timezones import zone_for_phone, zone_label
from trd.store.checkin_models import CHANNEL_SMS, CHANNEL_WEB, SUB_ACTIVE, SUB_PAUSED, SUB_STOPPED

logger = logging.getLogger(__name__)

SETUP_SLOTS = (SLOT_METHOD, SLOT_PHONE, SLOT_CODE, SLOT_TZ, SLOT_TZ_GUESS, SLOT_SMS_SENDER)


class _CheckinAction(StoreAndEnv, Action, ABC):
    """A check-in action (abstract: the action server registers only concrete ones)."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""


def offer_wanted(tracker: Tracker) -> bool:
    """Whether the summary should be followed by the offer of weekly check-ins (once per conversation)."""
    return tracker.get_slot(SLOT_OFFERED) is not True


class ActionCheckinOffer(_CheckinAction):
    def name(self) -> str:
        return "action_checkin_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        try:
            sub = await subscription_of(await self.store(), tracker.sender_id)
        except Exception:  # noqa: BLE001
            logger.exception("checkins: could not read the subscription of %s", tracker.sender_id)
            sub = None
        if sub is None or sub.status != SUB_ACTIVE:
            dispatcher.utter_message(response="utter_checkin_offer")
        return [SlotSet(SLOT_OFFERED, True)]


class ActionCheckinOptin(_CheckinAction):
    def name(self) -> str:
        return "action_checkin_optin"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events: List[EventType] = [SlotSet(SLOT_OFFERED, True)]
        try:
            store = await self.store()
            sub = await subscription_of(store, tracker.sender_id)
            if sub is not None and sub.status == SUB_ACTIVE:
                upcoming = await asyncio.to_thread(store.upcoming, sub.id)
                dispatcher.utter_message(
                    text=wording.already(upcoming.due_at if upcoming else None, sub.timezone)
                )
                return events
            if sub is not None and sub.status == SUB_PAUSED:
                return events + await _resume(store, sub, dispatcher)
        except Exception:  # noqa: BLE001
            logger.exception("checkins: opting in failed for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_checkin_unavailable")
            return events
        events += [SlotSet(slot, None) for slot in SETUP_SLOTS]
        if channel_of(tracker) == SMS_CHANNEL:
            number = await phone_for(tracker.sender_id)
            events += [SlotSet(SLOT_METHOD, METHOD_SMS), SlotSet(SLOT_TZ_GUESS, zone_for_phone(number or ""))]
        return events + [FollowupAction(SETUP_FORM)]


class ActionAskCheckinTz(Action):
    def name(self) -> str:
        return "action_ask_checkin_tz"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        guess = tracker.get_slot(SLOT_TZ_GUESS)
        dispatcher.utter_message(
            text=wording.timezone_question(zone_label(guess) if isinstance(guess, str) and guess else None)
        )
        return []


class ActionCheckinSubscribe(_CheckinAction):
    def name(self) -> str:
        return "action_checkin_subscribe"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        method = tracker.get_slot(SLOT_METHOD)
        zone = tracker.get_slot(SLOT_TZ)
        reset = [SlotSet(slot, None) for slot in (SLOT_PHONE, SLOT_CODE)]
        if method not in (METHOD_SMS, METHOD_LINK) or not isinstance(zone, str) or not zone:
            dispatcher.utter_message(response="utter_checkin_declined")
            return reset
        try:
            store = await self.store()
            if method == METHOD_SMS:
                sms_sender = (
                    tracker.sender_id
                    if channel_of(tracker) == SMS_CHANNEL
                    else tracker.get_slot(SLOT_SMS_SENDER)
                )
                if not isinstance(sms_sender, str) or not sms_sender:
                    dispatcher.utter_message(response="utter_checkin_declined")
                    return reset
                sub = await asyncio.to_thread(
                    store.subscribe, tracker.sender_id, CHANNEL_SMS, zone, sms_sender
                )
                upcoming = await asyncio.to_thread(store.upcoming, sub.id)
                assert upcoming is not None
                dispatcher.utter_message(
                    text=wording.subscribed_sms(
                        upcoming.due_at, zone, zone_label(zone), store.config.quiet_hours
                    )
                )
            else:
                sub = await asyncio.to_thread(store.subscribe, tracker.sender_id, CHANNEL_WEB, zone, None)
                token = secrets.token_urlsafe(32)
                expires = store.now() + timedelta(days=store.config.link_ttl_days)
                await asyncio.to_thread(store.set_link, sub.id, token, expires)
                upcoming = await asyncio.to_thread(store.upcoming, sub.id)
                assert upcoming is not None
                base = (self.env.get("PUBLIC_BASE_URL", "") or "").strip().rstrip("/")
                url = f"{base}/checkin/{token}"
                dispatcher.utter_message(text=wording.subscribed_link(url, upcoming.due_at, expires, zone))
        except Exception:  # noqa: BLE001
            logger.exception("checkins: subscribing %s failed", tracker.sender_id)
            dispatcher.utter_message(response="utter_checkin_unavailable")
            return reset
        logger.info("checkins: conversation %s subscribed (%s, %s)", tracker.sender_id, method, zone)
        return reset


class ActionCheckinStart(_CheckinAction):
    """A check-in (or its reminder) put into the conversation by the scheduler or a visit to the link."""

    def name(self) -> str:
        return "action_checkin_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        meta = checkin_metadata(tracker)
        action = "reminder" if meta.get("action") == "reminder" else "send"
        checkin_id = meta.get("id") if isinstance(meta.get("id"), str) else None
        events: List[EventType] = []
        active = (tracker.active_loop or {}).get("name")
        if active and active != FORM:
            events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        same = checkin_id is not None and checkin_id == tracker.get_slot(SLOT_ID)
        if action == "send" or not same:
            events += [SlotSet(slot, None) for slot in (*ITEM_SLOTS, SLOT_NOTE)]
        events += [SlotSet(SLOT_COMMAND, None)]
        if checkin_id:
            events.append(SlotSet(SLOT_ID, checkin_id))
        dispatcher.utter_message(text=wording.intro(action, channel_of(tracker)))
        return events + [FollowupAction(FORM)]


class ActionCheckinDone(_CheckinAction):
    def name(self) -> str:
        return "action_checkin_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        command = tracker.get_slot(SLOT_COMMAND)
        events: List[EventType] = [SlotSet(SLOT_COMMAND, None)]
        if command not in (COMMAND_LATER, COMMAND_STOP, COMMAND_PAUSE):
            return events
        try:
            store = await self.store()
            sub = await subscription_of(store, tracker.sender_id)
            if sub is None:
                dispatcher.utter_message(response="utter_checkin_not_subscribed")
                return events
            if command == COMMAND_STOP:
                await asyncio.to_thread(store.set_status, sub.id, SUB_STOPPED)
                dispatcher.utter_message(response="utter_checkin_stopped")
            elif command == COMMAND_PAUSE:
                await asyncio.to_thread(store.set_status, sub.id, SUB_PAUSED)
                dispatcher.utter_message(response="utter_checkin_paused")
            else:
                checkin_id = tracker.get_slot(SLOT_ID)
                when = (
                    await asyncio.to_thread(store.later, checkin_id) if isinstance(checkin_id, str) else None
                )
                upcoming = await asyncio.to_thread(store.upcoming, sub.id)
                dispatcher.utter_message(
                    text=wording.later_line(
                        when, upcoming.due_at if upcoming else None, store.now(), sub.timezone
                    )
                )
        except Exception:  # noqa: BLE001
            logger.exception("checkins: %s failed for %s", command, tracker.sender_id)
            dispatcher.utter_message(response="utter_checkin_unavailable")
        return events


async def _resume(
    store: CheckinStore, sub: Subscription, dispatcher: CollectingDispatcher
) -> List[EventType]:
    sub = await asyncio.to_thread(store.set_status, sub.id, SUB_ACTIVE)
    upcoming = await asyncio.to_thread(store.upcoming, sub.id)
    if upcoming is not None:
        dispatcher.utter_message(text=wording.resumed(upcoming.due_at, sub.timezone))
    return []


class _CommandAction(_CheckinAction, ABC):
    status = SUB_STOPPED
    response = "utter_checkin_stopped"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        try:
            store = await self.store()
            sub = await subscription_of(store, tracker.sender_id)
            if sub is None or (sub.status == SUB_STOPPED and self.status != SUB_STOPPED):
                dispatcher.utter_message(response="utter_checkin_not_subscribed")
                return []
            if self.status == SUB_ACTIVE:
                return await _resume(store, sub, dispatcher)
            await asyncio.to_thread(store.set_status, sub.id, self.status)
        except Exception:  # noqa: BLE001
            logger.exception("checkins: %s failed for %s", self.name(), tracker.sender_id)
            dispatcher.utter_message(response="utter_checkin_unavailable")
            return []
        dispatcher.utter_message(response=self.response)
        return []


class ActionCheckinStop(_CommandAction):
    status = SUB_STOPPED
    response = "utter_checkin_stopped"

    def name(self) -> str:
        return "action_checkin_stop"


class ActionCheckinPause(_CommandAction):
    status = SUB_PAUSED
    response = "utter_checkin_paused"

    def name(self) -> str:
        return "action_checkin_pause"


class ActionCheckinResume(_CommandAction):
    status = SUB_ACTIVE
    response = ""

    def name(self) -> str:
        return "action_checkin_resume"


def checkin_offer_events(tracker: Tracker, record: Optional[Dict[str, Any]]) -> List[EventType]:
    """What action_show_summary adds at the end of a complete intake: the offer, once."""
    del record
    if offer_wanted(tracker):
        return [FollowupAction("action_checkin_offer")]
    return []


__all__ = ["METHOD_NONE", "checkin_offer_events"]
