"""The web chat channel over real HTTP on 127.0.0.1: a small Sanic app with only its blueprint.

Rasa is replaced by a fake ``on_new_message`` that records what Rasa would have
received and answers through the channel's output collector; the tracker store
is Rasa's real in-memory store, so the history and the session payload checks
read real events.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest
import requests
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from bot.channels.webchat import (
    COOKIE_NAME,
    WebChatInput,
    history_messages,
    parse_allowed_origins,
)
from bot.channels.webchat_session import SessionSigner, TokenError
from bot.channels.webchat_text import (
    MAX_MESSAGE_CHARS,
    InvalidMessage,
    button_payloads,
    clean_user_text,
    linkify,
    render_bot_message,
)
from tests.support.loopback_app import LoopbackApp, free_port

SECRET = "s" * 16 + secrets.token_hex(16)
DOMAIN = Domain.from_dict(
    {
        "intents": ["greet", "sos", "confirm_safe", "not_safe", "what_can_you_do"],
        "responses": {
            "utter_greet": [{"text": "Hello there."}],
            "utter_check_safe": [
                {
                    "text": "Are you safe right now?",
                    "buttons": [
                        {"title": "I'm safe", "payload": "/confirm_safe"},
                        {"title": "I'm not safe", "payload": "/not_safe"},
                    ],
                }
            ],
        },
    }
)


class FakeRasa:
    """Stands in for the agent: records each UserMessage and answers like a tiny bot."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []
        self.store = InMemoryTrackerStore(DOMAIN)
        self.domain = DOMAIN
        self.fail_next = False
        self.store_down = False

    @property
    def tracker_store(self) -> Any:
        """What the channel reads (Rasa's agent.tracker_store); can be made to fail."""
        if self.store_down:
            return BrokenStore()
        return self.store

    async def on_new_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the model broke")
        out = message.output_channel
        text = message.text or ""
        if text == "check":
            # A button only this conversation gets, as an action server would send it.
            await out.send_text_with_buttons(
                message.sender_id, "Pick one.", [{"title": "Sertraline", "payload": '/choose{"d":"x"}'}]
            )
        elif text == "slow":
            await out.send_text_message(message.sender_id, "First part.")
            await asyncio.sleep(1.5)
            await out.send_text_message(message.sender_id, "Late part.")
        elif text == "silent":
            pass  # e.g. the dialogue predicts only action_listen
        elif text == "/greet":
            await out.send_text_message(message.sender_id, "Hello there.")
        else:
            await out.send_text_with_buttons(
                message.sender_id,
                f"You said: {text}. Call or text 988.",
                [{"title": "I'm safe", "payload": "/confirm_safe"}],
            )
        tracker = await self.store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(text, {"name": "x"}, input_channel=message.input_channel))
        for m in out.messages:
            data = {"buttons": m["buttons"]} if m.get("buttons") else {}
            tracker.update(BotUttered(m.get("text"), data))
        tracker.update(ActionExecuted("action_listen"))
        await self.store.save(tracker)


class BrokenStore:
    async def retrieve(self, sender_id: str) -> None:
        raise ConnectionError("database is down")


class ChatServer(LoopbackApp):
    """A Sanic app with only the web chat blueprint, served on a free loopback port."""

    def __init__(self, channel: WebChatInput, rasa: FakeRasa, port: int) -> None:
        super().__init__("webchat_test", port)
        self.channel = channel
        self.rasa = rasa
        self.app.ctx.agent = rasa
        self.app.blueprint(channel.blueprint(rasa.on_new_message), url_prefix=channel.url_prefix())

    # --- client helpers ---------------------------------------------------------------------
    @property
    def origin(self) -> str:
        return self.base

    def session(self) -> Tuple[str, requests.Response]:
        r = requests.post(self.base + "/chat/session", headers={"Origin": self.origin}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["token"], r

    def send(
        self, token: str | None, body: Any, raw: bytes | None = None, **headers: str
    ) -> requests.Response:
        h = {"Origin": self.origin, "Content-Type": "application/json", **headers}
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else json.dumps(body).encode()
        return requests.post(self.base + "/chat/message", data=data, headers=h, timeout=10)


@pytest.fixture(scope="module")
def server() -> Iterator[ChatServer]:
    port = free_port()
    origins = parse_allowed_origins(f"http://127.0.0.1:{port},https://clinic.example.org")
    channel = WebChatInput(SessionSigner(SECRET, ttl_seconds=3600), origins, message_timeout=0.5)
    with ChatServer(channel, FakeRasa(), port) as srv:
        yield srv


def _texts(r: requests.Response) -> List[str]:
    return [m.get("text", "") for m in r.json()["messages"]]


# --- sessions ---------------------------------------------------------------------------------


def test_session_is_issued_as_token_and_strict_httponly_cookie(server: ChatServer) -> None:
    token, r = server.session()
    body = r.json()
    assert body["expires_at"] > time.time() + 3000
    cookie = r.headers["Set-Cookie"]
    assert f"{COOKIE_NAME}={token}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/chat" in cookie
    assert r.headers["Cache-Control"] == "no-store"
    other, _ = server.session()
    assert other != token


def test_resume_keeps_only_a_valid_cookie_session(server: ChatServer) -> None:
    token, r = server.session()

    def resume(cookie: str | None, body: bytes = b'{"resume": true}') -> requests.Response:
        cookies = {COOKIE_NAME: cookie} if cookie else {}
        return requests.post(
            server.base + "/chat/session",
            data=body,
            cookies=cookies,
            headers={"Origin": server.origin},
            timeout=10,
        )

    same = resume(token)
    assert same.status_code == 200
    assert same.json()["token"] == token and same.json()["resumed"] is True
    assert r.json()["resumed"] is False
    expired = SessionSigner(SECRET, 60, clock=lambda: time.time() - 3600).issue().token
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for cookie in (None, expired, forged):
        fresh = resume(cookie)
        assert fresh.status_code == 200
        assert fresh.json()["resumed"] is False and fresh.json()["token"] not in (token, cookie)
    assert resume(token, b"{}").json()["token"] != token  # without resume: always new
    bad = resume(token, b"{nope")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_json"


def test_sender_id_is_chosen_by_the_server_and_differs_per_session(server: ChatServer) -> None:
    a, _ = server.session()
    b, _ = server.session()
    server.send(a, {"message": "hi", "sender": "web-victim"})
    server.send(b, {"message": "hi", "sender": "web-victim"})
    senders = [m.sender_id for m in server.rasa.received[-2:]]
    assert senders[0] != senders[1]
    assert all(re.fullmatch(r"web-[A-Za-z0-9_-]{22}", s) for s in senders)
    assert "web-victim" not in senders
    assert {m.input_channel for m in server.rasa.received[-2:]} == {"web"}
    assert {m.output_channel.name() for m in server.rasa.received[-2:]} == {"web"}


def test_cookie_alone_carries_the_session(server: ChatServer) -> None:
    _, r = server.session()
    jar = r.cookies
    resp = requests.post(
        server.base + "/chat/message",
        json={"message": "from the cookie"},
        cookies=jar,
        headers={"Origin": server.origin},
        timeout=10,
    )
    assert resp.status_code == 200
    assert server.rasa.received[-1].text == "from the cookie"


def test_missing_token_is_401(server: ChatServer) -> None:
    r = server.send(None, {"message": "hello"})
    assert r.status_code == 401
    assert r.json()["error"] == "no_session"


def test_forged_tokens_are_403(server: ChatServer) -> None:
    token, _ = server.session()
    version, sid, expiry, sig = token.split(".")
    other_sid = sid[:-1] + ("A" if sid[-1] != "A" else "B")
    forged = [
        f"{version}.{other_sid}.{expiry}.{sig}",  # someone else's id, old signature
        f"{version}.{sid}.{int(expiry) + 999999}.{sig}",  # a longer life
        SessionSigner("x" * 40, 3600).issue().token,  # signed with another key
        "not-a-token",
        token + "A",
    ]
    before = len(server.rasa.received)
    for bad in forged:
        r = server.send(bad, {"message": "hello"})
        assert r.status_code == 403, bad
        assert r.json()["error"] == "invalid_session"
    assert len(server.rasa.received) == before


def test_expired_token_is_401(server: ChatServer) -> None:
    old = SessionSigner(SECRET, 60, clock=lambda: time.time() - 3600).issue().token
    r = server.send(old, {"message": "hello"})
    assert r.status_code == 401
    assert r.json()["error"] == "session_expired"


def test_signer_rejects_short_secret() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        SessionSigner("short", 60)


def test_signer_round_trip_and_expiry() -> None:
    now = [1_000_000.0]
    signer = SessionSigner(SECRET, 100, clock=lambda: now[0])
    session = signer.issue()
    assert signer.verify(session.token).sender_id == "web-" + session.session_id
    now[0] += 101
    with pytest.raises(TokenError) as e:
        signer.verify(session.token)
    assert (e.value.status, e.value.reason) == (401, "session_expired")


# --- origins ----------------------------------------------------------------------------------


def test_wrong_origin_is_403_on_every_route(server: ChatServer) -> None:
    token, _ = server.session()
    evil = {"Origin": "https://evil.example.com"}
    assert requests.post(server.base + "/chat/session", headers=evil, timeout=10).status_code == 403
    assert server.send(token, {"message": "hi"}, Origin="https://evil.example.com").status_code == 403
    r = requests.get(
        server.base + "/chat/history", headers={**evil, "Authorization": f"Bearer {token}"}, timeout=10
    )
    assert r.status_code == 403
    assert r.json()["error"] == "origin_not_allowed"
    # a look-alike of an allowed origin is not allowed
    assert server.send(token, {"message": "hi"}, Origin=server.origin + ".evil.com").status_code == 403
    assert server.send(token, {"message": "hi"}, Origin="null").status_code == 403


def test_listed_origin_is_allowed_and_no_cors_wildcard(server: ChatServer) -> None:
    token, _ = server.session()
    r = server.send(token, {"message": "hi"}, Origin="https://clinic.example.org")
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") != "*"


def test_allowed_origins_config() -> None:
    assert parse_allowed_origins("https://a.org, http://b.org:8080/", "https://c.org/chat/") == {
        "https://a.org",
        "http://b.org:8080",
        "https://c.org",
    }
    with pytest.raises(ValueError, match="wildcard"):
        parse_allowed_origins("*")
    with pytest.raises(ValueError, match="not an origin"):
        parse_allowed_origins("https://a.org/path")


def test_channel_from_env() -> None:
    channel = WebChatInput.from_env(
        {
            "WEBCHAT_SECRET": SECRET,
            "WEBCHAT_ALLOWED_ORIGINS": "https://a.org",
            "PUBLIC_BASE_URL": "https://chat.example.org",
            "WEBCHAT_SESSION_TTL": "600",
            "WEBCHAT_TRUSTED_PROXIES": "127.0.0.1",
        }
    )
    assert channel.allowed_origins == {"https://a.org", "https://chat.example.org"}
    assert channel.secure_cookie is True
    assert channel.idle == timedelta(seconds=600)  # idle lifetime, checked server-side
    assert channel.signer.ttl_seconds == 43200  # the absolute lifetime (WEBCHAT_SESSION_MAX_SECONDS)
    assert WebChatInput.from_env({"WEBCHAT_SECRET": SECRET}).idle == timedelta(hours=2)
    assert channel.cookie_path == "/chat"
    behind_proxy = WebChatInput.from_env(
        {"WEBCHAT_SECRET": SECRET, "PUBLIC_BASE_URL": "https://clinic.example.org/navigator/",
         "WEBCHAT_TRUSTED_PROXIES": "10.0.0.0/8"}
    )
    assert behind_proxy.cookie_path == "/navigator/chat"
    assert behind_proxy.allowed_origins == {"https://clinic.example.org"}
    assert channel.url_prefix() == "/chat"
    assert WebChatInput.name() == "web"
    with pytest.raises(ValueError, match="WEBCHAT_SESSION_TTL"):
        WebChatInput.from_env({"WEBCHAT_SECRET": SECRET, "WEBCHAT_SESSION_TTL": "a day"})


def test_behind_an_https_proxy_it_refuses_to_start_without_trusting_the_proxy() -> None:
    """Issue 10: otherwise every person shares the proxy's address and one rate-limit bucket."""
    env = {"WEBCHAT_SECRET": SECRET, "PUBLIC_BASE_URL": "https://clinic.example.org"}
    with pytest.raises(ValueError, match="WEBCHAT_TRUSTED_PROXIES"):
        WebChatInput.from_env(env)
    assert WebChatInput.from_env({**env, "WEBCHAT_TRUSTED_PROXIES": "127.0.0.1"}).limits.trusted_proxies
    assert WebChatInput.from_env({**env, "WEBCHAT_SESSIONS_PER_MINUTE": "0"}).limits.sessions is None
    assert WebChatInput.from_env({**env, "PUBLIC_BASE_URL": "http://127.0.0.1:5005"})  # make run


# --- input validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, code",
    [
        (b"not json", "invalid_json"),
        (b"", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[1, 2]", "missing_message"),
        (b'{"text": "hi"}', "missing_message"),
        (b'{"message": null}', "invalid_message"),
        (b'{"message": 42}', "invalid_message"),
        (b'{"message": ["a"]}', "invalid_message"),
        (b'{"message": ""}', "invalid_message"),
        (b'{"message": "   \\n "}', "invalid_message"),
        (b'{"message": "///"}', "invalid_message"),
        (json.dumps({"message": "a" * (MAX_MESSAGE_CHARS + 1)}).encode(), "invalid_message"),
    ],
)
def test_bad_input_is_400_with_a_clear_message(server: ChatServer, raw: bytes, code: str) -> None:
    token, _ = server.session()
    before = len(server.rasa.received)
    r = server.send(token, None, raw=raw)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == code
    assert r.json()["message"]
    assert len(server.rasa.received) == before


def test_message_at_the_limit_is_accepted(server: ChatServer) -> None:
    token, _ = server.session()
    r = server.send(token, {"message": "a" * MAX_MESSAGE_CHARS})
    assert r.status_code == 200


def test_an_over_long_crisis_message_still_takes_the_crisis_path(server: ChatServer) -> None:
    """Issue 10: the risk check runs on what was sent, whatever its length."""
    token, _ = server.session()
    long_text = "I have been trying to explain everything. " * 80 + "Tonight I am going to kill myself."
    assert len(long_text) > MAX_MESSAGE_CHARS
    r = server.send(token, {"message": long_text})
    assert r.status_code == 200, r.text
    sent = server.rasa.received[-1].text
    assert len(sent) <= MAX_MESSAGE_CHARS and "kill myself" in sent


def test_an_over_long_ordinary_message_is_a_polite_400(server: ChatServer) -> None:
    token, _ = server.session()
    before = len(server.rasa.received)
    r = server.send(token, {"message": "I have been trying to explain everything. " * 80})
    assert r.status_code == 400 and "too long" in r.json()["message"]
    assert len(server.rasa.received) == before


def test_invisible_characters_never_reach_rasa(server: ChatServer) -> None:
    token, _ = server.session()
    r = server.send(token, {"message": "I am su\u00adi\u200bci\u2066dal\ufe0f"})
    assert r.status_code == 200, r.text
    assert server.rasa.received[-1].text == "I am suicidal"


def test_huge_body_is_413_not_500(server: ChatServer) -> None:
    token, _ = server.session()
    r = server.send(token, None, raw=json.dumps({"message": "a" * 100_000}).encode())
    assert r.status_code == 413
    assert r.json()["error"] == "too_large"


@pytest.mark.slow
def test_slow_turn_returns_what_is_ready_and_finishes_in_the_background(server: ChatServer) -> None:
    token, _ = server.session()
    r = server.send(token, {"message": "slow"})
    assert r.status_code == 200
    assert _texts(r) == ["First part."]
    time.sleep(2.0)
    h = requests.get(server.base + "/chat/history", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert [m["text"] for m in h.json()["messages"]] == ["slow", "First part.", "Late part."]


def test_no_reply_is_an_empty_list(server: ChatServer) -> None:
    token, _ = server.session()
    r = server.send(token, {"message": "silent"})
    assert r.status_code == 200
    assert r.json() == {"messages": []}


def test_rasa_failure_is_503_with_crisis_numbers(server: ChatServer) -> None:
    token, _ = server.session()
    server.rasa.fail_next = True
    r = server.send(token, {"message": "hello"})
    assert r.status_code == 503
    assert "988" in r.json()["message"]


# --- the "/" intent shortcut ------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, rasa_sees",
    [
        ("/crisis", "crisis"),
        ("/greet I want to kill myself", "greet I want to kill myself"),
        ('/confirm_safe{"x": 1}', 'confirm_safe{"x": 1}'),
        ("//sos", "sos"),
        ("  /deny", "deny"),
        ("/sos", "/sos"),
        ("/confirm_safe", "/confirm_safe"),
        ("  /not_safe  ", "/not_safe"),
        ("/greet", "/greet"),
        ("a /b", "a /b"),
        ("/ /greet", "greet"),
        ("/ /xyz I want to die", "xyz I want to die"),
    ],
)
def test_only_issued_payloads_keep_their_slash(server: ChatServer, typed: str, rasa_sees: str) -> None:
    token, _ = server.session()
    r = server.send(token, {"message": typed})
    assert r.status_code == 200
    assert server.rasa.received[-1].text == rasa_sees


def test_payload_sent_to_this_session_only_passes(server: ChatServer) -> None:
    a, _ = server.session()
    b, _ = server.session()
    payload = '/choose{"d":"x"}'
    assert server.send(a, {"message": "check"}).json()["messages"][0]["buttons"][0]["payload"] == payload
    server.send(a, {"message": payload})
    assert server.rasa.received[-1].text == payload
    server.send(b, {"message": payload})  # session b never got that button
    assert server.rasa.received[-1].text == 'choose{"d":"x"}'


def test_unreadable_conversation_still_strips_the_slash(server: ChatServer) -> None:
    token, _ = server.session()
    server.rasa.store_down = True
    try:
        r = server.send(token, {"message": '/choose{"d":"x"}'})
        assert r.status_code == 200
        assert server.rasa.received[-1].text == 'choose{"d":"x"}'
        h = requests.get(
            server.base + "/chat/history", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert h.status_code == 503 and h.json()["error"] == "history_unavailable"
    finally:
        server.rasa.store_down = False


def test_button_payloads_from_domain() -> None:
    payloads = button_payloads(DOMAIN.responses)
    assert payloads == {"/confirm_safe", "/not_safe", "/sos", "/greet"}


def test_clean_user_text_unit() -> None:
    allowed = {"/sos"}
    assert clean_user_text("/sos", allowed) == "/sos"
    assert clean_user_text("/sos now", allowed) == "sos now"
    assert clean_user_text("hi\x00there", allowed) == "hi there"
    with pytest.raises(InvalidMessage):
        clean_user_text("/", allowed)


# --- replies, history and the page --------------------------------------------------------------


def test_reply_carries_text_safe_html_and_buttons(server: ChatServer) -> None:
    token, _ = server.session()
    r = server.send(token, {"message": "<img src=x onerror=alert(1)>"})
    assert r.status_code == 200
    (message,) = r.json()["messages"]
    assert message["text"] == "You said: <img src=x onerror=alert(1)>. Call or text 988."
    assert "<img" not in message["html"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in message["html"]
    assert '<a class="tel-link" href="tel:988"' in message["html"]
    assert message["buttons"] == [{"title": "I'm safe", "payload": "/confirm_safe"}]


def test_history_resumes_the_conversation_by_cookie(server: ChatServer) -> None:
    token, r = server.session()
    server.send(token, {"message": "/greet"})
    server.send(token, {"message": "hello"})
    server.send(token, {"message": "/confirm_safe"})
    h = requests.get(server.base + "/chat/history", cookies=r.cookies, timeout=10)
    assert h.status_code == 200
    messages = h.json()["messages"]
    assert [(m["role"], m["text"]) for m in messages] == [
        ("bot", "Hello there."),  # the page's opening /greet is not shown
        ("user", "hello"),
        ("bot", "You said: hello. Call or text 988."),
        ("user", "I'm safe"),  # a payload shows as its button's title
        ("bot", "You said: /confirm_safe. Call or text 988."),
    ]
    assert messages[2]["buttons"] == [{"title": "I'm safe", "payload": "/confirm_safe"}]
    assert 'href="tel:988"' in messages[2]["html"]
    other, _ = server.session()
    h2 = requests.get(server.base + "/chat/history", headers={"Authorization": f"Bearer {other}"}, timeout=10)
    assert h2.json()["messages"] == []
    assert requests.get(server.base + "/chat/history", timeout=10).status_code == 401


def test_history_messages_start_at_the_latest_session() -> None:
    events = [
        UserUttered("old"),
        SessionStarted(),
        UserUttered("/sos"),
        BotUttered("Call or text 988.\n\nAre you safe?", {}),
    ]
    out = history_messages([e.as_dict() for e in events])
    assert [(m["role"], m["text"]) for m in out] == [
        ("user", "Get help now"),
        ("bot", "Call or text 988."),
        ("bot", "Are you safe?"),
    ]


def test_page_has_csp_and_security_headers(server: ChatServer) -> None:
    r = requests.get(server.base + "/chat/", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'self' http://127.0.0.1" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "Not an emergency service." in r.text
    assert 'id="help-now"' in r.text
    assert 'href="tel:988"' in r.text and 'href="tel:911"' in r.text


def test_page_without_slash_redirects(server: ChatServer) -> None:
    r = requests.get(server.base + "/chat", allow_redirects=False, timeout=10)
    assert r.status_code == 308
    assert requests.get(server.base + "/chat", timeout=10).url == server.base + "/chat/"


def test_assets_are_served_from_an_allow_list(server: ChatServer) -> None:
    js = requests.get(server.base + "/chat/static/app.js", timeout=10)
    assert js.status_code == 200 and js.headers["Content-Type"].startswith("text/javascript")
    again = requests.get(
        server.base + "/chat/static/app.js", headers={"If-None-Match": js.headers["ETag"]}, timeout=10
    )
    assert again.status_code == 304
    assert requests.get(server.base + "/chat/static/../webchat.py", timeout=10).status_code == 404
    assert requests.get(server.base + "/chat/static/index.html", timeout=10).status_code == 404
    assert requests.get(server.base + "/chat/static/%2e%2e%2fwebchat.py", timeout=10).status_code == 404


def test_widget_is_served_from_node_modules_or_explained(server: ChatServer) -> None:
    widget = Path(__file__).resolve().parents[2] / "bot/web/node_modules/deep-chat/dist/deepChat.bundle.js"
    r = requests.get(server.base + "/chat/vendor/deep-chat.js", timeout=10)
    if widget.exists():
        assert r.status_code == 200
        assert 'customElements.define("deep-chat"' in r.text
    else:
        assert r.status_code == 503 and "npm ci" in r.json()["message"]


# --- linkify ------------------------------------------------------------------------------------


def test_linkify_escapes_markup_before_linking() -> None:
    out = linkify('<script>alert("988")</script> & <a href="javascript:x">call 911</a>')
    assert "<script>" not in out and '<a href="javascript' not in out
    assert out.startswith("&lt;script&gt;alert(&quot;")
    assert 'href="tel:911"' in out


def test_linkify_988_call_and_text() -> None:
    out = linkify("If you're in danger, call or text 988, or call 911.")
    assert '<a class="tel-link" href="tel:988" aria-label="Call 988">988</a>' in out
    assert '<a class="sms-link" href="sms:988" aria-label="Text 988">(text)</a>' in out
    assert '<a class="tel-link" href="tel:911" aria-label="Call 911">911</a>' in out


def test_linkify_reads_each_number_in_its_own_context() -> None:
    out = linkify("Call or text 988, the 988 Suicide & Crisis Lifeline. Veterans: call 988 and press 1.")
    assert out.count('href="sms:988"') == 1  # only the first 988 follows "text"
    assert out.count('href="tel:988"') == 3
    spanish = linkify("En español: llama al 988 y marca 2, o envía AYUDA al 988.")
    assert spanish.count('href="tel:988"') == 2
    assert spanish.count('href="sms:988?&amp;body=AYUDA"') == 1


def test_linkify_988_call_only_has_no_sms_link() -> None:
    out = linkify("Call 988 any time.")
    assert 'href="tel:988"' in out and "sms:" not in out


def test_linkify_text_lines() -> None:
    out = linkify("Crisis Text Line: text HOME to 741741. Veterans: text 838255. Spanish: text AYUDA to 988.")
    assert (
        '<a class="sms-link" href="sms:741741?&amp;body=HOME" aria-label="Text HOME to 741741">741741</a>'
        in out
    )
    assert '<a class="sms-link" href="sms:838255" aria-label="Text 838255">838255</a>' in out
    assert 'href="sms:988?&amp;body=AYUDA"' in out
    assert "tel:741741" not in out and "tel:838255" not in out


def test_linkify_web_addresses() -> None:
    out = linkify("Chat at 988lifeline.org. See https://example.org/a?b=1&c=2.")
    link = (
        '<a class="web-link" href="https://988lifeline.org" target="_blank" '
        'rel="noopener noreferrer">988lifeline.org</a>.'
    )
    assert link in out
    assert 'href="https://example.org/a?b=1&amp;c=2"' in out
    assert "tel:988" not in out  # the 988 inside 988lifeline.org is not a phone number


def test_linkify_leaves_lookalikes_alone() -> None:
    for text in [
        "javascript:alert(1)//example.com",
        "ftp://files.example.org",
        "code 9881",
        "room 1911",
        "a@b.org",
    ]:
        out = linkify(text)
        assert "<a " not in out or "javascript:" not in out, text
        assert "tel:988" not in out and "tel:911" not in out, text
    assert "<a " not in linkify("javascript:alert(1)//example.com")
    assert "<a " not in linkify("a@b.org")


def test_linkify_us_phone_and_newlines() -> None:
    out = linkify("Clinic: (555) 123-4567\nor 1-800-273-8255")
    assert 'href="tel:+15551234567"' in out and 'href="tel:+18002738255"' in out
    assert "<br>" in out


def test_linkify_dash_lines_become_a_list() -> None:
    out = linkify("Reach a person:\n- Call 911\n- <b>x</b>\nThen.")
    assert out == (
        'Reach a person:<br><ul class="bot-list"><li>Call '
        '<a class="tel-link" href="tel:911" aria-label="Call 911">911</a></li>'
        "<li>&lt;b&gt;x&lt;/b&gt;</li></ul>Then."
    )


def test_render_bot_message() -> None:
    rendered = render_bot_message(
        {
            "recipient_id": "x",
            "text": "Hi <b>",
            "buttons": [{"title": "SOS", "payload": "/sos"}, {"title": 1}],
        }
    )
    assert rendered == {
        "text": "Hi <b>",
        "html": "Hi &lt;b&gt;",
        "buttons": [{"title": "SOS", "payload": "/sos"}],
    }
    assert html.unescape(rendered["html"]) == "Hi <b>"
    assert render_bot_message({"custom": {"x": 1}}) == {}


def test_linkify_any_http_url_such_as_a_summary_link() -> None:
    html_out = linkify("Your summary: http://127.0.0.1:5005/summary/abc-DEF_1. It expires in 7 days.")
    assert 'href="http://127.0.0.1:5005/summary/abc-DEF_1"' in html_out
    assert "</a>. It expires" in html_out
    other = linkify("https://care.example.health/summary/x?y=1&z=2 <b>")
    assert 'href="https://care.example.health/summary/x?y=1&amp;z=2"' in other
    assert "&lt;b&gt;" in other
    assert "<a" not in linkify("javascript://alert(1)")
