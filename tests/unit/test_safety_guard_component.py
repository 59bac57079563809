"""The SafetyGuard GraphComponent on Rasa Message objects, as the NLU graph runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.safety_guard import EXTRACTOR_NAME, OUTPUT_KEY, RISK_ENTITY, SafetyGuard
from trd.safety.risk import LexiconError

ROOT = Path(__file__).resolve().parents[2]
FALLBACK = "nlu_fallback"


@pytest.fixture(scope="module")
def guard() -> SafetyGuard:
    return SafetyGuard.create(SafetyGuard.get_default_config(), None, None, None)


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


# --- the classifier alone raises a crisis: it stands, with a category ---------------------------


@pytest.mark.parametrize(
    ("text", "intent", "category"),
    [
        ("everything is grey and I see no way forward", "crisis", "suicidal_ideation"),
        ("it is happening, come quickly", "crisis_danger_now", "danger_now"),
        ("please can somebody be with me", "sos", "sos"),
    ],
)
def test_a_classifier_crisis_without_an_engine_match_stands(
    guard: SafetyGuard, text: str, intent: str, category: str
) -> None:
    parsed = run(guard, message(text, (intent, 0.62), ("share_feelings", 0.3)))
    assert parsed["intent"] == {"name": intent, "confidence": 0.62}
    assert [e["value"] for e in risk_entities(parsed)] == [category]
    assert parsed[OUTPUT_KEY]["source"] == "classifier"


def test_a_low_confidence_crisis_under_the_fallback_is_not_lost(guard: SafetyGuard) -> None:
    parsed = run(guard, message("everything is grey lately", ("crisis", 0.31), ("share_feelings", 0.28),
                                fallback=True))
    assert parsed["intent"]["name"] == "crisis"
    assert parsed["intent_ranking"][0]["name"] == "crisis"
    assert FALLBACK not in [e["name"] for e in parsed["intent_ranking"]]
    assert [e["value"] for e in risk_entities(parsed)] == ["suicidal_ideation"]


def test_a_classifier_crisis_about_someone_else_gets_the_third_party_category(guard: SafetyGuard) -> None:
    parsed = run(guard, message("my son isn't suicidal but I'm scared for him", ("crisis", 0.7),
                                ("share_feelings", 0.2)))
    assert parsed["intent"]["name"] == "crisis"
    assert [e["value"] for e in risk_entities(parsed)] == ["third_party"]


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


def test_only_safety_dialogue_alternatives_leave_the_crisis_standing() -> None:
    custom = SafetyGuard.create({"lookalike_intents": {}}, None, None, None)
    parsed = run(custom, message("my back is killing me", ("crisis", 0.8), ("safety_plan_request", 0.1),
                                 ("not_safe", 0.1)))
    assert parsed["intent"]["name"] == "crisis"
    assert len(risk_entities(parsed)) == 1


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
        "I would never hurt my kids",  # a denial is a risk signal, never a look-alike
        "my son isn't suicidal, he's just quiet",
    ],
)
def test_no_downgrade_without_an_explicit_lookalike(guard: SafetyGuard, text: str) -> None:
    parsed = run(guard, message(text, ("crisis", 0.55), ("share_feelings", 0.4)))
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
