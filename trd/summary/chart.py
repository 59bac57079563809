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

from datetime import date
from typing import Any, List, Mapping, Optional, Sequence, Tuple
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 250
LEFT, RIGHT, TOP, BOTTOM = 44, 150, 16, 40
MAX_SCORE = 27
NOTE_CHARS = 90


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


def phq9_chart(follow_up: Mapping[str, Any], simple: bool = False) -> str:
    """The SVG for the navigator's ``follow_up`` result ({baseline, points: [{date, total, item9, note}]})."""
    points = [p for p in follow_up.get("points") or [] if _day(p.get("date")) is not None]
    baseline = follow_up.get("baseline")
    from_intake = follow_up.get("baseline_source") == "intake"
    series: List[Tuple[date, int, int, str, Optional[str]]] = []  # (day, total, item9, label, note)
    for p in points:
        series.append((_day(p["date"]), int(p["total"]), int(p.get("item9") or 0), "", p.get("note")))  # type: ignore[arg-type]
    if not series:
        return ""
    first_day = series[0][0]
    if from_intake and isinstance(baseline, int):
        # The intake has no date in the record: it is drawn one week before the first check-in.
        intake_day = date.fromordinal(first_day.toordinal() - 7)
        series.insert(0, (intake_day, baseline, int(follow_up.get("baseline_item9") or 0), "intake", None))
    span = max(1, (series[-1][0] - series[0][0]).days)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(d: date) -> float:
        return LEFT + (d - series[0][0]).days / span * plot_w if len(series) > 1 else LEFT + plot_w / 2

    def y(score: float) -> float:
        return TOP + (1 - score / MAX_SCORE) * plot_h

    title = "PHQ-9 total over time" if not simple else "Your weekly check-in totals"
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
    out.append(
        f'<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555" stroke-width="1"/>'
    )
    out.append(
        f'<text x="12" y="{_f(TOP + plot_h / 2)}" text-anchor="middle" '
        f'transform="rotate(-90 12 {_f(TOP + plot_h / 2)})">PHQ-9</text>'
    )
    if not simple:
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
        if item9 > 0 and not simple:
            out.append(f'<circle cx="{cx}" cy="{cy}" r="7" fill="none" stroke="#c00" stroke-width="2"/>')
            out.append(
                f'<text x="{cx}" y="{_f(y(t) + 17)}" text-anchor="middle" fill="#c00" '
                f'font-weight="bold">item 9: {item9}</text>'
            )
    # the time axis: the first and last dates, the intake, and what changed
    labels = {0, len(series) - 1}
    if len(series) > 2:
        labels.add(len(series) // 2)
    for i in sorted(labels):
        d, _, _, lbl, _ = series[i]
        out.append(
            f'<text x="{_f(x(d))}" y="{bottom + 14}" text-anchor="middle">'
            f"{escape(lbl or _label_day(d))}</text>"
        )
    notes = [(d, note) for d, _, _, _, note in series if note] if not simple else []
    for n, (d, _) in enumerate(notes, 1):
        xx = x(d)
        base = TOP + plot_h
        out.append(
            f'<path d="M {_f(xx)} {_f(base - 1)} l -5 9 h 10 z" fill="#b35900"/>'
            f'<text x="{_f(xx)}" y="{_f(base + 26)}" text-anchor="middle" fill="#b35900" '
            f'font-weight="bold">{n}</text>'
        )
    if not simple:
        legend_y = TOP + plot_h + 14
        out.append(f'<text x="{LEFT + plot_w + 14}" y="{legend_y}" fill="#c00">&#9711; item 9 above 0</text>')
        out.append(f'<text x="{right + 14}" y="{legend_y + 14}" fill="#b35900">&#9650; what changed</text>')
    out.append("</g></svg>")
    return "\n".join(out)


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
