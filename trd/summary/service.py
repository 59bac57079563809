"""Gathering one summary from the repository (synchronous: async callers run it in a thread)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Optional

from trd.navigator import Knowledge
from trd.store.repository import Repository
from trd.summary.content import SummaryInputs, run_navigator


def intake_complete(record: Mapping[str, Any]) -> bool:
    """False when the record says the intake is still going (the chat message then says so)."""
    status = (record.get("intake") or {}).get("status") if isinstance(record.get("intake"), Mapping) else None
    return status not in ("in_progress", "not_started")


def gather(
    repository: Repository,
    conversation_id: str,
    generated_at: datetime,
    expires_at: Optional[datetime] = None,
    knowledge: Optional[Knowledge] = None,
) -> Optional[SummaryInputs]:
    """The conversation's summary inputs, read now (so corrections show); None without an intake.

    Raises IntakeValidationError if the stored record does not match the schema, and the
    repository's errors if the database cannot be read.
    """
    record = repository.intake(conversation_id)
    if not record:
        return None
    result = run_navigator(record, knowledge)
    return SummaryInputs(
        record=record,
        result=result,
        generated_at=generated_at,
        expires_at=expires_at,
        crises=tuple(repository.crises(conversation_id)),
        safety_plan=repository.safety_plan(conversation_id),
    )
