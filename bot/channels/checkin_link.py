"""A web person's personal check-in link: ``GET/POST /checkin/<token>`` (weekly check-ins, #12).

Listed in credentials.yml as ``bot.channels.checkin_link.CheckinLinks:``. The token (made
by action_checkin_subscribe, 256 random bits) is stored only as its SHA-256 and expires after
``CHECKIN_LINK_TTL_DAYS``; stopping the check-ins turns it off.

    GET  /checkin/<token>          the week's check-in as a form (the PHQ-9 as published, "what changed")
    POST /checkin/<token>          the answers: recorded (with the care team's notification when the
                                   total worsened by 5 or more), then one line comparing with last
                                   time and the intake, and the next date
    POST /checkin/<token>/safety   the answer to the safety question after a crisis

Safety, as in the chat: item 9 above zero, or clear risk in what they wrote (the same risk
assessment as the chat's safety guard: the lexicon and the detector), answers with the crisis
lines first, records the crisis and escalates it to the care team, and asks whether they are
safe (two buttons); "I'm not safe" gets emergency services at once and is recorded too.
Possible risk in what they wrote is asked about with the crisis lines in view, not escalated.

Never a 500: 404 for an unknown link, 410 for an expired or stopped one, 503 when the
database cannot be used. Every answer has ``Cache-Control: no-store``, a strict
Content-Security-Policy (no scripts; the inline stylesheet by its hash; forms post only
here) and ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from trd.checkins import page
from trd.summary.resources import default_resources, fill

logger = logging.getLogger(__name__)

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
MAX_BODY = 16 * 1024
# The crisis numbers live only in data/knowledge/crisis_resources.yml: these fill them in.
CRISIS_LINE_TEMPLATE = (
    "Not an emergency service. If you are in danger, call or text {lifeline_number} ({lifeline_name}), "
    "or call {emergency_number}."
)
GLAD_SAFE_TEMPLATE = (
    "I'm glad you're safe right now. If that changes, call or text {lifeline_number} any time."
)


def crisis_line() -> str:
    return fill(CRISIS_LINE_TEMPLATE, default_resources(), "checkin page crisis line")


def glad_safe() -> str:
    return fill(GLAD_SAFE_TEMPLATE, default_resources(), "checkin page glad-safe line")


POSSIBLE_QUESTION = "Some of what you wrote sounds very heavy. Are you having thoughts of ending your life?"


def headers() -> Dict[str, str]:
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Robots-Tag": "noindex, nofollow",
        "Content-Security-Policy": (
            f"default-src 'none'; style-src {page.style_csp_source()}; img-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'"
        ),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }


def _store() -> Any:
    from trd.checkins.service import get_store

    return get_store()


def _repository() -> Any:
    from trd.store import get_repository

    return get_repository()


class CheckinLinks(InputChannel):
    """The personal check-in pages; receives no chat messages."""

    @classmethod
    def name(cls) -> str:
        return "checkin"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> CheckinLinks:
        return cls()

    def __init__(
        self,
        store_factory: Callable[[], Any] = _store,
        repository_factory: Callable[[], Any] = _repository,
        assessor_factory: Optional[Callable[[], Any]] = None,
    ) -> None:
        self._store_factory = store_factory
        self._repository_factory = repository_factory
        self._assessor_factory = assessor_factory
        self._assessor: Any = None
        self._domain_texts: Dict[str, List[str]] = {}

    def url_prefix(self) -> str:
        return "/checkin"

    # --- helpers ---------------------------------------------------------------------------

    def _page(self, status: int, kind: str, **values: Any) -> HTTPResponse:
        try:
            body = page.render(kind, crisis_line=crisis_line(), **values)
        except Exception:  # noqa: BLE001 - still answer
            logger.exception("checkin page: could not render %s", kind)
            body = f"<!doctype html><title>Check-in</title><p>{crisis_line()}</p>"
        return response.html(body, status=status, headers=headers())

    def _message(self, status: int, *paragraphs: str) -> HTTPResponse:
        return self._page(status, "message", paragraphs=list(paragraphs))

    def _texts(self, request: Request, name: str, fallback: List[str]) -> List[str]:
        """A domain response's web text as paragraphs (the chat's own crisis wording)."""
        agent = getattr(request.app.ctx, "agent", None)
        domain = getattr(agent, "domain", None)
        variants = (getattr(domain, "responses", None) or {}).get(name) or []
        for variant in variants:
            if not variant.get("channel") and not variant.get("condition") and variant.get("text"):
                return [line.strip() for line in str(variant["text"]).splitlines() if line.strip()]
        return fallback

    def _risk(self, text: str) -> tuple:
        """(the chat's risk tier for what they wrote: clear, possible, third_party, harm_to_others or
        none; the risk category when the lexicon named one)."""
        if not text:
            return "none", None
        if self._assessor is None:
            if self._assessor_factory is not None:
                self._assessor = self._assessor_factory()
            else:
                from trd.safety.assessment import RiskAssessor

                self._assessor = RiskAssessor.from_files()
        try:
            found = self._assessor.assess([text])
        except Exception:  # noqa: BLE001 - fail closed: unreadable means ask
            logger.exception("checkin page: the risk check failed; treating the note as possible risk")
            return "possible", None
        category = getattr(getattr(found, "engine", None), "category", None)
        return str(found.tier), (str(category) if category else None)

    async def _subscription(self, token: str) -> tuple:
        """(store, subscription, error response)."""
        if not TOKEN.match(token or ""):
            return None, None, self._message(404, "This check-in link is not known.")
        try:
            store = await asyncio.to_thread(self._store_factory)
            sub = await asyncio.to_thread(store.subscription_for_link, token)
        except Exception:
            logger.exception("checkin page: could not look up a link")
            return (
                None,
                None,
                self._message(503, "Sorry, check-ins are not available right now. Please try later."),
            )
        if sub is None:
            return (
                store,
                None,
                self._message(
                    410,
                    "This check-in link has expired or was turned off.",
                    'You can ask for a new one in the chat by saying "weekly check-ins".',
                ),
            )
        return store, sub, None

    # --- the routes ------------------------------------------------------------------------

    async def show(self, request: Request, token: str) -> HTTPResponse:
        store, sub, error = await self._subscription(token)
        if error is not None:
            return error
        try:
            current = await asyncio.to_thread(store.start_now, sub.id)
        except Exception:
            logger.exception("checkin page: could not open a check-in")
            return self._message(503, "Sorry, check-ins are not available right now. Please try later.")
        return self._page(200, "form", action=f"/checkin/{token}", checkin_id=current.id, errors="")

    async def submit(self, request: Request, token: str) -> HTTPResponse:
        if len(request.body or b"") > MAX_BODY:
            return self._message(413, "That was too long to send.")
        store, sub, error = await self._subscription(token)
        if error is not None:
            return error
        form = page.read_form(request.form or {})
        answers: List[Optional[int]] = form["answers"]
        checkin_id = str((request.form or {}).get("checkin") or "")
        if all(a is None for a in answers) and not form["note"]:
            return self._page(
                200,
                "form",
                action=f"/checkin/{token}",
                checkin_id=checkin_id,
                errors="Please answer at least one question (or press Send again later).",
            )
        item9 = answers[8] or 0
        tier, risk_category = await asyncio.to_thread(self._risk, form["note"])
        try:
            line = await self._record(store, sub, checkin_id, answers, form["note"])
        except Exception:
            logger.exception("checkin page: could not record a check-in")
            if item9 > 0 or tier in ("clear", "third_party", "harm_to_others", "possible"):
                line = None  # the crisis lines still come first
            else:
                return self._message(
                    503, "Sorry, your answers could not be saved just now. Please try again."
                )
        if item9 > 0 or tier in ("clear", "third_party", "harm_to_others"):
            if item9 > 0:
                category, excerpt = "suicidal_ideation", f"PHQ-9 item 9 scored {item9} in a weekly check-in"
            else:
                category = risk_category or (tier if tier != "clear" else "suicidal_ideation")
                excerpt = form["note"]
            await self._escalate(sub, category, excerpt)
            crisis = self._texts(request, "utter_crisis", [crisis_line()])
            question = " ".join(self._texts(request, "utter_crisis_check", ["Are you safe right now?"]))
            return self._page(200, "crisis", crisis=crisis, question=question, action=f"/checkin/{token}")
        if tier == "possible":
            crisis = self._texts(request, "utter_crisis", [crisis_line()])
            return self._page(
                200, "crisis", crisis=crisis, question=POSSIBLE_QUESTION, action=f"/checkin/{token}"
            )
        return self._page(200, "done", line=line or "", noted=bool(form["note"]))

    async def safety(self, request: Request, token: str) -> HTTPResponse:
        store, sub, error = await self._subscription(token)
        if error is not None:
            return error
        answer = str((request.form or {}).get("answer") or "")
        if answer == "not_safe":
            await self._escalate(sub, "danger_now", "not safe (weekly check-in page)")
            return self._message(200, *self._texts(request, "utter_crisis_not_safe", [crisis_line()]))
        if answer == "safe":
            try:
                repository = await asyncio.to_thread(self._repository_factory)
                await asyncio.to_thread(repository.resolve_open_crises, sub.conversation_id)
            except Exception:  # noqa: BLE001
                logger.exception("checkin page: could not resolve the crisis")
            return self._message(
                200,
                glad_safe(),
                "Thank you for checking in. You can come back to this page each week.",
            )
        return self._message(400, "Please choose one of the two buttons.")

    async def _record(
        self, store: Any, sub: Any, checkin_id: str, answers: List[Optional[int]], note: str
    ) -> str:
        from trd.checkins import notify, wording
        from trd.checkins.service import intake_total, write_follow_up

        current = await asyncio.to_thread(store.current, sub.id)
        if current is None or (checkin_id and current.id != checkin_id):
            current = await asyncio.to_thread(store.start_now, sub.id)
        repository = await asyncio.to_thread(self._repository_factory)
        record = await asyncio.to_thread(repository.intake, sub.conversation_id)
        baseline = intake_total(record)
        done = await asyncio.to_thread(
            store.complete, current.id, answers, notify.worsening_hook(store, baseline)
        )
        if note:
            await asyncio.to_thread(store.save_note, current.id, note)
        history = await asyncio.to_thread(store.checkins, sub.id)
        await asyncio.to_thread(write_follow_up, repository, sub.conversation_id, history, sub.timezone)
        earlier = [
            c for c in history if c.status == "answered" and c.total is not None and done and c.id != done.id
        ]
        upcoming = await asyncio.to_thread(store.upcoming, sub.id)
        return wording.result_line(
            answers,
            earlier[-1].total if earlier else None,
            baseline,
            upcoming.due_at if upcoming else None,
            sub.timezone,
        )

    async def _escalate(self, sub: Any, category: str, excerpt: str) -> None:
        from trd.escalation.enqueue import Escalator, record_crisis_and_escalate

        try:
            repository = await asyncio.to_thread(self._repository_factory)
            await asyncio.to_thread(
                lambda: record_crisis_and_escalate(
                    repository,
                    Escalator(),
                    conversation_id=sub.conversation_id,
                    input_channel="web",
                    category=category,
                    message_excerpt=excerpt[:300],
                    events=[],
                )
            )
        except Exception:  # noqa: BLE001 - the person still gets the crisis lines
            logger.critical(
                "CARE TEAM NOT ALERTED: a crisis on the check-in page of conversation %s "
                "could not be recorded",
                sub.conversation_id,
                exc_info=True,
            )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("checkin_links", __name__)

        @bp.route("/<token>", methods=["GET"])
        async def show(request: Request, token: str) -> HTTPResponse:
            return await self.show(request, token)

        @bp.route("/<token>", methods=["POST"])
        async def submit(request: Request, token: str) -> HTTPResponse:
            return await self.submit(request, token)

        @bp.route("/<token>/safety", methods=["POST"])
        async def safety(request: Request, token: str) -> HTTPResponse:
            return await self.safety(request, token)

        return bp
