"""Past framing: an explicit risk phrase about the past is asked about, not blocked.

data/knowledge/risk_past_framing.yml holds the patterns and explains the rule; the risk
assessment (trd/safety/assessment.py) applies it to what the lexicon flags as risk to the
person themselves. No Rasa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Pattern, Tuple

from trd.knowledge._base import KnowledgeError, cached_loader, read_checked
from trd.paths import DATA_DIR

PAST_FRAMING_FILE = DATA_DIR / "knowledge" / "risk_past_framing.yml"

_PATTERNS: Dict[str, Any] = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}
SCHEMA: Dict[str, Any] = {
    "type": "object",
    "required": ["version", "past", "present", "benign_present", "weak_present"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "past": _PATTERNS,
        "present": _PATTERNS,
        "benign_present": _PATTERNS,
        "weak_present": _PATTERNS,
    },
}


@dataclass(frozen=True)
class PastFraming:
    past: Tuple[Pattern[str], ...]
    present: Tuple[Pattern[str], ...]
    benign_present: Tuple[Pattern[str], ...]
    weak_present: Tuple[Pattern[str], ...]

    def about_the_past(self, text: str) -> bool:
        """True when the message speaks of the past and of nothing that could be now."""
        return self._past_and_no_present(text, self.benign_present)

    def past_with_weak_present(self, text: str) -> bool:
        """True when the message speaks of the past and of the present only in weak words
        ("now", "today", "still"...: ``weak_present``): the detector may doubt the lexicon."""
        return self._past_and_no_present(text, (*self.benign_present, *self.weak_present))

    def _past_and_no_present(self, text: str, ignored: Tuple[Pattern[str], ...]) -> bool:
        """A past pattern, and no present pattern once the ``ignored`` phrases are taken out."""
        low = text.lower().replace("\u2019", "'").replace("\u2018", "'")
        if not any(p.search(low) for p in self.past):
            return False
        for p in ignored:
            low = p.sub(" ", low)
        return not any(p.search(low) for p in self.present)


def _build(path: Path) -> PastFraming:
    data = read_checked(path, SCHEMA)

    def compiled(key: str) -> Tuple[Pattern[str], ...]:
        out = []
        for i, pattern in enumerate(data[key]):
            try:
                out.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                raise KnowledgeError(f"{path}: {key}[{i}]: {exc}") from exc
        return tuple(out)

    return PastFraming(
        past=compiled("past"), present=compiled("present"), benign_present=compiled("benign_present"),
        weak_present=compiled("weak_present"),
    )


_load = cached_loader(_build)


def load_past_framing(path: Path = PAST_FRAMING_FILE) -> PastFraming:
    result: PastFraming = _load(path)
    return result
