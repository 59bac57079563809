"""The shape of the tree: a Rasa-free core (trd/), two adapters that never import each other.

import-linter (in `make check`) enforces the contracts in pyproject.toml; these tests run
it too, and check that every command the README documents still works under its old name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_import_contracts_are_kept() -> None:
    out = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 kept, 0 broken" in out.stdout
    assert "never import each other KEPT" in out.stdout
    assert "serve-time safety code" in out.stdout  # what trains the model never imports it


def test_the_training_fingerprint_leaves_out_only_serve_time_code() -> None:
    """scripts/train.sh keys the model by its training inputs; serve-time code is left out."""
    out = subprocess.run(
        ["bash", "scripts/train.sh", "--fingerprint"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.strip()) == 16
    # what the fingerprint leaves out is exactly the code the training code may not import
    # (the import-linter contract), and the data files only that code reads
    import re

    import tomli

    text = (ROOT / "scripts" / "train.sh").read_text(encoding="utf-8")
    (pattern,) = re.findall(r"^runtime_only='(.+)'$", text, flags=re.M)
    left_out = {
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
        if p.is_file() and ".venv" not in p.parts and re.search(pattern, str(p.relative_to(ROOT)))
    }
    config = tomli.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (serve_time,) = [c for c in contracts if "serve-time safety code" in c["name"]]
    modules = {m.replace(".", "/") + ".py" for m in serve_time["forbidden_modules"]}
    # the data files: those the serve-time modules load (DATA_DIR / "knowledge" / "<name>.yml")
    data_files = {
        f"data/knowledge/{name}"
        for module in modules
        for name in re.findall(
            r'DATA_DIR / "knowledge" / "([\w.]+\.yml)"', (ROOT / module).read_text(encoding="utf-8")
        )
    }
    assert {"data/knowledge/risk_check_answers.yml", "data/knowledge/plain_answers.yml"} <= data_files
    assert left_out == modules | data_files


def test_the_core_never_names_rasa_in_an_import() -> None:
    hits = []
    for path in sorted((ROOT / "trd").rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            words = line.strip().split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                top = words[1].split(".")[0]
                if top in {"rasa", "rasa_sdk", "sanic", "bot", "actions"}:
                    hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert hits == []


def test_the_slash_prefix_matches_rasas() -> None:
    from rasa.shared.constants import INTENT_MESSAGE_PREFIX

    from trd import text_guard

    assert text_guard.INTENT_MESSAGE_PREFIX == INTENT_MESSAGE_PREFIX


@pytest.mark.slow
@pytest.mark.parametrize(
    "module",
    ["actions.navigator", "actions.store.migrate", "actions.escalation.worker", "actions.intake.domain_gen"],
)
def test_documented_commands_keep_their_names(module: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "usage:" in out.stdout


@pytest.mark.slow
def test_the_navigator_cli_under_its_documented_name(tmp_path: Path) -> None:
    record = tmp_path / "intake.json"
    record.write_text(json.dumps({"schema_version": "1"}), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "actions.navigator", str(record)], cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )
    new = subprocess.run(
        [sys.executable, "-m", "trd.navigator", str(record)], cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )
    assert (out.returncode, out.stdout, out.stderr) == (new.returncode, new.stdout, new.stderr)
