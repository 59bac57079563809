"""The safety policy: a deterministic crisis turn that outranks every other policy.

When the latest user message is risky (intent ``crisis``, ``crisis_danger_now`` or
``sos``, or any message carrying a ``risk_category`` entity from the NLU safety guard),
this policy takes the whole turn:

    [action_deactivate_loop]          only if a form is active
    <crisis response for the category> e.g. utter_crisis, utter_crisis_danger_now
    utter_crisis_check                 ask, do not assume
    action_record_crisis               action server; if it is down the person already has the resources
    action_listen

``not_safe`` takes the same path with ``utter_crisis_not_safe`` (no second check), a
worry about someone else asks about them (``utter_crisis_check_third_party``), and
``safety_plan_request`` while another form is active suspends that form and starts
``safety_plan_form``.

Possible risk (the guard's ``risk_category: possible``, or risk building up over the last
few messages, read here by the risk detector on those messages joined) is asked about,
not answered with the crisis block:

    [action_deactivate_loop]          only if a form is active
    utter_risk_check                   "... Are you having thoughts like that?" (the crisis lines in view)
    action_listen

and the reply (data/knowledge/risk_check_answers.yml, trd/safety/risk_check.py) decides:
a yes or an evasive answer takes the crisis turn above; a no gets ``utter_risk_check_no``
and ``action_resume_after_crisis`` (back to the interrupted form); no answer is asked once
more (``utter_risk_recheck``), and a second non-answer goes on the same way as a no. After
a no, possible risk is not asked about again for a few messages (clear risk always is).
In every other state the policy abstains (all-zero probabilities).

This module runs only when the model serves (its training step persists nothing but its
priority), so scripts/train.sh leaves it out of the model's fingerprint.

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
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.constants import POLICY_PRIORITY, RULE_POLICY_PRIORITY
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, Restarted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from bot.policies.crisis_reading import (
    KNOWN_CATEGORIES,
    SAFETY_PLAN_INTENT,
    UTTER_CRISIS,
    UTTER_NOT_SAFE,
    UTTER_RISK_CHECK,
    UTTER_SOS,
    UTTER_THIRD_PARTY,
    classify,
    entity_categories,
)
from trd.intake.parts import SUICIDE_HISTORY_FORM
from trd.safety.assessment import RiskAssessor
from trd.safety.contract import (
    INTENT_NOT_SAFE,
    INTENT_SOS,
    POSSIBLE_CATEGORY,
    RISK_CHECK_ASKED,
    RISK_CHECK_DECLINED,
    RISK_CHECK_REASKED,
    SAFETY_PLAN_FORM,
    SAFETY_POLICY_PRIORITY,
    SLOT_CRISIS_ACTIVE,
    SLOT_INTERRUPTED_LOOP,
    SLOT_RISK_CATEGORY,
    SLOT_RISK_CHECK,
)
from trd.safety.risk_check import EVASIVE, NO, YES, is_long_reply, load_answer_phrases

logger = logging.getLogger(__name__)

# Intents, entity, categories and slots: the safety contract (trd/safety/contract.py);
# classify() and the crisis responses' names: bot/policies/crisis_reading.py.
UTTER_CHECK = "utter_crisis_check"
UTTER_CHECK_THIRD_PARTY = "utter_crisis_check_third_party"
UTTER_RISK_RECHECK = "utter_risk_recheck"
UTTER_RISK_CHECK_NO = "utter_risk_check_no"
ACTION_RESUME = "action_resume_after_crisis"
INTENT_AFFIRM = "affirm"
INTENT_DENY = "deny"
# the intents the guard may mark as the classifier's guess alone (bot/nlu/safety_guard.py)
ALONE_INTENTS = (INTENT_SOS, INTENT_NOT_SAFE)
# After a no, possible risk is not asked about again until this many more messages (clear risk is).
QUIET_AFTER_NO = 5
CONTEXT_MESSAGES = 3  # the newest message and the two before it
UTTER_SAFETY_PLAN_INTRO = "utter_safety_plan_intro"
ACTION_RECORD_CRISIS = "action_record_crisis"
_OWN_SLOTS = frozenset(
    {SLOT_RISK_CATEGORY, SLOT_CRISIS_ACTIVE, SLOT_INTERRUPTED_LOOP, SLOT_RISK_CHECK, "requested_slot"}
)
# A slot event that marks a new start for the context window (the risk dialogue moved on).
_BOUNDARY_SLOTS = frozenset({SLOT_CRISIS_ACTIVE, SLOT_RISK_CHECK})

# If the category's own response is missing from the domain, fall back (never stay silent).
_FALLBACK_RESPONSES = (UTTER_CRISIS, UTTER_SOS)


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


def _user_texts_since_boundary(tracker: DialogueStateTracker, limit: int) -> List[str]:
    """The person's last ``limit`` typed messages (oldest first) since the risk dialogue last moved.

    The window starts after the latest crisis or risk-check slot change (so a disclosure
    already answered, or a no to the question, is not read again), a restart or a new
    session; button payloads ("/affirm") are not the person's words.
    """
    texts: List[str] = []
    seen_latest = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            seen_latest = True
            text = (event.text or "").strip()
            if text and not text.startswith("/"):
                texts.append(text)
                if len(texts) >= limit:
                    break
        elif seen_latest and isinstance(event, SlotSet) and event.key in _BOUNDARY_SLOTS:
            break
        elif isinstance(event, (Restarted, SessionStarted)):
            break
    texts.reverse()
    return texts


def _user_messages_since_no(tracker: DialogueStateTracker) -> Optional[int]:
    """How many user messages came after the latest ``risk_check: declined`` (None if never)."""
    count = 0
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            count += 1
        elif isinstance(event, SlotSet) and event.key == SLOT_RISK_CHECK:
            return count if event.value == RISK_CHECK_DECLINED else None
        elif isinstance(event, (Restarted, SessionStarted)):
            return None
    return None


def _slot_before_latest_message(tracker: DialogueStateTracker, key: str) -> Any:
    """The slot's value as it was when the latest user message arrived."""
    seen_latest = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            seen_latest = True
        elif seen_latest and isinstance(event, SlotSet) and event.key == key:
            return event.value
        elif seen_latest and isinstance(event, (Restarted, SessionStarted)):
            return None
    return None


def _classifier_alone(message: UserUttered) -> bool:
    """The safety guard marked the message's sos or not_safe intent as the classifier's guess
    alone (no risk found by the lexicon or the detector; bot/nlu/safety_guard.py)."""
    info = (message.parse_data or {}).get("safety_guard")
    return isinstance(info, dict) and info.get("classifier_alone") is True


def _asked_since_latest_message(tracker: DialogueStateTracker) -> bool:
    """This turn already began asking the possible-risk question (risk_check set to asked)."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, SlotSet) and event.key == SLOT_RISK_CHECK and event.value == RISK_CHECK_ASKED:
            return True
    return False


class _SharedAssessor:
    """The risk detector for the context window, loaded once per process on first use."""

    def __init__(self) -> None:
        self._assessor: Optional[RiskAssessor] = None
        self._failed = False

    def get(self) -> Optional[RiskAssessor]:
        if self._assessor is None and not self._failed:
            try:
                self._assessor = RiskAssessor.from_files()
            except Exception:
                self._failed = True
                logger.exception("SafetyPolicy: the risk detector could not be loaded; no context reading")
        return self._assessor


_SHARED_ASSESSOR = _SharedAssessor()


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

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> Policy:
        """The trained policy, with the risk detector loaded now rather than on a person's turn."""
        policy = super().load(config, model_storage, resource, execution_context, **kwargs)
        _SHARED_ASSESSOR.get()
        return policy

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
        categories = entity_categories(message)

        if intent == SAFETY_PLAN_INTENT and not categories:
            return self._safety_plan_mid_form(tracker, domain, done)

        classified = classify(intent, categories)
        has_check = self._has_slot(domain, SLOT_RISK_CHECK)
        # the question was asked before this message (not earlier in this same turn)
        pending = _slot_before_latest_message(tracker, SLOT_RISK_CHECK) if has_check else None
        crisis_open = self._has_slot(domain, SLOT_CRISIS_ACTIVE) and bool(
            tracker.get_slot(SLOT_CRISIS_ACTIVE)
        )
        possible = classified is not None and classified[1] == POSSIBLE_CATEGORY
        # the open crisis's own questions are on the screen; a safety plan's answers are about
        # warning signs and hard moments by design: possible risk is not asked about in either
        # (and the gentle questions after the check, trd.intake.parts.SUICIDE_HISTORY_FORM, ask about it)
        planning = tracker.active_loop_name in (SAFETY_PLAN_FORM, SUICIDE_HISTORY_FORM)
        if possible and (crisis_open or planning):
            classified, possible = None, False
        if (
            classified is not None
            and intent in ALONE_INTENTS
            and _classifier_alone(message)
            and has_check
            and not planning
            and pending not in (RISK_CHECK_ASKED, RISK_CHECK_REASKED)
            and not _slot_before_latest_message(tracker, SLOT_CRISIS_ACTIVE)
        ):
            # the classifier's own "help now" or "not safe" guess, where the lexicon and the
            # detector found no risk (bot/nlu/safety_guard.py, ALONE_BLOCKS): asked, not assumed.
            # In an open crisis, or as the answer to the question, it is the crisis path as before.
            return self._ask_alone(tracker, domain, done, message)
        if pending in (RISK_CHECK_ASKED, RISK_CHECK_REASKED) and (classified is None or possible):
            flagged = POSSIBLE_CATEGORY in categories  # the guard read this reply as possible risk
            return self._risk_answer(tracker, domain, done, message, intent, pending, flagged)
        if classified is None:
            if not has_check or crisis_open or planning:
                return None
            if not (_asked_since_latest_message(tracker) or (not done and self._context_shows_risk(tracker))):
                return None
            classified, possible = (UTTER_RISK_CHECK, POSSIBLE_CATEGORY), True
        if possible:
            if done and not _asked_since_latest_message(tracker):
                return None  # other actions answered this message first (a finished form): not now
            if not done:
                quiet = _user_messages_since_no(tracker)
                if quiet is not None and quiet <= QUIET_AFTER_NO:
                    return None  # they said no a moment ago: an ordinary reply this time
            return self._ask(tracker, domain, done, message, RISK_CHECK_ASKED, UTTER_RISK_CHECK)
        wanted, category = classified
        return self._crisis_turn(tracker, domain, done, message, wanted, category)

    def _crisis_turn(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        done: List[str],
        message: UserUttered,
        wanted: str,
        category: str,
    ) -> Optional[Tuple[str, List[Event]]]:
        """The crisis block: the response for the category, the check, the record."""
        response = self._available(wanted, domain)
        if response is None:
            logger.error(
                "SafetyPolicy: no crisis response in the domain; run scripts/gen_crisis_responses.py"
            )
            return None
        steps = [response]
        if response == UTTER_THIRD_PARTY and UTTER_CHECK_THIRD_PARTY in domain.action_names_or_texts:
            steps.append(UTTER_CHECK_THIRD_PARTY)  # ask about them, not "are you thinking of suicide"
        elif response != UTTER_NOT_SAFE:
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
            if self._has_slot(domain, SLOT_RISK_CHECK) and tracker.get_slot(SLOT_RISK_CHECK) is not None:
                events.append(SlotSet(SLOT_RISK_CHECK, None))
        return self._next(tracker, domain, done, steps, events)

    # --- possible risk: ask, then read the answer --------------------------------

    def _ask(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        done: List[str],
        message: UserUttered,
        state: str,
        response: str,
    ) -> Optional[Tuple[str, List[Event]]]:
        if response not in domain.action_names_or_texts:
            logger.error("SafetyPolicy: '%s' missing from the domain; asking with the crisis check", response)
            response = UTTER_CHECK
        steps = [response, ACTION_LISTEN_NAME]
        events: List[Event] = []
        if not done:
            events += _undo_answers_taken_from(tracker, message)
            if self._has_slot(domain, SLOT_RISK_CHECK):
                events.append(SlotSet(SLOT_RISK_CHECK, state))
        return self._next(tracker, domain, done, steps, events)

    def _ask_alone(
        self, tracker: DialogueStateTracker, domain: Domain, done: List[str], message: UserUttered
    ) -> Optional[Tuple[str, List[Event]]]:
        """The possible-risk question for a guess of the classifier's alone; the intent's slot
        mapping (crisis_active from sos or not_safe) opened no crisis."""
        decision = self._ask(tracker, domain, done, message, RISK_CHECK_ASKED, UTTER_RISK_CHECK)
        if decision is None or done:
            return decision
        action, events = decision
        undo: List[Event] = []
        if self._has_slot(domain, SLOT_CRISIS_ACTIVE):
            undo.append(SlotSet(SLOT_CRISIS_ACTIVE, False))
        if self._has_slot(domain, SLOT_RISK_CATEGORY):
            undo.append(SlotSet(SLOT_RISK_CATEGORY, POSSIBLE_CATEGORY))
        return action, undo + events

    def _risk_answer(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        done: List[str],
        message: UserUttered,
        intent: Optional[str],
        pending: str,
        flagged: bool = False,
    ) -> Optional[Tuple[str, List[Event]]]:
        """The reply to "are you having thoughts of suicide?" (the message itself is not clear risk).

        A long reply that only opens unsure ("idk, anyway my new job...") or that the
        classifier reads as a yes without saying one, and that shows no risk itself
        (``flagged``: the guard's reading of this message), is the person going on with what
        they were saying: not an answer (asked once more), not the crisis path.
        """
        text = message.text or ""
        answer = load_answer_phrases().read(text, flagged=flagged)
        guessed = False
        if answer is None and intent == INTENT_AFFIRM:
            answer, guessed = YES, True
        elif answer is None and intent == INTENT_DENY:
            answer = NO
        if (answer == EVASIVE or guessed) and is_long_reply(text) and not flagged:
            answer = None
        if answer in (YES, EVASIVE):
            # a yes, or an answer that avoids the question: clear risk
            return self._crisis_turn(tracker, domain, done, message, UTTER_CRISIS, "suicidal_ideation")
        if answer is None and pending == RISK_CHECK_ASKED:
            return self._ask(tracker, domain, done, message, RISK_CHECK_REASKED, UTTER_RISK_RECHECK)
        # a no, or a second reply that is not an answer: thank them, keep the crisis lines in view, go on
        steps = [s for s in (UTTER_RISK_CHECK_NO, ACTION_RESUME) if s in domain.action_names_or_texts]
        steps.append(ACTION_LISTEN_NAME)
        events: List[Event] = []
        if not done:
            events += _undo_answers_taken_from(tracker, message)
            events.append(SlotSet(SLOT_RISK_CHECK, RISK_CHECK_DECLINED))
        return self._next(tracker, domain, done, steps, events)

    @staticmethod
    def _context_shows_risk(tracker: DialogueStateTracker) -> bool:
        """Risk building up over the last few messages (read on a turn's first prediction)."""
        quiet = _user_messages_since_no(tracker)
        if quiet is not None and quiet <= QUIET_AFTER_NO:
            return False
        texts = _user_texts_since_boundary(tracker, CONTEXT_MESSAGES)
        if len(texts) < 2:
            return False
        assessor = _SHARED_ASSESSOR.get()
        if assessor is None:
            return False
        try:
            return assessor.context(texts) is not None
        except Exception:
            logger.exception("SafetyPolicy: the context reading failed; no context this turn")
            return False

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
