"""The leading-slash guard the web chat and SMS channels share (trd/text_guard.py).

Rasa takes a message starting with "/" (after str.strip()) as an intent and skips
NLU and the safety guard; only payloads a channel offered may keep their "/".
"""

from __future__ import annotations

import pytest
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.message import Message

from bot.channels import sms
from bot.channels.webchat_text import InvalidMessage, clean_user_text
from trd.text_guard import guard_slash, strip_command_prefix

OFFERED = ["/confirm_safe", "/not_safe"]
BUTTONS = [("I'm safe right now", "/confirm_safe"), ("I'm not safe", "/not_safe")]

# Typed text that must reach NLU without a leading "/", whatever blanks hide it.
SNEAKY = [
    ("/crisis", "crisis"),
    ("//greet", "greet"),
    ("/ /greet", "greet"),
    ("/\t/\n/crisis", "crisis"),
    ("/\u2003/greet", "greet"),  # an em space: Rasa's strip() removes it too
    ("/\u00a0/greet", "greet"),
    ("/\u3000/sos", "sos"),
    ("\u2003/deny", "deny"),
    ('/inform{"x": 1}', 'inform{"x": 1}'),
    ("/ I want to die", "I want to die"),
    ("hello /there", "hello /there"),
]


@pytest.mark.parametrize("typed, expected", SNEAKY)
def test_typed_text_loses_its_leading_slashes(typed: str, expected: str) -> None:
    assert guard_slash(typed, OFFERED) == expected
    # what Rasa would do with the result: never an intent shortcut
    message = YAMLStoryReader.unpack_regex_message(Message({"text": guard_slash(typed, OFFERED)}))
    assert message.get("intent") is None


def test_the_guard_closes_what_rasa_would_open() -> None:
    # Without the guard, Rasa reads this as the intent "greet" (so the check above is meaningful).
    raw = YAMLStoryReader.unpack_regex_message(Message({"text": "\u2003/greet"}))
    assert raw.get("intent", {}).get("name") == "greet"


def test_offered_payloads_pass_unchanged() -> None:
    assert guard_slash("/not_safe", OFFERED) == "/not_safe"
    assert guard_slash("  /not_safe ", OFFERED) == "/not_safe"
    assert guard_slash("/not_safe", []) == "not_safe"
    assert guard_slash('/not_safe{"a": 1}', OFFERED) == 'not_safe{"a": 1}'


@pytest.mark.parametrize("typed", ["/", "///", "/ / ", "/\u2003/"])
def test_only_slashes_leave_nothing(typed: str) -> None:
    assert strip_command_prefix(typed) == ""
    assert guard_slash(typed, OFFERED) == ""


@pytest.mark.parametrize("typed, expected", SNEAKY)
def test_the_web_chat_uses_the_shared_guard(typed: str, expected: str) -> None:
    assert clean_user_text(typed, set(OFFERED)) == expected


def test_the_web_chat_refuses_a_message_of_only_slashes() -> None:
    with pytest.raises(InvalidMessage, match="empty"):
        clean_user_text("/\u2003/", set(OFFERED))


@pytest.mark.parametrize("typed, expected", SNEAKY)
def test_sms_uses_the_shared_guard(typed: str, expected: str) -> None:
    assert sms.text_for_rasa(typed, BUTTONS) == (expected, False)


def test_sms_numbered_options_still_map_to_their_payloads() -> None:
    assert sms.text_for_rasa("1", BUTTONS) == ("/confirm_safe", True)
    assert sms.text_for_rasa("(2)", BUTTONS) == ("/not_safe", True)
    assert sms.text_for_rasa("i'm NOT safe", BUTTONS) == ("/not_safe", True)
    assert sms.text_for_rasa("/not_safe", BUTTONS) == ("/not_safe", True)  # exactly an offered payload
    assert sms.text_for_rasa("/not_safe", []) == ("not_safe", False)
    assert sms.text_for_rasa("3", BUTTONS) == ("3", False)
    assert sms.text_for_rasa("/", BUTTONS) == ("", False)


# --- invisible characters (issue 10) ------------------------------------------------------------
INVISIBLE = {
    "soft hyphen": "\u00ad",
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "left-to-right isolate": "\u2066",
    "right-to-left override": "\u202e",
    "byte-order mark": "\ufeff",
    "combining grapheme joiner": "\u034f",
    "variation selector 16": "\ufe0f",
    "tag letter A": "\U000e0041",
    "Hangul filler": "\u3164",
}


@pytest.mark.parametrize("name", sorted(INVISIBLE))
def test_invisible_characters_are_removed(name: str) -> None:
    from trd.text_guard import remove_invisible

    mark = INVISIBLE[name]
    assert remove_invisible(f"sui{mark}ci{mark}de") == "suicide"


@pytest.mark.parametrize("name", sorted(INVISIBLE))
def test_the_risk_engine_reads_through_invisible_characters(name: str) -> None:
    from trd.safety.risk import assess

    mark = INVISIBLE[name]
    assert assess(f"I am sui{mark}ci{mark}dal").is_crisis
    assert assess(f"I want to kill my{mark}self").is_crisis


def test_visible_text_is_untouched() -> None:
    from trd.text_guard import remove_invisible

    for text in ("café", "naïve über", "日本語", "emoji 😭🔫", "I'm ok", "tabs\tand\nnewlines"):
        assert remove_invisible(text) == text.replace("\ufe0f", "")


def test_the_slash_guard_sees_through_invisible_characters() -> None:
    from trd.text_guard import guard_slash

    assert guard_slash("\u200b/crisis") == "crisis"
    assert guard_slash("\u2066/greet\u2069", {"/greet"}) == "/greet"


def test_a_risky_stretch_of_a_long_message_is_found_across_an_edge() -> None:
    from trd.text_guard import risky_window

    text = "x " * 600 + "kill myself" + " y" * 600
    window = risky_window(text, 1000, lambda t: "kill myself" in t)
    assert window is not None and "kill myself" in window and len(window) <= 1000
    assert risky_window("z " * 2000, 1000, lambda t: "kill myself" in t) is None
