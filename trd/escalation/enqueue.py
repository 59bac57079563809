"""Recording a crisis together with its escalation (the action server's side of the outbox).

``action_record_crisis`` calls :func:`record_crisis_and_escalate` in a worker thread.
It never sends anything: it writes the crisis and, when the deployment has a care team
(``ESCALATION_WEBHOOK_URL`` and/or ``ONCALL_SMS_NUMBER``), one pending outbox row per
destination, in the same transaction. The delivery worker sends them.

Chosen semantics when the outbox write fails (documented and tested):

1. The crisis and its outbox rows are one transaction: a failure writes neither, so the
   database never says "escalated" for a crisis that is not in the outbox.
2. Safety first: the crisis is then recorded on its own, and ``CARE TEAM NOT ALERTED``
   is logged at CRITICAL level with the conversation id, so an operator can alert the
   care team by hand. (A crisis missing from the clinician's record would be worse than
   one without an escalation.)
3. If the failure is the database itself being unreachable, the crisis-only write is
   not tried (it would fail the same way, and the person's turn would wait twice); the
   action logs ``COULD NOT RECORD A CRISIS`` as before.

The person's reply never depends on any of this: the crisis resources come from the
domain and were sent before this action ran.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, List, Mapping, Optional, Tuple

from trd.escalation.cases import FloodPolicy
from trd.escalation.config import destinations_from_env
from trd.escalation.journal import Entry, Journal
from trd.escalation.payload import (
    ContactLookup,
    SmsStoreContacts,
    build_payload,
    care_team_channel,
    sms_payload,
)
from trd.store.repository import (
    DESTINATION_SMS,
    DESTINATION_WEBHOOK,
    CrisisRecord,
    EscalationRequest,
    Repository,
    utcnow,
)

logger = logging.getLogger(__name__)


class Escalator:
    """Builds the escalation of a crisis from the tracker, per the environment's destinations."""

    def __init__(
        self,
        env: Mapping[str, str] = os.environ,
        contacts: Optional[ContactLookup] = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._env = env
        self._contacts = contacts
        self._clock = clock

    def _lookup(self) -> ContactLookup:
        if self._contacts is None:
            self._contacts = SmsStoreContacts()
        return self._contacts

    def destinations(self) -> Tuple[str, ...]:
        return destinations_from_env(self._env)

    def request_for(
        self,
        conversation_id: str,
        input_channel: Optional[str],
        category: str,
        events: List[Mapping[str, Any]],
    ) -> Optional[EscalationRequest]:
        """The outbox rows to write with this crisis, or None when no care team is configured.

        Synchronous: for an SMS conversation it reads (and decrypts) the person's number.
        """
        destinations = self.destinations()
        if not destinations:
            return None
        channel = care_team_channel(input_channel)
        payload = build_payload(
            conversation_id=conversation_id,
            input_channel=input_channel,
            category=category,
            events=events,
            lookup=self._lookup() if channel == "sms" else None,
            now=self._clock(),
        )
        payloads = {}
        if DESTINATION_WEBHOOK in destinations:
            payloads[DESTINATION_WEBHOOK] = payload
        if DESTINATION_SMS in destinations:
            payloads[DESTINATION_SMS] = sms_payload(payload)
        # One open escalation per conversation: a page, then bounded updates (trd.escalation.cases)
        return EscalationRequest(channel=channel, payloads=payloads, policy=FloodPolicy.from_env(self._env))


@dataclass(frozen=True)
class CrisisOutcome:
    record: CrisisRecord
    escalated_to: Tuple[str, ...] = ()


def _unreachable(exc: BaseException) -> bool:
    try:
        from trd.store.sql import is_transient_error
    except ImportError:  # pragma: no cover
        return False
    return is_transient_error(exc) or isinstance(exc, (ConnectionError, TimeoutError))


def record_crisis_and_escalate(
    repository: Repository,
    escalator: Escalator,
    *,
    conversation_id: str,
    input_channel: str,
    category: str,
    message_excerpt: str,
    events: List[Mapping[str, Any]],
    message_id: Optional[str] = None,
) -> CrisisOutcome:
    """Record the crisis and its outbox rows in one transaction (see the module docstring).

    ``message_id`` (the id of the message that raised it) records the crisis of one
    message once, however often its turn runs (the repository's ``record_crisis``).
    """
    try:
        request = escalator.request_for(conversation_id, input_channel, category, events)
    except Exception:  # noqa: BLE001 - building the payload must not cost the crisis record
        logger.critical(
            "CARE TEAM NOT ALERTED: could not build the escalation of a crisis in conversation %s "
            "(channel %s, category %s); recording the crisis without it",
            conversation_id,
            input_channel,
            category,
            exc_info=True,
        )
        request = None
    if request is None:
        return CrisisOutcome(
            repository.record_crisis(
                conversation_id, input_channel, category, message_excerpt, message_id=message_id
            )
        )
    try:
        record = repository.record_crisis(
            conversation_id, input_channel, category, message_excerpt, escalation=request,
            message_id=message_id,
        )
    except Exception as exc:
        if _unreachable(exc):
            raise
        logger.critical(
            "CARE TEAM NOT ALERTED: the escalation of a crisis in conversation %s (channel %s, category %s) "
            "could not be written to the outbox (%s); recording the crisis without it. Alert the care "
            "team by hand.",
            conversation_id,
            input_channel,
            category,
            type(exc).__name__,
            exc_info=True,
        )
        return CrisisOutcome(
            repository.record_crisis(
                conversation_id, input_channel, category, message_excerpt, message_id=message_id
            )
        )
    return CrisisOutcome(record, request.destinations)


def spool_crisis(
    escalator: Escalator,
    *,
    conversation_id: str,
    input_channel: str,
    category: str,
    message_excerpt: str,
    events: List[Mapping[str, Any]],
    message_id: Optional[str] = None,
    journal: Optional[Journal] = None,
) -> Entry:
    """The database could not take the crisis: append it and its escalation to the journal.

    Called by ``action_record_crisis`` when :func:`record_crisis_and_escalate` (or reaching the
    repository at all) failed. The worker delivers it and moves it into the database later
    (:mod:`trd.escalation.journal`). Raises only if the journal cannot be written either.
    """
    try:
        request = escalator.request_for(conversation_id, input_channel, category, events)
    except Exception:  # noqa: BLE001 - the crisis is spooled even without its escalation
        logger.critical(
            "CARE TEAM NOT ALERTED: could not build the escalation of a crisis in conversation %s",
            conversation_id,
            exc_info=True,
        )
        request = None
    journal = journal if journal is not None else Journal()
    entry = journal.spool(
        conversation_id=conversation_id,
        input_channel=input_channel,
        category=category,
        excerpt=message_excerpt,
        message_id=message_id,
        channel=request.channel if request is not None else care_team_channel(input_channel),
        payloads=dict(request.payloads) if request is not None else {},
    )
    logger.error(
        "ESCALATION SPOOLED: the database could not take the crisis in conversation %s (channel %s, "
        "category %s); it was written to the journal %s (entry %s, %s), which the escalation worker "
        "delivers and moves into the database when it is back",
        conversation_id,
        input_channel,
        category,
        journal.path,
        entry.id,
        "to be delivered to " + ", ".join(entry.payloads) if entry.deliver else "no new delivery",
    )
    return entry
