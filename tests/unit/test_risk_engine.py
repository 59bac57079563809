"""The deterministic risk engine (trd/safety/risk.py) on the held-out safety cases.

Every crisis message of tests/safety/cases.yml and tests/safety/holdout.yml must
raise the right intent with its category among those found; no look-alike may
raise anything. One test per message, so a failure names the message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
import yaml

from trd.safety import risk
from trd.safety.risk import (
    INTENT_CRISIS,
    INTENT_DANGER_NOW,
    INTENT_SOS,
    LexiconError,
    Normalizer,
    RiskEngine,
    build_lexicon,
    load_lexicon,
)

ROOT = Path(__file__).resolve().parents[2]
CASE_FILES = [ROOT / "tests" / "safety" / "cases.yml", ROOT / "tests" / "safety" / "holdout.yml"]
LOOKALIKE_KINDS = ("idioms", "treatment_words", "negated_history", "low_mood", "news")
EXPECTED_INTENT = {"danger_now": INTENT_DANGER_NOW, "sos": INTENT_SOS}


@pytest.fixture(scope="module")
def engine() -> RiskEngine:
    return RiskEngine.from_file()


def _load(path: Path) -> Dict[str, Dict[str, List[str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and "crisis" in data and "lookalikes" in data, path
    return data


def _crisis_cases() -> Iterator[Tuple[str, str, str]]:
    for path in CASE_FILES:
        for category, messages in _load(path)["crisis"].items():
            for text in messages:
                yield path.stem, category, text


def _lookalike_cases() -> Iterator[Tuple[str, str, str]]:
    for path in CASE_FILES:
        for kind, messages in _load(path)["lookalikes"].items():
            for text in messages:
                yield path.stem, kind, text


CRISIS = list(_crisis_cases())
LOOKALIKES = list(_lookalike_cases())


# --- the case files themselves -------------------------------------------------------------


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_case_file_covers_every_category(path: Path) -> None:
    data = _load(path)
    assert set(data["crisis"]) == set(risk.ALL_CATEGORIES)
    assert set(data["lookalikes"]) == set(LOOKALIKE_KINDS)
    minimum_crisis, minimum_lookalike = (25, 20) if path.stem == "cases" else (10, 10)
    for category, messages in data["crisis"].items():
        assert len(messages) >= minimum_crisis, category
        assert len(set(messages)) == len(messages), f"duplicate message in {category}"
    for kind, messages in data["lookalikes"].items():
        assert len(messages) >= minimum_lookalike, kind


def _training_examples() -> List[str]:
    examples: List[str] = []
    for f in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []) or []:
            raw = block.get("examples") or ""
            for line in raw.splitlines():
                line = line.strip()
                if line.startswith("- "):
                    # drop entity annotations: [text](entity)
                    examples.append(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line[2:]))
    return examples


def _key(text: str, normalizer: Normalizer) -> str:
    return " ".join(t for t in normalizer.tokens(text) if t not in (".", ","))


@pytest.mark.slow
def test_no_test_message_is_copied_from_the_training_data_or_the_lexicon(engine: RiskEngine) -> None:
    normalizer = engine.lexicon.normalizer
    training = {_key(t, normalizer) for t in _training_examples()}
    assert len(training) > 300, "the NLU training data should be loaded"
    lexicon_examples = {
        _key(t, normalizer)
        for rule in engine.lexicon.risk_rules + engine.lexicon.lookalike_rules
        for t in rule.examples + rule.not_examples
    }
    copied = [
        (source, text)
        for source, _, text in CRISIS + LOOKALIKES
        if _key(text, normalizer) in training or _key(text, normalizer) in lexicon_examples
    ]
    assert copied == []


def test_holdout_is_not_a_copy_of_the_cases(engine: RiskEngine) -> None:
    normalizer = engine.lexicon.normalizer
    cases = {_key(t, normalizer) for source, _, t in CRISIS + LOOKALIKES if source == "cases"}
    repeated = [
        t for source, _, t in CRISIS + LOOKALIKES if source == "holdout" and _key(t, normalizer) in cases
    ]
    assert repeated == []


# --- recall: every crisis message is caught ------------------------------------------------


@pytest.mark.parametrize(
    ("source", "category", "text"), CRISIS, ids=[f"{s}-{c}-{t[:40]}" for s, c, t in CRISIS]
)
def test_crisis_message_is_caught(engine: RiskEngine, source: str, category: str, text: str) -> None:
    result = engine.assess(text)
    expected = EXPECTED_INTENT.get(category)
    assert result.is_risk, f"missed crisis message ({category}): {text!r} -> {result.normalized!r}"
    if expected:
        assert result.intent == expected, (text, result.intent)
    else:
        assert result.intent in (INTENT_CRISIS, INTENT_DANGER_NOW), (text, result.intent)
    assert category in result.categories, (text, result.categories, [h.rule_id for h in result.hits])


# --- precision: no look-alike raises anything -----------------------------------------------


@pytest.mark.parametrize(
    ("source", "kind", "text"), LOOKALIKES, ids=[f"{s}-{k}-{t[:40]}" for s, k, t in LOOKALIKES]
)
def test_lookalike_does_not_raise_a_crisis(engine: RiskEngine, source: str, kind: str, text: str) -> None:
    result = engine.assess(text)
    assert not result.is_risk, (
        f"false alarm ({kind}): {text!r} -> {result.intent} {[(h.rule_id, h.text) for h in result.hits]}"
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("this drug is killing my libido", "idioms"),
        ("my back is killing me", "idioms"),
        ("what's the highest dose of sertraline", "treatment_words"),
        ("I've never been suicidal", "negated_history"),
        ("suicide rates in the news", "news"),
    ],
)
def test_explicit_lookalikes_are_named_so_the_guard_can_overrule_a_classifier(
    engine: RiskEngine, text: str, kind: str
) -> None:
    result = engine.assess(text)
    assert not result.is_risk
    assert kind in result.explained_by
    assert not result.has_risk_signal


def test_a_bare_medicine_name_does_not_explain_away_anything(engine: RiskEngine) -> None:
    result = engine.assess("sertraline is not working and I see no way forward")
    assert "treatment_words" in result.lookalikes
    assert result.explained_by == ()


# --- negation: the documented decisions -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to live anymore",
        "I'm not sure I want to be alive",
        "no reason to live",
        "I wish I wouldn't wake up",
        "I don't know why I want to die",
        "I can't stop thinking about killing myself",
    ],
)
def test_wording_that_is_itself_negative_fires(engine: RiskEngine, text: str) -> None:
    assert engine.assess(text).is_crisis, text


@pytest.mark.parametrize(
    "text",
    [
        "I've never been suicidal",
        "I have never tried to kill myself",
        "I haven't self-harmed in years",
        "I didn't try to overdose",
        "no, I have not ever tried to kill myself",
        "she has never hurt herself",
    ],
)
def test_negated_history_does_not_fire(engine: RiskEngine, text: str) -> None:
    result = engine.assess(text)
    assert not result.is_risk, (text, [(h.rule_id, h.note) for h in result.hits])
    assert result.negated_history, text
    assert "negated_history" in result.lookalikes


@pytest.mark.parametrize(
    "text",
    [
        "the thoughts about dying haven't come back",
        "the urge to cut hasn't been there since march",
        "thoughts of suicide have stayed away since the lithium",
        "self harm is behind me now, 6 years clean",
    ],
)
def test_thoughts_or_self_harm_said_after_the_words_to_be_over_are_negated_history(
    engine: RiskEngine, text: str
) -> None:
    result = engine.assess(text)
    assert not result.is_risk, (text, [(h.rule_id, h.note) for h in result.hits])
    assert "negated_history" in result.explained_by


@pytest.mark.parametrize(
    "text",
    [
        "the thoughts about dying haven't come back until last night",  # a risk cue after it
        "the thoughts of killing myself are gone for now",  # hedged
        "suicidal thoughts haven't gone away",  # not over
        "I want to kill myself. not in years have I felt this bad",  # another sentence
        "I want to kill myself, not in years have I felt this bad",  # too much after it
        "i took all my pills, they are gone",  # an act is never history by the words after it
    ],
)
def test_what_only_looks_over_after_the_words_still_fires(engine: RiskEngine, text: str) -> None:
    assert engine.assess(text).is_crisis, text


@pytest.mark.parametrize(
    "text",
    ["I'm not going to kill myself", "I'm not suicidal", "I would never hurt myself", "I don't want to die"],
)
def test_a_first_person_denial_still_fires_safety_first(engine: RiskEngine, text: str) -> None:
    result = engine.assess(text)
    assert result.is_crisis, text
    assert result.denials, text
    assert all("denial" in h.note for h in result.hits), [h.note for h in result.hits]


def test_a_denial_with_an_explicit_safety_statement_answers_the_check(engine: RiskEngine) -> None:
    result = engine.assess("I'm safe, I'm not going to hurt myself")
    assert not result.is_risk
    assert result.safe_affirmation and result.denials
    # ... but not when something else is risky
    assert engine.assess("I'm safe, I'm not going to hurt myself, but I want to die").is_crisis


def test_wanting_to_live_is_not_a_statement_of_safety(engine: RiskEngine) -> None:
    # "I want to live, I just can't see how anymore": it is said by people at risk too
    assert not engine.assess("I want to live, I just can't see how anymore").safe_affirmation


@pytest.mark.parametrize(
    "text", ["I would never hurt my kids", "I don't want to hurt anyone", "I'm not going to hurt anybody"]
)
def test_denying_harm_to_others_does_not_fire(engine: RiskEngine, text: str) -> None:
    result = engine.assess(text)
    assert not result.is_risk, (text, [h.rule_id for h in result.hits])
    assert not result.explained_by  # ... and is never a look-alike that could overrule the classifier


@pytest.mark.parametrize(
    "text",
    [
        "suicidal? no. exhausted? very.",
        "do I think about suicide? no. I think about quitting my job",
        "thoughts of being better off dead or hurting myself - not at all",
        "Suicidal ideation: none. Mood: 3/10.",
        "have I ever wanted to kill myself? never",
        "my old psychiatrist asked about suicide every visit. the answer was always no and it still is",
    ],
)
def test_a_question_about_risk_answered_no_is_a_denial(engine: RiskEngine, text: str) -> None:
    # like "I'm not suicidal": the engine still reports it (as a denial), and the assessment
    # gives a plain denial an ordinary answer (trd/safety/assessment.py)
    result = engine.assess(text)
    notes = [(h.rule_id, h.note) for h in result.hits]
    assert result.denials and all("denial" in h.note for h in result.hits), notes


def test_a_question_answered_no_about_the_past_is_negated_history(engine: RiskEngine) -> None:
    result = engine.assess("my old psychiatrist asked if i'd ever tried to overdose, i haven't")
    assert not result.is_risk and result.negated_history


@pytest.mark.parametrize(
    "text",
    [
        "kill myself? no. not yet",  # hedged
        "suicidal? yes",
        "wanna die. no cap",  # slang, not an answer
        "want to die. no one cares",
        "been cutting again. nope, not telling anyone",  # no question was asked
        "suicidal? no, but lately I wonder what the point is",  # a risk cue after the no
        "I want to die. No.",  # a statement, not a question
    ],
)
def test_what_only_looks_like_an_answered_no_still_fires(engine: RiskEngine, text: str) -> None:
    result = engine.assess(text)
    assert result.is_crisis and not all("denial" in h.note for h in result.hits), text


@pytest.mark.parametrize(
    "text",
    ["I'm not suicidal, I have zero intention of hurting myself", "Zero thoughts of suicide. Zero."],
)
def test_zero_is_a_negation(engine: RiskEngine, text: str) -> None:
    assert all("denial" in h.note for h in engine.assess(text).hits), text


@pytest.mark.parametrize(
    "text",
    [
        "we lost my cousin last year, she took her own life in march",
        "my grandfather killed himself in 1998 and my mum still won't talk about it",
        "I lost my uncle to suicide",
        "i go to a suicide bereavement group on tuesdays",
    ],
)
def test_a_death_in_the_past_is_grief_not_someone_at_risk(engine: RiskEngine, text: str) -> None:
    result = engine.assess(text)
    assert not result.is_risk and "grief" in result.lookalikes, [h.rule_id for h in result.hits]


@pytest.mark.parametrize(
    "text",
    [
        "my brother just killed himself, he's not breathing",
        "my brother killed himself last year and I want to do the same",
        "my dad almost killed himself last night",
    ],
)
def test_grief_does_not_hide_risk_now(engine: RiskEngine, text: str) -> None:
    assert engine.assess(text).is_crisis, text


@pytest.mark.parametrize(
    "text",
    [
        "My brother attempted to kill himself two years ago. He's doing well now",
        "my daughter used to cut herself. She doesn't do it anymore",
        "my dad was suicidal after his heart attack but he says those thoughts are gone",
        # a contrast whose whole is their reason to live, or their care
        "my brother tried to kill himself last year, he says he is fine now, but he wants to see"
        " his kids grow up",
        "mum was suicidal in the spring. she is doing better now, though she is seeing a therapist weekly",
    ],
)
def test_someone_elses_past_risk_with_them_safe_now_does_not_fire(engine: RiskEngine, text: str) -> None:
    result = engine.assess(text)
    assert not result.is_risk and "third_party_safe" in result.explained_by, [h.rule_id for h in result.hits]


@pytest.mark.parametrize(
    "text",
    [
        "my son tried to kill himself last year, he says he's fine but he gave his guitar away",
        "she said she's fine for now, but she keeps talking about ending her life",
        "my friend took all her pills, she says she is ok",  # happening now
        "my brother used to cut himself and I want to kill myself too",  # the speaker's own risk
        "my brother has been cutting himself again and says he is fine",  # told as now
        # what follows the contrast speaks of an ending, or doubts
        "my brother tried to kill himself last year, he says he is fine now, but he wants to see"
        " the sea one last time",
        "my brother tried to kill himself last year, he says he is fine now, but i do not believe him",
    ],
)
def test_a_safe_statement_does_not_hide_risk_that_is_still_there(engine: RiskEngine, text: str) -> None:
    assert engine.assess(text).is_crisis, text


def test_a_question_someone_else_asked_is_reported_not_disclosed(engine: RiskEngine) -> None:
    asked = "My therapist asked me if I'd ever want to kill myself and it threw me"
    assert engine.assess(asked).reported_question
    assert not engine.assess("I asked my doctor if 40 pills would kill me").reported_question
    assert not engine.assess("the nurse asked if i want to kill myself and i said yes").reported_question


def test_a_denial_about_someone_else_does_not_fire_and_is_not_a_lookalike(engine: RiskEngine) -> None:
    result = engine.assess("my son isn't suicidal, he's just quiet")
    assert not result.is_risk
    assert result.denials and result.denials[0].third_party
    # a denial is a risk signal: the guard never uses it to overrule a classifier's crisis
    assert not result.explained_by and result.has_risk_signal


@pytest.mark.parametrize(
    "text",
    [
        "I'm probably not going to kill myself",
        "I'm not suicidal right now",
        "I haven't cut in years but I want to tonight",
        "I've never been suicidal until now",
        "I can't say I'm not suicidal",
        "I don't want to hurt anyone but I keep having thoughts of stabbing my boss",
    ],
)
def test_hedged_doubled_or_contrasted_negation_fires(engine: RiskEngine, text: str) -> None:
    assert engine.assess(text).is_crisis, text


def test_a_retraction_is_recorded_but_still_fires(engine: RiskEngine) -> None:
    result = engine.assess("I was joking when I said I wanted to die")
    assert result.is_crisis and result.retracted
    assert engine.assess("you misunderstood, I really do want to die").is_crisis


# --- who and when ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category", "intent"),
    [
        ("my brother said he wants to die", "third_party", INTENT_CRISIS),
        ("I told my brother I want to die", "suicidal_ideation", INTENT_CRISIS),
        ("my mom said I should kill myself", "suicidal_ideation", INTENT_CRISIS),
        ("my friend just took all her pills", "third_party", INTENT_DANGER_NOW),
        ("I took a bottle of pills two years ago", "suicidal_ideation", INTENT_CRISIS),
        ("I just took a bottle of pills", "danger_now", INTENT_DANGER_NOW),
        ("I want to kill my boss and then myself", "harm_to_others", INTENT_CRISIS),
        ("help now, I want to die", "suicidal_ideation", INTENT_CRISIS),
        # a noun in the sentence before is not the subject; someone's own relation is
        ("then I did a DBT skills group. still cutting most nights", "self_harm", INTENT_CRISIS),
        ("worried about my sister. been cutting again she says", "third_party", INTENT_CRISIS),
    ],
)
def test_subject_time_and_priority(engine: RiskEngine, text: str, category: str, intent: str) -> None:
    result = engine.assess(text)
    assert (result.category, result.intent) == (category, intent), (text, result.categories)


def test_several_categories_are_all_reported_most_urgent_first(engine: RiskEngine) -> None:
    result = engine.assess("I've been saving my pills and I want to kill myself")
    assert result.category == "plan"
    assert set(result.categories) >= {"plan", "suicidal_ideation"}


# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("wnt 2 die", "want to die"),
        ("I'm gonna kil myslf 2nite", "i am going to kill myself tonight"),
        ("I don't wanna live", "i do not want to live"),
        ("k i l l myself", "kill myself"),
        ("s.u.i.c.i.d.e", "suicide"),
        ("su1c1de", "suicide"),
        ("k!ll myself", "kill myself"),
        ("I want to dieeeee", "i want to die"),
        ("SUICIDAL!!!", "suicidal !!"),
        ("i od'd", "i overdosed"),
        ("\u0455uicide", "suicide"),  # Cyrillic s
        ("I\u2019m done", "i am done"),
        ("took 2 pills", "took 2 pills"),
        ("savin them 4 when i'm ready", "saving them for when i am ready"),
    ],
)
def test_normalisation(engine: RiskEngine, raw: str, normalized: str) -> None:
    assert engine.normalize(raw) == normalized


@pytest.mark.slow
@pytest.mark.parametrize("text", [None, "", "   ", "\U0001f600\U0001f600", "!!!???", "/crisis", "a" * 5000,
                                  "I feel low. " * 2000, "\x00\x01 weird \ufffd bytes"])
def test_any_input_is_assessed_without_error(engine: RiskEngine, text: object) -> None:
    result = engine.assess(text)  # type: ignore[arg-type]
    assert isinstance(result.normalized, str)


def test_an_emoji_that_names_a_method_is_read(engine: RiskEngine) -> None:
    assert engine.assess("took all my \U0001f48a").intent == INTENT_DANGER_NOW


# --- the lexicon file -----------------------------------------------------------------------


def test_every_rule_matches_its_examples_and_not_its_counter_examples(engine: RiskEngine) -> None:
    problems = []
    for rule in engine.lexicon.risk_rules:
        for text in rule.examples:
            if rule.id not in {h.rule_id for h in engine.assess(text).hits}:
                problems.append(f"{rule.id} misses its example {text!r}")
        for text in rule.not_examples:
            if rule.id in {h.rule_id for h in engine.assess(text).hits}:
                problems.append(f"{rule.id} matches its counter-example {text!r}")
    for rule in engine.lexicon.lookalike_rules:
        for text in rule.examples:
            result = engine.assess(text)
            if rule.id not in result.lookalike_rules or result.is_risk:
                problems.append(f"look-alike {rule.id} fails on its example {text!r}")
        for text in rule.not_examples:
            if rule.id in engine.assess(text).lookalike_rules:
                problems.append(f"look-alike {rule.id} matches its counter-example {text!r}")
    assert problems == []


def test_every_crisis_category_has_rules(engine: RiskEngine) -> None:
    assert {r.category for r in engine.lexicon.risk_rules} == set(risk.ALL_CATEGORIES)
    assert {r.category for r in engine.lexicon.lookalike_rules} == set(risk.LOOKALIKE_KINDS)


def test_medicine_names_come_from_the_drug_lexicon(engine: RiskEngine) -> None:
    # a brand name only present in data/knowledge/drugs.yml
    assert engine.assess("I just swallowed all of my trintellix").intent == INTENT_DANGER_NOW


def test_the_lexicon_has_no_crisis_numbers() -> None:
    text = (ROOT / "data" / "knowledge" / "risk_lexicon.yml").read_text(encoding="utf-8")
    assert not re.search(r"(?<![\w.])(?:988|911|741741|838255)(?![\w])", text)


def _minimal() -> Dict[str, object]:
    return {
        "macros": {},
        "risk": {"suicidal_ideation": {"rules": [{"id": "a", "match": "want to die"}]}},
        "lookalikes": {},
        "negation": {"negators": ["not"]},
        "subjects": {},
    }


def test_a_minimal_lexicon_builds() -> None:
    engine = RiskEngine(build_lexicon(_minimal()))
    assert engine.assess("I want to die").is_crisis


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("risk"), "missing section 'risk'"),
        (lambda d: d["risk"].update({"sadness": {"rules": []}}), "unknown risk category 'sadness'"),
        (lambda d: d["risk"]["suicidal_ideation"]["rules"].append({"id": "b", "match": "(unclosed"}),
         "does not compile"),
        (lambda d: d["risk"]["suicidal_ideation"]["rules"].append({"id": "a", "match": "x"}),
         "duplicate rule ids"),
        (lambda d: d["risk"]["suicidal_ideation"]["rules"].append({"id": "c", "match": "{nothing}"}),
         "unknown macro"),
        (lambda d: d["negation"].update({"negators": ["not", False]}), "quote it"),
        (lambda d: d["risk"]["suicidal_ideation"]["rules"].append({"id": "d"}), "missing 'match'"),
    ],
)
def test_a_broken_lexicon_is_refused_with_the_reason(change, message: str) -> None:
    data = _minimal()
    change(data)
    with pytest.raises(LexiconError, match=re.escape(message)):
        build_lexicon(data)


def test_a_missing_or_invalid_lexicon_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="not found"):
        load_lexicon(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("risk: [unclosed", encoding="utf-8")
    with pytest.raises(LexiconError, match="not valid YAML"):
        load_lexicon(bad)


def test_the_lexicon_path_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lex.yml"
    path.write_text(yaml.safe_dump(_minimal()), encoding="utf-8")
    monkeypatch.setenv(risk.LEXICON_ENV_VAR, str(path))
    assert risk.lexicon_path() == path
    assert risk.assess("I want to die").is_crisis
    assert not risk.assess("kms").is_risk  # the small lexicon only knows one phrase


@pytest.mark.parametrize(
    "text", ["I'm not safe", "i am not safe right now", "I don't feel safe", "I'm no longer OK"]
)
def test_saying_one_is_not_safe_is_never_a_statement_of_safety(engine: RiskEngine, text: str) -> None:
    assert not engine.assess(text).safe_affirmation, text


@pytest.mark.parametrize("text", ["I'm safe", "I'm ok right now", "honestly I'm fine", "I'm not in danger"])
def test_a_statement_of_safety_is_recognised(engine: RiskEngine, text: str) -> None:
    assert engine.assess(text).safe_affirmation, text


def test_a_hedge_in_the_next_sentence_cancels_a_denial(engine: RiskEngine) -> None:
    result = engine.assess("I'm not suicidal. I mean, not today.")
    assert result.is_crisis and not all("denial" in h.note for h in result.hits)


def test_a_statement_of_safety_taken_back_is_not_one(engine: RiskEngine) -> None:
    assert not engine.assess("I'm not in danger now, but I don't trust future me").safe_affirmation


@pytest.mark.parametrize("text", ["honestly I'm dead weight to everyone around me",
                                  "i feel like dead weight in this house"])
def test_dead_weight_said_of_oneself_is_not_explained_away_as_an_idiom(engine: RiskEngine, text: str) -> None:
    """Feeling a burden: the detector's reading (possible risk: the direct question) decides,
    not the death-hyperbole idiom ("dead tired"), which used to cancel it."""
    result = engine.assess(text)
    assert "idioms" not in result.lookalikes and not result.explained_by
    assert "idioms" in engine.assess("can you explain dead weight loss in economics").lookalikes


def test_spanish_he_before_a_participle_is_not_someone_else(engine: RiskEngine) -> None:
    """"nunca he intentado suicidarme" is "I have never tried": not the English "he" (the
    third-party answer asking whether *he* is safe); an English "he" still is."""
    assert "third_party" not in engine.assess("nunca he intentado suicidarme, solo estoy cansada").categories
    assert "third_party" in engine.assess("he tried suicide last night and is in the ER").categories
    assert "third_party" in engine.assess("he avoided talking but he is suicidal again").categories


@pytest.mark.parametrize("text", [
    "my sister overdosed in 2016. she is 7 months free of everything now and loves her job",
    "my dad tried to hang himself in the 90s, he has not done anything like that in decades",
    "a friend of mine cut herself in college. she's doing really well now and just got married",
    "my brother was suicidal in his teens. the dark thoughts about dying have gone, he says",
])
def test_someone_else_safe_after_a_past_episode_is_not_someone_at_risk(engine: RiskEngine, text: str) -> None:
    result = engine.assess(text)
    assert result.hits == () and "third party safe now" in {h.note for h in result.suppressed}


@pytest.mark.parametrize("text", [
    "my sister overdosed last year and she's doing well now but tonight she texted me goodbye",
    "my brother has been cutting again, he says he is fine",
])
def test_someone_else_at_risk_now_stays_at_risk_whatever_is_said_of_them(
    engine: RiskEngine, text: str
) -> None:
    assert "third_party" in engine.assess(text).categories


@pytest.mark.parametrize(
    "text",
    [
        "ugh my flatmate ate my leftovers again, i'm going to murder him lol",
        "I'll strangle my brother, he spoiled the finale for me",
        "im gonna kill whoever keeps parking in my spot 😂",
        "my dad rearranged the whole shed, I'm going to kill him. politely.",
    ],
)
def test_venting_with_the_joke_in_plain_view_is_not_harm_to_others(engine: RiskEngine, text: str) -> None:
    result = engine.assess(text)
    assert not result.is_crisis, result.as_dict()
    assert "idioms" in result.explained_by


@pytest.mark.parametrize(
    "text",
    [
        "i'm going to kill him lol, i know where he lives",
        "im going to murder my ex lol she deserves it",
        "he ate my leftovers so i'm going to stab him tonight",
        "i'm going to kill my son lol",
        "i'm going to kill myself lol",
        "not joking, i'm going to kill him, he spoiled everything",
    ],
)
def test_a_threat_with_a_place_a_time_a_partner_or_oneself_is_not_venting(
    engine: RiskEngine, text: str
) -> None:
    assert engine.assess(text).is_crisis


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("nowt for 20 odd years", "nowt for 20 odd years"),
        ("an odd feeling", "an odd feeling"),
        ("i odd on my meds", "i overdosed on my meds"),
        ("my arms are scarred", "my arms are scarred"),
        ("a good deed", "a good deed"),
        ("i want to be deeead", "i want to be dead"),
    ],
)
def test_ordinary_double_letter_words_are_not_read_as_stretched(
    engine: RiskEngine, text: str, normalized: str
) -> None:
    assert engine.normalize(text) == normalized
