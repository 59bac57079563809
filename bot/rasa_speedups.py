"""A per-turn cost of Rasa 3.6 removed without changing what it does.

After every call to the action server, Rasa checks the response with
``jsonschema.validate(response, RemoteAction.action_response_format_spec())``.
``jsonschema.validate`` first checks the *schema* against the JSON Schema
meta-schema, on every call; on this project's intake that was about a sixth of
the Rasa server's CPU time per turn. :func:`install` makes Rasa check each
response against a validator built (and the schema checked) once. Responses are
validated exactly as before, with the same error and message when one is
invalid.

Installed by the Rasa server's entry point, ``python -m bot run ...`` (bot/__main__.py,
used by scripts/run.sh and the test servers), before Rasa starts; importing any other
module changes nothing. Plain ``rasa run`` works without it, a little more slowly.
Tested against the pinned Rasa version in tests/unit/test_rasa_speedups.py.
"""

from __future__ import annotations

from typing import Any, Dict

_MARK = "_trd_cached_validator"
INVALID_RESPONSE_HINT = (
    ". Failed to validate Action server response from API, "
    "make sure your response from the Action endpoint is valid. "
    "For more information about the format visit "
)


def install() -> None:
    """Swap ``RemoteAction._validate_action_result`` for one with a cached validator (idempotent)."""
    from jsonschema import exceptions
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction._validate_action_result, _MARK, False):
        return
    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)

    def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += f"{INVALID_RESPONSE_HINT}{DOCS_BASE_URL}/custom-actions"
        raise error

    setattr(_validate_action_result, _MARK, True)
    RemoteAction._validate_action_result = _validate_action_result
