"""Summary tokens never enter the tracker store (#10): the stored message carries a reference,
and the Rasa server adds the link on the way out, on every channel and in the web chat's history."""

from __future__ import annotations

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel

from bot import summary_output
from bot.channels.webchat import history_messages
from trd.store.repository import InMemoryRepository
from trd.summary.links import SummaryLinks, expand_references, token_for

SECRET = "summary-link-secret-0123456789abcdef"
ENV = {"PUBLIC_BASE_URL": "https://trd.example.org", "SUMMARY_LINK_SECRET": SECRET}


def test_a_reference_opens_the_link_it_stands_for() -> None:
    repo = InMemoryRepository()
    ref, link = SummaryLinks(repo, ttl=7).create_reference("conv-1", SECRET)
    nonce = ref[len("[[summary-link:") : -2]
    token = token_for(SECRET, nonce)
    assert token not in ref and len(token) == 43
    assert repo.resolve_summary_link(token) == "conv-1"
    text = f"Here it is:\n{ref}\nIt works for 7 days."
    assert (
        expand_references(text, ENV)
        == f"Here it is:\nhttps://trd.example.org/summary/{token}\nIt works for 7 days."
    )
    assert "summary-link" not in expand_references(text, {})  # without the settings: no broken markup
    assert token_for("another-secret-0123456789", nonce) != token  # the key is needed to open it


def test_every_channel_sends_the_link_and_the_history_shows_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    summary_output.install()
    out = CollectingOutputChannel()
    stored = {"text": "Your summary:\n[[summary-link:AAAAAAAAAAAAAAAAAAAAAA]]"}
    asyncio.run(out.send_response("conv-1", dict(stored)))
    token = token_for(SECRET, "AAAAAAAAAAAAAAAAAAAAAA")
    assert out.messages[0]["text"] == f"Your summary:\nhttps://trd.example.org/summary/{token}"
    shown = history_messages([{"event": "bot", "text": stored["text"]}])
    assert any(token in m.get("text", "") for m in shown)
