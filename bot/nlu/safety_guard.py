"""The deterministic safety guard: the last NLU component, run on every message.

It applies the pure-Python risk engine (:mod:`trd.safety.risk`, lexicon in
``data/knowledge/risk_lexicon.yml``) after the trained classifier and the
FallbackClassifier, and makes the NLU output safe for the dialogue layer
(``bot/policies/safety_policy.py``), which acts on the intents ``crisis``,
``crisis_danger_now`` and ``sos`` and on the ``risk_category`` entity:

* The engine finds risk: the intent becomes ``crisis_danger_now``, ``crisis``
  or ``sos`` with confidence 1.0 (prepended to ``intent_ranking``), whatever
  the classifier said and however sure it was, and one entity
  ``{"entity": "risk_category", "value": <category>, "extractor": "SafetyGuard"}``
  is added.
* The engine finds nothing but the classifier's best guess (under an
  ``nlu_fallback`` too) is a crisis intent: the classifier's crisis stands and
  gets a category (``danger_now`` for crisis_danger_now, ``sos`` for sos,
  ``third_party`` if the engine saw a denial about someone else, otherwise
  ``suicidal_ideation``), so downstream always has one. Only when the guess is
  crisis/crisis_danger_now, the engine found no risk signal at all (no match,
  no denial) and it recognised an explicit look-alike that accounts for the
  risky words (an idiom, a treatment question, negated history, news) is the
  message downgraded to the best non-crisis intent, which is the look-alike
  intent for that kind (config ``lookalike_intents``: share_feelings, or
  treatment_question for treatment words; confidence 1.0, a deterministic
  decision like the crisis override), ranked by the classifier or not: its top
  ten often holds only unrelated intents ("goodbye", "start_over") for such a
  message. Only a kind without a configured intent falls back to the best ranked
  intent that is neither a crisis intent nor a safety-dialogue intent (not_safe,
  confirm_safe, crisis_retract, safety_plan_request); with none, the crisis stands.
* A risky message never ends as ``nlu_fallback``.

What the guard decided is added to the NLU output under ``safety_guard``
(source, category, categories, rule ids, look-alikes) for logs and tests.

If the engine raises on a message (a bug), the guard logs it and keeps every
crisis reading the classifier has, never downgrading: it fails towards safety.
A lexicon that cannot be loaded stops the model from loading, with the reason.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Tuple, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from trd.safety.contract import (
    CRISIS_INTENTS,
    INTENT_CRISIS,
    INTENT_DANGER_NOW,
    INTENT_SOS,
    RISK_ENTITY,
    SAFETY_DIALOGUE_INTENTS,
    RiskCategory,
)
from trd.safety.risk import RiskEngine, RiskResult

logger = logging.getLogger(__name__)

EXTRACTOR_NAME = "SafetyGuard"
OUTPUT_KEY = "safety_guard"
DOWNGRADABLE = (INTENT_CRISIS, INTENT_DANGER_NOW)
# SAFETY_DIALOGUE_INTENTS (contract) are never a downgrade target: they belong to the crisis dialogue
DEFAULT_CATEGORY = RiskCategory.SUICIDAL_IDEATION.value

LEXICON_PATH_KEY = "lexicon_path"
LOOKALIKE_INTENTS_KEY = "lookalike_intents"
DEFAULT_LOOKALIKE_INTENTS = {
    "idioms": "share_feelings",
    "negated_history": "share_feelings",
    "news": "share_feelings",
    "treatment_words": "treatment_question",
}


def _name(entry: Any) -> Optional[str]:
    if isinstance(entry, dict):
        name = entry.get(INTENT_NAME_KEY)
        return name if isinstance(name, str) else None
    return None


def _confidence(entry: Any) -> float:
    if isinstance(entry, dict):
        try:
            return float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        except (TypeError, ValueError):
            return 0.0
    return 0.0


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyGuard(GraphComponent, IntentClassifier):
    """Overrides the NLU result with the deterministic risk engine's finding."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return []

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # lexicon_path: None means data/knowledge/risk_lexicon.yml (or $TRD_RISK_LEXICON)
        # lookalike_intents: the intent a classifier false alarm on each look-alike kind becomes
        return {LEXICON_PATH_KEY: None, LOOKALIKE_INTENTS_KEY: dict(DEFAULT_LOOKALIKE_INTENTS)}

    def __init__(self, config: Dict[str, Any], engine: RiskEngine) -> None:
        self.component_config = config
        self.engine = engine

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyGuard:
        merged = {**cls.get_default_config(), **(config or {})}
        # A broken lexicon raises LexiconError here: the server must not start without its guard.
        engine = RiskEngine.from_file(merged.get(LEXICON_PATH_KEY))
        return cls(merged, engine)

    # -- the NLU graph calls this for every message ----------------------------------------
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self.guard(message)
        return messages

    def guard(self, message: Message) -> None:
        text = message.get(TEXT)
        text = text if isinstance(text, str) else ""
        result: Optional[RiskResult]
        try:
            result = self.engine.assess(text)
        except Exception:  # fail towards safety: keep every crisis reading the classifier has
            logger.exception("SafetyGuard: the risk engine failed on a message; using the classifier only")
            result = None

        intent = message.get(INTENT) or {}
        ranking = [e for e in (message.get(INTENT_RANKING_KEY) or []) if _name(e)]
        original = _name(intent)
        best = self._best_guess(intent, ranking)
        info: Dict[str, Any] = {"classifier_intent": original, "classifier_best_guess": _name(best)}
        if result is not None:
            info.update(
                {
                    "rules": [h.rule_id for h in result.hits],
                    "categories": list(result.categories),
                    "lookalikes": list(result.lookalikes),
                    "explained_by": list(result.explained_by),
                    "denials": [h.rule_id for h in result.denials],
                    "negated_history": [h.rule_id for h in result.negated_history],
                    "retracted": result.retracted,
                }
            )

        if result is not None and result.is_risk and result.intent and result.category:
            found = {INTENT_NAME_KEY: result.intent, PREDICTED_CONFIDENCE_KEY: 1.0}
            self._set_intent(message, found, ranking)
            self._set_category(message, result.category, text)
            info.update(source="guard", intent=result.intent, category=result.category)
            logger.debug("SafetyGuard: %s (%s) by %s", result.intent, result.category, info["rules"])
        elif best is not None and _name(best) in CRISIS_INTENTS:
            guess = _name(best)
            if (
                guess in DOWNGRADABLE
                and result is not None
                and not result.has_risk_signal
                and result.explained_by
            ):
                alternative = self._downgrade_target(ranking, result.explained_by)
                if alternative is not None:
                    self._set_intent(message, dict(alternative), ranking)
                    self._drop_category(message)
                    info.update(source="downgraded", intent=_name(alternative), category=None)
                    logger.debug("SafetyGuard: %s downgraded to %s (look-alike %s)",
                                 guess, _name(alternative), result.explained_by)
                    message.set(OUTPUT_KEY, info, add_to_output=True)
                    return
            category = self._category_for_classifier(guess, result)
            chosen = {INTENT_NAME_KEY: guess, PREDICTED_CONFIDENCE_KEY: _confidence(best)}
            self._set_intent(message, chosen, ranking)
            self._set_category(message, category, text)
            info.update(source="classifier", intent=guess, category=category)
        else:
            self._drop_category(message)
            info.update(source="none", intent=original, category=None)
        message.set(OUTPUT_KEY, info, add_to_output=True)

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _best_guess(intent: Dict[str, Any], ranking: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        """The classifier's best intent, looking past an nlu_fallback."""
        if _name(intent) and _name(intent) != DEFAULT_NLU_FALLBACK_INTENT_NAME:
            return intent
        return next((e for e in ranking if _name(e) != DEFAULT_NLU_FALLBACK_INTENT_NAME), None)

    def _downgrade_target(
        self, ranking: List[Dict[str, Any]], kinds: Tuple[str, ...]
    ) -> Optional[Dict[str, Any]]:
        excluded = set(CRISIS_INTENTS) | set(SAFETY_DIALOGUE_INTENTS) | {DEFAULT_NLU_FALLBACK_INTENT_NAME}
        candidates = [e for e in ranking if _name(e) not in excluded]
        preferred = self.component_config.get(LOOKALIKE_INTENTS_KEY) or {}
        for kind in kinds:
            wanted = preferred.get(kind)
            if isinstance(wanted, str) and wanted and wanted not in excluded:
                return {INTENT_NAME_KEY: wanted, PREDICTED_CONFIDENCE_KEY: 1.0}
        return candidates[0] if candidates else None

    @staticmethod
    def _category_for_classifier(intent: Optional[str], result: Optional[RiskResult]) -> str:
        if intent == INTENT_DANGER_NOW:
            return RiskCategory.DANGER_NOW.value
        if intent == INTENT_SOS:
            return RiskCategory.SOS.value
        if result is not None and any(d.third_party for d in result.denials):
            return RiskCategory.THIRD_PARTY.value
        return DEFAULT_CATEGORY

    @staticmethod
    def _set_intent(message: Message, chosen: Dict[str, Any], ranking: List[Dict[str, Any]]) -> None:
        name = _name(chosen)
        rest = [dict(e) for e in ranking if _name(e) != name]
        if name != DEFAULT_NLU_FALLBACK_INTENT_NAME:
            rest = [e for e in rest if _name(e) != DEFAULT_NLU_FALLBACK_INTENT_NAME]
        message.set(INTENT, dict(chosen), add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(chosen)] + rest, add_to_output=True)

    @staticmethod
    def _other_entities(message: Message) -> List[Dict[str, Any]]:
        return [
            e for e in (message.get(ENTITIES) or [])
            if not (isinstance(e, dict) and e.get(ENTITY_ATTRIBUTE_TYPE) == RISK_ENTITY)
        ]

    def _set_category(self, message: Message, category: str, text: str) -> None:
        entity = {
            ENTITY_ATTRIBUTE_TYPE: RISK_ENTITY,
            ENTITY_ATTRIBUTE_VALUE: category,
            ENTITY_ATTRIBUTE_START: 0,
            ENTITY_ATTRIBUTE_END: len(text),
            EXTRACTOR: EXTRACTOR_NAME,
        }
        message.set(ENTITIES, self._other_entities(message) + [entity], add_to_output=True)

    def _drop_category(self, message: Message) -> None:
        if message.get(ENTITIES):
            message.set(ENTITIES, self._other_entities(message), add_to_output=True)
