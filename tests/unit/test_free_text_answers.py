"""An answer a form asked for in free text is that form's, whatever the classifier said.

Turns are played through the real dialogue layer in-process (tests/support/dialogue.py:
domain.yml, action_extract_slots, config.yml's policies trained on data/rules and
data/stories, the forms' real validators), with the NLU result of every message stated
by the test: nothing here depends on a trained classifier. A crisis still takes the
crisis path; the digressions ("what is TMS?", "pause", "skip") work as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa.core.policies.policy import Policy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from actions.forms.base import SKIPPED
from actions.forms.intake_episode import ValidateEpisodeForm
from actions.forms.safety_plan import SECTIONS, ActionSaveSafetyPlan, ValidateSafetyPlanForm
from bot.policies.free_text_policy import FreeTextAnswerPolicy, free_text_mapping
from tests.support.dialogue import Dialogue, InProcessActionEndpoint, load_domain, stub_action, train_policies

STUBBED = ("action_record_crisis", "action_intake_pause", "action_intake_next")
PLAN_ANSWERS = ["I stop answering my phone", "I go for a walk", "skip", "my sister Ana", "skip"]
LAST_ANSWER = "ask Sam to keep some things for a while"
# Whatever a freshly trained classifier might make of a free-text answer (crisis intents aside).
UNRELATED_INTENTS = [
    "nlu_fallback",
    "greet",
    "out_of_scope",
    "goodbye",
    "affirm",
    "deny",
    "pause",
    "start_over",
    "go_back",
    "skip_part",
    "dont_know",
    "share_feelings",
    "treatment_question",
    "treatment_info",
    "inform_medications",
    "safety_plan_request",
    "confirm_safe",
    "crisis_retract",
    "what_can_you_do",
    "bot_challenge",
]


class PlanStore:
    def __init__(self) -> None:
        self.saved: Dict[str, Dict[str, Optional[str]]] = {}

    def save_safety_plan(self, conversation_id: str, sections: Dict[str, Optional[str]]) -> None:
        self.saved[conversation_id] = dict(sections)


class IntakeStore:
    def __init__(self) -> None:
        self.saved: Dict[str, Dict[str, Any]] = {}

    def save_intake(self, conversation_id: str, record: Dict[str, Any]) -> None:
        self.saved[conversation_id] = record

    def intake(self, conversation_id: str) -> Optional[Dict[str, Any]]:
        return self.saved.get(conversation_id)  # a save merges into what was stored (#10)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return load_domain()


@pytest.fixture(scope="module")
def policies(domain: Domain, tmp_path_factory: pytest.TempPathFactory) -> List[Policy]:
    return train_policies(domain, tmp_path_factory.mktemp("policies"))


@pytest.fixture
def plans() -> PlanStore:
    return PlanStore()


@pytest.fixture
def intake() -> IntakeStore:
    return IntakeStore()


@pytest.fixture
def endpoint(plans: PlanStore, intake: IntakeStore) -> InProcessActionEndpoint:
    return InProcessActionEndpoint(
        [
            ValidateSafetyPlanForm(),
            ActionSaveSafetyPlan(lambda: plans),  # type: ignore[arg-type,return-value]
            ValidateEpisodeForm(lambda: intake),  # type: ignore[arg-type,return-value]
            *(stub_action(name) for name in STUBBED),
        ]
    )


def in_safety_plan(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint, sender: str
) -> Dialogue:
    dialogue = Dialogue(domain, policies, endpoint, sender=sender)
    dialogue.say("hello", "greet")
    opened = dialogue.say("/safety_plan_request", "safety_plan_request", 1.0)
    assert "safety_plan_form" in opened.actions
    assert dialogue.slot(REQUESTED_SLOT) == "sp_warning_signs"
    return dialogue


def in_episode_form(domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint) -> Dialogue:
    """Part 1 of the intake, asking how long this episode has lasted."""
    prelude = [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("let's start", {"name": "start_intake", "confidence": 1.0}),
        SlotSet("intake_started", True),
        SlotSet("intake_part", "episode"),
        ActionExecuted("action_intake_next"),
        ActionExecuted("episode_form"),
        ActiveLoop("episode_form"),
        SlotSet(REQUESTED_SLOT, "episode_months"),
    ]
    return Dialogue(domain, policies, endpoint, sender="intake-person", prelude=prelude)


# --- the safety plan ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("intent", UNRELATED_INTENTS)
def test_the_last_section_is_taken_and_the_plan_finished_whatever_the_intent(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint, plans: PlanStore, intent: str
) -> None:
    dialogue = in_safety_plan(domain, policies, endpoint, sender=f"plan-{intent}")
    for answer in PLAN_ANSWERS:
        dialogue.say(answer, "intake_answer", 0.6)
    assert dialogue.slot(REQUESTED_SLOT) == "sp_safer_surroundings"

    done = dialogue.say(LAST_ANSWER, intent, 0.4)

    assert done.actions[0] == "safety_plan_form"
    assert "action_save_safety_plan" in done.actions
    assert any(text.startswith("Here's your safety plan:") for text in done.texts)
    assert not any("didn't quite follow" in text for text in done.texts)
    sections = plans.saved[f"plan-{intent}"]
    assert sections["safer_surroundings"] == LAST_ANSWER
    assert sections["warning_signs"] == "I stop answering my phone"
    assert sections["who_to_call"] == "my sister Ana"
    assert sections["people_places"] is None


@pytest.mark.parametrize("intent", ["nlu_fallback", "greet", "out_of_scope"])
def test_every_section_is_taken_when_each_answer_is_classified_the_same_unrelated_way(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint, plans: PlanStore, intent: str
) -> None:
    dialogue = in_safety_plan(domain, policies, endpoint, sender=f"all-{intent}")
    answers = [f"answer {n} in my own words" for n in range(1, len(SECTIONS) + 1)]
    for (slot, _, _), answer in zip(SECTIONS, answers, strict=True):
        assert dialogue.slot(REQUESTED_SLOT) == slot
        turn = dialogue.say(answer, intent, 0.3)
        assert turn.actions[0] == "safety_plan_form"
        assert not any("didn't quite follow" in text for text in turn.texts)
    saved = plans.saved[f"all-{intent}"]
    assert [saved[key] for _, key, _ in SECTIONS] == answers


def test_a_crisis_in_a_section_still_gets_the_crisis_response_and_is_not_saved(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint
) -> None:
    dialogue = in_safety_plan(domain, policies, endpoint, sender="plan-crisis")
    entities = [{"entity": "risk_category", "value": "suicidal_ideation", "start": 0, "end": 13}]
    turn = dialogue.say("I want to die", "nlu_fallback", 0.4, entities=entities)
    assert turn.actions[:3] == ["action_deactivate_loop", "utter_crisis", "utter_crisis_check"]
    assert "action_record_crisis" in turn.actions
    assert dialogue.slot("sp_warning_signs") is None
    assert dialogue.slot("crisis_active") is True


@pytest.mark.parametrize("intent", ["crisis", "not_safe"])
def test_a_crisis_intent_in_a_section_takes_the_crisis_path(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint, intent: str
) -> None:
    dialogue = in_safety_plan(domain, policies, endpoint, sender=f"plan-{intent}")
    turn = dialogue.say("I'm not safe", intent, 0.9)
    assert turn.actions[0] == "action_deactivate_loop"
    assert "action_record_crisis" in turn.actions
    assert "safety_plan_form" not in turn.actions
    assert dialogue.slot("sp_warning_signs") is None


def test_a_question_mid_plan_is_still_answered_and_the_section_asked_again(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint
) -> None:
    dialogue = in_safety_plan(domain, policies, endpoint, sender="plan-question")
    turn = dialogue.say("what is TMS?", "treatment_info", 0.9)
    assert turn.actions[0] == "safety_plan_form:rejected"
    assert "utter_treatment_info" in turn.actions
    assert turn.actions[-2:] == ["safety_plan_form", ACTION_LISTEN_NAME]
    assert dialogue.slot("sp_warning_signs") is None
    assert dialogue.slot(REQUESTED_SLOT) == "sp_warning_signs"


@pytest.mark.parametrize("intent", ["nlu_fallback", "skip_part"])
def test_skip_in_the_plan_still_leaves_the_section_blank(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint, intent: str
) -> None:
    dialogue = in_safety_plan(domain, policies, endpoint, sender=f"plan-skip-{intent}")
    turn = dialogue.say("skip", intent, 0.5)
    assert "That's fine, we'll leave that one blank for now." in turn.texts
    assert dialogue.slot("sp_warning_signs") == SKIPPED
    assert dialogue.slot(REQUESTED_SLOT) == "sp_coping_steps"


# --- an intake question ------------------------------------------------------------------------


@pytest.mark.parametrize("intent", ["nlu_fallback", "greet", "out_of_scope", "share_feelings"])
def test_an_intake_answer_is_taken_whatever_the_intent(
    domain: Domain,
    policies: List[Policy],
    endpoint: InProcessActionEndpoint,
    intake: IntakeStore,
    intent: str,
) -> None:
    dialogue = in_episode_form(domain, policies, endpoint)
    turn = dialogue.say("about 8 months", intent, 0.4)
    assert turn.actions[0] == "episode_form"
    assert not any("didn't quite follow" in text for text in turn.texts)
    assert dialogue.slot("episode_months") == 8
    assert dialogue.slot(REQUESTED_SLOT) == "previous_episodes"
    assert "intake-person" in intake.saved


def test_a_crisis_in_an_intake_answer_gets_the_crisis_response(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint
) -> None:
    dialogue = in_episode_form(domain, policies, endpoint)
    entities = [{"entity": "risk_category", "value": "plan", "start": 0, "end": 5}]
    turn = dialogue.say("8 months and I have a plan to end it", "nlu_fallback", 0.4, entities=entities)
    assert turn.actions[:3] == ["action_deactivate_loop", "utter_crisis", "utter_crisis_check"]
    assert dialogue.slot("episode_months") is None


def test_pause_mid_intake_still_pauses(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint
) -> None:
    dialogue = in_episode_form(domain, policies, endpoint)
    turn = dialogue.say("can we pause here", "pause", 0.9)
    assert turn.actions[:2] == ["episode_form:rejected", "action_intake_pause"]
    assert dialogue.slot("episode_months") is None


# --- the policy on its own ---------------------------------------------------------------------


def _policy(tmp_path: Path, **config: Any) -> FreeTextAnswerPolicy:
    policy = FreeTextAnswerPolicy.create(
        {**FreeTextAnswerPolicy.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("free_text"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    assert isinstance(policy, FreeTextAnswerPolicy)
    return policy


def _asked(
    domain: Domain, intent: str, *after: Any, entities: Optional[List[Dict[str, Any]]] = None
) -> DialogueStateTracker:
    events = [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("/safety_plan_request", {"name": "safety_plan_request", "confidence": 1.0}),
        ActionExecuted("safety_plan_form"),
        ActiveLoop("safety_plan_form"),
        SlotSet(REQUESTED_SLOT, "sp_warning_signs"),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("I stop answering my phone", {"name": intent, "confidence": 0.3}, entities or []),
        *after,
    ]
    return DialogueStateTracker.from_events("person", events, domain.slots)


@pytest.mark.parametrize("intent", ["nlu_fallback", "greet", "out_of_scope"])
def test_the_policy_predicts_the_form_for_a_free_text_answer(
    tmp_path: Path, domain: Domain, intent: str
) -> None:
    prediction = _policy(tmp_path).predict_action_probabilities(_asked(domain, intent), domain)
    assert prediction.max_confidence == 1.0
    assert domain.action_names_or_texts[prediction.max_confidence_index] == "safety_plan_form"
    assert prediction.is_no_user_prediction


@pytest.mark.parametrize(
    "intent, entities",
    [
        ("crisis", []),
        ("sos", []),
        ("not_safe", []),
        ("nlu_fallback", [{"entity": "risk_category", "value": "self_harm", "start": 0, "end": 1}]),
    ],
)
def test_the_policy_leaves_a_crisis_to_the_safety_policy(
    tmp_path: Path, domain: Domain, intent: str, entities: List[Dict[str, Any]]
) -> None:
    tracker = _asked(domain, intent, entities=entities)
    assert _policy(tmp_path).predict_action_probabilities(tracker, domain).max_confidence == 0.0


def test_the_policy_leaves_a_digression_to_the_rules(tmp_path: Path, domain: Domain) -> None:
    rejected = _asked(domain, "treatment_info", ActionExecutionRejected("safety_plan_form"))
    assert _policy(tmp_path).predict_action_probabilities(rejected, domain).max_confidence == 0.0
    ran = _asked(domain, "nlu_fallback", ActionExecuted("safety_plan_form"))
    assert _policy(tmp_path).predict_action_probabilities(ran, domain).max_confidence == 0.0


def test_the_policy_abstains_without_a_form(tmp_path: Path, domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events(
        "person",
        [ActionExecuted(ACTION_LISTEN_NAME), UserUttered("hmm", {"name": "nlu_fallback", "confidence": 0.3})],
        domain.slots,
    )
    assert _policy(tmp_path).predict_action_probabilities(tracker, domain).max_confidence == 0.0


def test_every_question_of_every_form_is_a_free_text_question(domain: Domain) -> None:
    """The promise covers every form: each slot a form asks is filled from the text."""
    for form in domain.form_names:
        for slot in domain.required_slots_for_form(form):
            assert free_text_mapping(domain, form, slot) is not None, (form, slot)


def test_a_priority_at_or_above_the_safety_policy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfigException):
        _policy(tmp_path, priority=7)
