"""The summary link in Debian's chromium, against the real Rasa server and action server.

Path taken: the intake record is stored for the browser's own web-chat conversation through
the repository (the stack's database), then the person types "show my summary"; the trained
model and data/rules/summary.yml run action_show_summary on the action server, which sends
the chat message with a link. The test clicks that link in the chat, checks the clinician
page (trials table, layers, disclaimer), then says "delete my summary", confirms with the
button, and sees the same link answer "expired or turned off" (410).

(The full intake's last step calls the same action once the intake orchestrator runs it.)

The link must be clickable in the chat: the web chat turns web addresses into links, so the
stack's PUBLIC_BASE_URL is a public-looking host that chromium maps to the Rasa server on
127.0.0.1 (--host-resolver-rules). Screenshots go to /tmp/summary-*.png.
"""

from __future__ import annotations

import http.client
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
import requests

from bot.channels.webchat import COOKIE_NAME
from bot.channels.webchat_session import SENDER_PREFIX
from tests.support.browser import (
    BOT,
    BUTTON,
    bot_count,
    launch_chromium,
    open_page,
    say,
    type_message,
    wait_for_new_bot_message,
)
from tests.support.servers import PUBLIC_HOST, Stack
from tests.unit.test_summary_records import typical
from trd.store.sql import SqlRepository

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def summary_stack(stack: Stack) -> Stack:
    """The shared stack: its PUBLIC_BASE_URL is http://PUBLIC_HOST, links last 7 days (tests/conftest.py)."""
    assert stack.env["PUBLIC_BASE_URL"] == f"http://{PUBLIC_HOST}"
    assert stack.env["SUMMARY_LINK_TTL_DAYS"] == "7"
    return stack


@pytest.fixture(scope="module")
def browser(summary_stack: Stack) -> Iterator[Any]:
    resolve = f"--host-resolver-rules=MAP {PUBLIC_HOST} 127.0.0.1:{summary_stack.rasa_port}"
    with launch_chromium([resolve]) as b:
        yield b


def _sender_id(context: Any) -> str:
    """The conversation id the server derives from the chat session (token: v1.<id>.<expiry>.<sig>)."""
    [cookie] = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
    return SENDER_PREFIX + cookie["value"].split(".")[1]


def test_summary_link_from_the_chat_opens_the_clinician_page(browser: Any, summary_stack: Stack) -> None:
    with open_page(browser, timeout_ms=TIMEOUT_MS) as page:
        context = page.context
        page.goto(summary_stack.base_url + "/chat/")
        page.locator(BOT).first.wait_for()

        # the person's intake, stored for this very conversation
        repo = SqlRepository.from_url(summary_stack.database_url)
        try:
            repo.save_intake(_sender_id(context), typical())
        finally:
            repo.dispose()

        before = bot_count(page)
        type_message(page, "show my summary")
        wait_for_new_bot_message(page, before)
        # the summary, then (its own bubble, last) the offer of weekly check-ins
        assert "would you like a weekly check-in?" in page.locator(BOT).last.inner_text()
        reply = page.locator(BOT).filter(has_text="Where things stand").last
        text = reply.inner_text()
        assert "Where things stand" in text
        assert "Still open: re-checking the diagnosis" in text
        assert "Worth asking your clinician:" in text
        assert "not an emergency service" in text
        link = reply.locator(f'a[href^="http://{PUBLIC_HOST}/summary/"]')
        assert link.count() == 1
        href = link.get_attribute("href")
        page.screenshot(path="/tmp/summary-chat.png", full_page=True)

        with context.expect_page() as opened:
            link.click()
        summary = opened.value
        summary.set_default_timeout(TIMEOUT_MS)
        summary.wait_for_load_state()
        assert summary.url == href
        assert summary.title().startswith("Treatment-resistant depression: treatment history and open layers")
        rows = summary.locator("table.trials tbody tr")
        assert rows.count() == 3
        assert rows.nth(0).locator("td").nth(1).inner_text().startswith("sertraline")
        assert "Too short" in rows.nth(1).inner_text()
        layers = summary.locator("article.layer")
        assert layers.count() == 5
        assert "Optimise what is in place" in layers.nth(1).inner_text()
        assert layers.nth(1).locator(".badge").inner_text() == "Open"
        disclaimer = summary.locator(".disclaimer").inner_text()
        assert "This is educational information, not medical advice" in disclaimer
        summary.screenshot(path="/tmp/summary-page.png", full_page=True)

        # the page's PDF link is served as a PDF (fetched directly: the page's CSP allows no fetch)
        pdf_href = summary.locator('a[href$=".pdf"]').get_attribute("href")
        assert href.endswith("/" + pdf_href[: -len(".pdf")])
        pdf = requests.get(summary_stack.base_url + urlsplit(href).path + ".pdf", timeout=60)
        assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")

        # "delete my summary", confirmed: the same link now says it was turned off
        before = bot_count(page)
        type_message(page, "delete my summary")
        wait_for_new_bot_message(page, before)
        assert "Turn off the link to your summary?" in page.locator(BOT).last.inner_text()
        before = bot_count(page)
        page.locator(BUTTON, has_text="Yes, turn it off").last.click()
        wait_for_new_bot_message(page, before)
        assert "your summary link is turned off" in page.locator(BOT).last.inner_text()

        gone = summary.reload()
        assert gone is not None and gone.status == 410
        assert "This summary link has expired or was turned off" in summary.locator("h1").inner_text()
        summary.screenshot(path="/tmp/summary-gone.png", full_page=True)
        assert page.page_errors == []


@pytest.mark.parametrize(
    "raw_path, status",
    [
        ("/summary/%00", 404),
        ("/summary/../../etc/passwd", 404),
        ("/summary/", 404),
        ("/summary/" + "A" * 43, 404),
        ("/summary/" + "A" * 43 + ".pdf", 404),
        ("/summary/" + "A" * 43 + ".json", 404),
    ],
)
def test_the_rasa_server_answers_junk_summary_paths_plainly(
    summary_stack: Stack, raw_path: str, status: int
) -> None:
    """The channel as Rasa mounts it from credentials.yml: friendly pages, private headers, never a 500."""
    conn = http.client.HTTPConnection("127.0.0.1", summary_stack.rasa_port, timeout=30)
    try:
        conn.putrequest("GET", raw_path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status == status, body[:300]
    assert resp.getheader("Cache-Control") == "no-store"
    assert "noindex" in (resp.getheader("X-Robots-Tag") or "")
    assert "default-src 'none'" in (resp.getheader("Content-Security-Policy") or "")
    assert b"This summary link doesn&#39;t work" in body


def test_a_completed_intake_on_the_page_ends_with_the_summary_and_a_working_link(
    browser: Any, summary_stack: Stack
) -> None:
    with open_page(browser, timeout_ms=TIMEOUT_MS) as page:
        context = page.context
        page.goto(summary_stack.base_url + "/chat/")
        page.locator(BOT).first.wait_for()

        assert "Part 1 of 5" in say(page, "yes, let's start")
        assert "Part 1 of 5, continued" in say(page, "skip this part")
        assert "Part 2 of 5" in say(page, "skip this part")
        say(page, "zoloft then wellbutrin")
        for answer in [
            "150 mg",
            "10 weeks",
            "most days",
            "no change",
            "none",
            "no",
            "on its own",
            "yes",
            "300mg",
            "8 weeks",
            "most days",
            "some improvement",
            "none",
            "yes",
            "added to the zoloft",
            "yes",
        ]:
            reply = say(page, answer)
        assert "other medicines" in reply
        assert "Part 2 of 5, continued" in say(page, "no")
        assert "Is that everything" in say(page, "nothing else")
        assert "Part 3 of 5" in say(page, "yes")
        assert "Part 4 of 5" in say(page, "skip this part")
        assert "Part 5 of 5" in say(page, "skip this part")
        reply = say(page, "skip this part")
        assert "That's all five parts" in reply
        assert "Where things stand" in reply
        link = page.locator(BOT).last.locator(f'a[href^="http://{PUBLIC_HOST}/summary/"]')
        if link.count() == 0:  # the link may be in an earlier bubble of the same turn
            link = page.locator(f'deep-chat a[href^="http://{PUBLIC_HOST}/summary/"]').last
        with context.expect_page() as opened:
            link.click()
        summary = opened.value
        summary.wait_for_load_state()
        rows = summary.locator("table.trials tbody tr")
        assert rows.count() == 2
        assert rows.nth(0).locator("td").nth(1).inner_text().startswith("sertraline")
        assert rows.nth(1).locator("td").nth(1).inner_text().startswith("bupropion")
        assert summary.locator("article.layer").count() == 5
        assert "not medical advice" in summary.locator(".disclaimer").inner_text()
        page.screenshot(path="/tmp/summary-after-intake.png", full_page=True)
