"""The person's own PHQ-9 chart (#12): the simple SVG (golden), the small payload a bot message keeps,
and how the web chat shows it (an <img> of a data: URL, with the trend words as its alt text).

Golden (re-pin after a reviewed change, looking at it: UPDATE_GOLDENS=1 pytest tests/unit/test_chat_chart.py):
tests/golden/phq9_chart_simple.svg, the simple chart of the series in test_checkin_followup.py.
"""

from __future__ import annotations

import asyncio
import base64
import os
import xml.etree.ElementTree as ET  # noqa: S405 - our own output
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Dict, List

from rasa.core.channels.channel import CollectingOutputChannel

from bot import summary_output
from bot.channels.webchat import WebOutputChannel, history_messages
from bot.channels.webchat_text import render_bot_message
from tests.unit.test_checkin_followup import RECORD
from trd.navigator import default_knowledge, navigate
from trd.summary.chart import (
    CHAT_CHART_KEY,
    CHAT_CHART_POINTS,
    DATA_URL_PREFIX,
    chart_alt,
    chart_series,
    chat_chart_image,
    phq9_chart,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "phq9_chart_simple.svg"
SVG = "{http://www.w3.org/2000/svg}"
ALT = (
    "Chart of your weekly PHQ-9 totals: 20 at your intake, then 18, 14, 13, 8, 4 (lower means fewer "
    "symptoms). Lines mark a response (10, half of 20) and remission (under 5)."
)


def follow_up() -> Dict[str, Any]:
    """The navigator's follow-up for RECORD: intake 20, then 18, 14, 13 (item 9: 1), 8, 4, two notes."""
    result: Dict[str, Any] = navigate(RECORD, default_knowledge()).to_dict()["follow_up"]
    return result


def texts(svg: str) -> List[str]:
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_the_simple_chart_matches_its_golden_svg() -> None:
    svg = phq9_chart(chart_series(follow_up()) or {}, simple=True)
    assert svg == phq9_chart(follow_up(), simple=True)  # the payload draws what the full series draws
    ET.fromstring(svg)  # noqa: S314 - well-formed XML
    if os.environ.get("UPDATE_GOLDENS") == "1":
        GOLDEN.write_text(svg + "\n", encoding="utf-8")
    assert GOLDEN.exists(), f"{GOLDEN} is missing: run with UPDATE_GOLDENS=1 after review"
    assert svg + "\n" == GOLDEN.read_text(encoding="utf-8")


def test_the_simple_chart_shows_the_totals_and_the_two_lines_in_plain_words_and_nothing_clinical() -> None:
    svg = phq9_chart(follow_up(), simple=True)
    shown = texts(svg)
    assert shown[:2] == ["Your PHQ-9 totals", "Lower means fewer symptoms"]
    for total in ("20", "18", "14", "13", "8", "4"):
        assert total in shown
    assert ["Remission", "under 5", "Response", "half of 20"] == [
        t for t in shown if t in ("Response", "half of 20", "Remission", "under 5")
    ]
    assert {"intake", "13 Apr"} <= set(shown)
    # no item-9 marks, no legend, no notes (what the person typed is for the clinician page)
    assert "item 9" not in svg and "lithium" not in svg and "what changed" not in svg and "<b>" not in svg
    assert "<script" not in svg and "href" not in svg
    root = ET.fromstring(svg)  # noqa: S314
    assert root.find(f"{SVG}desc").text == ALT  # type: ignore[union-attr]


def test_the_payload_keeps_only_dates_and_totals_and_drops_anything_malformed() -> None:
    assert chart_series(follow_up()) == {
        "baseline": 20,
        "baseline_source": "intake",
        "points": [
            {"date": "2026-03-09", "total": 18},
            {"date": "2026-03-16", "total": 14},
            {"date": "2026-03-23", "total": 13},
            {"date": "2026-03-30", "total": 8},
            {"date": "2026-04-13", "total": 4},
        ],
    }
    odd = {
        "baseline": "20<script>",
        "baseline_source": "<b>",
        "points": [
            {"date": "2026-01-05", "total": 9, "note": "my words", "item9": 2},
            {"date": "2026-01-12<x>", "total": 9},
            {"date": "2026-13-40", "total": 9},
            {"date": "2026-01-19", "total": 28},
            {"date": "2026-01-19", "total": True},
            {"date": "2026-01-19", "total": "7"},
            "not a point",
            {"date": "2026-01-26", "total": 0},
        ],
    }
    assert chart_series(odd) == {
        "baseline": None,
        "baseline_source": "first_check_in",
        "points": [{"date": "2026-01-05", "total": 9}, {"date": "2026-01-26", "total": 0}],
    }
    for nothing in (None, "x", {}, {"points": []}, {"points": [{"date": "x", "total": 3}]}):
        assert chart_series(nothing) is None and chat_chart_image(nothing) is None
    weeks = [(date(2024, 1, 1) + timedelta(weeks=i)).isoformat() for i in range(120)]
    kept = chart_series({"baseline": 20, "points": [{"date": d, "total": 10} for d in weeks]})
    assert kept is not None and len(kept["points"]) == CHAT_CHART_POINTS
    assert kept["points"][-1]["date"] == weeks[-1]  # the latest year


def test_the_web_chat_image_is_the_simple_svg_as_a_data_url_with_the_trend_words() -> None:
    image = chat_chart_image(chart_series(follow_up()))
    assert image is not None and image["alt"] == ALT == chart_alt(follow_up())
    assert image["src"].startswith(DATA_URL_PREFIX)
    svg = base64.b64decode(image["src"][len(DATA_URL_PREFIX) :], validate=True).decode("utf-8")
    assert svg == phq9_chart(follow_up(), simple=True)
    first = {"baseline": 18, "baseline_source": "first_check_in",
             "points": [{"date": "2026-01-05", "total": 18}]}
    assert chat_chart_image(first)["alt"] == (  # type: ignore[index]
        "Chart of your weekly PHQ-9 totals: 18 (lower means fewer symptoms). "
        "Lines mark a response (9, half of 18) and remission (under 5)."
    )


def test_the_web_chat_sends_the_chart_live_and_in_the_history() -> None:
    payload = {CHAT_CHART_KEY: chart_series(follow_up())}
    image = chat_chart_image(payload[CHAT_CHART_KEY])
    assert render_bot_message({"recipient_id": "c", "custom": payload}) == {"chart": image}
    assert render_bot_message({"custom": {"other": 1}}) == {}  # no other custom payload is shown
    assert render_bot_message({"custom": {CHAT_CHART_KEY: "<svg onload=alert(1)>"}}) == {}
    events = [
        {"event": "user", "text": "show my summary"},
        {"event": "bot", "text": "Here is your summary.", "data": {}},
        {"event": "bot", "text": None, "data": {"custom": payload}},
    ]
    shown = history_messages(events)
    assert [m.get("text") for m in shown] == ["show my summary", "Here is your summary.", None]
    assert shown[-1] == {"role": "bot", "chart": image}


def test_only_the_web_chat_gets_the_chart_payload() -> None:
    """Any other channel would send a custom payload as JSON text (an SMS full of braces)."""
    summary_output.install()
    payload = {CHAT_CHART_KEY: chart_series(follow_up())}
    web, other = WebOutputChannel(), CollectingOutputChannel()
    for channel in (web, other):
        asyncio.run(channel.send_response("c", {"text": "Your summary.", "custom": dict(payload)}))
        asyncio.run(channel.send_response("c", {"custom": {**payload, "kept": 1}}))
    assert [m.get("custom") for m in web.messages] == [None, payload, {**payload, "kept": 1}]
    assert [m.get("custom") for m in other.messages] == [None, {"kept": 1}]
    assert [m.get("text") for m in other.messages] == ["Your summary.", None]
