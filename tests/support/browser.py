"""Drive the chat page in Debian's chromium (headless) with Playwright, as a person would.

Shared by the browser tests: launch chromium, open a page that records its console errors
and uncaught exceptions, type into the deep-chat widget, tap the bot's buttons and wait for
the bot's replies. The widget renders into a shadow root; Playwright's CSS locators pierce
it, but the ``wait_for_function`` scripts below must reach into it themselves.

    with launch_chromium() as browser, open_page(browser) as page:
        page.goto(stack.base_url + "/chat/")
        page.locator(BOT).first.wait_for()
        reply = say(page, "hello")          # type, press Enter, wait, return the new replies
        assert page.problems == []
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, List, Sequence

import pytest

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
DESKTOP = {"width": 1100, "height": 900}

BOT = "deep-chat .ai-message-text"
USER = "deep-chat .user-message-text"
BUTTON = "deep-chat .rasa-button"
TEXT_INPUT = "deep-chat #text-input"

_NEW_REPLY_JS = (
    "([sel, n]) => { const c = document.querySelector('deep-chat').shadowRoot"
    ".querySelectorAll(sel).length; return c > n; }"
)
_NO_LOADING_BUBBLE_JS = (
    "() => !document.querySelector('deep-chat').shadowRoot.querySelector('.deep-chat-loading-message-bubble')"
)


@contextmanager
def launch_chromium(extra_args: Sequence[str] = ()) -> Iterator[Any]:
    """Debian's chromium, headless, through Playwright (skips if Playwright is not installed,
    fails with the fix if chromium is missing); closed on the way out."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (scripts/system_deps.sh does)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_page(browser: Any, timeout_ms: int = TIMEOUT_MS, **context_options: Any) -> Iterator[Any]:
    """A page in a fresh browser context (desktop-sized unless ``viewport`` is given).

    The page gets two lists, filled as things go wrong: ``page.problems`` (console errors and
    uncaught exceptions, in order) and ``page.page_errors`` (uncaught exceptions only). The
    context is closed on the way out; ``page.context`` reaches it (cookies, new tabs).
    """
    context = browser.new_context(**{"viewport": DESKTOP, **context_options})
    try:
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        problems: List[str] = []
        page_errors: List[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("pageerror", lambda e: page_errors.append(str(e)))
        page.problems = problems
        page.page_errors = page_errors
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Any]:
    """The ``browser`` fixture: chromium for one test module. Import it into the module that
    wants it (``from tests.support.browser import browser_fixture``); a module that needs
    other command-line switches defines its own ``browser`` with ``launch_chromium``."""
    with launch_chromium() as browser:
        yield browser


@pytest.fixture(name="page")
def page_fixture(browser: Any) -> Iterator[Any]:
    """The ``page`` fixture: a fresh desktop-sized page for each test (see ``open_page``)."""
    with open_page(browser) as page:
        yield page


def bot_count(page: Any) -> int:
    """How many bot messages the chat shows."""
    return int(page.locator(BOT).count())


def wait_for_new_bot_message(page: Any, before: int) -> Any:
    """Wait until more than ``before`` bot messages are shown and no reply is still loading;
    return the last bot message."""
    page.wait_for_function(
        _NEW_REPLY_JS, arg=[".ai-message-text:not(.deep-chat-loading-message-bubble)", before]
    )
    # the loading bubble is replaced by the reply; wait until no loading bubble remains
    page.wait_for_function(_NO_LOADING_BUBBLE_JS)
    return page.locator(BOT).last


def replies_since(page: Any, before: int) -> str:
    """The text of the bot messages after the first ``before`` of them, one per line."""
    return "\n".join(page.locator(BOT).all_inner_texts()[before:])


def type_message(page: Any, text: str) -> None:
    """Type ``text`` into the chat's input and press Enter (does not wait for the reply)."""
    box = page.locator(TEXT_INPUT)
    box.click()
    box.fill(text)
    page.keyboard.press("Enter")


def say(page: Any, text: str) -> str:
    """Type ``text``, send it, wait for the bot's answer; return the answer's messages."""
    before = bot_count(page)
    type_message(page, text)
    wait_for_new_bot_message(page, before)
    return replies_since(page, before)


def tap(page: Any, title: str) -> str:
    """Tap the newest button with exactly this title (the one under the latest question),
    wait for the bot's answer; return the answer's messages."""
    button = page.locator(BUTTON).filter(has_text=re.compile(rf"^\s*{re.escape(title)}\s*$")).last
    button.wait_for()
    before = bot_count(page)
    button.click()
    wait_for_new_bot_message(page, before)
    return replies_since(page, before)
