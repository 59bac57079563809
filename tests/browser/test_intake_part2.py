"""Part 2 of the intake (medicines) on the chat page, in Debian's chromium, against real servers.

A person opens /chat/, starts the intake, skips part 1, names two medicines in one message,
answers each question by typing or by tapping the bot's buttons, corrects the read-back
("no, it was 100 mg"), fixes a field with its button, and finishes the part. Then the
clinician's API (GET /intake/<conversation id>, Bearer CLINICIAN_TOKEN) must show the trials
exactly as said. The conversation id is the web session's: "web-" + the session id inside
the token that POST /chat/session returned to the page (bot/channels/webchat_session.py).
A screenshot goes to /tmp/webchat-intake-part2.png for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator, List

import pytest
import requests

from tests.support.servers import Stack

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
BUTTON = "deep-chat .rasa-button"


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


def _replies_after(page: Any, before: int) -> str:
    """The bot's messages that arrived after ``before`` of them were on the page."""
    page.wait_for_function(
        "([sel, n]) => document.querySelector('deep-chat').shadowRoot.querySelectorAll(sel).length > n",
        arg=[".ai-message-text:not(.deep-chat-loading-message-bubble)", before],
    )
    page.wait_for_function(
        "() => !document.querySelector('deep-chat').shadowRoot"
        ".querySelector('.deep-chat-loading-message-bubble')"
    )
    return "\n".join(page.locator(BOT).all_inner_texts()[before:])


def type_answer(page: Any, text: str) -> str:
    before = _bot_count(page)
    box = page.locator("deep-chat #text-input")
    box.click()
    box.fill(text)
    page.keyboard.press("Enter")
    return _replies_after(page, before)


def tap(page: Any, title: str) -> str:
    """Tap the newest button with exactly this title (the one under the latest question)."""
    button = page.locator(BUTTON).filter(has_text=re.compile(rf"^\s*{re.escape(title)}\s*$")).last
    button.wait_for()
    before = _bot_count(page)
    button.click()
    return _replies_after(page, before)


def test_part_2_on_the_chat_page_ends_in_the_trials_the_clinician_sees(page: Any, stack: Stack) -> None:
    with page.expect_response(
        lambda r: r.url.endswith("/chat/session") and r.request.method == "POST"
    ) as session:
        page.goto(stack.base_url + "/chat/")
    token = session.value.json()["token"]
    conversation_id = "web-" + token.split(".")[1]
    page.locator(BOT).first.wait_for()

    reply = type_answer(page, "yes, let's start")
    assert "Part 1 of 5" in reply
    reply = type_answer(page, "skip this part")
    assert "Part 1 of 5, continued" in reply
    reply = type_answer(page, "skip this part")
    assert "Part 2 of 5: medicines you've tried" in reply
    assert "Which medicines have you tried for depression?" in reply

    # two medicines in one message, by brand: asked about one at a time, oldest first
    reply = type_answer(page, "zoloft then lexapro")
    assert "in the order you named them: Zoloft and Lexapro" in reply
    assert "What was the highest daily dose of Zoloft you took?" in reply
    reply = type_answer(page, "a lot")  # not a dose: asked again with an example, never guessed
    assert "Sorry, I couldn't read a dose there." in reply
    reply = type_answer(page, "150mg")
    assert "How long did you take Zoloft at that dose?" in reply
    reply = type_answer(page, "8 weeks")
    assert "did you take it on most days" in reply
    reply = tap(page, "Most days")
    assert "What happened with Zoloft?" in reply
    reply = tap(page, "Some improvement")
    assert "Did Zoloft cause any side effects?" in reply
    reply = type_answer(page, "nausea")
    assert "Are you still taking Zoloft?" in reply
    reply = tap(page, "No")
    assert (
        "Zoloft (sertraline), up to 150 mg a day for about 8 weeks, taken most days; some improvement; "
        "side effects: nausea; not taking it now. Is that right?"
    ) in reply

    # a typed correction, read back again
    reply = type_answer(page, "no, it was 100 mg")
    assert "Thanks, I've changed that." in reply
    assert "Zoloft (sertraline), up to 100 mg a day for about 8 weeks" in reply
    reply = tap(page, "Yes, that's right")
    assert "What was the highest daily dose of Lexapro you took?" in reply

    reply = type_answer(page, "20 mg")
    assert "How long did you take Lexapro at that dose?" in reply
    reply = tap(page, "Not sure")
    assert "Okay, I'll leave that one blank." in reply
    tap(page, "Often missed")
    tap(page, "Too early to tell")
    reply = tap(page, "None")
    assert "Are you still taking Lexapro?" in reply
    reply = tap(page, "Yes")
    assert "Lexapro (escitalopram), up to 20 mg a day for an unknown time, doses often missed" in reply

    # a field fixed with its button: that question again, then the read-back
    reply = tap(page, "Change how long")
    assert "How long did you take Lexapro at that dose?" in reply
    reply = type_answer(page, "about 3 weeks")
    assert (
        "Lexapro (escitalopram), up to 20 mg a day for about 3 weeks, doses often missed; too early to tell; "
        "no side effects; still taking it. Is that right?"
    ) in reply
    reply = tap(page, "Yes, that's right")
    assert "Have you taken any other medicines for depression" in reply
    reply = tap(page, "No, that's all")
    assert "Part 3 of 5" in reply
    page.screenshot(path="/tmp/webchat-intake-part2.png", full_page=True)

    r = requests.get(
        f"{stack.base_url}/intake/{conversation_id}",
        headers={"Authorization": f"Bearer {stack.env['CLINICIAN_TOKEN']}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    record = r.json()
    assert record["trials"] == [
        {
            "drug": "sertraline",
            "role": "antidepressant",
            "max_dose_mg": 100.0,
            "weeks_at_dose": 8.0,
            "adherence": "most_days",
            "outcome": "partial_response",
            "side_effects": ["nausea"],
            "still_taking": False,
            "name_given": "zoloft",
        },
        {
            "drug": "escitalopram",
            "role": "antidepressant",
            "max_dose_mg": 20.0,
            "weeks_at_dose": 3.0,
            "adherence": "often_missed",
            "outcome": "too_early",
            "side_effects": [],
            "still_taking": True,
            "name_given": "lexapro",
        },
    ]
    assert record["intake"]["parts_done"] == ["phq9", "episode", "medications"]
    assert page.problems == []


def test_a_crisis_in_part_2_is_answered_first_then_the_same_medicine_and_question_resume(
    page: Any, stack: Stack
) -> None:
    with page.expect_response(
        lambda r: r.url.endswith("/chat/session") and r.request.method == "POST"
    ) as session:
        page.goto(stack.base_url + "/chat/")
    conversation_id = "web-" + session.value.json()["token"].split(".")[1]
    page.locator(BOT).first.wait_for()
    type_answer(page, "yes, let's start")
    type_answer(page, "skip this part")
    type_answer(page, "skip this part")
    reply = type_answer(page, "prozac, then effexor")
    assert "What was the highest daily dose of Prozac you took?" in reply
    for _ in range(6):  # every question about Prozac: "Not sure"
        tap(page, "Not sure")
    reply = tap(page, "Yes, that's right")
    assert "What was the highest daily dose of Effexor you took?" in reply
    reply = type_answer(page, "150mg")
    assert "How long did you take Effexor at that dose?" in reply

    reply = type_answer(page, "I want to kill myself")
    assert "988" in reply
    assert "How long did you take" not in reply  # the crisis comes first, the form waits
    reply = tap(page, "I'm safe right now")
    assert "Would you like to go on" in reply
    reply = tap(page, "Yes, let's go on")
    assert "How long did you take Effexor at that dose?" in reply  # same medicine, same question
    reply = type_answer(page, "8 weeks")
    assert "While you were on Effexor" in reply

    r = requests.get(
        f"{stack.base_url}/intake/{conversation_id}",
        headers={"Authorization": f"Bearer {stack.env['CLINICIAN_TOKEN']}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    trials = r.json()["trials"]
    assert [t["drug"] for t in trials] == ["fluoxetine", "venlafaxine"]
    assert trials[0]["max_dose_mg"] is None and trials[0]["weeks_at_dose"] is None
    assert trials[1]["max_dose_mg"] == 150.0 and trials[1]["weeks_at_dose"] == 8.0
    assert r.json()["safety"]["crisis_in_conversation"] is True
