"""Saving the intake record as it is collected (after every answer), off the event loop.

A save never replaces a known answer with an unknown one (#10): the new record is merged
into the stored one (:func:`merge_known`), so a turn that somehow ran on empty slots (a
conversation that could not be read) cannot wipe the clinician's copy. Only "start over",
which the person confirmed, replaces the record (``replace=True``).
"""

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


_STATUS_ORDER = {"not_started": 0, "in_progress": 1, "complete": 2}
# Lists the record builder leaves null until the person answers, so an empty one is an answer
# ("nothing now", "I stopped all of them"): it replaces what was stored.
EMPTY_LIST_IS_AN_ANSWER = frozenset({"current_medications"})


def merge_known(stored: Any, new: Any) -> Any:
    """``new`` over ``stored``, where unknown never overwrites known.

    - None (unknown) keeps what was stored;
    - mappings merge key by key (a key only in the stored record is kept);
    - an empty list keeps a stored non-empty one (the record builder writes [] for a list
      nobody was asked about), except under a key of :data:`EMPTY_LIST_IS_AN_ANSWER`, which
      is null until asked: there [] is what the person said; two lists of the same length with
      unknowns in the new one (e.g. the nine PHQ-9 answers) merge item by item;
    - the intake's status never goes back (not started < in progress < complete), and a
      crisis once recorded in the conversation stays recorded;
    - anything else known replaces what was stored (a changed answer).
    """
    if new is None:
        return stored
    if isinstance(new, Mapping) and isinstance(stored, Mapping):
        out = {key: merge_known(stored.get(key), new.get(key)) for key in {**stored, **new}}
        for key in EMPTY_LIST_IS_AN_ANSWER:
            if new.get(key) == []:
                out[key] = []
        status = out.get("status")
        if isinstance(stored.get("status"), str) and isinstance(status, str):
            if _STATUS_ORDER.get(stored["status"], -1) > _STATUS_ORDER.get(status, -1):
                out["status"] = stored["status"]
        if stored.get("crisis_in_conversation") is True:
            out["crisis_in_conversation"] = True
        old_cats, new_cats = stored.get("risk_categories"), out.get("risk_categories")
        if isinstance(old_cats, list) and isinstance(new_cats, list):
            out["risk_categories"] = list(dict.fromkeys([*old_cats, *new_cats]))
        return out
    if isinstance(new, list) and isinstance(stored, list):
        if not new:
            return stored
        if len(new) == len(stored) and any(item is None for item in new):
            return [merge_known(old, item) for old, item in zip(stored, new, strict=True)]
    return new


async def save_record(
    conversation_id: str,
    slots: Mapping[str, Any],
    repository_factory: RepositoryFactory = get_repository,
    replace: bool = False,
) -> bool:
    """Build, validate and store the record; False (logged) if it could not be stored.

    The record is merged into the stored one (:func:`merge_known`) unless ``replace`` ("start
    over"). A failure loses nothing: every answer stays in the conversation's slots and the
    next save writes the whole record again.
    """
    try:
        record = build_record(slots)
        validate_record(record)
    except Exception:
        logger.exception("intake record of conversation %s could not be built", conversation_id)
        return False
    try:
        repository = await asyncio.to_thread(repository_factory)
        if not replace:
            # One conversation's turns run one at a time (Rasa's lock), so read-merge-write is safe.
            stored = await asyncio.to_thread(repository.intake, conversation_id)
            if stored:
                record = merge_known(stored, record)
                validate_record(record)
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
