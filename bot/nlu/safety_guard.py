"""The safety guard: the last NLU component, run on every message.

It reads each message with the risk assessment (:mod:`trd.safety.assessment`: the
deterministic risk engine and its lexicon ``data/knowledge/risk_lexicon.yml`` as the
floor, then the risk detector over a sentence embedding) after the trained classifier
and the FallbackClassifier, and makes the NLU output safe for the dialogue layer
(``bot/policies/safety_policy.py``), which acts on the intents ``crisis``,
``crisis_danger_now`` and ``sos`` and on the ``risk_category`` entity. Three answers:

* **Clear risk** (the lexicon, or the detector above its validation-chosen threshold):
  the intent becomes ``crisis_danger_now``, ``crisis`` or ``sos`` with confidence 1.0
  (prepended to ``intent_ranking``), whatever the classifier said, and one entity
  ``{"entity": "risk_category", "value": <category>, "extractor": "SafetyGuard"}`` is
  added (harm to others and a third person at risk are categories of this tier).
* **Possible risk** (the detector's possible tier, a denial beside something risky, or the
  classifier's crisis guess between its two thresholds): the entity ``risk_category:
  possible`` and a non-crisis intent (the classifier's, or ``possible_intent``): the
  policy asks directly about suicidal thoughts, it does not show the crisis block.
* **No risk**: no entity. The classifier's own crisis guess stands only at or above its
  clear threshold (``data/safety/classifier_thresholds.json``, chosen on the validation
  set by scripts/calibrate_classifier.py); below its possible threshold, after a plain
  denial ("I'm not suicidal, just worn out") or when the engine recognised an explicit
  look-alike that accounts for the risky words (an idiom, a treatment question, negated
  history, news), it is downgraded to the best non-crisis intent: the look-alike intent
  for that kind (config ``lookalike_intents``), else the best ranked intent that is
  neither a crisis intent nor a safety-dialogue intent, else ``possible_intent``.
* A risky message never ends as ``nlu_fallback``.

What the guard decided is added to the NLU output under ``safety_guard`` (source, tier,
category, rule ids, look-alikes, the detector's probabilities) for logs and tests.

If the engine raises on a message (a bug), or the detector cannot read it, the guard logs
it and keeps every crisis reading the classifier has, never downgrading: it fails towards
safety. A lexicon, detector or encoder that cannot be loaded stops the model from
loading, with the reason.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
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

from trd.paths import DATA_DIR
from trd.safety.assessment import Assessment, RiskAssessor
from trd.safety.contract import (
    CRISIS_INTENTS,
    INTENT_CRISIS,
    INTENT_DANGER_NOW,
    INTENT_NOT_SAFE,
    INTENT_SOS,
    POSSIBLE_CATEGORY,
    RISK_ENTITY,
    SAFETY_DIALOGUE_INTENTS,
    TIER_CLEAR,
    TIER_HARM_TO_OTHERS,
    TIER_NONE,
    TIER_POSSIBLE,
    RiskCategory,
)
from trd.safety.detector import RiskDetector
from trd.safety.risk import RiskEngine, RiskResult

logger = logging.getLogger(__name__)

EXTRACTOR_NAME = "SafetyGuard"
OUTPUT_KEY = "safety_guard"
DOWNGRADABLE = (INTENT_CRISIS, INTENT_DANGER_NOW)
# The classifier's own "help now" (sos) or "I'm not safe" (not_safe) guess on a message in
# which the lexicon and the risk detector found no risk. On the validation sets (written blind)
# such guesses added no catch to any risk message and one to an at-risk conversation (whose
# other messages were asked about too), and gave the crisis block to 7 ordinary messages
# ("is it bad that call of duty helps me relax", "need to execute a cron job at midnight",
# "best true crime podcasts?") and 3 not-at-risk conversations, 2 of them the lonely
# persona's. So below ALONE_BLOCKS, or beside the person's own word that they are safe ("I
# feel awful but I'm not in danger", read 0.95 not_safe), the guess is marked
# ``classifier_alone`` and the safety policy asks the possible-risk question instead of the
# block, unless a crisis is already open or the question is waiting for its answer
# ("no I'm not" to "are you safe right now?" is still the not-safe answer); at or above it the
# block stands ("I am not safe at all", which the lexicon does not list, reads above 0.9).
ALONE_BLOCKS = 0.9
# SAFETY_DIALOGUE_INTENTS (contract) are never a downgrade target: they belong to the crisis dialogue
DEFAULT_CATEGORY = RiskCategory.SUICIDAL_IDEATION.value

LEXICON_PATH_KEY = "lexicon_path"
LOOKALIKE_INTENTS_KEY = "lookalike_intents"
POSSIBLE_INTENT_KEY = "possible_intent"
THRESHOLDS_PATH_KEY = "classifier_thresholds_path"
DEFAULT_LOOKALIKE_INTENTS = {
    "idioms": "share_feelings",
    "negated_history": "share_feelings",
    "news": "share_feelings",
    "treatment_words": "treatment_question",
}
DEFAULT_POSSIBLE_INTENT = "share_feelings"
CLASSIFIER_THRESHOLDS_FILE = DATA_DIR / "safety" / "classifier_thresholds.json"


def _alone(result: Optional[RiskResult], assessment: Optional[Assessment], confidence: float) -> bool:
    """The lexicon and the detector read the message (no failure) and found no risk, and the
    guess is below ALONE_BLOCKS or stands beside the person's own word that they are safe or
    not suicidal (asked about, like a denial beside what the detector reads as risk)."""
    if result is None or assessment is None or assessment.tier != TIER_NONE:
        return False
    said_safe = "denial" in assessment.notes or (result.safe_affirmation and not result.hits)
    return confidence < ALONE_BLOCKS or said_safe


class GuardUnavailable(RuntimeError):
    """A file the guard needs is missing or malformed: the model must not serve without it."""


def read_classifier_thresholds(path: Path = CLASSIFIER_THRESHOLDS_FILE) -> Tuple[float, float]:
    """(clear, possible): the classifier's crisis confidence at or above which it is clear
    risk on its own, and possible risk (scripts/calibrate_classifier.py writes the file)."""
    try:
        about = json.loads(Path(path).read_text(encoding="utf-8"))
        clear = float(about["thresholds"]["clear"])
        possible = float(about["thresholds"]["possible"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GuardUnavailable(f"{path}: {exc!r} (run scripts/calibrate_classifier.py)") from exc
    if not 0.0 <= possible <= clear <= 1.01:  # 1.01: never on the classifier's word alone
        raise GuardUnavailable(f"{path}: thresholds must satisfy 0 <= possible <= clear <= 1.01")
    return clear, possible


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
    """Overrides the NLU result with the risk assessment's finding."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return []

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # lexicon_path: None means data/knowledge/risk_lexicon.yml (or $TRD_RISK_LEXICON)
        # lookalike_intents: the intent a classifier false alarm on each look-alike kind becomes
        # possible_intent: the intent of a possible-risk message the classifier read as a crisis
        # classifier_thresholds_path: None means data/safety/classifier_thresholds.json
        return {
            LEXICON_PATH_KEY: None,
            LOOKALIKE_INTENTS_KEY: dict(DEFAULT_LOOKALIKE_INTENTS),
            POSSIBLE_INTENT_KEY: DEFAULT_POSSIBLE_INTENT,
            THRESHOLDS_PATH_KEY: None,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        engine: RiskEngine,
        assessor: Optional[RiskAssessor] = None,
        classifier_thresholds: Tuple[float, float] = (0.0, 0.0),
    ) -> None:
        self.component_config = config
        self.engine = engine
        # None: the lexicon alone, and the classifier's crisis at any confidence (the old guard)
        self.assessor = assessor
        self.classifier_clear, self.classifier_possible = classifier_thresholds

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyGuard:
        merged = {**cls.get_default_config(), **(config or {})}
        # A broken lexicon raises LexiconError, a missing detector or encoder DetectorUnavailable /
        # EncoderUnavailable here: the server must not start without its guard.
        engine = RiskEngine.from_file(merged.get(LEXICON_PATH_KEY))
        detector = RiskDetector.from_file()
        detector.encoder  # noqa: B018  (load the encoder now, not on a person's first message)
        configured = merged.get(THRESHOLDS_PATH_KEY)
        path = Path(configured) if configured else CLASSIFIER_THRESHOLDS_FILE
        thresholds = read_classifier_thresholds(path)
        return cls(merged, engine, RiskAssessor(engine, detector), thresholds)

    # -- the NLU graph calls this for every message ----------------------------------------
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self.guard(message)
        return messages

    def _assess(self, text: str) -> Tuple[Optional[RiskResult], Optional[Assessment]]:
        try:
            result = self.engine.assess(text)
        except Exception:  # fail towards safety: keep every crisis reading the classifier has
            logger.exception("SafetyGuard: the risk engine failed on a message; using the classifier only")
            return None, None
        if self.assessor is None:
            return result, None
        try:
            return result, self.assessor.assess_with(text, result)
        except Exception:  # the detector failed: the lexicon and the classifier, as before it existed
            logger.exception("SafetyGuard: the risk detector failed on a message; lexicon, classifier only")
            return result, None

    def guard(self, message: Message) -> None:
        text = message.get(TEXT)
        text = text if isinstance(text, str) else ""
        result, assessment = self._assess(text)

        intent = message.get(INTENT) or {}
        ranking = [e for e in (message.get(INTENT_RANKING_KEY) or []) if _name(e)]
        original = _name(intent)
        best = self._best_guess(intent, ranking)
        info: Dict[str, Any] = {
            "classifier_intent": original,
            "classifier_best_guess": _name(best),
            "classifier_confidence": round(_confidence(best), 4),
        }
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
        if assessment is not None:
            info["assessment"] = {"tier": assessment.tier, "source": assessment.source,
                                  "notes": list(assessment.notes)}
            if assessment.reading is not None:
                info["detector"] = {k: round(v, 4) for k, v in assessment.reading.probabilities.items()}

        tier = assessment.tier if assessment is not None else None
        if tier is not None and tier != TIER_NONE:
            self._apply_tier(message, assessment, best, ranking, text, info)  # type: ignore[arg-type]
        elif (
            assessment is None
            and result is not None
            and result.is_risk
            and result.intent
            and result.category
        ):
            # no detector: the lexicon's finding, as before the detector existed
            found = {INTENT_NAME_KEY: result.intent, PREDICTED_CONFIDENCE_KEY: 1.0}
            self._set_intent(message, found, ranking)
            self._set_category(message, result.category, text)
            info.update(source="guard", tier=TIER_CLEAR, intent=result.intent, category=result.category)
        elif best is not None and _name(best) in CRISIS_INTENTS:
            self._classifier_crisis(message, best, ranking, result, assessment, text, info)
        else:
            if original == INTENT_NOT_SAFE and _alone(result, assessment, _confidence(intent)):
                info["classifier_alone"] = True
            self._drop_category(message)
            info.update(source="none", tier=TIER_NONE, intent=original, category=None)
        message.set(OUTPUT_KEY, info, add_to_output=True)

    # -- the three answers --------------------------------------------------------------------
    def _apply_tier(
        self,
        message: Message,
        assessment: Assessment,
        best: Optional[Dict[str, Any]],
        ranking: List[Dict[str, Any]],
        text: str,
        info: Dict[str, Any],
    ) -> None:
        result = assessment.engine
        tier = assessment.tier
        if tier == TIER_POSSIBLE:
            self._set_possible(message, best, ranking, text)
            info.update(source=assessment.source, tier=TIER_POSSIBLE, intent=_name(message.get(INTENT)),
                        category=POSSIBLE_CATEGORY)
            return
        if assessment.source == "lexicon" and result.intent and result.category:
            intent, category = result.intent, result.category
        elif tier == TIER_CLEAR:
            danger = _name(best) == INTENT_DANGER_NOW
            intent = INTENT_DANGER_NOW if danger else INTENT_CRISIS
            category = RiskCategory.DANGER_NOW.value if danger else DEFAULT_CATEGORY
        elif tier == TIER_HARM_TO_OTHERS:
            intent, category = INTENT_CRISIS, RiskCategory.HARM_TO_OTHERS.value
        else:
            intent, category = INTENT_CRISIS, RiskCategory.THIRD_PARTY.value
        self._set_intent(message, {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}, ranking)
        self._set_category(message, category, text)
        info.update(source="guard" if assessment.source == "lexicon" else assessment.source,
                    tier=tier, intent=intent, category=category)
        logger.debug("SafetyGuard: %s (%s) by %s", intent, category, assessment.source)

    def _classifier_crisis(
        self,
        message: Message,
        best: Dict[str, Any],
        ranking: List[Dict[str, Any]],
        result: Optional[RiskResult],
        assessment: Optional[Assessment],
        text: str,
        info: Dict[str, Any],
    ) -> None:
        """The classifier's best guess is a crisis intent and the assessment found no risk."""
        guess = _name(best)
        confidence = _confidence(best)
        if guess == INTENT_SOS and _alone(result, assessment, confidence):
            info["classifier_alone"] = True
        if guess in DOWNGRADABLE and result is not None:
            if not result.has_risk_signal and result.explained_by:
                # an explicit look-alike accounts for the risky words
                self._downgrade(message, ranking, result.explained_by, "downgraded", info)
                return
            if assessment is not None:
                if "denial" in assessment.notes:
                    # a plain denial with nothing risky beside it is an ordinary message
                    self._downgrade(message, ranking, (), "denial", info)
                    return
                if confidence < self.classifier_possible:
                    self._downgrade(message, ranking, (), "below_threshold", info)
                    return
                if confidence < self.classifier_clear:
                    self._set_possible(message, best, ranking, text)
                    info.update(source="classifier", tier=TIER_POSSIBLE, intent=_name(message.get(INTENT)),
                                category=POSSIBLE_CATEGORY)
                    return
        category = self._category_for_classifier(guess, result)
        chosen = {INTENT_NAME_KEY: guess, PREDICTED_CONFIDENCE_KEY: confidence}
        self._set_intent(message, chosen, ranking)
        self._set_category(message, category, text)
        info.update(source="classifier", tier=TIER_CLEAR, intent=guess, category=category)

    def _downgrade(
        self,
        message: Message,
        ranking: List[Dict[str, Any]],
        kinds: Tuple[str, ...],
        source: str,
        info: Dict[str, Any],
    ) -> None:
        alternative = self._downgrade_target(ranking, kinds)
        self._set_intent(message, dict(alternative), ranking)
        self._drop_category(message)
        info.update(source=source, tier=TIER_NONE, intent=_name(alternative), category=None)
        logger.debug("SafetyGuard: classifier crisis downgraded to %s (%s)", _name(alternative), source)

    def _set_possible(
        self, message: Message, best: Optional[Dict[str, Any]], ranking: List[Dict[str, Any]], text: str
    ) -> None:
        """Possible risk: a non-crisis intent and the entity the policy asks on."""
        if best is None or _name(best) in CRISIS_INTENTS or _name(best) in SAFETY_DIALOGUE_INTENTS:
            kinds = tuple(self.engine.assess(text).explained_by) if text else ()
            self._set_intent(message, dict(self._downgrade_target(ranking, kinds)), ranking)
        else:
            self._set_intent(message, dict(best), ranking)
        self._set_category(message, POSSIBLE_CATEGORY, text)

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _best_guess(intent: Dict[str, Any], ranking: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        """The classifier's best intent, looking past an nlu_fallback."""
        if _name(intent) and _name(intent) != DEFAULT_NLU_FALLBACK_INTENT_NAME:
            return intent
        return next((e for e in ranking if _name(e) != DEFAULT_NLU_FALLBACK_INTENT_NAME), None)

    def _downgrade_target(self, ranking: List[Dict[str, Any]], kinds: Tuple[str, ...]) -> Dict[str, Any]:
        excluded = set(CRISIS_INTENTS) | set(SAFETY_DIALOGUE_INTENTS) | {DEFAULT_NLU_FALLBACK_INTENT_NAME}
        preferred = self.component_config.get(LOOKALIKE_INTENTS_KEY) or {}
        for kind in kinds:
            wanted = preferred.get(kind)
            if isinstance(wanted, str) and wanted and wanted not in excluded:
                return {INTENT_NAME_KEY: wanted, PREDICTED_CONFIDENCE_KEY: 1.0}
        candidates = [e for e in ranking if _name(e) not in excluded]
        if candidates:
            return candidates[0]
        fallback = self.component_config.get(POSSIBLE_INTENT_KEY) or DEFAULT_POSSIBLE_INTENT
        return {INTENT_NAME_KEY: fallback, PREDICTED_CONFIDENCE_KEY: 1.0}

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
