"""The check-in's forms: the weekly PHQ-9 (``checkin_form``) and the opt-in set-up
(``checkin_setup_form``: how to reach the person, a texted code, the time zone).

The check-in form reads each answer like the intake's PHQ-9 (a number 0-3, the answer
words, "skip"); "later", "stop check-ins" and "pause check-ins" end the form with
``checkin_command`` set (action_checkin_done acts on it). Progress is saved after every
item, so a reminder picks up where the person left off. After item 9 the check-in is
recorded, the care team is notified if it worsened by 5 points or more (in the same
transaction), and one line compares it with last time and the intake, with the next date.
Item 9 above zero ends the form with ``crisis_active`` set: data/rules/checkins.yml then
takes the crisis path exactly as in the intake.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.checkins.common import (
    COMMAND_CRISIS,
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
    SLOT_PHONE,
    SLOT_SMS_SENDER,
    SLOT_TZ,
    SLOT_TZ_GUESS,
    SMS_CHANNEL,
    StoreAndEnv,
    StoreFactory,
    channel_of,
    default_store,
    item_values,
    phone_for,
    sms_store,
    store_of,
    subscription_of,
    text_phone,
)
from actions.forms.base import SKIPPED, BaseFormValidation, attempts_for, normalise_answer
from actions.forms.intake_base import DIGRESSION_CONFIDENCE, QUESTION_INTENTS, latest_intent
from trd.checkins import notify, wording
from trd.checkins.service import intake_total, write_follow_up
from trd.checkins.store import CheckinStore
from trd.checkins.timezones import parse_zone, zone_for_phone
from trd.intake import answers
from trd.intake.parts import SLOT_CRISIS_ACTIVE, SLOT_RISK_CATEGORY
from trd.store import get_repository

logger = logging.getLogger(__name__)

ITEM9_CATEGORY = "suicidal_ideation"
MAX_ATTEMPTS = 3
LATER = re.compile(
    r"^(later|not now|ask me later|remind me later|maybe later|another time|can we do this later|"
    r"later please|not right now|later today|tomorrow)$"
)
STOP = re.compile(r"\b(stop|cancel|end|quit|unsubscribe)\b.*\bcheck ?-? ?ins?\b|\bno more check ?-? ?ins?\b")
PAUSE = re.compile(r"\b(pause|hold|suspend)\b.*\bcheck ?-? ?ins?\b")
NO_NOTE = frozenset(
    {
        "no",
        "nope",
        "nothing",
        "none",
        "no change",
        "no changes",
        "nothing changed",
        "n",
        "nah",
        "not really",
        "no thanks",
        "same",
        "nothing new",
        "no nothing",
    }
)


def command_in(text: str) -> Optional[str]:
    folded = normalise_answer(text)
    if LATER.match(folded):
        return COMMAND_LATER
    if STOP.search(folded):
        return COMMAND_STOP
    if PAUSE.search(folded):
        return COMMAND_PAUSE
    return None



def treatment_question(tracker: Tracker, text: str) -> bool:
    """The reply is a question about a treatment ("what is TMS?"), not an answer: the rules
    (data/rules/treatment_info.yml) answer it, then the form asks its question again (the
    intake forms' test, actions/forms/intake_base.py)."""
    intent, confidence = latest_intent(tracker)
    return (
        intent in QUESTION_INTENTS
        and confidence >= DIGRESSION_CONFIDENCE
        and answers.looks_like_question(text)
    )


class ValidateCheckinForm(BaseFormValidation):
    """The weekly PHQ-9, one item at a time, then what changed."""

    def __init__(
        self, store_factory: StoreFactory = default_store, repository_factory: Any = get_repository
    ) -> None:
        self._store_factory = store_factory
        self._repository_factory = repository_factory

    def name(self) -> str:
        return f"validate_{FORM}"

    async def required_slots(
        self, domain_slots: List[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[str]:
        if tracker.get_slot(SLOT_COMMAND):
            return []
        return list(ITEM_SLOTS) + [SLOT_NOTE]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        candidates = tracker.slots_to_validate()
        if not isinstance(requested, str) or requested not in candidates:
            return []
        raw = candidates[requested]
        text = self.clean_text(raw) or ""
        if (
            text
            and treatment_question(tracker, text)
            and command_in(text) is None
            and (requested == SLOT_NOTE or answers.parse_phq9(text) is answers.INVALID)
        ):
            return [SlotSet(requested, None), ActionExecutionRejected(FORM)]
        if requested == SLOT_NOTE:
            changes = await self._note(raw, dispatcher, tracker)
        else:
            changes = await self._item(requested, raw, dispatcher, tracker)
        tracker.slots.update(changes)
        return [SlotSet(k, v) for k, v in changes.items()]

    # --- one item --------------------------------------------------------------------------

    async def _item(
        self, slot: str, raw: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[str, Any]:
        text = self.clean_text(raw) or ""
        command = command_in(text) if text else None
        if command is not None:
            return {slot: None, SLOT_COMMAND: command}
        value = answers.parse_phq9(text) if text else answers.INVALID
        if value is answers.INVALID:
            if attempts_for(tracker, slot) >= MAX_ATTEMPTS:
                value = answers.UNKNOWN
            else:
                dispatcher.utter_message(response="utter_checkin_hint")
                return {slot: None}
        stored: Any = SKIPPED if value is answers.UNKNOWN else int(value)
        changes: Dict[str, Any] = {slot: stored}
        slots = dict(tracker.slots)
        slots.update(changes)
        items = item_values(slots)
        try:
            store = await store_of(self._store_factory)
            checkin_id = await self._checkin_id(store, tracker)
            if checkin_id and slot != ITEM_SLOTS[-1]:
                await asyncio.to_thread(store.save_progress, checkin_id, items)
        except Exception:  # noqa: BLE001 - the answers stay in the slots; the next save has them
            logger.exception("checkins: could not save the progress of conversation %s", tracker.sender_id)
            store, checkin_id = None, None
        if slot != ITEM_SLOTS[-1]:
            return changes
        # The ninth item: the check-in is complete.
        item9 = stored if isinstance(stored, int) else 0
        if store is not None and checkin_id:
            line = await self._complete(store, checkin_id, items, tracker)
        else:
            line = None
        if item9 > 0:
            dispatcher.utter_message(response="utter_intake_item9")
            changes.update(
                {SLOT_CRISIS_ACTIVE: True, SLOT_RISK_CATEGORY: ITEM9_CATEGORY, SLOT_COMMAND: COMMAND_CRISIS}
            )
            return changes
        if line:
            dispatcher.utter_message(text=line)
        return changes

    async def _checkin_id(self, store: CheckinStore, tracker: Tracker) -> Optional[str]:
        value = tracker.get_slot(SLOT_ID)
        if isinstance(value, str) and value:
            return value
        sub = await subscription_of(store, tracker.sender_id)
        if sub is None:
            return None
        current = await asyncio.to_thread(store.current, sub.id)
        return current.id if current else None

    async def _complete(
        self, store: CheckinStore, checkin_id: str, items: List[Optional[int]], tracker: Tracker
    ) -> Optional[str]:
        """Record the check-in (and any notification), update the record; the line to send back."""
        sub = await subscription_of(store, tracker.sender_id)
        if sub is None:
            return None
        try:
            repository = await asyncio.to_thread(self._repository_factory)
            record = await asyncio.to_thread(repository.intake, sub.conversation_id)
        except Exception:  # noqa: BLE001
            logger.exception("checkins: could not read the intake record of %s", sub.conversation_id)
            repository, record = None, None
        baseline = intake_total(record)
        on_complete = notify.worsening_hook(store, baseline)

        try:
            done = await asyncio.to_thread(store.complete, checkin_id, items, on_complete)
        except Exception:  # noqa: BLE001
            logger.exception(
                "COULD NOT RECORD the check-in %s of conversation %s", checkin_id, tracker.sender_id
            )
            return None
        if done is None:
            return None
        history = await asyncio.to_thread(store.checkins, sub.id)
        if repository is not None:
            try:
                await asyncio.to_thread(
                    write_follow_up, repository, sub.conversation_id, history, sub.timezone
                )
            except Exception:  # noqa: BLE001 - the check-in itself is recorded; the record is rewritten next time
                logger.exception("checkins: could not write the follow-up series of %s", sub.conversation_id)
        answered = [c for c in history if c.status == "answered" and c.total is not None and c.id != done.id]
        last_total = answered[-1].total if answered else None
        upcoming = await asyncio.to_thread(store.upcoming, sub.id)
        return wording.result_line(
            items, last_total, baseline, upcoming.due_at if upcoming else None, sub.timezone
        )

    # --- what changed ------------------------------------------------------------------------

    async def _note(self, raw: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        text = self.clean_text(raw) or ""
        folded = normalise_answer(text)
        command = command_in(text) if text else None
        if command in (COMMAND_STOP, COMMAND_PAUSE):
            return {SLOT_NOTE: SKIPPED, SLOT_COMMAND: command}
        if not text or folded in NO_NOTE or answers.is_unknown(text) or folded in ("skip", "pass"):
            dispatcher.utter_message(response="utter_checkin_thanks")
            return {SLOT_NOTE: SKIPPED}
        try:
            store = await store_of(self._store_factory)
            checkin_id = tracker.get_slot(SLOT_ID)
            sub = await subscription_of(store, tracker.sender_id)
            if isinstance(checkin_id, str) and sub is not None:
                await asyncio.to_thread(store.save_note, checkin_id, text)
                history = await asyncio.to_thread(store.checkins, sub.id)
                repository = await asyncio.to_thread(self._repository_factory)
                await asyncio.to_thread(
                    write_follow_up, repository, sub.conversation_id, history, sub.timezone
                )
        except Exception:  # noqa: BLE001
            logger.exception("checkins: could not save the note of conversation %s", tracker.sender_id)
        dispatcher.utter_message(response="utter_checkin_note_saved")
        return {SLOT_NOTE: "noted"}


# --- the set-up -------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d")


def normalise_phone(text: str) -> Optional[str]:
    """E.164 from "555-123-4567", "(555) 123 4567", "+1 555 123 4567" or "+44 7700 900123"; else None."""
    raw = (text or "").strip()
    if len(raw) > 40 or re.search(r"[A-Za-z]", raw):
        return None
    digits = "".join(_DIGITS.findall(raw))
    if raw.startswith("+"):
        return "+" + digits if 8 <= len(digits) <= 15 else None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10 and digits[0] not in "01" and digits[3] not in "01":
        return "+1" + digits
    return None


def method_in(text: str) -> Optional[str]:
    folded = normalise_answer(text)
    if re.search(r"\blink\b|\bcome back\b|\bbookmark\b", folded):
        return METHOD_LINK
    if re.search(r"\b(text|texts|sms|phone|message me|mobile|cell)\b", folded):
        return METHOD_SMS
    if re.search(r"\b(no|nope|not now|neither|no thanks|none)\b", folded):
        return METHOD_NONE
    return None


class ValidateCheckinSetupForm(StoreAndEnv, BaseFormValidation):
    """How to reach the person each week, and their time zone."""

    def name(self) -> str:
        return f"validate_{SETUP_FORM}"

    async def required_slots(
        self, domain_slots: List[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[str]:
        method = tracker.get_slot(SLOT_METHOD)
        if method is None:
            return [SLOT_METHOD]
        if method == METHOD_NONE:
            return []
        if method == METHOD_SMS and channel_of(tracker) != SMS_CHANNEL:
            return [SLOT_METHOD, SLOT_PHONE, SLOT_CODE, SLOT_TZ]
        return [SLOT_METHOD, SLOT_TZ]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        candidates = tracker.slots_to_validate()
        if not isinstance(requested, str) or requested not in candidates:
            return []
        text = self.clean_text(candidates[requested]) or ""
        if text and treatment_question(tracker, text) and not re.search(r"\d", text):
            return [SlotSet(requested, None), ActionExecutionRejected(SETUP_FORM)]
        handler = {
            SLOT_METHOD: self._method,
            SLOT_PHONE: self._phone,
            SLOT_CODE: self._code,
            SLOT_TZ: self._tz,
        }.get(requested)
        if handler is None:
            return []
        changes = await handler(text, dispatcher, tracker)
        tracker.slots.update(changes)
        return [SlotSet(k, v) for k, v in changes.items()]

    async def _method(self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        method = method_in(text)
        if method is None:
            if attempts_for(tracker, SLOT_METHOD) >= MAX_ATTEMPTS:
                return {SLOT_METHOD: METHOD_NONE}
            return {SLOT_METHOD: None}
        return {SLOT_METHOD: method}

    async def _phone(self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        switch = method_in(text)
        if switch in (METHOD_LINK, METHOD_NONE) and normalise_phone(text) is None:
            return {SLOT_METHOD: switch, SLOT_PHONE: None}
        number = normalise_phone(text)
        if number is None:
            if attempts_for(tracker, SLOT_PHONE) >= MAX_ATTEMPTS:
                dispatcher.utter_message(response="utter_checkin_phone_invalid")
                return {SLOT_METHOD: METHOD_NONE, SLOT_PHONE: None}
            dispatcher.utter_message(response="utter_checkin_phone_invalid")
            return {SLOT_PHONE: None}
        sent = await self._send_code(number, dispatcher, tracker)
        if not sent:
            return {SLOT_PHONE: None}
        # Never the number itself in a slot: the tracker store keeps no phone numbers.
        return {SLOT_PHONE: "code_sent", SLOT_TZ_GUESS: zone_for_phone(number)}

    async def _send_code(self, number: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        try:
            sms = await asyncio.to_thread(sms_store)
            sender_id = sms.sender_id_for(number)
            state = await asyncio.to_thread(sms.contact, sender_id)
            if state is not None and state.opted_out:
                dispatcher.utter_message(response="utter_checkin_phone_opted_out")
                return False
            await asyncio.to_thread(sms.ensure_contact, number)
            store = await self.store()
            code = f"{secrets.randbelow(1_000_000):06d}"
            secret = self.env.get("PHONE_HASH_SECRET", "")
            await asyncio.to_thread(
                store.create_code, tracker.sender_id, sender_id, code, secret, zone_for_phone(number)
            )
        except Exception:  # noqa: BLE001
            logger.exception("checkins: could not prepare a code for conversation %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_checkin_code_failed")
            return False
        service = self.env.get("SMS_SERVICE_NAME", "").strip() or "TRD Navigator"
        if not await text_phone(number, wording.code_text(service, code), self.env):
            dispatcher.utter_message(response="utter_checkin_code_failed")
            return False
        return True

    async def _code(self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        folded = normalise_answer(text)
        store = await self.store()
        if re.search(r"\b(new|another|resend|send again|again)\b", folded):
            code_row = None
            # Resend to the same number: it is kept only encrypted, with the SMS contact.
            try:
                last_sender = await asyncio.to_thread(store.latest_code_sender, tracker.sender_id)
                number = await phone_for(last_sender) if last_sender else None
                if number:
                    await self._send_code(number, dispatcher, tracker)
                    code_row = True
            except Exception:  # noqa: BLE001
                logger.exception("checkins: could not send a new code")
            if not code_row:
                return {SLOT_PHONE: None, SLOT_CODE: None}
            return {SLOT_CODE: None}
        digits = "".join(_DIGITS.findall(text))
        if len(digits) != 6:
            dispatcher.utter_message(response="utter_checkin_code_wrong")
            return {SLOT_CODE: None}
        secret = self.env.get("PHONE_HASH_SECRET", "")
        found = await asyncio.to_thread(store.check_code, tracker.sender_id, digits, secret)
        if not found:
            if not await asyncio.to_thread(store.has_live_code, tracker.sender_id):
                dispatcher.utter_message(response="utter_checkin_code_failed")
                return {SLOT_PHONE: None, SLOT_CODE: None}
            dispatcher.utter_message(response="utter_checkin_code_wrong")
            return {SLOT_CODE: None}
        return {
            SLOT_CODE: "confirmed",
            SLOT_SMS_SENDER: found["sms_sender_id"],
            SLOT_TZ_GUESS: found.get("timezone") or tracker.get_slot(SLOT_TZ_GUESS),
        }

    async def _tz(self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        guess = tracker.get_slot(SLOT_TZ_GUESS)
        yes_no = answers.parse_yes_no(text)
        if yes_no is True and isinstance(guess, str) and guess:
            return {SLOT_TZ: guess}
        zone = parse_zone(text)
        if zone is not None:
            return {SLOT_TZ: zone}
        if yes_no is False:
            return {SLOT_TZ: None, SLOT_TZ_GUESS: None}
        if attempts_for(tracker, SLOT_TZ) >= MAX_ATTEMPTS and isinstance(guess, str) and guess:
            return {SLOT_TZ: guess}
        dispatcher.utter_message(response="utter_checkin_tz_hint")
        return {SLOT_TZ: None}
