"""The summaries' wording (trd/summary/wording.yml), read and checked once per process."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict, List, Mapping

import yaml

WORDING_FILE = Path(__file__).resolve().parent / "wording.yml"

REQUIRED_SECTIONS = (
    "chat",
    "layer_short",
    "question_priority",
    "question_why",
    "general_questions",
    "clinician",
    "status",
    "flags",
    "adequacy",
    "adherence",
    "outcome",
    "role",
    "drug_class",
    "screens",
    "screen_results",
    "caution_status",
    "crisis_categories",
    "prescriptive_phrases",
    "pages",
)


class WordingError(ValueError):
    """wording.yml is missing or malformed."""


def load_wording(path: Path = WORDING_FILE) -> Dict[str, Any]:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise WordingError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise WordingError(f"{path}: expected a mapping")
    missing = [name for name in REQUIRED_SECTIONS if not data.get(name)]
    if missing:
        raise WordingError(f"{path}: missing sections {missing}")
    return data


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
