"""Read the knowledge files (drugs.yml, treatments.yml, navigator_wording.yml, interactions.yml,
intake.schema.json) from disk.

The only module of the navigator that does I/O. The CLI and the action server call
`load_knowledge()` (or the cached `default_knowledge()`) once and pass the result to the rules.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

import yaml

from trd.paths import KNOWLEDGE_DIR, REPO_ROOT  # noqa: F401  (REPO_ROOT: part of this module's API)

from .findings import Wording, build_wording
from .interactions import InteractionTable, build_interactions
from .knowledge import Knowledge, build_treatments
from .lexicon import KnowledgeError, Lexicon, build_entry, build_lexicon
from .validation import IntakeValidator

PathLike = Union[str, Path]

PACKAGE_DIR = Path(__file__).resolve().parent
DRUGS_PATH = KNOWLEDGE_DIR / "drugs.yml"
TREATMENTS_PATH = KNOWLEDGE_DIR / "treatments.yml"
WORDING_PATH = KNOWLEDGE_DIR / "navigator_wording.yml"
INTERACTIONS_PATH = KNOWLEDGE_DIR / "interactions.yml"
OTHER_MEDICINES_PATH = KNOWLEDGE_DIR / "other_medicines.yml"
SCHEMA_PATH = PACKAGE_DIR / "intake.schema.json"


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as exc:
        raise KnowledgeError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path} is not valid YAML: {exc}") from exc


def load_schema(path: Optional[PathLike] = None) -> Any:
    target = Path(path) if path is not None else SCHEMA_PATH
    try:
        return json.loads(target.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KnowledgeError(f"cannot read {target}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise KnowledgeError(f"{target} is not valid JSON: {exc}") from exc


def load_lexicon(path: Optional[PathLike] = None) -> Lexicon:
    """The drug lexicon (also used by the NLU drug recogniser)."""
    return build_lexicon(_read_yaml(Path(path) if path is not None else DRUGS_PATH))


_TAKEN_NOW: Dict[int, Tuple[Lexicon, Lexicon]] = {}


def load_taken_now(lexicon: Lexicon, path: Optional[PathLike] = None) -> Lexicon:
    """`lexicon` with the medicines and supplements of other_medicines.yml (painkillers, blood
    pressure and thyroid medicines, supplements...): what a person may take now beside the drug
    lexicon's medicines. Read for the list of everything taken now and its interactions; the NLU's
    drug recogniser reads drugs.yml only."""
    data = _read_yaml(Path(path) if path is not None else OTHER_MEDICINES_PATH)
    if not isinstance(data, dict) or not isinstance(data.get("drugs"), list):
        raise KnowledgeError("other_medicines.yml: expected a mapping with a `drugs` list")
    known = {entry.generic for entry in lexicon.entries}
    extra = [build_entry(item, i) for i, item in enumerate(data["drugs"])]
    return Lexicon(list(lexicon.entries) + [e for e in extra if e.generic not in known])


def taken_now_lexicon(lexicon: Lexicon) -> Lexicon:
    """:func:`load_taken_now` of the repository's file, built once per drug lexicon."""
    cached = _TAKEN_NOW.get(id(lexicon))
    if cached is not None and cached[0] is lexicon:
        return cached[1]
    combined = load_taken_now(lexicon)
    _TAKEN_NOW[id(lexicon)] = (lexicon, combined)
    return combined


def load_wording(path: Optional[PathLike] = None, source_ids: Optional[Any] = None) -> Wording:
    """The navigator's sentences and labels (navigator_wording.yml); source ids checked when given."""
    return build_wording(_read_yaml(Path(path) if path is not None else WORDING_PATH), source_ids)


def load_interactions(path: Optional[PathLike] = None, lexicon: Optional[Lexicon] = None) -> InteractionTable:
    """The interaction table (interactions.yml); with `lexicon`, its drugs' groups are checked too."""
    return build_interactions(_read_yaml(Path(path) if path is not None else INTERACTIONS_PATH), lexicon)


@functools.lru_cache(maxsize=1)
def default_interactions() -> InteractionTable:
    """The repository's interactions.yml, loaded once per process."""
    return load_interactions()


@functools.lru_cache(maxsize=1)
def default_wording() -> Wording:
    """The repository's navigator_wording.yml, loaded once per process."""
    return load_wording()


def load_knowledge(
    drugs_path: Optional[PathLike] = None,
    treatments_path: Optional[PathLike] = None,
    schema_path: Optional[PathLike] = None,
    wording_path: Optional[PathLike] = None,
    interactions_path: Optional[PathLike] = None,
) -> Knowledge:
    """Read and check all the knowledge files; raises KnowledgeError with the file named."""
    lexicon = load_lexicon(drugs_path)
    treatments = build_treatments(_read_yaml(Path(treatments_path) if treatments_path else TREATMENTS_PATH))
    return Knowledge(
        lexicon=lexicon,
        treatments=treatments,
        validator=IntakeValidator(load_schema(schema_path)),
        wording=load_wording(wording_path, tuple(treatments.sources)),
        interactions=load_interactions(interactions_path, lexicon),
    )


@functools.lru_cache(maxsize=1)
def default_knowledge() -> Knowledge:
    """The repository's knowledge files, loaded once per process."""
    return load_knowledge()
