"""SMS text rules: plain text, numbered options and their replies, splitting, keywords, own texts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain

from bot.channels.sms import CRISIS_RESOURCES_FILE, load_sms_texts
from trd.sms import format as f
from trd.sms.format import (
    SMS_MAX_CHARS,
    CrisisResourcesError,
    build_sms_texts,
    keyword_of,
    normalize_inbound,
    options_line,
    pack_parts,
    plain_text,
    render_message,
    render_replies,
    resolve_reply,
    split_text,
    text_for_rasa,
)

ROOT = Path(__file__).resolve().parents[2]
CHECK_BUTTONS = [
    {"title": "I'm safe right now", "payload": "/confirm_safe"},
    {"title": "I'm not safe", "payload": "/not_safe"},
    {"title": "Make a safety plan", "payload": "/safety_plan_request"},
]
BUTTONS = [(b["title"], b["payload"]) for b in CHECK_BUTTONS]


# --- plain text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, expected",
    [
        ("This is **important** and __so is this__.", "This is important and so is this."),
        ("Chat at [988lifeline.org](https://988lifeline.org).", "Chat at https://988lifeline.org."),
        (
            "Read [the guide](https://example.org/guide) first.",
            "Read the guide (https://example.org/guide) first.",
        ),
        ("See <https://example.org/a>.", "See https://example.org/a."),
        ('Go <a href="https://example.org/x">here</a> now', "Go here (https://example.org/x) now"),
        ("One<br>two<br/>three", "One\ntwo\nthree"),
        ("<p>Hello <b>there</b></p>", "Hello there"),
        ("## A heading\nbody", "A heading\nbody"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("I <3 you, 2 < 3 and 4 > 1", "I <3 you, 2 < 3 and 4 > 1"),
        ("a * b * c and 2*3", "a * b * c and 2*3"),
    ],
)
def test_plain_text_has_no_markdown_or_html(given: str, expected: str) -> None:
    assert plain_text(given) == expected


def test_typographic_punctuation_becomes_gsm() -> None:
    message = {"text": "It\u2019s \u201cfine\u201d \u2014 really\u2026"}
    assert render_message(message) == 'It\'s "fine" - really...'


def test_buttons_become_numbered_options() -> None:
    assert (
        options_line(BUTTONS)
        == "Reply 1 for I'm safe right now, 2 for I'm not safe, 3 for Make a safety plan."
    )
    text = render_message({"text": "Are you safe right now?", "buttons": CHECK_BUTTONS})
    assert text == (
        "Are you safe right now?\n"
        "Reply 1 for I'm safe right now, 2 for I'm not safe, 3 for Make a safety plan."
    )


def test_images_and_attachments_are_sent_as_urls() -> None:
    assert render_message({"text": "Look:", "image": "https://example.org/a.png"}) == (
        "Look:\nhttps://example.org/a.png"
    )
    assert render_message({"attachment": "https://example.org/plan.pdf"}) == "https://example.org/plan.pdf"
    assert render_message({"custom": {"anything": 1}}) == ""


# --- splitting and packing ------------------------------------------------------------------------


def _words(parts: List[str]) -> List[str]:
    return " ".join(parts).split()


def test_a_short_text_is_one_part() -> None:
    assert split_text("Hello.") == ["Hello."]
    assert split_text("   ") == []


def test_long_text_splits_at_paragraphs_first() -> None:
    para = "This is a sentence of a paragraph. " * 8
    text = "\n\n".join([para.strip()] * 5)
    parts = split_text(text, 600)
    assert all(len(p) <= 600 for p in parts)
    assert len(parts) == 3  # two ~280-character paragraphs fit per part
    assert all(p.endswith("paragraph.") for p in parts)
    assert _words(parts) == text.split()


def test_a_long_paragraph_splits_at_sentence_ends() -> None:
    text = " ".join(f"Sentence number {i} is here and it says something kind." for i in range(40))
    parts = split_text(text, 320)
    assert len(parts) > 1
    assert all(len(p) <= 320 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert _words(parts) == text.split()


def test_a_sentence_longer_than_the_limit_splits_at_spaces_and_keeps_urls_whole() -> None:
    url = "https://example.org/a/very/long/path/to/a/page"
    text = ("word " * 30 + url + " ") * 3
    parts = split_text(text, 100)
    assert all(len(p) <= 100 for p in parts)
    assert _words(parts) == text.split()
    assert sum(p.count(url) for p in parts) == 3


def test_a_single_huge_word_is_cut() -> None:
    parts = split_text("x" * 250, 100)
    assert [len(p) for p in parts] == [100, 100, 50]


@pytest.mark.parametrize("limit", [50, 160, 320, 600])
def test_every_part_fits_whatever_the_text(limit: int) -> None:
    text = (
        "First paragraph, short.\n\nSecond one! It has two sentences? Yes.\n"
        + "A line with many words " * 20
        + "\n\n"
        + "Z" * (limit + 7)
    )
    parts = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_messages_of_a_turn_are_packed_in_order() -> None:
    assert pack_parts(["One.", "Two.", "Three."]) == ["One.\n\nTwo.\n\nThree."]
    big = "a" * 590  # "One." + blank line + big = 596 fits; adding "Two." would not
    assert pack_parts(["One.", big, "Two."]) == ["One.\n\n" + big, "Two."]
    bigger = "b" * 595
    assert pack_parts(["One.", bigger, "Two."]) == ["One.", bigger, "Two."]


def test_render_replies_remembers_the_last_buttons_of_the_turn() -> None:
    parts, buttons = render_replies(
        [
            {"text": "First.", "buttons": [{"title": "A", "payload": "/a"}]},
            {"text": "Are you safe?", "buttons": CHECK_BUTTONS},
            {"text": "Take your time."},
        ]
    )
    assert buttons == BUTTONS
    assert parts == [
        "First.\nReply 1 for A.\n\nAre you safe?\n"
        "Reply 1 for I'm safe right now, 2 for I'm not safe, 3 for Make a safety plan.\n\nTake your time."
    ]
    assert render_replies([{"text": "No options."}]) == (["No options."], [])


def _domain_sms(domain: Domain, name: str) -> Dict[str, Any]:
    out = TemplatedNaturalLanguageGenerator(domain.responses).generate_from_slots(name, {}, "twilio")
    assert out is not None
    return out


@pytest.mark.slow
def test_the_crisis_turn_fits_sms_and_leads_with_the_text_options() -> None:
    """The domain's SMS crisis reply and check, as the person receives them."""
    domain = Domain.load(str(ROOT / "domain.yml"))
    if "utter_crisis" not in domain.responses:
        pytest.skip("the crisis responses are not generated yet")
    parts, buttons = render_replies(
        [_domain_sms(domain, "utter_crisis"), _domain_sms(domain, "utter_crisis_check")]
    )
    assert all(len(p) <= SMS_MAX_CHARS for p in parts)
    first = parts[0].lower()
    assert first.index("text 988") < first.index("text home to 741741") < first.index("call 988")
    assert "Reply 1 for " in parts[-1]
    assert resolve_reply("1", buttons) == buttons[0][1]


# --- inbound --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["1", " 1 ", "1.", "(1)", "#1", "[1]"])
def test_a_number_picks_that_option(text: str) -> None:
    assert resolve_reply(text, BUTTONS) == "/confirm_safe"


@pytest.mark.parametrize(
    "text, payload",
    [
        ("2", "/not_safe"),
        ("3", "/safety_plan_request"),
        ("i'm not safe", "/not_safe"),
        ("IM SAFE RIGHT NOW", "/confirm_safe"),
        ("I\u2019m safe right now!", "/confirm_safe"),
        ("make a safety plan", "/safety_plan_request"),
    ],
)
def test_a_number_or_a_title_picks_an_option(text: str, payload: str) -> None:
    assert resolve_reply(text, BUTTONS) == payload


@pytest.mark.parametrize("text", ["0", "4", "12", "safe", "I'm safe right now but", "", "1 2"])
def test_other_replies_pick_nothing(text: str) -> None:
    assert resolve_reply(text, BUTTONS) is None


def test_without_options_a_number_is_just_text() -> None:
    assert resolve_reply("1", []) is None
    assert text_for_rasa("1", []) == ("1", False)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/crisis", "crisis"),
        ("//greet", "greet"),
        ('/inform{"x": 1}', 'inform{"x": 1}'),
        ("/ I want to die", "I want to die"),
        ("/", ""),
        ("/ /sos", "sos"),
        ("/ / //greet", "greet"),
        ("/\t/\n/crisis", "crisis"),
        ("hello /there", "hello /there"),
    ],
)
def test_typed_slash_commands_are_stripped(text: str, expected: str) -> None:
    assert text_for_rasa(text, BUTTONS) == (expected, False)


def test_only_offered_payloads_pass_with_their_slash() -> None:
    assert text_for_rasa("1", BUTTONS) == ("/confirm_safe", True)
    assert text_for_rasa("/not_safe", BUTTONS) == ("/not_safe", True)  # exactly an offered payload
    assert text_for_rasa("/not_safe", []) == ("not_safe", False)
    assert text_for_rasa("/deny", BUTTONS) == ("deny", False)


@pytest.mark.parametrize(
    "text, keyword",
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        (" Stop. ", "stop"),
        ("STOPALL", "stop"),
        ("unsubscribe", "stop"),
        ("Cancel!", "stop"),
        ("END", "stop"),
        ("quit", "stop"),
        ("START", "start"),
        ("unstop", "start"),
        ("Yes", "start"),
        ("HELP", "help"),
        ("info", "help"),
        ("Help!", "help"),
        ("stop it", None),
        ("help now", None),
        ("I need help", None),
        ("please stop", None),
        ("yes please", None),
        ("", None),
    ],
)
def test_keywords_are_whole_messages(text: str, keyword: str) -> None:
    assert keyword_of(text) == keyword


def test_inbound_text_is_cleaned_and_bounded() -> None:
    assert normalize_inbound("  hi\x00there\r\nyou  ") == "hi there\nyou"
    assert len(normalize_inbound("a" * 5000)) == f.MAX_INBOUND_CHARS


# --- the channel's own texts come from the crisis resources file ------------------------------------


def _resources() -> Dict[str, Any]:
    data: Dict[str, Any] = yaml.safe_load(CRISIS_RESOURCES_FILE.read_text(encoding="utf-8"))
    return data


def test_help_text_lists_the_crisis_lines_text_first() -> None:
    texts = load_sms_texts(CRISIS_RESOURCES_FILE, "TRD Navigator")
    r = _resources()["resources"]
    help_text = texts.help
    assert help_text.startswith("TRD Navigator: ")
    assert "not an emergency service" in help_text
    order = [
        help_text.index(f"text {r['lifeline_number']}"),
        help_text.index(f"text {r['text_line_keyword']} to {r['text_line_number']}"),
        help_text.index(f"call {r['lifeline_number']}"),
        help_text.index(f"Call {r['emergency_number']}"),
    ]
    assert order == sorted(order)
    assert "STOP" in help_text
    assert f"text or call {r['lifeline_number']}" in texts.stop and "START" in texts.stop
    assert r["lifeline_number"] in texts.error and r["emergency_number"] in texts.error
    for text in (texts.help, texts.stop, texts.start, texts.error, texts.unreadable):
        assert len(text) <= SMS_MAX_CHARS
        assert text.isascii()


def test_the_numbers_come_from_the_data_file(tmp_path: Path) -> None:
    data = _resources()
    data["resources"].update(
        {
            "lifeline_number": "5550100",
            "lifeline_name": "Test Lifeline",
            "text_line_keyword": "TALK",
            "text_line_number": "5550199",
            "emergency_number": "5550111",
        }
    )
    path = tmp_path / "crisis_resources.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    texts = load_sms_texts(path, "Test Service")
    assert "text 5550100 (Test Lifeline)" in texts.help
    assert "text TALK to 5550199" in texts.help
    assert "call 5550100" in texts.help and "Call 5550111" in texts.help
    assert "5550100" in texts.stop
    real = _resources()["resources"]
    for text in (texts.help, texts.stop, texts.error, texts.unreadable):
        assert real["lifeline_number"] not in text and real["text_line_number"] not in text


def test_missing_resources_are_refused() -> None:
    data = _resources()
    del data["resources"]["text_line_number"]
    with pytest.raises(CrisisResourcesError, match="text_line_number"):
        build_sms_texts(data, "X")
    with pytest.raises(CrisisResourcesError):
        build_sms_texts({}, "X")


def test_no_crisis_number_is_written_in_the_sms_code() -> None:
    patterns = [r"(?<![\w.])988(?!\w)", r"741741", r"838255", r"(?<![\w.])911(?!\w)"]
    files = sorted((ROOT / "bot" / "channels").glob("sms*.py")) + sorted((ROOT / "trd" / "sms").glob("*.py"))
    assert len(files) >= 4
    hits = [
        f"{p.name}:{n}"
        for p in files
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if any(re.search(pattern, line) for pattern in patterns)
    ]
    assert hits == []
