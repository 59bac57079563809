"""data/knowledge/intake_questions.yml: the intake's wording, read and checked once.

This loader reads the file (strict YAML: a name given twice is refused) and checks its
sections against the schema below; :func:`trd.intake.questions.build_questions` turns the
result into the typed ``IntakeQuestions`` (parts, questions, answer sets, glossary) and
checks how they refer to each other.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict

from trd.knowledge._base import NON_EMPTY_TEXT, cached_loader, read_checked
from trd.paths import KNOWLEDGE_DIR

INTAKE_QUESTIONS_FILE = KNOWLEDGE_DIR / "intake_questions.yml"

_OBJECT = {"type": "object"}
SCHEMA: Dict[str, Any] = {
    "type": "object",
    "required": ["sources", "answer_sets", "sms", "parts", "questions", "messages", "buttons", "glossary"],
    "properties": {
        "version": {"type": ["integer", "string"]},
        "sources": {"type": "object", "minProperties": 1, "additionalProperties": NON_EMPTY_TEXT},
        "answer_sets": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "array", "minItems": 1, "items": NON_EMPTY_TEXT},
        },
        "sms": {
            "type": "object",
            "required": ["channel", "phq9_legend"],
            "additionalProperties": NON_EMPTY_TEXT,
        },
        "parts": {"type": "array", "minItems": 1, "items": _OBJECT},
        "other_forms": {"type": "object", "additionalProperties": NON_EMPTY_TEXT},
        "questions": {"type": "object", "minProperties": 1, "additionalProperties": _OBJECT},
        "messages": _OBJECT,
        "buttons": _OBJECT,
        "glossary": {"type": "array", "items": _OBJECT},
    },
    "additionalProperties": False,
}

_read = cached_loader(lambda path: read_checked(path, SCHEMA))


def read_intake_questions(path: Path = INTAKE_QUESTIONS_FILE) -> Dict[str, Any]:
    """The checked file as data (a copy), for ``build_questions``. Raises KnowledgeError."""
    return copy.deepcopy(_read(Path(path)))
