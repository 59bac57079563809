"""The web chat channel: a chat page served by the Rasa server, and the small JSON API it talks to.

Listed in credentials.yml as ``bot.channels.webchat.WebChatInput`` (no
parameters); configured from the environment:

    WEBCHAT_SECRET           HMAC key for session tokens (at least 32 characters).
                             Unset: a random key per process, so sessions end on restart.
    WEBCHAT_ALLOWED_ORIGINS  comma-separated exact origins allowed to call the API
                             (e.g. "https://chat.example.org"); no wildcard.
    PUBLIC_BASE_URL          the address people use; its origin is allowed too, and an
                             https address makes the session cookie Secure.
    WEBCHAT_SESSION_TTL      session lifetime in seconds (default 86400).

Routes (Rasa mounts the blueprint at urljoin("/webhooks/", "/chat") == "/chat"):

    GET  /chat/                 the page
    GET  /chat/static/<file>    the page's own JS and CSS (bot/web/static)
    GET  /chat/vendor/deep-chat.js   the chat widget, from bot/web/node_modules
    POST /chat/session          a new server-chosen session: {"token", "expires_at", "resumed"} + cookie;
                                {"resume": true} keeps the cookie's session if it is still valid
    POST /chat/message          {"message": "..."} -> {"messages": [{"text", "html", "buttons"}]}
    GET  /chat/history          the current conversation's messages, to resume after a reload
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, FrozenSet, Iterable, List, Set, Tuple
from urllib.parse import urlsplit

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.webchat_session import Session, SessionSigner, TokenError
from bot.channels.webchat_text import (
    MAX_MESSAGE_CHARS,
    InvalidMessage,
    button_payloads,
    guard_slash,
    message_buttons,
    normalize_user_text,
    render_bot_message,
)

logger = logging.getLogger(__name__)

CHANNEL_NAME = "web"
COOKIE_NAME = "trd_chat"
DEFAULT_SESSION_TTL = 24 * 3600
MAX_BODY_BYTES = 16 * 1024
MESSAGE_TIMEOUT_SECONDS = 60.0
WEB_DIR = Path(__file__).resolve().parent.parent / "web"

# What the page may load: name -> (path under bot/web, content type).
STATIC_FILES: Dict[str, Tuple[str, str]] = {
    "app.js": ("static/app.js", "text/javascript; charset=utf-8"),
    "app.css": ("static/app.css", "text/css; charset=utf-8"),
}
WIDGET_FILE = "node_modules/deep-chat/dist/deepChat.bundle.js"

# Shown when Rasa fails on a message; the page adds nothing to it.
SERVER_ERROR_TEXT = (
    "Sorry, something went wrong on our side and your message may not have been handled. "
    "If you need help now, call or text 988, or call 911 in an emergency."
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lowercased; None when it is not one."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def parse_allowed_origins(value: str, public_base_url: str = "") -> FrozenSet[str]:
    """The exact origins allowed to call the API. Raises ValueError for a wildcard or a non-origin."""
    origins: Set[str] = set()
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        if "*" in item:
            raise ValueError("WEBCHAT_ALLOWED_ORIGINS must list exact origins; a wildcard is not allowed")
        origin = origin_of(item)
        if origin is None or origin != item.rstrip("/").lower():
            raise ValueError(
                f"WEBCHAT_ALLOWED_ORIGINS: {item!r} is not an origin like https://chat.example.org"
            )
        origins.add(origin)
    if public_base_url.strip():
        base = origin_of(public_base_url)
        if base is None:
            raise ValueError(f"PUBLIC_BASE_URL: {public_base_url!r} is not an http(s) URL")
        origins.add(base)
    return frozenset(origins)


class WebOutputChannel(CollectingOutputChannel):
    """Collects the bot's messages for one request; named "web" for the tracker."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json(
        {"error": code, "message": message},
        status=status,
        headers={"Cache-Control": "no-store", **SECURITY_HEADERS},
    )


class WebChatInput(InputChannel):
    """The web chat page and its API, with server-issued sessions and an origin allow-list."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> WebChatInput:
        return cls.from_env(os.environ)

    @classmethod
    def from_env(cls, env: Any) -> WebChatInput:
        secret = env.get("WEBCHAT_SECRET", "")
        if not secret:
            logger.warning(
                "WEBCHAT_SECRET is not set: using a random key, so web chat sessions end when "
                "the server restarts. Set it (64 random hex digits) for a deployment."
            )
            secret = secrets.token_hex(32)
        ttl_text = env.get("WEBCHAT_SESSION_TTL", "") or str(DEFAULT_SESSION_TTL)
        try:
            ttl = int(ttl_text)
        except ValueError:
            raise ValueError(f"WEBCHAT_SESSION_TTL must be a number of seconds, not {ttl_text!r}") from None
        public_base_url = env.get("PUBLIC_BASE_URL", "")
        origins = parse_allowed_origins(env.get("WEBCHAT_ALLOWED_ORIGINS", ""), public_base_url)
        if not origins:
            logger.warning(
                "Neither WEBCHAT_ALLOWED_ORIGINS nor PUBLIC_BASE_URL is set: the web chat accepts "
                "browser requests only from the page's own host."
            )
        # Behind a proxy that serves the assistant under a path (PUBLIC_BASE_URL
        # https://clinic.example.org/navigator), the page is at /navigator/chat/.
        base_path = urlsplit(public_base_url.strip()).path.rstrip("/")
        return cls(
            SessionSigner(secret, ttl),
            origins,
            secure_cookie=public_base_url.strip().lower().startswith("https://"),
            cookie_path=f"{base_path}/chat",
        )

    def __init__(
        self,
        signer: SessionSigner,
        allowed_origins: Iterable[str],
        secure_cookie: bool = False,
        web_dir: Path = WEB_DIR,
        message_timeout: float = MESSAGE_TIMEOUT_SECONDS,
        cookie_path: str = "/chat",
    ) -> None:
        self.signer = signer
        self.allowed_origins = frozenset(allowed_origins)
        self.secure_cookie = secure_cookie
        self.web_dir = web_dir
        self.message_timeout = message_timeout
        self.cookie_path = cookie_path
        self._payload_cache: Tuple[Any, FrozenSet[str]] = (None, frozenset())

    def url_prefix(self) -> str:
        # Rasa mounts channels at urljoin("/webhooks/", url_prefix()): an absolute
        # prefix puts the page at /chat/.
        return "/chat"

    # --- policy checks -------------------------------------------------------------------

    def origin_allowed(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is None:
            return True  # not a cross-site browser request; the token still guards the API
        origin = origin.strip().lower()
        if self.allowed_origins:
            return origin in self.allowed_origins
        host = (request.headers.get("host") or "").lower()
        return bool(host) and origin in (f"http://{host}", f"https://{host}")

    def _token_from(self, request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return request.cookies.get(COOKIE_NAME)

    def session_of(self, request: Request) -> Session:
        return self.signer.verify(self._token_from(request))

    def static_payloads(self, request: Request) -> FrozenSet[str]:
        """Payloads of the domain's buttons, and the page's own (/sos, /greet)."""
        agent = getattr(request.app.ctx, "agent", None)
        domain = getattr(agent, "domain", None)
        responses = getattr(domain, "responses", None) or {}
        if self._payload_cache[0] is not responses:  # a new model brings a new domain
            self._payload_cache = (responses, frozenset(button_payloads(responses)))
        return self._payload_cache[1]

    async def _tracker_events(self, request: Request, sender_id: str) -> List[Dict[str, Any]]:
        """The events of the sender's current Rasa session, as dicts (empty when there is none)."""
        agent = getattr(request.app.ctx, "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return []
        tracker = await store.retrieve(sender_id)
        if tracker is None:
            return []
        return current_session(event.as_dict() for event in tracker.events)

    async def _session_payloads(self, request: Request, sender_id: str) -> Set[str]:
        """Payloads of the buttons the bot sent in this conversation (e.g. from the action server)."""
        payloads: Set[str] = set()
        for event in await self._tracker_events(request, sender_id):
            if event.get("event") == "bot":
                for button in message_buttons(event.get("data") or {}):
                    payloads.add(button["payload"].strip())
        return payloads

    async def text_for_rasa(self, request: Request, sender_id: str, raw: Any) -> str:
        """The user's message as Rasa should see it; leading "/" only for payloads we issued."""
        text = normalize_user_text(raw)
        allowed: Set[str] = set(self.static_payloads(request))
        if text.startswith("/") and text not in allowed:
            try:
                allowed |= await self._session_payloads(request, sender_id)
            except Exception:  # noqa: BLE001 - without the history, the text goes through NLU
                logger.exception("web chat: reading the conversation failed (sender %s)", sender_id)
        return guard_slash(text, allowed)

    # --- responses -----------------------------------------------------------------------

    def _session_response(self, session: Session, resumed: bool) -> HTTPResponse:
        resp = response.json(
            {"token": session.token, "expires_at": session.expires_at, "resumed": resumed},
            headers={"Cache-Control": "no-store", **SECURITY_HEADERS},
        )
        resp.cookies[COOKIE_NAME] = session.token
        cookie = resp.cookies[COOKIE_NAME]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = self.cookie_path
        cookie["max-age"] = self.signer.ttl_seconds
        if self.secure_cookie:
            cookie["secure"] = True
        return resp

    def content_security_policy(self) -> str:
        ancestors = " ".join(["'self'", *sorted(self.allowed_origins)])
        return "; ".join(
            [
                "default-src 'none'",
                "script-src 'self'",
                # The widget styles its shadow DOM with <style> elements.
                "style-src 'self' 'unsafe-inline'",
                "img-src 'self' data:",
                "font-src 'self'",
                "connect-src 'self'",
                "base-uri 'none'",
                "form-action 'none'",
                f"frame-ancestors {ancestors}",
            ]
        )

    async def _file(self, relative: str, content_type: str, request: Request) -> HTTPResponse:
        path = self.web_dir / relative
        try:
            stat = await asyncio.to_thread(path.stat)
        except OSError:
            if relative == WIDGET_FILE:
                return _error(
                    503, "widget_missing", "The chat widget is not installed: run `make setup` (npm ci)."
                )
            return _error(404, "not_found", "No such file.")
        etag = (
            '"'
            + hashlib.sha256(f"{relative}:{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:32]
            + '"'
        )
        headers = {"ETag": etag, "Cache-Control": "no-cache", **SECURITY_HEADERS}
        if request.headers.get("if-none-match") == etag:
            return HTTPResponse(status=304, headers=headers)
        body = await asyncio.to_thread(path.read_bytes)
        return HTTPResponse(body=body, status=200, headers=headers, content_type=content_type)

    # --- the blueprint ---------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        chat = Blueprint("trd_webchat", __name__)

        @chat.middleware("request")
        async def check_origin(request: Request) -> HTTPResponse | None:
            # Blueprint middleware runs for this blueprint's routes only.
            if not self.origin_allowed(request):
                return _error(403, "origin_not_allowed", "Requests from this origin are not allowed.")
            return None

        @chat.route("", methods=["GET"], strict_slashes=True)
        async def page_without_slash(request: Request) -> HTTPResponse:
            return response.redirect("chat/", status=308)

        @chat.route("/", methods=["GET"], strict_slashes=True)
        async def page(request: Request) -> HTTPResponse:
            resp = await self._file("index.html", "text/html; charset=utf-8", request)
            resp.headers["Content-Security-Policy"] = self.content_security_policy()
            resp.headers["X-Frame-Options"] = "SAMEORIGIN"
            return resp

        @chat.route("/static/<name>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            entry = STATIC_FILES.get(name)
            if entry is None:
                return _error(404, "not_found", "No such file.")
            return await self._file(entry[0], entry[1], request)

        @chat.route("/vendor/deep-chat.js", methods=["GET"])
        async def widget(request: Request) -> HTTPResponse:
            return await self._file(WIDGET_FILE, "text/javascript; charset=utf-8", request)

        @chat.route("/session", methods=["POST"])
        async def new_session(request: Request) -> HTTPResponse:
            # {"resume": true} keeps the session of a valid cookie (after a page reload);
            # anything else gets a new, server-chosen session.
            body: Any = {}
            if request.body:
                if len(request.body) > MAX_BODY_BYTES:
                    return _error(413, "too_large", "The request is too large.")
                try:
                    body = json.loads(request.body)
                except (ValueError, UnicodeDecodeError):
                    return _error(400, "invalid_json", 'Send JSON like {"resume": true}, or nothing.')
            if isinstance(body, dict) and body.get("resume") is True:
                try:
                    session = self.signer.verify(request.cookies.get(COOKIE_NAME))
                    return self._session_response(session, resumed=True)
                except TokenError:
                    pass
            return self._session_response(self.signer.issue(), resumed=False)

        @chat.route("/message", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            try:
                session = self.session_of(request)
            except TokenError as e:
                return _error(e.status, e.reason, "Your chat session has ended or is not valid.")
            if len(request.body or b"") > MAX_BODY_BYTES:
                return _error(413, "too_large", f"Please keep messages under {MAX_MESSAGE_CHARS} characters.")
            try:
                body = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError):
                return _error(400, "invalid_json", 'Send JSON like {"message": "hello"}.')
            if not isinstance(body, dict) or "message" not in body:
                return _error(400, "missing_message", 'Send JSON like {"message": "hello"}.')
            try:
                text = await self.text_for_rasa(request, session.sender_id, body["message"])
            except InvalidMessage as e:
                return _error(400, "invalid_message", str(e))

            collector = WebOutputChannel()
            user_message = UserMessage(
                text, collector, session.sender_id, input_channel=CHANNEL_NAME, metadata=None
            )
            # Shielded: a slow turn or a closed browser tab must not cancel Rasa half-way
            # through a turn (the tracker is saved at its end); the reply then shows in
            # the history.
            turn = asyncio.ensure_future(on_new_message(user_message))
            try:
                await asyncio.wait_for(asyncio.shield(turn), timeout=self.message_timeout)
            except asyncio.TimeoutError:
                logger.error(
                    "web chat: no reply within %.0f s (sender %s)", self.message_timeout, session.sender_id
                )
                if not collector.messages:
                    return _error(503, "server_error", SERVER_ERROR_TEXT)
            except Exception:  # noqa: BLE001 - whatever Rasa raised, the person gets an answer
                logger.exception("web chat: handling a message failed (sender %s)", session.sender_id)
                if not collector.messages:
                    return _error(503, "server_error", SERVER_ERROR_TEXT)
            messages = [m for m in (render_bot_message(m) for m in collector.messages) if m]
            return response.json(
                {"messages": messages}, headers={"Cache-Control": "no-store", **SECURITY_HEADERS}
            )

        @chat.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            try:
                session = self.session_of(request)
            except TokenError as e:
                return _error(e.status, e.reason, "Your chat session has ended or is not valid.")
            try:
                events = await self._tracker_events(request, session.sender_id)
            except Exception:  # noqa: BLE001 - a history we cannot read is an empty one
                logger.exception("web chat: reading the history failed (sender %s)", session.sender_id)
                return _error(503, "history_unavailable", "The earlier messages could not be loaded.")
            return response.json(
                {"messages": history_messages(events), "expires_at": session.expires_at},
                headers={"Cache-Control": "no-store", **SECURITY_HEADERS},
            )

        return chat


def current_session(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The events after the latest session start or restart."""
    current: List[Dict[str, Any]] = []
    for event in events:
        if event.get("event") in ("session_started", "restart"):
            current = []
        current.append(event)
    return current


def history_messages(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The user and bot messages of the current session, as the page shows them.

    A user message that was a button payload is shown as the button's title.
    """
    out: List[Dict[str, Any]] = []
    titles: Dict[str, str] = {"/sos": "Get help now"}
    for event in current_session(events):
        kind = event.get("event")
        if kind == "user":
            text = event.get("text") or ""
            if text == "/greet":
                continue  # sent by the page to start the conversation
            out.append({"role": "user", "text": titles.get(text, text)})
        elif kind == "bot":
            data = event.get("data") or {}
            buttons = message_buttons(data)
            text = event.get("text") or ""
            # Live replies come split at blank lines (CollectingOutputChannel); so do these.
            parts = [text] if buttons else [p for p in text.strip().split("\n\n") if p]
            for i, part in enumerate(parts or [""]):
                last = i == len(parts or [""]) - 1
                message = render_bot_message({"text": part, "buttons": buttons if last else None})
                if message:
                    out.append({"role": "bot", **message})
            titles.update({b["payload"]: b["title"] for b in buttons})
    return out
