"""The follow-up series: the navigator's status, the chart (golden SVG), the summary and the JSON.

Golden (re-pin after a reviewed change: UPDATE_GOLDENS=1 pytest tests/unit/test_checkin_followup.py):
tests/golden/phq9_chart.svg, the chart of the fixed series below.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET  # noqa: S405 - our own output
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict

import pytest

from trd.checkins.service import follow_up_series
from trd.checkins.store import CheckinRecord
from trd.navigator import default_knowledge, navigate
from trd.navigator.follow_up import compute, status_of
from trd.summary.chart import change_notes, phq9_chart, trend_words
from trd.summary.chat import chat_message
from trd.summary.content import SummaryInputs, clinician_view, run_navigator, summary_json

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "phq9_chart.svg"

# Intake 20; weekly check-ins after a change of medicine; item 9 of 1 in week 3.
RECORD: Dict[str, Any] = {
    "phq9": [3, 3, 2, 2, 2, 2, 3, 2, 1],
    "follow_up": [
        {"date": "2026-03-09", "phq9": [3, 3, 2, 2, 2, 2, 2, 2, 0], "note": "started lithium 300 mg"},
        {"date": "2026-03-16", "phq9": [2, 2, 2, 2, 1, 2, 2, 1, 0]},
        {"date": "2026-03-23", "phq9": [2, 2, 2, 1, 1, 1, 2, 1, 1]},
        {"date": "2026-03-30", "phq9": [1, 1, 1, 1, 1, 1, 1, 1, 0], "note": "dose up to 600 mg <b>"},
        {"date": "2026-04-13", "phq9": [0, 1, 1, 1, 0, 0, 1, 0, 0]},
    ],
}


@pytest.mark.parametrize(
    "baseline, latest, status",
    [
        (20, 26, "worsening"),
        (20, 25, "worsening"),
        (20, 4, "remission"),
        (20, 10, "response"),
        (20, 15, "meaningful_change"),
        (20, 16, "no_change"),
        (6, 3, "remission"),
        (0, 0, "remission"),
        (8, 4, "remission"),
        (12, 6, "response"),
    ],
)
def test_status_words(baseline: int, latest: int, status: str) -> None:
    assert status_of(baseline, latest)["status"] == status


def test_the_navigator_computes_the_follow_up_from_the_intake() -> None:
    result = navigate(RECORD, default_knowledge()).to_dict()
    fu = result["follow_up"]
    assert (fu["baseline"], fu["latest"], fu["change"], fu["status"]) == (20, 4, -16, "remission")
    assert fu["response"] and fu["remission"] and fu["meaningful_change"] and not fu["worsening"]
    assert fu["item9"] == [{"date": "2026-03-23", "score": 1}]
    assert [p["total"] for p in fu["points"]] == [18, 14, 13, 8, 4]
    assert fu["days"] == 35 and fu["check_ins"] == 5


def test_without_an_intake_phq9_the_first_check_in_is_the_baseline() -> None:
    record = {
        "follow_up": [{"date": "2026-01-05", "phq9": [2] * 9}, {"date": "2026-01-12", "phq9": [3] * 8 + [0]}]
    }
    fu = compute(record)
    assert (
        fu is not None
        and fu.baseline == 18
        and fu.baseline_source == "first_check_in"
        and fu.status == "worsening"
    )
    assert compute({"phq9": [1] * 9}) is None
    assert compute({"follow_up": [{"date": "x", "phq9": [1] * 8}]}) is None


def test_the_chart_matches_its_golden_svg() -> None:
    fu = navigate(RECORD, default_knowledge()).to_dict()["follow_up"]
    svg = phq9_chart(fu)
    ET.fromstring(svg)  # noqa: S314 - well-formed XML
    if os.environ.get("UPDATE_GOLDENS") == "1":
        GOLDEN.write_text(svg + "\n", encoding="utf-8")
    assert GOLDEN.exists(), f"{GOLDEN} is missing: run with UPDATE_GOLDENS=1 after review"
    assert svg + "\n" == GOLDEN.read_text(encoding="utf-8")


def test_the_chart_shows_thresholds_item9_and_changes_and_escapes_notes() -> None:
    fu = navigate(RECORD, default_knowledge()).to_dict()["follow_up"]
    svg = phq9_chart(fu)
    assert "remission: under 5" in svg and "response: 10 (half of 20)" in svg
    assert svg.count("item 9: 1") == 2  # the intake's item 9 and week 3's
    assert "<b>" not in svg and "<script" not in svg
    assert change_notes(fu) == ["9 Mar: started lithium 300 mg", "30 Mar: dose up to 600 mg <b>"]
    simple = phq9_chart(fu, simple=True)  # the person's own (tests/unit/test_chat_chart.py)
    assert "item 9" not in simple and "lithium" not in simple and "<polyline" in simple
    assert trend_words(fu) == "20 at your intake, then 18, 14, 13, 8, 4"


def test_the_clinician_page_the_chat_and_the_json_carry_the_series() -> None:
    result = run_navigator(RECORD)
    inputs = SummaryInputs(
        record=RECORD,
        result=result,
        generated_at=datetime(2026, 4, 14, tzinfo=timezone.utc),
        expires_at=None,
        crises=(),
        safety_plan=None,
    )
    view = clinician_view(inputs)
    assert view["follow_up"]["line"].startswith("Latest PHQ-9 4 (at the intake: 20), 16 points lower")
    assert view["follow_up"]["item9"] == ["PHQ-9 item 9 scored 1 on 2026-03-23"]
    from trd.summary.clinician import render_html

    html = render_html(view)
    assert (
        "<svg" in html and "Weekly PHQ-9 since the intake" in html and "dose up to 600 mg &lt;b&gt;" in html
    )
    data = summary_json(inputs)
    assert data["navigator"]["follow_up"]["status"] == "remission"
    assert len(data["record"]["follow_up"]) == 5
    text = chat_message(result, "https://x.example/summary/t")
    assert "Your weekly PHQ-9 totals: 20 at your intake, then 18, 14, 13, 8, 4" in text
    assert (
        clinician_view(
            SummaryInputs(
                record={"phq9": [1] * 9},
                result=run_navigator({"phq9": [1] * 9}),
                generated_at=datetime(2026, 4, 14, tzinfo=timezone.utc),
                expires_at=None,
                crises=(),
                safety_plan=None,
            )
        )["follow_up"]
        is None
    )


def test_the_records_series_is_built_from_answered_check_ins_only() -> None:
    at = datetime(2026, 3, 10, 2, 30, tzinfo=timezone.utc)  # 22:30 on 9 March in New York
    rows = [
        CheckinRecord("a", 1, 1, at, "answered", answered_at=at, answers=[1] * 9, total=9, note="new dose"),
        CheckinRecord("b", 1, 2, at, "answered", answered_at=at, answers=[1] * 8 + [None]),
        CheckinRecord("c", 1, 3, at, "missed"),
    ]
    complete, incomplete = follow_up_series(rows, "America/New_York")
    assert complete == [
        {"date": "2026-03-09", "time": at.isoformat(), "phq9": [1] * 9, "total": 9, "note": "new dose"}
    ]
    assert incomplete == [{"date": "2026-03-09", "time": at.isoformat(), "phq9_items": [1] * 8 + [None]}]
    navigate({"follow_up": complete, "follow_up_incomplete": incomplete}, default_knowledge())  # schema-valid
