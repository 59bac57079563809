"""The summaries' wording (trd/summary/wording.yml), read and checked once per process."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any, Dict, List, Mapping

from trd.knowledge import KnowledgeError
from trd.knowledge import wording as _knowledge
from trd.knowledge.wording import REQUIRED_SECTIONS, WORDING_FILE  # noqa: F401  (re-exported)


class WordingError(ValueError):
    """wording.yml is missing or malformed."""


def load_wording(path: Path = WORDING_FILE) -> Dict[str, Any]:
    """The wording (a fresh copy), read and checked by trd.knowledge.wording."""
    try:
        return copy.deepcopy(dict(_knowledge.load_wording(path)))
    except KnowledgeError as exc:
        raise WordingError(str(exc)) from exc


@functools.lru_cache(maxsize=1)
def default_wording() -> Dict[str, Any]:
    """The project's wording (do not mutate)."""
    return load_wording()


def label(table: Mapping[str, Any], key: Any, fallback: str = "not known") -> str:
    """``table[key]``, or the key in plain words (underscores as spaces), or ``fallback`` for None."""
    if key is None or key == "":
        return fallback
    value = table.get(str(key))
    if isinstance(value, str):
        return value
    return str(key).replace("_", " ")


def prescriptive_phrases(wording: Mapping[str, Any] | None = None) -> List[str]:
    """The phrases no summary may contain (lowercase)."""
    words = wording if wording is not None else default_wording()
    return [str(p).lower() for p in words["prescriptive_phrases"]]
