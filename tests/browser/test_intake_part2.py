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

from typing import Any

import pytest
import requests

from tests.support.browser import BOT, browser_fixture, page_fixture, say, tap  # noqa: F401 - fixtures
from tests.support.servers import Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_part_2_on_the_chat_page_ends_in_the_trials_the_clinician_sees(page: Any, stack: Stack) -> None:
    with page.expect_response(
        lambda r: r.url.endswith("/chat/session") and r.request.method == "POST"
    ) as session:
        page.goto(stack.base_url + "/chat/")
    token = session.value.json()["token"]
    conversation_id = "web-" + token.split(".")[1]
    page.locator(BOT).first.wait_for()

    reply = say(page, "yes, let's start")
    assert "Part 1 of 5" in reply
    reply = say(page, "skip this part")
    assert "Part 1 of 5, continued" in reply
    reply = say(page, "skip this part")
    assert "Part 2 of 5: medicines you've tried" in reply
    assert "Which medicines have you tried for depression?" in reply

    # two medicines in one message, by brand: asked about one at a time, oldest first
    reply = say(page, "zoloft then lexapro")
    assert "in the order you named them: Zoloft and Lexapro" in reply
    assert "What was the highest daily dose of Zoloft you took?" in reply
    reply = say(page, "a lot")  # not a dose: asked again with an example, never guessed
    assert "Sorry, I couldn't read a dose there." in reply
    reply = say(page, "150mg")
    assert "How long did you take Zoloft at that dose?" in reply
    reply = say(page, "8 weeks")
    assert "did you take it on most days" in reply
    reply = tap(page, "Most days")
    assert "What happened with Zoloft?" in reply
    reply = tap(page, "Some improvement")
    assert "Did Zoloft cause any side effects?" in reply
    reply = say(page, "nausea")
    assert "Are you still taking Zoloft?" in reply
    reply = tap(page, "No")
    assert "Was Zoloft taken on its own, or added on top of another medicine" in reply  # two named
    reply = tap(page, "On its own")
    assert (
        "Zoloft (sertraline), up to 150 mg a day for about 8 weeks, taken most days; some improvement; "
        "side effects: nausea; not taking it now. Is that right?"
    ) in reply

    # a typed correction, read back again
    reply = say(page, "no, it was 100 mg")
    assert "Thanks, I've changed that." in reply
    assert "Zoloft (sertraline), up to 100 mg a day for about 8 weeks" in reply
    reply = tap(page, "Yes, that's right")
    assert "What was the highest daily dose of Lexapro you took?" in reply

    reply = say(page, "20 mg")
    assert "How long did you take Lexapro at that dose?" in reply
    reply = tap(page, "Not sure")
    assert "Okay, I'll leave that one blank." in reply
    tap(page, "Often missed")
    tap(page, "Too early to tell")
    reply = tap(page, "None")
    assert "Are you still taking Lexapro?" in reply
    tap(page, "Yes")
    reply = say(page, "it was added to the zoloft")
    assert "Lexapro (escitalopram), up to 20 mg a day for an unknown time, doses often missed" in reply
    assert "added on top of sertraline" in reply

    # a field fixed with its button: that question again, then the read-back
    reply = tap(page, "Change how long")
    assert "How long did you take Lexapro at that dose?" in reply
    reply = say(page, "about 3 weeks")
    assert (
        "Lexapro (escitalopram), up to 20 mg a day for about 3 weeks, doses often missed; too early to tell; "
        "no side effects; still taking it; added on top of sertraline. Is that right?"
    ) in reply
    reply = tap(page, "Yes, that's right")
    assert "Have you taken any other medicines for depression" in reply
    reply = tap(page, "No, that's all")  # "zoloft then lexapro": the order was given
    assert "Part 2 of 5, continued: what you take now" in reply
    assert "You said you're still taking Lexapro, so I've noted that." in reply
    reply = say(page, "ibuprofen 400mg and St John's wort")
    assert "Is that everything, and is it right?" in reply
    reply = tap(page, "Yes, that's everything")
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
            "added_to": None,
            "order": 1,
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
            "added_to": "sertraline",
            "order": 2,
        },
    ]
    assert [m["drug"] for m in record["current_medications"]][:2] == ["escitalopram", "ibuprofen"]
    assert record["intake"]["parts_done"] == ["phq9", "episode", "medications", "current_meds"]
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
    say(page, "yes, let's start")
    say(page, "skip this part")
    say(page, "skip this part")
    reply = say(page, "prozac, then effexor")
    assert "What was the highest daily dose of Prozac you took?" in reply
    for _ in range(7):  # every question about Prozac (and "added on top of another?"): "Not sure"
        tap(page, "Not sure")
    reply = tap(page, "Yes, that's right")
    assert "What was the highest daily dose of Effexor you took?" in reply
    reply = say(page, "150mg")
    assert "How long did you take Effexor at that dose?" in reply

    reply = say(page, "I want to kill myself")
    assert "988" in reply
    assert "How long did you take" not in reply  # the crisis comes first, the form waits
    reply = tap(page, "I'm safe right now")
    assert "a few gentle questions about these thoughts" in reply  # offered once, after the resources
    reply = tap(page, "Not now")
    assert "Would you like to go on" in reply
    reply = tap(page, "Yes, let's go on")
    assert "How long did you take Effexor at that dose?" in reply  # same medicine, same question
    reply = say(page, "8 weeks")
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
