"""'Clear this chat' on a shared computer (#10), in Debian's chromium against the real servers:
the history leaves the screen, a reload shows none of it, and the old token is refused."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.support.browser import (
    BOT,
    USER,
    browser_fixture,  # noqa: F401 - the module's browser fixture
    page_fixture,  # noqa: F401 - the module's page fixture
    say,
)
from tests.support.servers import Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PRIVATE = "my private zebra notes about sertraline"
NO_USER_MESSAGES_JS = (
    "() => document.querySelector('deep-chat').shadowRoot.querySelectorAll('.user-message-text').length === 0"
)


def _session_cookie(page: Any) -> str:
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert "trd_chat" in cookies, cookies
    return str(cookies["trd_chat"])


def _old_token_answers(stack: Stack, token: str) -> list:
    headers = {"Origin": stack.base_url, "Authorization": f"Bearer {token}"}
    history = requests.get(f"{stack.base_url}/chat/history", headers=headers, timeout=30)
    message = requests.post(
        f"{stack.base_url}/chat/message", json={"message": "is anyone there"}, headers=headers, timeout=30
    )
    resumed = requests.post(
        f"{stack.base_url}/chat/session",
        json={"resume": True},
        cookies={"trd_chat": token},
        headers={"Origin": stack.base_url},
        timeout=30,
    )
    assert PRIVATE not in history.text + message.text
    assert resumed.json()["resumed"] is False and resumed.json()["token"] != token
    return [history.status_code, message.status_code]


def test_clear_this_chat_ends_it_for_good(page: Any, stack: Stack) -> None:
    page.goto(stack.base_url + "/chat/")
    page.locator(BOT).first.wait_for()
    say(page, PRIVATE)
    page.locator(USER, has_text=PRIVATE).wait_for()
    token = _session_cookie(page)

    page.on("dialog", lambda dialog: dialog.accept())
    clear = page.get_by_role("button", name="Clear this chat")
    assert clear.is_visible()
    clear.click()
    page.locator("#status", has_text="cleared from this computer").wait_for()
    page.locator(BOT).first.wait_for()  # a fresh conversation's greeting
    assert page.locator(USER).count() == 0
    assert PRIVATE not in page.locator("deep-chat").inner_text()
    assert _session_cookie(page) != token
    page.screenshot(path="/tmp/webchat-cleared.png", full_page=True)

    page.reload()
    page.locator(BOT).first.wait_for()
    assert page.locator(USER).count() == 0
    assert PRIVATE not in page.locator("deep-chat").inner_text()

    assert _old_token_answers(stack, token) == [401, 401]
    assert page.page_errors == []


def test_start_over_ends_the_old_session_too(page: Any, stack: Stack) -> None:
    page.goto(stack.base_url + "/chat/")
    page.locator(BOT).first.wait_for()
    say(page, PRIVATE)
    token = _session_cookie(page)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Start over").click()
    page.wait_for_function(NO_USER_MESSAGES_JS)
    page.locator(BOT).first.wait_for()
    assert _session_cookie(page) != token
    assert _old_token_answers(stack, token) == [401, 401]
