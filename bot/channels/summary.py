"""Summary links: ``GET /summary/<token>`` (HTML), ``/summary/<token>.pdf`` and ``/summary/<token>.json``.

Listed in credentials.yml as ``bot.channels.summary.SummaryPages:`` (no parameters).
Rasa mounts a channel's blueprint at ``urljoin("/webhooks/", url_prefix())``; the
absolute prefix "/summary" puts the pages at ``/summary/...``. This channel receives
no chat messages.

The token is the only key (256 random bits, stored as a SHA-256 by the action
server, see ``trd.summary.links``). Every page is rendered at request time from
the stored intake record through the navigator, so it shows the latest corrections.

    200  the summary (HTML; ``.pdf`` application/pdf, ``?paper=a4`` for A4; ``.json``)
    404  no such link (any malformed token, path or suffix), or no intake behind it
    410  the link expired (SUMMARY_LINK_TTL_DAYS) or was turned off ("delete my summary")
    503  the database cannot be read or the summary cannot be rendered right now

Never a 500: every failure is logged and answered with a short page. Every answer
carries ``Cache-Control: no-store``, ``X-Robots-Tag: noindex``, a Content-Security-Policy
(no scripts, no external resources; the inline stylesheet allowed by its hash) and
``Referrer-Policy: no-referrer``. Database reads and PDF rendering run in worker
threads, so the Rasa server's event loop never waits on them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from trd.store.repository import LINK_ACTIVE, Repository, summary_token_hash, utcnow
from trd.summary.clinician import (
    DEFAULT_PAPER,
    PAPER_SIZES,
    render_html,
    render_message_page,
    render_pdf,
    style_csp_source,
)
from trd.summary.content import SummaryInputs, clinician_view, show_date, summary_json
from trd.summary.links import Clock, SummaryLinks
from trd.summary.resources import fill, resources
from trd.summary.service import gather
from trd.summary.wording import default_wording

logger = logging.getLogger(__name__)

RepositoryFactory = Callable[[], Repository]
MAX_NAME_CHARS = 200
FORMATS = {".pdf": "pdf", ".json": "json"}


def _default_repository() -> Repository:
    from trd.store import get_repository

    return get_repository()


def security_headers(kind: str = "html") -> Dict[str, str]:
    """Headers of every answer; ``kind`` html pages get the strict CSP with the stylesheet's hash."""
    if kind == "html":
        csp = (
            f"default-src 'none'; style-src {style_csp_source()}; img-src 'none'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'"
        )
    else:
        csp = "default-src 'none'; frame-ancestors 'none'"
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Robots-Tag": "noindex, nofollow",
        "Content-Security-Policy": csp,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }


@dataclass(frozen=True)
class PageRequest:
    token: str
    fmt: str  # html, pdf, json


def parse_name(name: str) -> Optional[PageRequest]:
    """``<token>``, ``<token>.pdf`` or ``<token>.json``; None for anything else."""
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
        return None
    fmt = "html"
    token = name
    for suffix, kind in FORMATS.items():
        if name.endswith(suffix):
            token, fmt = name[: -len(suffix)], kind
            break
    if summary_token_hash(token) is None:
        return None
    return PageRequest(token, fmt)


def render_summary(inputs: SummaryInputs, wanted: PageRequest, paper: str) -> Tuple[bytes, str]:
    """(body, content type) of one summary rendering; CPU-bound, so callers run it in a thread."""
    if wanted.fmt == "json":
        text = json.dumps(summary_json(inputs), ensure_ascii=False, indent=1)
        return text.encode("utf-8"), "application/json; charset=utf-8"
    view = clinician_view(inputs)
    if wanted.fmt == "html":
        return render_html(view, token=wanted.token).encode("utf-8"), "text/html; charset=utf-8"
    return render_pdf(render_html(view), paper), "application/pdf"


class SummaryPages(InputChannel):
    """Serves a person's summary at the link the action server sent them."""

    @classmethod
    def name(cls) -> str:
        return "summary"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> SummaryPages:
        return cls()

    def __init__(
        self, repository_factory: RepositoryFactory = _default_repository, clock: Clock = utcnow
    ) -> None:
        self._repository_factory = repository_factory
        self._clock = clock

    def url_prefix(self) -> str:
        return "/summary"

    # --- answers -------------------------------------------------------------------------
    def message_page(self, status: int, page: str) -> HTTPResponse:
        try:
            words = default_wording()["pages"][page]
            crisis_line = fill(default_wording()["clinician"]["crisis_line"], resources())
            body = render_message_page(words["title"], words["paragraphs"], crisis_line)
        except Exception:  # noqa: BLE001 - the wording files are broken: still answer, plainly
            logger.exception("summary: could not render the %s page", page)
            body = "<!doctype html><title>Summary</title><p>This summary cannot be shown.</p>"
        return response.html(body, status=status, headers=security_headers("html"))

    async def _answer(self, request: Request, name: str) -> HTTPResponse:
        wanted = parse_name(name)
        if wanted is None:
            return self.message_page(404, "not_found")
        paper = request.args.get("paper", DEFAULT_PAPER) if wanted.fmt == "pdf" else DEFAULT_PAPER
        if paper not in PAPER_SIZES:
            return self.message_page(404, "not_found")
        try:
            repository = await asyncio.to_thread(self._repository_factory)
            links = SummaryLinks(repository, clock=self._clock)
            found = await asyncio.to_thread(links.lookup, wanted.token)
        except Exception:
            logger.exception("summary: could not look up a link")
            return self.message_page(503, "unavailable")
        if found.link is None:
            return self.message_page(404, "not_found")
        if found.state != LINK_ACTIVE:
            logger.info("summary: a link that is %s was opened", found.state)
            return self.message_page(410, "gone")
        link = found.link
        try:
            inputs = await asyncio.to_thread(
                gather, repository, link.conversation_id, self._clock(), link.expires_at
            )
        except Exception:
            logger.exception("summary: could not gather the summary of a link")
            return self.message_page(503, "unavailable")
        if inputs is None:
            return self.message_page(404, "no_summary")
        try:
            body, content_type = await asyncio.to_thread(render_summary, inputs, wanted, paper)
        except Exception:
            logger.exception("summary: could not render the summary of a link")
            return self.message_page(503, "unavailable")
        if wanted.fmt == "pdf":
            filename = f"trd-summary-{show_date(inputs.generated_at)}.pdf"
            headers = {**security_headers("pdf"), "Content-Disposition": f'inline; filename="{filename}"'}
        else:
            headers = security_headers(wanted.fmt)
        return response.raw(body, content_type=content_type, headers=headers)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("summary_pages", __name__)

        @bp.route("/", methods=["GET"])
        async def index(request: Request) -> HTTPResponse:
            return self.message_page(404, "not_found")

        @bp.route("/<name>", methods=["GET"])
        async def page(request: Request, name: str) -> HTTPResponse:
            try:
                return await self._answer(request, name)
            except Exception:  # noqa: BLE001 - never a 500
                logger.exception("summary: unexpected error")
                return self.message_page(503, "unavailable")

        @bp.route("/<name>/<rest:path>", methods=["GET"])
        async def deeper(request: Request, name: str, rest: str) -> HTTPResponse:
            return self.message_page(404, "not_found")

        return bp
