"""The three renderings of a summary (chat message, clinician page HTML/PDF, JSON) for fixed records.

Goldens (re-pin after a reviewed wording change: UPDATE_GOLDENS=1 pytest tests/unit/test_summary_render.py):
* tests/golden/summary_chat.txt: the chat messages of the fixed records, verbatim;
* tests/golden/summary_clinician.html: the clinician page of the typical record, generated at a
  fixed date (2024-12-06 09:30 UTC; every date on the page comes from that clock and the fixed
  crisis history, so the page is byte-for-byte stable) with the token "TOKEN".

The typical record's PDF is exactly one page on US Letter and on A4, with nothing printed smaller
than 6.5pt: the trials table, the screens, the flags, five layers with every option's trade-offs,
the cautions, the measurement plan, the questions and the numbered sources all fit (print CSS:
6.8pt DejaVu Sans Condensed body text, from Debian's fonts-dejavu-extra; three columns). The urgent
record (its banner) and a record with many more findings take two pages, never more.
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import socket
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.unit.test_summary_records import RECORDS, in_progress, many_findings, typical, urgent, v2
from trd.store.repository import CrisisRecord, SafetyPlan
from trd.summary.chat import chat_message, pick_questions
from trd.summary.clinician import render_html, render_pdf, style_csp_source
from trd.summary.content import SummaryInputs, clinician_view, run_navigator, summary_json
from trd.summary.resources import load_resources
from trd.summary.wording import default_wording, prescriptive_phrases

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
GENERATED = datetime(2024, 12, 6, 9, 30, tzinfo=timezone.utc)
EXPIRES = GENERATED + timedelta(days=7)
LINK = "https://trd.example.org/summary/" + "T" * 43
RES = load_resources()
CRISES = (
    CrisisRecord(7, "conv-typ", "web", "suicidal_ideation", "not shown anywhere",
                 GENERATED - timedelta(hours=2), GENERATED - timedelta(hours=1, minutes=40)),
    CrisisRecord(9, "conv-typ", "twilio", "sos", "not shown either", GENERATED - timedelta(minutes=50)),
)
PLAN = SafetyPlan("conv-typ", {"warning_signs": "private words"}, GENERATED - timedelta(hours=1))


def result_of(record: Dict[str, Any]) -> Dict[str, Any]:
    return run_navigator(record)


def inputs_of(record: Dict[str, Any], crises: Any = CRISES, plan: Any = PLAN) -> SummaryInputs:
    return SummaryInputs(record, result_of(record), GENERATED, EXPIRES, crises, plan)


def chat_of(record: Dict[str, Any], link: Any = LINK) -> str:
    complete = (record.get("intake") or {}).get("status") != "in_progress"
    return chat_message(result_of(record), link, ttl_days=7, complete=complete)


def html_of(record: Dict[str, Any], **kw: Any) -> str:
    return render_html(clinician_view(inputs_of(record, **kw)), token="TOKEN")


def check_golden(path: Path, actual: str) -> None:
    if os.environ.get("UPDATE_GOLDENS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDENS=1 after review"
    assert actual == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from what the summary renders; if the change was reviewed, "
        "re-pin with UPDATE_GOLDENS=1"
    )


def visible_text(page: str) -> str:
    """The page's text as a reader sees it (tags, the stylesheet and entities removed)."""
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


def pdf_streams(pdf: bytes) -> List[bytes]:
    """Every compressed stream of a PDF, inflated (a stream whose data ends in a CR byte loses that
    byte to the regex; it is the last byte of the checksum, so a decompressobj still inflates it all)."""
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S):
        try:
            out.append(zlib.decompressobj().decompress(match.group(1)))
        except zlib.error:
            continue
    return out


def pdf_page_count(pdf: bytes) -> int:
    """Pages of a PDF: /Type /Page objects, in the file and inside its compressed object streams."""
    return sum(len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", chunk)) for chunk in [pdf, *pdf_streams(pdf)])


def pdf_font_sizes(pdf: bytes) -> List[float]:
    """The size in pt of every font the PDF's text is set in. WeasyPrint draws in CSS px: each page's
    content first scales by 0.75 (px to pt), then sets fonts with ``/F 9.066 Tf`` in px."""
    sizes = []
    for chunk in pdf_streams(pdf):
        scale = re.search(rb"\n([\d.]+) 0 0 \1 0 0 cm\n", chunk)
        for size in re.findall(rb"/\S+ ([\d.]+) Tf", chunk):
            assert scale is not None, "text drawn without the px-to-pt scale"
            sizes.append(round(float(size) * float(scale.group(1)), 2))
    return sizes


# --- the chat message -------------------------------------------------------------------------


def test_chat_messages_match_the_golden_file() -> None:
    blocks = [
        ("typical", chat_of(typical())),
        ("urgent", chat_of(urgent())),
        ("in_progress", chat_of(in_progress())),
        ("typical, no link could be made", chat_of(typical(), link=None)),
    ]
    check_golden(GOLDEN / "summary_chat.txt", "\n".join(f"## {name}\n{text}\n" for name, text in blocks))


def test_typical_chat_message_says_what_is_open_what_to_ask_and_why() -> None:
    text = chat_of(typical())
    lines = text.splitlines()
    assert lines[0] == "Thank you for going through all of that. Where things stand:"
    assert "Partly worked through: psychotherapy." in lines
    assert "Still open: re-checking the diagnosis; full trials and add-ons; emerging options." in lines
    # section 10: one failed full trial, no add-on yet: a change of mechanism is "not yet", said plainly
    assert (
        "Not yet: a different mechanism. One full trial so far (sertraline), so not treatment-resistant by "
        "the usual definition yet: a full dose and an add-on usually come first."
    ) in lines
    assert "Rough stage from your answers: Maudsley 6-8/15 (mild to moderate), Thase-Rush I." in lines
    assert lines[lines.index("Worth asking your clinician:") + 1] == (
        "1. Were my trials of escitalopram long enough, at a high enough dose, and taken regularly "
        "enough to count? Why: a short or low-dose trial is not a fair test."
    )
    assert LINK in lines
    assert lines[-1] == (
        "Educational only: not medical advice and not an emergency service. "
        f"In danger? Call or text {RES['lifeline_number']}, or call {RES['emergency_number']}."
    )


def test_urgency_puts_safety_first() -> None:
    text = chat_of(urgent())
    first = text.splitlines()[0]
    assert first.startswith("First, and most important: things sound very hard right now.")
    assert f"call or text {RES['lifeline_number']}" in first
    assert f"Call {RES['emergency_number']}." in first
    assert text.index(RES["lifeline_number"]) < text.index("Where things stand")
    questions = [q for q, _ in pick_questions(result_of(urgent()))]
    assert questions[0].startswith("Given how severe things are right now")
    assert any("safety plan" in q for q in questions[:2])  # item 9 scored 1: the safety-check question
    # not urgent: no safety line at the top, but the footer is always there
    assert not chat_of(typical()).startswith("First")


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_every_chat_message_is_short_plain_and_complete(name: str) -> None:
    text = chat_of(RECORDS[name]())
    assert len(text) <= 1100, len(text)
    assert text.isascii()
    assert LINK in text
    assert "Educational only: not medical advice and not an emergency service." in text
    assert f"Call or text {RES['lifeline_number']}, or call {RES['emergency_number']}." in text
    assert text.count("\n1. ") == 1 and "\n2. " in text  # at least two questions


def test_crisis_numbers_come_from_the_resources_file() -> None:
    fake = {**RES, "lifeline_number": "555-0100", "lifeline_name": "Test Line",
            "emergency_number": "555-0199", "text_line_keyword": "TESTWORD", "text_line_number": "555-0142"}
    text = chat_message(result_of(urgent()), LINK, crisis_resources=fake)
    assert "555-0100" in text and "555-0199" in text and "TESTWORD to 555-0142" in text
    assert RES["lifeline_number"] not in text.replace(LINK, "")
    view = clinician_view(inputs_of(typical()), crisis_resources=fake)
    assert "555-0100" in view["crisis_line"] and RES["lifeline_number"] not in view["crisis_line"]


def test_without_a_link_the_message_says_how_to_ask_again() -> None:
    text = chat_of(typical(), link=None)
    assert "/summary/" not in text
    assert 'say "show my summary"' in text


def test_an_unfinished_intake_is_called_so() -> None:
    assert chat_of(in_progress()).startswith(
        "Thank you. Where things stand so far (some questions are still open):"
    )


# --- never prescriptive -----------------------------------------------------------------------


def prescriptive_hits(text: str) -> List[str]:
    lowered = " ".join(text.lower().split())
    return [phrase for phrase in prescriptive_phrases() if phrase in lowered]


def test_the_scan_finds_a_prescriptive_phrase() -> None:
    assert prescriptive_hits("Great news.\nYou  should TAKE lithium.") == ["you should take"]
    assert prescriptive_hits("Please stop taking it") == ["stop taking"]
    assert {"you should take", "start taking", "stop taking"} <= set(prescriptive_phrases())


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_no_rendering_tells_anyone_to_take_start_or_stop_a_medicine(name: str) -> None:
    record = RECORDS[name]()
    inputs = inputs_of(record)
    renderings = {
        "chat": chat_of(record),
        "chat without link": chat_of(record, link=None),
        "html": visible_text(render_html(clinician_view(inputs), token="TOKEN")),
        "json": json.dumps(summary_json(inputs), ensure_ascii=False),
    }
    for kind, text in renderings.items():
        assert prescriptive_hits(text) == [], (name, kind)


def test_wording_file_never_spells_out_a_crisis_number() -> None:
    text = (ROOT / "trd" / "summary" / "wording.yml").read_text(encoding="utf-8")
    for key in ("lifeline_number", "emergency_number", "text_line_number", "veterans_text"):
        assert RES[key] not in text, key


# --- the clinician page -------------------------------------------------------------------------


def test_clinician_page_matches_the_golden_file() -> None:
    check_golden(GOLDEN / "summary_clinician.html", html_of(typical()))


def test_v2_clinician_page_matches_the_golden_file() -> None:
    """navigator.md section 10 on the page: interactions with the pair named, the staging, "not yet"."""
    check_golden(GOLDEN / "summary_clinician_v2.html", html_of(v2()))


def test_v2_page_shows_staging_interactions_and_not_yet_in_plain_words() -> None:
    text = " ".join(visible_text(html_of(v2())).split())
    assert "Staging, approximate, self-report: Maudsley 5/15 mild; Thase-Rush I" in text
    assert "sertraline + tramadol (Check): serotonin toxicity and a lower seizure threshold" in text
    assert "tramadol + trazodone (Check): several serotonergic medicines together with tramadol" in text
    assert "3. Change the mechanism Not yet" in text
    assert "Not yet: one full trial so far (sertraline) and no add-on or combination yet." in text
    assert "One adequate trial so far: not treatment-resistant by the usual definition yet." in text
    # one sentence per interaction rule, each naming its pairs
    assert "An MAOI would interact with sertraline, trazodone and tramadol" not in text
    assert "An MAOI would interact with sertraline and trazodone (taken now or recently)" in text
    assert "Taken now: sertraline 150 mg, trazodone 50 mg, tramadol 100 mg" in text
    assert "Not a depression trial" in text
    chat = chat_of(v2())
    assert "Not yet: a different mechanism. One full trial so far (sertraline), so not" in chat
    assert (
        "Medicines to check with your clinician or pharmacist: sertraline + tramadol; tramadol + trazodone."
        in chat
    )
    assert "Rough stage from your answers: Maudsley 5/15 (mild), Thase-Rush I." in chat
    assert "Educational only: not medical advice and not an emergency service." in chat


def test_item9_alone_is_a_safety_check_in_those_words_never_you_said() -> None:
    """Issue 11: PHQ-9 item 9 alone (total 7) must not say "you said" nor ask for ECT sooner."""
    record = v2()
    record["phq9"] = [1, 1, 1, 1, 1, 0, 0, 1, 1]
    record["suicide_history"] = {}
    result = result_of(record)
    assert "urgent" not in result["flags"] and "safety_check" in result["flags"]
    page = " ".join(visible_text(html_of(record)).split())
    assert "Safety answers: PHQ-9 item 9 scored 1." in page
    assert "ECT or ketamine/esketamine be considered sooner" not in page
    chat = chat_of(record)
    for text in (page, chat, json.dumps(result)):
        assert "You said" not in text and "you said" not in text
    assert chat.startswith("First, and most important")  # crisis resources first on a safety check


def test_clinician_page_shows_everything_a_clinician_needs() -> None:
    page = html_of(typical())
    text = " ".join(visible_text(page).split())
    # the trials table: drug, class, dose, weeks, adherence, outcome, verdict and its reason
    assert re.search(r"<table class=\"trials\">", page)
    for expected in (
        "Medicine Dose/day Weeks at dose Adherence Outcome Adequacy and why [9,12,14]",
        "1 sertraline SSRI, antidepressant 100 mg (min 50) 8 (needs 6) most days no response "
        "still taking: no Adequate A full (adequate) trial: 100 mg a day (minimum 50 mg), 8 weeks at that "
        "dose, taken most days. It brought no response rather than remission, so it counts as a failed "
        "adequate trial. [19]",
        "2 escitalopram SSRI, antidepressant 10 mg (min 10) 4 (needs 6) most days partial response "
        "still taking: no Too short Not a full trial: 4 weeks at that dose is shorter than the 6 weeks a "
        "full trial needs. Not a failure yet; whether to finish it properly is a question for your "
        "clinician. [18]",
        "3 bupropion NDRI, antidepressant 300 mg (min 300) 10 (needs 6) often missed stopped: side effects "
        "still taking: no Intolerance Stopped because of side effects before it became a full trial.",
    ):
        assert expected in text, expected
    # the screens, each with its result and why
    for expected in (
        "Bipolar spectrum: Not finished . Bipolar screen not finished; not yet answered: a period of much "
        "more energy and little need for sleep that began on an antidepressant; a parent",
        "Trauma (PC-PTSD-5): Negative . Trauma screen: no trauma exposure reported. [8]",
        "Medical workup: Gaps . The basic medical workup is not known to be complete",
        "Sleep apnoea: No signs .",
        "Alcohol and substances: Negative .",
    ):
        assert expected in text, expected
    # the flags in plain words; a flag's reason no layer shows is shown with it
    for flag in (
        "Possible false resistance: at least one antidepressant trial was not adequate (dose, duration or "
        "adherence). Not every antidepressant trial was a full one (escitalopram): a question for your",
        "One adequate trial so far: not treatment-resistant by the usual definition yet.",
        "Switches stayed within the same class.",
        "Only monoamine antidepressants tried; no other mechanism yet.",
        "No augmentation (add-on) after a partial or failed adequate trial.",
        "Basic medical workup not known to be complete.",
    ):
        assert flag in text, flag
    # five layers, each with its status, its reasons (or where they are shown), options and trade-offs
    for title, status in (
        ("1. Change the question: re-examine what is being treated", "Open"),
        ("2. Optimise what is in place", "Open"),
        ("3. Change the mechanism", "Not yet"),
        ("4. The psychotherapy medication cannot replace", "Partly worked through"),
        ("5. Emerging options", "Open"),
    ):
        assert f"{title} {status}" in text, title
    assert page.count('<article class="layer') == 5
    for expected in (
        "Open 6 more findings: see the screens above. A basic medical workup : A blood test; results "
        "usually within days. [11,12]",
        "breaks the deadlock. [9,11,12]",
        "Not yet: one full trial so far (sertraline) and no add-on or combination yet.",
        "3 more findings: see the trials above. Finishing an incomplete trial : More weeks on a medicine",
        "Lithium added to the antidepressant : Needs regular blood tests for the lithium level, and kidney "
        "and thyroid checks. Interacts with some common medicines",
        # a "not yet" layer lists its options by name and figures, without the trade-offs
        "TMS (transcranial magnetic stimulation) [response 50-60%; remission 30-40%; about 20-36 sessions] "
        "[11,12,14] Ketamine or esketamine",
        "Cognitive behavioural therapy (CBT) : Usually weekly sessions for a few months, with practice "
        "between sessions. Tried. [12,13]",
        "Talking therapies recorded: CBT (not finished, about 6 sessions). [9] So far a short course "
        "(6 sessions of CBT); 8 or more sessions count as a course.",
        "Deep brain stimulation (DBS) (limited access): Brain surgery; investigational for depression.",
    ):
        assert expected in text, expected
    # cautions, crisis history (time, category, resolved) and whether a safety plan exists
    assert "Not asked or not known (possible bipolar-spectrum features): With possible bipolar" in text
    assert "When (UTC) Category Resolved 2024-12-06 07:30 suicidal thoughts yes, 07:50" in text
    assert "2024-12-06 08:40 asked for help now not resolved in the chat" in text
    assert "A safety plan was made in this conversation (saved 2024-12-06)" in text
    assert "private words" not in text and "not shown anywhere" not in text
    # measurement plan, questions, date, disclaimer, crisis lines
    assert "Target symptoms: little interest or pleasure in doing things;" in text
    assert "Week 4: About 4 weeks at the planned dose" in text and "Week 8: About 8 weeks" in text
    assert "Backup plan: Agree before starting what the next step will be" in text
    assert "What diagnosis and comorbidities best explain my symptoms?" in text
    assert "Generated 2024-12-06 09:30 UTC. This link expires 2024-12-13 09:30 UTC." in text
    assert (
        "This is educational information, not medical advice, a diagnosis or a treatment plan. "
        "It is not an emergency service."
    ) in text
    assert f"call or text {RES['lifeline_number']}" in text and f"call {RES['emergency_number']}" in text


def test_sources_are_listed_once_and_cited_by_number() -> None:
    result = result_of(typical())
    page = html_of(typical())
    listed = re.search(r'<section class="sources" id="sources">.*?<ol>(.*?)</ol>', page, flags=re.S)
    assert listed is not None
    items = [html_lib.unescape(i) for i in re.findall(r"<li>(.*?)</li>", listed.group(1))]
    assert len(items) == len(result["sources"]) == 19
    assert items[4].startswith("Kroenke K, Spitzer RL, Williams JBW. The PHQ-9")
    # a project seed is named without its repeated file locator
    assert "Seed 000: a psychiatrist's decision tree for treatment-resistant depression" in items
    assert not any("project seeds" in i for i in items)
    # every citation on the page points into the list, and every source is cited somewhere
    body = visible_text(page[: page.index('<section class="sources"')])
    cited = set()
    for group in re.findall(r"\[([\d,\u2013]+)\]", body):
        for part in group.split(","):
            first, _, last = part.partition("\u2013")
            cited |= set(range(int(first), int(last or first) + 1))
    assert cited == set(range(1, len(items) + 1))
    # the sertraline verdict cites its own dose source, the shared trial rules are cited once
    assert items[18].startswith("sertraline minimum dose:")
    assert re.search(r"counts as a failed adequate trial\. <span class=\"ref\">\[19\]</span>", page)


def test_clinician_page_without_crises_or_plan_says_so() -> None:
    text = visible_text(html_of(typical(), crises=(), plan=None))
    assert "No crisis was raised in this conversation." in text
    assert "No safety plan was made in this conversation." in text


def test_urgent_page_puts_safety_first() -> None:
    page = html_of(urgent())
    banner = page.index('<section class="urgent" role="alert">')
    assert banner < page.index('id="glance"') < page.index('id="trials"')
    assert "Urgent: please address safety first. A PHQ-9 score of 21 is in the severe range" in " ".join(
        visible_text(page).split()
    )
    assert '<section class="urgent"' not in html_of(typical())


def test_clinician_page_escapes_what_the_person_typed() -> None:
    page = html_of(many_findings())
    assert "Zoloft-ish &lt;b&gt;brand&lt;/b&gt; &amp; co" in page
    assert "<b>brand</b>" not in page
    assert "<script" not in page


def test_page_has_no_external_assets_and_its_style_hash_matches() -> None:
    page = html_of(typical())
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<script" not in page and "@import" not in page and "url(" not in page
    style = re.search(r"<style>(.*?)</style>", page, flags=re.S)
    assert style is not None
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert style_csp_source() == f"'sha256-{digest}'"
    assert '<a href="TOKEN.pdf">' in page and '<a href="TOKEN.json">' in page


# --- the PDF ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def typical_html() -> str:
    return render_html(clinician_view(inputs_of(typical())))


@pytest.mark.slow
@pytest.mark.parametrize("paper, media_box", [("letter", b"612 792"), ("a4", b"595")])
@pytest.mark.parametrize("record", ["typical", "v2"])
def test_typical_pdf_is_one_legible_page(
    typical_html: str, paper: str, media_box: bytes, record: str
) -> None:
    if record == "v2":  # a typical version-2 record: interactions, staging and a "not yet" layer
        typical_html = render_html(clinician_view(inputs_of(v2())))
    pdf = render_pdf(typical_html, paper)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf_page_count(pdf) == 1, "laid out for DejaVu Sans Condensed (Debian: fonts-dejavu-extra)"
    assert media_box in pdf + b"".join(pdf_streams(pdf))
    sizes = pdf_font_sizes(pdf)
    assert min(sizes) >= 6.5, sorted(set(sizes))
    assert max(set(sizes), key=sizes.count) >= 6.8  # the body text


@pytest.mark.slow
@pytest.mark.parametrize("name, pages", [("in_progress", 1), ("urgent", 2), ("many_findings", 2)])
def test_other_records_print_on_at_most_two_pages(name: str, pages: int) -> None:
    """The urgent banner and many findings may need a second page; never a third."""
    page = render_html(clinician_view(inputs_of(RECORDS[name]())))
    for paper in ("letter", "a4"):
        assert pdf_page_count(render_pdf(page, paper)) == pages, paper


def test_page_count_helper_counts_pages() -> None:
    one = render_pdf("<p>one page</p>")
    three = render_pdf("<p>a</p><p style='break-before: page'>b</p><p style='break-before: page'>c</p>")
    assert (pdf_page_count(one), pdf_page_count(three)) == (1, 3)


def test_pdf_refuses_an_unknown_paper_size(typical_html: str) -> None:
    with pytest.raises(ValueError):
        render_pdf(typical_html, "legal")


@pytest.mark.slow
def test_pdf_fetches_nothing() -> None:
    """Neither the network (a listener on loopback sees no connection) nor local files."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        pdf = render_pdf(
            f'<img src="http://127.0.0.1:{port}/x.png"><link rel="stylesheet" href="file:///etc/hostname">'
            f'<p style="background: url(http://127.0.0.1:{port}/bg.png)">x</p>'
        )
        with pytest.raises(socket.timeout):
            listener.accept()
    assert pdf.startswith(b"%PDF") and pdf_page_count(pdf) == 1


# --- JSON ---------------------------------------------------------------------------------------


def test_json_holds_the_same_content_with_meta() -> None:
    record = typical()
    doc = json.loads(json.dumps(summary_json(inputs_of(record))))
    assert doc["meta"] == {
        "format_version": 1,
        "generated_at": "2024-12-06T09:30:00Z",
        "expires_at": "2024-12-13T09:30:00Z",
        "disclaimer": result_of(record)["disclaimer"],
    }
    assert doc["record"] == record
    assert doc["navigator"] == result_of(record)
    assert doc["crises"] == [
        {"created_at": "2024-12-06T07:30:00Z", "category": "suicidal_ideation", "resolved": True,
         "resolved_at": "2024-12-06T07:50:00Z"},
        {"created_at": "2024-12-06T08:40:00Z", "category": "sos", "resolved": False, "resolved_at": None},
    ]
    assert doc["safety_plan"] == {"exists": True, "updated_at": "2024-12-06T08:30:00Z"}
    assert "not shown anywhere" not in json.dumps(doc) and "private words" not in json.dumps(doc)


def test_wording_covers_every_flag_and_layer() -> None:
    from trd.navigator import FLAG_VOCABULARY, LAYER_IDS

    words = default_wording()
    assert set(FLAG_VOCABULARY) <= set(words["flags"])
    assert set(LAYER_IDS) <= set(words["layer_short"])
    findings = set(words["question_priority"])
    assert findings == set(words["question_why"])
    assert findings - {"adequacy_unknown"} <= set(FLAG_VOCABULARY)
