"""Reading the reply to the possible-risk question, by data/knowledge/risk_check_answers.yml.

When a message shows possible risk (hopelessness, feeling a burden, wanting to disappear,
risk building over several messages) the safety policy asks directly whether the person
is having thoughts of suicide. This module reads the reply: ``"evasive"`` and ``"yes"``
open the crisis path, ``"no"`` goes back to what we were doing, ``None`` is no answer (the
question is asked once more). The order of the checks is in the data file's header; a
clinician reviews the phrases there, not here. No Rasa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from trd.knowledge._base import cached_loader, read_checked
from trd.paths import DATA_DIR

ANSWERS_FILE = DATA_DIR / "knowledge" / "risk_check_answers.yml"

YES = "yes"
NO = "no"
EVASIVE = "evasive"

_PHRASES: Dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "string", "pattern": r"\w"},
}
SCHEMA: Dict[str, Any] = {
    "type": "object",
    "required": ["version", "evasive", "yes", "no"],
    "additionalProperties": False,
    "properties": {"version": {"const": 1}, "evasive": _PHRASES, "yes": _PHRASES, "no": _PHRASES},
}

_NOT_WORD = re.compile(r"[^\w' ]+")
_SENTENCE_END = re.compile(r"[.!?;\n]+\s")
ANSWER_WORDS = 8
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, curly apostrophes straightened, punctuation dropped, single spaces."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip()


@dataclass(frozen=True)
class AnswerPhrases:
    evasive: Tuple[str, ...]
    yes: Tuple[str, ...]
    no: Tuple[str, ...]

    def read(self, text: str) -> Optional[str]:
        """``"evasive"``, ``"yes"``, ``"no"`` or None (not an answer) for one reply.

        Only the reply's opening is read (its first sentence, at most ANSWER_WORDS words): an
        answer comes first, and a long message about something else that happens to say
        "i guess" or "no one" further on is not an answer (it is asked once more).
        """
        opening = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
        words = " ".join(normalise(opening).split()[:ANSWER_WORDS])
        words = f" {words} "
        if words.strip() == "":
            return None
        if any(f" {p} " in words for p in self.evasive):
            return EVASIVE
        if any(words.startswith(f" {p} ") for p in self.yes):
            return YES
        if any(f" {p} " in words for p in self.no):
            return NO
        return None


def _build(path: Path) -> AnswerPhrases:
    data = read_checked(path, SCHEMA)

    def phrases(key: str) -> Tuple[str, ...]:
        return tuple(dict.fromkeys(normalise(str(p)) for p in data[key]))

    return AnswerPhrases(evasive=phrases("evasive"), yes=phrases("yes"), no=phrases("no"))


_load = cached_loader(_build)


def load_answer_phrases(path: Path = ANSWERS_FILE) -> AnswerPhrases:
    """The phrases, checked (a KnowledgeError names the file and the place) and cached."""
    result: AnswerPhrases = _load(path)
    return result
