"""The chat page's crisis lines come from data/knowledge/crisis_resources.yml, and only from there.

The page's header, its no-JavaScript notice, the texts its script shows when the
server cannot be reached, and the server's 503 text are served from the data file:
with the numbers changed in a copy of the file, the page and the 503 body show the
new numbers and none of the old ones. Neither the page nor its script spells out a
crisis number.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
import yaml

from bot.channels.webchat import WebChatInput
from bot.channels.webchat_page import (
    TEXT_NAMES,
    WebTexts,
    WebTextsError,
    json_for_html,
    load_web_texts,
    render_page,
)
from bot.channels.webchat_text import linkify
from tests.unit.webchat_loopback import SECRET, LoopbackChat
from trd.summary.resources import fill, load_resources

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "data" / "knowledge" / "crisis_resources.yml"
INDEX = ROOT / "bot" / "web" / "index.html"
PAGE_FILES = [INDEX, ROOT / "bot/web/static/app.js", ROOT / "bot/web/static/app.css"]
CHANNEL_CODE = [
    ROOT / "bot/channels/webchat.py",
    ROOT / "bot/channels/webchat_text.py",
    ROOT / "bot/channels/webchat_page.py",
]

# Made-up numbers for the copy of the data file (none of them a real crisis line).
CHANGED = {
    "lifeline_number": "123",
    "emergency_number": "112",
    "text_line_number": "555444",
    "veterans_text": "777666",
    "lifeline_chat": "lifeline.example.org",
}
NUMBER_KEYS = ("lifeline_number", "emergency_number", "text_line_number", "veterans_text", "lifeline_chat")


def _data() -> Dict[str, Any]:
    data: Dict[str, Any] = yaml.safe_load(RESOURCES.read_text(encoding="utf-8"))
    return data


def _expected(path: Path) -> Dict[str, str]:
    """The web_page texts of a resources file, filled in by the summaries' reference loader."""
    values = load_resources(path)
    section = yaml.safe_load(path.read_text(encoding="utf-8"))["web_page"]
    return {name: fill(template, values) for name, template in section.items()}


def _number_pattern(value: str) -> str:
    return rf"(?<![\w.]){re.escape(value)}(?![\w])"


def _real_numbers() -> List[str]:
    resources = _data()["resources"]
    return [str(resources[key]) for key in NUMBER_KEYS]


@pytest.fixture(scope="module")
def changed_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = _data()
    data["resources"].update(CHANGED)
    path = tmp_path_factory.mktemp("resources") / "crisis_resources.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _serve(resources_file: Path) -> LoopbackChat:
    channel = WebChatInput.from_env({"WEBCHAT_SECRET": SECRET}, resources_file=resources_file)
    return LoopbackChat(channel).start()


@pytest.fixture(scope="module")
def changed(changed_file: Path) -> Iterator[LoopbackChat]:
    srv = _serve(changed_file)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def real() -> Iterator[LoopbackChat]:
    srv = _serve(RESOURCES)
    yield srv
    srv.stop()


def _page_texts(page: str) -> Dict[str, Dict[str, str]]:
    match = re.search(r'<script type="application/json" id="page-texts">(.*?)</script>', page, re.DOTALL)
    assert match, "the page has no page-texts block"
    texts: Dict[str, Dict[str, str]] = json.loads(match.group(1))
    return texts


def _visible(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _header_note(page: str) -> str:
    match = re.search(r'<p class="emergency" id="emergency-note">(.*?)</p>', page, re.DOTALL)
    assert match, "the page has no emergency note"
    return match.group(1)


def _noscript(page: str) -> str:
    match = re.search(r"<noscript>(.*?)</noscript>", page, re.DOTALL)
    assert match, "the page has no noscript notice"
    return match.group(1)


# --- the served page and the 503 text show what the file says -----------------------------------


@pytest.mark.slow
def test_page_shows_the_changed_numbers_and_none_of_the_real_ones(
    changed: LoopbackChat, changed_file: Path
) -> None:
    expected = _expected(changed_file)
    r = requests.get(changed.base + "/chat/", timeout=10)
    assert r.status_code == 200
    page = r.text

    note = _header_note(page)
    assert " ".join(_visible(note).split()) == "Not an emergency service. " + expected["header"].replace(
        "123,", "123 (text),"
    )
    assert 'href="tel:123"' in note and 'href="sms:123"' in note and 'href="tel:112"' in note
    notice = _noscript(page)
    assert 'href="tel:123"' in notice and 'href="tel:112"' in notice

    texts = _page_texts(page)
    assert texts["offline"]["text"] == expected["offline"]
    assert texts["notLoaded"]["text"] == expected["not_loaded"]
    assert 'href="tel:123"' in texts["offline"]["html"] and 'href="tel:112"' in texts["offline"]["html"]

    for number in _real_numbers():
        assert not re.search(_number_pattern(number), page), f"{number} is still on the page"


def test_the_503_text_is_the_files(changed: LoopbackChat, changed_file: Path) -> None:
    expected = _expected(changed_file)
    token = changed.token()
    changed.rasa.fail_next = True
    r = changed.send(token, "hello")
    assert r.status_code == 503
    body = r.json()
    assert body["error"] == "server_error"
    assert body["message"] == expected["server_error"]
    assert "call or text 123" in body["message"] and "call 112" in body["message"]
    assert 'href="tel:123"' in body["html"] and 'href="tel:112"' in body["html"]
    for number in _real_numbers():
        assert not re.search(_number_pattern(number), json.dumps(body))


def test_bot_replies_link_the_files_numbers(changed: LoopbackChat) -> None:
    token = changed.token()
    r = changed.send(token, "call or text 123 or text HOME to 555444")
    assert r.status_code == 200
    reply = r.json()["messages"][0]["html"]
    assert 'href="tel:123"' in reply and 'href="sms:123"' in reply
    assert 'href="sms:555444?&amp;body=HOME"' in reply


def test_page_with_the_real_file_shows_its_texts(real: LoopbackChat) -> None:
    expected = _expected(RESOURCES)
    values = load_resources(RESOURCES)
    page = requests.get(real.base + "/chat/", timeout=10).text
    note = _header_note(page)
    lifeline, emergency = values["lifeline_number"], values["emergency_number"]
    assert f'href="tel:{lifeline}"' in note and f'href="sms:{lifeline}"' in note
    assert f'href="tel:{emergency}"' in note
    assert lifeline in _visible(note) and emergency in _visible(note)
    assert _visible(_noscript(page)).strip().startswith("This chat needs JavaScript.")
    texts = _page_texts(page)
    assert texts["offline"]["text"] == expected["offline"]
    assert texts["notLoaded"]["text"] == expected["not_loaded"]
    # every marker was filled in
    assert not re.search(r"\{\{\s*\w+\s*\}\}", page)


def test_page_keeps_its_strict_csp(real: LoopbackChat) -> None:
    r = requests.get(real.base + "/chat/", timeout=10)
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    # the only inline <script> is JSON data, which the browser does not run
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", r.text)
    assert inline == [' type="application/json" id="page-texts"']
    again = requests.get(real.base + "/chat/", headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    assert again.headers["Content-Security-Policy"] == csp


# --- nothing on the page or in its script spells out a crisis number ---------------------------


@pytest.mark.parametrize("path", PAGE_FILES + CHANNEL_CODE, ids=lambda p: p.name)
def test_no_crisis_number_is_written_in_the_page_or_the_channel(path: Path) -> None:
    numbers = _real_numbers()
    assert "988" in numbers and "911" in numbers  # the patterns below cover the lines people know
    hits = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for number in numbers:
            if re.search(_number_pattern(number), line) or (
                "." in number and number.lower() in line.lower()
            ):
                hits.append(f"{path.name}:{n}: {line.strip()[:100]}")
    assert hits == []


# --- the texts and the template --------------------------------------------------------------------


def test_every_web_text_names_the_lifeline_and_emergency_number() -> None:
    texts = load_web_texts(RESOURCES)
    values = load_resources(RESOURCES)
    for name in TEXT_NAMES:
        text = getattr(texts, name)
        assert values["lifeline_number"] in text and values["emergency_number"] in text, name


def test_a_file_without_the_web_page_section_is_refused(tmp_path: Path) -> None:
    data = _data()
    del data["web_page"]
    path = tmp_path / "crisis_resources.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(WebTextsError, match="web_page"):
        load_web_texts(path)
    with pytest.raises(WebTextsError, match="web_page"):
        WebChatInput.from_env({"WEBCHAT_SECRET": SECRET}, resources_file=path)


@pytest.mark.parametrize(
    "name, template, message",
    [
        ("offline", "Call {lifeline_numbr}.", "unknown placeholder"),
        ("header", "", "missing or empty"),
    ],
)
def test_a_bad_web_text_is_refused(tmp_path: Path, name: str, template: str, message: str) -> None:
    data = _data()
    data["web_page"][name] = template
    path = tmp_path / "crisis_resources.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(WebTextsError, match=message):
        load_web_texts(path)


def _texts() -> WebTexts:
    return load_web_texts(RESOURCES)


def test_the_template_must_show_the_crisis_line() -> None:
    template = INDEX.read_text(encoding="utf-8")
    with pytest.raises(WebTextsError, match="emergency_note"):
        render_page(template.replace("{{ emergency_note }}", ""), _texts())
    with pytest.raises(WebTextsError, match="unknown markers: nope"):
        render_page(template + "{{ nope }}", _texts())


def test_page_texts_json_cannot_close_its_script_element() -> None:
    out = json_for_html({"t": "</script><script>alert(1)</script> & <!--"})
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == {"t": "</script><script>alert(1)</script> & <!--"}


def test_linkify_follows_the_files_numbers(changed_file: Path) -> None:
    rules = load_web_texts(changed_file).link_rules
    out = linkify("Call or text 123, text HOME to 555444, veterans text 777666, or call 112.", rules)
    assert '<a class="tel-link" href="tel:123" aria-label="Call 123">123</a>' in out
    assert 'href="sms:123"' in out
    assert 'href="sms:555444?&amp;body=HOME"' in out
    assert 'href="sms:777666"' in out and 'href="tel:777666"' not in out
    assert '<a class="tel-link" href="tel:112" aria-label="Call 112">112</a>' in out
    real = _real_numbers()[0]
    assert "<a" not in linkify(f"Call or text {real}.", rules)  # no longer a crisis line here
