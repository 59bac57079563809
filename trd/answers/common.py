"""What every answer reader shares: the skip phrases, the skipped marker, normalising text.

Rasa-free: the forms (``actions/forms``) and the answer readers (:mod:`trd.intake.answers`)
both use these.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, FrozenSet

# Whole answers that mean "skip this one" (compared after normalise_answer()).
SKIP_PHRASES: FrozenSet[str] = frozenset(
    {
        "skip",
        "skip it",
        "skip this",
        "skip this one",
        "skip that",
        "skip for now",
        "pass",
        "next",
        "next question",
        "not sure",
        "im not sure",
        "i am not sure",
        "unsure",
        "dont know",
        "i dont know",
        "i do not know",
        "do not know",
        "idk",
        "dunno",
        "no idea",
        "i have no idea",
        "cant remember",
        "i cant remember",
        "dont remember",
        "i dont remember",
        "na",
        "n a",
        "rather not say",
        "id rather not say",
        "prefer not to say",
        "id rather not answer",
        "i dont want to answer",
        "later",
        "maybe later",
    }
)

SKIPPED = "__skipped__"
MAX_TEXT_CHARS = 2000
_PAYLOAD = re.compile(r"^/\w+")


def normalise_answer(text: str) -> str:
    """Lower case, curly quotes straightened, apostrophes dropped, punctuation to spaces."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    text = text.replace("'", "")
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def is_skip(value: Any) -> bool:
    return isinstance(value, str) and normalise_answer(value) in SKIP_PHRASES
