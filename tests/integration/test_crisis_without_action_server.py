"""The crisis path works with the action server down.

A real Rasa server with the trained model, its action server stopped (connections
refused, as when it crashed). A crisis message or an SOS through the REST channel still
gets the crisis resources in the very first reply of that turn, then the check; and the
person's answer after that still gets an answer.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import pytest

from tests.support.servers import Stack, new_sender, texts

pytestmark = pytest.mark.integration

FALLBACK = "Sorry, I didn't quite follow that"
CHECK = "Are you thinking about killing yourself right now? Are you safe right now?"


@pytest.fixture(scope="module")
def stack_without_actions(stack: Stack) -> Iterator[Stack]:
    """The shared stack with its action server stopped for this module (started again after)."""
    stack.stop_actions()
    try:
        yield stack
    finally:
        stack.start_actions()


def _slots(stack: Stack, sender: str) -> Dict[str, Any]:
    slots: Dict[str, Any] = stack.tracker(sender)["slots"]
    return slots


def _first_text(replies: List[Dict[str, Any]]) -> str:
    assert replies, "no reply at all"
    return str(replies[0].get("text") or "")


def test_a_crisis_message_as_the_first_message_gets_988_first(stack_without_actions: Stack) -> None:
    sender = new_sender("crisis")
    replies = stack_without_actions.rest(sender, "I want to kill myself")

    assert "988" in _first_text(replies)
    assert CHECK in texts(replies)
    assert FALLBACK not in texts(replies)
    buttons = [b["payload"] for r in replies for b in r.get("buttons") or []]
    assert buttons == ["/confirm_safe", "/not_safe", "/safety_plan_request"]
    assert _slots(stack_without_actions, sender)["crisis_active"] is True


def test_a_crisis_later_in_the_conversation_gets_988_first(stack_without_actions: Stack) -> None:
    sender = new_sender("crisis-later")
    stack_without_actions.rest(sender, "hi")
    replies = stack_without_actions.rest(sender, "honestly i just want to die")
    assert "988" in _first_text(replies)
    assert CHECK in texts(replies)


@pytest.mark.parametrize("message", ["SOS", "help now"])
def test_sos_gets_988_first(stack_without_actions: Stack, message: str) -> None:
    sender = new_sender("sos")
    replies = stack_without_actions.rest(sender, message)
    first = _first_text(replies)
    assert first.startswith("I'm here.")
    assert "988" in first and "911" in first
    assert CHECK in texts(replies)


def test_saying_safe_afterwards_is_still_answered_without_the_action_server(
    stack_without_actions: Stack,
) -> None:
    sender = new_sender("safe")
    stack_without_actions.rest(sender, "I want to kill myself")
    replies = stack_without_actions.rest(sender, "/confirm_safe")
    assert "I'm glad you're safe right now" in texts(replies)
    assert FALLBACK not in texts(replies)
    # action_close_crisis could not run: the crisis stays open rather than being closed silently
    assert _slots(stack_without_actions, sender)["crisis_active"] is True
