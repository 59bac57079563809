"""Server-rendered pages with an inline stylesheet allowed by its hash (the clinician's summary,
the personal check-in page): one Jinja2 environment per templates folder (autoescaped, strict),
the stylesheet read once, and its Content-Security-Policy source."""

from __future__ import annotations

import base64
import functools
import hashlib
from pathlib import Path

import jinja2


@functools.cache
def environment(templates_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@functools.cache
def stylesheet(path: Path) -> str:
    """The stylesheet to inline; it may not close the ``<style>`` element it goes into."""
    css = path.read_text(encoding="utf-8")
    if "</" in css:
        raise ValueError(f"{path.name} may not contain '</'")
    return css


@functools.cache
def style_csp_source(path: Path) -> str:
    """The CSP source (``'sha256-...'``) that allows this inline stylesheet and nothing else."""
    digest = hashlib.sha256(stylesheet(path).encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"
