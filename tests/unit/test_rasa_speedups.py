"""Rasa checks action server responses as before, with the validator built once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Optional

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups

ROOT = Path(__file__).resolve().parents[2]
ACTION = RemoteAction("action_intake_save", None)
rasa_speedups.install()  # what `python -m bot run` does before Rasa starts

RESPONSES = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "phq9_q1", "value": 2}], "responses": [{"text": "ok"}]},
    {"events": [{"event": "active_loop", "name": "phq9_form"}, {"event": "followup", "name": "x"}]},
    {"responses": [{"response": "utter_ask_phq9_q2", "buttons": [{"title": "0", "payload": "/x"}]}]},
    {"events": "not a list"},
    {"events": [{"name": "phq9_q1", "value": 2}]},  # an event without its type
    {"events": [{"event": "no_such_event"}]},
    {"events": [], "responses": "hello"},
]


def _rasa_verdict(response: Dict[str, Any]) -> Optional[str]:
    """What Rasa's own check (jsonschema.validate, schema checked every call) says."""
    try:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    except jsonschema.ValidationError as error:
        return error.message
    return None


def _installed() -> bool:
    return bool(getattr(RemoteAction._validate_action_result, "_trd_cached_validator", False))


def test_installing_again_changes_nothing() -> None:
    assert _installed()
    patched = RemoteAction._validate_action_result
    rasa_speedups.install()
    assert RemoteAction._validate_action_result is patched


def test_the_entry_point_installs_the_speed_up_before_rasa_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.__main__

    import bot.__main__

    monkeypatch.setattr(RemoteAction, "_validate_action_result", lambda self, result: True)
    assert not _installed()
    seen: List[Any] = []
    monkeypatch.setattr(rasa.__main__, "main", lambda: seen.append((_installed(), list(sys.argv))))
    monkeypatch.setattr(sys, "argv", ["unused"])
    # main sets SANIC_REQUEST_MAX_SIZE: on a copy, so no later test's Sanic app inherits it
    limits = ("SANIC_REQUEST_MAX_SIZE", "REQUEST_MAX_BYTES")
    environ = {k: v for k, v in os.environ.items() if k not in limits}
    monkeypatch.setattr(os, "environ", environ)
    bot.__main__.main(["run", "--port", "5005"])
    assert seen == [(True, ["rasa", "run", "--port", "5005"])]
    assert environ["SANIC_REQUEST_MAX_SIZE"] == "65536"  # every body capped (issue 10)


@pytest.mark.slow
def test_importing_the_tracker_store_changes_nothing_and_python_m_bot_installs_it() -> None:
    probe = textwrap.dedent(
        """
        import runpy, sys
        import rasa.__main__
        from rasa.core.actions.action import RemoteAction
        import bot.tracker_store
        def installed():
            return bool(getattr(RemoteAction._validate_action_result, "_trd_cached_validator", False))
        print("after import bot.tracker_store:", installed())
        rasa.__main__.main = lambda: print("when rasa starts:", installed(), sys.argv)
        sys.argv = ["python -m bot", "run", "--port", "5005"]
        runpy.run_module("bot", run_name="__main__", alter_sys=True)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "after import bot.tracker_store: False",
        "when rasa starts: True ['rasa', 'run', '--port', '5005']",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("response", RESPONSES)
def test_responses_are_accepted_and_refused_exactly_as_rasa_does(response: Dict[str, Any]) -> None:
    expected = _rasa_verdict(response)
    if expected is None:
        assert ACTION._validate_action_result(response) is True
        return
    with pytest.raises(jsonschema.ValidationError) as caught:
        ACTION._validate_action_result(response)
    assert caught.value.message.startswith(expected)
    assert caught.value.message.endswith("/custom-actions")
    assert "Failed to validate Action server response" in caught.value.message


@pytest.mark.slow
def test_at_least_one_response_of_each_kind_is_checked() -> None:
    verdicts = [_rasa_verdict(r) for r in RESPONSES]
    assert any(v is None for v in verdicts) and sum(v is not None for v in verdicts) >= 3


MESSAGES = [
    "hello", "yes", "no", "what is ketamine", "is ECT safe for older people",
    "tell me about lithium augmentation", "I took sertraline 100mg for 8 weeks and it did nothing",
    "venlafaxine 225 since march, then added aripiprazole", "what does TMS feel like",
    "I feel so tired all the time", "i dont want to be here anymore", "how do I kill a frozen app",
    "my sister tried to overdose last year, she is ok now", "can we stop for today", "/restart",
    "qué es la ketamina", "🙂", "", "x" * 300,
]


def _parse(model: str, how: str, tmp_path: Path) -> Dict[str, Any]:
    result = tmp_path / f"{how}.json"
    out = subprocess.run(
        [sys.executable, "-m", "tests.support.parse_with_model", model, how, str(result)],
        input=json.dumps(MESSAGES), capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    data: Dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return data


@pytest.mark.slow
def test_the_model_loaded_by_predicting_reads_every_message_as_rasas_load_does(
    trained_model: str, tmp_path: Path
) -> None:
    """Every intent ranking (to the last digit), entity and response-selector answer is the same
    whichever way the DIET classifier and the response selector were loaded; the fast way
    takes a fraction of the time (about 14 s against 50 s on an idle machine)."""
    fast, rasa = _parse(trained_model, "fast", tmp_path), _parse(trained_model, "rasa", tmp_path)
    assert fast["parsed"] == rasa["parsed"]
    assert {p["intent"]["name"] for p in fast["parsed"]} >= {"greet", "crisis"}
    assert any(p["response_selector"]["treatment_info"]["response"]["responses"] for p in fast["parsed"])
    assert fast["load_seconds"] < rasa["load_seconds"]


def test_the_model_load_is_installed_once() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    load = RasaModel.load.__func__  # type: ignore[attr-defined]
    assert getattr(load, "_trd_load_by_predicting", False)
    rasa_speedups.install()
    assert RasaModel.load.__func__ is load  # type: ignore[attr-defined]
