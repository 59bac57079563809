"""The SMS channel's durable side: the inbox, the outbox and the crisis lines at once (#10).

:class:`SmsInbox` is what bot/channels/sms.py runs every message through:

1. :meth:`SmsInbox.accept`, before the webhook answers 200: the message is written to the
   inbox (trd.sms.queues), claimed by this process; when the database does not take it
   within ``SMS_ACCEPT_WAIT_SECONDS`` it goes to the local spool (trd.sms.spool, fsync'ed)
   instead. A provider retry of a message already handled is a duplicate; of one a live
   process is handling, nothing to do; of one whose handler died, it is claimed here.
2. :meth:`SmsInbox.process`: the turn, under the sender's lock, with the lease renewed
   while it runs. A message the risk check reads as clear risk gets the crisis lines sent
   straight to the provider when its turn has not finished within CRISIS_REPLY_WAIT_SECONDS
   (and at once when its turn failed); the turn's own copy of them is then not sent again.
   After the turn its reply parts are queued and the message marked handled, in one
   transaction; the outbox pump (trd.sms.delivery) sends them. A turn that failed (e.g.
   the conversation could not be read) is given back and handled again later; the person
   gets the apology (which names the crisis lines) once.
3. :meth:`SmsInbox.start`: at start-up and every ``SMS_INBOX_POLL_SECONDS``, spooled
   messages move into the database and unhandled messages nobody handles (their lease ran
   out, or their process on this machine is gone, e.g. after kill -9) are handled. A
   message handled again checks the conversation first: when its turn was saved already,
   its replies are read from the conversation instead of running the turn twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, List, Mapping, Optional, Set

from rasa.core.channels.channel import UserMessage

from bot.channels import crisis_now
from trd.paths import REPO_ROOT
from trd.sms.delivery import OutboxPump
from trd.sms.format import render_message, render_replies
from trd.sms.queues import CLAIMED, HANDLED, IN_HAND, NEW, Accepted, InboxMessage, SmsQueues
from trd.sms.sender import SmsSendError
from trd.sms.spool import InboxSpool, default_spool_dir
from trd.sms.store import ContactState, SmsConfigError, SmsStore
from trd.summary.links import expand_references

if TYPE_CHECKING:
    from bot.channels.sms import Inbound, TwilioSmsInput

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

DEFAULT_ACCEPT_WAIT_SECONDS = 3.0
DEFAULT_POLL_SECONDS = 10.0
RETRY_AFTER_SECONDS = 30.0
RELEASE_RETRY_SECONDS = 2.0  # giving a failed message back while the database is away
MAX_ATTEMPTS = 5


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    text = env.get(name, "").strip() or str(default)
    try:
        value = float(text)
    except ValueError:
        raise SmsConfigError(f"{name} must be a number of seconds, not {text!r}") from None
    if not low < value <= high:
        raise SmsConfigError(f"{name} must be more than {low:g} and at most {high:g} seconds")
    return value


@dataclass(frozen=True)
class InboxSettings:
    lease_seconds: float = 120.0
    poll_seconds: float = DEFAULT_POLL_SECONDS
    accept_wait: float = DEFAULT_ACCEPT_WAIT_SECONDS
    outbox_poll_seconds: float = 5.0
    crisis_wait: float = crisis_now.DEFAULT_WAIT_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> InboxSettings:
        try:
            crisis_wait = crisis_now.wait_seconds(env)
        except ValueError as exc:
            raise SmsConfigError(str(exc)) from None
        return cls(
            lease_seconds=_number(env, "SMS_INBOX_LEASE_SECONDS", 120.0, 5.0, 3600.0),
            poll_seconds=_number(env, "SMS_INBOX_POLL_SECONDS", DEFAULT_POLL_SECONDS, 0.0, 3600.0),
            accept_wait=_number(env, "SMS_ACCEPT_WAIT_SECONDS", DEFAULT_ACCEPT_WAIT_SECONDS, 0.0, 10.0),
            outbox_poll_seconds=_number(env, "SMS_OUTBOX_POLL_SECONDS", 5.0, 0.0, 3600.0),
            crisis_wait=crisis_wait,
        )


@dataclass
class _Handling:
    """One message being handled: what was sent outside its turn, and whether the turn returned."""

    sent: List[str] = field(default_factory=list)
    turn_returned: bool = False


class SmsInbox:
    def __init__(
        self,
        channel: TwilioSmsInput,
        store: SmsStore,
        settings: InboxSettings,
        spool_dir: Optional[os.PathLike[str]] = None,
    ) -> None:
        self.channel = channel
        self.settings = settings
        self.queues = SmsQueues(store, lease_seconds=settings.lease_seconds)
        directory = Path(spool_dir) if spool_dir is not None else default_spool_dir(os.environ, REPO_ROOT)
        self.spool = InboxSpool(directory, store.vault._fernet)
        self.pump: Optional[OutboxPump] = (
            OutboxPump(self.queues, channel.sender, settings.outbox_poll_seconds) if channel.sender else None
        )
        self._agent: Any = None
        self._on_new_message: Optional[OnNewMessage] = None
        self._loop_task: Optional[asyncio.Task[None]] = None
        self._in_hand: Set[str] = set()
        self._stopping = False

    # --- start and stop -----------------------------------------------------------------------
    def start(self, app: Any, on_new_message: OnNewMessage) -> None:
        self._agent = getattr(getattr(app, "ctx", None), "agent", None)
        self._on_new_message = on_new_message
        if self.pump is not None:
            self.pump.start()
        self._loop_task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        self._stopping = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            self._loop_task = None
        if self.pump is not None:
            await self.pump.stop()

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.drain_once()
            except Exception:  # noqa: BLE001 - e.g. the database is away: try again at the next poll
                logger.exception("sms: looking for unhandled messages failed")
            await asyncio.sleep(self.settings.poll_seconds)

    async def drain_once(self) -> int:
        """Move spooled messages in, then handle the unhandled ones nobody holds; returns how many."""
        await asyncio.to_thread(self.spool.replay, self.queues.restore)
        pending = await asyncio.to_thread(self.queues.claim_pending, 20)
        by_sender: Dict[str, List[InboxMessage]] = {}
        for message in pending:
            if message.message_sid in self._in_hand:
                continue
            logger.warning(
                "sms: handling a message received earlier and not handled yet (attempt %d, sender %s)",
                message.attempts,
                message.sender_id,
            )
            by_sender.setdefault(message.sender_id, []).append(message)
        for messages in by_sender.values():  # one person's messages one after another, in order
            self.channel._spawn(self._process_in_order(messages))
        return len(pending)

    # --- accepting ------------------------------------------------------------------------------
    async def accept(self, inbound: Inbound) -> Accepted:
        """Written (or spooled) before the webhook answers; see the module docstring.

        A crisis message waits at most a third of CRISIS_REPLY_WAIT_SECONDS for the database
        (then the spool): its crisis lines must not wait for a locked database."""
        wait = self.settings.accept_wait
        if inbound.body and crisis_now.crisis_response(inbound.body):
            wait = min(wait, self.settings.crisis_wait / 3)
        task = asyncio.ensure_future(
            asyncio.to_thread(
                self.queues.accept,
                inbound.message_sid,
                inbound.phone,
                inbound.to,
                inbound.body,
                inbound.num_media,
            )
        )
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout=wait)
        except Exception as exc:  # noqa: BLE001 - slow or failing database: the spool keeps it
            reason = "too slow" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
            logger.error("sms: the inbox could not take a message (%s); spooling it", reason)
        payload = {
            "from": inbound.phone,
            "to": inbound.to,
            "body": inbound.body,
            "num_media": inbound.num_media,
        }
        # On the event loop, not in a worker thread: one small fsync'ed append, and the worker
        # threads may all be waiting for the same database.
        self.spool.received(
            inbound.message_sid, inbound.sender_id, payload, datetime.now(timezone.utc).isoformat()
        )
        return Accepted(NEW, ContactState(inbound.sender_id, False), 1)

    @staticmethod
    def is_duplicate(accepted: Accepted) -> bool:
        return accepted.outcome in (HANDLED, IN_HAND)

    # --- handling -------------------------------------------------------------------------------
    async def _process_in_order(self, messages: List[InboxMessage]) -> None:
        for message in messages:
            await self.process_pending(message)

    async def process_pending(self, message: InboxMessage) -> None:
        from bot.channels.sms import Inbound

        assert self._on_new_message is not None
        inbound = Inbound(
            message_sid=message.message_sid,
            phone=message.phone,
            to=message.to,
            body=message.body,
            num_media=message.num_media,
            sender_id=message.sender_id,
        )
        try:
            state = await asyncio.to_thread(self.queues.store.contact, message.sender_id)
        except Exception:  # noqa: BLE001
            state = None
        await self.process(
            self._on_new_message, inbound, state or ContactState(message.sender_id, False), message.attempts
        )

    async def process(
        self,
        on_new_message: OnNewMessage,
        inbound: Inbound,
        state: ContactState,
        attempts: int = 1,
        arrived: Optional[float] = None,
    ) -> None:
        """Handle one message to the end (see the module docstring). ``arrived``: the event
        loop's time when the webhook got it (the crisis lines are due from then)."""
        sid = inbound.message_sid
        arrived = arrived if arrived is not None else asyncio.get_running_loop().time()
        self._in_hand.add(sid)
        handling = _Handling()
        if attempts > 1:
            try:
                handling.sent = await asyncio.to_thread(self.queues.sent_before, sid)
            except Exception:  # noqa: BLE001
                handling.sent = []
        crisis = crisis_now.crisis_response(inbound.body) if inbound.body else None
        can_text = not state.opted_out and self.channel.sender is not None
        turn_done = asyncio.Event()
        watcher = (
            asyncio.ensure_future(self._crisis_soon(inbound, crisis, turn_done, handling, arrived))
            if crisis and can_text and not handling.sent
            else None
        )
        try:
            async with self.channel._sender_lock(inbound.sender_id):
                heartbeat = asyncio.ensure_future(self._heartbeat(sid))
                try:
                    parts = await self._turn_or_saved(on_new_message, inbound, handling, attempts)
                except Exception:  # noqa: BLE001 - e.g. the conversation could not be read or saved
                    logger.exception("sms: handling a message failed (sender %s)", inbound.sender_id)
                    parts = None
                finally:
                    heartbeat.cancel()
                    turn_done.set()
                if watcher is not None:
                    await watcher
                if parts is None:
                    await self._failed(inbound, state, crisis, handling, attempts)
                    return
                await self._complete(inbound, parts)
        finally:
            self._in_hand.discard(sid)

    async def _heartbeat(self, sid: str) -> None:
        while True:
            await asyncio.sleep(max(1.0, self.settings.lease_seconds / 3))
            try:
                await asyncio.to_thread(self.queues.renew, [sid])
            except Exception:  # noqa: BLE001 - the database is away; the lease may run out
                logger.warning("sms: could not renew the lease of a message being handled")

    async def _turn_or_saved(
        self, on_new_message: OnNewMessage, inbound: Inbound, handling: _Handling, attempts: int
    ) -> List[str]:
        if attempts > 1:
            saved = await self._saved_replies(inbound)
            if saved is not None:
                logger.warning("sms: the turn of a message handled again was saved already; not run twice")
                return [p for p in saved if p not in handling.sent]

        def skip() -> List[str]:
            handling.turn_returned = True
            return list(handling.sent)

        return await self.channel.turn(on_new_message, inbound, skip=skip)

    async def _saved_replies(self, inbound: Inbound) -> Optional[List[str]]:
        """The reply parts of this message's turn when the conversation has it already, else None."""
        store = getattr(self._agent, "tracker_store", None)
        if store is None:
            return None
        tracker = await store.retrieve(inbound.sender_id)
        if tracker is None:
            return None
        events = [e.as_dict() for e in tracker.events]
        start = next(
            (
                i
                for i, e in enumerate(events)
                if e.get("event") == "user" and e.get("message_id") == inbound.message_sid
            ),
            None,
        )
        if start is None:
            return None
        messages: List[Dict[str, Any]] = []
        for event in events[start + 1 :]:
            if event.get("event") == "user":
                break
            if event.get("event") == "bot":
                # a summary link is stored as a reference; the link is added on the way out (#10)
                text = expand_references(str(event.get("text") or ""))
                messages.append({"text": text, **(event.get("data") or {})})
        parts, _ = render_replies(messages)
        return parts

    async def _crisis_soon(
        self, inbound: Inbound, response: str, turn_done: asyncio.Event, handling: _Handling, arrived: float
    ) -> None:
        left = arrived + self.settings.crisis_wait - asyncio.get_running_loop().time()
        try:
            await asyncio.wait_for(turn_done.wait(), timeout=max(0.0, left))
            return
        except asyncio.TimeoutError:
            pass
        if handling.turn_returned:
            return
        logger.error(
            "sms: a crisis message's turn did not finish within %.1f s; texting the crisis lines now "
            "(sender %s)",
            self.settings.crisis_wait,
            inbound.sender_id,
        )
        await self.send_crisis_lines(inbound, response, handling)

    async def send_crisis_lines(self, inbound: Inbound, response: str, handling: _Handling) -> None:
        """The crisis response straight to the provider (not through the queue: it must not wait
        for a database); noted in the outbox afterwards so a restart does not send it twice."""
        assert self.channel.sender is not None and self.channel.config is not None
        text = render_message(crisis_now.crisis_message(self._domain(), response, "twilio"))
        if not text:
            return
        handling.sent.append(text)
        from_number = self.channel.config.from_number or inbound.to
        try:
            provider_sid = await self.channel.sender.send(inbound.phone, text, from_number=from_number)
        except SmsSendError as exc:
            handling.sent.remove(text)
            logger.error("sms: the crisis lines could not be texted at once (%s); queued instead", exc)
            return
        try:
            await asyncio.wait_for(
                asyncio.to_thread(
                    self.queues.record_sent,
                    inbound.sender_id,
                    inbound.message_sid,
                    "crisis",
                    text,
                    provider_sid,
                    from_number,
                ),
                timeout=5,
            )
        except Exception:  # noqa: BLE001 - only a repeat after a restart depends on it
            logger.warning("sms: could not note the crisis lines sent to %s", inbound.sender_id)

    def _domain(self) -> Any:
        return getattr(self._agent, "domain", None)

    async def _complete(self, inbound: Inbound, parts: List[str]) -> None:
        assert self.channel.config is not None
        from_number = self.channel.config.from_number or inbound.to
        if self.pump is None:
            parts = []  # TwiML mode: the replies went out in the webhook's response, or cannot go out
        try:
            await asyncio.to_thread(
                self.queues.complete, inbound.message_sid, inbound.sender_id, parts, from_number
            )
        except Exception:  # noqa: BLE001 - the database is away: note it locally, send directly
            logger.exception("sms: could not mark a message handled; noting it in the spool")
            await asyncio.to_thread(self.spool.handled, inbound.message_sid)
            await self._send_directly(inbound, parts, from_number)
            return
        if self.pump is not None:
            self.pump.kick()

    async def _send_directly(self, inbound: Inbound, parts: List[str], from_number: str) -> None:
        if self.channel.sender is None:
            return
        for part in parts:
            try:
                await self.channel.sender.send(inbound.phone, part, from_number=from_number)
            except SmsSendError as exc:
                logger.error("sms: a reply part to %s could not be sent (%s)", inbound.sender_id, exc)
                return

    async def _failed(
        self,
        inbound: Inbound,
        state: ContactState,
        crisis: Optional[str],
        handling: _Handling,
        attempts: int,
    ) -> None:
        """The turn failed: the crisis lines (or the apology) now, the message handled again later."""
        texts = self.channel.texts
        assert texts is not None
        if not state.opted_out and self.channel.sender is not None:
            if crisis and not handling.sent:
                await self.send_crisis_lines(inbound, crisis, handling)
            elif attempts == 1 and not handling.sent:
                await self._send_directly(
                    inbound,
                    [texts.error],
                    (self.channel.config.from_number if self.channel.config else "") or inbound.to,
                )
        if attempts >= MAX_ATTEMPTS:
            logger.error(
                "sms: gave up on a message after %d attempts (sender %s)", attempts, inbound.sender_id
            )
            try:
                await asyncio.to_thread(
                    self.queues.complete, inbound.message_sid, inbound.sender_id, [], None
                )
            except Exception:  # noqa: BLE001
                logger.exception("sms: could not mark a message given up")
            return
        try:
            await asyncio.to_thread(self.queues.release, inbound.message_sid, RETRY_AFTER_SECONDS)
        except Exception:  # noqa: BLE001 - the database is away: give it back once it is here again
            logger.warning("sms: could not give a failed message back yet; trying again")
            self.channel._spawn(self._release_later(inbound.message_sid))

    async def _release_later(self, sid: str) -> None:
        """Give a failed message back as soon as the database takes writes again, rather than
        leave it until its lease runs out (up to SMS_INBOX_LEASE_SECONDS after the database is
        back); past the lease it is claimable anyway."""
        deadline = asyncio.get_running_loop().time() + self.settings.lease_seconds
        while not self._stopping and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(RELEASE_RETRY_SECONDS)
            if sid in self._in_hand:
                return  # handled again meanwhile
            try:
                await asyncio.to_thread(self.queues.release, sid, RETRY_AFTER_SECONDS)
                return
            except Exception:  # noqa: BLE001 - still away
                logger.debug("sms: the database is still away; a failed message waits to be given back")


__all__ = ["CLAIMED", "HANDLED", "IN_HAND", "NEW", "InboxSettings", "SmsInbox"]
