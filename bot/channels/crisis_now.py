"""The crisis lines at once, whatever the rest of the server is doing.

A message the risk check flags as clear risk is answered with the crisis resources within
``CRISIS_REPLY_WAIT_SECONDS`` (default 1.5) on every channel (web chat, SMS, REST): the
channel starts the turn as usual and waits that long for it; when the turn has not
finished (the action server hangs, the conversation's lock is held by a stuck turn, the
database is write-locked), the channel answers with the crisis response itself, and the
turn goes on in the background (never cancelled), so the crisis is still recorded and
escalated, once, when it completes.

The check is the risk assessment's lexicon floor (trd/safety/assessment.py with the
lexicon only: an explicit phrase, not one about the past, not a plain denial); the
detector's own readings take the ordinary turn. The texts are the domain's crisis
responses (generated from data/knowledge/crisis_resources.yml; the SMS wording on SMS),
read from the running model's domain, or from the data file when no model is loaded.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any, Dict, List, Mapping, Optional

from trd.knowledge.crisis_resources import load_crisis_resources
from trd.safety.assessment import RiskAssessor
from trd.safety.contract import INTENT_SOS, RiskCategory
from trd.safety.risk import RiskEngine, default_engine
from trd.summary.resources import default_resources, fill

logger = logging.getLogger(__name__)

DEFAULT_WAIT_SECONDS = 1.5
SETTING = "CRISIS_REPLY_WAIT_SECONDS"

UTTER_CRISIS = "utter_crisis"
_RESPONSE_FOR_CATEGORY = {
    RiskCategory.DANGER_NOW.value: "utter_crisis_danger_now",
    RiskCategory.THIRD_PARTY.value: "utter_crisis_third_party",
    RiskCategory.HARM_TO_OTHERS.value: "utter_crisis_harm_to_others",
}
_CLEAR_TIERS = ("clear", "third_party", "harm_to_others")


def wait_seconds(env: Mapping[str, str] = os.environ) -> float:
    """How long a channel waits for a flagged message's turn before it answers itself."""
    text = env.get(SETTING, "").strip() or str(DEFAULT_WAIT_SECONDS)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{SETTING} must be a number of seconds, not {text!r}") from None
    if not 0 < value <= 10:
        raise ValueError(f"{SETTING} must be more than 0 and at most 10 seconds")
    return value


class _LexiconOnly(Exception):
    pass


class _NoDetector:
    """Stands in for the detector: the channel's check is the lexicon floor only."""

    def read(self, text: str) -> Any:
        raise _LexiconOnly


@functools.lru_cache(maxsize=4)
def _assessor(engine: RiskEngine) -> RiskAssessor:
    return RiskAssessor(engine, _NoDetector())  # type: ignore[arg-type]


def crisis_response(text: Any) -> Optional[str]:
    """The crisis response for a message the lexicon floor reads as clear risk, else None."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        engine = default_engine()
        result = engine.assess(text)
        if not (result.is_crisis or result.intent == INTENT_SOS):
            return None
        assessment = _assessor(engine).assess_with(text, result)
    except _LexiconOnly:
        return None  # only the detector could tell: the ordinary turn decides
    except Exception:  # noqa: BLE001 - a broken check must not stop the message
        logger.exception("crisis check: the risk check failed; the message takes the ordinary turn")
        return None
    if assessment.tier not in _CLEAR_TIERS:
        return None
    if result.intent == INTENT_SOS:
        return "utter_sos"
    return _RESPONSE_FOR_CATEGORY.get(str(result.category), UTTER_CRISIS)


def warm() -> None:
    """Load the lexicon now (a channel calls this when it starts), so the first crisis message
    does not pay for it."""
    try:
        crisis_response("warm up")
        default_resources()
    except Exception:  # noqa: BLE001 - the first message will report it
        logger.exception("crisis check: loading the risk lexicon failed")


_WARMED = "_trd_warmed"


async def warm_agent(app: Any) -> None:
    """Run one message through the model's NLU when the server starts: the first inference
    builds the model's graphs and holds the event loop for seconds, which must not happen
    while a crisis message waits for its reply."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    if agent is None or getattr(agent, _WARMED, False) or not hasattr(agent, "parse_message"):
        return
    setattr(agent, _WARMED, True)
    try:
        await agent.parse_message("hello")
    except Exception:  # noqa: BLE001 - only speed depends on it
        logger.warning("crisis check: warming the model up failed", exc_info=True)


def _from_domain(domain: Any, response: str, channel: Optional[str]) -> Optional[Dict[str, Any]]:
    variants = (getattr(domain, "responses", None) or {}).get(response) or []
    plain = [v for v in variants if isinstance(v, dict) and not v.get("condition") and v.get("text")]
    for variant in plain:
        if channel is not None and variant.get("channel") == channel:
            return {"text": variant["text"]}
    for variant in plain:
        if not variant.get("channel"):
            return {"text": variant["text"]}
    return None


def _from_file(response: str, sms: bool) -> Dict[str, Any]:
    templates = load_crisis_resources().messages
    template = templates.get(response) or templates[UTTER_CRISIS]
    return {"text": fill(template.sms if sms else template.text, default_resources(), response).strip()}


def crisis_message(domain: Any, response: Optional[str], channel: Optional[str] = None) -> Dict[str, Any]:
    """The crisis response as a bot message ({"text": ...}): the domain's, else the data file's."""
    name = response or UTTER_CRISIS
    try:
        found = _from_domain(domain, name, channel)
    except Exception:  # noqa: BLE001 - fall back to the data file
        found = None
    return found or _from_file(name, sms=channel == "twilio")


def lifeline_number() -> str:
    return default_resources()["lifeline_number"]


def with_crisis_lines(
    messages: List[Dict[str, Any]], domain: Any, response: Optional[str], channel: Optional[str] = None
) -> List[Dict[str, Any]]:
    """``messages`` (what the turn sent so far) when they already carry the crisis lines, else
    the crisis response followed by them."""
    number = lifeline_number()
    if any(number in str(m.get("text") or "") for m in messages):
        return list(messages)
    return [crisis_message(domain, response, channel), *messages]
