"""The person's PHQ-9 chart in the web chat (#12), in Debian's chromium against the real servers.

Path taken: the intake record with five weekly check-ins is stored for the browser's own web-chat
conversation (the stack's database), the person types "show my summary"; the trained model and
data/rules/summary.yml run action_show_summary, which sends the summary text and then the chart's
payload (dates and totals); the Rasa server's web chat draws the simple SVG and the page shows it
as an <img> under the text, with the totals in words as its alt text. After a reload the history
shows it again. The conversation's stored events keep the small payload, never the image.

Screenshots (look at them after a change): /tmp/summary-chart.png (desktop), and
/tmp/summary-chart-phone.png (a phone-sized page).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import sqlalchemy as sa

from bot.channels.webchat import COOKIE_NAME
from bot.channels.webchat_session import SENDER_PREFIX
from tests.support.browser import (
    BOT,
    bot_count,
    launch_chromium,
    open_page,
    type_message,
    wait_for_new_bot_message,
)
from tests.support.servers import Stack
from tests.unit.test_summary_actions import FOLLOW_UP
from tests.unit.test_summary_records import typical
from trd.store.sql import SqlRepository

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TIMEOUT_MS = 60_000
CHART = "deep-chat img.chat-chart"


def _settled_box(locator: Any, seconds: float = 5.0) -> Any:
    """The element's box once it has stopped changing (the same for 400 ms)."""
    deadline = time.monotonic() + seconds
    box, same = locator.bounding_box(), 0
    while time.monotonic() < deadline and same < 4:
        time.sleep(0.1)
        again = locator.bounding_box()
        same = same + 1 if again == box else 0
        box = again
    return box
ALT = (
    "Chart of your weekly PHQ-9 totals: 13 at your intake, then 18, 14, 13, 8, 4 (lower means fewer "
    "symptoms). Lines mark a response (6.5, half of 13) and remission (under 5)."
)
PHONE = {"width": 390, "height": 844}


def _sender_id(context: Any) -> str:
    [cookie] = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
    return SENDER_PREFIX + cookie["value"].split(".")[1]


def _stored_bot_data(stack: Stack, sender_id: str) -> list:
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'bot'"),
                {"s": sender_id},
            ).fetchall()
    finally:
        engine.dispose()
    return [json.loads(r[0]) for r in rows]


def _chart_shown(page: Any) -> Any:
    chart = page.locator(CHART)
    chart.wait_for()
    assert chart.count() == 1
    # the image really drew (the page's CSP lets a data: image in; a blocked one has no size)
    page.wait_for_function(
        "() => { const i = document.querySelector('deep-chat').shadowRoot.querySelector('img.chat-chart');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    assert chart.get_attribute("alt") == ALT
    assert chart.get_attribute("src").startswith("data:image/svg+xml;base64,")
    return chart


def test_the_web_chat_shows_the_chart_of_the_check_ins_under_the_summary(stack: Stack) -> None:
    with launch_chromium() as browser, open_page(browser, timeout_ms=TIMEOUT_MS) as page:
        page.goto(stack.base_url + "/chat/")
        page.locator(BOT).first.wait_for()
        sender_id = _sender_id(page.context)
        repo = SqlRepository.from_url(stack.database_url)
        try:
            repo.save_intake(sender_id, {**typical(), "follow_up": FOLLOW_UP})
        finally:
            repo.dispose()

        before = bot_count(page)
        type_message(page, "show my summary")
        wait_for_new_bot_message(page, before)
        chart = _chart_shown(page)

        texts = page.locator(BOT).all_inner_texts()
        words = next(i for i, t in enumerate(texts) if "Your weekly PHQ-9 totals: 13 at your intake" in t)
        bubbles = page.locator(BOT)
        at = next(i for i in range(bubbles.count()) if bubbles.nth(i).locator("img.chat-chart").count())
        assert before <= words < at, texts  # the chart comes under the summary's text, in its own bubble
        assert "not an emergency service" in "\n".join(texts[before:at])
        box = chart.bounding_box()
        assert box is not None and box["width"] >= 370 and 0.75 < box["height"] / box["width"] < 0.83, box
        chart.scroll_into_view_if_needed()
        page.screenshot(path="/tmp/summary-chart.png", full_page=False)

        # only the dates and totals are stored in the conversation, never the drawing
        stored = _stored_bot_data(stack, sender_id)
        customs = [(d.get("data") or {}).get("custom") or {} for d in stored]
        payloads = [c["phq9_chart"] for c in customs if "phq9_chart" in c]
        assert [[p["total"] for p in c["points"]] for c in payloads] == [[18, 14, 13, 8, 4]], stored
        assert not any("data:image" in json.dumps(d) or "lithium" in json.dumps(d) for d in stored)

        # after a reload, the history shows it again
        page.reload()
        _chart_shown(page)

        page.set_viewport_size(PHONE)
        chart = page.locator(CHART)
        chart.scroll_into_view_if_needed()
        box = _settled_box(chart)  # the chat lays its bubbles out again after the resize
        assert box is not None and 250 <= box["width"] <= PHONE["width"], box
        page.screenshot(path="/tmp/summary-chart-phone.png", full_page=False)
        assert page.problems == [], page.problems
