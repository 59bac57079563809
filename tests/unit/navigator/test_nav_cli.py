"""`python -m trd.navigator` run as a real subprocess, and validation messages naming the field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from trd.navigator import IntakeValidationError, Knowledge, navigate

REPO = Path(__file__).resolve().parents[3]


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trd.navigator", *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_valid_record_prints_the_result_json(tmp_path: Path, worked_through: dict) -> None:
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(worked_through), encoding="utf-8")
    done = cli(str(path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for key in ("flags", "layers", "trials", "measurement_plan", "questions", "sources"):
        assert key in result
    assert result["flags"] == ["trd_criteria_met", "combination_tried"]
    assert [layer["id"] for layer in result["layers"]] == [
        "reframe",
        "optimise",
        "mechanism",
        "psychotherapy",
        "emerging",
    ]
    assert result["trials"][0] == {
        **result["trials"][0],
        "drug": "sertraline",
        "class": "ssri",
        "adequacy": "adequate",
    }
    assert done.stderr == b""


@pytest.mark.slow
def test_stdin_dash(worked_through: dict) -> None:
    worked_through["trials"][0]["max_dose_mg"] = 25
    done = cli("-", stdin=json.dumps(worked_through).encode())
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["trials"][0]["adequacy"] == "inadequate_dose"
    assert "false_resistance" in result["flags"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"trials": [{"drug": "sertraline", "max_dose_mg": -5}]}, "trials[0].max_dose_mg"),
        ({"trials": [{"drug": "sertraline"}, {"max_dose_mg": 5}]}, "trials[1].drug"),
        ({"trials": [{"drug": "sertraline", "role": "sometimes"}]}, "trials[0].role"),
        ({"phq9": [1, 2, 3]}, "phq9"),
        ({"phq9": [0, 0, 0, 0, 0, 0, 0, 0, 4]}, "phq9[8]"),
        ({"trauma": {"pc_ptsd5": [True, None, True, True, True]}}, "trauma.pc_ptsd5[1]"),
        (
            {"medical": {"labs_checked_past_year": {"thyroid": "yes"}}},
            "medical.labs_checked_past_year.thyroid",
        ),
        ({"psychotherapy": [{"type": "hypnosis"}]}, "psychotherapy[0].type"),
        ({"suicidal_thoughts_now": "no"}, "suicidal_thoughts_now"),
        ([1, 2, 3], "(record)"),
    ],
)
def test_invalid_record_names_the_field_and_exits_2(record: Any, field: str) -> None:
    done = cli("-", stdin=json.dumps(record).encode())
    assert done.returncode == 2
    assert done.stdout == b""
    assert f"field {field}:" in done.stderr.decode()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b'{"phq9": [1, 2,', "not valid JSON"),
        (b'{"trials": [{"drug": "x", "max_dose_mg": NaN}]}', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"", "not valid JSON"),
    ],
)
def test_bad_input_is_a_clear_error(stdin: bytes, message: str) -> None:
    done = cli("-", stdin=stdin)
    assert done.returncode == 2
    assert message in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()


@pytest.mark.slow
def test_missing_file(tmp_path: Path) -> None:
    done = cli(str(tmp_path / "nope.json"))
    assert done.returncode == 2
    assert "cannot read" in done.stderr.decode() and "nope.json" in done.stderr.decode()


def test_navigate_raises_naming_every_bad_field(knowledge: Knowledge) -> None:
    record: Dict[str, Any] = {"phq9": [9] * 9, "trials": [{"drug": "x", "weeks_at_dose": float("inf")}]}
    with pytest.raises(IntakeValidationError) as caught:
        navigate(record, knowledge)
    fields = [error.field for error in caught.value.errors]
    assert caught.value.field == "phq9[0]"
    assert "trials[0].weeks_at_dose" in fields
    assert "field trials[0].weeks_at_dose: must be a finite number" in str(caught.value)
