"""The chat page in Debian's chromium, against the real Rasa server and action server.

Drives what a person does: open the page, read the greeting, type, tap a button,
say something that means crisis, and press "Get help now". Screenshots go to
/tmp/webchat-*.png for a person to look at.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.support.browser import (
    BOT,
    BUTTON,
    USER,
    bot_count,
    browser_fixture,  # noqa: F401 - the module's browser fixture
    open_page,
    page_fixture,  # noqa: F401 - the module's page fixture
    replies_since,
    type_message,
    wait_for_new_bot_message,
)
from tests.support.servers import ROOT, Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def _greeting_first_line() -> str:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    text: str = domain["responses"]["utter_greet"][0]["text"]
    return text.strip().splitlines()[0]


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
    before = bot_count(page)
    type_message(page, "hello")
    page.locator(USER, has_text="hello").wait_for()
    wait_for_new_bot_message(page, before)
    assert greeting in replies_since(page, before)

    # A crisis message gets 988 with a tap-to-call link, in the same turn.
    before = bot_count(page)
    type_message(page, "I want to kill myself")
    wait_for_new_bot_message(page, before)
    replies = page.locator(BOT).all()[before:]
    assert "988" in "\n".join(r.inner_text() for r in replies)
    assert sum(r.locator('a[href="tel:988"]').count() for r in replies) >= 1
    page.screenshot(path="/tmp/webchat-crisis.png", full_page=True)

    # A button from the bot is a real button; tapping it shows its title as the user's message.
    button = page.locator(BUTTON).last
    button.wait_for()
    title = button.inner_text().strip()
    users_before = page.locator(USER).count()
    before = bot_count(page)
    button.click()
    page.wait_for_function(
        "(n) => document.querySelector('deep-chat').shadowRoot"
        ".querySelectorAll('.user-message-text').length > n",
        arg=users_before,
    )
    assert page.locator(USER).last.inner_text().strip() == title
    wait_for_new_bot_message(page, before)
    assert not re.match(r"^/", page.locator(USER).last.inner_text())

    # "Get help now" is outside the chat, works from the keyboard, and brings 988.
    before = bot_count(page)
    page.focus("#help-now")
    page.keyboard.press("Enter")
    page.locator(USER, has_text="Get help now").last.wait_for()
    wait_for_new_bot_message(page, before)
    assert "988" in replies_since(page, before)
    page.screenshot(path="/tmp/webchat-desktop.png", full_page=True)

    # A reload resumes the same conversation from the server.
    shown = bot_count(page)
    page.reload()
    page.locator(USER, has_text="Get help now").last.wait_for()
    assert bot_count(page) == shown

    csp_violations = [p for p in page.problems if "Content Security Policy" in p]
    assert csp_violations == []
    assert page.problems == []


def test_crisis_text_never_becomes_markup(page: Any, stack: Stack) -> None:
    page.goto(stack.base_url + "/chat/")
    page.locator(BOT).first.wait_for()
    before = bot_count(page)
    type_message(page, "<img src=x onerror=\"document.title='pwned'\"> /crisis")
    wait_for_new_bot_message(page, before)
    assert page.title() != "pwned"
    assert page.locator("deep-chat img[src=x]").count() == 0


def test_mobile_layout_keeps_help_visible(browser: Any, stack: Stack) -> None:
    with open_page(browser, viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True) as pg:
        pg.goto(stack.base_url + "/chat/")
        pg.locator(BOT).first.wait_for()
        help_box = pg.locator("#help-now").bounding_box()
        assert help_box is not None and help_box["y"] + help_box["height"] <= 780
        assert help_box["height"] >= 44  # a comfortable tap target
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # no sideways scrolling
        pg.screenshot(path="/tmp/webchat-mobile.png", full_page=True)
