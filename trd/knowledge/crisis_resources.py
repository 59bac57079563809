"""data/knowledge/crisis_resources.yml: the crisis numbers and the crisis messages built from them.

The one loader of the file. Its readers (the summaries' placeholders in
:mod:`trd.summary.resources`, the domain generator ``scripts/gen_crisis_responses.py``,
the web chat page and the SMS channel) all take it from here, so they agree on what a
valid file is: the schema below, and no name given twice (not twice in one mapping, and
no snippet named like a resource).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

from trd.knowledge._base import NON_EMPTY_TEXT, KnowledgeError, cached_loader, read_checked
from trd.paths import KNOWLEDGE_DIR

CRISIS_RESOURCES_FILE = KNOWLEDGE_DIR / "crisis_resources.yml"

_BUTTON = {
    "type": "object",
    "required": ["title", "payload"],
    "properties": {"title": NON_EMPTY_TEXT, "payload": {"type": "string", "pattern": r"^/[a-z][a-z_]*$"}},
    "additionalProperties": False,
}
_BUTTONS = {"type": "array", "minItems": 1, "items": _BUTTON}

SCHEMA: Dict[str, Any] = {
    "type": "object",
    "required": ["resources", "messages"],
    "properties": {
        "version": {"type": ["integer", "string"]},
        "country": NON_EMPTY_TEXT,
        "resources": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"anyOf": [NON_EMPTY_TEXT, {"type": "integer"}]},
        },
        "snippets": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "check_buttons": _BUTTONS,
        "messages": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": r"^utter_[a-z0-9_]+$"},
            "additionalProperties": {
                "type": "object",
                "required": ["text", "sms"],
                "properties": {
                    "text": {"type": "string"},
                    "sms": {"type": "string"},
                    "buttons": _BUTTONS,
                    # the wording when the crisis was worry about someone else (risk_category third_party)
                    "when_third_party": {
                        "type": "object",
                        "required": ["text", "sms"],
                        "properties": {"text": {"type": "string"}, "sms": {"type": "string"}},
                        "additionalProperties": False,
                    },
                },
                "additionalProperties": False,
            },
        },
        "web_page": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
    },
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class MessageTemplate:
    """One crisis response before its placeholders are filled: web (default) text, SMS text, buttons."""

    text: str
    sms: str
    buttons: Tuple[Button, ...] = ()


@dataclass(frozen=True)
class CrisisResources:
    path: Path
    version: str
    country: str
    resources: Mapping[str, str]  # lifeline_number -> "988"... (numbers as text)
    snippets: Mapping[str, str]  # templates over the resources, in file order
    messages: Mapping[str, MessageTemplate]  # utter_crisis -> its templates, in file order
    web_page: Optional[Mapping[str, Any]]  # the chat page's own templates (None: no such section)
    _document: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def document(self) -> Dict[str, Any]:
        """The checked file as plain data (a fresh copy each time: the caller may change it)."""
        return copy.deepcopy(dict(self._document))


def _build(path: Path) -> CrisisResources:
    data = read_checked(path, SCHEMA)
    resources = {str(k): str(v) for k, v in data["resources"].items()}
    snippets = {str(k): str(v) for k, v in (data.get("snippets") or {}).items()}
    clash = sorted(set(snippets) & set(resources))
    if clash:
        raise KnowledgeError(f"{path}: snippets.{clash[0]}: name already used by a resource")
    messages = {
        str(name): MessageTemplate(
            text=spec["text"],
            sms=spec["sms"],
            buttons=tuple(Button(b["title"].strip(), b["payload"]) for b in spec.get("buttons") or ()),
        )
        for name, spec in data["messages"].items()
    }
    return CrisisResources(
        path=path,
        version=str(data.get("version", "")),
        country=str(data.get("country", "")),
        resources=resources,
        snippets=snippets,
        messages=messages,
        web_page=data.get("web_page"),
        _document=data,
    )


_load = cached_loader(_build)


def load_crisis_resources(path: Path = CRISIS_RESOURCES_FILE) -> CrisisResources:
    """The checked file, read once per process (again if it changes). Raises KnowledgeError."""
    return _load(Path(path))
