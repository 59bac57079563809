"""trd/summary/wording.yml: the summaries' wording, read and checked by its one loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

from trd.knowledge._base import cached_loader, read_checked
from trd.paths import REPO_ROOT

WORDING_FILE = REPO_ROOT / "trd" / "summary" / "wording.yml"

REQUIRED_SECTIONS: Tuple[str, ...] = (
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

# what `not data.get(name)` refused
_PRESENT: Dict[str, Any] = {"not": {"enum": [None, "", 0, False, {}, []]}}

SCHEMA: Dict[str, Any] = {
    "type": "object",
    "required": list(REQUIRED_SECTIONS),
    "properties": {
        **{name: _PRESENT for name in REQUIRED_SECTIONS},
        "prescriptive_phrases": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "pattern": r"\S"},
        },
    },
}


def _build(path: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = read_checked(path, SCHEMA)
    return data


_load = cached_loader(_build)


def load_wording(path: Path = WORDING_FILE) -> Mapping[str, Any]:
    """The checked wording, read once per process (again if the file changes; do not mutate).

    Raises KnowledgeError naming the file and the section."""
    return _load(Path(path))
