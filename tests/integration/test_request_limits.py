"""Request bodies are capped on the running Rasa server (issue 10).

Sanic accepts 100 MB by default; `python -m bot run` caps every body at REQUEST_MAX_BYTES
(64 KB), so a flood of bytes is refused with 413 before any handler reads it, and the
server goes on answering.
"""

from __future__ import annotations

import pytest
import requests

from tests.support.servers import Stack, new_sender, texts

pytestmark = pytest.mark.integration


def test_a_body_over_64_kb_is_refused_with_413_and_the_server_goes_on(stack: Stack) -> None:
    sender = new_sender("limits")
    huge = {"sender": sender, "message": "hello " * 20_000}  # about 120 KB
    r = requests.post(stack.base_url + "/webhooks/rest/webhook", json=huge, timeout=30)
    assert r.status_code == 413
    r = requests.post(
        stack.base_url + "/model/parse", params={"token": stack.auth_token},
        data=b'{"text": "' + b"a" * 70_000 + b'"}', timeout=30,
    )
    assert r.status_code == 413
    assert "988" in texts(stack.rest(sender, "I want to kill myself"))  # still answering


def test_a_body_under_the_cap_is_read(stack: Stack) -> None:
    sender = new_sender("limits")
    reply = stack.rest(sender, "hello " * 5_000 + "I want to kill myself")  # about 30 KB
    assert "988" in texts(reply)
