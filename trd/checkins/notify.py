"""Care-team notifications from the weekly check-ins (not crises): through the escalation outbox.

Two reasons (issue 12), each written in the same transaction as what caused it:

- ``worsening``: a check-in's PHQ-9 total is 5 or more points above the intake's (the
  navigator's definition) for the first time in a row of check-ins, or 5 or more above the
  previous check-in;
- ``missed_after_high_score``: two check-ins in a row went unanswered after one that
  scored ``CHECKIN_HIGH_SCORE`` (15) or more.

A row per destination (``ESCALATION_WEBHOOK_URL``, ``ONCALL_SMS_NUMBER``), ``kind =
'followup'``, ``priority = 'routine'``, no crisis behind it. Its id is derived from the
check-in and the reason (UUID 5), so the same notification is never written twice. The
payload carries no message text and no phone number (``contact.sms_sender``: the care
team's tools, or the delivery worker, look the number up)::

    {"type": "followup_notification", "version": 1, "id": "...", "reason": "worsening",
     "priority": "routine", "conversation_id": "...", "channel": "sms", "time": "...Z",
     "phq9": {"baseline": 12, "previous": 14, "latest": 19, "change_from_baseline": 7,
              "item9": 0},
     "missed_in_a_row": 0, "contact": {"phone": null, "sms_sender": "sms-..."},
     "note": "..."}

A crisis inside a check-in (item 9 above zero, or risk in what they write) is not this: it
takes the crisis path and its own escalation, like any crisis.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from trd.store.escalation_models import (
    KIND_FOLLOWUP,
    PRIORITY_ROUTINE,
    STATUS_PENDING,
    Escalation,
)

logger = logging.getLogger(__name__)

PAYLOAD_TYPE = "followup_notification"
PAYLOAD_VERSION = 1
REASON_WORSENING = "worsening"
REASON_MISSED = "missed_after_high_score"
MEANINGFUL = 5
_NAMESPACE = uuid.UUID("6c1b4d2e-12a0-4c8e-9a57-0a3f1b2c4d5e")

NOTES = {
    REASON_WORSENING: (
        "The person's weekly PHQ-9 has risen by {points} points (from {before} to {latest}). "
        "Not a crisis: no risk was raised in the check-in. Consider reaching out."
    ),
    REASON_MISSED: (
        "The person has not answered the last {missed} weekly check-ins; the last one they answered "
        "scored {latest} on the PHQ-9. Not a crisis. Consider reaching out."
    ),
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def destinations(env: Mapping[str, str] = os.environ) -> tuple:
    try:
        from trd.escalation.config import destinations_from_env
    except ImportError:  # pragma: no cover
        return ()
    return tuple(destinations_from_env(env))


def worsening(
    baseline: Optional[int], previous: Optional[int], latest: Optional[int], previous_worse: bool
) -> Optional[int]:
    """Points of worsening that call for a notification, else None.

    5+ above the intake, unless the previous check-in was already that far above (the care
    team was told then); or 5+ above the previous check-in.
    """
    if latest is None:
        return None
    if previous is not None and latest - previous >= MEANINGFUL:
        return latest - previous
    if baseline is not None and latest - baseline >= MEANINGFUL and not previous_worse:
        return latest - baseline
    return None


def missed_after_high(finished: Sequence[Any], high: int) -> Optional[Dict[str, int]]:
    """{"missed", "latest"} when the last two finished check-ins were missed after a high score."""
    if len(finished) < 3:
        return None
    last_two = finished[-2:]
    if any(getattr(r, "status", None) != "missed" for r in last_two):
        return None
    answered = [r for r in finished[:-2] if getattr(r, "status", None) == "answered"]
    if not answered or finished[-3].status != "answered":
        return None
    latest = answered[-1].total
    item9 = (answered[-1].answers or [None] * 9)[8]
    if (latest is not None and latest >= high) or (isinstance(item9, int) and item9 > 0):
        return {"missed": 2, "latest": int(latest or 0)}
    return None


def build_payload(
    *,
    reason: str,
    conversation_id: str,
    channel: str,
    sms_sender: Optional[str],
    now: datetime,
    baseline: Optional[int] = None,
    previous: Optional[int] = None,
    latest: Optional[int] = None,
    item9: Optional[int] = None,
    missed: int = 0,
    points: Optional[int] = None,
) -> Dict[str, Any]:
    before = (
        previous
        if points is not None and previous is not None and latest is not None and latest - previous == points
        else baseline
    )
    note = NOTES[reason].format(points=points, before=before, latest=latest, missed=missed)
    return {
        "type": PAYLOAD_TYPE,
        "version": PAYLOAD_VERSION,
        "reason": reason,
        "priority": PRIORITY_ROUTINE,
        "conversation_id": conversation_id,
        "channel": channel,
        "time": _iso(now),
        "phq9": {
            "baseline": baseline,
            "previous": previous,
            "latest": latest,
            "change_from_baseline": (latest - baseline)
            if latest is not None and baseline is not None
            else None,
            "item9": item9,
        },
        "missed_in_a_row": missed,
        "contact": {"phone": None, "sms_sender": sms_sender},
        "note": note,
    }


def notification_id(checkin_id: str, reason: str, destination: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{checkin_id}:{reason}:{destination}"))


def enqueue(
    session: Session,
    *,
    checkin_id: str,
    payload: Dict[str, Any],
    now: datetime,
    env: Mapping[str, str] = os.environ,
) -> List[str]:
    """Write one outbox row per configured destination (none configured: nothing, logged)."""
    wanted = destinations(env)
    if not wanted:
        logger.info(
            "checkins: a %s notification for conversation %s was not sent: no care team is configured",
            payload.get("reason"),
            payload.get("conversation_id"),
        )
        return []
    written: List[str] = []
    for destination in wanted:
        row_id = notification_id(checkin_id, str(payload["reason"]), destination)
        if session.get(Escalation, row_id) is not None:
            continue
        body = {**payload, "id": row_id}
        session.execute(
            sa.insert(Escalation.__table__).values(
                id=row_id,
                crisis_id=None,
                conversation_id=str(payload["conversation_id"]),
                channel=str(payload["channel"]),
                destination=destination,
                payload=body,
                status=STATUS_PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                kind=KIND_FOLLOWUP,
                priority=PRIORITY_ROUTINE,
            )
        )
        written.append(row_id)
    logger.info(
        "checkins: care team notified (%s) for conversation %s: %d outbox row(s)",
        payload.get("reason"),
        payload.get("conversation_id"),
        len(written),
    )
    return written


_REASON_WORDS = {
    REASON_WORSENING: "weekly PHQ-9 worse by {points} points ({before} to {latest})",
    REASON_MISSED: "{missed} weekly check-ins missed after a PHQ-9 of {latest}",
}


def sms_text(payload: Mapping[str, Any], service_name: str) -> str:
    """The on-call text for a follow-up notification: no message contents, a case reference."""
    reason = str(payload.get("reason") or "")
    phq = payload.get("phq9") if isinstance(payload.get("phq9"), Mapping) else {}
    assert isinstance(phq, Mapping)
    latest = phq.get("latest")
    before = (
        phq.get("previous")
        if reason == REASON_WORSENING
        and phq.get("previous") is not None
        and latest is not None
        and latest - phq["previous"] >= MEANINGFUL
        else phq.get("baseline")
    )
    points = (latest - before) if isinstance(latest, int) and isinstance(before, int) else "?"
    words = _REASON_WORDS.get(reason, "follow-up").format(
        points=points, before=before, latest=latest, missed=payload.get("missed_in_a_row")
    )
    ref = str(payload.get("id") or "")[:8]
    return f"{service_name} follow-up (not a crisis): {words}. Please reach out. Case {ref}."


def missed_hook(store: Any, env: Mapping[str, str] = os.environ) -> Any:
    """The ``on_missed`` callback of ``CheckinStore.finish``: two missed after a high score notify."""

    def on_missed(session: Session, sub: Any, finished: Sequence[Any]) -> None:
        found = missed_after_high(finished, store.config.high_score)
        if found is None:
            return
        last_missed = finished[-1]
        answered = [r for r in finished if r.status == "answered"]
        payload = build_payload(
            reason=REASON_MISSED,
            conversation_id=sub.conversation_id,
            channel="sms" if sub.channel == "sms" else "web",
            sms_sender=sub.sms_sender_id,
            now=store.now(),
            latest=found["latest"],
            item9=(answered[-1].answers or [None] * 9)[8] if answered else None,
            missed=found["missed"],
        )
        enqueue(session, checkin_id=last_missed.id, payload=payload, now=store.now(), env=env)

    return on_missed


def worsening_hook(store: Any, baseline: Optional[int], env: Mapping[str, str] = os.environ) -> Any:
    """The ``on_complete`` callback of ``CheckinStore.complete``: 5+ points worse notifies the care team."""

    def on_complete(session: Session, rec: Any, earlier: Sequence[Any], sub: Any) -> None:
        previous = earlier[-1].total if earlier else None
        before_previous = earlier[-2].total if len(earlier) >= 2 else None
        previous_worse = (
            previous is not None and baseline is not None and previous - baseline >= MEANINGFUL
        ) or (
            previous is not None and before_previous is not None and previous - before_previous >= MEANINGFUL
        )
        points = worsening(baseline, previous, rec.total, previous_worse)
        if points is None:
            return
        payload = build_payload(
            reason=REASON_WORSENING,
            conversation_id=sub.conversation_id,
            channel="sms" if sub.channel == "sms" else "web",
            sms_sender=sub.sms_sender_id,
            now=store.now(),
            baseline=baseline,
            previous=previous,
            latest=rec.total,
            item9=(rec.answers or [None] * 9)[8],
            points=points,
        )
        enqueue(session, checkin_id=rec.id, payload=payload, now=store.now(), env=env)

    return on_complete
