"""Follow-up: what the weekly PHQ-9s after the intake say (navigator.md section 10).

With ``follow_up`` in the record (``[{date, phq9: [9 items]}]``, written by the weekly
check-ins, trd/checkins), the change is computed from the intake's PHQ-9 total (the
baseline; without a complete intake PHQ-9, the first check-in's):

- ``response``: the latest total is 50% or more below the baseline;
- ``remission``: the latest total is under 5;
- ``meaningful_change``: 5 or more points below the baseline;
- ``worsening``: 5 or more points above the baseline;
- item 9 above zero at any point is listed, with its date.

``status`` is one word, the strongest that holds, in this order: ``worsening``,
``remission``, ``response``, ``meaningful_change``, ``no_change``. The seeds'
measurement plan reads it at about 4 weeks (an early signal) and 8 weeks (a full trial).
The navigator's result carries ``follow_up: {baseline, latest, change, status, ...}``; the
clinician summary plots the series (trd/summary/chart.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, List, Mapping, Optional

MEANINGFUL = 5
REMISSION_BELOW = 5
RESPONSE_FRACTION = 0.5
STATUS_ORDER = ("worsening", "remission", "response", "meaningful_change", "no_change")


@dataclass(frozen=True)
class Point:
    date: str
    total: int
    item9: int
    note: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"date": self.date, "total": self.total, "item9": self.item9}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class FollowUp:
    baseline: int
    baseline_source: str  # intake, first_check_in
    latest: int
    change: int  # latest - baseline: negative is fewer symptoms
    status: str
    response: bool
    remission: bool
    meaningful_change: bool
    worsening: bool
    points: List[Point] = field(default_factory=list)
    baseline_item9: Optional[int] = None
    days: int = 0  # from the first check-in to the latest

    @property
    def item9_positive(self) -> List[Point]:
        return [p for p in self.points if p.item9 > 0]

    @property
    def response_threshold(self) -> float:
        return self.baseline * RESPONSE_FRACTION

    def to_dict(self) -> Dict[str, Any]:
        return {
            "baseline": self.baseline,
            "baseline_source": self.baseline_source,
            "baseline_item9": self.baseline_item9,
            "latest": self.latest,
            "change": self.change,
            "status": self.status,
            "response": self.response,
            "remission": self.remission,
            "meaningful_change": self.meaningful_change,
            "worsening": self.worsening,
            "response_threshold": self.response_threshold,
            "remission_below": REMISSION_BELOW,
            "check_ins": len(self.points),
            "days": self.days,
            "item9": [{"date": p.date, "score": p.item9} for p in self.item9_positive],
            "points": [p.to_dict() for p in self.points],
        }


def _items(value: Any) -> Optional[List[int]]:
    if (
        isinstance(value, list)
        and len(value) == 9
        and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= 3 for i in value)
    ):
        return [int(i) for i in value]
    return None


def points_of(record: Mapping[str, Any]) -> List[Point]:
    """The complete follow-up PHQ-9s, in date order."""
    out: List[Point] = []
    for entry in record.get("follow_up") or []:
        if not isinstance(entry, Mapping):
            continue
        items = _items(entry.get("phq9"))
        day = entry.get("date")
        if items is None or not isinstance(day, str):
            continue
        note = entry.get("note") if isinstance(entry.get("note"), str) else None
        out.append(Point(day, sum(items), items[8], note))
    return sorted(out, key=lambda p: p.date)


def status_of(baseline: int, latest: int) -> Dict[str, Any]:
    change = latest - baseline
    flags = {
        "worsening": change >= MEANINGFUL,
        "remission": latest < REMISSION_BELOW,
        "response": baseline > 0 and latest <= baseline * RESPONSE_FRACTION,
        "meaningful_change": -change >= MEANINGFUL,
    }
    status = next((s for s in STATUS_ORDER[:-1] if flags[s]), STATUS_ORDER[-1])
    return {"change": change, "status": status, **flags}


def compute(record: Mapping[str, Any]) -> Optional[FollowUp]:
    """The follow-up of a record, or None when it has no complete follow-up PHQ-9."""
    points = points_of(record)
    if not points:
        return None
    intake = _items(record.get("phq9"))
    if intake is not None:
        baseline, source, baseline_item9 = sum(intake), "intake", intake[8]
    else:
        baseline, source, baseline_item9 = points[0].total, "first_check_in", points[0].item9
    latest = points[-1].total
    s = status_of(baseline, latest)
    try:
        days = (date.fromisoformat(points[-1].date) - date.fromisoformat(points[0].date)).days
    except ValueError:
        days = 0
    return FollowUp(
        baseline=baseline,
        baseline_source=source,
        latest=latest,
        change=s["change"],
        status=s["status"],
        response=s["response"],
        remission=s["remission"],
        meaningful_change=s["meaningful_change"],
        worsening=s["worsening"],
        points=points,
        baseline_item9=baseline_item9,
        days=days,
    )


def evaluate(ctx: Any) -> Optional[FollowUp]:
    """The navigator's seam (trd/navigator/rules.py): the follow-up of the context's record."""
    return compute(ctx.record)
