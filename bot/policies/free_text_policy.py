"""The free-text answer policy: an answer a form asked for goes to that form, whatever the classifier said.

While a form is active and has asked for a slot that the domain fills ``from_text`` for
that form and that question (the safety plan's sections, every intake question), the
person's next message is that form's to read: this policy predicts the active form for
it, deterministically, whatever intent the classifier gave the message (``nlu_fallback``,
``greet``, ``out_of_scope``...). A person writing their safety plan is never told they
were not understood because a freshly trained classifier was unsure.

It abstains, and so changes nothing, when:

* the message is a crisis (:func:`bot.policies.crisis_reading.classify`: a crisis intent or
  the safety guard's ``risk_category`` entity) or a safety plan request: the SafetyPolicy,
  which outranks this policy, takes those turns;
* the slot mapping excludes the message's intent (``not_intent``): the form would not get
  the text;
* the form has already run for this message, or rejected it: the form's validator decided
  the message is a digression (a question, "pause", "start over"...), which the rules
  answer as before; "go back" and "skip" are the validator's own and unchanged.

RulePolicy predicts the same form at the same point (its "loop happy path"); this policy
makes the promise explicit and independent of the rules and of RulePolicy's internals.
Its predictions are ``is_no_user_prediction`` like RulePolicy's, at a priority below
RulePolicy's (so when both predict the form, RulePolicy's prediction is the one logged)
and below the SafetyPolicy's (so a crisis always wins).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional

from rasa.core.constants import POLICY_PRIORITY, RULE_POLICY_PRIORITY
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from bot.policies.crisis_reading import (
    SAFETY_PLAN_INTENT,
    SAFETY_POLICY_PRIORITY,
    classify,
    entity_categories,
)

logger = logging.getLogger(__name__)

FREE_TEXT_POLICY_PRIORITY = RULE_POLICY_PRIORITY - 1


def _as_list(value: Any) -> List[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def free_text_mapping(domain: Domain, loop: str, slot: str) -> Optional[Dict[str, Any]]:
    """The slot's ``from_text`` mapping that applies while ``loop`` asks for ``slot``, if any."""
    for candidate in domain.slots:
        if candidate.name != slot:
            continue
        for mapping in candidate.mappings or []:
            if mapping.get("type") != "from_text":
                continue
            conditions = mapping.get("conditions") or []
            if not conditions or any(
                c.get("active_loop") == loop and c.get(REQUESTED_SLOT) in (None, slot) for c in conditions
            ):
                return mapping
    return None


def takes_text(mapping: Dict[str, Any], intent: Optional[str], domain: Domain, loop: str) -> bool:
    """Whether the mapping fills the slot from a message with this intent (as Rasa decides)."""
    wanted = _as_list(mapping.get("intent"))
    excluded = _as_list(mapping.get("not_intent")) + _as_list(
        (domain.forms.get(loop) or {}).get("ignored_intents")
    )
    if wanted:
        return intent in wanted
    return intent not in excluded


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=False
)
class FreeTextAnswerPolicy(Policy):
    """Predicts the active form for the answer to its free-text question, whatever the intent."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {POLICY_PRIORITY: FREE_TEXT_POLICY_PRIORITY}

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
        if not isinstance(self.priority, int) or self.priority >= SAFETY_POLICY_PRIORITY:
            raise InvalidConfigException(
                f"FreeTextAnswerPolicy needs a priority below the SafetyPolicy's ({SAFETY_POLICY_PRIORITY}), "
                f"got {self.priority!r}: a crisis turn must win every tie."
            )

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Nothing to learn. Persists its config so loading works."""
        with self._model_storage.write_to(self._resource) as path:
            (path / "free_text_policy.json").write_text(json.dumps({POLICY_PRIORITY: self.priority}))
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        try:
            form = self._form_for_answer(tracker, domain)
        except Exception:  # never let this policy break a turn; RulePolicy still answers
            logger.exception("FreeTextAnswerPolicy failed; abstaining for this prediction")
            form = None
        probabilities = self._default_predictions(domain)
        if form is None:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(form)] = 1.0
        logger.debug("FreeTextAnswerPolicy predicts %s for a free-text answer", form)
        return self._prediction(probabilities, is_no_user_prediction=True)

    @staticmethod
    def _form_for_answer(tracker: DialogueStateTracker, domain: Domain) -> Optional[str]:
        loop = tracker.active_loop_name
        message = tracker.latest_message
        if not loop or loop not in domain.form_names or message is None:
            return None
        if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.is_active_loop_rejected:
            return None  # the form has had this message already (or called it a digression)
        if not (message.text or "").strip():
            return None
        slot = tracker.get_slot(REQUESTED_SLOT)
        if not isinstance(slot, str):
            return None
        intent = (message.intent or {}).get("name")
        if intent == SAFETY_PLAN_INTENT or classify(intent, entity_categories(message)) is not None:
            return None  # the SafetyPolicy's turn
        mapping = free_text_mapping(domain, loop, slot)
        if mapping is None or not takes_text(mapping, intent, domain, loop):
            return None
        return loop
