"""Text rules of the SMS channel (pure functions, no I/O).

Outbound (bot -> phone)
- Plain text only: markdown emphasis (``**``, ``__``) and headings are removed,
  ``[label](url)`` and HTML links become "label (url)" (or just the URL when the
  label is the address), other HTML tags are dropped, entities decoded.
- Typographic punctuation (curly quotes, dashes, ellipsis, no-break space) becomes
  its GSM-7 equivalent, so most messages stay in the cheaper 160-character
  encoding.
- Buttons become numbered options appended to their message:
  "Reply 1 for I'm safe right now, 2 for I'm not safe."
- Messages of one turn are packed into as few SMS as fit, in order; every SMS
  is at most ``SMS_MAX_CHARS`` (600) characters. That is 4 segments in GSM-7
  and 10 in UCS-2, well under the provider's 1600-character limit, so every
  part arrives as one concatenated message. A longer text is split at the
  most natural break that fits: a blank line, a line break, a sentence end,
  then a space (a single word longer than the limit is cut).

Inbound (phone -> bot)
- Carrier keywords (the whole message, any case, trailing "." or "!" ignored):
  STOP/STOPALL/UNSUBSCRIBE/CANCEL/END/QUIT, START/UNSTOP/YES, HELP/INFO.
- A reply to numbered options, "1" (also "1.", "(1)", "#1") or the option's
  title in any case, maps to that button's payload.
- Rasa takes text starting with "/" as an intent and skips NLU and the safety
  guard: only mapped payloads may start with "/"; other text has its leading
  slashes stripped.

The texts the channel itself sends (HELP, STOP and START confirmations, the
error apology) are built by :func:`build_sms_texts` from
data/knowledge/crisis_resources.yml: no phone number is written in this code.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from trd.text_guard import guard_slash

SMS_MAX_CHARS = 600
MAX_INBOUND_CHARS = 1600

STOP_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

Button = Tuple[str, str]  # (title, payload)


# --- inbound ------------------------------------------------------------------------------------

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_inbound(text: str) -> str:
    """An incoming SMS body, trimmed, control characters as spaces, at most MAX_INBOUND_CHARS."""
    text = _CONTROL_CHARS.sub(" ", text.replace("\r\n", "\n")).strip()
    return text[:MAX_INBOUND_CHARS].strip()


def keyword_of(text: str) -> Optional[str]:
    """ "stop", "start" or "help" when the whole message is a carrier keyword, else None."""
    word = re.sub(r"[.!\s]+$", "", text.strip()).upper()
    if word in STOP_KEYWORDS:
        return "stop"
    if word in START_KEYWORDS:
        return "start"
    if word in HELP_KEYWORDS:
        return "help"
    return None


def _fold(text: str) -> str:
    """Lowercase letters and digits only, single spaces: for matching option titles."""
    text = gsm_punctuation(plain_text(text)).lower().replace("'", "")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


_OPTION_NUMBER = re.compile(r"^\s*[#(\[]?\s*(\d{1,2})\s*[.)\]]?\s*$")


def resolve_reply(text: str, buttons: Sequence[Button]) -> Optional[str]:
    """The payload of the button a reply picks ("2", or a title in any case), else None."""
    if not buttons:
        return None
    match = _OPTION_NUMBER.match(text)
    if match:
        index = int(match.group(1))
        if 1 <= index <= len(buttons):
            return buttons[index - 1][1]
        return None
    folded = _fold(text)
    if not folded:
        return None
    for title, payload in buttons:
        if _fold(title) == folded:
            return payload
    for _title, payload in buttons:
        if text.strip() == payload:
            return payload
    return None


def text_for_rasa(text: str, buttons: Sequence[Button]) -> Tuple[str, bool]:
    """(what Rasa should receive, whether it is the payload of an offered button).

    A reply to the last numbered options ("2", an option's title, or exactly its
    payload) becomes that button's payload. Anything else goes through the
    leading-slash guard every channel shares, so typed text cannot skip NLU and the
    safety guard. The text is empty when the message had nothing but slashes.
    """
    payload = resolve_reply(text, buttons)
    if payload is not None:
        return payload, True
    return guard_slash(text), False  # the rule every channel shares (trd.text_guard)


# --- outbound -----------------------------------------------------------------------------------

_GSM_REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2012": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u200b": "",
    "\u2022": "-",
}
_GSM_TABLE = str.maketrans(_GSM_REPLACEMENTS)

_MD_LINK = re.compile(r"\[([^\[\]\n]+)\]\(\s*([^()\s]+)\s*\)")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:|tel:|sms:)[^<>\s]+)>", re.IGNORECASE)
_HTML_LINK = re.compile(
    r"<a\s[^<>]*?href\s*=\s*[\"']([^\"']+)[\"'][^<>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL
)
_HTML_BREAK = re.compile(r"<\s*(?:br\s*/?|/p|/li|/div)\s*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE)


def _bare(url: str) -> str:
    return (
        re.sub(r"^(?:https?://|mailto:|tel:|sms:)", "", url.strip(), flags=re.IGNORECASE).rstrip("/").lower()
    )


def _link_text(label: str, url: str) -> str:
    label = label.strip()
    if not label or _bare(label) == _bare(url):
        return url
    return f"{label} ({url})"


def gsm_punctuation(text: str) -> str:
    """Curly quotes, dashes, ellipsis and special spaces as their plain GSM-7 equivalents."""
    return text.translate(_GSM_TABLE)


def plain_text(text: str) -> str:
    """Bot text without markdown or HTML; links as plain URLs."""
    text = text.replace("\r\n", "\n")
    text = _HTML_LINK.sub(lambda m: _link_text(_HTML_TAG.sub("", m.group(2)), m.group(1)), text)
    text = _MD_LINK.sub(lambda m: _link_text(m.group(1), m.group(2)), text)
    text = _AUTOLINK.sub(lambda m: m.group(1), text)
    text = _HTML_BREAK.sub("\n", text)
    text = _HTML_TAG.sub("", text)
    text = _EMPHASIS.sub(lambda m: m.group(2), text)
    text = _HEADING.sub("", text)
    text = html.unescape(text)
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def options_line(buttons: Sequence[Button]) -> str:
    """ "Reply 1 for A, 2 for B." """
    if not buttons:
        return ""
    items = [
        f"{i} for {gsm_punctuation(plain_text(title)).rstrip('.')}" for i, (title, _) in enumerate(buttons, 1)
    ]
    return "Reply " + ", ".join(items) + "."


def message_buttons(message: Mapping[str, Any]) -> List[Button]:
    """The (title, payload) buttons and quick replies of a bot message."""
    out: List[Button] = []
    for button in list(message.get("buttons") or []) + list(message.get("quick_replies") or []):
        if not isinstance(button, Mapping):
            continue
        title, payload = button.get("title"), button.get("payload")
        if isinstance(title, str) and isinstance(payload, str) and title.strip() and payload.strip():
            out.append((title.strip(), payload.strip()))
    return out


def render_message(message: Mapping[str, Any]) -> str:
    """One bot message (Rasa output) as SMS text: text, image or attachment URL, numbered options."""
    pieces: List[str] = []
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        pieces.append(gsm_punctuation(plain_text(text)))
    for key in ("image", "attachment"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            pieces.append(value.strip())
        elif isinstance(value, Mapping):
            url = (
                (value.get("payload") or {}).get("src") if isinstance(value.get("payload"), Mapping) else None
            )
            if isinstance(url, str) and url.strip():
                pieces.append(url.strip())
    options = options_line(message_buttons(message))
    if options:
        pieces.append(options)
    return "\n".join(pieces).strip()


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


def _split_with(text: str, separator: re.Pattern) -> List[str]:
    """Split keeping each separator at the end of its piece (so joining gives the text back)."""
    pieces: List[str] = []
    last = 0
    for m in separator.finditer(text):
        pieces.append(text[last : m.end()])
        last = m.end()
    pieces.append(text[last:])
    return [p for p in pieces if p]


_BREAKS: Tuple[re.Pattern, ...] = (
    re.compile(r"\n\s*\n"),  # paragraphs
    re.compile(r"\n"),  # lines
    _SENTENCE_END,  # sentences
    re.compile(r"[ \t]+"),  # words
)


def _split(text: str, limit: int, level: int) -> List[str]:
    if len(text) <= limit:
        return [text]
    if level >= len(_BREAKS):
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    parts: List[str] = []
    current = ""
    for piece in _split_with(text, _BREAKS[level]):
        if len(current) + len(piece.rstrip()) <= limit:
            current += piece
            continue
        if current.strip():
            parts.append(current)
        if len(piece.rstrip()) <= limit:
            current = piece
        else:
            parts.extend(_split(piece.strip(), limit, level + 1))
            current = ""
    if current.strip():
        parts.append(current)
    return parts


def split_text(text: str, limit: int = SMS_MAX_CHARS) -> List[str]:
    """``text`` in parts of at most ``limit`` characters, split at the most natural break."""
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    if not text:
        return []
    return [p.strip() for p in _split(text, limit, 0) if p.strip()]


def pack_parts(texts: Iterable[str], limit: int = SMS_MAX_CHARS) -> List[str]:
    """Messages of one turn as few SMS as possible, in order, each at most ``limit`` characters."""
    parts: List[str] = []
    for text in texts:
        for piece in split_text(text, limit):
            if parts and len(parts[-1]) + 2 + len(piece) <= limit:
                parts[-1] = parts[-1] + "\n\n" + piece
            else:
                parts.append(piece)
    return parts


def render_replies(
    messages: Iterable[Mapping[str, Any]], limit: int = SMS_MAX_CHARS
) -> Tuple[List[str], List[Button]]:
    """(SMS parts to send, the buttons a numbered reply refers to) for a turn's bot messages.

    The buttons are those of the last message in the turn that had any; [] when none had.
    """
    texts: List[str] = []
    buttons: List[Button] = []
    for message in messages:
        rendered = render_message(message)
        if rendered:
            texts.append(rendered)
        found = message_buttons(message)
        if found:
            buttons = found
    return pack_parts(texts, limit), buttons


# --- the channel's own texts, from the crisis resources data file -----------------------------

# Resource names (data/knowledge/crisis_resources.yml) the channel's texts use.
REQUIRED_RESOURCES = (
    "lifeline_number",
    "lifeline_name",
    "text_line_keyword",
    "text_line_number",
    "emergency_number",
)


class CrisisResourcesError(ValueError):
    """The crisis resources data lacks what the SMS channel's texts need."""


@dataclass(frozen=True)
class SmsTexts:
    """The texts the channel sends by itself (not through Rasa)."""

    help: str
    stop: str
    start: str
    error: str
    unreadable: str


_HELP = (
    "{service}: an educational assistant for people with depression that treatment hasn't lifted. "
    "It is not an emergency service and does not give medical advice.\n"
    "To reach a person now: text {lifeline_number} ({lifeline_name}), or text {text_line_keyword} "
    "to {text_line_number}, or call {lifeline_number}. In danger now? Call {emergency_number}.\n"
    "Reply STOP to end messages."
)
_STOP = (
    "You won't get any more messages from {service}. Reply START to get them again.\n"
    "If you need help now, text or call {lifeline_number}, any time."
)
_START = (
    "You'll get messages from {service} again. Send a message any time to carry on. "
    "Reply HELP for help, STOP to end."
)
_ERROR = (
    "Sorry, something went wrong on our side and your message may not have been handled. "
    "If you need help now, text or call {lifeline_number}, or call {emergency_number} in an emergency."
)
_UNREADABLE = (
    "I can only read the words of a text message. Please type your message. "
    "If you need help now, text or call {lifeline_number}."
)


def build_sms_texts(data: Mapping[str, Any], service: str) -> SmsTexts:
    """The channel's own texts, with the numbers from the crisis resources data (parsed YAML)."""
    resources = data.get("resources") if isinstance(data, Mapping) else None
    if not isinstance(resources, Mapping):
        raise CrisisResourcesError("crisis resources: 'resources' must be a mapping")
    values: Dict[str, str] = {"service": service.strip() or "This service"}
    for key in REQUIRED_RESOURCES:
        value = resources.get(key)
        if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
            raise CrisisResourcesError(f"crisis resources: resources.{key} is missing or empty")
        values[key] = str(value).strip()
    texts = {
        name: gsm_punctuation(template.format_map(values))
        for name, template in (
            ("help", _HELP),
            ("stop", _STOP),
            ("start", _START),
            ("error", _ERROR),
            ("unreadable", _UNREADABLE),
        )
    }
    for name, text in texts.items():
        if len(text) > SMS_MAX_CHARS:
            raise CrisisResourcesError(f"the SMS {name} text is longer than {SMS_MAX_CHARS} characters")
    return SmsTexts(**texts)
