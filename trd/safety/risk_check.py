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
    "required": ["version", "evasive", "yes", "no", "suggestions"],
    "additionalProperties": False,
    "properties": {"version": {"const": 1}, "evasive": _PHRASES, "yes": _PHRASES, "no": _PHRASES,
                   "suggestions": _PHRASES},
}

_NOT_WORD = re.compile(r"[^\w' ]+")
_SENTENCE_END = re.compile(r"[.!?;\n]+\s")
ANSWER_WORDS = 8
# An unsure phrase is an answer only when it opens the reply or the reply is short: "kind of",
# "idk, sometimes", "honestly i don't know" are evasive answers; "I guess I'm hyper aware
# because of my own history" or "my legs feel a bit heavy on the new dose" are the person
# going on with what they were saying (no answer: the question is asked once more).
EVASIVE_REACH = 2  # the phrase starts within the reply's first two words ...
SHORT_REPLY = 6  # ... or the reply's opening has at most this many words
# A reply of more words than this that only opens unsure, and shows no risk itself, is the
# person going on with what they were saying (bot/policies/safety_policy.py)
LONG_REPLY = 12
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
    suggestions: Tuple[str, ...] = ()

    def read(self, text: str, flagged: bool = False) -> Optional[str]:
        """``"evasive"``, ``"yes"``, ``"no"`` or None (not an answer) for one reply.

        Only the reply's opening is read (its first sentence, at most ANSWER_WORDS words): an
        answer comes first, and a long message about something else that happens to say
        "i guess" or "no one" further on is not an answer (it is asked once more). An unsure
        phrase counts only at the start of the reply or in a short reply (EVASIVE_REACH,
        SHORT_REPLY).
        """
        opening = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
        all_words = normalise(opening).split()
        words = " ".join(all_words[:ANSWER_WORDS])
        words = f" {words} "
        if words.strip() == "":
            return None
        short = len(all_words) <= SHORT_REPLY
        # "maybe I should get out more": a reply that opens with a suggestion is not unsure,
        # unless the reply itself reads as risk (``flagged``: "maybe I should just disappear")
        suggestion = not flagged and any(words.startswith(f" {p} ") for p in self.suggestions)
        for phrase in () if suggestion else self.evasive:
            at = words.find(f" {phrase} ")
            if at >= 0 and (short or words[:at].count(" ") < EVASIVE_REACH):
                return EVASIVE
        # a plain yes may go on ("yeah, all the time"); "i have", "i am", "i do" are a yes only
        # as a short reply ("I have two dogs and a veg patch" is not an answer)
        if any(words.startswith(f" {p} ") and (short or " " not in p) for p in self.yes):
            return YES
        if any(f" {p} " in words for p in self.no):
            return NO
        return None


def is_long_reply(text: str) -> bool:
    """More than LONG_REPLY words in all."""
    return len(normalise(text).split()) > LONG_REPLY


def _build(path: Path) -> AnswerPhrases:
    data = read_checked(path, SCHEMA)

    def phrases(key: str) -> Tuple[str, ...]:
        return tuple(dict.fromkeys(normalise(str(p)) for p in data[key]))

    return AnswerPhrases(evasive=phrases("evasive"), yes=phrases("yes"), no=phrases("no"),
                         suggestions=phrases("suggestions"))


_load = cached_loader(_build)


def load_answer_phrases(path: Path = ANSWERS_FILE) -> AnswerPhrases:
    """The phrases, checked (a KnowledgeError names the file and the place) and cached."""
    result: AnswerPhrases = _load(path)
    return result
