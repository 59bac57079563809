"""The web chat channel: a chat page served by the Rasa server, and the small JSON API it talks to.

Listed in credentials.yml as ``bot.channels.webchat.WebChatInput`` (no
parameters); configured from the environment:

    WEBCHAT_SECRET           HMAC key for session tokens (at least 32 characters).
                             Unset: a random key per process, so sessions end on restart.
    WEBCHAT_ALLOWED_ORIGINS  comma-separated exact origins allowed to call the API
                             (e.g. "https://chat.example.org"); no wildcard.
    PUBLIC_BASE_URL          the address people use; its origin is allowed too, and an
                             https address makes the session cookie Secure.
    WEBCHAT_SESSION_TTL      idle lifetime of a session in seconds (default 7200, two hours): a
                             session not used for this long ends, server-side, so a shared or
                             public computer does not keep someone's conversation open.
    WEBCHAT_SESSION_MAX_SECONDS
                             a session's absolute lifetime, however busy (default 43200, twelve
                             hours; never less than WEBCHAT_SESSION_TTL).

Sessions are server-side (``trd_web_sessions``, :mod:`trd.store.web_sessions`): a token is
honoured only while its row is active, so "start over", "clear this chat" and "delete my data"
end it at once, in every process and across restarts; a revoked token can never reopen its
conversation (401), and a new session is a new conversation.
    WEBCHAT_MESSAGES_PER_MINUTE, WEBCHAT_MESSAGE_BURST
                             messages a session may send: a token bucket refilled at this rate
                             (default 60 a minute) holding at most this many (default 20); 0 a
                             minute turns the limit off.
    WEBCHAT_SESSIONS_PER_MINUTE, WEBCHAT_SESSION_BURST
                             new sessions a client address may start (default 10 a minute,
                             burst 10); resuming a valid session is free. 0 turns it off.
    WEBCHAT_TRUSTED_PROXIES  comma-separated IPs/CIDRs of the reverse proxies in front of the
                             server; only for a peer listed here is X-Forwarded-For read to find
                             the client's address. Unset: the header is ignored.

Over a limit the API answers 429 with Retry-After and a polite text that names the crisis
lines, which the page shows in place of a reply: a message is never dropped unseen.

The page's texts that name crisis lines (its header, the no-JavaScript notice, what it
shows when the server cannot be reached, the 503 and 429 texts) come from
data/knowledge/crisis_resources.yml (``web_page``): bot/web/index.html is a template filled
in when the channel starts (:mod:`bot.channels.webchat_page`).

Routes (Rasa mounts the blueprint at urljoin("/webhooks/", "/chat") == "/chat"):

    GET  /chat/                 the page
    GET  /chat/static/<file>    the page's own JS and CSS (bot/web/static)
    GET  /chat/vendor/deep-chat.js   the chat widget, from bot/web/node_modules
    POST /chat/session          a new server-chosen session: {"token", "expires_at", "resumed"} + cookie;
                                {"resume": true} keeps the cookie's session if it is still valid
    POST /chat/session/end      ends the session of the token or cookie at once (revoked server-side;
                                the cookie is cleared): "start over" and "clear this chat"
    POST /chat/message          {"message": "..."} -> {"messages": [{"text", "html", "buttons", "chart"}]}
                                (chart: {"src": an SVG data: URL, "alt"}, the summary's PHQ-9 chart)
    GET  /chat/history          the current conversation's messages, to resume after a reload
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import secrets
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple
from urllib.parse import urlsplit

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import crisis_now
from bot.channels.ratelimit import RateLimits, client_address, client_key, retry_after_seconds
from bot.channels.typed_text import TypedText, payloads_sent, tracker_events
from bot.channels.webchat_page import WebTexts, load_web_texts, render_page
from bot.channels.webchat_session import Session, SessionSigner, TokenError
from bot.channels.webchat_text import (
    MAX_MESSAGE_CHARS,
    InvalidMessage,
    LinkRules,
    message_buttons,
    render_bot_message,
)
from bot.tracker_store import TrackerStoreUnavailable
from trd.safety import risk
from trd.store.web_sessions import ACTIVE, InMemorySessionRegistry, SessionRegistry, SqlSessionRegistry
from trd.summary.links import expand_references
from trd.summary.resources import CRISIS_RESOURCES_FILE

logger = logging.getLogger(__name__)

CHANNEL_NAME = "web"
COOKIE_NAME = "trd_chat"
DEFAULT_SESSION_TTL = 2 * 3600  # idle
DEFAULT_SESSION_MAX_SECONDS = 12 * 3600  # absolute
MAX_BODY_BYTES = 64 * 1024  # a message is capped at MAX_MESSAGE_CHARS inside it
MESSAGE_TIMEOUT_SECONDS = 60.0
WEB_DIR = Path(__file__).resolve().parent.parent / "web"

# What the page may load: name -> (path under bot/web, content type).
STATIC_FILES: Dict[str, Tuple[str, str]] = {
    "app.js": ("static/app.js", "text/javascript; charset=utf-8"),
    "app.css": ("static/app.css", "text/css; charset=utf-8"),
}
WIDGET_FILE = "node_modules/deep-chat/dist/deepChat.bundle.js"
PAGE_TEMPLATE = "index.html"
RATE_LIMIT_LOG_INTERVAL_SECONDS = 60.0

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


def _error(
    status: int,
    code: str,
    message: str,
    message_html: Optional[str] = None,
    headers: Optional[Dict[str, str]] = None,
    **extra: Any,
) -> HTTPResponse:
    """A JSON error: ``message`` is the text the page shows; ``html`` (when given) the same with links."""
    body: Dict[str, Any] = {"error": code, "message": message, **extra}
    if message_html is not None:
        body["html"] = message_html
    return response.json(
        body,
        status=status,
        headers={"Cache-Control": "no-store", **SECURITY_HEADERS, **(headers or {})},
    )


def _seconds(env: Any, name: str, default: int) -> int:
    text = (env.get(name, "") or "").strip() or str(default)
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {text!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {text!r}")
    return value


def _session_registry(env: Any) -> SessionRegistry:
    """The database's session registry (``DATABASE_URL``, the tracker store's); without one, this
    process's memory, said plainly: revocations then hold only in this process until it stops."""
    url = (env.get("DATABASE_URL", "") or "").strip()
    if not url:
        logger.warning(
            "DATABASE_URL is not set: web chat sessions are kept in this process only, so ending one "
            "does not hold across processes or restarts"
        )
        return InMemorySessionRegistry()
    return SqlSessionRegistry.for_url(url)


def _is_risk(message: Any) -> bool:
    """Whether the deterministic risk lexicon (trd/safety/risk.py) flags what the person typed."""
    return isinstance(message, str) and risk.assess(message[:MAX_MESSAGE_CHARS]).is_risk


class WebChatInput(InputChannel):
    """The web chat page and its API, with server-issued sessions and an origin allow-list."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> WebChatInput:
        return cls.from_env(os.environ)

    @classmethod
    def from_env(cls, env: Any, resources_file: Path = CRISIS_RESOURCES_FILE) -> WebChatInput:
        secret = env.get("WEBCHAT_SECRET", "")
        if not secret:
            logger.warning(
                "WEBCHAT_SECRET is not set: using a random key, so web chat sessions end when "
                "the server restarts. Set it (64 random hex digits) for a deployment."
            )
            secret = secrets.token_hex(32)
        ttl = _seconds(env, "WEBCHAT_SESSION_TTL", DEFAULT_SESSION_TTL)
        max_age = max(ttl, _seconds(env, "WEBCHAT_SESSION_MAX_SECONDS", DEFAULT_SESSION_MAX_SECONDS))
        public_base_url = env.get("PUBLIC_BASE_URL", "")
        origins = parse_allowed_origins(env.get("WEBCHAT_ALLOWED_ORIGINS", ""), public_base_url)
        if not origins:
            logger.warning(
                "Neither WEBCHAT_ALLOWED_ORIGINS nor PUBLIC_BASE_URL is set: the web chat accepts "
                "browser requests only from the page's own host."
            )
        limits = RateLimits.from_env(env)
        if (
            public_base_url.strip().lower().startswith("https://")
            and not limits.trusted_proxies
            and limits.sessions is not None
        ):
            # https here means a reverse proxy in front (the server itself speaks http); without
            # trusting it, every person would be counted as the proxy's one address.
            raise ValueError(
                "PUBLIC_BASE_URL is https, so a reverse proxy is in front, but WEBCHAT_TRUSTED_PROXIES "
                "is empty: every person would share the proxy's address and one rate-limit bucket. "
                "Set WEBCHAT_TRUSTED_PROXIES to the proxy's address (e.g. 127.0.0.1), or turn the "
                "per-address session limit off with WEBCHAT_SESSIONS_PER_MINUTE=0."
            )
        # Behind a proxy that serves the assistant under a path (PUBLIC_BASE_URL
        # https://clinic.example.org/navigator), the page is at /navigator/chat/.
        base_path = urlsplit(public_base_url.strip()).path.rstrip("/")
        return cls(
            SessionSigner(secret, max_age),
            origins,
            secure_cookie=public_base_url.strip().lower().startswith("https://"),
            cookie_path=f"{base_path}/chat",
            texts=load_web_texts(resources_file),
            limits=limits,
            sessions=_session_registry(env),
            idle_seconds=ttl,
            crisis_wait=crisis_now.wait_seconds(env),
        )

    def __init__(
        self,
        signer: SessionSigner,
        allowed_origins: Iterable[str],
        secure_cookie: bool = False,
        web_dir: Path = WEB_DIR,
        message_timeout: float = MESSAGE_TIMEOUT_SECONDS,
        cookie_path: str = "/chat",
        texts: Optional[WebTexts] = None,
        limits: Optional[RateLimits] = None,
        sessions: Optional[SessionRegistry] = None,
        idle_seconds: int = DEFAULT_SESSION_TTL,
        crisis_wait: float = crisis_now.DEFAULT_WAIT_SECONDS,
    ) -> None:
        """``texts`` default to those of the crisis resources file. ``limits`` None: no rate
        limits (from_env, which Rasa uses, always sets them; tests may leave them out).
        ``sessions`` None: an in-process registry (from_env uses the database's)."""
        self.signer = signer
        self.sessions: SessionRegistry = sessions if sessions is not None else InMemorySessionRegistry()
        self.idle = timedelta(seconds=idle_seconds)
        self._touches: Set[asyncio.Future] = set()
        self.allowed_origins = frozenset(allowed_origins)
        self.secure_cookie = secure_cookie
        self.web_dir = web_dir
        self.message_timeout = message_timeout
        self.crisis_wait = crisis_wait  # a crisis message's turn, before the channel answers itself
        self._turns: Set[asyncio.Task[Any]] = set()  # turns still running after their reply
        self.cookie_path = cookie_path
        self.texts = texts if texts is not None else load_web_texts()
        self.limits = limits if limits is not None else RateLimits(None, None)
        self.typed = TypedText("web chat", self._session_payloads)
        self._limited_count = 0
        self._limited_logged_at: Optional[float] = None
        # The page, rendered now so a broken template or resources file stops the start.
        self._page_cache: Tuple[Tuple[int, int], bytes, str] = self._render_page()

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

    async def session_of(self, request: Request) -> Session:
        """The request's session: signed by us, and active in the session registry.

        Raises TokenError: 401 when there is none, it expired, was idle too long or was ended
        (revoked), 403 when it is forged; 503 when the registry cannot be read (fail closed).
        """
        return await self._active(self.signer.verify(self._token_from(request)))

    async def _active(self, session: Session) -> Session:
        try:
            state = await asyncio.to_thread(
                self.sessions.check, session.session_id, datetime.now(timezone.utc), self.idle
            )
        except Exception:  # noqa: BLE001 - fail closed: an unreadable registry honours no token
            logger.exception("web chat: the session registry could not be read")
            raise TokenError("server_error", 503) from None
        if state != ACTIVE:
            raise TokenError("session_ended" if state != "expired" else "session_expired", 401)
        # Marked used in the background: a busy database never holds a message up for it.
        task = asyncio.ensure_future(self._touch(session))
        self._touches.add(task)
        task.add_done_callback(self._touches.discard)
        return session

    async def _touch(self, session: Session) -> None:
        try:
            await asyncio.to_thread(self.sessions.touch, session.session_id, datetime.now(timezone.utc))
        except Exception:  # noqa: BLE001 - only the idle clock is late; tried again next message
            logger.warning("web chat: a session could not be marked used (the database is busy?)")

    async def _issue(self) -> Session:
        session = self.signer.issue()
        await asyncio.to_thread(self.sessions.create, session.session_id, datetime.now(timezone.utc))
        return session

    async def end_session(self, session: Session, reason: str) -> bool:
        """Revoke a session at once (every process honours the revocation)."""
        return await asyncio.to_thread(
            self.sessions.revoke, session.session_id, datetime.now(timezone.utc), reason
        )

    def _session_error(self, e: TokenError) -> HTTPResponse:
        if e.status == 503:
            return self._server_error()
        return _error(e.status, e.reason, "Your chat session has ended or is not valid.")

    async def _tracker_events(self, request: Request, sender_id: str) -> List[Dict[str, Any]]:
        """The events of the sender's current Rasa session, as dicts (empty when there is none)."""
        return current_session(await tracker_events(request, sender_id))

    async def _session_payloads(self, request: Request, sender_id: str) -> Set[str]:
        """Payloads of the buttons the bot sent in this session (e.g. from the action server)."""
        return payloads_sent(await self._tracker_events(request, sender_id))

    async def text_for_rasa(self, request: Request, sender_id: str, raw: Any) -> str:
        """The user's message as Rasa should see it; leading "/" only for payloads we issued."""
        return await self.typed.text_for_rasa(request, sender_id, raw)

    # --- rate limits ---------------------------------------------------------------------

    def client_key(self, request: Request) -> str:
        """Who a new session is counted against: the client's address (see WEBCHAT_TRUSTED_PROXIES)."""
        peer = request.ip or ""
        forwarded = request.headers.getall("x-forwarded-for", [])
        return client_key(client_address(peer, forwarded, self.limits.trusted_proxies), peer)

    def _rate_limited(self, wait: float, text: str, what: str) -> HTTPResponse:
        seconds = retry_after_seconds(wait)
        self._log_rate_limited(what)
        return _error(
            429,
            "rate_limited",
            text,
            self.texts.html(text),
            headers={"Retry-After": str(seconds)},
            retry_after=seconds,
        )

    def _log_rate_limited(self, what: str) -> None:
        """One warning a minute at most, with a count (a flood must not flood the log too)."""
        self._limited_count += 1
        now = time.monotonic()
        last = self._limited_logged_at
        if last is None or now - last >= RATE_LIMIT_LOG_INTERVAL_SECONDS:
            logger.warning(
                "web chat: rate limited %d request(s) since the last report (latest: %s)",
                self._limited_count,
                what,
            )
            self._limited_count = 0
            self._limited_logged_at = now

    def _server_error(self, crisis: Optional[Dict[str, Any]] = None) -> HTTPResponse:
        """503 with the crisis lines: the failure text, or the crisis response itself when the
        message was a crisis."""
        text = str(crisis["text"]) if crisis else self.texts.server_error
        return _error(503, "server_error", text, self.texts.html(text))

    # --- one turn ------------------------------------------------------------------------

    async def run_turn(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender_id: str,
        text: str,
    ) -> HTTPResponse:
        """The reply to one message: Rasa's, or the crisis response when a crisis message's
        turn does not finish within ``crisis_wait`` (the turn then goes on), or 503 with the
        crisis lines when the conversation could not be read or saved."""
        collector = WebOutputChannel()
        user_message = UserMessage(text, collector, sender_id, input_channel=CHANNEL_NAME, metadata=None)
        crisis = crisis_now.crisis_response(text)
        domain = getattr(getattr(request.app.ctx, "agent", None), "domain", None)
        # Shielded: a slow turn or a closed browser tab must not cancel Rasa half-way
        # through a turn (the tracker is saved at its end); the reply then shows in
        # the history.
        turn = asyncio.ensure_future(on_new_message(user_message))
        self._turns.add(turn)
        turn.add_done_callback(self._turn_done)
        waited = 0.0
        if crisis is not None:
            # Answered at once, whatever holds the turn up (a hung action server, the
            # conversation's lock, a locked database); the turn itself goes on.
            done, _ = await asyncio.wait({turn}, timeout=self.crisis_wait)
            waited = self.crisis_wait
            if not done:
                logger.error(
                    "web chat: a crisis message's turn did not finish within %.1f s; answered with the "
                    "crisis lines, the turn goes on (sender %s)",
                    self.crisis_wait,
                    sender_id,
                )
                return self._messages(crisis_now.with_crisis_lines(list(collector.messages), domain, crisis))
        try:
            await asyncio.wait_for(asyncio.shield(turn), timeout=max(0.1, self.message_timeout - waited))
        except asyncio.TimeoutError:
            logger.error("web chat: no reply within %.0f s (sender %s)", self.message_timeout, sender_id)
            if not collector.messages:
                return self._server_error()
        except TrackerStoreUnavailable:
            # never a reply from a conversation that was not read or saved: say so, with the lines
            logger.error("web chat: the conversation could not be read or saved (sender %s)", sender_id)
            return self._server_error(crisis_now.crisis_message(domain, crisis) if crisis else None)
        except Exception:  # noqa: BLE001 - whatever Rasa raised, the person gets an answer
            logger.exception("web chat: handling a message failed (sender %s)", sender_id)
            if not collector.messages:
                return self._server_error(crisis_now.crisis_message(domain, crisis) if crisis else None)
        return self._messages(list(collector.messages))

    def _turn_done(self, task: asyncio.Task[Any]) -> None:
        self._turns.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("web chat: a turn failed (%s)", type(task.exception()).__name__)

    def _messages(self, raw: List[Dict[str, Any]]) -> HTTPResponse:
        messages = [m for m in (render_bot_message(m, self.link_rules) for m in raw) if m]
        headers = {"Cache-Control": "no-store", **SECURITY_HEADERS}
        return response.json({"messages": messages}, headers=headers)

    @property
    def link_rules(self) -> LinkRules:
        return self.texts.link_rules

    # --- the page ------------------------------------------------------------------------

    def _render_page(self) -> Tuple[Tuple[int, int], bytes, str]:
        """(the template's mtime and size, the page, its ETag): blocking file I/O."""
        path = self.web_dir / PAGE_TEMPLATE
        stat = path.stat()
        body = render_page(path.read_text(encoding="utf-8"), self.texts).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return (stat.st_mtime_ns, stat.st_size), body, etag

    async def _page(self, request: Request) -> HTTPResponse:
        """The page, rendered again only when index.html changed (the texts are fixed at start)."""
        path = self.web_dir / PAGE_TEMPLATE
        try:
            stat = await asyncio.to_thread(path.stat)
            if (stat.st_mtime_ns, stat.st_size) != self._page_cache[0]:
                self._page_cache = await asyncio.to_thread(self._render_page)
        except Exception:  # noqa: BLE001 - keep serving the page rendered at start
            logger.exception("web chat: rendering the changed %s failed; serving the earlier page", path)
        _, body, etag = self._page_cache
        headers = {
            "ETag": etag,
            "Cache-Control": "no-cache",
            **SECURITY_HEADERS,
            "Content-Security-Policy": self.content_security_policy(),
            "X-Frame-Options": "SAMEORIGIN",
        }
        if request.headers.get("if-none-match") == etag:
            return HTTPResponse(status=304, headers=headers)
        return HTTPResponse(body=body, status=200, headers=headers, content_type="text/html; charset=utf-8")

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
        crisis_now.warm()  # the first crisis message must not wait for the lexicon to load

        @chat.listener("after_server_start")
        async def warm_up(app: Any, loop: Any) -> None:
            await crisis_now.warm_agent(app)  # the model's first inference, before anyone waits on it

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
            return await self._page(request)

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
                except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..."
                    return _error(400, "invalid_json", 'Send JSON like {"resume": true}, or nothing.')
            if isinstance(body, dict) and body.get("resume") is True:
                try:
                    session = await self._active(self.signer.verify(request.cookies.get(COOKIE_NAME)))
                    return self._session_response(session, resumed=True)
                except TokenError as e:
                    if e.status == 503:
                        return self._server_error()
            # Only a new session counts against the client's limit; resuming one is free.
            if self.limits.sessions is not None:
                wait = self.limits.sessions.take(self.client_key(request))
                if wait > 0:
                    return self._rate_limited(wait, self.texts.too_many_sessions, "a new session")
            try:
                session = await self._issue()
            except Exception:  # noqa: BLE001 - without a registry row the token would never work
                logger.exception("web chat: a new session could not be recorded")
                return self._server_error()
            return self._session_response(session, resumed=False)

        @chat.route("/session/end", methods=["POST"])
        async def end_session(request: Request) -> HTTPResponse:
            # "Start over" and "clear this chat": the token ends now, everywhere; the cookie goes.
            ended = False
            try:
                session = self.signer.verify(self._token_from(request))
            except TokenError:
                session = None
            if session is not None:
                reason = "clear" if request.args.get("reason") == "clear" else "start_over"
                try:
                    ended = await self.end_session(session, reason)
                except Exception:  # noqa: BLE001 - the person must know it did not work
                    logger.exception("web chat: a session could not be ended")
                    return self._server_error()
            resp = response.json(
                {"ended": ended}, headers={"Cache-Control": "no-store", **SECURITY_HEADERS}
            )
            resp.cookies[COOKIE_NAME] = ""
            cookie = resp.cookies[COOKIE_NAME]
            cookie["httponly"] = True
            cookie["samesite"] = "Strict"
            cookie["path"] = self.cookie_path
            cookie["max-age"] = 0
            if self.secure_cookie:
                cookie["secure"] = True
            return resp

        @chat.route("/message", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            try:
                session = await self.session_of(request)
            except TokenError as e:
                return self._session_error(e)
            if len(request.body or b"") > MAX_BODY_BYTES:
                return _error(413, "too_large", f"Please keep messages under {MAX_MESSAGE_CHARS} characters.")
            try:
                body = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..."
                return _error(400, "invalid_json", 'Send JSON like {"message": "hello"}.')
            if not isinstance(body, dict) or "message" not in body:
                return _error(400, "missing_message", 'Send JSON like {"message": "hello"}.')
            if self.limits.messages is not None:
                wait = self.limits.messages.take(session.sender_id)
                # Safety first: a message the risk lexicon flags is never held back, so the
                # crisis path runs (resources, the record, the care team's alert).
                if wait > 0 and not _is_risk(body["message"]):
                    return self._rate_limited(
                        wait, self.texts.too_many_messages, f"a message of {session.sender_id}"
                    )
                if wait > 0:
                    logger.warning(
                        "web chat: rate limit waived for a risk message (sender %s)", session.sender_id
                    )
            try:
                text = await self.text_for_rasa(request, session.sender_id, body["message"])
            except InvalidMessage as e:
                return _error(400, "invalid_message", str(e))

            return await self.run_turn(request, on_new_message, session.sender_id, text)

        @chat.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            try:
                session = await self.session_of(request)
            except TokenError as e:
                return self._session_error(e)
            try:
                events = await self._tracker_events(request, session.sender_id)
            except Exception:  # noqa: BLE001 - a history we cannot read is an empty one
                logger.exception("web chat: reading the history failed (sender %s)", session.sender_id)
                return _error(503, "history_unavailable", "The earlier messages could not be loaded.")
            return response.json(
                {"messages": history_messages(events, self.link_rules), "expires_at": session.expires_at},
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


def history_messages(
    events: Iterable[Dict[str, Any]], rules: Optional[LinkRules] = None
) -> List[Dict[str, Any]]:
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
            text = expand_references(event.get("text") or "")  # a summary link's reference
            # Live replies come split at blank lines (CollectingOutputChannel); so do these.
            parts = [text] if buttons else [p for p in text.strip().split("\n\n") if p]
            for i, part in enumerate(parts or [""]):
                last = i == len(parts or [""]) - 1
                message = render_bot_message({"text": part, "buttons": buttons if last else None}, rules)
                if message:
                    out.append({"role": "bot", **message})
            chart = render_bot_message({"custom": data.get("custom")}, rules) if data.get("custom") else {}
            if chart:  # the summary's PHQ-9 chart
                out.append({"role": "bot", **chart})
            titles.update({b["payload"]: b["title"] for b in buttons})
    return out
