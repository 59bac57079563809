"""Plain answers: whole replies to a question that the risk detector does not read alone.

data/knowledge/plain_answers.yml lists them and explains why ("I don't know", "nothing
else": on so few words the detector read hopelessness). The risk assessment
(trd/safety/assessment.py) reads the lexicon first; only the detector's own reading of such
a reply is set aside. No Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet

from trd.knowledge._base import cached_loader, read_checked
from trd.paths import DATA_DIR
from trd.safety.risk_check import normalise

PLAIN_ANSWERS_FILE = DATA_DIR / "knowledge" / "plain_answers.yml"

SCHEMA: Dict[str, Any] = {
    "type": "object",
    "required": ["version", "answers"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "answers": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
    },
}

def plain(text: str) -> str:
    """As the risk-check answers are read (trd.safety.risk_check.normalise), without quotes
    around the reply ("'no'")."""
    return normalise(text).strip("' ")


@dataclass(frozen=True)
class PlainAnswers:
    answers: FrozenSet[str]

    def is_plain_answer(self, text: str) -> bool:
        return len(text) <= 60 and plain(text) in self.answers


def _build(path: Path) -> PlainAnswers:
    data = read_checked(path, SCHEMA)
    return PlainAnswers(answers=frozenset(plain(a) for a in data["answers"]))


_load = cached_loader(_build)


def load_plain_answers(path: Path = PLAIN_ANSWERS_FILE) -> PlainAnswers:
    result: PlainAnswers = _load(path)
    return result
