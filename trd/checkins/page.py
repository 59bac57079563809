"""The personal check-in page of a web person (``/checkin/<token>``): plain HTML, no JavaScript.

A form with the nine PHQ-9 items as published (radio buttons; an item left blank is skipped)
and "what changed"; after sending, one line comparing with last time and the intake, and the
next date. A crisis (item 9 above zero, or risk in what they wrote) gets the crisis lines
first, then the safety question as two buttons. Rendered with Jinja2 (autoescaped); the
stylesheet is inline and allowed by its hash (:func:`style_csp_source`), like the summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from markupsafe import Markup

from trd import inline_page

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself \u2014 or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite \u2014 being so "
    "fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)
ANSWERS = ("Not at all", "Several days", "More than half the days", "Nearly every day")
STEM = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
SOURCE = (
    "PHQ-9: Kroenke K, Spitzer RL, Williams JBW. J Gen Intern Med 2001;16:606-613 "
    "(no permission required to reproduce)."
)


STYLESHEET = TEMPLATES_DIR / "checkin.css"


def stylesheet() -> str:
    return inline_page.stylesheet(STYLESHEET)


def style_csp_source() -> str:
    return inline_page.style_csp_source(STYLESHEET)


def render(page: str, **values: Any) -> str:
    """``page`` is form, done, crisis, safe or message."""
    template = inline_page.environment(TEMPLATES_DIR).get_template("checkin.html")
    return template.render(
        page=page,
        css=Markup(stylesheet()),  # noqa: S704 - our own file
        items=ITEMS,
        answers=ANSWERS,
        stem=STEM,
        source=SOURCE,
        **values,  # noqa: S704
    )


def read_form(fields: Mapping[str, Sequence[str]], max_note: int = 500) -> Dict[str, Any]:
    """{"answers": [9 x 0-3 or None], "note": str, "errors": [...]} from the posted form."""
    def first(name: str) -> str:
        getlist = getattr(fields, "getlist", None)  # Sanic's RequestParameters: .get() is the first value
        values = getlist(name) if callable(getlist) else fields.get(name)
        if isinstance(values, str):
            return values
        return str(values[0]) if values else ""

    answers: List[Optional[int]] = []
    errors: List[str] = []
    for i in range(1, 10):
        value = first(f"q{i}")
        if value in ("0", "1", "2", "3"):
            answers.append(int(value))
        elif value in ("", "skip"):
            answers.append(None)
        else:
            answers.append(None)
            errors.append(f"item {i}")
    note = " ".join(first("note").replace("\x00", "").split())[:max_note]
    return {"answers": answers, "note": note, "errors": errors}
