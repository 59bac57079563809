"""Rasa's HTTP API, for this machine only: loopback callers and a constant-time token.

Rasa's API (``--enable-api``) can read and rewrite any conversation, parse text past the
channels' guards, and replace the model (``PUT /model``). It shares the server's port with
the channels the public reaches (web chat, SMS, REST), so binding the server to loopback
is not enough in a deployment. :func:`install` (run by ``python -m bot``, before Rasa
builds its app) wraps ``rasa.server.create_app`` so that every API route:

* answers only a caller whose own address (the TCP peer, never a forwarded header) is a
  loopback address and whose request carries no forwarding header (a reverse proxy on
  this machine passing a request on): anyone else gets 403, whatever token they send;
* checks ``?token=`` against the configured token with :func:`hmac.compare_digest`
  (Rasa compares with ``==``): a wrong or missing token gets 401 before Rasa's handler.

* checks the JSON body of the routes that take one before Rasa reads it
  (:func:`body_problem`): Rasa answers a malformed body there with a 500 and a traceback;
  here it is a 400 that says what to send. ``/model/train`` and ``/model/test/...`` (training
  and evaluating inside the serving process) are refused with 403: run ``rasa train`` /
  ``rasa test`` offline.

The channels' own routes (``/webhooks/...``), the chat page and the summary pages are not
API routes and are untouched. ``scripts/run.sh`` enables the API only when
``RASA_ENABLE_API`` is 1 (``make run`` sets it; a deployment leaves it off).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
from typing import Any, Callable, Optional, Tuple

logger = logging.getLogger(__name__)

_MARK = "_trd_api_guard"
# The path prefixes of Rasa 3.6's HTTP API (rasa/server.py create_app), "/" excepted (a greeting).
API_PREFIXES: Tuple[str, ...] = ("/version", "/status", "/conversations", "/model", "/domain", "/jobs")


def is_api_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in API_PREFIXES)


def is_loopback(address: Optional[str]) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


_PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-host")


def decide(
    path: str, peer: Optional[str], provided: Optional[str], token: Optional[str], proxied: bool = False
) -> Optional[int]:
    """The status to refuse an API request with (403, 401), or None to let Rasa handle it.

    ``proxied``: the request carries a forwarding header, so a proxy on this machine passed
    it on from somewhere else: refused like any other caller from outside.
    """
    if not is_api_path(path):
        return None
    if proxied or not is_loopback(peer):
        return 403
    if token:
        if not provided or not hmac.compare_digest(provided.encode("utf-8", "surrogatepass"), token.encode()):
            return 401
    return None


_CONVERSATION_ROUTE = re.compile(r"^/conversations/[^/]+/(messages|tracker/events|trigger_intent|execute)$")
NOT_SERVED = ("/model/train", "/model/test")


def _is_object_with(body: Any, *keys: str) -> bool:
    return isinstance(body, dict) and all(isinstance(body.get(k), str) and body.get(k) for k in keys)


def body_problem(method: str, path: str, raw: bytes) -> Optional[Tuple[int, str]]:
    """(status, what to send) for an API request Rasa would fail on with a 500; None when fine."""
    if any(path == p or path.startswith(p + "/") for p in NOT_SERVED):
        return (
            403,
            "Training and testing are not done by the serving process: run `rasa train` / `rasa test`.",
        )
    if method not in ("POST", "PUT"):
        return None
    found = _CONVERSATION_ROUTE.match(path)
    route = found.group(1) if found else path
    needs = {
        "/model/parse": ("text",),
        "messages": ("text", "sender"),
        "trigger_intent": ("name",),
        "execute": ("name",),
        "/model": (),
        "tracker/events": (),
    }.get(route)
    if needs is None:
        return None
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return 400, "The body must be JSON."
    if route == "tracker/events":
        events = body if isinstance(body, list) else [body]
        if not events or not all(_is_object_with(e, "event") for e in events):
            return 400, 'Send an event, or a list of events, like {"event": "slot", "name": "x", "value": 1}.'
        return None
    if not _is_object_with(body, *needs):
        fields = ", ".join(f'"{k}": "..."' for k in needs)
        return 400, f"Send a JSON object{' like {' + fields + '}' if fields else ''}."
    return None


def too_large(request: Any) -> bool:
    """The body is over the app's REQUEST_MAX_SIZE (REQUEST_MAX_BYTES, trd.limits), by its
    Content-Length or what was read: 413, not a 400 about a body the server never kept."""
    config = getattr(getattr(request, "app", None), "config", None)
    try:
        limit = int(getattr(config, "REQUEST_MAX_SIZE", 0) or 0)
    except (TypeError, ValueError):
        return False
    if limit <= 0:
        return False
    length = (request.headers.get("content-length") or "").strip()
    if length.isdigit() and int(length) > limit:
        return True
    return len(getattr(request, "body", b"") or b"") > limit


def _peer(request: Any) -> Optional[str]:
    info = getattr(request, "conn_info", None)
    address = getattr(info, "client_ip", None) if info is not None else None
    if address:
        return str(address)
    ip = getattr(request, "ip", None)
    return str(ip) if ip else None


def guard_app(app: Any, token: Optional[str]) -> Any:
    """Register the API guard on a Sanic app (the first request middleware to run)."""
    from sanic import response

    async def api_guard(request: Any) -> Any:
        proxied = any(h in request.headers for h in _PROXY_HEADERS)
        status = decide(request.path, _peer(request), request.args.get("token"), token, proxied)
        if status is None:
            if not is_api_path(request.path):
                return None
            if too_large(request):
                refusal = {
                    "status": "failure", "reason": "PayloadTooLarge", "message": "The request is too large.",
                }
                return response.json(refusal, status=413)
            problem = body_problem(request.method, request.path, getattr(request, "body", b"") or b"")
            if problem is None:
                return None
            return response.json(
                {"status": "failure", "reason": "BadRequest", "message": problem[1]}, status=problem[0]
            )
        if status == 403:
            logger.warning(
                "Rasa API refused for %s %s from a non-loopback address", request.method, request.path
            )
            return response.json(
                {
                    "status": "failure",
                    "reason": "NotAllowed",
                    "message": "Rasa's HTTP API answers this machine only.",
                },
                status=403,
            )
        return response.json(
            {
                "status": "failure",
                "reason": "NotAuthenticated",
                "message": "A valid token is required (?token=...).",
            },
            status=401,
        )

    app.register_middleware(api_guard, "request")
    return app


def install() -> None:
    """Wrap rasa.server.create_app with the guard (idempotent)."""
    import rasa.server

    original: Callable[..., Any] = rasa.server.create_app
    if getattr(original, _MARK, False):
        return

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        return guard_app(app, kwargs.get("auth_token"))

    setattr(create_app, _MARK, True)
    rasa.server.create_app = create_app  # rasa.core.run calls server.create_app at serve time
