"""The SMS channel: Twilio's messaging webhook, signature-checked, with SMS formatting and opt-outs.

Listed in credentials.yml as ``bot.channels.sms.TwilioSmsInput:`` (no
parameters); configured from the environment (see :class:`SmsConfig`). Its name
is "twilio", so Rasa records ``input_channel: twilio`` and picks the domain
responses' ``channel: twilio`` variants (the crisis messages' SMS wording, which
leads with the text options). Route (Rasa mounts channels at /webhooks/<prefix>):

    POST /webhooks/twilio/webhook   Twilio's incoming-message webhook (form-encoded)
    GET  /webhooks/twilio/          health

Every request
1. is refused with 503 while the channel is not configured (TWILIO_AUTH_TOKEN,
   PUBLIC_BASE_URL, PHONE_HASH_SECRET, and for REST replies TWILIO_ACCOUNT_SID);
   the reason is logged. It never runs unsigned.
2. must carry a valid X-Twilio-Signature: HMAC-SHA1 keyed with the auth token over
   the public URL (PUBLIC_BASE_URL + path + query string) followed by every POST
   parameter's name and value, sorted by name; base64. Else 403.
3. must have From, MessageSid and a non-empty Body (400 otherwise; a picture
   with no words gets a polite "please type" reply instead, so nobody is met
   with silence).
4. is written to the inbox by MessageSid (unique), encrypted, before the 200, and marked
   handled only after its turn was saved and its replies queued (bot/channels/sms_inbox.py,
   trd/sms/queues.py); a provider retry of a handled message gets 200 with empty TwiML and
   is not handled again, a retry of one whose handler died is handled. Unhandled messages
   are handled at start-up and every SMS_INBOX_POLL_SECONDS. Replies go through a durable
   outbox, part by part. A crisis message whose turn does not finish within
   CRISIS_REPLY_WAIT_SECONDS gets the crisis lines at once.

The phone number becomes the sender id only through a keyed hash and is kept
encrypted in trd_sms_contacts (``trd.sms.store``); it is passed to
Rasa neither as sender id nor in metadata, and never logged.

Keywords (the whole message): STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT
opt out, confirmed once (the confirmation names the Lifeline). While opted out nothing
is sent; but every other message still goes through Rasa, so a crisis is
recorded and escalated to the care team. The crisis reply itself is NOT texted
to an opted-out person: carriers forbid any message after STOP except its
confirmation (and Twilio blocks them). START, UNSTOP or YES from an opted-out
person opt back in (from anyone else they are ordinary messages). HELP or INFO
is answered with what the service is and the crisis lines, also when opted out
(an answer the person asked for; carriers require HELP to be answered).
Keywords are handled by the channel and not passed to Rasa. Their texts come
from data/knowledge/crisis_resources.yml.

Replies: by default (SMS_REPLY_MODE=rest) the webhook answers at once with empty
TwiML and a background task handles the message and sends the replies through
the REST API (retries with backoff). With SMS_REPLY_MODE=twiml the replies are
returned in the webhook response as <Message> elements (the turn must finish
within TWIML_TIMEOUT_SECONDS; else an apology naming the crisis line is returned).
Messages of one sender are handled one at a time, in order of arrival.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
)
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from xml.sax.saxutils import escape

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.tracker_store import TrackerStoreUnavailable
from trd.knowledge import KnowledgeError
from trd.knowledge.crisis_resources import CRISIS_RESOURCES_FILE, load_crisis_resources
from trd.paths import REPO_ROOT
from trd.sms.format import (
    SmsTexts,
    build_sms_texts,
    keyword_of,
    normalize_inbound,
    render_message,
    render_replies,
    text_for_rasa,
)
from trd.sms.sender import DEFAULT_API_BASE, AioHttpTwilioSender, SmsSender
from trd.sms.store import ContactState, SmsConfigError, SmsStore

logger = logging.getLogger(__name__)

CHANNEL_NAME = "twilio"
ROOT = REPO_ROOT
DEFAULT_SERVICE_NAME = "TRD Navigator"
MAX_BODY_BYTES = 64 * 1024
MAX_FORM_FIELDS = 200
RASA_TIMEOUT_SECONDS = 60.0
TWIML_TIMEOUT_SECONDS = 12.0
DRAIN_TIMEOUT_SECONDS = 10.0
REFUSAL_LOG_INTERVAL_SECONDS = 60.0

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_FROM_PATTERN = re.compile(r"^[A-Za-z0-9+:@._\-]{2,64}$")
_SID_PATTERN = re.compile(r"^[A-Za-z0-9]{2,64}$")


# --- the signature ------------------------------------------------------------------------------


def compute_signature(auth_token: str, url: str, params: Sequence[Tuple[str, str]]) -> str:
    """Twilio's X-Twilio-Signature for a form POST.

    The URL, then for each parameter name in sorted order its name and value
    (several values of one name: sorted, each once), HMAC-SHA1 keyed with the auth
    token, base64.
    """
    values: Dict[str, Set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> List[str]:
    """The URL as given, without its port, and with the scheme's default port.

    Twilio signs some requests with the port and some without; its own
    validators accept both, and so do we.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    default_port = 443 if parts.scheme == "https" else 80
    without = urlunsplit(parts._replace(netloc=userinfo + host))
    with_port = urlunsplit(parts._replace(netloc=f"{userinfo}{host}:{parts.port or default_port}"))
    out: List[str] = []
    for candidate in (url, without, with_port):
        if candidate not in out:
            out.append(candidate)
    return out


def signature_valid(
    auth_token: str, url: str, params: Sequence[Tuple[str, str]], signature: Optional[str]
) -> bool:
    if not signature or not auth_token:
        return False
    given = signature.strip().encode("utf-8")
    ok = False
    for candidate in url_variants(url):
        expected = compute_signature(auth_token, candidate, params).encode("ascii")
        ok |= hmac.compare_digest(expected, given)
    return ok


# --- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsConfig:
    """The channel's settings, from the environment.

    TWILIO_AUTH_TOKEN      checks every request's signature; basic-auth password for replies. Required.
    PUBLIC_BASE_URL        the address Twilio calls (e.g. https://chat.example.org): signatures cover it.
    PHONE_HASH_SECRET      keys the hash that turns numbers into sender ids (trd.sms.store).
    SMS_ENCRYPTION_KEY     encrypts stored numbers; unset: derived from PHONE_HASH_SECRET.
    SMS_REPLY_MODE         "rest" (default: replies via the REST API) or "twiml" (in the webhook response).
    TWILIO_ACCOUNT_SID     the account replies are sent from (required in rest mode).
    TWILIO_FROM_NUMBER     the number replies come from; unset: the number the person texted.
    TWILIO_API_BASE        the REST API's address (default https://api.twilio.com).
    SMS_SERVICE_NAME       the name used in HELP/STOP texts (default "TRD Navigator").
    SMS_SEND_MAX_ATTEMPTS  tries per outgoing SMS on network errors, 5xx and 429 (default 4).
    """

    auth_token: str
    public_base_url: str
    reply_mode: str = "rest"
    account_sid: str = ""
    from_number: str = ""
    api_base: str = DEFAULT_API_BASE
    service_name: str = DEFAULT_SERVICE_NAME
    send_max_attempts: int = 4

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmsConfig:
        """The settings; raises SmsConfigError naming what is missing or wrong."""
        auth_token = env.get("TWILIO_AUTH_TOKEN", "").strip()
        if not auth_token:
            raise SmsConfigError("TWILIO_AUTH_TOKEN is not set, so request signatures cannot be checked")
        base = env.get("PUBLIC_BASE_URL", "").strip().rstrip("/")
        parts = urlsplit(base)
        if not base or parts.scheme not in ("http", "https") or not parts.hostname:
            raise SmsConfigError(
                "PUBLIC_BASE_URL must be the public http(s) address Twilio calls "
                "(e.g. https://chat.example.org); request signatures cover it"
            )
        mode = (env.get("SMS_REPLY_MODE", "").strip() or "rest").lower()
        if mode not in ("rest", "twiml"):
            raise SmsConfigError(f"SMS_REPLY_MODE must be 'rest' or 'twiml', not {mode!r}")
        account_sid = env.get("TWILIO_ACCOUNT_SID", "").strip()
        if mode == "rest" and not account_sid:
            raise SmsConfigError(
                "TWILIO_ACCOUNT_SID is not set, so replies cannot be sent (or set SMS_REPLY_MODE=twiml)"
            )
        api_base = env.get("TWILIO_API_BASE", "").strip() or DEFAULT_API_BASE
        if urlsplit(api_base).scheme not in ("http", "https"):
            raise SmsConfigError(f"TWILIO_API_BASE must be an http(s) URL, not {api_base!r}")
        attempts_text = env.get("SMS_SEND_MAX_ATTEMPTS", "").strip() or "4"
        try:
            attempts = int(attempts_text)
        except ValueError:
            raise SmsConfigError(
                f"SMS_SEND_MAX_ATTEMPTS must be a whole number, not {attempts_text!r}"
            ) from None
        if not 1 <= attempts <= 10:
            raise SmsConfigError("SMS_SEND_MAX_ATTEMPTS must be between 1 and 10")
        return cls(
            auth_token=auth_token,
            public_base_url=base,
            reply_mode=mode,
            account_sid=account_sid,
            from_number=env.get("TWILIO_FROM_NUMBER", "").strip(),
            api_base=api_base,
            service_name=env.get("SMS_SERVICE_NAME", "").strip() or DEFAULT_SERVICE_NAME,
            send_max_attempts=attempts,
        )


def load_sms_texts(path: Path = CRISIS_RESOURCES_FILE, service: str = DEFAULT_SERVICE_NAME) -> SmsTexts:
    """The channel's own texts, with the crisis numbers from the resources data file."""
    try:
        data = load_crisis_resources(path).document()
    except KnowledgeError as exc:
        raise SmsConfigError(f"cannot read the crisis resources {path}: {exc}") from exc
    try:
        return build_sms_texts(data, service)
    except ValueError as exc:
        raise SmsConfigError(f"{path}: {exc}") from exc


# --- one inbound message ------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    message_sid: str
    phone: str
    to: str
    body: str
    num_media: int
    sender_id: str


class SmsOutputChannel(CollectingOutputChannel):
    """Collects the bot's messages of one turn; named "twilio" so the SMS response variants are chosen."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        # One message per response (the SMS formatter packs and splits), not one per paragraph.
        if text and text.strip():
            await self._persist_message(self._message(recipient_id, text=text.strip()))


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_form(body: bytes) -> List[Tuple[str, str]]:
    """The (name, value) pairs of a form-encoded body; raises BadRequest if it is not one."""
    try:
        text = body.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(400, "The request body is not form-encoded UTF-8.") from None


def twiml(parts: Sequence[str]) -> str:
    messages = "".join(f"<Message>{escape(p)}</Message>" for p in parts)
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{messages}</Response>'


def _plain(status: int, message: str) -> HTTPResponse:
    return response.text(message, status=status, headers={"Cache-Control": "no-store"})


def _twiml_response(parts: Sequence[str] = ()) -> HTTPResponse:
    return response.text(twiml(parts), status=200, content_type="application/xml; charset=utf-8")


# --- the channel --------------------------------------------------------------------------------


class TwilioSmsInput(InputChannel):
    """Twilio's messaging webhook as a Rasa input channel."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> TwilioSmsInput:
        if credentials:
            logger.warning("sms: settings in credentials.yml are ignored; the channel reads the environment")
        return cls.from_env(os.environ)

    @classmethod
    def from_env(cls, env: Mapping[str, str], texts_file: Path = CRISIS_RESOURCES_FILE) -> TwilioSmsInput:
        """The channel; disabled (every request 503, reason logged) when its settings are incomplete."""
        from bot.channels.sms_inbox import InboxSettings

        try:
            config = SmsConfig.from_env(env)
            store = SmsStore.from_env(env)
            texts = load_sms_texts(texts_file, config.service_name)
            inbox_settings = InboxSettings.from_env(env)
        except SmsConfigError as exc:
            reason = str(exc)
            logger.error("sms: the SMS channel is disabled and refuses every request (503): %s", reason)
            return cls(None, None, None, None, disabled_reason=reason)
        sender: Optional[SmsSender] = None
        if config.reply_mode == "rest":
            sender = AioHttpTwilioSender(
                config.account_sid,
                config.auth_token,
                from_number=config.from_number or None,
                api_base=config.api_base,
                max_attempts=config.send_max_attempts,
            )
        logger.info("sms: the SMS channel is ready (replies: %s)", config.reply_mode)
        return cls(config, store, sender, texts, inbox_settings=inbox_settings)

    def __init__(
        self,
        config: Optional[SmsConfig],
        store: Optional[SmsStore],
        sender: Optional[SmsSender],
        texts: Optional[SmsTexts],
        disabled_reason: Optional[str] = None,
        inbox_settings: Any = None,
    ) -> None:
        if disabled_reason is None and (config is None or store is None or texts is None):
            disabled_reason = "the SMS channel is not configured"
        if disabled_reason is None and config is not None and config.reply_mode == "rest" and sender is None:
            disabled_reason = "rest replies need a sender"
        self.config = config
        self.store = store
        self.sender = sender
        self.texts = texts
        self.disabled_reason = disabled_reason
        self.rasa_timeout = RASA_TIMEOUT_SECONDS
        self.twiml_timeout = TWIML_TIMEOUT_SECONDS
        self._locks: Dict[str, Tuple[asyncio.Lock, int]] = {}
        self._tasks: Set[asyncio.Task[Any]] = set()
        self._last_refusal_log = 0.0
        self.inbox: Any = None  # the inbox and outbox (bot/channels/sms_inbox.py)
        if self.disabled_reason is None and store is not None:
            from bot.channels.sms_inbox import InboxSettings, SmsInbox

            self.inbox = SmsInbox(self, store, inbox_settings or InboxSettings())

    def url_prefix(self) -> str:
        return CHANNEL_NAME

    # --- helpers ---------------------------------------------------------------------------

    def public_url(self, request: Request) -> str:
        assert self.config is not None
        url = self.config.public_base_url + request.path
        if request.query_string:
            url += "?" + request.query_string
        return url

    def _log_refusal(self) -> None:
        now = time.monotonic()
        if now - self._last_refusal_log >= REFUSAL_LOG_INTERVAL_SECONDS or not self._last_refusal_log:
            self._last_refusal_log = now
            logger.error(
                "sms: refused a request with 503 because the channel is disabled: %s", self.disabled_reason
            )

    @contextlib.asynccontextmanager
    async def _sender_lock(self, sender_id: str) -> AsyncIterator[None]:
        """One message per sender at a time, in arrival order (asyncio.Lock is first-come first-served)."""
        lock, users = self._locks.get(sender_id) or (asyncio.Lock(), 0)
        self._locks[sender_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[sender_id]
            if users <= 1:
                del self._locks[sender_id]
            else:
                self._locks[sender_id] = (lock, users - 1)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("sms: a background task failed", exc_info=task.exception())

    async def drain(self, timeout: float = DRAIN_TIMEOUT_SECONDS) -> None:
        """Wait (bounded) for messages being handled, then close the sender."""
        if self._tasks:
            done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                logger.warning("sms: %d message(s) still being handled at shutdown", len(pending))
        if self.sender is not None:
            await self.sender.close()

    def validate(self, params: Sequence[Tuple[str, str]]) -> Inbound:
        """The message in a verified request; raises BadRequest (400) for a missing or bad field."""
        assert self.store is not None
        fields: Dict[str, str] = {}
        for name, value in params:
            fields.setdefault(name, value)
        phone = fields.get("From", "").strip()
        if not phone:
            raise BadRequest(400, "From is missing.")
        if not _FROM_PATTERN.match(phone):
            raise BadRequest(400, "From is not a phone address.")
        sid = (fields.get("MessageSid") or fields.get("SmsSid") or "").strip()
        if not sid or not _SID_PATTERN.match(sid):
            raise BadRequest(400, "MessageSid is missing or malformed.")
        if "Body" not in fields:
            raise BadRequest(400, "Body is missing.")
        try:
            num_media = max(0, int(fields.get("NumMedia", "0") or 0))
        except ValueError:
            num_media = 0
        body = normalize_inbound(fields["Body"])
        if not body and num_media == 0:
            raise BadRequest(400, "Body is empty.")
        return Inbound(
            message_sid=sid,
            phone=phone,
            to=fields.get("To", "").strip(),
            body=body,
            num_media=num_media,
            sender_id=self.store.sender_id_for(phone),
        )

    # --- handling a message ------------------------------------------------------------------

    async def _ask_rasa(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        inbound: Inbound,
        text: str,
        state: ContactState,
        mapped: bool,
    ) -> Tuple[List[Dict[str, Any]], bool]:
        """(the bot's messages, whether handling failed)."""
        collector = SmsOutputChannel()
        message = UserMessage(
            text,
            collector,
            inbound.sender_id,
            input_channel=CHANNEL_NAME,
            message_id=inbound.message_sid,
            # No phone number here: metadata is stored in the tracker's events.
            metadata={
                "sms": {"num_media": inbound.num_media, "opted_out": state.opted_out, "button": mapped}
            },
        )
        # Never cancelled: a slow turn is not stopped half-saved. After rasa_timeout it is
        # waited for a while longer (it still ends: actions time out, locks expire); only a
        # turn that outlives that too is left to finish on its own.
        turn = self._spawn(on_new_message(message))
        done, _ = await asyncio.wait({turn}, timeout=self.rasa_timeout)
        if not done:
            logger.error(
                "sms: a turn is taking longer than %.0fs (sender %s)", self.rasa_timeout, inbound.sender_id
            )
            done, _ = await asyncio.wait({turn}, timeout=self.rasa_timeout * 4)
        if not done:
            return list(collector.messages), True
        error = turn.exception()
        if isinstance(error, TrackerStoreUnavailable):
            raise error  # the conversation was not read or saved: the inbox handles it again later
        if error is not None:
            logger.error(
                "sms: handling a message failed (sender %s): %s", inbound.sender_id, type(error).__name__
            )
            return list(collector.messages), True
        return list(collector.messages), False

    async def turn(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        inbound: Inbound,
        skip: Optional[Callable[[], Sequence[str]]] = None,
    ) -> List[str]:
        """Handle one message (the caller holds the sender's lock); returns the SMS parts to send."""
        assert self.store is not None and self.texts is not None
        store, texts, sender_id = self.store, self.texts, inbound.sender_id
        try:
            state = await asyncio.to_thread(store.contact, sender_id) or ContactState(sender_id, False)
        except Exception:  # noqa: BLE001 - still let Rasa see the message (a crisis must be answered)
            logger.exception(
                "sms: reading the SMS state of %s failed; handling the message without it", sender_id
            )
            state = ContactState(sender_id, False)
        keyword = keyword_of(inbound.body) if inbound.body else None
        if keyword == "stop":
            changed = await asyncio.to_thread(store.set_opted_out, sender_id, True)
            logger.info("sms: %s opted out%s", sender_id, "" if changed else " (already)")
            return [texts.stop] if changed else []
        if keyword == "help":
            return [texts.help]
        if keyword == "start" and state.opted_out:
            await asyncio.to_thread(store.set_opted_out, sender_id, False)
            logger.info("sms: %s opted in again", sender_id)
            return [texts.start]

        text, mapped = text_for_rasa(inbound.body, state.last_buttons)
        if not text:
            return [] if state.opted_out else [texts.unreadable]
        messages, failed = await self._ask_rasa(on_new_message, inbound, text, state, mapped)
        sent = skip() if skip is not None else ()
        if sent:  # the crisis lines texted before the turn ended are not texted again
            messages = [m for m in messages if render_message(m) not in sent]
        parts, buttons = render_replies(messages)
        if failed and not parts:
            parts = [texts.error]
        if state.opted_out:
            if parts:
                logger.info("sms: %s has opted out; %d reply part(s) not sent", sender_id, len(parts))
            return []
        try:
            await asyncio.to_thread(store.set_last_buttons, sender_id, buttons)
        except Exception:  # noqa: BLE001 - the reply matters more than remembering its options
            logger.exception("sms: remembering the options offered to %s failed", sender_id)
        return parts

    async def handle_twiml(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], inbound: Inbound, state: ContactState
    ) -> List[str]:
        """TwiML mode: the replies for the webhook response (an apology if the turn is too slow)."""
        assert self.texts is not None
        apology = [] if state.opted_out else [self.texts.error]
        inbox = self.inbox

        async def locked() -> List[str]:
            async with self._sender_lock(inbound.sender_id):
                try:
                    parts = await self.turn(on_new_message, inbound)
                except Exception:  # noqa: BLE001 - e.g. the database is down: still answer
                    logger.exception("sms: handling a message failed (sender %s)", inbound.sender_id)
                    if inbox is not None:  # handled again later (its replies cannot be sent then)
                        with contextlib.suppress(Exception):
                            await asyncio.to_thread(inbox.queues.release, inbound.message_sid, 30.0)
                    return apology
                if inbox is not None:
                    await inbox._complete(inbound, [])
                return parts

        from bot.channels import crisis_now

        crisis = crisis_now.crisis_response(inbound.body) if inbound.body else None
        wait = self.twiml_timeout
        if crisis and inbox is not None:
            wait = min(wait, inbox.settings.crisis_wait)
        task = self._spawn(locked())  # tracked, so a slow turn still finishes and is drained at shutdown
        try:
            result: List[str] = await asyncio.wait_for(asyncio.shield(task), timeout=wait)
            return result
        except asyncio.TimeoutError:
            if crisis and not state.opted_out:
                logger.error("sms: a crisis message's turn is slow; answering with the crisis lines (TwiML)")
                domain = getattr(inbox, "_agent", None) if inbox is not None else None
                message = crisis_now.crisis_message(getattr(domain, "domain", None), crisis, "twilio")
                text = render_message(message)
                return [text] if text else apology
            logger.error(
                "sms: the reply to %s took longer than %.1fs; it will not be sent (TwiML mode)",
                inbound.sender_id,
                self.twiml_timeout,
            )
            return apology

    # --- the blueprint -----------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sms = Blueprint("trd_twilio_sms", __name__)

        @sms.listener("after_server_start")
        async def start_inbox(app: Any, loop: Any) -> None:
            if self.inbox is not None:  # unhandled messages (e.g. of a crashed server) and the outbox
                self.inbox.start(app, on_new_message)

        @sms.listener("before_server_stop")
        async def drain(app: Any, loop: Any) -> None:
            if self.inbox is not None:
                await self.inbox.stop()
            await self.drain()

        @sms.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.disabled_reason is None else "unavailable"})

        @sms.route("/checkin", methods=["POST"])
        async def checkin(request: Request) -> HTTPResponse:
            # The check-in scheduler's route (#12): bot/channels/sms_checkin.py.
            from bot.channels.sms_checkin import handle_trigger

            return await handle_trigger(self, request, on_new_message)

        @sms.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if self.disabled_reason is not None or self.config is None or self.store is None:
                self._log_refusal()
                return _plain(503, "The SMS channel is not configured.")
            if len(request.body or b"") > MAX_BODY_BYTES:
                return _plain(413, "The request is too large.")
            content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            is_form = content_type in ("", "application/x-www-form-urlencoded")
            try:
                params = parse_form(request.body or b"") if is_form else []
            except BadRequest:
                params = None
            signature = request.headers.get("x-twilio-signature")
            if not signature_valid(self.config.auth_token, self.public_url(request), params or [], signature):
                logger.warning(
                    "sms: refused a request with a %s signature (403)", "bad" if signature else "missing"
                )
                return _plain(403, "Invalid request signature.")
            if params is None or not is_form:
                return _plain(400, "Expected a form-encoded body (application/x-www-form-urlencoded).")
            try:
                inbound = self.validate(params)
            except BadRequest as exc:
                logger.warning("sms: refused a signed request (%d): %s", exc.status, exc.message)
                return _plain(exc.status, exc.message)
            # Written to the inbox (or the local spool) before the 200: nothing acknowledged is lost.
            arrived = asyncio.get_running_loop().time()
            accepted = await self.inbox.accept(inbound)
            if self.inbox.is_duplicate(accepted):
                logger.info("sms: message %s was received before (%s)", inbound.message_sid, accepted.outcome)
                return _twiml_response()
            state = accepted.state or ContactState(inbound.sender_id, opted_out=False)
            if self.config.reply_mode == "twiml":
                return _twiml_response(await self.handle_twiml(on_new_message, inbound, state))
            self._spawn(self.inbox.process(on_new_message, inbound, state, accepted.attempts, arrived))
            return _twiml_response()

        return sms
