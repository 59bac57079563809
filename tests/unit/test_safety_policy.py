"""SafetyPolicy: a risky message takes the turn deterministically, even while a form is active.

The tracker and the domain are built in code; turns are played the way Rasa's processor
plays them (predict, apply the prediction's events, log the action and its events, until
action_listen), and the policy's predictions are combined with a real, trained RulePolicy
in Rasa's own ensemble, as in production.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa.core.constants import RULE_POLICY_PRIORITY
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from bot.policies.safety_policy import SafetyPolicy

CRISIS_RESPONSES = [
    "utter_crisis",
    "utter_crisis_danger_now",
    "utter_crisis_third_party",
    "utter_crisis_harm_to_others",
    "utter_sos",
    "utter_crisis_not_safe",
    "utter_crisis_check",
    "utter_safety_plan_intro",
]

DOMAIN_YAML = """
version: "3.1"
intents: [greet, affirm, crisis, crisis_danger_now, sos, crisis_retract, confirm_safe, not_safe,
          safety_plan_request, nlu_fallback]
entities: [risk_category, medication]
slots:
  crisis_active:
    type: bool
    initial_value: false
    influence_conversation: true
    mappings:
      - type: from_intent
        intent: [crisis, crisis_danger_now, sos, not_safe]
        value: true
  risk_category:
    type: categorical
    values: [suicidal_ideation, coded_language, method_seeking, plan, self_harm, danger_now,
             harm_to_others, third_party, sos, unspecified, not_safe]
    influence_conversation: true
    mappings:
      - type: from_entity
        entity: risk_category
  crisis_interrupted_loop:
    type: text
    influence_conversation: false
    mappings:
      - type: custom
  medication_name:
    type: text
    influence_conversation: false
    mappings:
      - type: from_text
        not_intent: [crisis, crisis_danger_now, sos]
        conditions:
          - active_loop: medication_form
            requested_slot: medication_name
  sp_warning_signs:
    type: text
    influence_conversation: false
    mappings:
      - type: from_text
        conditions:
          - active_loop: safety_plan_form
            requested_slot: sp_warning_signs
forms:
  medication_form:
    required_slots: [medication_name]
  safety_plan_form:
    required_slots: [sp_warning_signs]
actions: [action_record_crisis, action_close_crisis, validate_medication_form]
responses:
""" + "".join(f'  {name}:\n    - text: "{name}"\n' for name in CRISIS_RESPONSES + ["utter_greet"])


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.from_yaml(DOMAIN_YAML)


def _storage(tmp_path: Path, name: str) -> LocalModelStorage:
    path = tmp_path / name
    path.mkdir(exist_ok=True)
    return LocalModelStorage(path)


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


def make_policy(tmp_path: Path, config: Optional[Dict[str, Any]] = None) -> SafetyPolicy:
    storage = _storage(tmp_path, "storage")
    policy = SafetyPolicy.create(
        {**SafetyPolicy.get_default_config(), **(config or {})}, storage, Resource("safety"), _context()
    )
    assert isinstance(policy, SafetyPolicy)
    return policy


@pytest.fixture
def policy(tmp_path: Path) -> SafetyPolicy:
    return make_policy(tmp_path)


@pytest.fixture
def rule_policy(tmp_path: Path, domain: Domain) -> RulePolicy:
    storage = _storage(tmp_path, "rules")
    rp = RulePolicy.create(RulePolicy.get_default_config(), storage, Resource("rules"), _context())
    rp.train([], domain)
    return rp


def user(intent: str, text: str = "", categories: Optional[List[str]] = None) -> UserUttered:
    entities = [{"entity": "risk_category", "value": c, "start": 0, "end": 1} for c in categories or []]
    return UserUttered(text or intent, {"name": intent, "confidence": 0.99}, entities)


def tracker_with(domain: Domain, *events: Event) -> DialogueStateTracker:
    base: List[Event] = [ActionExecuted(ACTION_LISTEN_NAME)]
    return DialogueStateTracker.from_events("person-1", base + list(events), domain.slots)


def in_medication_form(domain: Domain) -> DialogueStateTracker:
    """A person half-way through a form: the form asked for a medication."""
    return tracker_with(
        domain,
        user("greet", "hi"),
        ActionExecuted("medication_form"),
        ActiveLoop("medication_form"),
        SlotSet(REQUESTED_SLOT, "medication_name"),
        ActionExecuted(ACTION_LISTEN_NAME),
    )


def _action_events(action: str) -> List[Event]:
    """What Rasa's own actions add to the tracker when they run."""
    if action == ACTION_DEACTIVATE_LOOP_NAME:
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
    if action == "safety_plan_form":
        return [ActiveLoop("safety_plan_form"), SlotSet(REQUESTED_SLOT, "sp_warning_signs")]
    return []


def predict(
    policy: SafetyPolicy, tracker: DialogueStateTracker, domain: Domain, rule_policy: Optional[RulePolicy]
) -> PolicyPrediction:
    """The prediction that wins, with the events Rasa applies for it (the ensemble merges
    the winner's optional events into its events)."""
    policies = [policy] if rule_policy is None else [rule_policy, policy]
    predictions = [p.predict_action_probabilities(tracker, domain) for p in policies]
    return DefaultPolicyPredictionEnsemble().combine_predictions(predictions, tracker, domain)


def play_turn(
    policy: SafetyPolicy,
    tracker: DialogueStateTracker,
    domain: Domain,
    rule_policy: Optional[RulePolicy] = None,
    limit: int = 10,
) -> List[str]:
    """Run predictions like the processor does until action_listen (or the policy abstains)."""
    actions: List[str] = []
    for _ in range(limit):
        prediction = predict(policy, tracker, domain, rule_policy)
        if prediction.max_confidence == 0.0:
            break
        action = domain.action_names_or_texts[prediction.max_confidence_index]
        tracker.update_with_events(prediction.events, domain)
        tracker.update(ActionExecuted(action, prediction.policy_name, prediction.max_confidence))
        tracker.update_with_events(_action_events(action), domain)
        actions.append(action)
        if action == ACTION_LISTEN_NAME:
            break
    return actions


# --- crisis while a form is active ------------------------------------------------


def test_crisis_mid_form_deactivates_the_form_then_gives_resources_check_record_listen(
    policy: SafetyPolicy, domain: Domain
) -> None:
    tracker = in_medication_form(domain)
    tracker.update(user("crisis", "honestly i just want to die", ["suicidal_ideation"]))

    actions = play_turn(policy, tracker, domain)

    assert actions == [
        ACTION_DEACTIVATE_LOOP_NAME,
        "utter_crisis",
        "utter_crisis_check",
        "action_record_crisis",
        ACTION_LISTEN_NAME,
    ]
    assert tracker.active_loop_name is None
    assert tracker.get_slot("crisis_active") is True
    assert tracker.get_slot("risk_category") == "suicidal_ideation"
    assert tracker.get_slot("crisis_interrupted_loop") == "medication_form"


def test_the_policy_beats_rule_policy_keeping_the_form_running(
    policy: SafetyPolicy, rule_policy: RulePolicy, domain: Domain
) -> None:
    tracker = in_medication_form(domain)
    tracker.update(user("crisis", "kms", ["coded_language"]))

    # Alone, RulePolicy would run the form on the crisis message (and the form would take it as an answer).
    alone = rule_policy.predict_action_probabilities(tracker, domain)
    assert domain.action_names_or_texts[alone.max_confidence_index] == "medication_form"
    assert alone.is_no_user_prediction

    first = predict(policy, tracker, domain, rule_policy)
    assert first.policy_name == "SafetyPolicy"
    assert first.max_confidence == 1.0
    assert domain.action_names_or_texts[first.max_confidence_index] == ACTION_DEACTIVATE_LOOP_NAME

    assert play_turn(policy, tracker, domain, rule_policy) == [
        ACTION_DEACTIVATE_LOOP_NAME,
        "utter_crisis",
        "utter_crisis_check",
        "action_record_crisis",
        ACTION_LISTEN_NAME,
    ]


def test_a_form_answer_taken_from_the_crisis_message_is_emptied_again(
    policy: SafetyPolicy, domain: Domain
) -> None:
    # The guard flagged the message only with an entity, so the form's from_text mapping
    # (which excludes crisis intents) still stored it as the answer before the policy ran.
    tracker = in_medication_form(domain)
    tracker.update(user("nlu_fallback", "the pills, all of them, tonight", ["plan"]))
    tracker.update(SlotSet("medication_name", "the pills, all of them, tonight"))
    tracker.update(SlotSet("risk_category", "plan"))

    assert play_turn(policy, tracker, domain)[:2] == [ACTION_DEACTIVATE_LOOP_NAME, "utter_crisis"]
    assert tracker.get_slot("medication_name") is None
    assert tracker.get_slot("risk_category") == "plan"


def test_an_earlier_answer_is_kept(policy: SafetyPolicy, domain: Domain) -> None:
    tracker = in_medication_form(domain)
    tracker.update(SlotSet("medication_name", "sertraline"))
    tracker.update(user("crisis", "i want to die", ["suicidal_ideation"]))
    play_turn(policy, tracker, domain)
    assert tracker.get_slot("medication_name") == "sertraline"


def test_crisis_without_a_form_needs_no_deactivation(policy: SafetyPolicy, domain: Domain) -> None:
    tracker = tracker_with(domain, user("crisis", "i have been saving my pills", ["plan"]))
    assert play_turn(policy, tracker, domain) == [
        "utter_crisis",
        "utter_crisis_check",
        "action_record_crisis",
        ACTION_LISTEN_NAME,
    ]
    assert tracker.get_slot("risk_category") == "plan"
    assert tracker.get_slot("crisis_interrupted_loop") is None


# --- the response for each category --------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "categories", "first"),
    [
        ("crisis_danger_now", ["danger_now"], "utter_crisis_danger_now"),
        ("crisis_danger_now", [], "utter_crisis_danger_now"),
        ("crisis", ["danger_now"], "utter_crisis_danger_now"),
        ("crisis", ["suicidal_ideation", "danger_now"], "utter_crisis_danger_now"),
        ("crisis", ["third_party"], "utter_crisis_third_party"),
        ("crisis", ["harm_to_others"], "utter_crisis_harm_to_others"),
        ("crisis", ["third_party", "self_harm"], "utter_crisis"),
        ("crisis", ["method_seeking"], "utter_crisis"),
        ("crisis", [], "utter_crisis"),
        ("sos", [], "utter_sos"),
        ("sos", ["sos"], "utter_sos"),
        ("nlu_fallback", ["coded_language"], "utter_crisis"),
        ("greet", ["plan"], "utter_crisis"),
        ("crisis", ["a_category_added_later"], "utter_crisis"),
    ],
)
def test_each_category_gets_its_response_then_the_check(
    policy: SafetyPolicy, domain: Domain, intent: str, categories: List[str], first: str
) -> None:
    tracker = tracker_with(domain, user(intent, "message", categories))
    assert play_turn(policy, tracker, domain) == [
        first,
        "utter_crisis_check",
        "action_record_crisis",
        ACTION_LISTEN_NAME,
    ]


def test_danger_now_leads_with_911_response_even_mid_form(policy: SafetyPolicy, domain: Domain) -> None:
    tracker = in_medication_form(domain)
    tracker.update(user("crisis_danger_now", "i already took the whole bottle", ["danger_now"]))
    actions = play_turn(policy, tracker, domain)
    assert actions[:2] == [ACTION_DEACTIVATE_LOOP_NAME, "utter_crisis_danger_now"]
    assert tracker.get_slot("risk_category") == "danger_now"


def test_a_crisis_without_a_category_is_recorded_as_unspecified(policy: SafetyPolicy, domain: Domain) -> None:
    tracker = tracker_with(domain, user("crisis", "i can't do this anymore"))
    play_turn(policy, tracker, domain)
    assert tracker.get_slot("risk_category") == "unspecified"
    assert tracker.get_slot("crisis_active") is True


def test_not_safe_gets_the_not_safe_response_and_no_second_check(
    policy: SafetyPolicy, domain: Domain
) -> None:
    tracker = in_medication_form(domain)
    tracker.update(user("not_safe", "i'm not safe"))
    assert play_turn(policy, tracker, domain) == [
        ACTION_DEACTIVATE_LOOP_NAME,
        "utter_crisis_not_safe",
        "action_record_crisis",
        ACTION_LISTEN_NAME,
    ]
    assert tracker.get_slot("risk_category") == "not_safe"


def test_a_missing_category_response_falls_back_to_utter_crisis(tmp_path: Path) -> None:
    thin = Domain.from_yaml(
        DOMAIN_YAML.replace('  utter_crisis_third_party:\n    - text: "utter_crisis_third_party"\n', "")
    )
    assert "utter_crisis_third_party" not in thin.action_names_or_texts
    policy = make_policy(tmp_path)
    tracker = tracker_with(thin, user("crisis", "my brother said he wants to die", ["third_party"]))
    assert play_turn(policy, tracker, thin)[0] == "utter_crisis"


# --- a safety plan asked for in the middle of another form ----------------------------


def test_safety_plan_request_mid_form_suspends_the_form_and_starts_the_plan(
    policy: SafetyPolicy, rule_policy: RulePolicy, domain: Domain
) -> None:
    tracker = in_medication_form(domain)
    tracker.update(user("safety_plan_request", "can we make a safety plan"))
    actions = play_turn(policy, tracker, domain, rule_policy)
    assert actions == [
        ACTION_DEACTIVATE_LOOP_NAME,
        "utter_safety_plan_intro",
        "safety_plan_form",
        ACTION_LISTEN_NAME,  # RulePolicy: listen after the form asked its first question
    ]
    assert tracker.active_loop_name == "safety_plan_form"
    assert tracker.get_slot("crisis_interrupted_loop") == "medication_form"


def test_safety_plan_request_without_a_form_is_left_to_the_rules(
    policy: SafetyPolicy, domain: Domain
) -> None:
    tracker = tracker_with(domain, user("safety_plan_request", "safety plan"))
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert prediction.max_confidence == 0.0


# --- abstaining ------------------------------------------------------------------------


@pytest.mark.parametrize("intent", ["greet", "affirm", "confirm_safe", "crisis_retract", "nlu_fallback"])
def test_abstains_on_ordinary_messages(policy: SafetyPolicy, domain: Domain, intent: str) -> None:
    tracker = tracker_with(domain, user(intent, "some words"))
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert prediction.probabilities == [0.0] * domain.num_actions
    assert not prediction.is_no_user_prediction


def test_abstains_inside_a_form_on_an_ordinary_answer(policy: SafetyPolicy, domain: Domain) -> None:
    tracker = in_medication_form(domain)
    tracker.update(user("nlu_fallback", "sertraline 100 mg"))
    assert policy.predict_action_probabilities(tracker, domain).max_confidence == 0.0


def test_abstains_once_the_crisis_turn_is_complete(policy: SafetyPolicy, domain: Domain) -> None:
    tracker = tracker_with(domain, user("crisis", "kms", ["coded_language"]))
    play_turn(policy, tracker, domain)
    assert tracker.latest_action_name == ACTION_LISTEN_NAME
    assert policy.predict_action_probabilities(tracker, domain).max_confidence == 0.0


def test_abstains_before_any_user_message(policy: SafetyPolicy, domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events("person-2", [ActionExecuted(ACTION_LISTEN_NAME)], domain.slots)
    assert policy.predict_action_probabilities(tracker, domain).max_confidence == 0.0


def test_the_next_message_after_a_crisis_is_not_taken_over(policy: SafetyPolicy, domain: Domain) -> None:
    tracker = tracker_with(domain, user("crisis", "kms", ["coded_language"]))
    play_turn(policy, tracker, domain)
    tracker.update(user("confirm_safe", "i'm safe"))
    assert policy.predict_action_probabilities(tracker, domain).max_confidence == 0.0


# --- configuration and model round trip ---------------------------------------------------


def test_priority_is_above_rule_policy_and_a_lower_one_is_refused(tmp_path: Path) -> None:
    assert make_policy(tmp_path).priority > RULE_POLICY_PRIORITY
    with pytest.raises(InvalidConfigException):
        make_policy(tmp_path, {"priority": RULE_POLICY_PRIORITY})


def test_trains_and_loads_like_any_policy(tmp_path: Path, domain: Domain) -> None:
    storage = _storage(tmp_path, "storage")
    resource = Resource("safety")
    trained = SafetyPolicy.create(SafetyPolicy.get_default_config(), storage, resource, _context())
    assert trained.train([], domain) == resource
    loaded = SafetyPolicy.load(SafetyPolicy.get_default_config(), storage, resource, _context())
    tracker = tracker_with(domain, user("sos", "help now"))
    prediction = loaded.predict_action_probabilities(tracker, domain)
    assert domain.action_names_or_texts[prediction.max_confidence_index] == "utter_sos"
    assert prediction.is_no_user_prediction
