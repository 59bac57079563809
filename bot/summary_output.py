"""Summary links are added on the way out (#10): the stored bot message carries a reference
(``[[summary-link:<nonce>]]``, see :mod:`trd.summary.links`), and every channel's replies get
the link itself here, so the token is never in the tracker store. The summary's PHQ-9 chart
(a custom payload of dates and totals) goes to the web chat only, which draws it. Installed by
``python -m bot``.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Optional

from trd.summary.chart import CHAT_CHART_KEY
from trd.summary.links import expand_references

WEB_CHANNEL = "web"  # bot.channels.webchat.CHANNEL_NAME (imported there, it would load Sanic here)

_PATCHED = "_trd_summary_links"


def expand_message(message: Dict[str, Any], channel: Optional[str] = None) -> Dict[str, Any]:
    """The message as ``channel`` sends it: summary links filled in; the PHQ-9 chart's payload
    only for the web chat, which draws it (any other channel would send the JSON as text)."""
    text = message.get("text")
    if isinstance(text, str) and "[[summary-link:" in text:
        message["text"] = expand_references(text)
    custom = message.get("custom")
    if channel != WEB_CHANNEL and isinstance(custom, dict) and CHAT_CHART_KEY in custom:
        rest = {k: v for k, v in custom.items() if k != CHAT_CHART_KEY}
        if rest:
            message["custom"] = rest
        else:
            del message["custom"]
    return message


def install() -> None:
    from rasa.core.channels.channel import OutputChannel

    send = OutputChannel.send_response
    if getattr(send, _PATCHED, False):
        return

    @functools.wraps(send)
    async def send_response(self: Any, recipient_id: str, message: Dict[str, Any]) -> None:
        await send(self, recipient_id, expand_message(message, self.name()))

    setattr(send_response, _PATCHED, True)
    OutputChannel.send_response = send_response
