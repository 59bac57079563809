"""data/knowledge/treatment_info.yml and treatment_info_phrasings.yml: read once, strictly.

``scripts/gen_treatment_info.py`` (``load_knowledge``, ``load_phrasings``) turns the two
files into its typed ``Knowledge`` and checks every entry with messages its tests pin;
this module is where the files are read: strict YAML (a name given twice in a mapping is
refused, where PyYAML would keep the last silently), cached per file until it changes,
handed out as a fresh copy the caller may change.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from trd.knowledge._base import cached_loader, read_yaml
from trd.paths import KNOWLEDGE_DIR

TREATMENT_INFO_FILE = KNOWLEDGE_DIR / "treatment_info.yml"
PHRASINGS_FILE = KNOWLEDGE_DIR / "treatment_info_phrasings.yml"

_read = cached_loader(read_yaml)


def read_treatment_file(path: Path) -> Any:
    """The parsed file (a copy). Raises KnowledgeError if it cannot be read or repeats a name."""
    return copy.deepcopy(_read(Path(path)))
