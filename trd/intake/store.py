"""Saving the intake record as it is collected (after every answer), off the event loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Dict, List, Mapping

from trd.intake.parts import SLOT_CRISES, SLOT_RISK_CATEGORY
from trd.intake.record import build_record, validate_record
from trd.store import get_repository
from trd.store.repository import Repository

logger = logging.getLogger(__name__)

RepositoryFactory = Callable[[], Repository]


async def save_record(
    conversation_id: str, slots: Mapping[str, Any], repository_factory: RepositoryFactory = get_repository
) -> bool:
    """Build, validate and store the record; False (logged) if it could not be stored.

    A failure loses nothing: every answer stays in the conversation's slots and the next
    save writes the whole record again.
    """
    try:
        record = build_record(slots)
        validate_record(record)
    except Exception:
        logger.exception("intake record of conversation %s could not be built", conversation_id)
        return False
    try:
        repository = await asyncio.to_thread(repository_factory)
        await asyncio.to_thread(repository.save_intake, conversation_id, record)
        return True
    except Exception:
        logger.exception("COULD NOT SAVE the intake record of conversation %s", conversation_id)
        return False


def crisis_categories_seen(events: List[Dict[str, Any]], known: Any) -> List[str]:
    """The slot's categories plus every risk category set in the tracker's events, in order."""
    seen: List[str] = [c for c in known if isinstance(c, str)] if isinstance(known, list) else []
    for event in events:
        if event.get("event") == "slot" and event.get("name") == SLOT_RISK_CATEGORY:
            value = event.get("value")
            if isinstance(value, str) and value and value not in seen:
                seen.append(value)
    return seen


def crisis_slot_changes(events: List[Dict[str, Any]], slots: Mapping[str, Any]) -> Dict[str, Any]:
    """{intake_crises: [...]} when the events show a category the slot does not hold yet."""
    known = slots.get(SLOT_CRISES)
    seen = crisis_categories_seen(events, known)
    if seen != (known if isinstance(known, list) else []):
        return {SLOT_CRISES: seen}
    return {}
