"""The running server's REST channel is ours: behind the token, rest- senders only (#10)."""

from __future__ import annotations

import pytest
import requests

from tests.support.servers import Stack, new_sender, texts

pytestmark = pytest.mark.integration


def test_the_rest_channel_needs_the_token_and_a_rest_sender(stack: Stack) -> None:
    url = stack.base_url + "/webhooks/rest/webhook"
    sender = new_sender("doors")
    assert requests.post(url, json={"sender": sender, "message": "hello"}, timeout=30).status_code == 401
    web_like = {"sender": "0f3a9c2e-web-session", "message": "hello"}
    r = requests.post(url, json=web_like, headers={"Authorization": f"Bearer {stack.auth_token}"}, timeout=30)
    assert r.status_code == 403
    assert "988" in texts(stack.rest(sender, "I want to kill myself"))
    tracker = stack.tracker(sender)
    assert tracker["latest_input_channel"] == "rest"
