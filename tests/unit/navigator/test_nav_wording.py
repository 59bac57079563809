"""The navigator's words live in data/knowledge/navigator_wording.yml, not in its rules.

- every finding code the rules use has wording, and every wording key is used by the rules;
- no sentence-like string literal (six words or more) is left in the rules modules;
- every sentence's sources are known ids, and the rendered result cites them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Set

import pytest

from trd.navigator import Knowledge, KnowledgeError, navigate
from trd.navigator.findings import Finding, Renderer, build_wording
from trd.navigator.loader import WORDING_PATH, _read_yaml, default_wording
from trd.navigator.screens import SCREEN_FLAGS

PACKAGE = Path(__file__).resolve().parents[3] / "trd" / "navigator"
# The modules that decide what applies; findings.py (the renderer) and the loaders are not rules.
RULE_MODULES = sorted(
    [
        PACKAGE / name
        for name in (
            "rules.py",
            "trials.py",
            "screens.py",
            "urgency.py",
            "cautions.py",
            "plan.py",
            "context.py",
            "common.py",
            "current.py",
            "staging.py",
        )
    ]
    + list((PACKAGE / "layers").glob("*.py"))
)
CODE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
WORDING = default_wording()
ALL_KEYS = set(WORDING.sentences) | set(WORDING.phrases)


def _docstrings(tree: ast.AST) -> Set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _strings(path: Path) -> Iterator[ast.expr]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node
        elif isinstance(node, ast.JoinedStr):
            yield node


def _literal_codes() -> Set[str]:
    return {
        str(n.value)
        for p in RULE_MODULES
        for n in _strings(p)
        if isinstance(n, ast.Constant) and CODE.match(str(n.value))
    }


def _pattern_codes() -> List[re.Pattern[str]]:
    """f-string codes such as f"screen.{screen_id}.positive", as regular expressions."""
    patterns = []
    for path in RULE_MODULES:
        for node in _strings(path):
            if not isinstance(node, ast.JoinedStr):
                continue
            parts = [
                re.escape(str(v.value)) if isinstance(v, ast.Constant) else "[a-z0-9_]+" for v in node.values
            ]
            text = "".join(parts)
            if text.startswith(("screen", "trial", "flag")):
                patterns.append(re.compile("^" + text + "$"))
    return patterns


def test_rule_modules_exist() -> None:
    assert all(p.exists() for p in RULE_MODULES)
    assert len(list((PACKAGE / "layers").glob("*.py"))) == 6  # __init__ and one module per layer


def test_every_code_the_rules_use_has_wording() -> None:
    missing = sorted(c for c in _literal_codes() if c not in ALL_KEYS)
    assert not missing, f"finding codes without wording: {missing}"
    for screen_id in SCREEN_FLAGS:
        for result in ("positive", "negative", "incomplete"):
            assert f"screen.{screen_id}.{result}" in WORDING.sentences, (screen_id, result)


def test_every_wording_key_is_used_by_the_rules() -> None:
    literal = _literal_codes()
    patterns = _pattern_codes()
    assert patterns, "the screen codes are built as f-strings; the pattern scan found none"
    unused = sorted(k for k in ALL_KEYS if k not in literal and not any(p.match(k) for p in patterns))
    assert not unused, f"wording keys no rule uses: {unused}"


def test_no_sentence_like_literal_in_the_rules() -> None:
    found = []
    for path in RULE_MODULES:
        for node in _strings(path):
            if isinstance(node, ast.JoinedStr):
                text = " ".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
            elif isinstance(node, ast.Constant):
                text = str(node.value)
            else:
                continue
            if len(text.split()) >= 6:
                found.append(f"{path.name}:{node.lineno}: {text[:60]!r}")
    assert not found, "sentences belong in navigator_wording.yml:\n" + "\n".join(found)


def test_every_sentence_cites_known_sources_and_fields_are_filled(knowledge: Knowledge) -> None:
    known = knowledge.treatments.sources
    for code, sentence in WORDING.sentences.items():
        assert all(s in known for s in sentence.sources), code
    raw = _read_yaml(WORDING_PATH)
    raw["sentences"]["flag.urgent"]["sources"] = ["seed_999"]
    with pytest.raises(KnowledgeError, match="seed_999"):
        build_wording(raw, tuple(known))


def test_renderer_fills_params_nested_findings_and_then() -> None:
    render = Renderer(WORDING, {"navigator_design": "design", "seed_000": "s0", "seed_001": "s1"})
    statement = render.statement(
        Finding("flag.no_psychotherapy", {}, (Finding("therapy.only_counselling"),)), extra=("x",)
    )
    assert statement.text.endswith(
        "is recorded. Supportive or other counselling is recorded, but not a structured therapy."
    )
    assert statement.sources == ("s1", "design", "x")
    with pytest.raises(KeyError, match="no wording"):
        render.text(Finding("no.such.code"))


def test_every_rendered_code_has_wording_over_varied_records(
    knowledge: Knowledge, worked_through: Dict[str, Any], make_trial: Callable[..., Dict[str, Any]]
) -> None:
    """Run the rules over records that reach most branches, recording every code rendered."""
    used: Set[str] = set()
    original = Renderer._template

    def recording(self: Renderer, code: str) -> str:
        used.add(code)
        return original(self, code)

    records = [
        {},
        worked_through,
        {
            "trials": [make_trial(""), make_trial("zzz"), make_trial("sertraline", dose=90000)],
            "phq9": [3] * 9,
            "psychotherapy": [{"type": "other"}],
            "trauma": {"exposure": True, "pc_ptsd5": [True] * 5},
            "suicidal_thoughts_now": True,
            "unable_to_function": True,
        },
    ]
    Renderer._template = recording  # type: ignore[method-assign]
    try:
        for record in records:
            navigate(record, knowledge)
    finally:
        Renderer._template = original  # type: ignore[method-assign]
    assert used <= ALL_KEYS
    assert len(used) > 40
