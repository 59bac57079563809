"""The crisis resources, read from data/knowledge/crisis_resources.yml (the one place they live).

The summaries never spell out a crisis number: their wording has placeholders such as
``{lifeline_number}`` and ``{emergency_number}``, filled in here from the data file's
``resources`` and ``snippets`` (the same names and rules as
``scripts/gen_crisis_responses.py``, which renders the domain's crisis responses).
"""

from __future__ import annotations

import functools
import string
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import yaml

ROOT = Path(__file__).resolve().parents[2]
CRISIS_RESOURCES_FILE = ROOT / "data" / "knowledge" / "crisis_resources.yml"


class ResourcesError(ValueError):
    """The crisis resources file, or a template that uses it, cannot be used."""


def _placeholders(template: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ResourcesError(f"malformed template {template!r}: {exc}") from exc


def fill(template: str, values: Mapping[str, str], where: str = "template") -> str:
    """``template`` with every ``{name}`` filled in; unknown names are an error, never left blank."""
    if not isinstance(template, str):
        raise ResourcesError(f"{where}: expected text, got {type(template).__name__}")
    for name in _placeholders(template):
        if not name or name not in values:
            raise ResourcesError(f"{where}: unknown placeholder {{{name}}}")
    return template.format_map(dict(values))


def load_resources(path: Path = CRISIS_RESOURCES_FILE) -> Dict[str, str]:
    """Every resource (``lifeline_number``...) and snippet (``danger_line``...), as text."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ResourcesError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("resources"), dict) or not data["resources"]:
        raise ResourcesError(f"{path}: 'resources' must be a non-empty mapping")
    values: Dict[str, str] = {}
    for key, value in data["resources"].items():
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            raise ResourcesError(f"{path}: resources.{key} must be non-empty text")
        values[str(key)] = str(value)
    snippets = data.get("snippets") or {}
    if not isinstance(snippets, dict):
        raise ResourcesError(f"{path}: 'snippets' must be a mapping")
    for key, template in snippets.items():
        values[str(key)] = fill(template, dict(values), f"snippets.{key}")
    return values


@functools.lru_cache(maxsize=1)
def default_resources() -> Dict[str, str]:
    """:func:`load_resources` of the project's file, read once per process (do not mutate)."""
    return load_resources()


def resources(values: Optional[Mapping[str, str]] = None) -> Mapping[str, str]:
    return values if values is not None else default_resources()
