"""Redaction of every log line: no phone number, message text, token or secret reaches a log.

:func:`install` patches :meth:`logging.Logger.makeRecord`, the one place every record of
every logger is made (ours, Rasa's, Sanic's, SQLAlchemy's; structlog renders through the
standard library), so the redaction holds whatever handlers Rasa or Sanic configure later.
Each record's message is formatted once, redacted, and stored without its arguments; its
traceback text and any string fields a logger adds (Sanic's access log) are redacted too.

What is removed (:func:`redact`):

- **phone numbers**: E.164 (``+15551234567``, also URL-encoded ``%2B1555...``) and US
  formats (``(555) 123-4567``, ``555-123-4567``, ``555.123.4567``, ``1 555 123 4567``,
  ten or eleven bare digits) -> ``[phone]``;
- **tokens and secrets**: ``Bearer ...``, ``?token=`` / ``auth_token`` / ``key`` /
  ``signature`` query parameters, summary links (``/summary/<token>``), web chat session
  tokens and cookies, the ``Authorization``, ``X-Twilio-Signature`` and
  ``X-Escalation-Signature`` headers, Fernet tokens (encrypted phone numbers), and the
  literal value of every secret setting in the environment (:data:`SECRET_SETTINGS`, and
  the password of ``DATABASE_URL``) -> ``[redacted]``;
- **message text**: Rasa's structured debug events (JSON lines) lose the value of every
  key that carries what a person wrote (:data:`TEXT_KEYS`: the keys Rasa's own anonymizer
  lists, slot values, tracker dumps); ``'text': '...'`` and ``"text": "..."`` in dict and
  JSON dumps, and Rasa's ``Received user message '...'``; and any text a channel or the
  action server registered with :func:`remember` (the last :data:`REMEMBERED` messages of
  the process) wherever it appears -> ``[text]``.

Nothing here imports Rasa. ``bot.log_privacy`` and ``actions.server`` install it and feed
:func:`remember`; the escalation worker installs it too.
"""

from __future__ import annotations

import collections
import functools
import json
import logging
import os
import re
import threading
from typing import Any, Awaitable, Callable, Deque, Dict, Iterable, List, Mapping, Optional, Set
from urllib.parse import urlsplit

PHONE = "[phone]"
SECRET = "[redacted]"  # noqa: S105 - the marker, not a secret
TEXT = "[text]"

# Settings whose values are secrets: never in a log line, whatever logs them.
SECRET_SETTINGS = (
    "RASA_AUTH_TOKEN",
    "WEBCHAT_SECRET",
    "CLINICIAN_TOKEN",
    "PHONE_HASH_SECRET",
    "SMS_ENCRYPTION_KEY",
    "TWILIO_AUTH_TOKEN",
    "ESCALATION_WEBHOOK_SECRET",
    "SUMMARY_LINK_SECRET",
)
MIN_SECRET_CHARS = 8

# Keys of structured (JSON) log events whose values may hold what a person wrote: the keys
# Rasa 3.6's own anonymizer lists (rasa/utils/log_utils.py), plus ours.
TEXT_KEYS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker_latest_message",
        "prefilled_slots",
        "message",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "entities",
        "token_text",
        "user_message",
        "json_message",
        "metadata",
        "events",
        "tracker",
        "slots",
        "value",
        "body",
    }
)
# How many registered texts a process keeps (a few minutes of traffic; older log lines are
# long written by then).
REMEMBERED = 2000
MIN_REMEMBERED_CHARS = 5
_PATCHED = "_trd_log_privacy"  # marks a method wrapped by remembering()

_PATTERNS: List[tuple[re.Pattern[str], Any]] = [
    # tokens and secrets first (a token may contain digit runs that look like phone numbers)
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + SECRET),
    (
        re.compile(
            r"(?i)([?&;](?:token|auth_token|access_token|api_key|apikey|key|secret|signature|sig|password)=)"
            r"[^&\s\"'<>]+"
        ),
        r"\1" + SECRET,
    ),
    (re.compile(r"(/summary/)[A-Za-z0-9_-]{8,}"), r"\1" + SECRET),
    (re.compile(r"\bv1\.[A-Za-z0-9_-]{22}\.[0-9]{1,12}\.[A-Za-z0-9_-]{43}"), SECRET),
    (re.compile(r"(?i)(trd_chat=)[^;\s\"']+"), r"\1" + SECRET),
    (
        re.compile(
            r"(?i)\b(authorization|x-twilio-signature|x-escalation-signature|cookie)"
            r"([\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,}]+"
        ),
        r"\1\2" + SECRET,
    ),
    (re.compile(r"\bgAAAAA[A-Za-z0-9_=-]{40,}"), SECRET),  # Fernet tokens (encrypted numbers)
    # phone numbers
    (re.compile(r"(?i)%2B[1-9][0-9]{6,14}(?![0-9])"), PHONE),
    (re.compile(r"(?<![\w+.])\+[1-9][0-9]{6,14}(?![\d.])"), PHONE),
    (
        re.compile(r"(?<![\w.+-])(?:\+?1[\s.-]?)?\(?[2-9][0-9]{2}\)?[\s.-]?[0-9]{3}[\s.-]?[0-9]{4}(?![\w.])"),
        PHONE,
    ),
    # what a person wrote, where Rasa prints it
    (re.compile(r"(Received user message ')(.*?)(' with intent)", re.S), r"\1" + TEXT + r"\3"),
    (re.compile(r"(['\"]text['\"]\s*:\s*')((?:[^'\\]|\\.)*)(')"), r"\1" + TEXT + r"\3"),
    (re.compile(r"(['\"]text['\"]\s*:\s*\")((?:[^\"\\]|\\.)*)(\")"), r"\1" + TEXT + r"\3"),
]


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.secrets: List[str] = []
        self.texts: Deque[str] = collections.deque(maxlen=REMEMBERED)
        self.text_set: Set[str] = set()
        self.installed = False
        # the texts by their first MIN_REMEMBERED_CHARS characters (rebuilt when they change), so a
        # line is checked against the few texts that could be in it, not all of them
        self.by_prefix: Dict[str, List[str]] = {}
        self.stale = False
        self.original: Optional[Callable[..., logging.LogRecord]] = None


_state = _State()


def secrets_from_env(env: Mapping[str, str] = os.environ) -> List[str]:
    """The values of the secret settings (and the database password) that are set."""
    found = [env.get(name, "").strip() for name in SECRET_SETTINGS]
    url = env.get("DATABASE_URL", "")
    if url:
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            found.append(password)
    return sorted({s for s in found if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)


def set_secrets(values: Iterable[str]) -> None:
    with _state.lock:
        _state.secrets = sorted(
            {v for v in values if v and len(v) >= MIN_SECRET_CHARS}, key=len, reverse=True
        )


def remember(text: Any) -> None:
    """Redact this text (what a person wrote) from every later log line of this process."""
    if not isinstance(text, str):
        return
    text = text.strip()
    if len(text) < MIN_REMEMBERED_CHARS:
        return
    with _state.lock:
        if text in _state.text_set:
            return
        if len(_state.texts) == _state.texts.maxlen:
            _state.text_set.discard(_state.texts[0])
        _state.texts.append(text)
        _state.text_set.add(text)
        _state.stale = True


def remembering(
    method: Callable[..., Awaitable[Any]], texts: Callable[..., Iterable[Any]]
) -> Callable[..., Awaitable[Any]]:
    """``method`` (an async method) registering, before it runs, the texts ``texts(*args,
    **kwargs)`` finds in its arguments (:func:`remember`); a call never fails over it.
    Idempotent: an already wrapped method is returned as it is."""
    if getattr(method, _PATCHED, False):
        return method

    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            for text in texts(*args, **kwargs):
                remember(text)
        except Exception:  # noqa: BLE001, S110 - never fail a call over its redaction
            pass
        return await method(self, *args, **kwargs)

    setattr(wrapper, _PATCHED, True)
    return wrapper


def forget_all() -> None:
    """Drop the registered texts (tests)."""
    with _state.lock:
        _state.texts.clear()
        _state.text_set.clear()
        _state.stale = True


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (TEXT if k in TEXT_KEYS and v not in (None, "", [], {}) else _redact_json(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    if isinstance(value, str):
        return redact(value, structured=False)
    return value


def _structured(text: str) -> Optional[str]:
    """A structlog JSON line with its text-bearing values removed; None if ``text`` is not one."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}") and '"event"' in stripped):
        return None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return json.dumps(_redact_json(data), ensure_ascii=False)


def redact(text: str, structured: bool = True) -> str:
    """``text`` without phone numbers, tokens, secrets or registered message texts."""
    if not text:
        return text
    if structured:
        found = _structured(text)
        if found is not None:
            text = found
    with _state.lock:
        secrets = list(_state.secrets)
        if _state.stale:
            index: Dict[str, List[str]] = {}
            for said in _state.texts:
                index.setdefault(said[:MIN_REMEMBERED_CHARS], []).append(said)
            _state.by_prefix = index
            _state.stale = False
        by_prefix = _state.by_prefix
    texts: List[str] = []
    if by_prefix:
        width = MIN_REMEMBERED_CHARS
        candidates = {
            said
            for i in range(len(text) - width + 1)
            for said in by_prefix.get(text[i : i + width], ())
        }
        texts = sorted(candidates, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, SECRET)
    for said in texts:
        if said in text:
            text = text.replace(said, TEXT)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place: its message (formatted once), traceback and string extras."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string: keep what we can show
        message = str(record.msg)
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def _make_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
    original = _state.original
    assert original is not None
    record = original(self, *args, **kwargs)
    try:
        redact_record(record)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                record.__dict__[key] = redact(value)
    except Exception:  # noqa: BLE001 - never lose a log line over its redaction
        record.msg, record.args = "[a log line could not be redacted and was dropped]", None
    return record


def install(env: Mapping[str, str] = os.environ) -> None:
    """Redact every log record of this process from now on (idempotent)."""
    set_secrets(secrets_from_env(env))
    with _state.lock:
        if _state.installed:
            return
        _state.original = logging.Logger.makeRecord
        logging.Logger.makeRecord = _make_record  # type: ignore[method-assign]
        _state.installed = True


def uninstall() -> None:
    """Undo :func:`install` (tests)."""
    with _state.lock:
        if _state.installed and _state.original is not None:
            logging.Logger.makeRecord = _state.original  # type: ignore[method-assign]
        _state.installed = False
        _state.original = None


def installed() -> bool:
    return _state.installed


def describe() -> Dict[str, int]:
    """How many secrets and texts are redacted now (no values)."""
    with _state.lock:
        return {"secrets": len(_state.secrets), "texts": len(_state.texts)}
