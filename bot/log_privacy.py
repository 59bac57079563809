"""The Rasa server's log redaction (:mod:`trd.logredact`), installed by ``python -m bot``.

Besides the patterns every process redacts, the server registers the text of every message
it handles (whatever the channel) before Rasa sees it, so Rasa's debug lines (the parsed
message, tracker and slot dumps, form validation) show ``[text]`` in its place. Rasa's
structured debug events are rendered as JSON (``FORCE_JSON_LOGGING``) so their
text-bearing fields are removed by key, not by guesswork.
"""

from __future__ import annotations

import os
from typing import Any, Tuple

from trd import logredact


def _message_text(message: Any = None, *args: Any, **kwargs: Any) -> Tuple[Any]:
    return (getattr(message if message is not None else kwargs.get("message"), "text", None),)


def _parse_text(message_data: Any = None, *args: Any, **kwargs: Any) -> Tuple[Any]:
    return (message_data if message_data is not None else kwargs.get("message_data"),)


def install() -> None:
    """Before anything of Rasa is imported: JSON debug events, and every log record redacted."""
    os.environ.setdefault("FORCE_JSON_LOGGING", "1")
    logredact.install()


def register_messages() -> None:
    """Every message the server handles or parses is redacted from its later log lines."""
    from rasa.core.agent import Agent

    Agent.handle_message = logredact.remembering(Agent.handle_message, _message_text)
    Agent.parse_message = logredact.remembering(Agent.parse_message, _parse_text)
