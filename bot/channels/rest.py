"""The REST channel for scripts and tests: POST /webhooks/rest/webhook, behind the token.

Rasa's own ``rest`` channel lets anyone who reaches the port write into and read any
conversation (web chat, SMS) by naming its sender id, send ``/intent{...}`` past the
safety guard, and set ``input_channel`` and ``metadata`` to anything. This one, at the
same path and with the same request and reply shape (``{"sender": ..., "message": ...}``
in, a list of bot messages out), closes each door:

* it needs ``RASA_AUTH_TOKEN``: ``Authorization: Bearer <token>`` or ``?token=<token>``,
  compared in constant time; 401 otherwise, and 503 while no token is configured;
* the sender id must start with ``rest-`` (403 otherwise), so it can never address a web
  or SMS conversation (theirs are made by those channels and never start so);
* the client's ``metadata`` and ``input_channel`` are ignored (the channel is ``rest``);
* text goes through the slash guard every channel applies: a leading "/" passes only for
  a button payload the assistant offers (the domain's buttons, or ones sent in this
  conversation); invisible characters are removed;
* a message is capped at MAX_MESSAGE_CHARS with a polite 400, except that an over-long
  message the risk check flags still takes the crisis path (its flagged stretch);
* a crisis message whose turn does not finish within CRISIS_REPLY_WAIT_SECONDS is answered
  with the crisis response at once, the turn going on (bot/channels/crisis_now.py); a turn
  whose conversation could not be read or saved is a 503 that carries the crisis lines.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import crisis_now
from bot.channels.typed_text import TypedText, payloads_sent, tracker_events
from bot.channels.webchat_page import load_web_texts
from bot.channels.webchat_text import InvalidMessage

logger = logging.getLogger(__name__)

SENDER_PREFIX = "rest-"
MAX_SENDER_CHARS = 128


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status)


_SENDER_CHARS = re.compile(r"[\x21-\x7e]+")


class AuthenticatedRestInput(InputChannel):
    """``rest`` in credentials.yml's place: the same URL, behind RASA_AUTH_TOKEN."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> AuthenticatedRestInput:
        return cls(
            token=os.environ.get("RASA_AUTH_TOKEN", ""), crisis_wait=crisis_now.wait_seconds(os.environ)
        )

    def __init__(self, token: str = "", crisis_wait: float = crisis_now.DEFAULT_WAIT_SECONDS) -> None:
        self.token = token.strip()
        self.crisis_wait = crisis_wait
        self.server_error_text = load_web_texts().server_error  # names the crisis lines
        self._turns: Set[asyncio.Task[Any]] = set()
        self.typed = TypedText("REST channel", self._sent_payloads)
        if not self.token:
            logger.error("REST channel: RASA_AUTH_TOKEN is not set; every request gets 503")

    # --- checks ---------------------------------------------------------------------------
    def authorised(self, request: Request) -> bool:
        given = ""
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            given = header[7:].strip()
        elif request.args.get("token"):
            given = str(request.args.get("token"))
        return bool(given) and hmac.compare_digest(
            given.encode("utf-8", "surrogatepass"), self.token.encode("utf-8")
        )

    async def _sent_payloads(self, request: Request, sender_id: str) -> Set[str]:
        return payloads_sent(await tracker_events(request, sender_id))

    async def text_for_rasa(self, request: Request, sender_id: str, raw: Any) -> str:
        return await self.typed.text_for_rasa(request, sender_id, raw)

    async def run_turn(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender: str,
        text: str,
    ) -> HTTPResponse:
        collector = CollectingOutputChannel()
        crisis = crisis_now.crisis_response(text)
        domain = getattr(getattr(request.app.ctx, "agent", None), "domain", None)
        # never cancelled (a closed connection must not stop a turn half-saved)
        turn = asyncio.ensure_future(
            on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=None))
        )
        self._turns.add(turn)
        turn.add_done_callback(self._turn_done)
        if crisis is not None:
            done, _ = await asyncio.wait({turn}, timeout=self.crisis_wait)
            if not done:
                logger.error(
                    "REST channel: a crisis message's turn did not finish within %.1f s; answered with "
                    "the crisis lines, the turn goes on (%s)",
                    self.crisis_wait,
                    sender,
                )
                return response.json(crisis_now.with_crisis_lines(list(collector.messages), domain, crisis))
        try:
            await asyncio.shield(turn)
        except Exception as exc:  # noqa: BLE001 - e.g. the conversation could not be read or saved
            logger.error("REST channel: the turn failed (%s, %s)", type(exc).__name__, sender)
            message = crisis_now.crisis_message(domain, crisis)["text"] if crisis else self.server_error_text
            return _error(503, "server_error", message)
        messages: List[Dict[str, Any]] = collector.messages
        return response.json(messages)

    def _turn_done(self, task: asyncio.Task[Any]) -> None:
        self._turns.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("REST channel: a turn failed (%s)", type(task.exception()).__name__)

    # --- the endpoints --------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("trd_rest_webhook", __name__)
        crisis_now.warm()  # the first crisis message must not wait for the lexicon to load

        @webhook.listener("after_server_start")
        async def warm_up(app: Any, loop: Any) -> None:
            await crisis_now.warm_agent(app)  # the model's first inference, before anyone waits on it

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.token:
                return _error(503, "not_configured", "The REST channel has no RASA_AUTH_TOKEN.")
            if not self.authorised(request):
                return _error(401, "unauthorised", "Send the token: Authorization: Bearer <token>.")
            try:
                body = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..."
                return _error(400, "invalid_json", 'Send JSON like {"sender": "rest-1", "message": "hi"}.')
            if not isinstance(body, dict) or "message" not in body:
                return _error(400, "missing_message", 'Send JSON like {"sender": "rest-1", "message": "hi"}.')
            raw_sender = body.get("sender")
            sender = raw_sender if isinstance(raw_sender, str) else ""
            if (
                not sender.startswith(SENDER_PREFIX)
                or len(sender) > MAX_SENDER_CHARS
                or not _SENDER_CHARS.fullmatch(sender)  # printable ASCII: it names database rows
            ):
                return _error(
                    403,
                    "sender_not_allowed",
                    f"The sender id must start with {SENDER_PREFIX!r} "
                    f"(at most {MAX_SENDER_CHARS} characters).",
                )
            try:
                text = await self.text_for_rasa(request, sender, body["message"])
            except InvalidMessage as e:
                return _error(400, "invalid_message", str(e))
            return await self.run_turn(request, on_new_message, sender, text)

        return webhook
