"""Render the crisis messages of data/knowledge/crisis_resources.yml into domain.yml.

The crisis resources (numbers, text codes, web addresses) live in one data file. This
script expands its message templates and writes them as domain responses between the
marker lines ``# BEGIN generated crisis responses`` and ``# END generated crisis
responses`` of domain.yml, so that the crisis path needs nothing but the Rasa server
(no action server, database or webhook) to reach a person.

Each message becomes a response with a default variant and a ``channel: twilio``
variant (SMS, which leads with the text options).

Usage:
    .venv/bin/python scripts/gen_crisis_responses.py           # rewrite the region
    .venv/bin/python scripts/gen_crisis_responses.py --check   # exit 1 if out of date
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, too
from scripts.domain_region import DomainRegion  # noqa: E402
from trd.knowledge import KnowledgeError  # noqa: E402
from trd.knowledge.crisis_resources import load_crisis_resources  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA_FILE = ROOT / "data" / "knowledge" / "crisis_resources.yml"
DOMAIN_FILE = ROOT / "domain.yml"

BEGIN_MARKER = "# BEGIN generated crisis responses"
END_MARKER = "# END generated crisis responses"
SMS_CHANNEL = "twilio"
SMS_MAX_CHARS = 600

# The Lifeline's former third menu option was discontinued: never list it.
_DISCONTINUED = re.compile(r"press\s*3\b", re.IGNORECASE)
_PAYLOAD = re.compile(r"^/[a-z][a-z_]*$")


class CrisisDataError(ValueError):
    """The crisis resources file or domain.yml cannot be used as they are."""


REGION = DomainRegion(BEGIN_MARKER, END_MARKER, CrisisDataError)


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class CrisisMessage:
    """One rendered response: the default (web) text, the SMS text and optional buttons."""

    name: str
    text: str
    sms: str
    buttons: Tuple[Button, ...] = ()
    third_party: Optional[Tuple[str, str]] = None  # (text, sms) when risk_category is third_party


def load_data(path: Path = DATA_FILE) -> Dict[str, Any]:
    try:  # the one loader of the file (schema-checked, a duplicate name refused)
        return load_crisis_resources(path).document()
    except KnowledgeError as exc:
        raise CrisisDataError(str(exc)) from exc


def _placeholders(template: str) -> List[str]:
    try:
        return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as exc:
        raise CrisisDataError(f"malformed template {template!r}: {exc}") from exc


def expand(template: str, values: Mapping[str, str], where: str) -> str:
    """Fill every ``{name}`` of a template; unknown names and stray braces are errors."""
    if not isinstance(template, str):
        raise CrisisDataError(f"{where}: expected text, got {type(template).__name__}")
    for name in _placeholders(template):
        if name not in values:
            raise CrisisDataError(f"{where}: unknown placeholder {{{name}}}")
    out = template.format_map(dict(values))
    if "{" in out or "}" in out:
        raise CrisisDataError(f"{where}: braces left after expansion (Rasa would read them as slots)")
    return out


def _values(data: Mapping[str, Any]) -> Dict[str, str]:
    values: Dict[str, str] = {}
    for key, value in data["resources"].items():
        if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value).strip() == "":
            raise CrisisDataError(f"resources.{key}: expected a non-empty string")
        values[str(key)] = str(value)
    for key, template in (data.get("snippets") or {}).items():
        if key in values:
            raise CrisisDataError(f"snippets.{key}: name already used by a resource")
        values[str(key)] = expand(template, {k: v for k, v in values.items()}, f"snippets.{key}")
    return values


def _clean(text: str, where: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    if not any(lines):
        raise CrisisDataError(f"{where}: empty message")
    for line in lines:
        if line != line.lstrip():
            raise CrisisDataError(f"{where}: lines may not start with spaces")
        if "\t" in line:
            raise CrisisDataError(f"{where}: tabs are not allowed")
    out = "\n".join(lines)
    if _DISCONTINUED.search(out):
        raise CrisisDataError(f"{where}: lists the Lifeline's discontinued third menu option")
    return out


def _buttons(raw: Any, where: str) -> Tuple[Button, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise CrisisDataError(f"{where}: buttons must be a non-empty list")
    out = []
    for i, b in enumerate(raw):
        if not isinstance(b, dict) or not isinstance(b.get("title"), str) or not b["title"].strip():
            raise CrisisDataError(f"{where}.buttons[{i}]: needs a title")
        payload = b.get("payload")
        if not isinstance(payload, str) or not _PAYLOAD.match(payload):
            raise CrisisDataError(f"{where}.buttons[{i}]: payload must look like /intent_name")
        out.append(Button(b["title"].strip(), payload))
    return tuple(out)


def render_messages(data: Mapping[str, Any]) -> List[CrisisMessage]:
    """Expand and check every message (order as in the data file)."""
    values = _values(data)
    messages = []
    for name, spec in data["messages"].items():
        where = f"messages.{name}"
        if not re.fullmatch(r"utter_[a-z0-9_]+", str(name)):
            raise CrisisDataError(f"{where}: response names start with utter_")
        if not isinstance(spec, dict):
            raise CrisisDataError(f"{where}: expected a mapping with text and sms")
        unknown = set(spec) - {"text", "sms", "buttons", "when_third_party"}
        if unknown:
            raise CrisisDataError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("text", "sms"):
            if key not in spec:
                raise CrisisDataError(f"{where}: missing '{key}'")
        text = _clean(expand(spec["text"], values, f"{where}.text"), f"{where}.text")
        sms = _clean(expand(spec["sms"], values, f"{where}.sms"), f"{where}.sms")
        if len(sms) > SMS_MAX_CHARS:
            raise CrisisDataError(f"{where}.sms: {len(sms)} characters, more than {SMS_MAX_CHARS}")
        third_party: Optional[Tuple[str, str]] = None
        if spec.get("when_third_party") is not None:
            tp, tw = spec["when_third_party"], f"{where}.when_third_party"
            tp_sms = _clean(expand(tp["sms"], values, f"{tw}.sms"), f"{tw}.sms")
            if len(tp_sms) > SMS_MAX_CHARS:
                raise CrisisDataError(f"{tw}.sms: {len(tp_sms)} characters, more than {SMS_MAX_CHARS}")
            third_party = (_clean(expand(tp["text"], values, f"{tw}.text"), f"{tw}.text"), tp_sms)
        messages.append(
            CrisisMessage(str(name), text, sms, _buttons(spec.get("buttons"), where), third_party)
        )
    return messages


def _block(text: str, indent: str) -> List[str]:
    return [f"{indent}{line}" if line else "" for line in text.splitlines()]


def render_region(messages: List[CrisisMessage], indent: str = "  ") -> str:
    """The YAML lines between the markers (the markers themselves excluded)."""
    i1, i2, i3, i4 = indent, indent * 2, indent * 3, indent * 4
    lines = [
        f"{i1}# Generated by scripts/gen_crisis_responses.py from data/knowledge/crisis_resources.yml.",
        f"{i1}# Do not edit by hand: edit the data file and run the script.",
    ]
    for m in messages:
        lines.append(f"{i1}{m.name}:")
        variants: List[Tuple[Optional[str], Optional[str], str]] = []
        if m.third_party is not None:  # conditional variations first: Rasa prefers a matching one
            web, sms = m.third_party
            variants += [("third_party", None, web), ("third_party", SMS_CHANNEL, sms)]
        variants += [(None, None, m.text), (None, SMS_CHANNEL, m.sms)]
        for condition, channel, text in variants:
            first = "- "
            if condition is not None:
                lines.append(f"{i2}- condition:")
                lines.append(f"{i3}  - type: slot")
                lines.append(f"{i3}    name: risk_category")
                lines.append(f"{i3}    value: {condition}")
                first = "  "
            if channel is None:
                lines.append(f"{i2}{first}text: |-")
            else:
                lines.append(f"{i2}{first}channel: {channel}")
                lines.append(f"{i2}  text: |-")
            lines.extend(_block(text, i4))
            if m.buttons:
                lines.append(f"{i2}  buttons:")
                for b in m.buttons:
                    lines.append(f"{i3}  - title: {json.dumps(b.title, ensure_ascii=False)}")
                    lines.append(f"{i3}    payload: {b.payload}")
    return "\n".join(lines) + "\n"


def current_region(domain_text: str) -> str:
    return REGION.current(domain_text)


def replace_region(domain_text: str, messages: List[CrisisMessage]) -> str:
    return REGION.replace(domain_text, lambda indent: render_region(messages, indent=indent))


def expected_domain(domain_path: Path = DOMAIN_FILE, data_path: Path = DATA_FILE) -> Tuple[str, str]:
    """(current domain text, domain text with an up-to-date region)."""
    current = domain_path.read_text(encoding="utf-8")
    return current, replace_region(current, render_messages(load_data(data_path)))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if domain.yml is out of date")
    parser.add_argument("--domain", type=Path, default=DOMAIN_FILE)
    parser.add_argument("--data", type=Path, default=DATA_FILE)
    args = parser.parse_args(argv)
    try:
        current, wanted = expected_domain(args.domain, args.data)
    except CrisisDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if current == wanted:
        print(f"{args.domain.name}: crisis responses are up to date")
        return 0
    if args.check:
        print(
            f"error: {args.domain} is out of date with {args.data}; run scripts/gen_crisis_responses.py",
            file=sys.stderr,
        )
        return 1
    try:
        yaml.safe_load(wanted)
    except yaml.YAMLError as exc:  # never write a domain Rasa cannot read
        print(f"error: the rendered domain is not valid YAML: {exc}", file=sys.stderr)
        return 2
    args.domain.write_text(wanted, encoding="utf-8")
    print(f"{args.domain.name}: crisis responses written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
