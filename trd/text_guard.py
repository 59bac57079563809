"""The leading-slash guard every channel applies to what a person types (web chat, SMS).

Rasa reads a message that starts with "/" (after ``str.strip()``) as an intent
shortcut, ``/intent{"entity": "value"}``, and skips the NLU pipeline, and with it
the safety guard. So a channel passes a leading "/" on only for the exact payload
of a button it offered; from any other text the leading slashes, and the blanks
between them, are removed, so the text is classified (and checked for risk) like
any other message.
"""

from __future__ import annotations

from typing import Collection

# Rasa's rasa.shared.constants.INTENT_MESSAGE_PREFIX (a unit test keeps the two equal).
INTENT_MESSAGE_PREFIX = "/"


def strip_command_prefix(text: str) -> str:
    """``text`` trimmed, without leading slashes or the blanks between them; may be empty.

    The result never starts with "/" even after Rasa's own ``strip()``: the blanks are
    removed with ``str.strip`` (every Unicode space, as Rasa does), so "/\\u2003/greet"
    becomes "greet", not "/greet".
    """
    out = text.strip()
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
    trimmed = text.strip()
    if trimmed in allowed_payloads:
        return trimmed
    return strip_command_prefix(trimmed)
