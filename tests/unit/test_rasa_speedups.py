"""Rasa checks action server responses as before, with the validator built once."""

from __future__ import annotations

from typing import Any, Dict, Optional

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import bot.tracker_store  # noqa: F401 - loading the tracker store installs the speed-up
from bot import rasa_speedups

ACTION = RemoteAction("action_intake_save", None)

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


def test_the_speed_up_is_installed_by_the_tracker_store() -> None:
    assert getattr(RemoteAction._validate_action_result, "_trd_cached_validator", False)
    rasa_speedups.install()  # installing again changes nothing
    assert getattr(RemoteAction._validate_action_result, "_trd_cached_validator", False)


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


def test_at_least_one_response_of_each_kind_is_checked() -> None:
    verdicts = [_rasa_verdict(r) for r in RESPONSES]
    assert any(v is None for v in verdicts) and sum(v is not None for v in verdicts) >= 3
