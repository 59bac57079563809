"""The chat page in Debian's chromium, against the real Rasa server and action server.

Drives what a person does: open the page, read the greeting, type, tap a button,
say something that means crisis, and press "Get help now". Screenshots go to
/tmp/webchat-*.png for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator, List

import pytest
import yaml

from tests.support.servers import ROOT, Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000
BOT = "deep-chat .ai-message-text"
USER = "deep-chat .user-message-text"


def _greeting_first_line() -> str:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    text: str = domain["responses"]["utter_greet"][0]["text"]
    return text.strip().splitlines()[0]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (scripts/system_deps.sh does)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Any, stack: Stack) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    problems: List[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.problems = problems
    yield pg
    context.close()


def _bot_count(page: Any) -> int:
    return int(page.locator(BOT).count())


def _wait_for_new_bot_message(page: Any, before: int) -> Any:
    page.wait_for_function(
        "([sel, n]) => { const c = document.querySelector('deep-chat').shadowRoot"
        ".querySelectorAll(sel).length; return c > n; }",
        arg=[".ai-message-text:not(.deep-chat-loading-message-bubble)", before],
    )
    # the loading bubble is replaced by the reply; wait until no loading bubble remains
    page.wait_for_function(
        "() => !document.querySelector('deep-chat').shadowRoot"
        ".querySelector('.deep-chat-loading-message-bubble')"
    )
    return page.locator(BOT).last


def _type(page: Any, text: str) -> None:
    box = page.locator("deep-chat #text-input")
    box.click()
    box.fill(text)
    page.keyboard.press("Enter")


def _replies_since(page: Any, before: int) -> str:
    texts = page.locator(BOT).all_inner_texts()
    return "\n".join(texts[before:])


def test_chat_page_end_to_end(page: Any, stack: Stack) -> None:
    page.goto(stack.base_url + "/chat/")
    # The header says what this is and where to get help, before any chat loads.
    header = page.locator("header")
    assert "Not an emergency service." in header.inner_text()
    assert page.locator('header a[href="tel:988"]').count() == 1

    # The page opens with the domain's greeting.
    greeting = _greeting_first_line()
    page.locator(BOT, has_text=greeting).first.wait_for()
    assert page.locator(USER).count() == 0  # the opening /greet is not shown as a user message

    # "hello" gets the greeting back.
    before = _bot_count(page)
    _type(page, "hello")
    page.locator(USER, has_text="hello").wait_for()
    _wait_for_new_bot_message(page, before)
    assert greeting in _replies_since(page, before)

    # A crisis message gets 988 with a tap-to-call link, in the same turn.
    before = _bot_count(page)
    _type(page, "I want to kill myself")
    _wait_for_new_bot_message(page, before)
    replies = page.locator(BOT).all()[before:]
    assert "988" in "\n".join(r.inner_text() for r in replies)
    assert sum(r.locator('a[href="tel:988"]').count() for r in replies) >= 1
    page.screenshot(path="/tmp/webchat-crisis.png", full_page=True)

    # A button from the bot is a real button; tapping it shows its title as the user's message.
    button = page.locator("deep-chat .rasa-button").last
    button.wait_for()
    title = button.inner_text().strip()
    users_before = page.locator(USER).count()
    before = _bot_count(page)
    button.click()
    page.wait_for_function(
        "(n) => document.querySelector('deep-chat').shadowRoot"
        ".querySelectorAll('.user-message-text').length > n",
        arg=users_before,
    )
    assert page.locator(USER).last.inner_text().strip() == title
    _wait_for_new_bot_message(page, before)
    assert not re.match(r"^/", page.locator(USER).last.inner_text())

    # "Get help now" is outside the chat, works from the keyboard, and brings 988.
    before = _bot_count(page)
    page.focus("#help-now")
    page.keyboard.press("Enter")
    page.locator(USER, has_text="Get help now").last.wait_for()
    _wait_for_new_bot_message(page, before)
    assert "988" in _replies_since(page, before)
    page.screenshot(path="/tmp/webchat-desktop.png", full_page=True)

    # A reload resumes the same conversation from the server.
    shown = _bot_count(page)
    page.reload()
    page.locator(USER, has_text="Get help now").last.wait_for()
    assert _bot_count(page) == shown

    csp_violations = [p for p in page.problems if "Content Security Policy" in p]
    assert csp_violations == []
    assert page.problems == []


def test_crisis_text_never_becomes_markup(page: Any, stack: Stack) -> None:
    page.goto(stack.base_url + "/chat/")
    page.locator(BOT).first.wait_for()
    before = _bot_count(page)
    _type(page, "<img src=x onerror=\"document.title='pwned'\"> /crisis")
    _wait_for_new_bot_message(page, before)
    assert page.title() != "pwned"
    assert page.locator("deep-chat img[src=x]").count() == 0


def test_mobile_layout_keeps_help_visible(browser: Any, stack: Stack) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        pg.goto(stack.base_url + "/chat/")
        pg.locator(BOT).first.wait_for()
        help_box = pg.locator("#help-now").bounding_box()
        assert help_box is not None and help_box["y"] + help_box["height"] <= 780
        assert help_box["height"] >= 44  # a comfortable tap target
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # no sideways scrolling
        pg.screenshot(path="/tmp/webchat-mobile.png", full_page=True)
    finally:
        context.close()
