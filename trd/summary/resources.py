"""The crisis resources of data/knowledge/crisis_resources.yml (the one place they live), as text.

The summaries never spell out a crisis number: their wording has placeholders such as
``{lifeline_number}`` and ``{emergency_number}``, filled in here from the data file's
``resources`` and ``snippets`` (the file is read and checked by its one loader,
:mod:`trd.knowledge.crisis_resources`, as for ``scripts/gen_crisis_responses.py``).
"""

from __future__ import annotations

import functools
import string
from pathlib import Path
from typing import Dict, Mapping, Optional

from trd.knowledge import KnowledgeError
from trd.knowledge.crisis_resources import CRISIS_RESOURCES_FILE, load_crisis_resources
from trd.paths import REPO_ROOT

ROOT = REPO_ROOT


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
        data = load_crisis_resources(path)
    except KnowledgeError as exc:
        raise ResourcesError(str(exc)) from exc
    values: Dict[str, str] = dict(data.resources)
    for key, template in data.snippets.items():
        values[key] = fill(template, dict(values), f"snippets.{key}")
    return values


@functools.lru_cache(maxsize=1)
def default_resources() -> Dict[str, str]:
    """:func:`load_resources` of the project's file, read once per process (do not mutate)."""
    return load_resources()


def resources(values: Optional[Mapping[str, str]] = None) -> Mapping[str, str]:
    return values if values is not None else default_resources()
