"""data/knowledge/risk_lexicon.yml: the risk engine's words and rules, read and checked once.

This loader reads the file (strict YAML: a name given twice is refused) and checks its
shape against the schema below; :func:`trd.safety.risk.load_lexicon` compiles the result
into the typed ``Lexicon`` (macros expanded, regular expressions compiled, categories
checked against the safety contract), with messages that name the rule.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict, Tuple

from trd.knowledge._base import cached_loader, read_checked
from trd.paths import KNOWLEDGE_DIR
from trd.safety.contract import LEXICON_CATEGORIES

RISK_LEXICON_FILE = KNOWLEDGE_DIR / "risk_lexicon.yml"
LOOKALIKE_KINDS: Tuple[str, ...] = ("idioms", "treatment_words", "negated_history", "news", "grief")

_TEXT = {"type": "string"}
_TEXTS = {"type": "array", "items": _TEXT}
_PATTERNS = {"anyOf": [_TEXT, _TEXTS, {"type": "null"}]}
_WORDS = {"anyOf": [_TEXT, {"type": "array"}, {"type": "null"}]}  # non-strings: risk.py says "quote it"
_RULE = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": r"^[A-Za-z0-9_]+$"},
        "match": _TEXT,
        "requires": _TEXT,
        "unless": _TEXT,
        "subject": {"enum": ["any", "third"]},
        "negatable": {"type": "boolean"},
        "mention": {"type": "boolean"},
        "examples": _TEXTS,
        "not_examples": _TEXTS,
    },
    "additionalProperties": False,
}
_SECTION = {
    "type": ["object", "null"],
    "properties": {"rules": {"type": ["array", "null"], "items": _RULE}},
    "additionalProperties": False,
}

# The shape of the file. Which sections must be there is build_lexicon's check ("missing
# section ..."), so a lexicon given as data and one read from a file fail the same way.
SCHEMA: Dict[str, Any] = {
    "type": "object",
    "properties": {
        "version": {"type": ["integer", "string"]},
        "drug_names": {
            "type": "object",
            "properties": {"macro": _TEXT, "file": _TEXT, "extra": _TEXTS},
            "additionalProperties": False,
        },
        "sms": {"type": "object", "additionalProperties": _TEXT},
        "macros": {"type": ["object", "null"], "additionalProperties": {"anyOf": [_TEXT, _TEXTS]}},
        "risk": {
            "type": ["object", "null"],
            "propertyNames": {"enum": list(LEXICON_CATEGORIES)},
            "additionalProperties": _SECTION,
        },
        "lookalikes": {
            "type": ["object", "null"],
            "propertyNames": {"enum": list(LOOKALIKE_KINDS)},
            "additionalProperties": _SECTION,
        },
        "negation": {
            "type": ["object", "null"],
            "properties": {
                "negators": _WORDS,
                "scope_words": _WORDS,
                "scope_breakers": _WORDS,
                "history": _PATTERNS,
                "hedges": _PATTERNS,
                "soft_cues": _PATTERNS,
                "retraction": _PATTERNS,
                "reported_speech": _PATTERNS,
                "safe_affirmation": _PATTERNS,
                "answers": _PATTERNS,
                "question_cues": _PATTERNS,
                "third_party_safe": _PATTERNS,
                "after_history": _PATTERNS,
                "third_party_reassured": _PATTERNS,
                "third_party_present": _PATTERNS,
                "third_party_protective": _PATTERNS,
            },
            "additionalProperties": False,
        },
        "subjects": {
            "type": ["object", "null"],
            "properties": {
                "first_person": _WORDS,
                "third_person": _WORDS,
                "relation_nouns": _WORDS,
                "third_party_applies_to": _TEXTS,
                "own_state": _PATTERNS,
            },
            "additionalProperties": False,
        },
        "danger_now_past": _PATTERNS,
        "explains": _PATTERNS,
    },
    "additionalProperties": False,
}

_read = cached_loader(lambda path: read_checked(path, SCHEMA))


def read_risk_lexicon(path: Path = RISK_LEXICON_FILE) -> Dict[str, Any]:
    """The checked file as data (a copy), for ``trd.safety.risk.build_lexicon``. Raises KnowledgeError."""
    return copy.deepcopy(_read(Path(path)))
