"""One way to read an answer: ``read(kind, text) -> Answer``, with every kind registered once.

A kind is a name (the ``kind`` of data/knowledge/intake_questions.yml, or one of the
medicines form's) bound to a reader and a check of its canonical values. Readers get
the typed text and a :class:`Context` (the classifier's intent and confidence, the whole
message with its ``drug`` entities, the drug lexicon); they return the canonical value,
:data:`UNKNOWN` or :data:`INVALID`. The kinds themselves are registered in
:mod:`trd.answers.kinds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from trd.answers.common import SKIPPED
from trd.answers.values import INVALID, UNKNOWN


@dataclass(frozen=True)
class Context:
    """What a reader may know besides the text."""

    intent: Optional[str] = None
    confidence: float = 0.0
    message: Mapping[str, Any] = field(default_factory=dict)  # text, intent, entities
    lexicon: Any = None  # trd.navigator.lexicon.Lexicon; None: the default one


Reader = Callable[[str, Context], Any]
Check = Callable[[Any], bool]


@dataclass(frozen=True)
class Kind:
    name: str
    read: Reader
    canonical: Check
    description: str = ""


@dataclass(frozen=True)
class Answer:
    """A reading: ``value`` is the canonical value, UNKNOWN or INVALID."""

    kind: str
    text: str
    value: Any

    @property
    def unknown(self) -> bool:
        return self.value is UNKNOWN

    @property
    def invalid(self) -> bool:
        return self.value is INVALID

    @property
    def known(self) -> bool:
        return not (self.unknown or self.invalid)


_KINDS: Dict[str, Kind] = {}


def register(name: str, reader: Reader, canonical: Check, description: str = "") -> Kind:
    """Register a kind; each name once (a second registration is a programming error)."""
    if name in _KINDS:
        raise ValueError(f"answer kind {name!r} is already registered")
    kind = Kind(name, reader, canonical, description)
    _KINDS[name] = kind
    return kind


def kind(name: str) -> Kind:
    return _KINDS[name]


def kinds() -> Tuple[str, ...]:
    """Every registered kind's name, in registration order."""
    return tuple(_KINDS)


def read(
    kind_name: str,
    text: str,
    *,
    intent: Optional[str] = None,
    confidence: float = 0.0,
    message: Optional[Mapping[str, Any]] = None,
    lexicon: Any = None,
) -> Answer:
    """Read ``text`` as an answer of ``kind_name`` (KeyError for a kind never registered)."""
    reader = _KINDS[kind_name].read
    context = Context(intent, confidence, message or {}, lexicon)
    return Answer(kind_name, text, reader(text, context))


def is_canonical(kind_name: str, value: Any) -> bool:
    """Whether ``value`` is a validated answer of this kind (not raw text); SKIPPED always is."""
    if value == SKIPPED:
        return True
    found = _KINDS.get(kind_name)
    return found is not None and found.canonical(value)
