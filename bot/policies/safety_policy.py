"""The safety policy: a deterministic crisis turn that outranks every other policy.

When the latest user message is risky (intent ``crisis``, ``crisis_danger_now`` or
``sos``, or any message carrying a ``risk_category`` entity from the NLU safety guard),
this policy takes the whole turn:

    [action_deactivate_loop]          only if a form is active
    <crisis response for the category> e.g. utter_crisis, utter_crisis_danger_now
    utter_crisis_check                 ask, do not assume
    action_record_crisis               action server; if it is down the person already has the resources
    action_listen

``not_safe`` takes the same path with ``utter_crisis_not_safe`` (no second check), and
``safety_plan_request`` while another form is active suspends that form and starts
``safety_plan_form``. In every other state the policy abstains (all-zero probabilities).

Why it wins (``rasa/core/policies/ensemble.py``, ``DefaultPolicyPredictionEnsemble``):
predictions flagged ``is_no_user_prediction`` overrule all others, and RulePolicy flags
its "keep running the active form" prediction that way. So this policy flags its own
predictions too; among those, the higher (confidence, priority) wins, and this policy
predicts with confidence 1.0 at a priority above RulePolicy's. A form therefore can never
swallow a crisis message, and the responses come from the domain, so they need no action
server, database or webhook.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from rasa.core.constants import POLICY_PRIORITY, RULE_POLICY_PRIORITY
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from trd.safety.contract import (
    ALL_CATEGORIES,
    CRISIS_INTENTS,
    INTENT_DANGER_NOW,
    INTENT_NOT_SAFE,
    INTENT_SAFETY_PLAN_REQUEST,
    INTENT_SOS,
    RISK_ENTITY,
    SAFETY_PLAN_FORM,
    SAFETY_POLICY_PRIORITY,
    SELF_HARM_CATEGORIES,
    SLOT_CRISIS_ACTIVE,
    SLOT_INTERRUPTED_LOOP,
    SLOT_RISK_CATEGORY,
)

logger = logging.getLogger(__name__)

# Intents, entity, categories and slots: the safety contract (trd/safety/contract.py).
NOT_SAFE_INTENT = INTENT_NOT_SAFE
SAFETY_PLAN_INTENT = INTENT_SAFETY_PLAN_REQUEST
KNOWN_CATEGORIES = frozenset(ALL_CATEGORIES)

# Domain names (domain.yml, "# --- safety dialogue" sections).
UTTER_CRISIS = "utter_crisis"
UTTER_DANGER_NOW = "utter_crisis_danger_now"
UTTER_THIRD_PARTY = "utter_crisis_third_party"
UTTER_HARM_TO_OTHERS = "utter_crisis_harm_to_others"
UTTER_SOS = "utter_sos"
UTTER_NOT_SAFE = "utter_crisis_not_safe"
UTTER_CHECK = "utter_crisis_check"
UTTER_SAFETY_PLAN_INTRO = "utter_safety_plan_intro"
ACTION_RECORD_CRISIS = "action_record_crisis"
_OWN_SLOTS = frozenset({SLOT_RISK_CATEGORY, SLOT_CRISIS_ACTIVE, SLOT_INTERRUPTED_LOOP, "requested_slot"})

# If the category's own response is missing from the domain, fall back (never stay silent).
_FALLBACK_RESPONSES = (UTTER_CRISIS, UTTER_SOS)


def _entity_categories(message: Optional[UserUttered]) -> List[str]:
    if message is None:
        return []
    found = []
    for entity in message.entities or []:
        if isinstance(entity, dict) and entity.get("entity") == RISK_ENTITY:
            value = entity.get("value")
            if isinstance(value, str) and value.strip():
                found.append(value.strip())
    return found


def classify(intent: Optional[str], categories: Sequence[str]) -> Optional[Tuple[str, str]]:
    """(crisis response, category to record) for a message, or None if it is not a crisis.

    The most urgent reading wins: danger now, then harm to others, then risk to the
    person themselves, then "help now", then worry about someone else.
    """
    cats: Set[str] = set(categories)
    if intent == INTENT_DANGER_NOW or "danger_now" in cats:
        return UTTER_DANGER_NOW, "danger_now"
    if "harm_to_others" in cats:
        return UTTER_HARM_TO_OTHERS, "harm_to_others"
    for category in SELF_HARM_CATEGORIES:  # about the person themselves, most specific first
        if category in cats:
            return UTTER_CRISIS, category
    if intent == NOT_SAFE_INTENT:
        return UTTER_NOT_SAFE, "not_safe"
    if intent == INTENT_SOS or "sos" in cats:
        return UTTER_SOS, "sos"
    if "third_party" in cats:
        return UTTER_THIRD_PARTY, "third_party"
    if intent in CRISIS_INTENTS or cats:
        # a crisis intent without a category, or a category this version does not know
        return UTTER_CRISIS, "unspecified"
    return None


def _actions_since_latest_user_message(tracker: DialogueStateTracker) -> Optional[List[str]]:
    """Names of the actions run after the latest user message (None if there is none)."""
    names: List[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            names.reverse()
            return names
        if isinstance(event, ActionExecuted) and event.action_name:
            names.append(event.action_name)
    return None


def _undo_answers_taken_from(tracker: DialogueStateTracker, message: UserUttered) -> List[Event]:
    """Empty form slots that slot extraction filled with the crisis message itself.

    A from_text mapping should exclude the crisis intents (not_intent), but a message the
    guard flagged only with an entity, or a mapping written without the exclusion, would
    otherwise store "I want to die" as, say, a medication name, and the resumed form
    would skip that question.
    """
    text = (message.text or "").strip()
    if not text:
        return []
    undo: List[Event] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if (
            isinstance(event, SlotSet)
            and event.key not in _OWN_SLOTS
            and isinstance(event.value, str)
            and event.value.strip() == text
        ):
            undo.append(SlotSet(event.key, None))
    return undo


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=False
)
class SafetyPolicy(Policy):
    """Takes the turn deterministically whenever the latest user message is risky."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {POLICY_PRIORITY: SAFETY_POLICY_PRIORITY}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        config = {**self.get_default_config(), **(config or {})}
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        if not isinstance(self.priority, int) or self.priority <= RULE_POLICY_PRIORITY:
            raise InvalidConfigException(
                f"SafetyPolicy needs a priority above RulePolicy's ({RULE_POLICY_PRIORITY}), "
                f"got {self.priority!r}: a crisis turn must win every tie."
            )

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Nothing to learn: the crisis turn is fixed. Persists its config so loading works."""
        with self._model_storage.write_to(self._resource) as path:
            (path / "safety_policy.json").write_text(json.dumps({POLICY_PRIORITY: self.priority}))
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        try:
            decision = self._decide(tracker, domain)
        except Exception:  # never let this policy break a turn; RulePolicy still answers
            logger.exception("SafetyPolicy failed; abstaining for this prediction")
            decision = None
        if decision is None:
            return self._prediction(self._default_predictions(domain))
        action, optional_events = decision
        probabilities = self._default_predictions(domain)
        probabilities[domain.index_for_action(action)] = 1.0
        logger.debug("SafetyPolicy predicts %s", action)
        return self._prediction(
            probabilities,
            optional_events=optional_events,
            is_no_user_prediction=True,
        )

    # --- the decision -------------------------------------------------------

    def _decide(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[Tuple[str, List[Event]]]:
        message = tracker.latest_message
        done = _actions_since_latest_user_message(tracker)
        if message is None or done is None or ACTION_LISTEN_NAME in done:
            return None
        intent = (message.intent or {}).get("name")
        categories = _entity_categories(message)

        if intent == SAFETY_PLAN_INTENT and not categories:
            return self._safety_plan_mid_form(tracker, domain, done)

        classified = classify(intent, categories)
        if classified is None:
            return None
        wanted, category = classified
        response = self._available(wanted, domain)
        if response is None:
            logger.error(
                "SafetyPolicy: no crisis response in the domain; run scripts/gen_crisis_responses.py"
            )
            return None
        steps = [response]
        if response != UTTER_NOT_SAFE:
            steps.append(UTTER_CHECK)
        steps += [ACTION_RECORD_CRISIS, ACTION_LISTEN_NAME]
        steps = [s for s in steps if s == ACTION_LISTEN_NAME or s in domain.action_names_or_texts]

        events: List[Event] = []
        if not done:
            events += _undo_answers_taken_from(tracker, message)
            # the crisis is open even when only the guard's entity raised it (no crisis intent
            # for the slot mapping) and even when the action server is down
            if self._has_slot(domain, SLOT_CRISIS_ACTIVE):
                events.append(SlotSet(SLOT_CRISIS_ACTIVE, True))
            if self._has_slot(domain, SLOT_RISK_CATEGORY):
                known = category if category in KNOWN_CATEGORIES else "unspecified"
                events.append(SlotSet(SLOT_RISK_CATEGORY, known))
        return self._next(tracker, domain, done, steps, events)

    def _safety_plan_mid_form(
        self, tracker: DialogueStateTracker, domain: Domain, done: List[str]
    ) -> Optional[Tuple[str, List[Event]]]:
        """A safety plan asked for while another form asks its questions: suspend it, start the plan."""
        if SAFETY_PLAN_FORM not in domain.form_names or SAFETY_PLAN_FORM in done:
            return None
        if ACTION_DEACTIVATE_LOOP_NAME not in done:
            loop = tracker.active_loop_name
            if loop is None or loop == SAFETY_PLAN_FORM:
                return None  # no other form in the way: the rules start the plan
        steps = [s for s in (UTTER_SAFETY_PLAN_INTRO, SAFETY_PLAN_FORM) if s in domain.action_names_or_texts]
        return self._next(tracker, domain, done, steps, [])

    def _next(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        done: List[str],
        steps: List[str],
        events: List[Event],
    ) -> Optional[Tuple[str, List[Event]]]:
        loop = tracker.active_loop_name
        if loop and ACTION_DEACTIVATE_LOOP_NAME not in done and not set(steps) & set(done):
            if self._has_slot(domain, SLOT_INTERRUPTED_LOOP):
                recorded = tracker.get_slot(SLOT_INTERRUPTED_LOOP)
                if not (loop == SAFETY_PLAN_FORM and recorded):
                    events.append(SlotSet(SLOT_INTERRUPTED_LOOP, loop))
            return ACTION_DEACTIVATE_LOOP_NAME, events
        for step in steps:
            if step not in done:
                return step, events
        return None

    @staticmethod
    def _available(response: str, domain: Domain) -> Optional[str]:
        for name in (response, *_FALLBACK_RESPONSES):
            if name in domain.action_names_or_texts:
                if name != response:
                    logger.error("SafetyPolicy: '%s' missing from the domain, using '%s'", response, name)
                return name
        return None

    @staticmethod
    def _has_slot(domain: Domain, name: str) -> bool:
        return any(slot.name == name for slot in domain.slots)
