"""What the web chat and the REST channel hand Rasa for what a person typed.

Both channels apply the same two rules (:mod:`bot.channels.webchat_text` holds the text
rules themselves):

* a leading "/" passes only for the exact payload of a button the assistant offers: the
  domain's buttons (and the page's own), or ones the bot sent in this conversation (e.g.
  from the action server), read from the tracker only when the text is not a domain payload;
* a message over MAX_MESSAGE_CHARS is refused politely (``MessageTooLong``), except that one
  the risk check flags still takes the crisis path: its flagged stretch goes to Rasa.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, FrozenSet, Iterable, List, Set, Tuple

from sanic.request import Request

from bot.channels.webchat_text import (
    MessageTooLong,
    button_payloads,
    guard_slash,
    message_buttons,
    normalize_user_text,
    risky_part_of_long_message,
)
from trd.safety import risk

logger = logging.getLogger(__name__)

# The payloads of the buttons the bot sent to a sender (request, sender id -> payloads).
SentPayloads = Callable[[Request, str], Awaitable[Set[str]]]


async def tracker_events(request: Request, sender_id: str) -> List[Dict[str, Any]]:
    """Every event of the sender's conversation, as dicts (empty when there is none)."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return []
    tracker = await store.retrieve(sender_id)
    if tracker is None:
        return []
    return [event.as_dict() for event in tracker.events]


def payloads_sent(events: Iterable[Dict[str, Any]]) -> Set[str]:
    """Payloads of the buttons the bot sent in these events."""
    payloads: Set[str] = set()
    for event in events:
        if event.get("event") == "bot":
            payloads.update(button["payload"].strip() for button in message_buttons(event.get("data") or {}))
    return payloads


class TypedText:
    """One channel's reading of typed text; ``label`` names the channel in its log lines."""

    def __init__(self, label: str, sent_payloads: SentPayloads) -> None:
        self.label = label
        self._sent_payloads = sent_payloads
        self._cache: Tuple[Any, FrozenSet[str]] = (None, frozenset())

    def domain_payloads(self, request: Request) -> FrozenSet[str]:
        """Payloads of the domain's buttons, and the page's own (/sos, /greet)."""
        agent = getattr(request.app.ctx, "agent", None)
        responses = getattr(getattr(agent, "domain", None), "responses", None) or {}
        if self._cache[0] is not responses:  # a new model brings a new domain
            self._cache = (responses, frozenset(button_payloads(responses)))
        return self._cache[1]

    async def text_for_rasa(self, request: Request, sender_id: str, raw: Any) -> str:
        """The user's message as Rasa should see it; leading "/" only for payloads we issued.

        Raises InvalidMessage (MessageTooLong among them) with the text to show the person.
        """
        try:
            text = normalize_user_text(raw)
        except MessageTooLong as too_long:
            # Safety first: an over-long message the risk check flags still takes the crisis
            # path (its flagged stretch goes to Rasa); any other gets the polite "too long".
            part = risky_part_of_long_message(too_long, lambda t: risk.assess(t).is_risk)
            logger.warning(
                "%s: an over-long message flagged by the risk check (sender %s)", self.label, sender_id
            )
            return part
        allowed: Set[str] = set(self.domain_payloads(request))
        if text.startswith("/") and text not in allowed:
            try:
                allowed |= await self._sent_payloads(request, sender_id)
            except Exception:  # noqa: BLE001 - without the history, the text goes through NLU
                logger.exception("%s: reading the conversation failed (sender %s)", self.label, sender_id)
        return guard_slash(text, allowed)
