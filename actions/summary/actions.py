"""The summary's actions: show it at the end of the intake (or when asked), and turn its links off.

``action_show_summary`` reads the stored intake record, runs the navigator, creates a
link (``PUBLIC_BASE_URL/summary/<token>``) and sends the short chat message with it; on the
web chat, with weekly check-ins, the person's simple PHQ-9 chart follows (as a custom payload
of dates and totals, drawn by the web chat: :func:`trd.summary.chart.chat_chart_image`).
``action_delete_summary`` runs after the person confirmed "delete my summary"
(data/rules/summary.yml asks first) and revokes every active link of the
conversation, which then answers 410.

Both do their database work in worker threads and never fail the turn: a problem is
logged and the person is told plainly.
"""

from __future__ import annotations

import asyncio
import logging
import os
from abc import ABC, abstractmethod
from typing import Any, Callable, Dict, List, Mapping, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.checkins.actions import checkin_offer_events
from trd.navigator import IntakeValidationError
from trd.store import get_repository
from trd.store.repository import Repository, utcnow
from trd.summary.chart import CHAT_CHART_KEY, chart_series
from trd.summary.chat import chat_message
from trd.summary.content import run_navigator
from trd.summary.links import Clock, SummaryLinks, link_secret, public_base_url, ttl_days
from trd.summary.service import intake_complete

logger = logging.getLogger(__name__)

RepositoryFactory = Callable[[], Repository]

WEB_CHANNEL = "web"  # bot.channels.webchat.CHANNEL_NAME: the channel that draws the chart

UTTER_NONE = "utter_summary_none"
UTTER_UNAVAILABLE = "utter_summary_unavailable"
UTTER_DELETED = "utter_summary_deleted"
UTTER_NOTHING_TO_DELETE = "utter_summary_nothing_to_delete"
UTTER_DELETE_FAILED = "utter_summary_delete_failed"


class _SummaryAction(Action, ABC):
    """An action on summary links (abstract: the action server registers only concrete ones)."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    def __init__(
        self,
        repository_factory: RepositoryFactory = get_repository,
        clock: Clock = utcnow,
        env: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._repository_factory = repository_factory
        self._clock = clock
        self._env = env

    @property
    def env(self) -> Mapping[str, str]:
        return self._env if self._env is not None else os.environ

    async def _links(self) -> SummaryLinks:
        repository = await asyncio.to_thread(self._repository_factory)
        return SummaryLinks(repository, clock=self._clock, ttl=ttl_days(self.env))


class ActionShowSummary(_SummaryAction):
    """Run the navigator on the stored record, send the chat message and a fresh link."""

    def name(self) -> str:
        return "action_show_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        conversation_id = tracker.sender_id
        try:
            links = await self._links()
            record: Optional[Dict[str, Any]] = await asyncio.to_thread(
                links.repository.intake, conversation_id
            )
        except Exception:
            logger.exception("summary: could not read the intake record of conversation %s", conversation_id)
            dispatcher.utter_message(response=UTTER_UNAVAILABLE)
            return []
        if not record:
            dispatcher.utter_message(response=UTTER_NONE)
            return []
        try:
            result = await asyncio.to_thread(run_navigator, record)
        except IntakeValidationError as exc:
            logger.error("summary: the record of %s does not match the schema: %s", conversation_id, exc)
            dispatcher.utter_message(response=UTTER_UNAVAILABLE)
            return []
        except Exception:
            logger.exception("summary: the navigator failed for conversation %s", conversation_id)
            dispatcher.utter_message(response=UTTER_UNAVAILABLE)
            return []

        link: Optional[str] = None
        base_url = public_base_url(self.env)
        secret = link_secret(self.env)
        if base_url is None:
            logger.warning("summary: PUBLIC_BASE_URL is not set; the summary is sent without a link")
        elif secret is None:
            logger.warning(
                "summary: neither SUMMARY_LINK_SECRET nor WEBCHAT_SECRET is set; the summary is sent "
                "without a link"
            )
        else:
            try:
                # A reference, never the token: the message is stored in the conversation's events;
                # the Rasa server turns it into the link on the way out (trd.summary.links).
                link, _ = await asyncio.to_thread(links.create_reference, conversation_id, secret)
            except Exception:
                logger.exception("summary: could not create a link for conversation %s", conversation_id)
        # in a thread too: the first call reads the wording and crisis resources files
        text = await asyncio.to_thread(
            chat_message, result, link, ttl_days=links.ttl_days, complete=intake_complete(record)
        )
        dispatcher.utter_message(text=text)
        if tracker.get_latest_input_channel() == WEB_CHANNEL:
            # The weekly check-ins as the simple chart, under the text (#12): the message keeps only
            # the dates and totals; the web chat draws the image on the way out. A text message
            # (SMS) keeps the totals in words, which the text above already has.
            chart = chart_series(result.get("follow_up"))
            if chart is not None:
                dispatcher.utter_message(custom={CHAT_CHART_KEY: chart})
        # At the end of a complete intake, the offer of weekly check-ins follows, once (#12).
        return checkin_offer_events(tracker, record) if intake_complete(record) else []


class ActionDeleteSummary(_SummaryAction):
    """Confirmed "delete my summary": revoke the conversation's active links."""

    def name(self) -> str:
        return "action_delete_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        conversation_id = tracker.sender_id
        try:
            links = await self._links()
            revoked = await asyncio.to_thread(links.revoke, conversation_id)
        except Exception:
            logger.exception("summary: could not revoke the links of conversation %s", conversation_id)
            dispatcher.utter_message(response=UTTER_DELETE_FAILED)
            return []
        logger.info("summary: %d link(s) of conversation %s revoked", revoked, conversation_id)
        dispatcher.utter_message(response=UTTER_DELETED if revoked else UTTER_NOTHING_TO_DELETE)
        return []
