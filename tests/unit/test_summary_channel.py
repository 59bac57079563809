"""Summary links over real HTTP on 127.0.0.1: a Sanic app with only the SummaryPages blueprint,
mounted where Rasa mounts it, on a real migrated SQLite database and a clock the test moves.

200 HTML / PDF / JSON for a live link; 404 for unknown tokens and junk paths; 410 once a link
expired or was revoked; 503 when the database is unreadable; never a 500.
"""

from __future__ import annotations

import http.client
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, Optional, Tuple
from urllib.parse import urljoin

import pytest
import requests

from bot.channels.summary import SummaryPages
from tests.support.loopback_app import LoopbackApp
from tests.unit.test_summary_records import typical, urgent
from tests.unit.test_summary_render import pdf_page_count, visible_text
from trd.store.migrate import upgrade
from trd.store.repository import Repository
from trd.store.sql import SqlRepository
from trd.summary.clinician import style_csp_source
from trd.summary.links import SummaryLinks, new_token

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class PagesServer(LoopbackApp):
    """A Sanic app serving the SummaryPages blueprints of some channels on a free loopback port."""

    def __init__(self) -> None:
        super().__init__("summary_test")

    def mount(self, channel: SummaryPages, name: str, prefix: Optional[str] = None) -> None:
        async def on_new_message(message: Any) -> None:
            raise AssertionError("the summary channel never passes messages to Rasa")

        bp = channel.blueprint(on_new_message)
        bp.name = name
        # exactly how rasa.core.channels.channel.register() mounts a channel
        self.app.blueprint(bp, url_prefix=prefix or urljoin("/webhooks/", channel.url_prefix()))


class Env:
    def __init__(self, server: PagesServer, repo: SqlRepository, clock: Clock) -> None:
        self.server = server
        self.repo = repo
        self.clock = clock
        self.links = SummaryLinks(repo, clock=clock, ttl=7)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(self.server.base + path, timeout=60, **kw)

    def raw_get(self, raw_path: str) -> Tuple[int, Dict[str, str], bytes]:
        """A request with the path sent byte for byte (no client-side normalisation)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.putrequest("GET", raw_path, skip_accept_encoding=True)
            conn.endheaders()
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def new_link(self, conversation_id: str) -> str:
        token, _ = self.links.create(conversation_id)
        return token


def page_text(resp: requests.Response) -> str:
    return " ".join(visible_text(resp.text).split())


def unreachable() -> Repository:
    raise ConnectionError("could not connect to the database")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path_factory.mktemp('summary') / 'trd.sqlite3'}"
    upgrade(url)
    repo = SqlRepository.from_url(url)
    clock = Clock(T0)
    server = PagesServer()
    server.mount(SummaryPages(lambda: repo, clock=clock), "summary_pages")
    server.mount(SummaryPages(unreachable, clock=clock), "summary_down", prefix="/down")
    with server:
        yield Env(server, repo, clock)
    repo.dispose()


@pytest.fixture(autouse=True)
def reset_clock(env: Env) -> None:
    env.clock.now = T0


def assert_private(resp: requests.Response, html: bool = True) -> None:
    assert resp.headers["Cache-Control"] == "no-store"
    assert "noindex" in resp.headers["X-Robots-Tag"]
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    if html:
        assert f"style-src {style_csp_source()}" in csp
        assert "script-src" not in csp and "unsafe-inline" not in csp


# --- a live link ---------------------------------------------------------------------------------


def test_html_page_renders_the_stored_record(env: Env) -> None:
    env.repo.save_intake("conv-web", typical())
    env.repo.record_crisis("conv-web", "web", "suicidal_ideation", "private words")
    token = env.new_link("conv-web")
    resp = env.get(f"/summary/{token}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert_private(resp)
    page = resp.text
    text = " ".join(visible_text(page).split())
    assert '<table class="trials">' in page
    assert "sertraline SSRI, antidepressant 100 mg (min 50) 8 (needs 6)" in text
    assert "2. Optimise what is in place Open" in text
    assert "This is educational information, not medical advice" in text
    assert "suicidal thoughts not resolved in the chat" in text and "private words" not in text
    assert "This link expires 2025-03-08 08:00 UTC." in text
    assert f'href="{token}.pdf"' in page and f'href="{token}.json"' in page
    # the inline stylesheet is exactly what the CSP hash allows
    assert "<script" not in page


@pytest.mark.slow
def test_pdf_is_a_real_pdf(env: Env) -> None:
    env.repo.save_intake("conv-pdf", typical())
    token = env.new_link("conv-pdf")
    resp = env.get(f"/summary/{token}.pdf")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Content-Disposition"] == 'inline; filename="trd-summary-2025-03-01.pdf"'
    assert_private(resp, html=False)
    assert resp.content.startswith(b"%PDF-") and pdf_page_count(resp.content) == 1
    a4 = env.get(f"/summary/{token}.pdf", params={"paper": "a4"})
    assert a4.status_code == 200 and a4.content.startswith(b"%PDF-") and a4.content != resp.content
    assert pdf_page_count(a4.content) == 1
    assert env.get(f"/summary/{token}.pdf", params={"paper": "legal"}).status_code == 404


def test_json_is_the_same_content_with_meta(env: Env) -> None:
    env.repo.save_intake("conv-json", urgent())
    token = env.new_link("conv-json")
    resp = env.get(f"/summary/{token}.json")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert_private(resp, html=False)
    doc = resp.json()
    assert doc["meta"]["generated_at"] == "2025-03-01T08:00:00Z"
    assert doc["meta"]["expires_at"] == "2025-03-08T08:00:00Z"
    assert doc["record"] == urgent()
    assert doc["navigator"]["urgency"]["show_crisis_resources"] is True
    assert doc["safety_plan"] == {"exists": False, "updated_at": None}


def test_the_page_reflects_corrections_made_after_the_link(env: Env) -> None:
    record = typical()
    env.repo.save_intake("conv-fix", record)
    token = env.new_link("conv-fix")
    assert "4 (needs 6)" in " ".join(visible_text(env.get(f"/summary/{token}").text).split())
    record["trials"][1]["weeks_at_dose"] = 9  # "it was actually 9 weeks"
    env.repo.save_intake("conv-fix", record)
    text = " ".join(visible_text(env.get(f"/summary/{token}").text).split())
    assert "escitalopram SSRI, antidepressant 10 mg (min 10) 9 (needs 6)" in text
    assert env.get(f"/summary/{token}.json").json()["record"]["trials"][1]["weeks_at_dose"] == 9


# --- 404 / 410 / 503, never 500 ----------------------------------------------------------------------


def test_an_unknown_token_is_a_friendly_404(env: Env) -> None:
    for path in (f"/summary/{new_token()}", f"/summary/{new_token()}.pdf", f"/summary/{new_token()}.json"):
        resp = env.get(path)
        assert resp.status_code == 404, path
        assert resp.headers["Content-Type"].startswith("text/html")
        assert_private(resp)
        assert "This summary link doesn't work" in page_text(resp)


@pytest.mark.parametrize(
    "raw_path",
    [
        "/summary/%00",
        "/summary/../../etc/passwd",
        "/summary/..%2F..%2Fetc%2Fpasswd",
        "/summary/%2e%2e/%2e%2e/etc/passwd",
        "/summary/",
        "/summary",
        "/summary/x",
        "/summary/" + "A" * 5000,
        "/summary/" + "%FF%FE" * 30,
        "/summary/%E2%80%AE" + "A" * 43,
        "/summary/TOKEN.exe",
        "/summary/" + "A" * 43 + ".pdf.json",
        "/summary/" + "A" * 43 + "/extra",
        "/summary/" + "A" * 43 + "?paper=%00",
        "/summary/;drop%20table%20trd_summary_links",
        "/summary/%27%20OR%201%3D1--",
    ],
)
def test_junk_paths_never_get_a_500(env: Env, raw_path: str) -> None:
    status, headers, body = env.raw_get(raw_path)
    assert status == 404, (raw_path, status, body[:200])
    assert headers["content-type"].startswith("text/html") and headers["cache-control"] == "no-store"
    assert b"This summary link doesn&#39;t work" in body  # our friendly page, not a framework error
    assert b"root:" not in body


def test_a_revoked_link_answers_410(env: Env) -> None:
    env.repo.save_intake("conv-rev", typical())
    token = env.new_link("conv-rev")
    assert env.get(f"/summary/{token}").status_code == 200
    assert env.links.revoke("conv-rev") == 1
    for suffix in ("", ".pdf", ".json"):
        resp = env.get(f"/summary/{token}{suffix}")
        assert resp.status_code == 410, suffix
        assert_private(resp)
        assert "This summary link has expired or was turned off" in page_text(resp)
        assert "sertraline" not in resp.text


def test_an_expired_link_answers_410(env: Env) -> None:
    env.repo.save_intake("conv-exp", typical())
    token = env.new_link("conv-exp")
    env.clock.now = T0 + timedelta(days=7) - timedelta(seconds=1)
    assert env.get(f"/summary/{token}").status_code == 200
    env.clock.now = T0 + timedelta(days=7)
    resp = env.get(f"/summary/{token}.json")
    assert resp.status_code == 410 and "sertraline" not in resp.text


def test_a_link_without_an_intake_is_a_404(env: Env) -> None:
    token = env.new_link("conv-empty")
    resp = env.get(f"/summary/{token}")
    assert resp.status_code == 404
    assert "There's no summary here yet" in page_text(resp)


def test_a_record_the_navigator_refuses_is_a_503_not_a_500(env: Env) -> None:
    env.repo.save_intake("conv-bad", {"phq9": [7, 7, 7]})
    token = env.new_link("conv-bad")
    for suffix in ("", ".pdf", ".json"):
        resp = env.get(f"/summary/{token}{suffix}")
        assert resp.status_code == 503
        assert "The summary can't be shown right now" in page_text(resp)


def test_an_unreachable_database_is_a_503(env: Env) -> None:
    resp = env.get(f"/down/{new_token()}")
    assert resp.status_code == 503
    assert_private(resp)
    assert "The summary can't be shown right now" in page_text(resp)


def test_every_error_page_shows_the_crisis_lines(env: Env) -> None:
    from trd.summary.resources import load_resources

    res = load_resources()
    text = env.get(f"/summary/{new_token()}").text
    assert f"call or text {res['lifeline_number']}" in text and f"call {res['emergency_number']}" in text


def test_only_get_is_served(env: Env) -> None:
    env.repo.save_intake("conv-post", typical())
    token = env.new_link("conv-post")
    resp = requests.post(env.server.base + f"/summary/{token}", timeout=30)
    assert resp.status_code == 405


def test_tokens_in_the_page_are_escaped(env: Env) -> None:
    # a token is only ever [A-Za-z0-9_-], so nothing the URL carries can reach the page as markup
    status, _, body = env.raw_get("/summary/%22%3E%3Cscript%3Ealert(1)%3C/script%3E" + "A" * 40)
    assert status == 404 and b"<script>alert" not in body


def test_malformed_tokens_are_refused_before_the_database_is_asked(env: Env) -> None:
    """The /down mount's database is unreachable: a malformed token still gets a plain 404, not a 503."""
    resp = env.get("/down/not-a-token")
    assert resp.status_code == 404 and "This summary link doesn't work" in page_text(resp)
