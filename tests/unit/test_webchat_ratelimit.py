"""Rate limits on the web chat: token buckets per session (messages) and per client address (sessions).

Over a limit the API answers 429 with Retry-After and a polite text that names the
crisis lines from data/knowledge/crisis_resources.yml, and the page shows that text
in place of a reply: a person in crisis who is rate limited still sees where to get
help. Real HTTP on 127.0.0.1 (tests/unit/webchat_loopback.py) with a clock the test
moves; the last tests drive the real page in Debian's chromium.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

import pytest
import requests

from bot.channels.ratelimit import (
    RateLimiter,
    RateLimits,
    client_address,
    client_key,
    parse_trusted_proxies,
    retry_after_seconds,
)
from bot.channels.webchat import WebChatInput
from bot.channels.webchat_page import load_web_texts
from bot.channels.webchat_session import SessionSigner
from tests.unit.webchat_loopback import SECRET, FakeClock, LoopbackChat
from trd.summary.resources import load_resources

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = load_resources(ROOT / "data" / "knowledge" / "crisis_resources.yml")
TEXTS = load_web_texts()
LIFELINE = RESOURCES["lifeline_number"]
EMERGENCY = RESOURCES["emergency_number"]


# --- the token bucket --------------------------------------------------------------------------


def test_a_burst_then_one_token_per_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=30, burst=10, clock=clock)
    assert [limiter.take("a") for _ in range(10)] == [0.0] * 10
    assert limiter.take("a") == pytest.approx(2.0)  # 30 a minute: one every 2 seconds
    assert limiter.take("b") == 0.0  # another key has its own bucket
    clock.advance(1.0)
    assert limiter.take("a") == pytest.approx(1.0)  # half a token so far
    clock.advance(1.0)
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(2.0)


def test_an_idle_bucket_refills_to_the_burst_and_no_more() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    for _ in range(3):
        limiter.take("a")
    clock.advance(3600)
    assert [limiter.take("a") for _ in range(3)] == [0.0] * 3
    assert limiter.take("a") > 0


def test_a_refused_request_takes_no_token() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock)
    limiter.take("a")
    for _ in range(5):
        assert limiter.take("a") == pytest.approx(1.0)
    clock.advance(1.0)
    assert limiter.take("a") == 0.0


def test_idle_buckets_are_dropped_so_memory_stays_bounded() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=10, clock=clock)  # full again after 10 s
    for i in range(1000):
        limiter.take(f"session-{i}")
    assert len(limiter) == 1000
    clock.advance(9.9)
    limiter.take("late")
    assert len(limiter) == 1001  # not yet full again: kept
    clock.advance(0.2)
    limiter.take("later")
    assert len(limiter) == 2  # the 1000 are full again, the same as new: dropped


def test_at_most_max_keys_buckets_are_kept() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=1, burst=1, clock=clock, max_keys=3)
    for key in "abcd":
        limiter.take(key)
    assert len(limiter) == 3
    assert limiter.take("d") > 0  # the most recent are kept
    assert limiter.take("a") == 0.0  # the least recently used was dropped


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert retry_after_seconds(0.01) == 1
    assert retry_after_seconds(2.0) == 2
    assert retry_after_seconds(2.1) == 3


@pytest.mark.parametrize("per_minute, burst", [(0, 1), (-1, 1), (10, 0)])
def test_a_limiter_refuses_nonsense(per_minute: float, burst: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(per_minute, burst)


# --- settings ----------------------------------------------------------------------------------


def test_defaults_are_generous_for_a_person_typing() -> None:
    limits = RateLimits.from_env({})
    assert limits.messages is not None and limits.sessions is not None
    assert (limits.messages.per_minute, limits.messages.burst) == (60, 20)
    assert (limits.sessions.per_minute, limits.sessions.burst) == (10, 10)
    assert limits.trusted_proxies == ()


def test_limits_from_the_environment() -> None:
    limits = RateLimits.from_env(
        {
            "WEBCHAT_MESSAGES_PER_MINUTE": "12",
            "WEBCHAT_MESSAGE_BURST": "4",
            "WEBCHAT_SESSIONS_PER_MINUTE": "0",
            "WEBCHAT_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8, ::1",
        }
    )
    assert limits.messages is not None
    assert (limits.messages.per_minute, limits.messages.burst) == (12, 4)
    assert limits.sessions is None  # 0 turns it off
    assert [str(n) for n in limits.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    channel = WebChatInput.from_env({"WEBCHAT_SECRET": SECRET, "WEBCHAT_MESSAGE_BURST": "3"})
    assert channel.limits.messages is not None and channel.limits.messages.burst == 3
    assert channel.limits.sessions is not None and channel.limits.sessions.burst == 10


@pytest.mark.parametrize(
    "env, name",
    [
        ({"WEBCHAT_MESSAGES_PER_MINUTE": "lots"}, "WEBCHAT_MESSAGES_PER_MINUTE"),
        ({"WEBCHAT_MESSAGES_PER_MINUTE": "-5"}, "WEBCHAT_MESSAGES_PER_MINUTE"),
        ({"WEBCHAT_MESSAGE_BURST": "0"}, "WEBCHAT_MESSAGE_BURST"),
        ({"WEBCHAT_SESSION_BURST": "2.5"}, "WEBCHAT_SESSION_BURST"),
        ({"WEBCHAT_SESSIONS_PER_MINUTE": "nan"}, "WEBCHAT_SESSIONS_PER_MINUTE"),
        ({"WEBCHAT_TRUSTED_PROXIES": "the proxy"}, "WEBCHAT_TRUSTED_PROXIES"),
    ],
)
def test_a_bad_setting_stops_the_start_with_its_name(env: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        WebChatInput.from_env({"WEBCHAT_SECRET": SECRET, **env})


# --- the client's address ------------------------------------------------------------------------


PROXIES = parse_trusted_proxies("127.0.0.1, 10.0.0.0/8")


@pytest.mark.parametrize(
    "peer, forwarded, proxies, client",
    [
        # No trusted proxies: the header is never read, so a client cannot choose its address.
        ("203.0.113.9", ["198.51.100.1"], (), "203.0.113.9"),
        # A peer that is not a trusted proxy: its header is not read either.
        ("203.0.113.9", ["198.51.100.1"], PROXIES, "203.0.113.9"),
        # Behind a trusted proxy: the address it saw.
        ("127.0.0.1", ["198.51.100.1"], PROXIES, "198.51.100.1"),
        # What the client wrote in front is ignored: the rightmost untrusted address counts.
        ("127.0.0.1", ["1.2.3.4, 198.51.100.1"], PROXIES, "198.51.100.1"),
        # Two trusted hops, and headers split over two lines.
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1", "10.1.2.3"], PROXIES, "198.51.100.1"),
        # Ports and brackets as some proxies write them.
        ("127.0.0.1", ["198.51.100.1:4711"], PROXIES, "198.51.100.1"),
        ("127.0.0.1", ["[2001:db8::7]:443"], PROXIES, "2001:db8::7"),
        # Garbage where the trusted proxy's entry should be: the nearest trusted hop.
        ("127.0.0.1", ["1.2.3.4, not-an-ip"], PROXIES, "127.0.0.1"),
        # Only trusted hops: the leftmost.
        ("127.0.0.1", ["10.0.0.5"], PROXIES, "10.0.0.5"),
        # No header behind a trusted proxy: the proxy itself.
        ("127.0.0.1", [], PROXIES, "127.0.0.1"),
    ],
)
def test_client_address(peer: str, forwarded: List[str], proxies: Any, client: str) -> None:
    assert client_address(peer, forwarded, proxies) == ipaddress.ip_address(client)


def test_client_keys() -> None:
    v6a = client_address("2001:db8:1:2::1", [], ())
    v6b = client_address("2001:db8:1:2:ffff::9", [], ())
    assert client_key(v6a, "") == client_key(v6b, "") == "ip:2001:db8:1:2::/64"
    assert client_key(client_address("::ffff:192.0.2.1", [], ()), "") == "ip:192.0.2.1"
    assert client_key(None, "") == "peer:unknown"


# --- over HTTP -------------------------------------------------------------------------------------


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def make_server(clock: FakeClock) -> Iterator[Callable[..., LoopbackChat]]:
    servers: List[LoopbackChat] = []

    def factory(env: Optional[dict] = None) -> LoopbackChat:
        limits = RateLimits.from_env(env or {}, clock=clock)
        channel = WebChatInput(SessionSigner(SECRET, ttl_seconds=3600), (), limits=limits)
        srv = LoopbackChat(channel).start()
        servers.append(srv)
        return srv

    yield factory
    for srv in servers:
        srv.stop()


def _assert_polite_429(r: requests.Response, text: str, retry_after: int) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["Retry-After"] == str(retry_after)
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["error"] == "rate_limited"
    assert body["retry_after"] == retry_after
    assert body["message"] == text
    # a person in crisis who is rate limited still sees how to get help, with tap-to-call links
    assert f"call or text {LIFELINE}" in body["message"] and f"call {EMERGENCY}" in body["message"]
    assert f'href="tel:{LIFELINE}"' in body["html"] and f'href="tel:{EMERGENCY}"' in body["html"]


@pytest.mark.slow
def test_messages_over_the_burst_get_429_with_the_crisis_line_then_recover(
    make_server: Callable[..., LoopbackChat], clock: FakeClock
) -> None:
    srv = make_server({"WEBCHAT_MESSAGES_PER_MINUTE": "30", "WEBCHAT_MESSAGE_BURST": "10"})
    token = srv.token()
    for i in range(10):
        assert srv.send(token, f"message {i}").status_code == 200
    r = srv.send(token, "is this thing on")
    _assert_polite_429(r, TEXTS.too_many_messages, retry_after=2)
    assert "is this thing on" not in srv.rasa.received  # not handled: the page says so
    # Safety first: a message the risk lexicon flags is never held back.
    r = srv.send(token, "I want to end it all")
    assert r.status_code == 200 and r.json()["messages"][0]["text"] == "You said: I want to end it all"

    other = srv.token()
    assert srv.send(other, "hello").status_code == 200  # another session is not held back

    clock.advance(1.0)
    r = srv.send(token, "still too soon")
    _assert_polite_429(r, TEXTS.too_many_messages, retry_after=1)
    clock.advance(1.0)
    r = srv.send(token, "ok now")
    assert r.status_code == 200
    assert r.json()["messages"][0]["text"] == "You said: ok now"


@pytest.mark.slow
def test_a_steady_typist_is_never_limited(make_server: Callable[..., LoopbackChat], clock: FakeClock) -> None:
    srv = make_server()
    token = srv.token()
    for i in range(60):  # one message every 2 seconds for two minutes
        assert srv.send(token, f"message {i}").status_code == 200
        clock.advance(2.0)


def test_new_sessions_over_the_burst_get_429_but_resuming_still_works(
    make_server: Callable[..., LoopbackChat], clock: FakeClock
) -> None:
    srv = make_server()
    first = srv.new_session()
    cookie = first.cookies
    for _ in range(9):
        assert srv.new_session().status_code == 200
    r = srv.new_session()
    _assert_polite_429(r, TEXTS.too_many_sessions, retry_after=6)  # 10 a minute: one every 6 s
    assert "Set-Cookie" not in r.headers

    resumed = requests.post(srv.base + "/chat/session", json={"resume": True}, cookies=cookie, timeout=10)
    assert resumed.status_code == 200 and resumed.json()["resumed"] is True

    clock.advance(6.0)
    assert srv.new_session().status_code == 200
    assert srv.new_session().status_code == 429


def test_a_forged_forwarded_for_does_not_escape_the_limit(make_server: Callable[..., LoopbackChat]) -> None:
    srv = make_server({"WEBCHAT_SESSION_BURST": "2"})
    statuses = [srv.new_session(**{"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(4)]
    assert statuses == [200, 200, 429, 429]


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(
    make_server: Callable[..., LoopbackChat],
) -> None:
    srv = make_server({"WEBCHAT_SESSION_BURST": "2", "WEBCHAT_TRUSTED_PROXIES": "127.0.0.1"})

    def status(forwarded: str) -> int:
        return srv.new_session(**{"X-Forwarded-For": forwarded}).status_code

    assert [status("198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert status("198.51.100.2") == 200
    assert status("1.2.3.4, 198.51.100.1") == 429  # what the client wrote in front is ignored


def test_limits_can_be_turned_off(make_server: Callable[..., LoopbackChat]) -> None:
    srv = make_server({"WEBCHAT_MESSAGES_PER_MINUTE": "0", "WEBCHAT_SESSIONS_PER_MINUTE": "0"})
    for _ in range(15):
        token = srv.token()
    assert all(srv.send(token, f"m{i}").status_code == 200 for i in range(15))


# --- in the browser: the page shows the 429's text --------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
BOT = "deep-chat .ai-message-text"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (scripts/system_deps.sh does)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    problems: List[str] = []
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.problems = problems
    yield pg
    context.close()


def _type(page: Any, text: str) -> None:
    box = page.locator("deep-chat #text-input")
    box.click()
    box.fill(text)
    page.keyboard.press("Enter")


def _wait_for_bot_text(page: Any, text: str) -> Any:
    reply = page.locator(BOT, has_text=text).last
    reply.wait_for()
    return reply


@pytest.mark.browser
def test_the_page_shows_the_429_text_with_call_links_then_sends_again(
    page: Any, make_server: Callable[..., LoopbackChat], clock: FakeClock
) -> None:
    srv = make_server({"WEBCHAT_MESSAGE_BURST": "2"})
    page.goto(srv.base + "/chat/")
    _wait_for_bot_text(page, "You said: /greet")  # the page's opening message takes one token
    _type(page, "first")
    _wait_for_bot_text(page, "You said: first")

    _type(page, "second")
    notice = _wait_for_bot_text(page, "wasn't sent")
    assert " ".join(notice.inner_text().split()) == " ".join(
        TEXTS.too_many_messages.replace(f"{LIFELINE},", f"{LIFELINE} (text),").split()
    )
    assert notice.locator(f'a[href="tel:{LIFELINE}"]').count() == 1
    assert notice.locator(f'a[href="tel:{EMERGENCY}"]').count() == 1
    assert "second" not in srv.rasa.received
    # a crisis message is never held back by the limit
    _type(page, "I want to die")
    _wait_for_bot_text(page, "You said: I want to die")

    clock.advance(2.0)
    _type(page, "second")
    _wait_for_bot_text(page, "You said: second")
    assert page.problems == []


@pytest.mark.browser
def test_the_page_shows_the_session_limit_text(
    browser: Any, page: Any, make_server: Callable[..., LoopbackChat]
) -> None:
    srv = make_server({"WEBCHAT_SESSION_BURST": "1"})
    assert srv.new_session().status_code == 200  # someone else on this address took the only one
    page.goto(srv.base + "/chat/")
    status = page.locator("#status")
    status.wait_for()
    assert status.inner_text().startswith("Sorry, a lot of new chats")
    assert status.locator(f'a[href="tel:{LIFELINE}"]').count() == 1
    assert status.locator(f'a[href="tel:{EMERGENCY}"]').count() == 1


@pytest.mark.browser
def test_the_page_shows_the_files_offline_text_when_the_server_is_unreachable(
    page: Any, make_server: Callable[..., LoopbackChat]
) -> None:
    srv = make_server()
    page.route("**/chat/session", lambda route: route.abort())
    page.goto(srv.base + "/chat/")
    status = page.locator("#status")
    status.wait_for()
    assert status.inner_text() == TEXTS.offline.replace(f"{LIFELINE},", f"{LIFELINE} (text),")
    assert status.locator(f'a[href="tel:{LIFELINE}"]').count() == 1
