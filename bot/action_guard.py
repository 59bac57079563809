"""Action calls end in ACTION_TIMEOUT_SECONDS, and a failed one is never silent.

Rasa 3.6 gives a custom action call 300 seconds (``DEFAULT_REQUEST_TIMEOUT``), while the
conversation's lock lives 60 seconds (``TICKET_LOCK_LIFETIME``): a hung action server held
the conversation far past its lock, every message behind it waited, and when the call
failed Rasa dropped the action's events and said nothing. :func:`install` (run by
``python -m bot``) changes three things:

* the call is bounded by ``ACTION_TIMEOUT_SECONDS`` (default 10; it must stay under the lock
  lifetime);
* ``action_record_crisis`` that timed out or could not reach the action server is done by
  the Rasa server itself, with the same core function the action server uses
  (:func:`trd.escalation.enqueue.record_crisis_and_escalate`): the crisis is recorded and
  the care team's escalation queued. It is keyed by the message's id, so an action server
  that finishes the call after all records nothing twice;
* any other action that failed that way adds a short, polite message that names the
  crisis lines (texts from data/knowledge/crisis_resources.yml): the person is never left
  with silence.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Mapping, Optional

_MARK = "_trd_action_guard"
SETTING = "ACTION_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT_SECONDS = 10.0
RECORD_CRISIS = "action_record_crisis"
SLOT_CRISIS_ACTIVE = "crisis_active"
SLOT_RISK_CATEGORY = "risk_category"
MAX_EXCERPT_CHARS = 500
MAX_LABEL = 64
WORKER_THREADS = 64

logger = logging.getLogger(__name__)

SLOW_TEXT = (
    "Sorry, that's taking me longer than it should, so I couldn't finish that step. Please send "
    "your last message again in a moment. If you need help now, call or text {lifeline_number}, "
    "or call {emergency_number} in an emergency."
)
SLOW_SMS = (
    "Sorry, that's taking me longer than it should, so I couldn't finish that step. Please send "
    "your last message again in a moment. If you need help now, text or call {lifeline_number}, "
    "or call {emergency_number} in an emergency."
)


class ActionGuardConfigError(ValueError):
    pass


def timeout_seconds(env: Mapping[str, str] = os.environ) -> float:
    """ACTION_TIMEOUT_SECONDS, checked: more than 0 and under the conversation lock's lifetime."""
    text = env.get(SETTING, "").strip() or str(DEFAULT_TIMEOUT_SECONDS)
    try:
        value = float(text)
    except ValueError:
        raise ActionGuardConfigError(f"{SETTING} must be a number of seconds, not {text!r}") from None
    lock = float(env.get("TICKET_LOCK_LIFETIME", "").strip() or 60)
    if not 0 < value < lock:
        raise ActionGuardConfigError(
            f"{SETTING} must be more than 0 and less than the conversation lock's lifetime ({lock:.0f} s)"
        )
    return value


def slow_text(sms: bool) -> str:
    from trd.summary.resources import default_resources, fill

    return fill(SLOW_SMS if sms else SLOW_TEXT, default_resources(), "the action timeout text")


# --- the crisis, recorded by the Rasa server -----------------------------------------------------


def _latest(tracker: Any) -> Any:
    return getattr(tracker, "latest_message", None)


def crisis_category(tracker: Any) -> str:
    """As the action server reads it: the policy's slot, else the message's entity or intent."""
    from trd.safety.contract import INTENT_DANGER_NOW, INTENT_NOT_SAFE, INTENT_SOS, RISK_ENTITY, RiskCategory

    slot = tracker.get_slot(SLOT_RISK_CATEGORY)
    if isinstance(slot, str) and slot.strip():
        return slot.strip()[:MAX_LABEL]
    message = _latest(tracker)
    for entity in getattr(message, "entities", None) or []:
        if (
            isinstance(entity, dict)
            and entity.get("entity") == RISK_ENTITY
            and isinstance(entity.get("value"), str)
        ):
            return str(entity["value"]).strip()[:MAX_LABEL] or RiskCategory.UNSPECIFIED.value
    intent = (getattr(message, "intent", None) or {}).get("name")
    by_intent = {
        INTENT_DANGER_NOW: RiskCategory.DANGER_NOW.value,
        INTENT_SOS: RiskCategory.SOS.value,
        INTENT_NOT_SAFE: RiskCategory.NOT_SAFE.value,
    }
    return by_intent.get(str(intent), RiskCategory.UNSPECIFIED.value)


def _excerpt(tracker: Any) -> str:
    text = str(getattr(_latest(tracker), "text", None) or "").strip()
    if len(text) > MAX_EXCERPT_CHARS:
        return text[: MAX_EXCERPT_CHARS - 1].rstrip() + "\u2026"
    return text


def record_crisis_here(tracker: Any) -> None:
    """action_record_crisis on the Rasa server (blocking: run it in a thread)."""
    from trd.escalation.enqueue import Escalator, record_crisis_and_escalate, spool_crisis
    from trd.store import get_repository

    message_id = getattr(_latest(tracker), "message_id", None)
    crisis: Dict[str, Any] = dict(
        conversation_id=tracker.sender_id,
        input_channel=(tracker.get_latest_input_channel() or "unknown")[:MAX_LABEL],
        category=crisis_category(tracker),
        message_excerpt=_excerpt(tracker),
        events=[e.as_dict() for e in tracker.events],
        message_id=message_id if isinstance(message_id, str) and message_id.strip() else None,
    )
    escalator = Escalator()
    try:
        outcome = record_crisis_and_escalate(get_repository(), escalator, **crisis)
    except Exception:  # noqa: BLE001 - the database is down too: the escalation journal (#10)
        logger.exception("the crisis in %s could not be written to the database", tracker.sender_id)
        spool_crisis(escalator, **crisis)  # raises only when the journal cannot be written either
        return
    logger.warning(
        "crisis %s recorded by the Rasa server (the action server did not answer); escalation: %s",
        outcome.record.id,
        ", ".join(outcome.escalated_to) or "none",
    )


async def _fallback(name: str, tracker: Any, reason: str) -> List[Any]:
    from rasa.shared.core.events import BotUttered, SlotSet

    if name == RECORD_CRISIS:
        try:
            await asyncio.to_thread(record_crisis_here, tracker)
        except Exception:  # noqa: BLE001 - the person already has the crisis lines; an operator must see this
            logger.exception(
                "COULD NOT RECORD A CRISIS: conversation %s (the action server %s, and the Rasa "
                "server's own attempt failed)",
                tracker.sender_id,
                reason,
            )
        return [SlotSet(SLOT_CRISIS_ACTIVE, True)]
    sms = tracker.get_latest_input_channel() == "twilio"
    return [BotUttered(slow_text(sms), {"trd_action_failed": name})]


def install(env: Mapping[str, str] = os.environ) -> None:
    """Bound every custom action call and answer its failures (idempotent)."""
    import aiohttp
    import rasa.core.actions.action as action_module
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.exceptions import RasaException

    seconds = timeout_seconds(env)
    action_module.DEFAULT_REQUEST_TIMEOUT = seconds
    if getattr(RemoteAction.run, _MARK, False):
        return
    original = RemoteAction.run

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
        try:
            events: List[Any] = await asyncio.wait_for(
                original(self, output_channel, nlg, tracker, domain), timeout=seconds + 1.0
            )
            return events
        except ActionExecutionRejection:
            raise
        except (asyncio.TimeoutError, aiohttp.ClientError, RasaException) as exc:
            cause: Optional[BaseException] = exc.__cause__ or exc.__context__
            timed_out = isinstance(exc, asyncio.TimeoutError) or isinstance(cause, asyncio.TimeoutError)
            reason = f"did not answer within {seconds:.0f} s" if timed_out else "could not be reached"
            logger.error("action %s failed: the action server %s", self.name(), reason)
            return await _fallback(self.name(), tracker, reason)

    setattr(run, _MARK, True)
    RemoteAction.run = run
    _warm_on_load()


def _warm_on_load() -> None:
    """The model's first inference builds its graphs and holds the event loop for seconds:
    do it while the server starts (after Rasa loads the agent), not on someone's first message."""
    import rasa.core.run as run_module

    from bot.channels import crisis_now

    original = run_module.load_agent_on_start
    if getattr(original, _MARK, False):
        return

    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        # Database calls run in the loop's default worker threads (the tracker store, the SMS
        # inbox and outbox, web sessions); Python's default pool has cpu+4 threads, which a
        # locked database fills in seconds (each waits up to 30 s), and then even a DNS lookup
        # for the crisis SMS would queue behind them.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="trd-io")
        )
        agent = await original(*args, **kwargs)
        app = args[3] if len(args) > 3 else kwargs.get("app")
        await crisis_now.warm_agent(app if app is not None else _Holder(agent))
        return agent

    setattr(load_agent_on_start, _MARK, True)
    run_module.load_agent_on_start = load_agent_on_start


class _Holder:
    def __init__(self, agent: Any) -> None:
        class _Ctx:
            pass

        self.ctx = _Ctx()
        self.ctx.agent = agent  # type: ignore[attr-defined]


def describe() -> Dict[str, Any]:
    """The installed settings (for the log at start)."""
    import rasa.core.actions.action as action_module

    return {"action_timeout_seconds": getattr(action_module, "DEFAULT_REQUEST_TIMEOUT", None)}
