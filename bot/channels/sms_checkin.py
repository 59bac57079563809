"""The SMS channel's check-in route: the scheduler puts a due check-in into a person's conversation.

    POST /webhooks/twilio/checkin   {"checkin_id", "token", "action": "send" | "reminder"}
                                    Authorization: Bearer $RASA_AUTH_TOKEN

Called only by the check-in scheduler (``trd.checkins.worker``) with a claim it holds.
Under the person's SMS lock (their own messages wait, and are read after it), it

1. takes the send with the claim (``CheckinStore.begin``: atomic, so a second worker, a
   retry or a second server never texts the same check-in twice: ``duplicate``);
2. for a person who texted STOP, or whose number is unknown, texts nothing
   (``not_sent``; next week is scheduled all the same);
3. ends any form the conversation was in (its answers stay; "continue" resumes it), and
   runs the turn ``/EXTERNAL_checkin`` with the check-in in the message's metadata, so the
   check-in form is active and the reply is understood as its answer;
4. records the send (``sent``; next week's row and last week's ``missed`` in one
   transaction) *before* texting, then queues the turn's messages in the channel's durable
   outbox (``trd_sms_outbox``, keyed by the check-in, so queued twice is texted once), or
   texts them directly when the channel has no outbox. A turn that failed texts nothing and hands
   the row back (``failed``, 503: the worker tries again later).

Answers: 200 {"outcome": ...} (sent, not_sent, duplicate, stale), 400 a malformed body,
401 without the token, 503 when the SMS channel or the check-ins are not configured.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import ActiveLoop, SlotSet
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from trd.checkins.store import ACTION_REMIND, ACTION_SEND
from trd.sms.format import render_replies

if TYPE_CHECKING:  # pragma: no cover
    from bot.channels.sms import TwilioSmsInput

logger = logging.getLogger(__name__)

TRIGGER_TEXT = "/EXTERNAL_checkin"
MAX_BODY = 4096


def _json(status: int, outcome: str, detail: str = "") -> HTTPResponse:
    body: Dict[str, Any] = {"outcome": outcome}
    if detail:
        body["detail"] = detail
    return response.json(body, status=status, headers={"Cache-Control": "no-store"})


def authorised(request: Request, env: Optional[Dict[str, str]] = None) -> bool:
    token = ((env or os.environ).get("RASA_AUTH_TOKEN") or "").strip()
    given = (request.headers.get("authorization") or "").strip()
    if not token or not given.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(given[7:].strip().encode("utf-8"), token.encode("utf-8"))


def _checkin_store() -> Any:
    from trd.checkins.service import get_store

    return get_store()


async def _end_open_form(request: Request, sender_id: str) -> None:
    """End whatever form the conversation is in, so the trigger is not read as its answer."""
    agent = getattr(request.app.ctx, "agent", None)
    processor = getattr(agent, "processor", None)
    if agent is None or processor is None:
        return
    async with agent.lock_store.lock(sender_id):
        tracker = await processor.fetch_tracker_with_initial_session(sender_id)
        if tracker.active_loop_name:
            tracker.update(ActiveLoop(None))
            tracker.update(SlotSet("requested_slot", None))
            await processor.save_tracker(tracker)


async def handle_trigger(
    channel: TwilioSmsInput,
    request: Request,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    store_factory: Callable[[], Any] = _checkin_store,
) -> HTTPResponse:
    if not authorised(request):
        return _json(401, "unauthorised")
    if channel.disabled_reason is not None or channel.store is None or channel.config is None:
        return _json(503, "unavailable", "the SMS channel is not configured")
    if channel.sender is None:
        return _json(503, "unavailable", "check-ins need SMS_REPLY_MODE=rest (TWILIO_ACCOUNT_SID)")
    if len(request.body or b"") > MAX_BODY:
        return _json(400, "bad_request", "too large")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _json(400, "bad_request", "not JSON")
    if not isinstance(body, dict):
        return _json(400, "bad_request", "not an object")
    checkin_id, token, action = body.get("checkin_id"), body.get("token"), body.get("action")
    if (
        not isinstance(checkin_id, str)
        or not isinstance(token, str)
        or action not in (ACTION_SEND, ACTION_REMIND)
    ):
        return _json(400, "bad_request", "checkin_id, token and action are required")
    try:
        store = await asyncio.to_thread(store_factory)
        record = await asyncio.to_thread(store.get, checkin_id)
        sub = await asyncio.to_thread(store.subscription_by_id, record.subscription_id) if record else None
    except Exception:  # noqa: BLE001
        logger.exception("checkins: could not read check-in %s", checkin_id)
        return _json(503, "unavailable", "database")
    if record is None or sub is None or not sub.sms_sender_id:
        return _json(200, "stale", "unknown check-in")
    sender_id = sub.sms_sender_id
    # The task runs to the end even if the worker hangs up (it has taken the row by then).
    task = asyncio.ensure_future(
        _deliver(channel, request, on_new_message, store, checkin_id, token, action, sender_id)
    )
    try:
        outcome, detail, status = await asyncio.shield(task)
    except asyncio.CancelledError:
        raise
    return _json(status, outcome, detail)


async def _deliver(
    channel: TwilioSmsInput,
    request: Request,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    store: Any,
    checkin_id: str,
    token: str,
    action: str,
    sender_id: str,
) -> tuple:
    assert channel.store is not None and channel.config is not None
    async with channel._sender_lock(sender_id):
        taken = await asyncio.to_thread(store.begin, checkin_id, token, action)
        if taken is None:
            return "duplicate", "", 200
        try:
            state = await asyncio.to_thread(channel.store.contact, sender_id)
            phone = await asyncio.to_thread(channel.store.phone_for_sender, sender_id)
        except Exception:  # noqa: BLE001
            logger.exception("checkins: could not read the SMS contact of %s", sender_id)
            if action == ACTION_SEND:
                await asyncio.to_thread(store.abort, checkin_id, token, "database")
            return "failed", "database", 503
        if state is None or state.opted_out or not phone:
            why = "opted out (STOP)" if state is not None and state.opted_out else "no phone number on file"
            if action == ACTION_SEND:
                await asyncio.to_thread(store.finish, checkin_id, token, False, why, _missed_hook(store))
            logger.info("checkins: %s of check-in %s not texted: %s", action, checkin_id, why)
            return "not_sent", why, 200
        await _end_open_form(request, sender_id)
        collector_messages, failed = await _run_turn(
            channel, on_new_message, sender_id, checkin_id, action, taken
        )
        parts, buttons = render_replies(collector_messages)
        if failed or not parts:
            if action == ACTION_SEND:
                await asyncio.to_thread(store.abort, checkin_id, token, "the turn failed")
            return "failed", "the turn failed", 503
        if action == ACTION_SEND:
            await asyncio.to_thread(store.finish, checkin_id, token, True, None, _missed_hook(store))
        try:
            await asyncio.to_thread(channel.store.set_last_buttons, sender_id, buttons)
        except Exception:  # noqa: BLE001
            logger.exception("checkins: remembering the options offered to %s failed", sender_id)
        await _send(channel, sender_id, phone, parts, f"checkin-{checkin_id}-{action}")
        return "sent", "", 200


async def _run_turn(
    channel: TwilioSmsInput,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    sender_id: str,
    checkin_id: str,
    action: str,
    record: Any,
) -> tuple:
    from bot.channels.sms import CHANNEL_NAME, SmsOutputChannel

    collector = SmsOutputChannel()
    message = UserMessage(
        TRIGGER_TEXT,
        collector,
        sender_id,
        input_channel=CHANNEL_NAME,
        message_id=f"checkin-{checkin_id}-{action}",
        metadata={"checkin": {"id": checkin_id, "action": action, "sequence": record.sequence}},
    )
    try:
        await asyncio.wait_for(on_new_message(message), timeout=channel.rasa_timeout)
    except Exception:  # noqa: BLE001
        logger.exception("checkins: the check-in turn failed (sender %s)", sender_id)
        return list(collector.messages), True
    return list(collector.messages), False


async def _send(channel: TwilioSmsInput, sender_id: str, phone: str, parts: List[str], key: str) -> None:
    assert channel.config is not None
    inbox = getattr(channel, "inbox", None)
    pump = getattr(inbox, "pump", None)
    if inbox is not None and pump is not None:  # the channel's durable outbox (trd_sms_outbox)
        # Keyed by the check-in and the action: queued twice, it is one row and one text.
        await asyncio.to_thread(
            inbox.queues.enqueue, sender_id, key, list(enumerate(parts)), channel.config.from_number or None
        )
        pump.kick()
        return
    assert channel.sender is not None
    from trd.sms.sender import SmsSendError

    for i, part in enumerate(parts):
        try:
            await channel.sender.send(phone, part, from_number=channel.config.from_number or None)
        except SmsSendError as exc:
            logger.error(
                "checkins: a check-in text to %s could not be sent (%s); %d part(s) dropped",
                sender_id,
                exc,
                len(parts) - i,
            )
            return


def _missed_hook(store: Any) -> Callable[..., None]:
    from trd.checkins.notify import missed_hook

    return missed_hook(store)
