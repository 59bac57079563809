"""The crisis messages exactly as a person reads them, on the web and by SMS.

* domain.yml's generated region must match data/knowledge/crisis_resources.yml;
* the messages Rasa renders for each channel are pinned verbatim in tests/golden/
  (re-pin after a reviewed wording change: UPDATE_GOLDENS=1 pytest tests/unit/test_crisis_golden.py);
* the order of the options (988 first; 911 first when in danger now; text options first on SMS);
* the discontinued Lifeline "press 3" option appears nowhere;
* crisis numbers are written only in the data file (and so in the generated region).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain

from bot.policies import safety_policy
from scripts import gen_crisis_responses as gen

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
WEB_CHANNELS = ["web", "rest"]  # every channel but SMS gets the default variant
SMS_CHANNEL = "twilio"

CRISIS_RESPONSES = [
    "utter_crisis",
    "utter_crisis_danger_now",
    "utter_crisis_third_party",
    "utter_crisis_harm_to_others",
    "utter_sos",
    "utter_crisis_check",
    "utter_crisis_recheck",
    "utter_crisis_check_third_party",
    "utter_risk_check",
    "utter_risk_recheck",
    "utter_risk_check_no",
    "utter_crisis_not_safe",
    "utter_crisis_resolved",
    "utter_crisis_continue",
    "utter_crisis_pause",
    "utter_safety_plan_intro",
    "utter_safety_plan_done",
]

# The numbers, codes and address of the crisis resources. Built from parts so this file
# does not trip its own check; kept in step with the data file by a test below.
NUMBER_PATTERNS = [
    r"(?<![\w.])9" r"88(?![\w])",  # the Lifeline (call and text)
    r"9" r"88lifeline",  # its chat address
    r"74" r"1741",  # Crisis Text Line
    r"83" r"8255",  # Veterans text
    r"(?<![\w.])9" r"11(?![\w])",  # emergency services
]
DISCONTINUED = re.compile(r"press\s*" + "3" + r"\b", re.IGNORECASE)

# Where crisis messages are authored or shown. Numbers belong in the data file only: the
# domain's responses, the web page (header, no-JavaScript and offline texts), the web chat's
# link maker and the channels' error texts are all filled from it. The NLU lexicon
# (bot/nlu) and the risk engine (trd/safety) recognise numbers people type and are not
# message sources.
TRD_AUTHORED = [
    "trd/answers", "trd/escalation", "trd/intake", "trd/navigator", "trd/sms", "trd/store", "trd/summary",
]
AUTHORED = [
    "domain.yml", "data", "actions", *TRD_AUTHORED, "bot/policies", "bot/channels", "bot/web", "scripts",
]
ALLOWED = {Path("data/knowledge/crisis_resources.yml")}
TEXT_SUFFIXES = {".yml", ".yaml", ".py", ".json", ".md", ".txt", ".html", ".js", ".sh"}


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def render(domain: Domain, name: str, channel: str) -> Dict[str, Any]:
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    out = nlg.generate_from_slots(name, {}, channel)
    assert out is not None, f"{name} has no response for channel {channel!r}"
    return out


def as_read(message: Dict[str, Any]) -> str:
    lines = [message["text"]]
    lines += [f"[{b['title']}] {b['payload']}" for b in message.get("buttons") or []]
    return "\n".join(lines)


def golden_text(domain: Domain, channel: str) -> str:
    blocks = [f"## {name}\n{as_read(render(domain, name, channel))}\n" for name in CRISIS_RESPONSES]
    # the variations read after a worry about someone else (risk_category third_party)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    for name in CRISIS_RESPONSES:
        default = render(domain, name, channel)
        variant = nlg.generate_from_slots(name, {"risk_category": "third_party"}, channel)
        if variant is not None and variant["text"] != default["text"]:
            blocks.append(f"## {name} (about someone else)\n{as_read(variant)}\n")
    return "\n".join(blocks)


def check_golden(path: Path, actual: str) -> None:
    if os.environ.get("UPDATE_GOLDENS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDENS=1 after review"
    assert actual == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from what Rasa renders; "
        "if the change was reviewed, re-pin with UPDATE_GOLDENS=1"
    )


# --- the data file and domain.yml ----------------------------------------------------------


def test_domain_is_up_to_date_with_the_crisis_resources_file() -> None:
    current, wanted = gen.expected_domain()
    assert current == wanted, (
        "domain.yml is out of date: run .venv/bin/python scripts/gen_crisis_responses.py"
    )
    assert gen.main(["--check"]) == 0


@pytest.mark.slow
def test_every_crisis_response_has_a_web_and_an_sms_variant(domain: Domain) -> None:
    for name in CRISIS_RESPONSES:
        variants = domain.responses[name]
        plain = [v.get("channel") for v in variants if not v.get("condition")]
        assert plain == [None, SMS_CHANNEL], name
        conditional = [v.get("channel") for v in variants if v.get("condition")]
        assert conditional in ([], [None, SMS_CHANNEL]), name  # a variation comes for both channels


def test_the_policy_only_names_responses_the_domain_has(domain: Domain) -> None:
    used = [value for key, value in vars(safety_policy).items() if key.startswith("UTTER_")]
    assert used and set(used) <= set(CRISIS_RESPONSES)
    assert set(used) <= set(domain.responses)


# --- what a person reads -------------------------------------------------------------------


def test_web_messages_match_the_golden_file(domain: Domain) -> None:
    actual = golden_text(domain, "web")
    check_golden(GOLDEN / "crisis_web.txt", actual)
    assert golden_text(domain, "rest") == actual


def test_sms_messages_match_the_golden_file(domain: Domain) -> None:
    check_golden(GOLDEN / "crisis_sms.txt", golden_text(domain, SMS_CHANNEL))


def test_sms_messages_fit_the_sms_limit(domain: Domain) -> None:
    for name in CRISIS_RESPONSES:
        # the SMS channel appends "Reply 1 for ..., 2 for ..." for buttons
        assert len(as_read(render(domain, name, SMS_CHANNEL))) <= 600, name


def _order(text: str, *needles: str) -> List[int]:
    positions = [text.find(n) for n in needles]
    assert -1 not in positions, f"missing one of {needles} in:\n{text}"
    return positions


@pytest.mark.parametrize("name", ["utter_crisis", "utter_sos"])
def test_web_leads_with_988_and_lists_every_option(domain: Domain, name: str) -> None:
    text = render(domain, name, "web")["text"]
    call, chat, ctl, vets, spanish, emergency = _order(
        text,
        "Call or text 988",
        "988lifeline.org",
        "text HOME to 741741",
        "press 1, or text 838255",
        "AYUDA",
        "call 911",
    )
    assert call < ctl < emergency and call < chat
    assert "press 2" in text.lower() or "marca 2" in text


@pytest.mark.parametrize("name", ["utter_crisis", "utter_sos"])
def test_sms_leads_with_the_text_options(domain: Domain, name: str) -> None:
    text = render(domain, name, SMS_CHANNEL)["text"]
    text_988, text_home, call_988, call_911 = _order(
        text, "Text 988", "text HOME to 741741", "call 988", "Call 911"
    )
    assert text_988 < text_home < call_988 < call_911


@pytest.mark.parametrize("channel", ["web", SMS_CHANNEL])
def test_danger_now_leads_with_911_then_988(domain: Domain, channel: str) -> None:
    text = render(domain, "utter_crisis_danger_now", channel)["text"]
    assert text.startswith("Please call 911 now")
    first_911, first_988 = _order(text, "911", "988")
    assert first_911 < first_988


@pytest.mark.parametrize("channel", ["web", SMS_CHANNEL])
def test_third_party_and_harm_to_others_give_988_and_911(domain: Domain, channel: str) -> None:
    for name in ("utter_crisis_third_party", "utter_crisis_harm_to_others", "utter_crisis_not_safe"):
        text = render(domain, name, channel)["text"]
        _order(text, "988", "911")


@pytest.mark.parametrize("channel", ["web", SMS_CHANNEL])
def test_the_check_asks_and_offers_three_answers(domain: Domain, channel: str) -> None:
    message = render(domain, "utter_crisis_check", channel)
    assert "Are you thinking about killing yourself right now? Are you safe right now?" in message["text"]
    assert [(b["title"], b["payload"]) for b in message["buttons"]] == [
        ("I'm safe right now", "/confirm_safe"),
        ("I'm not safe", "/not_safe"),
        ("Make a safety plan", "/safety_plan_request"),
    ]


@pytest.mark.parametrize("channel", ["web", SMS_CHANNEL])
def test_the_recheck_asks_again_and_keeps_988_in_view(domain: Domain, channel: str) -> None:
    message = render(domain, "utter_crisis_recheck", channel)
    assert message["text"].startswith("I'm glad. I'd rather ask twice")
    assert "988" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == [
        "/confirm_safe",
        "/not_safe",
        "/safety_plan_request",
    ]


# --- never the discontinued option; numbers in one place ------------------------------------


def _text_files(*roots: str) -> List[Path]:
    files: List[Path] = []
    for root in roots:
        path = ROOT / root
        if path.is_file():
            files.append(path)
            continue
        for f in path.rglob("*"):
            if (
                f.is_file()
                and f.suffix in TEXT_SUFFIXES
                and "node_modules" not in f.parts
                and "__pycache__" not in f.parts
            ):
                files.append(f)
    return sorted(files)


def test_no_discontinued_press_3_option_anywhere() -> None:
    hits = []
    for f in _text_files("domain.yml", "data", "actions", "bot", "scripts", "tests/golden", "README.md"):
        for n, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if DISCONTINUED.search(line):
                hits.append(f"{f.relative_to(ROOT)}:{n}: {line.strip()}")
    assert hits == []


def _outside_generated_region(path: Path, text: str) -> str:
    if path.name != "domain.yml":
        return text
    region = gen.current_region(text)
    return text.replace(region, "\n" * region.count("\n"), 1)


def test_crisis_numbers_are_written_only_in_the_crisis_resources_file() -> None:
    hits = []
    for f in _text_files(*AUTHORED):
        rel = f.relative_to(ROOT)
        if rel in ALLOWED:
            continue
        text = _outside_generated_region(f, f.read_text(encoding="utf-8", errors="replace"))
        for n, line in enumerate(text.splitlines(), 1):
            if any(re.search(p, line) for p in NUMBER_PATTERNS):
                hits.append(f"{rel}:{n}: {line.strip()[:100]}")
    assert hits == [], "crisis numbers outside data/knowledge/crisis_resources.yml:\n" + "\n".join(hits)


def test_the_number_patterns_cover_every_number_in_the_data_file() -> None:
    data = yaml.safe_load((ROOT / "data/knowledge/crisis_resources.yml").read_text(encoding="utf-8"))
    for key in ("lifeline_number", "lifeline_chat", "text_line_number", "veterans_text", "emergency_number"):
        value = str(data["resources"][key])
        assert any(re.search(p, value) for p in NUMBER_PATTERNS), key


# --- the generator refuses bad data ------------------------------------------------------------


def _data() -> Dict[str, Any]:
    return gen.load_data()


def test_generator_refuses_an_unknown_placeholder() -> None:
    data = _data()
    data["messages"]["utter_crisis"]["text"] = "Call {lifeline_numbr}"
    with pytest.raises(gen.CrisisDataError, match="unknown placeholder"):
        gen.render_messages(data)


def test_generator_refuses_the_discontinued_option() -> None:
    data = _data()
    data["messages"]["utter_crisis"]["sms"] = "Call {lifeline_number} and press " + "3"
    with pytest.raises(gen.CrisisDataError, match="discontinued third menu option"):
        gen.render_messages(data)


def test_generator_refuses_an_sms_longer_than_600_characters() -> None:
    data = _data()
    data["messages"]["utter_crisis"]["sms"] = "Text {lifeline_number}. " + "x" * 600
    with pytest.raises(gen.CrisisDataError, match="600"):
        gen.render_messages(data)


def test_generator_refuses_a_message_without_an_sms_variant() -> None:
    data = _data()
    del data["messages"]["utter_sos"]["sms"]
    with pytest.raises(gen.CrisisDataError, match="missing 'sms'"):
        gen.render_messages(data)


@pytest.mark.slow
def test_check_mode_reports_a_stale_domain_and_the_script_repairs_it(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yml"
    data = tmp_path / "crisis_resources.yml"
    shutil.copy(ROOT / "domain.yml", domain)
    shutil.copy(ROOT / "data/knowledge/crisis_resources.yml", data)
    data.write_text(
        data.read_text(encoding="utf-8").replace("I'm here.", "I'm right here."), encoding="utf-8"
    )

    assert gen.main(["--check", "--domain", str(domain), "--data", str(data)]) == 1
    assert gen.main(["--domain", str(domain), "--data", str(data)]) == 0
    assert gen.main(["--check", "--domain", str(domain), "--data", str(data)]) == 0
    reloaded = Domain.load(str(domain))
    assert reloaded.responses["utter_sos"][0]["text"].startswith("I'm right here.")
    # everything outside the region is untouched
    original = (ROOT / "domain.yml").read_text(encoding="utf-8")
    new = domain.read_text(encoding="utf-8")
    assert new.split(gen.BEGIN_MARKER)[0] == original.split(gen.BEGIN_MARKER)[0]
    assert new.split(gen.END_MARKER)[1] == original.split(gen.END_MARKER)[1]


def test_generator_needs_its_markers(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text("version: '3.1'\nresponses: {}\n", encoding="utf-8")
    assert gen.main(["--check", "--domain", str(domain)]) == 2
