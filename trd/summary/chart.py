"""The PHQ-9 over time as an SVG line chart, drawn on the server (no JavaScript, also in the PDF).

:func:`phq9_chart` draws the intake's total and each weekly check-in on a time axis
(0-27 up the side), with

- the remission threshold (a total under 5) and the response threshold (half the intake's
  total) as dashed lines, labelled;
- every point where item 9 (thoughts of being better off dead or of self-harm) was above
  zero ringed and labelled "item 9: N";
- what the person said had changed (a new medicine, a dose, therapy: the check-in's note)
  as a numbered marker on the time axis, listed under the chart;

and a ``<title>``/``<desc>`` so a screen reader says what it shows. ``simple=True`` is the
person's own version: the line and the points only. The output depends only on its input
(a golden test pins it): every number is rounded, nothing is random or dated.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 250
LEFT, RIGHT, TOP, BOTTOM = 44, 150, 16, 40
MAX_SCORE = 27
NOTE_CHARS = 90


def _axis_ticks(n: int) -> List[int]:
    """Which of ``n`` points the time axis names: the first, the last and, past two, the middle."""
    return sorted({0, n - 1, *([n // 2] if n > 2 else [])})


def _f(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _day(value: str) -> Optional[date]:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _label_day(d: date) -> str:
    return f"{d.day} {d.strftime('%b')}"


Series = List[Tuple[date, int, int, str, Optional[str]]]  # (day, total, item9, label, note)


def _series(follow_up: Mapping[str, Any]) -> Series:
    """The points to draw, the intake's first (one week before the first check-in) when it is the baseline."""
    points = [p for p in follow_up.get("points") or [] if _day(p.get("date")) is not None]
    baseline = follow_up.get("baseline")
    from_intake = follow_up.get("baseline_source") == "intake"
    series: Series = []
    for p in points:
        series.append((_day(p["date"]), int(p["total"]), int(p.get("item9") or 0), "", p.get("note")))  # type: ignore[arg-type]
    if not series:
        return series
    first_day = series[0][0]
    if from_intake and isinstance(baseline, int):
        # The intake has no date in the record: it is drawn one week before the first check-in.
        intake_day = date.fromordinal(first_day.toordinal() - 7)
        series.insert(0, (intake_day, baseline, int(follow_up.get("baseline_item9") or 0), "intake", None))
    return series


def phq9_chart(follow_up: Mapping[str, Any], simple: bool = False) -> str:
    """The SVG for the navigator's ``follow_up`` result ({baseline, points: [{date, total, item9, note}]})."""
    if simple:
        return _simple_chart(follow_up)
    series = _series(follow_up)
    if not series:
        return ""
    baseline = follow_up.get("baseline")
    span = max(1, (series[-1][0] - series[0][0]).days)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(d: date) -> float:
        return LEFT + (d - series[0][0]).days / span * plot_w if len(series) > 1 else LEFT + plot_w / 2

    def y(score: float) -> float:
        return TOP + (1 - score / MAX_SCORE) * plot_h

    title = "PHQ-9 total over time"
    desc_parts = [f"{'intake' if lbl else _label_day(d)}: {t}" for d, t, _, lbl, _ in series]
    desc = "PHQ-9 totals (0-27, lower is fewer symptoms): " + "; ".join(desc_parts)
    right = LEFT + plot_w
    out: List[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-labelledby="phq9-chart-title phq9-chart-desc" '
        'class="phq9-chart">',
        f'<title id="phq9-chart-title">{escape(title)}</title>',
        f'<desc id="phq9-chart-desc">{escape(desc)}</desc>',
        '<g font-family="DejaVu Sans, Arial, sans-serif" font-size="10" fill="#222">',
    ]
    # grid and the score axis
    for score in (0, 5, 10, 15, 20, 27):
        yy = _f(y(score))
        out.append(f'<line x1="{LEFT}" y1="{yy}" x2="{right}" y2="{yy}" stroke="#ddd" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{_f(y(score) + 3.5)}" text-anchor="end">{score}</text>')
    bottom = TOP + plot_h
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#555" stroke-width="1"/>')
    out.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555" stroke-width="1"/>')
    out.append(
        f'<text x="12" y="{_f(TOP + plot_h / 2)}" text-anchor="middle" '
        f'transform="rotate(-90 12 {_f(TOP + plot_h / 2)})">PHQ-9</text>'
    )
    # thresholds
    yy = _f(y(5))
    out.append(
        f'<line x1="{LEFT}" y1="{yy}" x2="{LEFT + plot_w}" y2="{yy}" stroke="#2a7d2a" '
        f'stroke-width="1.2" stroke-dasharray="5 3"/>'
    )
    out.append(f'<text x="{right + 6}" y="{_f(y(5) + 3.5)}" fill="#2a7d2a">remission: under 5</text>')
    if isinstance(baseline, int) and baseline > 0:
        half = baseline / 2
        yy = _f(y(half))
        out.append(
            f'<line x1="{LEFT}" y1="{yy}" x2="{LEFT + plot_w}" y2="{yy}" stroke="#1f5fa8" '
            f'stroke-width="1.2" stroke-dasharray="2 3"/>'
        )
        out.append(
            f'<text x="{LEFT + plot_w + 6}" y="{_f(y(half) + 3.5)}" fill="#1f5fa8">'
            f"response: {_f(half)} (half of {baseline})</text>"
        )
    # the line and its points
    path = " ".join(f"{_f(x(d))},{_f(y(t))}" for d, t, _, _, _ in series)
    out.append(f'<polyline points="{path}" fill="none" stroke="#111" stroke-width="2"/>')
    for d, t, item9, lbl, _ in series:
        cx, cy = _f(x(d)), _f(y(t))
        fill = "#fff" if lbl else "#111"
        out.append(f'<circle cx="{cx}" cy="{cy}" r="3.5" fill="{fill}" stroke="#111" stroke-width="1.5"/>')
        out.append(f'<text x="{cx}" y="{_f(y(t) - 7)}" text-anchor="middle">{t}</text>')
        if item9 > 0:
            out.append(f'<circle cx="{cx}" cy="{cy}" r="7" fill="none" stroke="#c00" stroke-width="2"/>')
            out.append(
                f'<text x="{cx}" y="{_f(y(t) + 17)}" text-anchor="middle" fill="#c00" '
                f'font-weight="bold">item 9: {item9}</text>'
            )
    # the time axis: the first and last dates, the intake, and what changed
    for i in _axis_ticks(len(series)):
        d, _, _, lbl, _ = series[i]
        out.append(
            f'<text x="{_f(x(d))}" y="{bottom + 14}" text-anchor="middle">'
            f"{escape(lbl or _label_day(d))}</text>"
        )
    notes = [(d, note) for d, _, _, _, note in series if note]
    for n, (d, _) in enumerate(notes, 1):
        xx = x(d)
        base = TOP + plot_h
        out.append(
            f'<path d="M {_f(xx)} {_f(base - 1)} l -5 9 h 10 z" fill="#b35900"/>'
            f'<text x="{_f(xx)}" y="{_f(base + 26)}" text-anchor="middle" fill="#b35900" '
            f'font-weight="bold">{n}</text>'
        )
    # the legend
    legend_y = TOP + plot_h + 14
    out.append(f'<text x="{LEFT + plot_w + 14}" y="{legend_y}" fill="#c00">&#9711; item 9 above 0</text>')
    out.append(f'<text x="{right + 14}" y="{legend_y + 14}" fill="#b35900">&#9650; what changed</text>')
    out.append("</g></svg>")
    return "\n".join(out)


# -- the person's own chart (simple=True) --------------------------------------------------------

S_WIDTH, S_HEIGHT = 380, 300  # narrow for its type, so the words stay large on a phone
S_LEFT, S_RIGHT, S_TOP, S_BOTTOM = 34, 100, 64, 34
S_LINE = "#1d4f91"  # the web chat's own blue
S_RESPONSE, S_REMISSION = "#6b3fa0", "#2a7d2a"
S_LABEL_GAP = 38  # two threshold labels (two lines each) closer than this would overlap
S_ALL_LABELS = 12  # up to this many points, each shows its total; beyond: first, last, lowest, highest
HALO = 'paint-order="stroke" stroke="#fff" stroke-width="4" stroke-linejoin="round"'


def _simple_chart(follow_up: Mapping[str, Any]) -> str:
    """The person's chart: the totals over time, large, with the response and remission lines
    labelled in plain words; no item-9 marks, no notes, nothing the person typed."""
    series = [(d, t, lbl) for d, t, _, lbl, _ in _series(follow_up)]
    if not series:
        return ""
    baseline = follow_up.get("baseline")
    span = max(1, (series[-1][0] - series[0][0]).days)
    plot_w, plot_h = S_WIDTH - S_LEFT - S_RIGHT, S_HEIGHT - S_TOP - S_BOTTOM
    right, bottom = S_LEFT + plot_w, S_TOP + plot_h

    def x(d: date) -> float:
        return (
            S_LEFT + 8 + (d - series[0][0]).days / span * (plot_w - 16)
            if len(series) > 1
            else S_LEFT + plot_w / 2
        )

    def y(score: float) -> float:
        return S_TOP + (1 - score / MAX_SCORE) * plot_h

    out: List[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {S_WIDTH} {S_HEIGHT}" width="{S_WIDTH}" '
        f'height="{S_HEIGHT}" role="img" aria-labelledby="phq9-simple-title phq9-simple-desc">',
        '<title id="phq9-simple-title">Your PHQ-9 check-ins</title>',
        f'<desc id="phq9-simple-desc">{escape(chart_alt(follow_up))}</desc>',
        f'<rect width="{S_WIDTH}" height="{S_HEIGHT}" rx="8" fill="#fff"/>',
        '<g font-family="DejaVu Sans, Arial, sans-serif" font-size="15" fill="#1b1f24">',
        '<text x="10" y="24" font-size="18" font-weight="bold">Your PHQ-9 totals</text>',
        '<text x="10" y="45" fill="#3d4652">Lower means fewer symptoms</text>',
    ]
    # the remission range, shaded, and a light grid
    out.append(
        f'<rect x="{S_LEFT}" y="{_f(y(5))}" width="{plot_w}" height="{_f(bottom - y(5))}" fill="#e8f4e8"/>'
    )
    for score in (0, 5, 10, 15, 20, 27):
        yy = _f(y(score))
        out.append(
            f'<line x1="{S_LEFT}" y1="{yy}" x2="{right}" y2="{yy}" stroke="#e1e4e8" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{S_LEFT - 8}" y="{_f(y(score) + 5)}" text-anchor="end" fill="#3d4652">{score}</text>'
        )
    out.append(
        f'<line x1="{S_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#5f6b7a" stroke-width="1.5"/>'
    )
    # the two lines, each labelled on the right: (centre y, colour, dash, name, detail)
    lines: List[Tuple[float, str, str, str, str]] = [(y(5), S_REMISSION, "8 5", "Remission", "under 5")]
    if isinstance(baseline, int) and not isinstance(baseline, bool) and baseline > 0:
        half = baseline / 2
        lines.append((y(half), S_RESPONSE, "3 4", "Response", f"half of {baseline}"))
    for at, colour, dash, _, _ in lines:
        out.append(
            f'<line x1="{S_LEFT}" y1="{_f(at)}" x2="{right}" y2="{_f(at)}" stroke="{colour}" '
            f'stroke-width="2.5" stroke-dasharray="{dash}"/>'
        )
    label_y = [at for at, *_ in lines]
    if len(lines) == 2 and abs(label_y[0] - label_y[1]) < S_LABEL_GAP:
        upper = 0 if label_y[0] <= label_y[1] else 1  # the upper label moves up, the lower down
        middle = (label_y[0] + label_y[1]) / 2
        label_y[upper], label_y[1 - upper] = middle - S_LABEL_GAP / 2, middle + S_LABEL_GAP / 2
    for (_, colour, _, name, detail), ly in zip(lines, label_y, strict=True):
        ly = min(ly, bottom - 10)
        out.append(
            f'<text x="{right + 10}" y="{_f(ly - 2)}" fill="{colour}" font-weight="bold">'
            f"{escape(name)}</text>"
            f'<text x="{right + 10}" y="{_f(ly + 15)}" fill="{colour}" font-size="14">{escape(detail)}</text>'
        )
    # the line and its points, each with its total
    path = " ".join(f"{_f(x(d))},{_f(y(t))}" for d, t, _ in series)
    out.append(
        f'<polyline points="{path}" fill="none" stroke="{S_LINE}" stroke-width="3.5" '
        'stroke-linejoin="round"/>'
    )
    labelled = set(range(len(series)))
    if len(series) > S_ALL_LABELS:
        lowest = min(range(len(series)), key=lambda i: (series[i][1], -i))
        highest = max(range(len(series)), key=lambda i: (series[i][1], -i))
        labelled = {0, len(series) - 1, lowest, highest}
    for i, (d, t, lbl) in enumerate(series):
        cx, cy = _f(x(d)), _f(y(t))
        if lbl:  # the intake: an open point
            out.append(f'<circle cx="{cx}" cy="{cy}" r="6" fill="#fff" stroke="{S_LINE}" stroke-width="3"/>')
        else:
            out.append(
                f'<circle cx="{cx}" cy="{cy}" r="6.5" fill="{S_LINE}" stroke="#fff" stroke-width="2"/>'
            )
        if i in labelled:
            ty = y(t) - 12 if y(t) - 12 > S_TOP + 2 else y(t) + 25  # near the top: under the point
            out.append(
                f'<text x="{cx}" y="{_f(ty)}" text-anchor="middle" font-size="17" font-weight="bold" '
                f"{HALO}>{t}</text>"
            )
    # the time axis: first and last (the intake by name), and one in the middle
    for i in _axis_ticks(len(series)):
        d, _, lbl = series[i]
        anchor = (
            "start"
            if i == 0 and len(series) > 1
            else "end"
            if i == len(series) - 1 and len(series) > 1
            else "middle"
        )
        xx = x(d) - 8 if anchor == "start" else x(d) + 8 if anchor == "end" else x(d)
        out.append(
            f'<text x="{_f(xx)}" y="{bottom + 22}" text-anchor="{anchor}" fill="#3d4652">'
            f"{escape(lbl or _label_day(d))}</text>"
        )
    out.append("</g></svg>")
    return "\n".join(out)


CHAT_CHART_KEY = "phq9_chart"  # a bot message's custom payload: {CHAT_CHART_KEY: chart_series(...)}
CHAT_CHART_POINTS = 52  # a year of weekly check-ins: what the chat's chart draws at most
DATA_URL_PREFIX = "data:image/svg+xml;base64,"


def _score(value: Any) -> Optional[int]:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SCORE else None
    )


def chart_series(follow_up: Any) -> Optional[Dict[str, Any]]:
    """What the person's chart needs and nothing more: the baseline, where it came from, and each
    check-in's date and total (the last CHAT_CHART_POINTS); no item 9, no note, nothing typed.
    Small enough to keep in a bot message's custom payload. None when there is nothing to draw;
    anything malformed (a stored payload read back) is left out, never an error."""
    if not isinstance(follow_up, Mapping):
        return None
    points: List[Dict[str, Any]] = []
    for p in follow_up.get("points") or []:
        if not isinstance(p, Mapping):
            continue
        day, total = p.get("date"), _score(p.get("total"))
        if isinstance(day, str) and len(day) == 10 and _day(day) is not None and total is not None:
            points.append({"date": day, "total": total})
    if not points:
        return None
    source = follow_up.get("baseline_source")
    return {
        "baseline": _score(follow_up.get("baseline")),
        "baseline_source": source if source in ("intake", "first_check_in") else "first_check_in",
        "points": points[-CHAT_CHART_POINTS:],
    }


def chart_alt(follow_up: Mapping[str, Any]) -> str:
    """The chart in words, for a screen reader (the image's alt text)."""
    words = f"Chart of your weekly PHQ-9 totals: {trend_words(follow_up)} (lower means fewer symptoms)."
    baseline = follow_up.get("baseline")
    if isinstance(baseline, int) and not isinstance(baseline, bool) and baseline > 0:
        half = _f(baseline / 2)
        return words + f" Lines mark a response ({half}, half of {baseline}) and remission (under 5)."
    return words + " A line marks remission (under 5)."


def chat_chart_image(payload: Any) -> Optional[Dict[str, str]]:
    """A chart payload (:func:`chart_series`) as the web chat shows it: ``{"src": a data: URL of
    the simple SVG, "alt": its words}``; None when there is nothing to draw."""
    series = chart_series(payload)
    if series is None:
        return None
    svg = phq9_chart(series, simple=True)
    if not svg:
        return None
    src = DATA_URL_PREFIX + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return {"src": src, "alt": chart_alt(series)}


def change_notes(follow_up: Mapping[str, Any]) -> List[str]:
    """The numbered notes under the chart: "1. 9 Mar: started lithium"."""
    out: List[str] = []
    for p in follow_up.get("points") or []:
        note = p.get("note")
        d = _day(p.get("date"))
        if isinstance(note, str) and note.strip() and d is not None:
            text = note.strip()
            if len(text) > NOTE_CHARS:
                text = text[: NOTE_CHARS - 1].rstrip() + "\u2026"
            out.append(f"{_label_day(d)}: {text}")
    return out


def trend_words(follow_up: Mapping[str, Any]) -> str:
    """The same series in a few words for a chat or a text: "18 at your intake, then 15, 12, 9"."""
    totals: Sequence[Any] = [p.get("total") for p in follow_up.get("points") or []]
    if not totals:
        return ""
    tail = ", ".join(str(t) for t in totals)
    if follow_up.get("baseline_source") == "intake":
        return f"{follow_up.get('baseline')} at your intake, then {tail}"
    return tail
