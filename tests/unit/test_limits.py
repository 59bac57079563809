"""trd.limits: the request body cap every server applies."""

from __future__ import annotations

from typing import Dict

import pytest

from trd.limits import DEFAULT_REQUEST_MAX_BYTES, apply_request_limit


def test_the_default_cap_is_64_kb_and_reaches_sanic() -> None:
    env: Dict[str, str] = {}
    assert apply_request_limit(env) == DEFAULT_REQUEST_MAX_BYTES == 65536
    assert env["SANIC_REQUEST_MAX_SIZE"] == "65536"


def test_a_setting_overrides_it() -> None:
    env = {"REQUEST_MAX_BYTES": "131072"}
    assert apply_request_limit(env) == 131072 and env["SANIC_REQUEST_MAX_SIZE"] == "131072"
    env = {"ACTION_REQUEST_MAX_BYTES": ""}
    assert apply_request_limit(env, "ACTION_REQUEST_MAX_BYTES", 8 << 20) == 8 << 20


@pytest.mark.parametrize("bad", ["lots", "12.5", "0", "100", str(1 << 30)])
def test_a_bad_setting_stops_the_server_with_a_clear_message(bad: str) -> None:
    with pytest.raises(SystemExit, match="REQUEST_MAX_BYTES"):
        apply_request_limit({"REQUEST_MAX_BYTES": bad})
