"""Rasa's HTTP API on the running server: this machine only, the token checked (bot/api_guard.py)."""

from __future__ import annotations

import pytest
import requests

from tests.support.servers import Stack, new_sender, texts

pytestmark = pytest.mark.integration


def test_the_api_answers_a_local_caller_with_the_token_and_nobody_else(stack: Stack) -> None:
    url = stack.base_url + "/model/parse"
    ok = requests.post(url, params={"token": stack.auth_token}, json={"text": "hello"}, timeout=30)
    assert ok.status_code == 200 and ok.json()["text"] == "hello"

    wrong = requests.post(url, params={"token": stack.auth_token + "x"}, json={"text": "hello"}, timeout=30)
    assert wrong.status_code == 401 and wrong.json()["reason"] == "NotAuthenticated"

    # what a reverse proxy on this machine passes on from outside: refused, token or not
    proxied = requests.put(
        stack.base_url + "/model",
        params={"token": stack.auth_token},
        headers={"X-Forwarded-For": "203.0.113.9"},
        json={"model_file": "/tmp/other.tar.gz"},
        timeout=30,
    )
    assert proxied.status_code == 403 and proxied.json()["reason"] == "NotAllowed"

    # the channels are not the API: the REST channel still answers
    assert "988" in texts(stack.rest(new_sender(), "I want to kill myself"))
