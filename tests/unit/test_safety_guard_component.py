"""The SafetyGuard GraphComponent on Rasa Message objects, as the NLU graph runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.safety_guard import (
    EXTRACTOR_NAME,
    OUTPUT_KEY,
    RISK_ENTITY,
    GuardUnavailable,
    SafetyGuard,
    read_classifier_thresholds,
)
from trd.safety.assessment import RiskAssessor
from trd.safety.detector import LABELS, Reading
from trd.safety.risk import LexiconError, RiskEngine

ROOT = Path(__file__).resolve().parents[2]
FALLBACK = "nlu_fallback"


@pytest.fixture(scope="module")
def guard() -> SafetyGuard:
    return SafetyGuard.create(SafetyGuard.get_default_config(), None, None, None)


class FakeDetector:
    """The risk detector's interface, reading every text as one tier (none by default)."""

    def __init__(self, tier: str = "none") -> None:
        self.tier = tier

    def read(self, text: str) -> Reading:
        p = {label: 0.0 for label in LABELS}
        p[self.tier] = 1.0
        return Reading(probabilities=p, tier=self.tier)

    read_whole = read


CLEAR_AT, POSSIBLE_AT = 0.8, 0.5


def guard_with(tier: str = "none", config: Optional[Dict[str, Any]] = None) -> SafetyGuard:
    """The guard with a detector that reads every message as ``tier``, and classifier
    thresholds of 0.8 (clear) and 0.5 (possible)."""
    engine = RiskEngine.from_file()
    merged = {**SafetyGuard.get_default_config(), **(config or {})}
    assessor = RiskAssessor(engine, FakeDetector(tier))  # type: ignore[arg-type]
    return SafetyGuard(merged, engine, assessor, (CLEAR_AT, POSSIBLE_AT))


@pytest.fixture(scope="module")
def quiet() -> SafetyGuard:
    """A guard whose detector finds nothing: what the classifier's own reading does."""
    return guard_with("none")


def message(text: str, *ranking: Tuple[str, float], fallback: bool = False,
            entities: Optional[List[Dict[str, Any]]] = None) -> Message:
    """A message as it leaves DIETClassifier (+ FallbackClassifier when fallback=True)."""
    ranked = [{"name": n, "confidence": c} for n, c in ranking]
    intent = dict(ranked[0]) if ranked else {"name": None, "confidence": 0.0}
    if fallback:
        intent = {"name": FALLBACK, "confidence": 0.45}
        ranked = [dict(intent)] + ranked
    data: Dict[str, Any] = {
        "text": text, "intent": intent, "intent_ranking": ranked, "entities": entities or [],
    }
    # the classifiers before the guard mark these as NLU output, as in the real pipeline
    return Message(data=data, output_properties={"intent", "intent_ranking", "entities"})


def run(guard: SafetyGuard, msg: Message) -> Dict[str, Any]:
    out = guard.process([msg])
    assert out == [msg]
    parsed: Dict[str, Any] = msg.as_dict(only_output_properties=True)
    return parsed


def risk_entities(parsed: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [e for e in parsed.get("entities", []) if e.get("entity") == RISK_ENTITY]


# --- registration and configuration -----------------------------------------------------------


def test_registered_as_an_untrained_intent_classifier() -> None:
    registered = DefaultV1Recipe._from_registry("bot.nlu.safety_guard.SafetyGuard")
    assert registered.clazz is SafetyGuard
    assert DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER in registered.types
    assert registered.is_trainable is False


def test_it_is_the_last_component_of_the_pipeline_after_the_fallback_classifier() -> None:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    names = [c["name"] for c in config["pipeline"]]
    assert names[-1] == "bot.nlu.safety_guard.SafetyGuard"
    assert names.index("FallbackClassifier") < names.index("bot.nlu.safety_guard.SafetyGuard")


def test_a_broken_lexicon_stops_the_model_from_loading(tmp_path: Path) -> None:
    bad = tmp_path / "lexicon.yml"
    bad.write_text("macros: {}\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="missing section"):
        SafetyGuard.create({"lexicon_path": str(bad)}, None, None, None)


# --- the engine finds risk: it overrides whatever the classifier said ---------------------------


@pytest.mark.parametrize(
    ("text", "intent", "category"),
    [
        ("i want to die", "crisis", "suicidal_ideation"),
        ("kms", "crisis", "coded_language"),
        ("what's the lethal dose of lithium", "crisis", "method_seeking"),
        ("I've been saving up my sleeping pills", "crisis", "plan"),
        ("I've been cutting my arms", "crisis", "self_harm"),
        ("I just took all my pills", "crisis_danger_now", "danger_now"),
        ("I want to hurt my husband", "crisis", "harm_to_others"),
        ("my daughter says she wants to die", "crisis", "third_party"),
        ("SOS", "sos", "sos"),
    ],
)
def test_risk_overrides_a_confident_classifier(
    guard: SafetyGuard, text: str, intent: str, category: str
) -> None:
    parsed = run(guard, message(text, ("greet", 0.97), ("share_feelings", 0.02), ("crisis", 0.01)))
    assert parsed["intent"] == {"name": intent, "confidence": 1.0}
    assert parsed["intent_ranking"][0] == {"name": intent, "confidence": 1.0}
    names = [e["name"] for e in parsed["intent_ranking"]]
    assert names.count(intent) == 1, "the guard's intent is not listed twice"
    assert "greet" in names
    assert risk_entities(parsed) == [
        {"entity": RISK_ENTITY, "value": category, "start": 0, "end": len(text), "extractor": EXTRACTOR_NAME}
    ]
    assert parsed[OUTPUT_KEY]["source"] == "guard"
    assert parsed[OUTPUT_KEY]["classifier_intent"] == "greet"


def test_fallback_never_wins_over_risk(guard: SafetyGuard) -> None:
    parsed = run(guard, message("wnt 2 die", ("greet", 0.3), ("affirm", 0.29), fallback=True))
    assert parsed["intent"]["name"] == "crisis"
    assert FALLBACK not in [e["name"] for e in parsed["intent_ranking"]]
    assert risk_entities(parsed)[0]["value"] == "suicidal_ideation"


def test_other_entities_are_kept_and_a_stale_risk_entity_is_replaced(guard: SafetyGuard) -> None:
    drug = {"entity": "drug", "value": "sertraline", "start": 12, "end": 22, "extractor": "DrugNormaliser"}
    stale = {"entity": RISK_ENTITY, "value": "sos", "extractor": "DIETClassifier"}
    msg = message("I took all my sertraline", ("inform_medications", 0.9), entities=[drug, stale])
    parsed = run(guard, msg)
    assert parsed["intent"]["name"] == "crisis_danger_now"
    assert drug in parsed["entities"]
    assert [e["value"] for e in risk_entities(parsed)] == ["danger_now"]


# --- the classifier alone: its confidence decides the tier -----------------------------------


@pytest.mark.parametrize(
    ("text", "intent", "category"),
    [
        ("everything is grey and I see no way forward", "crisis", "suicidal_ideation"),
        ("it is happening, come quickly", "crisis_danger_now", "danger_now"),
    ],
)
def test_a_confident_classifier_crisis_without_another_finding_stands(
    quiet: SafetyGuard, text: str, intent: str, category: str
) -> None:
    parsed = run(quiet, message(text, (intent, 0.92), ("share_feelings", 0.05)))
    assert parsed["intent"] == {"name": intent, "confidence": 0.92}
    assert [e["value"] for e in risk_entities(parsed)] == [category]
    assert parsed[OUTPUT_KEY]["source"] == "classifier"
    assert parsed[OUTPUT_KEY]["tier"] == "clear"


def test_a_classifier_crisis_between_its_thresholds_is_asked_about(quiet: SafetyGuard) -> None:
    parsed = run(quiet, message("everything is grey and I see no way forward", ("crisis", 0.62),
                                ("share_feelings", 0.3)))
    assert parsed["intent"] == {"name": "share_feelings", "confidence": 0.3}
    assert [e["value"] for e in risk_entities(parsed)] == ["possible"]
    assert parsed[OUTPUT_KEY]["tier"] == "possible"


def test_a_low_confidence_classifier_crisis_is_ordinary_never_a_fallback(quiet: SafetyGuard) -> None:
    # the old guard let a crisis guess at 0.31 raise the crisis block ("lonely people alarmed")
    parsed = run(quiet, message("everything is grey lately", ("crisis", 0.31), ("share_feelings", 0.28),
                                fallback=True))
    assert parsed["intent"] == {"name": "share_feelings", "confidence": 0.28}
    assert FALLBACK not in [e["name"] for e in parsed["intent_ranking"]]
    assert risk_entities(parsed) == []
    assert parsed[OUTPUT_KEY]["source"] == "below_threshold"


def test_sos_from_the_classifier_stands_at_any_confidence(quiet: SafetyGuard) -> None:
    parsed = run(quiet, message("please can somebody be with me", ("sos", 0.3), ("share_feelings", 0.2)))
    assert parsed["intent"]["name"] == "sos"
    assert [e["value"] for e in risk_entities(parsed)] == ["sos"]


def test_a_plain_denial_is_an_ordinary_message_however_sure_the_classifier_is(quiet: SafetyGuard) -> None:
    # the lexicon fires on "suicidal" and the classifier reads a crisis: the denial decides
    parsed = run(quiet, message("I am not suicidal, I am just worn out", ("crisis", 0.97),
                                ("share_feelings", 0.02)))
    assert parsed["intent"]["name"] == "share_feelings"
    assert risk_entities(parsed) == []
    assert parsed[OUTPUT_KEY]["source"] == "denial"


def test_a_denial_beside_something_risky_is_asked_about_not_blocked() -> None:
    parsed = run(guard_with("clear"), message("I'm not suicidal but everything feels pointless",
                                              ("share_feelings", 0.6)))
    assert [e["value"] for e in risk_entities(parsed)] == ["possible"]
    assert parsed["intent"]["name"] == "share_feelings"


def test_a_classifier_crisis_about_someone_else_gets_the_third_party_category(quiet: SafetyGuard) -> None:
    parsed = run(quiet, message("my son isn't suicidal but I'm scared for him", ("crisis", 0.9),
                                ("share_feelings", 0.05)))
    assert parsed["intent"]["name"] == "crisis"
    assert [e["value"] for e in risk_entities(parsed)] == ["third_party"]


# --- the detector's tiers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "classifier", "intent", "category"),
    [
        ("clear", "share_feelings", "crisis", "suicidal_ideation"),
        ("clear", "crisis_danger_now", "crisis_danger_now", "danger_now"),
        ("harm_to_others", "share_feelings", "crisis", "harm_to_others"),
        ("third_party", "share_feelings", "crisis", "third_party"),
    ],
)
def test_the_detectors_clear_tiers_raise_the_crisis_whatever_the_classifier_said(
    tier: str, classifier: str, intent: str, category: str
) -> None:
    parsed = run(guard_with(tier), message("words nobody wrote into the lexicon", (classifier, 0.9)))
    assert parsed["intent"] == {"name": intent, "confidence": 1.0}
    assert [e["value"] for e in risk_entities(parsed)] == [category]
    assert parsed[OUTPUT_KEY]["source"] == "detector"


def test_the_detectors_possible_tier_keeps_an_ordinary_intent_and_adds_the_question() -> None:
    parsed = run(guard_with("possible"), message("i'm so tired of being everyone's problem",
                                                 ("share_feelings", 0.7), ("greet", 0.1)))
    assert parsed["intent"] == {"name": "share_feelings", "confidence": 0.7}
    assert [e["value"] for e in risk_entities(parsed)] == ["possible"]
    # a possible-risk message the classifier read as a crisis is not a crisis intent either
    parsed = run(guard_with("possible"), message("i'm so tired of being everyone's problem",
                                                 ("crisis", 0.99), ("greet", 0.01)))
    assert parsed["intent"]["name"] == "greet"
    assert [e["value"] for e in risk_entities(parsed)] == ["possible"]
    parsed = run(guard_with("possible"), message("i'm so tired", ("crisis", 0.99)))
    assert parsed["intent"] == {"name": "share_feelings", "confidence": 1.0}


def test_the_lexicons_explicit_phrase_outranks_a_detector_that_reads_nothing(quiet: SafetyGuard) -> None:
    parsed = run(quiet, message("i want to kill myself", ("greet", 0.9)))
    assert parsed["intent"]["name"] == "crisis"
    assert parsed[OUTPUT_KEY]["source"] == "guard"


def test_a_lexicon_phrase_about_the_past_is_asked_about(quiet: SafetyGuard) -> None:
    text = "when i was 22 i tried to hang myself. my housemate found me. im 38 now"
    parsed = run(quiet, message(text, ("share_feelings", 0.6)))
    assert [e["value"] for e in risk_entities(parsed)] == ["possible"]
    parsed = run(quiet, message("i tried to hang myself at 22 and i keep thinking about it again",
                                ("share_feelings", 0.6)))
    assert parsed["intent"]["name"] == "crisis"


def test_a_detector_failure_falls_back_to_the_lexicon_and_the_classifier() -> None:
    broken = guard_with("none")

    def explode(text: str) -> Reading:
        raise RuntimeError("encoder gone")

    broken.assessor.detector.read = explode  # type: ignore[union-attr, method-assign]
    parsed = run(broken, message("everything is grey", ("crisis", 0.31), ("share_feelings", 0.3)))
    assert parsed["intent"]["name"] == "crisis"  # the old guard: a classifier crisis at any confidence
    parsed = run(broken, message("i want to die", ("greet", 0.9)))
    assert parsed["intent"]["name"] == "crisis"


def test_the_classifier_thresholds_file_is_checked(tmp_path: Path) -> None:
    assert read_classifier_thresholds()[1] <= read_classifier_thresholds()[0]
    bad = tmp_path / "t.json"
    bad.write_text('{"thresholds": {"clear": 0.3, "possible": 0.6}}', encoding="utf-8")
    with pytest.raises(GuardUnavailable, match="possible <= clear"):
        read_classifier_thresholds(bad)
    with pytest.raises(GuardUnavailable, match="calibrate_classifier"):
        read_classifier_thresholds(tmp_path / "missing.json")


# --- downgrade: only an explicit look-alike with no risk signal ---------------------------------


@pytest.mark.parametrize(
    ("text", "alternative"),
    [
        ("this drug is killing my libido", "share_feelings"),
        ("I'm dying to know if TMS works", "share_feelings"),
        ("what's the highest dose of sertraline", "treatment_question"),
        ("I've never been suicidal", "share_feelings"),
        ("a celebrity died by suicide", "share_feelings"),
    ],
)
def test_a_classifier_false_alarm_on_an_explicit_lookalike_is_downgraded(
    guard: SafetyGuard, text: str, alternative: str
) -> None:
    parsed = run(guard, message(text, ("crisis", 0.55), ("greet", 0.35), ("start_over", 0.1)))
    assert parsed["intent"] == {"name": alternative, "confidence": 1.0}
    assert [e["name"] for e in parsed["intent_ranking"]] == [alternative, "crisis", "greet", "start_over"]
    assert risk_entities(parsed) == []
    assert parsed[OUTPUT_KEY]["source"] == "downgraded"


def test_a_downgrade_prefers_the_lookalike_intent_and_never_picks_a_safety_dialogue_intent(
    guard: SafetyGuard,
) -> None:
    parsed = run(guard, message("a character in the show took her own life", ("crisis_danger_now", 0.9),
                                ("safety_plan_request", 0.05), ("not_safe", 0.03), ("greet", 0.01),
                                ("share_feelings", 0.005)))
    assert parsed["intent"]["name"] == "share_feelings"
    parsed = run(guard, message("what's the maximum dose of lithium", ("crisis", 0.6), ("greet", 0.2),
                                ("treatment_question", 0.1)))
    assert parsed["intent"]["name"] == "treatment_question"
    # a look-alike kind without a configured intent: the best intent outside the crisis dialogue
    custom = SafetyGuard.create({"lookalike_intents": {}}, None, None, None)
    parsed = run(custom, message("my back is killing me", ("crisis", 0.8), ("safety_plan_request", 0.1),
                                 ("out_of_scope", 0.05)))
    assert parsed["intent"] == {"name": "out_of_scope", "confidence": 0.05}


def test_with_only_safety_dialogue_alternatives_a_downgrade_takes_the_possible_intent() -> None:
    custom = SafetyGuard.create({"lookalike_intents": {}}, None, None, None)
    parsed = run(custom, message("my back is killing me", ("crisis", 0.8), ("safety_plan_request", 0.1),
                                 ("not_safe", 0.1)))
    assert parsed["intent"] == {"name": "share_feelings", "confidence": 1.0}
    assert risk_entities(parsed) == []


def test_a_downgrade_looks_past_the_fallback_too(guard: SafetyGuard) -> None:
    parsed = run(guard, message("my back is killing me", ("crisis_danger_now", 0.4), ("share_feelings", 0.38),
                                fallback=True))
    assert parsed["intent"]["name"] == "share_feelings"
    assert risk_entities(parsed) == []


@pytest.mark.parametrize(
    "text",
    [
        "I feel hopeless about meds",  # plain low mood: not an explicit look-alike
        "sertraline isn't working and I see no way forward",  # a medicine name explains nothing
    ],
)
def test_no_downgrade_without_an_explicit_lookalike(quiet: SafetyGuard, text: str) -> None:
    parsed = run(quiet, message(text, ("crisis", 0.85), ("share_feelings", 0.1)))
    assert parsed["intent"]["name"] == "crisis"
    assert len(risk_entities(parsed)) == 1


@pytest.mark.parametrize("text", ["I would never hurt my kids", "my son isn't suicidal, he's just quiet"])
def test_a_denial_about_others_is_a_risk_signal_never_a_lookalike(quiet: SafetyGuard, text: str) -> None:
    # only the person's own plain denial ("I'm not suicidal, just tired") is read as no risk
    parsed = run(quiet, message(text, ("crisis", 0.85), ("share_feelings", 0.1)))
    assert parsed["intent"]["name"] == "crisis"
    assert len(risk_entities(parsed)) == 1


def test_no_downgrade_when_a_lookalike_sits_next_to_real_risk(guard: SafetyGuard) -> None:
    text = "these side effects are killing me and I want to die"
    parsed = run(guard, message(text, ("share_feelings", 0.9)))
    assert parsed["intent"]["name"] == "crisis"


def test_sos_from_the_classifier_is_never_downgraded(guard: SafetyGuard) -> None:
    parsed = run(guard, message("my back is killing me", ("sos", 0.6), ("share_feelings", 0.3)))
    assert parsed["intent"]["name"] == "sos"
    assert [e["value"] for e in risk_entities(parsed)] == ["sos"]


def test_a_downgrade_does_not_need_the_lookalike_intent_in_the_ranking(guard: SafetyGuard) -> None:
    parsed = run(guard, message("my back is killing me", ("crisis", 0.7), ("sos", 0.3)))
    assert parsed["intent"] == {"name": "share_feelings", "confidence": 1.0}
    assert risk_entities(parsed) == []


# --- ordinary messages pass through untouched --------------------------------------------------


def test_an_ordinary_message_is_left_alone(guard: SafetyGuard) -> None:
    msg = message("I tried sertraline and bupropion", ("inform_medications", 0.8), ("share_feelings", 0.1))
    before = dict(msg.data["intent"]), list(msg.data["intent_ranking"])
    parsed = run(guard, msg)
    assert (parsed["intent"], parsed["intent_ranking"]) == before
    assert risk_entities(parsed) == []
    assert parsed[OUTPUT_KEY]["source"] == "none"


def test_an_ordinary_low_confidence_message_may_still_fall_back(guard: SafetyGuard) -> None:
    parsed = run(guard, message("blue potato", ("greet", 0.2), ("affirm", 0.19), fallback=True))
    assert parsed["intent"]["name"] == FALLBACK


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_messages_do_not_break_the_guard(guard: SafetyGuard, text: Optional[str]) -> None:
    msg = Message(data={"text": text, "intent": {"name": "greet", "confidence": 0.5}, "intent_ranking": []})
    guard.process([msg])
    assert msg.get("intent")["name"] == "greet"


def test_a_batch_is_processed_message_by_message(guard: SafetyGuard) -> None:
    a = message("hello", ("greet", 0.9))
    b = message("I want to die", ("greet", 0.9))
    guard.process([a, b])
    assert (a.get("intent")["name"], b.get("intent")["name"]) == ("greet", "crisis")


# --- an engine failure fails towards safety ---------------------------------------------------


def _broken_guard() -> SafetyGuard:
    broken = SafetyGuard.create(SafetyGuard.get_default_config(), None, None, None)

    def explode(text: Optional[str]) -> Any:
        raise RuntimeError("boom")

    broken.engine.assess = explode  # type: ignore[method-assign]
    return broken


def test_engine_failure_keeps_a_classifier_crisis_and_never_downgrades() -> None:
    parsed = run(_broken_guard(), message("my back is killing me", ("crisis", 0.5), ("share_feelings", 0.4),
                                          fallback=True))
    assert parsed["intent"]["name"] == "crisis"
    assert [e["value"] for e in risk_entities(parsed)] == ["suicidal_ideation"]


def test_engine_failure_leaves_an_ordinary_message_alone() -> None:
    parsed = run(_broken_guard(), message("hello", ("greet", 0.9)))
    assert parsed["intent"]["name"] == "greet"
    assert risk_entities(parsed) == []


# --- the classifier's "help now" / "not safe" guess alone (ALONE_BLOCKS) -------------------------


def test_a_weak_sos_guess_alone_is_marked_for_the_question(guard: SafetyGuard) -> None:
    parsed = run(guard, message("need to execute a cron job at midnight, how do i set that up",
                                ("sos", 0.33), ("treatment_question", 0.2)))
    assert parsed["intent"]["name"] == "sos"  # the policy asks, with the crisis lines in view
    assert parsed[OUTPUT_KEY]["classifier_alone"] is True


def test_a_weak_not_safe_guess_alone_is_marked_for_the_question(guard: SafetyGuard) -> None:
    parsed = run(guard, message("I think I just look sadder than I am lol", ("not_safe", 0.62),
                                ("confirm_safe", 0.11)))
    assert parsed["intent"]["name"] == "not_safe"
    assert parsed[OUTPUT_KEY]["classifier_alone"] is True


def test_a_confident_not_safe_guess_stands_as_before(guard: SafetyGuard) -> None:
    parsed = run(guard, message("I am not safe at all", ("not_safe", 0.97), ("confirm_safe", 0.01)))
    assert parsed["intent"]["name"] == "not_safe"
    assert "classifier_alone" not in parsed[OUTPUT_KEY]


def test_a_confident_guess_beside_the_persons_word_that_they_are_safe_is_asked_about_not_blocked(
    guard: SafetyGuard,
) -> None:
    parsed = run(guard, message("don't worry i'm not in danger, just venting", ("not_safe", 0.95),
                                ("share_feelings", 0.03)))
    assert parsed["intent"]["name"] == "not_safe"
    assert parsed[OUTPUT_KEY]["classifier_alone"] is True


def test_an_sos_guess_beside_a_plain_denial_is_asked_about_not_blocked(guard: SafetyGuard) -> None:
    parsed = run(guard, message("I'm not suicidal, I just miss having someone to talk to after work",
                                ("sos", 0.95), ("share_feelings", 0.04)))
    assert parsed["intent"]["name"] == "sos"
    assert parsed[OUTPUT_KEY]["classifier_alone"] is True


def test_a_not_safe_guess_with_risk_in_the_message_is_never_marked_alone(guard: SafetyGuard) -> None:
    parsed = run(guard, message("I'm not safe, I have the pills here", ("not_safe", 0.6), ("crisis", 0.3)))
    assert "classifier_alone" not in parsed[OUTPUT_KEY]
    assert risk_entities(parsed) != []
