"""Rasa checks action server responses as before, with the validator built once."""

from __future__ import annotations

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



@pytest.mark.slow
def test_the_server_builds_both_models_by_predicting_and_they_read_their_training_examples(
    trained_model: str, tmp_path: Path
) -> None:
    """The load the server uses (bot.rasa_speedups) restores every weight of the DIET classifier
    and of the response selector (else it logs and loads Rasa's way) and the model reads its
    own training examples as it was trained to: a weight left untrained would not. That it
    reads every message exactly as Rasa's own load does is `python -m bench.model_load`
    (about a minute more of CPU, so not in every run): identical on 1,808 messages at stop 21."""
    from bench.model_load import one, training_examples

    examples = training_examples()[::7]
    got = one(trained_model, "fast", [e["text"] for e in examples], tmp_path / "fast.json")
    assert got["log"].count(rasa_speedups.LOADED_BY_PREDICTING) == 2, got["log"][-3000:]
    assert "loading the model Rasa's way" not in got["log"]
    def as_trained(label: str, read: Dict[str, Any]) -> bool:
        intent, _, answer = label.partition("/")  # treatment_info/<answer>: the response selector's
        if read["intent"]["name"] != intent:
            return False
        return not answer or read["response_selector"][intent]["response"]["intent_response_key"] == label

    plain = [(e, r) for e, r in zip(examples, got["read"], strict=True)
             if not e["intent"].startswith("crisis")]
    right = sum(as_trained(e["intent"], r) for e, r in plain)
    assert right >= 0.9 * len(plain), f"{right} of {len(plain)} training examples read as trained"
    assert sum("/" in e["intent"] for e, _ in plain) >= 20  # the response selector's too


def test_the_model_load_is_installed_once() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    load = RasaModel.load.__func__  # type: ignore[attr-defined]
    assert getattr(load, "_trd_load_by_predicting", False)
    rasa_speedups.install()
    assert RasaModel.load.__func__ is load  # type: ignore[attr-defined]
