"""Treatment information: the knowledge file, its generator, the generated data and the held-out set.

* data/knowledge/treatment_info.yml (answers + sources) and treatment_info_phrasings.yml
  render into data/nlu/treatment_info.yml, data/rules/treatment_info.yml and the
  ``utter_treatment_info/<id>`` responses of domain.yml; ``--check`` fails when stale;
* every treatment the seeds name has a question, each answer is short, sourced, carries no
  crisis number and never prescribes (the generator refuses such a file);
* what the person reads is the answer followed by a "Source:" line, verbatim;
* the held-out questions (tests/nlu/treatment_info_heldout.yml) never appear in training
  data, cover every question, and their facts are in the expected answers;
* the evaluation script scores answers the way a person would read them;
* plain statements that mention a treatment (issue 4): the held-out ones
  (tests/nlu/statements_heldout.yml) are never training data, ask nothing and look like no
  crisis; the training ones (data/nlu/treatment_statements.yml) ask nothing;
  no information question the answers cover is left on treatment_question.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Set

import pytest
import yaml
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain

from scripts import eval_treatment_info as ev
from scripts import gen_treatment_info as gen
from trd.intake.answers import looks_like_question
from trd.safety.risk import RiskEngine

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "nlu" / "treatment_info_heldout.yml"
STATEMENTS_HELDOUT = ROOT / "tests" / "nlu" / "statements_heldout.yml"
STATEMENTS_TRAINING = ROOT / "data" / "nlu" / "treatment_statements.yml"

# Every treatment or topic the seeds name (issue 4) -> the answer that covers it.
REQUIRED_IDS = {
    "what TRD means": "what_is_trd",
    "adequate trial": "adequate_trial",
    "false resistance": "false_resistance",
    "side effects vs resistance": "side_effects_vs_resistance",
    "how long to wait for a medicine": "how_long_to_wait",
    "STAR*D": "star_d",
    "measurement-based care": "measurement_based_care",
    "what to ask": "questions_for_clinician",
    "SSRIs/SNRIs": "ssri_snri",
    "switching within class": "switching",
    "bupropion": "bupropion",
    "mirtazapine": "mirtazapine",
    "combining mechanisms": "combining_antidepressants",
    "lithium": "lithium_augmentation",
    "T3": "t3_augmentation",
    "atypical antipsychotics": "antipsychotic_augmentation",
    "TMS": "tms",
    "the TMS dip": "tms_dip",
    "accelerated TMS / SAINT": "saint_accelerated_tms",
    "TMS session counts": "tms_sessions",
    "ketamine": "ketamine",
    "esketamine": "esketamine",
    "ketamine clinic red flags": "ketamine_clinic_red_flags",
    "how fast ketamine works": "ketamine_speed",
    "ketamine monitoring": "ketamine_side_effects",
    "ketamine cautions": "ketamine_cautions",
    "ECT": "ect",
    "ECT myths": "ect_myths",
    "ECT and memory": "ect_memory",
    "ECT as first choice": "ect_last_resort",
    "MAOIs": "maoi",
    "MAOI diet": "maoi_diet",
    "TCAs": "tca",
    "CBT": "cbt",
    "behavioral activation": "behavioral_activation",
    "IPT": "ipt",
    "EMDR": "emdr",
    "IFS": "ifs",
    "sensorimotor": "sensorimotor",
    "DBT": "dbt",
    "ACT": "act",
    "psilocybin": "psilocybin",
    "VNS": "vns",
    "DBS": "dbs",
    "tDCS": "tdcs",
    "bipolar features": "bipolar_features",
    "trauma": "trauma",
    "ADHD": "adhd",
    "thyroid": "thyroid",
    "B12 and vitamin D": "b12_vitamin_d",
    "sleep apnoea": "sleep_apnea",
    "alcohol": "alcohol_substances",
    "medical contributors": "medical_contributors",
}
SEED_LABELS = ["seed_000", "seed_001", "seed_002", "seed_003", "seed_004"]


@pytest.fixture(scope="module")
def knowledge() -> gen.Knowledge:
    return gen.load_knowledge()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def engine() -> RiskEngine:
    return RiskEngine.from_file()


def _strip_annotations(example: str) -> str:
    pattern = r"\[([^\]]*)\]\((?:[^)]*)\)|\[([^\]]*)\]\{[^}]*\}"
    return re.sub(pattern, lambda m: m.group(1) or m.group(2), example)


def training_examples(skip: str = "") -> Dict[str, str]:
    """Every NLU training example of data/nlu (normalised) -> its intent."""
    out: Dict[str, str] = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        if skip and path.name == skip:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            if "intent" not in item:
                continue
            for line in str(item.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    out[gen.normalise_example(_strip_annotations(line[2:]))] = str(item["intent"])
    return out


def heldout() -> List[ev.Case]:
    return ev.load_cases(HELDOUT)


# --- the generated files --------------------------------------------------------------------------


@pytest.mark.slow
def test_generated_files_are_up_to_date() -> None:
    stale = [str(o.path.relative_to(ROOT)) for o in gen.expected_outputs() if o.stale]
    assert stale == [], f"out of date: {stale}; run .venv/bin/python scripts/gen_treatment_info.py"
    assert gen.main(["--check"]) == 0


def test_training_data_has_one_retrieval_intent_per_question(knowledge: gen.Knowledge) -> None:
    data = yaml.safe_load((ROOT / "data" / "nlu" / "treatment_info.yml").read_text(encoding="utf-8"))
    intents = [item["intent"] for item in data["nlu"]]
    assert intents == [f"treatment_info/{e.id}" for e in knowledge.entries]
    for item in data["nlu"]:
        examples = [line[2:] for line in item["examples"].splitlines() if line.startswith("- ")]
        assert examples == list(knowledge.entry(item["intent"].split("/")[1]).phrasings)


@pytest.mark.slow
def test_domain_declares_the_intent_and_a_response_per_question(
    domain: Domain, knowledge: gen.Knowledge
) -> None:
    assert "treatment_info" in domain.intents
    ours = sorted(name for name in domain.responses if name.startswith("utter_treatment_info/"))
    assert ours == sorted(f"utter_treatment_info/{e.id}" for e in knowledge.entries)


@pytest.mark.parametrize("channel", ["rest", "web", "twilio"])
def test_the_person_reads_the_answer_then_its_source(
    domain: Domain, knowledge: gen.Knowledge, channel: str
) -> None:
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    for entry in knowledge.entries:
        out = nlg.generate_from_slots(f"utter_treatment_info/{entry.id}", {}, channel)
        assert out is not None
        answer, source = out["text"].split("\n")
        assert answer == entry.answer
        assert source.startswith("Source: ") and source.endswith(".")


def test_tms_answer_verbatim(domain: Domain) -> None:
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    out = nlg.generate_from_slots("utter_treatment_info/tms", {}, "rest")
    assert out is not None
    assert out["text"] == (
        "TMS (transcranial magnetic stimulation) uses focused magnetic pulses to stimulate a "
        "mood-regulating area at the front of the brain, the left dorsolateral prefrontal cortex. In "
        "treatment-resistant depression, published response rates run 50-60% and remission about 30-40%. "
        "Because it works outside the monoamine system, many people who didn't respond to antidepressants "
        "still respond, and it's "
        "FDA-approved for treatment-resistant depression.\n"
        "Source: A psychiatrist's decision-tree article on treatment-resistant depression; \"The "
        "Treatment-Resistant Depression Map\", DepressionResource.org, reviewed by Shariq Refai, MD, MBA."
    )


def test_a_published_source_is_shown_as_cited(knowledge: gen.Knowledge) -> None:
    line = knowledge.source_line(knowledge.entry("star_d"))
    assert line == (
        "Source: A psychiatrist's decision-tree article on treatment-resistant depression, citing the STAR*D "
        "trial (Rush AJ et al., Am J Psychiatry 2006;163:1905-1917) and a 2023 reanalysis of STAR*D (Pigott "
        "HE et al., BMJ Open 2023;13:e063095)."
    )


def test_star_d_and_esketamine_are_stated_as_the_evidence_has_it(knowledge: gen.Knowledge) -> None:
    """Issue 11: STAR*D's 67% is cumulative and theoretical (14% and 13% at steps 3-4; a 2023 reanalysis
    found about 35%); esketamine alone since January 2025; reduced suicidality is ketamine's evidence."""
    star_d = knowledge.entry("star_d").answer
    assert "cumulative, theoretical" in star_d and "14% and 13%" in star_d and "about 35%" in star_d
    assert "about 35%" in knowledge.entry("not_untreatable").answer
    esketamine = knowledge.entry("esketamine").answer
    assert "since January 2025, on its own" in esketamine and "suicid" not in esketamine
    assert knowledge.entry("ketamine_suicidality").answer.startswith(
        "Of all antidepressant treatments, ketamine has the strongest evidence"
    )


# --- the content ------------------------------------------------------------------------------------


def test_every_treatment_the_seeds_name_has_a_question(knowledge: gen.Knowledge) -> None:
    ids = {e.id for e in knowledge.entries}
    missing = {topic: qid for topic, qid in REQUIRED_IDS.items() if qid not in ids}
    assert missing == {}
    assert len(ids) >= 40


def test_each_question_has_at_least_six_phrasings(knowledge: gen.Knowledge) -> None:
    few = {e.id: len(e.phrasings) for e in knowledge.entries if len(e.phrasings) < 6}
    assert few == {}


def test_every_answer_is_short_and_names_a_seed(knowledge: gen.Knowledge) -> None:
    for e in knowledge.entries:
        assert 2 <= len(gen.sentences(e.answer)) <= 5, e.id
        seeds = [s for s in e.sources if s in SEED_LABELS]
        assert seeds, e.id
        assert knowledge.sources[seeds[0]].label in knowledge.source_line(e)


@pytest.mark.parametrize(
    ("qid", "figures"),
    [
        ("tms", ["50-60%", "30-40%"]),
        ("tms_sessions", ["20-36", "5 days a week"]),
        ("tms_dip", ["second or third week"]),
        ("saint_accelerated_tms", ["five days"]),
        ("ketamine", ["50-70%", "30-40%"]),
        ("ketamine_speed", ["hours to days"]),
        ("star_d", ["30%", "67%"]),
        ("adequate_trial", ["6-8 weeks"]),
        ("what_is_trd", ["at least two", "3 in 10"]),
        ("measurement_based_care", ["4 weeks", "8 for a full trial"]),
    ],
)
def test_answers_carry_the_seeds_figures(knowledge: gen.Knowledge, qid: str, figures: List[str]) -> None:
    answer = knowledge.entry(qid).answer
    for figure in figures:
        assert figure in answer, (qid, figure)


def test_no_answer_tells_anyone_to_start_stop_or_change_a_treatment(knowledge: gen.Knowledge) -> None:
    for e in knowledge.entries:
        gen.check_answer(e.answer, e.id)  # raises on prescriptive wording or a crisis number
        assert not re.search(r"\byou should\b", e.answer, re.IGNORECASE), e.id


def test_crisis_help_is_offered_as_type_help_now(knowledge: gen.Knowledge) -> None:
    for qid in ("tms_dip", "ketamine_suicidality"):
        assert "type help now" in knowledge.entry(qid).answer


# --- the generator refuses bad data ---------------------------------------------------------------


def _copy_inputs(tmp_path: Path) -> Dict[str, Path]:
    paths = {
        "knowledge": tmp_path / "treatment_info.yml",
        "phrasings": tmp_path / "treatment_info_phrasings.yml",
        "domain": tmp_path / "domain.yml",
        "nlu": tmp_path / "nlu.yml",
        "rules": tmp_path / "rules.yml",
    }
    shutil.copy(gen.KNOWLEDGE_FILE, paths["knowledge"])
    shutil.copy(gen.PHRASINGS_FILE, paths["phrasings"])
    shutil.copy(gen.DOMAIN_FILE, paths["domain"])
    shutil.copy(gen.NLU_FILE, paths["nlu"])
    shutil.copy(gen.RULES_FILE, paths["rules"])
    return paths


def _args(p: Dict[str, Path]) -> List[str]:
    return [
        "--knowledge", str(p["knowledge"]), "--phrasings", str(p["phrasings"]), "--domain", str(p["domain"]),
        "--nlu-out", str(p["nlu"]), "--rules-out", str(p["rules"]),
    ]


def _set_answer(path: Path, qid: str, answer: str) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in data["entries"]:
        if entry["id"] == qid:
            entry["answer"] = answer
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answer", "complaint"),
    [
        ("TMS can help. If it gets hard, call 9" "88 any time.", "crisis numbers"),
        ("TMS can help. In an emergency dial 9" "11.", "crisis numbers"),
        ("TMS can help. You should stop taking your SSRI first.", "instruction"),
        ("TMS can help. Stop your antidepressant before starting.", "instruction"),
        ("TMS can help. Keep taking your medicine during the course.", "instruction"),
        ("TMS can help.", "sentences"),
        ("One. Two. Three. Four. Five. Six.", "sentences"),
        ("TMS can help. Ask about it, {name}.", "curly braces"),
    ],
)
def test_generator_refuses_a_bad_answer(tmp_path: Path, capsys: Any, answer: str, complaint: str) -> None:
    p = _copy_inputs(tmp_path)
    _set_answer(p["knowledge"], "tms", answer)
    before = p["domain"].read_text(encoding="utf-8")
    assert gen.main(_args(p)) == 2
    assert complaint in capsys.readouterr().err
    assert p["domain"].read_text(encoding="utf-8") == before  # nothing written


@pytest.mark.slow
def test_generator_refuses_an_unknown_source_and_an_entry_without_a_seed(tmp_path: Path, capsys: Any) -> None:
    p = _copy_inputs(tmp_path)
    data = yaml.safe_load(p["knowledge"].read_text(encoding="utf-8"))
    data["entries"][0]["sources"] = ["star_d"]
    p["knowledge"].write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert gen.main(_args(p)) == 2
    assert "at least one seed" in capsys.readouterr().err
    data["entries"][0]["sources"] = ["nowhere"]
    p["knowledge"].write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert gen.main(_args(p)) == 2
    assert "unknown source" in capsys.readouterr().err


@pytest.mark.slow
def test_generator_refuses_too_few_or_repeated_phrasings(tmp_path: Path, capsys: Any) -> None:
    p = _copy_inputs(tmp_path)
    data = yaml.safe_load(p["phrasings"].read_text(encoding="utf-8"))
    data["phrasings"]["tms"] = data["phrasings"]["tms"][:5]
    p["phrasings"].write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert gen.main(_args(p)) == 2
    assert "fewer than 6" in capsys.readouterr().err
    data["phrasings"]["tms"] = data["phrasings"]["tms"] + ["What is ECT?"]
    data["phrasings"]["tms"] += ["tms 1", "tms 2"]
    p["phrasings"].write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert gen.main(_args(p)) == 2
    assert "repeats an example of" in capsys.readouterr().err


def test_generator_needs_its_markers(tmp_path: Path, capsys: Any) -> None:
    p = _copy_inputs(tmp_path)
    text = p["domain"].read_text(encoding="utf-8").replace(gen.END_MARKER, "# end")
    p["domain"].write_text(text, encoding="utf-8")
    assert gen.main(_args(p)) == 2
    assert gen.BEGIN_MARKER in capsys.readouterr().err


@pytest.mark.slow
def test_check_reports_stale_files_and_the_script_repairs_only_its_region(tmp_path: Path) -> None:
    p = _copy_inputs(tmp_path)
    _set_answer(p["knowledge"], "tms", "TMS is a magnetic treatment. Ask your clinician about it.")
    domain_before = p["domain"].read_text(encoding="utf-8")
    assert gen.main(_args(p) + ["--check"]) == 1
    assert p["domain"].read_text(encoding="utf-8") == domain_before  # --check writes nothing
    assert gen.main(_args(p)) == 0
    after = p["domain"].read_text(encoding="utf-8")
    assert "TMS is a magnetic treatment. Ask your clinician about it.\n" in after
    outside = lambda t: t.replace(gen.current_region(t), "")  # noqa: E731
    assert outside(after) == outside(domain_before)  # the rest of domain.yml is untouched
    assert gen.main(_args(p) + ["--check"]) == 0


@pytest.mark.slow
def test_a_new_form_makes_check_fail_until_its_rule_is_generated(tmp_path: Path) -> None:
    p = _copy_inputs(tmp_path)
    text = p["domain"].read_text(encoding="utf-8").replace(
        "\nforms:\n", "\nforms:\n  brand_new_form:\n    required_slots: [med_names]\n", 1
    )
    p["domain"].write_text(text, encoding="utf-8")
    assert gen.main(_args(p) + ["--check"]) == 1
    assert gen.main(_args(p)) == 0
    rules = yaml.safe_load(p["rules"].read_text(encoding="utf-8"))["rules"]
    assert any(r.get("condition") == [{"active_loop": "brand_new_form"}] for r in rules)


# --- training data and held-out questions -------------------------------------------------------


def test_no_phrasing_is_an_example_of_another_intent(knowledge: gen.Knowledge) -> None:
    others = training_examples(skip="treatment_info.yml")
    clashes = [
        f"{text!r} ({e.id}) is also an example of {others[gen.normalise_example(text)]}"
        for e in knowledge.entries
        for text in e.phrasings
        if gen.normalise_example(text) in others
    ]
    assert clashes == []


@pytest.mark.slow
def test_no_training_phrasing_looks_like_a_crisis(knowledge: gen.Knowledge, engine: RiskEngine) -> None:
    risky = [f"{e.id}: {t}" for e in knowledge.entries for t in e.phrasings if engine.assess(t).is_risk]
    assert risky == []


def test_no_training_phrasing_is_a_safety_suite_case(knowledge: gen.Knowledge) -> None:
    """The safety suite's messages (tests/safety/*.yml) stay unseen by the classifier."""
    cases: Set[str] = set()
    for path in (ROOT / "tests" / "safety").glob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for section in ("crisis", "lookalikes"):
            for messages in (data.get(section) or {}).values():
                cases.update(gen.normalise_example(str(m)) for m in messages)
    assert cases, "no safety cases found"
    seen = [t for e in knowledge.entries for t in e.phrasings if gen.normalise_example(t) in cases]
    assert seen == []


def test_heldout_questions_cover_every_answer_at_least_twice(knowledge: gen.Knowledge) -> None:
    counts = Counter(case.id for case in heldout())
    ids = {e.id for e in knowledge.entries}
    assert set(counts) <= ids, set(counts) - ids
    assert {qid: counts[qid] for qid in ids if counts[qid] < 2} == {}


@pytest.mark.slow
def test_heldout_questions_are_never_training_data() -> None:
    examples = training_examples()
    overlap = [case.text for case in heldout() if gen.normalise_example(case.text) in examples]
    assert overlap == []
    texts = [gen.normalise_example(case.text) for case in heldout()]
    assert len(texts) == len(set(texts))


def test_heldout_facts_are_in_the_expected_answers(knowledge: gen.Knowledge) -> None:
    for case in heldout():
        text = knowledge.text(knowledge.entry(case.id))
        assert ev.missing_facts(case, text) == [], case


def test_no_heldout_question_looks_like_a_crisis(engine: RiskEngine) -> None:
    assert [case.text for case in heldout() if engine.assess(case.text).is_risk] == []


# --- the evaluation script ---------------------------------------------------------------------------


def _parse_result(intent: str, key: str) -> Dict[str, Any]:
    """The shape of a Rasa 3.6 /model/parse result with a ResponseSelector."""
    return {
        "text": "q",
        "intent": {"name": intent, "confidence": 0.9},
        "response_selector": {
            "all_retrieval_intents": ["treatment_info"],
            "treatment_info": {
                "response": {
                    "id": 1, "responses": [{"text": "..."}], "response_templates": [{"text": "..."}],
                    "confidence": 0.8, "intent_response_key": key, "utter_action": f"utter_{key}",
                },
                "ranking": [],
            },
        },
    }


def test_eval_reads_the_selected_answer_from_parse(knowledge: gen.Knowledge) -> None:
    answer = ev.answer_from_parse(_parse_result("treatment_info", "treatment_info/tms_dip"), knowledge)
    assert answer.id == "tms_dip" and "second or third week" in answer.text
    other = ev.answer_from_parse(_parse_result("treatment_question", "treatment_info/tms_dip"), knowledge)
    assert other.id is None and other.intent == "treatment_question"  # the bot would not give this answer
    assert ev.answer_from_parse({"intent": {"name": "nlu_fallback"}}, knowledge).id is None


def test_eval_matches_the_answer_a_person_reads(knowledge: gen.Knowledge) -> None:
    text = knowledge.text(knowledge.entry("ect_memory"))
    assert ev.answer_from_messages([{"recipient_id": "x", "text": text}], knowledge).id == "ect_memory"
    generic = [{"text": "That's a good question to bring to your clinician."}]
    assert ev.answer_from_messages(generic, knowledge).id is None


def test_eval_scores_ids_and_facts(knowledge: gen.Knowledge) -> None:
    cases = [
        ev.Case("what is the tms dip", "tms_dip", ("second or third week",)),
        ev.Case("how fast is ketamine", "ketamine_speed", ("hours to days",)),
        ev.Case("what is ECT", "ect", ("anesthesia",)),
        ev.Case("does TMS hurt", "tms_side_effects", ("tapping",)),
    ]
    replies = {
        "what is the tms dip": ev.Answer("tms_dip", knowledge.text(knowledge.entry("tms_dip"))),
        "how fast is ketamine": ev.Answer("ketamine", knowledge.text(knowledge.entry("ketamine"))),
        "what is ECT": ev.Answer(None, "", "nlu_fallback"),
        "does TMS hurt": ev.Answer(None, "That's a good question to bring to your clinician."),
    }
    report = ev.evaluate(cases, replies.__getitem__, knowledge)
    assert (report.correct, report.total) == (1, 4)
    assert [m.case.id for m in report.misses] == ["ketamine_speed", "ect", "tms_side_effects"]
    assert "expected ketamine_speed, got ketamine; missing ['hours to days']" in report.misses[0].describe()
    assert "no answer (intent nlu_fallback)" in report.misses[1].describe()
    assert "another reply (\"That's a good question" in report.misses[2].describe()
    assert report.by_topic["tms"] == [1, 2]


# --- plain statements that mention a treatment ---------------------------------------------------------


def heldout_statements() -> List[str]:
    data = yaml.safe_load(STATEMENTS_HELDOUT.read_text(encoding="utf-8"))
    return [str(t) for t in data["statements"]]


def intent_examples(path: Path, intent: str) -> List[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: List[str] = []
    for item in data.get("nlu") or []:
        if item.get("intent") == intent:
            out += [line.strip()[2:] for line in str(item["examples"]).splitlines() if line.strip()]
    return out


def test_heldout_statements_are_many_distinct_and_never_training_data() -> None:
    statements = heldout_statements()
    assert len(statements) >= 20
    normalised = [gen.normalise_example(t) for t in statements]
    assert len(normalised) == len(set(normalised))
    examples = training_examples()
    assert [t for t in statements if gen.normalise_example(t) in examples] == []
    questions = {gen.normalise_example(c.text) for c in heldout()}
    assert [t for t in statements if gen.normalise_example(t) in questions] == []


def test_heldout_statements_ask_nothing_and_look_like_no_crisis(engine: RiskEngine) -> None:
    statements = heldout_statements()
    assert [t for t in statements if looks_like_question(t)] == []
    assert [t for t in statements if engine.assess(t).is_risk] == []


def test_training_statements_ask_nothing_and_look_like_no_crisis(engine: RiskEngine) -> None:
    """Statements are share_feelings; medicine history told as what a clinician did is
    inform_medications (it leads into the intake); neither asks anything."""
    data = yaml.safe_load(STATEMENTS_TRAINING.read_text(encoding="utf-8"))
    assert {item["intent"] for item in data["nlu"]} == {"share_feelings", "inform_medications"}
    statements = intent_examples(STATEMENTS_TRAINING, "share_feelings")
    history = [_strip_annotations(t) for t in intent_examples(STATEMENTS_TRAINING, "inform_medications")]
    assert len(statements) >= 40
    assert [t for t in statements + history if looks_like_question(t)] == []
    assert [t for t in statements + history if engine.assess(t).is_risk] == []


def test_questions_the_answers_cover_are_treatment_info_not_treatment_question(
    knowledge: gen.Knowledge,
) -> None:
    """treatment_question keeps doses, levels, interactions, cost and logistics (a clinician's call);
    these questions, once on it, are answered by treatment_info now."""
    moved = {
        "how often do I need lithium blood tests": "lithium_augmentation",
        "how long is each TMS appointment": "tms_sessions",
        "can I keep working during a course of TMS": "tms_sessions",
        "does quetiapine cause weight gain": "antipsychotic_augmentation",
        "is aripiprazole sedating": "antipsychotic_augmentation",
        "can I drink alcohol on sertraline": "alcohol_substances",
    }
    examples = training_examples()
    assert {t: examples.get(gen.normalise_example(t)) for t in moved} == {
        t: f"treatment_info/{qid}" for t, qid in moved.items()
    }
    left = intent_examples(ROOT / "data" / "nlu" / "safety.yml", "treatment_question")
    assert len(left) >= 30  # the intent keeps its own purpose
