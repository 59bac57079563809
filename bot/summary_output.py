"""Summary links are added on the way out (#10): the stored bot message carries a reference
(``[[summary-link:<nonce>]]``, see :mod:`trd.summary.links`), and every channel's replies get
the link itself here, so the token is never in the tracker store. Installed by ``python -m bot``.
"""

from __future__ import annotations

import functools
from typing import Any, Dict

from trd.summary.links import expand_references

_PATCHED = "_trd_summary_links"


def expand_message(message: Dict[str, Any]) -> Dict[str, Any]:
    text = message.get("text")
    if isinstance(text, str) and "[[summary-link:" in text:
        message["text"] = expand_references(text)
    return message


def install() -> None:
    from rasa.core.channels.channel import OutputChannel

    send = OutputChannel.send_response
    if getattr(send, _PATCHED, False):
        return

    @functools.wraps(send)
    async def send_response(self: Any, recipient_id: str, message: Dict[str, Any]) -> None:
        await send(self, recipient_id, expand_message(message))

    setattr(send_response, _PATCHED, True)
    OutputChannel.send_response = send_response
