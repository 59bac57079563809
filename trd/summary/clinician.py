"""The clinician summary: one printable HTML page (Jinja2, autoescaped) and its PDF (WeasyPrint).

The page has no scripts and no external assets: its one stylesheet is inline, and
:func:`style_csp_source` gives the CSP hash that allows exactly that stylesheet.
WeasyPrint renders the same HTML with print CSS; it is never allowed to fetch
anything (no network, no files).
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from markupsafe import Markup

from trd import inline_page

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PAPER_SIZES = {"letter": "letter", "a4": "A4"}
DEFAULT_PAPER = "letter"

# WeasyPrint (pango/fontconfig underneath) is not documented as thread-safe: one render at a time.
_PDF_LOCK = threading.Lock()


class SummaryRenderError(RuntimeError):
    """The PDF could not be rendered."""


STYLESHEET = TEMPLATES_DIR / "clinician.css"


def stylesheet() -> str:
    return inline_page.stylesheet(STYLESHEET)


def style_csp_source() -> str:
    """The CSP source (``'sha256-...'``) that allows the page's inline stylesheet and nothing else."""
    return inline_page.style_csp_source(STYLESHEET)


def render_html(view: Mapping[str, Any], token: Optional[str] = None) -> str:
    """The page for a :func:`trd.summary.content.clinician_view`; ``token`` adds the download links."""
    template = inline_page.environment(TEMPLATES_DIR).get_template("clinician.html")
    return template.render(v=view, css=Markup(stylesheet()), token=token)  # noqa: S704 - our own file


def render_message_page(title: str, paragraphs: Sequence[str], crisis_line: str) -> str:
    """A short page (an unknown, expired or unavailable summary), styled like the summary."""
    template = inline_page.environment(TEMPLATES_DIR).get_template("message.html")
    return template.render(
        title=title, paragraphs=list(paragraphs), crisis_line=crisis_line, css=Markup(stylesheet())  # noqa: S704
    )


@functools.lru_cache(maxsize=1)
def _no_fetching() -> Any:
    """A WeasyPrint URL fetcher that refuses every URL (no network, no files)."""
    from weasyprint.urls import URLFetcher

    class NoFetching(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"the summary fetches nothing (asked for {url[:80]!r})")

    return NoFetching()


def render_pdf(html: str, paper: str = DEFAULT_PAPER) -> bytes:
    """The page as a PDF (``paper``: letter or a4)."""
    size = PAPER_SIZES.get(paper)
    if size is None:
        raise ValueError(f"paper must be one of {sorted(PAPER_SIZES)}")
    from weasyprint import CSS, HTML  # imported on first use: slow, and the chat path never needs it

    page = CSS(string=f"@page {{ size: {size}; }}")
    try:
        with _PDF_LOCK:
            pdf = HTML(string=html, url_fetcher=_no_fetching()).write_pdf(stylesheets=[page])
    except Exception as exc:  # noqa: BLE001 - reported as one clear error
        raise SummaryRenderError(f"the PDF could not be rendered: {exc}") from exc
    if not isinstance(pdf, bytes) or not pdf.startswith(b"%PDF"):
        raise SummaryRenderError("the PDF renderer returned no PDF")
    return pdf


def page_count(html: str, paper: str = DEFAULT_PAPER) -> int:
    """How many pages the PDF of ``html`` has (for checks and the benchmark)."""
    from weasyprint import CSS, HTML

    page = CSS(string=f"@page {{ size: {PAPER_SIZES[paper]}; }}")
    with _PDF_LOCK:
        return len(HTML(string=html, url_fetcher=_no_fetching()).render(stylesheets=[page]).pages)
