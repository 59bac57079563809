"""The intake's version 2 flows through the real dialogue layer, in-process (tests/support/dialogue.py):
domain.yml, slot extraction, config.yml's policies trained on data/rules and data/stories, and the
real actions and validators, with the NLU result of every message stated by the test.

* After a crisis of their own, "I'm safe" is followed by a few gentle questions, once, asked
  first; the crisis resources came before them, and "go on or stop for today?" comes after.
* Part 2 goes on with what the person takes now, then part 3 begins.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa.core.policies.policy import Policy
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered

from actions.forms.intake_current_meds import ValidateCurrentMedsForm
from actions.forms.intake_therapy import ValidateTherapyForm
from actions.forms.suicide_history import ValidateSuicideHistoryForm
from actions.intake.actions import ActionIntakeNext
from actions.safety import ActionCloseCrisis, ActionResumeAfterCrisis
from tests.support.dialogue import Dialogue, InProcessActionEndpoint, load_domain, stub_action, train_policies
from trd.intake.questions import default_questions
from trd.store.repository import InMemoryRepository

pytestmark = pytest.mark.slow
Q = default_questions()


def question(slot: str) -> str:
    return Q.questions[slot].text.split("{")[0].strip()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return load_domain()


@pytest.fixture(scope="module")
def policies(domain: Domain, tmp_path_factory: pytest.TempPathFactory) -> List[Policy]:
    return train_policies(domain, tmp_path_factory.mktemp("policies"))


@pytest.fixture
def repository() -> InMemoryRepository:
    return InMemoryRepository()


@pytest.fixture
def endpoint(repository: InMemoryRepository) -> InProcessActionEndpoint:
    factory: Any = lambda: repository  # noqa: E731
    return InProcessActionEndpoint(
        [
            ActionCloseCrisis(factory),
            ActionResumeAfterCrisis(),
            ValidateSuicideHistoryForm(factory),
            ValidateCurrentMedsForm(factory),
            ValidateTherapyForm(factory),
            ActionIntakeNext(factory),
            stub_action("action_record_crisis"),
        ]
    )


def record(repository: InMemoryRepository, sender: str) -> Dict[str, Any]:
    saved = repository.intake(sender)
    assert saved is not None
    return dict(saved)


def after_a_crisis(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint, sender: str
) -> Dialogue:
    dialogue = Dialogue(domain, policies, endpoint, sender=sender)
    dialogue.say("hello", "greet")
    turn = dialogue.say("I want to die", "crisis", 0.99)
    assert turn.actions[:3] == ["utter_crisis", "utter_crisis_check", "action_record_crisis"]
    assert any("988" in text for text in turn.texts)  # the resources come first
    return dialogue


def test_safe_after_a_crisis_offers_a_few_gentle_questions_once_then_go_on_or_stop(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint, repository: InMemoryRepository
) -> None:
    dialogue = after_a_crisis(domain, policies, endpoint, "gentle-1")
    turn = dialogue.say("/confirm_safe", "confirm_safe", 1.0)
    assert turn.actions == ["action_close_crisis", "suicide_history_form", ACTION_LISTEN_NAME]
    assert question("sh_offer") in turn.texts[-1]
    assert dialogue.slot("sh_due") is None  # the flag is gone once the form has started
    assert dialogue.slot("crisis_active") is False

    answers = [
        ("Okay", "affirm", "sh_thoughts"),
        ("More than that", "intake_answer", "sh_plan"),
        ("No", "deny", "sh_means"),
        ("no", "deny", "sh_attempt"),
        ("Yes", "affirm", "sh_hospital"),  # a past attempt: acknowledged before the last question
    ]
    for text, intent, asked_next in answers:
        turn = dialogue.say(text, intent)
        assert dialogue.slot(REQUESTED_SLOT) == asked_next, (text, turn.actions, turn.texts)
        assert question(asked_next) in turn.texts[-1]
    assert Q.messages["utter_intake_sh_attempt_heard"] in turn.texts
    turn = dialogue.say("No", "deny")
    assert turn.actions[-2:] == ["utter_crisis_resolved", ACTION_LISTEN_NAME]
    assert Q.messages["utter_intake_sh_thanks"] in turn.texts
    assert "Would you like to go on" in turn.texts[-1]
    assert record(repository, "gentle-1")["suicide_history"] == {
        "thoughts_now": "active",
        "plan_or_intent": False,
        "past_attempt": True,
        "hospitalised": False,
        "access_to_means": False,
    }

    turn = dialogue.say("yes", "affirm")
    assert turn.actions[:2] == ["utter_crisis_continue", "action_resume_after_crisis"]

    # a second crisis in the same conversation: the resources again, then no second round of questions
    turn = dialogue.say("I want to end it all", "crisis", 0.99)
    assert turn.actions[:2] == ["utter_crisis", "utter_crisis_check"]
    turn = dialogue.say("/confirm_safe", "confirm_safe", 1.0)
    assert turn.actions == ["action_close_crisis", "utter_crisis_resolved", ACTION_LISTEN_NAME]


def test_not_now_ends_the_questions_at_once(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint, repository: InMemoryRepository
) -> None:
    dialogue = after_a_crisis(domain, policies, endpoint, "gentle-2")
    dialogue.say("/confirm_safe", "confirm_safe", 1.0)
    turn = dialogue.say("Not now", "deny")
    assert Q.messages["utter_intake_sh_declined"] in turn.texts
    assert turn.actions[-2:] == ["utter_crisis_resolved", ACTION_LISTEN_NAME]
    assert record(repository, "gentle-2")["suicide_history"]["thoughts_now"] is None


def test_a_worry_about_someone_else_is_not_followed_by_questions_about_the_person(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint
) -> None:
    dialogue = Dialogue(domain, policies, endpoint, sender="gentle-3")
    dialogue.say("hello", "greet")
    entity = [{"entity": "risk_category", "value": "third_party", "start": 0, "end": 5}]
    dialogue.say("my friend says she wants to die", "crisis", 0.99, entities=entity)
    assert dialogue.slot("risk_category") == "third_party"
    turn = dialogue.say("/confirm_safe", "confirm_safe", 1.0)
    assert turn.actions == ["action_close_crisis", "utter_crisis_resolved", ACTION_LISTEN_NAME]


def test_part_2_goes_on_with_what_the_person_takes_now_then_part_3(
    domain: Domain, policies: List[Policy], endpoint: InProcessActionEndpoint, repository: InMemoryRepository
) -> None:
    trials = [
        {
            "drug": "sertraline",
            "role": "antidepressant",
            "max_dose_mg": 100.0,
            "still_taking": True,
            "name_given": "zoloft",
        },
        {
            "drug": "escitalopram",
            "role": "antidepressant",
            "max_dose_mg": 10.0,
            "still_taking": False,
            "name_given": "lexapro",
        },
    ]
    prelude = [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("let's start", {"name": "start_intake", "confidence": 1.0}),
        SlotSet("intake_started", True),
        SlotSet("intake_part", "medications"),
        SlotSet("intake_parts_done", ["phq9", "episode"]),
        SlotSet("trials", trials),
        ActionExecuted("action_intake_next"),
        ActionExecuted("medications_form"),
        ActiveLoop("medications_form"),
        SlotSet(REQUESTED_SLOT, "med_more"),
    ]
    dialogue = Dialogue(domain, policies, endpoint, sender="current-1", prelude=prelude)
    # the medicines form is not part of this test: it finishes as it does when its questions are done
    dialogue.tracker.update(ActiveLoop(None), domain)
    dialogue.tracker.update(SlotSet(REQUESTED_SLOT, None), domain)
    dialogue.tracker.update(ActionExecuted("medications_form"), domain)
    turn = dialogue.say("no, that's all", "deny")
    assert "current_meds_form" in turn.actions
    assert any(text.startswith("Part 2 of 5, continued: what you take now") for text in turn.texts)
    assert "You said you're still taking Zoloft, so I've noted that." in turn.texts[-1]

    turn = dialogue.say("lithium 900 mg and flibberzine", "inform_medications")
    assert dialogue.slot(REQUESTED_SLOT) == "cm_confirm"
    assert "- Zoloft (sertraline), 100 mg a day\n- lithium, 900 mg a day\n- flibberzine" in turn.texts[-1]
    turn = dialogue.say("I stopped the flibberzine", "intake_answer")
    assert Q.messages["utter_intake_cm_changed"] in turn.texts
    assert "flibberzine" not in turn.texts[-1] and dialogue.slot(REQUESTED_SLOT) == "cm_confirm"
    turn = dialogue.say("Yes, that's everything", "affirm")
    assert any(text.startswith("Part 3 of 5") for text in turn.texts)
    assert record(repository, "current-1")["current_medications"] == [
        {"drug": "sertraline", "dose_mg": 100.0, "name_given": "zoloft", "recognised": True},
        {"drug": "lithium", "dose_mg": 900.0, "name_given": "lithium", "recognised": True},
    ]
    assert record(repository, "current-1")["intake"]["parts_done"][-1] == "current_meds"
