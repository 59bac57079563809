"""Where the project's files are: the repository root and its data folders, computed once.

Every module that reads a file of the repository (data/knowledge/*.yml, domain.yml...)
starts from these, instead of counting ``Path(__file__).parents`` itself.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
DATA_DIR: Path = REPO_ROOT / "data"
KNOWLEDGE_DIR: Path = DATA_DIR / "knowledge"
DOMAIN_FILE: Path = REPO_ROOT / "domain.yml"
