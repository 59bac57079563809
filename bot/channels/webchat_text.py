"""Text rules of the web chat: what a user's message may carry, and how a bot message becomes HTML.

Inbound: Rasa treats a message that starts with "/" as an intent shortcut and
skips the NLU pipeline, and with it the safety guard. Only the exact payloads
of buttons the assistant itself offers pass through; any other leading "/" is
stripped so the text is classified (and checked for risk) like any message
(the rule every channel shares: :mod:`trd.text_guard`).

Outbound: a bot message is HTML-escaped first, and only then are phone numbers
and web addresses turned into links, so no text can inject markup. Which short
numbers are crisis lines (and whether they take calls, texts or both) comes from
data/knowledge/crisis_resources.yml: no crisis number is written in this code.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from typing import Any, Callable, Collection, Dict, FrozenSet, Iterable, List, Mapping, Optional, Set

from trd import text_guard
from trd.summary.chart import CHAT_CHART_KEY, chat_chart_image
from trd.summary.resources import default_resources

MAX_MESSAGE_CHARS = 2000

# Payloads the page itself sends, whatever the domain's buttons are.
PAGE_PAYLOADS = frozenset({"/sos", "/greet"})

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidMessage(ValueError):
    """A user message that cannot be sent on; the text is shown to the user."""


class MessageTooLong(InvalidMessage):
    """A message over MAX_MESSAGE_CHARS; ``text`` is what was sent (for the risk check)."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(reason)
        self.text = text


def normalize_user_text(text: Any) -> str:
    """A web user's message, checked and trimmed; control characters become spaces.

    Raises InvalidMessage for a message that is not text, is empty, or is longer
    than MAX_MESSAGE_CHARS.
    """
    if not isinstance(text, str):
        raise InvalidMessage("'message' must be a string of text.")
    text = text_guard.remove_invisible(_CONTROL_CHARS.sub(" ", text)).strip()
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageTooLong(
            f"That message is too long: please keep it under {MAX_MESSAGE_CHARS} characters.", text
        )
    if not text:
        raise InvalidMessage("The message is empty: please type something.")
    return text


def guard_slash(text: str, allowed_payloads: Collection[str]) -> str:
    """``text`` unchanged if it is exactly an allowed payload, else without leading slashes.

    The shared rule (:func:`trd.text_guard.guard_slash`); raises
    InvalidMessage when nothing is left (a message of only slashes).
    """
    guarded = text_guard.guard_slash(text, allowed_payloads)
    if not guarded:
        raise InvalidMessage("The message is empty: please type something.")
    return guarded


def clean_user_text(text: Any, allowed_payloads: Collection[str]) -> str:
    """The text to hand to Rasa for a message a web user sent (normalize, then guard_slash)."""
    return guard_slash(normalize_user_text(text), allowed_payloads)


def risky_part_of_long_message(error: MessageTooLong, is_risky: Callable[[str], bool]) -> str:
    """What Rasa gets for an over-long message the risk check flags: its first flagged stretch
    of at most MAX_MESSAGE_CHARS (so the crisis path runs on what was sent); re-raises the
    polite "too long" when nothing in it is flagged."""
    window = text_guard.risky_window(error.text, MAX_MESSAGE_CHARS, is_risky)
    if window is None:
        raise error
    return guard_slash(window, ())


def button_payloads(responses: Mapping[str, Iterable[Mapping[str, Any]]]) -> Set[str]:
    """Every button and quick-reply payload in a domain's responses, plus the page's own."""
    payloads: Set[str] = set(PAGE_PAYLOADS)
    for variants in responses.values():
        for variant in variants or []:
            if not isinstance(variant, Mapping):
                continue
            for key in ("buttons", "quick_replies"):
                for button in variant.get(key) or []:
                    payload = button.get("payload") if isinstance(button, Mapping) else None
                    if isinstance(payload, str) and payload.strip():
                        payloads.add(payload.strip())
    return payloads


# --- outbound: escape, then linkify ------------------------------------------------------

_URL = r"(?P<url>(?<![\w@.\-/])https?://[^\s<>\"']+|(?<![\w@.\-/])(?:https?://)?(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:org|gov|com|net|us|edu|info)\b(?:/(?:[^\s<>\"'&]|&amp;)*)?)"
_PHONE = r"(?P<phone>(?<![\w+\-.])(?:\+?1[\s.\-])?(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}(?![\w\-]))"
_SHORT_CODE = re.compile(r"[0-9]{2,8}")

# Which crisis resources (data/knowledge/crisis_resources.yml) are short numbers, and how
# they are reached: the Lifeline takes calls and texts, emergency services calls, the
# text lines texts only.
CALL_AND_TEXT_RESOURCES = ("lifeline_number",)
CALL_ONLY_RESOURCES = ("emergency_number",)
TEXT_ONLY_RESOURCES = ("text_line_number", "veterans_text")


@dataclass(frozen=True)
class LinkRules:
    """The crisis short numbers linkify turns into links, and the pattern that finds them."""

    call_and_text: FrozenSet[str]
    call_only: FrozenSet[str]
    text_only: FrozenSet[str]
    pattern: re.Pattern[str]

    @classmethod
    def build(
        cls, call_and_text: Iterable[str], call_only: Iterable[str], text_only: Iterable[str]
    ) -> LinkRules:
        """Rules for these numbers (each 2 to 8 digits, each of one kind only)."""
        groups = [frozenset(n.strip() for n in g) for g in (call_and_text, call_only, text_only)]
        numbers = sorted(set().union(*groups), key=lambda n: (-len(n), n))
        for number in numbers:
            if not _SHORT_CODE.fullmatch(number):
                raise ValueError(f"a crisis short number must be 2 to 8 digits, not {number!r}")
        if sum(len(g) for g in groups) != len(numbers):
            raise ValueError("a crisis short number is listed as more than one kind")
        parts = [_URL]
        if numbers:
            alternatives = "|".join(re.escape(n) for n in numbers)
            parts.append(rf"(?P<short>(?<![\w+\-.])(?:{alternatives})(?![\w\-]))")
        parts.append(_PHONE)
        return cls(groups[0], groups[1], groups[2], re.compile("|".join(parts), re.IGNORECASE))

    @classmethod
    def from_resources(cls, values: Mapping[str, str]) -> LinkRules:
        """The rules for the crisis resources' values (``load_resources`` of the data file).

        A resource that is not a short number (e.g. a 10-digit line) is left to the
        ordinary phone-number rule.
        """

        def short(keys: Iterable[str]) -> List[str]:
            found = []
            for key in keys:
                if key not in values:
                    raise ValueError(f"crisis resources: resources.{key} is missing")
                value = str(values[key]).strip()
                if _SHORT_CODE.fullmatch(value):
                    found.append(value)
            return found

        return cls.build(
            short(CALL_AND_TEXT_RESOURCES), short(CALL_ONLY_RESOURCES), short(TEXT_ONLY_RESOURCES)
        )


@functools.lru_cache(maxsize=1)
def default_link_rules() -> LinkRules:
    """The rules for the project's crisis resources file (read once per process)."""
    return LinkRules.from_resources(default_resources())


_TRAILING_PUNCT = ".,;:!?)"
_CONTEXT_CHARS = 40
_SENTENCE_END = re.compile(r"[.!?\n]")


def _preceding_clause(text: str, start: int, floor: int = 0) -> str:
    """Up to _CONTEXT_CHARS characters before ``start``, not crossing a sentence end or ``floor``.

    ``floor`` is the end of the previous link, so in "call or text N, the N Lifeline"
    the second N has only ", the " to read.
    """
    window = text[max(floor, start - _CONTEXT_CHARS) : start]
    ends = list(_SENTENCE_END.finditer(window))
    return window[ends[-1].end() :] if ends else window


def _sms_body(clause: str) -> str | None:
    """The keyword of "text HOME to <number>" / "envía AYUDA al <number>", if the clause ends so."""
    match = re.search(r"\b(?:text|env[ií]a)\s+([A-Z]{2,12})\s+(?:to|al)\s*$", clause)
    return match.group(1) if match else None


def _link(href: str, label: str, aria: str, css: str) -> str:
    return (
        f'<a class="{css}" href="{html.escape(href, quote=True)}" '
        f'aria-label="{html.escape(aria, quote=True)}">{label}</a>'
    )


def _sms_href(number: str, body: str | None) -> str:
    # "sms:N?&body=X" opens with the text filled in on both iOS and Android.
    return f"sms:{number}?&body={body}" if body else f"sms:{number}"


def _short_code(number: str, clause: str, label: str, rules: LinkRules) -> str:
    lowered = clause.lower()
    says_text = re.search(r"\b(?:text|texting|env[ií]a|mensaje)\b", lowered) is not None
    body = _sms_body(clause)
    if number in rules.text_only:
        aria = f"Text {body} to {number}" if body else f"Text {number}"
        return _link(_sms_href(number, body), label, aria, "sms-link")
    call = _link(f"tel:{number}", label, f"Call {number}", "tel-link")
    if number in rules.call_and_text and says_text:
        aria = f"Text {body} to {number}" if body else f"Text {number}"
        return call + " " + _link(_sms_href(number, body), "(text)", aria, "sms-link")
    return call


def _url(label: str) -> str:
    raw = html.unescape(label)
    href = raw if re.match(r"https?://", raw, re.IGNORECASE) else "https://" + raw
    return (
        f'<a class="web-link" href="{html.escape(href, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer">{label}</a>'
    )


def _phone(label: str) -> str:
    digits = re.sub(r"\D", "", html.unescape(label))
    if len(digits) == 10:
        digits = "1" + digits
    return _link(f"tel:+{digits}", label, "Call " + html.unescape(label), "tel-link")


def linkify(text: str, rules: Optional[LinkRules] = None) -> str:
    """Bot text as safe HTML: escaped, with crisis numbers, phone numbers and web addresses as links.

    The crisis short numbers are those of ``rules`` (default: the crisis resources file):
    - the Lifeline's number becomes a tel: link, plus an sms: link when the sentence says text;
    - the emergency number becomes a tel: link; the text-only lines become sms: links,
      with the keyword filled in for "text HOME to <number>";
    - 10-digit US numbers become tel: links; the Lifeline's chat address and other web
      addresses become https links; newlines become <br>.
    """
    rules = rules if rules is not None else default_link_rules()
    escaped = html.escape(text, quote=True)
    out: List[str] = []
    last = 0
    for match in rules.pattern.finditer(escaped):
        start, end = match.span()
        label = match.group(0)
        if match.group("url") is not None:
            while label and label[-1] in _TRAILING_PUNCT:
                label = label[:-1]
            end = start + len(label)
            if "." not in label.split("://")[-1]:
                continue
            replacement = _url(label)
        elif match.groupdict().get("short") is not None:
            replacement = _short_code(label, _preceding_clause(escaped, start, last), label, rules)
        else:
            replacement = _phone(label)
        out.append(escaped[last:start])
        out.append(replacement)
        last = end
    out.append(escaped[last:])
    return _lines_to_html("".join(out))


def _lines_to_html(text: str) -> str:
    """Newlines as <br>; a run of lines starting with "- " as a bulleted list."""
    parts: List[str] = []
    items: List[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("- "):
            items.append(f"<li>{line[2:]}</li>")
            continue
        if items:
            parts.append('<ul class="bot-list">' + "".join(items) + "</ul>")
            items = []
        parts.append(line + "<br>")
    if items:
        parts.append('<ul class="bot-list">' + "".join(items) + "</ul>")
    html_text = "".join(parts)
    return html_text[: -len("<br>")] if html_text.endswith("<br>") else html_text


def render_bot_message(message: Mapping[str, Any], rules: Optional[LinkRules] = None) -> Dict[str, Any]:
    """A message from Rasa's collecting output channel as the page receives it.

    ``text`` is the bot's plain text, ``html`` the same escaped and linkified,
    ``buttons`` a list of {title, payload} (buttons and quick replies alike), ``chart``
    {src, alt} for the summary's PHQ-9 chart (a custom payload of dates and totals, drawn here
    as an SVG data: URL the page shows in an <img>; any other custom payload is not shown).
    """
    rendered: Dict[str, Any] = {}
    text = message.get("text")
    if isinstance(text, str) and text:
        rendered["text"] = text
        rendered["html"] = linkify(text, rules)
    buttons = message_buttons(message)
    if buttons:
        rendered["buttons"] = buttons
    custom = message.get("custom")
    chart = chat_chart_image(custom.get(CHAT_CHART_KEY)) if isinstance(custom, Mapping) else None
    if chart is not None:
        rendered["chart"] = chart
    return rendered


def message_buttons(message: Mapping[str, Any]) -> List[Dict[str, str]]:
    """The {title, payload} buttons of a bot message (Rasa output or a tracker event's data)."""
    buttons = []
    for button in list(message.get("buttons") or []) + list(message.get("quick_replies") or []):
        if not isinstance(button, Mapping):
            continue
        title, payload = button.get("title"), button.get("payload")
        if isinstance(title, str) and isinstance(payload, str) and title and payload:
            buttons.append({"title": title, "payload": payload})
    return buttons
