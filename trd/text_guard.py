"""What every channel does to what a person types before Rasa or the risk check sees it.

Invisible characters: soft hyphens, zero-width spaces and joiners, word joiners, bidi
controls, byte-order marks, tag characters, variation selectors and the combining
grapheme joiner are removed (:func:`remove_invisible`). They change nothing a reader
sees, but split the words a risk check looks for ("sui\u00adcide"). The risk engine
removes them too, whatever channel the text came from.

The leading-slash guard every channel applies (web chat, SMS):

Rasa reads a message that starts with "/" (after ``str.strip()``) as an intent
shortcut, ``/intent{"entity": "value"}``, and skips the NLU pipeline, and with it
the safety guard. So a channel passes a leading "/" on only for the exact payload
of a button it offered; from any other text the leading slashes, and the blanks
between them, are removed, so the text is classified (and checked for risk) like
any other message.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable, Collection, Optional

# Rasa's rasa.shared.constants.INTENT_MESSAGE_PREFIX (a unit test keeps the two equal).
INTENT_MESSAGE_PREFIX = "/"

# Characters that render as nothing: every format character (Unicode category Cf: soft
# hyphen, zero-width space/joiners, word joiner, bidi embeddings, overrides and isolates,
# BOM, tag characters...), the combining grapheme joiner, variation selectors, and the
# Hangul fillers that pass for blanks.
_INVISIBLE_EXTRA = re.compile("[\u034f\ufe00-\ufe0f\U000e0100-\U000e01ef\u115f\u1160\u3164\uffa0]")


def remove_invisible(text: str) -> str:
    """``text`` without the characters that show nothing (see the module's docstring).

    A lone surrogate (possible in JSON, ``"\\ud800"``, but not in UTF-8: no database or log
    can store it) becomes U+FFFD, the replacement character.
    """
    if text.isascii():
        return text
    kept = "".join(
        "\ufffd" if category == "Cs" else ch
        for ch, category in ((ch, unicodedata.category(ch)) for ch in text)
        if category != "Cf"
    )
    return _INVISIBLE_EXTRA.sub("", kept)


def risky_window(text: str, limit: int, is_risky: Callable[[str], bool]) -> Optional[str]:
    """For a message longer than ``limit``: the first stretch of at most ``limit`` characters
    that ``is_risky`` flags, or None. Stretches overlap by half, so a phrase cut by one
    stretch's edge is whole in the next. A channel that refuses an over-long message
    hands Rasa this stretch instead, so the crisis path still runs on what was sent."""
    if len(text) <= limit:
        return text if is_risky(text) else None
    step = max(1, limit // 2)
    start = 0
    while start < len(text):
        piece = text[start : start + limit]
        if is_risky(piece):
            return piece.strip()
        if start + limit >= len(text):
            break
        start += step
    return None


def strip_command_prefix(text: str) -> str:
    """``text`` trimmed, without leading slashes or the blanks between them; may be empty.

    The result never starts with "/" even after Rasa's own ``strip()``: the blanks are
    removed with ``str.strip`` (every Unicode space, as Rasa does), so "/\\u2003/greet"
    becomes "greet", not "/greet".
    """
    out = remove_invisible(text).strip()
    while out.startswith(INTENT_MESSAGE_PREFIX):
        out = out.lstrip(INTENT_MESSAGE_PREFIX).strip()
    return out


def guard_slash(text: str, allowed_payloads: Collection[str] = ()) -> str:
    """What Rasa may receive for ``text``: an offered payload unchanged, anything else unslashed.

    ``text`` (trimmed) passes unchanged when it is exactly one of ``allowed_payloads``
    (the button payloads the channel itself offered); otherwise it is
    :func:`strip_command_prefix` of it, which is empty for a message of only slashes
    (the channel then asks the person to type something).
    """
    trimmed = remove_invisible(text).strip()
    if trimmed in allowed_payloads:
        return trimmed
    return strip_command_prefix(trimmed)
