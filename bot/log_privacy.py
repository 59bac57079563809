"""The Rasa server's log redaction (:mod:`trd.logredact`), installed by ``python -m bot``.

Besides the patterns every process redacts, the server registers the text of every message
it handles (whatever the channel) before Rasa sees it, so Rasa's debug lines (the parsed
message, tracker and slot dumps, form validation) show ``[text]`` in its place. Rasa's
structured debug events are rendered as JSON (``FORCE_JSON_LOGGING``) so their
text-bearing fields are removed by key, not by guesswork.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

from trd import logredact

_PATCHED = "_trd_log_privacy"


def _remembering(method: Callable[..., Any], pick: Callable[..., Any]) -> Callable[..., Any]:
    if getattr(method, _PATCHED, False):
        return method

    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            logredact.remember(pick(*args, **kwargs))
        except Exception:  # noqa: BLE001, S110 - never fail a message over its redaction
            pass
        return await method(self, *args, **kwargs)

    setattr(wrapper, _PATCHED, True)
    return wrapper


def _message_text(message: Any = None, *args: Any, **kwargs: Any) -> Any:
    return getattr(message if message is not None else kwargs.get("message"), "text", None)


def _parse_text(message_data: Any = None, *args: Any, **kwargs: Any) -> Any:
    return message_data if message_data is not None else kwargs.get("message_data")


def install() -> None:
    """Before anything of Rasa is imported: JSON debug events, and every log record redacted."""
    os.environ.setdefault("FORCE_JSON_LOGGING", "1")
    logredact.install()


def register_messages() -> None:
    """Every message the server handles or parses is redacted from its later log lines."""
    from rasa.core.agent import Agent

    Agent.handle_message = _remembering(Agent.handle_message, _message_text)
    Agent.parse_message = _remembering(Agent.parse_message, _parse_text)
