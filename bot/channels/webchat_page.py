"""The web chat page's own texts, from data/knowledge/crisis_resources.yml, and the page built with them.

The page (bot/web/index.html) is a template: ``{{ name }}`` markers are replaced
when the channel starts, so the header's crisis line, the no-JavaScript notice and
the texts the page's script shows when the server cannot be reached all come from
the crisis resources file (its ``web_page`` section). The script reads its texts
from a ``<script type="application/json" id="page-texts">`` block: not executed,
so the page's Content-Security-Policy (script-src 'self') stays strict.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict

from bot.channels.webchat_text import LinkRules, linkify
from trd.knowledge import KnowledgeError
from trd.knowledge.crisis_resources import load_crisis_resources
from trd.summary.resources import CRISIS_RESOURCES_FILE, ResourcesError, fill, load_resources

SECTION = "web_page"
# The texts of the data file's web_page section (all required).
TEXT_NAMES = (
    "header",
    "no_javascript",
    "offline",
    "not_loaded",
    "server_error",
    "too_many_messages",
    "too_many_sessions",
)
# The markers index.html must have, each exactly once.
PAGE_MARKERS = ("emergency_note", "no_javascript", "page_texts")
_MARKER = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")


class WebTextsError(ValueError):
    """The crisis resources file or the page template cannot make the chat page."""


@dataclass(frozen=True)
class WebTexts:
    """The page's own texts, filled in from the crisis resources (plain text; see :meth:`html`)."""

    header: str
    no_javascript: str
    offline: str
    not_loaded: str
    server_error: str
    too_many_messages: str
    too_many_sessions: str
    link_rules: LinkRules

    def html(self, text: str) -> str:
        """``text`` escaped, with its crisis numbers and web addresses as links."""
        return linkify(text, self.link_rules)

    def page_texts(self) -> Dict[str, Dict[str, str]]:
        """What the page's script needs before (or without) any answer from the server."""
        return {
            "offline": {"text": self.offline, "html": self.html(self.offline)},
            "notLoaded": {"text": self.not_loaded, "html": self.html(self.not_loaded)},
        }


def load_web_texts(path: Path = CRISIS_RESOURCES_FILE) -> WebTexts:
    """The page's texts from the crisis resources file; raises WebTextsError naming what is wrong."""
    try:
        values = load_resources(path)
        section = load_crisis_resources(path).web_page
    except (OSError, KnowledgeError, ResourcesError) as exc:
        raise WebTextsError(f"cannot read the crisis resources {path}: {exc}") from exc
    if not isinstance(section, dict):
        raise WebTextsError(f"{path}: the '{SECTION}' section (the chat page's texts) is missing")
    texts: Dict[str, str] = {}
    for name in TEXT_NAMES:
        template = section.get(name)
        if not isinstance(template, str) or not template.strip():
            raise WebTextsError(f"{path}: {SECTION}.{name} is missing or empty")
        try:
            text = " ".join(fill(template, values, f"{SECTION}.{name}").split())
        except ResourcesError as exc:
            raise WebTextsError(f"{path}: {exc}") from exc
        if "{" in text or "}" in text:
            raise WebTextsError(f"{path}: {SECTION}.{name} has braces left after filling it in")
        texts[name] = text
    try:
        rules = LinkRules.from_resources(values)
    except ValueError as exc:
        raise WebTextsError(f"{path}: {exc}") from exc
    return WebTexts(link_rules=rules, **texts)


def json_for_html(value: Any) -> str:
    """JSON that is safe inside a <script type="application/json"> element.

    ``<``, ``>`` and ``&`` are written as \\u escapes, so no text can close the
    element ("</script>") or open a comment.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(template: str, texts: WebTexts) -> str:
    """index.html with its ``{{ markers }}`` filled in (HTML fragments, already escaped).

    Raises WebTextsError for an unknown marker, or when one of PAGE_MARKERS is missing
    or repeated: the page must always show the crisis line.
    """
    fragments: Dict[str, str] = {
        "emergency_note": texts.html(texts.header),
        "no_javascript": texts.html(texts.no_javascript),
        "page_texts": json_for_html(texts.page_texts()),
    }
    found = [m.group(1) for m in _MARKER.finditer(template)]
    unknown = sorted(set(found) - set(fragments))
    if unknown:
        raise WebTextsError(f"the chat page has unknown markers: {', '.join(unknown)}")
    for name in PAGE_MARKERS:
        if found.count(name) != 1:
            raise WebTextsError(f"the chat page must have the marker {{{{ {name} }}}} exactly once")
    return _MARKER.sub(lambda m: fragments[m.group(1)], template)
