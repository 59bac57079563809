"""The clinician's read-only view of an intake record: ``GET /intake/<conversation_id>``.

Listed in credentials.yml as ``bot.channels.clinician.ClinicianApi`` (no parameters).
Rasa mounts a channel's blueprint at ``urljoin("/webhooks/", url_prefix())``; the
absolute prefix "/intake" puts the route at ``/intake/<conversation_id>``.

    Authorization: Bearer <CLINICIAN_TOKEN>   (environment; compared in constant time)

    200  the intake record (intake.schema.json), as stored by the action server
    401  no token, or a wrong one
    404  no intake record for this conversation
    503  CLINICIAN_TOKEN is not set on this server, or the database cannot be read

The record is read through ``trd.store`` (the same ``DATABASE_URL`` as the tracker
store), in a worker thread so the Rasa server's event loop never waits on the database.
This channel receives no chat messages.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from trd.store.repository import MAX_CONVERSATION_ID, Repository

logger = logging.getLogger(__name__)

TOKEN_ENV = "CLINICIAN_TOKEN"  # noqa: S105 - the name of the variable, not a secret
MIN_TOKEN_CHARS = 16
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

RepositoryFactory = Callable[[], Repository]


def _default_repository() -> Repository:
    from trd.store import get_repository

    return get_repository()


def _error(status: int, code: str, message: str, extra: Optional[Dict[str, str]] = None) -> HTTPResponse:
    return response.json(
        {"error": code, "message": message}, status=status, headers={**HEADERS, **(extra or {})}
    )


def bearer_token(request: Request) -> Optional[str]:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def token_matches(given: Optional[str], expected: str) -> bool:
    """Constant-time comparison; an empty expected token never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


class ClinicianApi(InputChannel):
    """Read-only access to intake records for a clinician holding the token."""

    @classmethod
    def name(cls) -> str:
        return "clinician"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> ClinicianApi:
        token = os.environ.get(TOKEN_ENV, "")
        if not token:
            logger.warning("%s is not set: GET /intake/<id> answers 503 until it is.", TOKEN_ENV)
        elif len(token) < MIN_TOKEN_CHARS:
            logger.warning(
                "%s is shorter than %d characters: use a long random token.", TOKEN_ENV, MIN_TOKEN_CHARS
            )
        return cls(token)

    def __init__(self, token: str, repository_factory: RepositoryFactory = _default_repository) -> None:
        self.token = token
        self._repository_factory = repository_factory

    def url_prefix(self) -> str:
        return "/intake"

    async def read_record(self, conversation_id: str) -> Optional[Dict[str, Any]]:
        repository = await asyncio.to_thread(self._repository_factory)
        return await asyncio.to_thread(repository.intake, conversation_id)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("clinician_intake", __name__)

        @bp.route("/<conversation_id:path>", methods=["GET"])
        async def intake(request: Request, conversation_id: str) -> HTTPResponse:
            if not self.token:
                return _error(503, "not_configured", f"The clinician API is not configured ({TOKEN_ENV}).")
            if not token_matches(bearer_token(request), self.token):
                return _error(
                    401,
                    "unauthorized",
                    "A valid clinician token is required.",
                    {"WWW-Authenticate": "Bearer"},
                )
            if not conversation_id.strip() or len(conversation_id) > MAX_CONVERSATION_ID:
                return _error(404, "not_found", "No intake record for this conversation.")
            try:
                record = await self.read_record(conversation_id)
            except Exception:
                logger.exception("could not read the intake record of a conversation")
                return _error(503, "unavailable", "The intake records cannot be read right now.")
            if record is None:
                return _error(404, "not_found", "No intake record for this conversation.")
            return response.json(record, headers=HEADERS)

        return bp
