"""SafetyPolicy's second answer: possible risk is asked about, and the reply decides.

Built like tests/unit/test_safety_policy.py (tracker and domain in code, turns played as
Rasa's processor plays them), on a domain with the ``risk_check`` slot and the question's
responses. The risk detector's context reading is replaced by a fake, so each test says
exactly which recent messages read as risk together.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

import pytest
from rasa.shared.core.constants import ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

import bot.policies.safety_policy as safety_policy
from bot.policies.safety_policy import SafetyPolicy
from tests.unit.test_safety_policy import (
    CRISIS_RESPONSES,
    DOMAIN_YAML,
    in_medication_form,
    make_policy,
    play_turn,
    tracker_with,
    user,
)

RISK_CHECK_RESPONSES = ["utter_risk_check", "utter_risk_recheck", "utter_risk_check_no",
                        "utter_crisis_check_third_party"]
RISK_DOMAIN_YAML = (
    DOMAIN_YAML.replace(
        "intents: [greet, affirm,", "intents: [greet, affirm, deny, share_feelings, ask_medication,"
    )
    .replace("harm_to_others, third_party, sos, unspecified, not_safe]",
             "harm_to_others, third_party, sos, unspecified, not_safe, possible]")
    .replace(
        "  medication_name:\n",
        "  risk_check:\n    type: categorical\n    values: [asked, reasked, declined]\n"
        "    influence_conversation: false\n    mappings:\n      - type: custom\n  medication_name:\n",
        1,
    )
    .replace("actions: [action_record_crisis,", "actions: [action_resume_after_crisis, action_record_crisis,")
    + "".join(f'  {name}:\n    - text: "{name}"\n' for name in RISK_CHECK_RESPONSES)
)
CRISIS_TURN = ["utter_crisis", "utter_crisis_check", "action_record_crisis", ACTION_LISTEN_NAME]
NO_TURN = ["utter_risk_check_no", "action_resume_after_crisis", ACTION_LISTEN_NAME]


class FakeReading:
    tier = "possible"


class FakeAssessor:
    """Reads the recent messages as risk together when every one of them says "heavy"."""

    def __init__(self) -> None:
        self.calls: List[List[str]] = []

    def context(self, messages: Sequence[str]) -> Optional[FakeReading]:
        self.calls.append(list(messages))
        return FakeReading() if len(messages) >= 2 and all("heavy" in m for m in messages) else None


@pytest.fixture
def assessor(monkeypatch: pytest.MonkeyPatch) -> FakeAssessor:
    fake = FakeAssessor()
    monkeypatch.setattr(safety_policy._SHARED_ASSESSOR, "get", lambda: fake)
    return fake


@pytest.fixture(scope="module")
def domain() -> Domain:
    assert all(name in RISK_DOMAIN_YAML for name in CRISIS_RESPONSES)
    return Domain.from_yaml(RISK_DOMAIN_YAML)


@pytest.fixture
def policy(tmp_path: Path) -> SafetyPolicy:
    return make_policy(tmp_path)


def possible(text: str = "i feel like such a burden to everyone") -> UserUttered:
    return user("share_feelings", text, ["possible"])


def asked(policy: SafetyPolicy, domain: Domain) -> DialogueStateTracker:
    """A conversation in which the question has just been asked (outside any form)."""
    tracker = tracker_with(domain, possible())
    assert play_turn(policy, tracker, domain) == ["utter_risk_check", ACTION_LISTEN_NAME]
    return tracker


# --- the question -----------------------------------------------------------------------------


def test_possible_risk_is_asked_about_not_answered_with_the_crisis_block(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = tracker_with(domain, possible())
    assert play_turn(policy, tracker, domain) == ["utter_risk_check", ACTION_LISTEN_NAME]
    assert tracker.get_slot("risk_check") == "asked"
    assert tracker.get_slot("crisis_active") is False  # no crisis opened, no care team alerted


def test_the_question_mid_form_suspends_the_form_and_takes_back_the_answer(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = in_medication_form(domain)
    tracker.update(possible("i just want to disappear"))
    tracker.update(SlotSet("medication_name", "i just want to disappear"))
    actions = play_turn(policy, tracker, domain)
    assert actions == [ACTION_DEACTIVATE_LOOP_NAME, "utter_risk_check", ACTION_LISTEN_NAME]
    assert tracker.get_slot("medication_name") is None
    assert tracker.get_slot("crisis_interrupted_loop") == "medication_form"


def test_possible_risk_during_an_open_crisis_leaves_the_crisis_questions_in_charge(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = tracker_with(domain, user("crisis", "i want to die", ["suicidal_ideation"]))
    assert play_turn(policy, tracker, domain) == CRISIS_TURN
    tracker.update(possible("everything feels pointless"))
    assert play_turn(policy, tracker, domain) == []


def test_a_safety_plans_answers_are_never_asked_about(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = tracker_with(
        domain,
        user("safety_plan_request", "/safety_plan_request"),
        ActionExecuted("safety_plan_form"),
        ActiveLoop("safety_plan_form"),
        SlotSet(REQUESTED_SLOT, "sp_warning_signs"),
        ActionExecuted(ACTION_LISTEN_NAME),
        possible("when everything feels heavy and i feel like a burden"),
    )
    assert play_turn(policy, tracker, domain) == []  # the form takes it as the warning signs
    assert assessor.calls == []
    tracker.update(user("crisis", "i want to die", ["suicidal_ideation"]))
    assert play_turn(policy, tracker, domain)[:2] == [ACTION_DEACTIVATE_LOOP_NAME, "utter_crisis"]


def test_the_question_is_only_asked_at_the_start_of_a_turn(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    # the last answer of a safety plan: the form ran and closed before the policy is asked again
    tracker = tracker_with(
        domain,
        possible("ask Sam to keep some things for a while"),
        ActionExecuted("safety_plan_form"),
        ActiveLoop(None),
    )
    assert play_turn(policy, tracker, domain) == []


# --- the reply ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("affirm", "yes"),
        ("affirm", "/affirm"),  # the "Yes, I am" button
        ("greet", "yeah sometimes"),
        ("greet", "i don't know"),  # evasive: treated as a yes
        ("greet", "why does it matter"),
        ("share_feelings", "maybe"),
    ],
)
def test_a_yes_or_an_evasive_reply_opens_the_crisis_path(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor, intent: str, text: str
) -> None:
    tracker = asked(policy, domain)
    tracker.update(user(intent, text))
    assert play_turn(policy, tracker, domain) == CRISIS_TURN
    assert tracker.get_slot("crisis_active") is True
    assert tracker.get_slot("risk_category") == "suicidal_ideation"
    assert tracker.get_slot("risk_check") is None


@pytest.mark.parametrize(
    ("intent", "text"),
    [("deny", "no"), ("deny", "/deny"), ("greet", "no, just really tired"), ("greet", "nope, i'm fine")],
)
def test_a_no_is_thanked_and_the_conversation_goes_on(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor, intent: str, text: str
) -> None:
    tracker = asked(policy, domain)
    tracker.update(user(intent, text))
    assert play_turn(policy, tracker, domain) == NO_TURN
    assert tracker.get_slot("risk_check") == "declined"
    assert tracker.get_slot("crisis_active") is False


def test_no_answer_is_asked_once_more_then_the_conversation_goes_on(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = asked(policy, domain)
    tracker.update(user("ask_medication", "how long does lexapro take to work"))
    assert play_turn(policy, tracker, domain) == ["utter_risk_recheck", ACTION_LISTEN_NAME]
    assert tracker.get_slot("risk_check") == "reasked"
    tracker.update(user("ask_medication", "and what about the side effects"))
    assert play_turn(policy, tracker, domain) == NO_TURN
    assert tracker.get_slot("risk_check") == "declined"


def test_a_clear_risk_reply_gets_the_crisis_block_whatever_it_says(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = asked(policy, domain)
    tracker.update(user("crisis", "no. i have the pills ready", ["plan"]))
    assert play_turn(policy, tracker, domain) == CRISIS_TURN
    assert tracker.get_slot("risk_category") == "plan"


def test_a_reply_that_is_itself_possible_risk_is_read_as_the_answer(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = asked(policy, domain)
    tracker.update(possible("not sure, i just don't see the point of anything"))
    assert play_turn(policy, tracker, domain) == CRISIS_TURN  # "not sure" is evasive


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("share_feelings", "idk, anyway my new flatmate moved in last week and we get on fine so far"),
        ("affirm", "my sister came round on sunday and we watched a film and had pizza together"),
    ],
)
def test_a_long_reply_that_only_opens_unsure_or_only_the_classifier_calls_a_yes_is_asked_once_more(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor, intent: str, text: str
) -> None:
    # the person going on with what they were saying: no answer, and nothing risky in it
    tracker = asked(policy, domain)
    tracker.update(user(intent, text))
    assert play_turn(policy, tracker, domain) == ["utter_risk_recheck", ACTION_LISTEN_NAME]


def test_a_long_unsure_reply_that_shows_risk_itself_opens_the_crisis_path(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = asked(policy, domain)
    tracker.update(possible("idk, some nights i just feel like everyone would be better off without me"))
    assert play_turn(policy, tracker, domain) == CRISIS_TURN


# --- after a no -------------------------------------------------------------------------------


def test_after_a_no_possible_risk_is_not_asked_again_for_a_few_messages_but_clear_risk_always_is(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = asked(policy, domain)
    tracker.update(user("deny", "no"))
    assert play_turn(policy, tracker, domain) == NO_TURN
    for _ in range(safety_policy.QUIET_AFTER_NO - 1):
        tracker.update(possible("still feel like a burden"))
        assert play_turn(policy, tracker, domain) == []
        tracker.update(ActionExecuted("utter_greet"))
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    tracker.update(user("crisis", "i want to kill myself", ["suicidal_ideation"]))
    assert play_turn(policy, tracker, domain) == CRISIS_TURN


def test_after_the_quiet_messages_possible_risk_is_asked_about_again(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = asked(policy, domain)
    tracker.update(user("deny", "no"))
    play_turn(policy, tracker, domain)
    for _ in range(safety_policy.QUIET_AFTER_NO):
        tracker.update(user("greet", "ok"))
        tracker.update(ActionExecuted("utter_greet"))
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    tracker.update(possible("everyone would be better off if i wasn't around"))
    assert play_turn(policy, tracker, domain) == ["utter_risk_check", ACTION_LISTEN_NAME]


# --- risk building up over several messages ---------------------------------------------------


def test_risk_building_over_messages_is_asked_about(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = tracker_with(domain, user("share_feelings", "work is heavy"))
    assert play_turn(policy, tracker, domain) == []  # one message: nothing to read together
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    tracker.update(user("share_feelings", "home is heavy"))
    assert play_turn(policy, tracker, domain) == ["utter_risk_check", ACTION_LISTEN_NAME]
    assert assessor.calls == [["work is heavy", "home is heavy"]]
    assert tracker.get_slot("crisis_active") is False


def test_the_context_window_is_the_last_three_messages_since_the_risk_dialogue_moved(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = tracker_with(domain)
    texts = ["it's all heavy", "so heavy", "/affirm", "ok then", "heavy day", "heavy week", "heavy month"]
    for text in texts:
        tracker.update(user("share_feelings", text))
        actions = play_turn(policy, tracker, domain)
        if actions == ["utter_risk_check", ACTION_LISTEN_NAME]:
            tracker.update(user("deny", "no"))
            assert play_turn(policy, tracker, domain) == NO_TURN
        else:
            tracker.update(ActionExecuted("utter_greet"))
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    # asked on "so heavy" (two heavy messages); after the no, the window starts again and the
    # quiet messages pass without a reading; the payload is never part of the window
    assert ["it's all heavy", "so heavy"] in assessor.calls
    assert all("/affirm" not in call for call in assessor.calls)
    assert all("it's all heavy" not in call for call in assessor.calls[1:])


def test_no_context_reading_without_two_messages(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = tracker_with(domain, user("share_feelings", "heavy"))
    assert play_turn(policy, tracker, domain) == []
    assert assessor.calls == []


def test_a_broken_context_reading_never_breaks_the_turn(
    policy: SafetyPolicy, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        def context(self, messages: Sequence[str]) -> None:
            raise RuntimeError("encoder gone")

    monkeypatch.setattr(safety_policy._SHARED_ASSESSOR, "get", lambda: Broken())
    tracker = tracker_with(domain, user("share_feelings", "heavy"), ActionExecuted("utter_greet"),
                           ActionExecuted(ACTION_LISTEN_NAME), user("share_feelings", "heavy too"))
    assert play_turn(policy, tracker, domain) == []
    tracker.update(user("crisis", "i want to die", ["suicidal_ideation"]))
    assert play_turn(policy, tracker, domain) == CRISIS_TURN


# --- a third person at risk --------------------------------------------------------------------


def test_worry_about_someone_else_asks_about_them(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = tracker_with(domain, user("crisis", "my friend said she wants to end it", ["third_party"]))
    assert play_turn(policy, tracker, domain) == [
        "utter_crisis_third_party",
        "utter_crisis_check_third_party",
        "action_record_crisis",
        ACTION_LISTEN_NAME,
    ]


# --- the classifier's "help now" / "not safe" guess alone (bot/nlu/safety_guard.py) ----------


def alone(intent: str, text: str) -> List[Event]:
    """A message the guard marked as the classifier's guess alone, and the slot its intent's
    mapping sets as the server extracts slots (crisis_active from sos / not_safe)."""
    categories = ["sos"] if intent == "sos" else []
    entities = [{"entity": "risk_category", "value": c, "start": 0, "end": 1} for c in categories]
    message = UserUttered(text, {"name": intent, "confidence": 0.6}, entities,
                          parse_data={"safety_guard": {"classifier_alone": True, "tier": "none"}})
    return [message, SlotSet("crisis_active", True)]


@pytest.mark.parametrize("intent,text", [("not_safe", "I think I just look sadder than I am lol"),
                                         ("sos", "is it bad that call of duty helps me relax")])
def test_a_guess_of_the_classifiers_alone_is_asked_about_and_opens_no_crisis(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor, intent: str, text: str
) -> None:
    tracker = tracker_with(domain, *alone(intent, text))
    assert play_turn(policy, tracker, domain) == ["utter_risk_check", ACTION_LISTEN_NAME]
    assert tracker.get_slot("risk_check") == "asked"
    assert tracker.get_slot("crisis_active") is False  # no crisis opened, no care team alerted
    assert tracker.get_slot("risk_category") == "possible"
    tracker.update(user("affirm", "yes"))  # a yes opens the crisis path, as for any question
    assert play_turn(policy, tracker, domain) == CRISIS_TURN


def test_a_guess_alone_in_an_open_crisis_is_the_not_safe_answer_as_before(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = tracker_with(domain, user("crisis", "i want to die"))
    assert play_turn(policy, tracker, domain) == CRISIS_TURN
    tracker.update_with_events(alone("not_safe", "no I'm not"), domain)
    assert play_turn(policy, tracker, domain) == ["utter_crisis_not_safe", "action_record_crisis",
                                                  ACTION_LISTEN_NAME]
    assert tracker.get_slot("crisis_active") is True


def test_a_guess_alone_as_the_reply_to_the_question_opens_the_crisis_path(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = asked(policy, domain)
    tracker.update_with_events(alone("not_safe", "honestly not really"), domain)
    assert play_turn(policy, tracker, domain)[0] == "utter_crisis_not_safe"
    assert tracker.get_slot("crisis_active") is True


def test_a_not_safe_button_is_the_crisis_path_as_before(
    policy: SafetyPolicy, domain: Domain, assessor: FakeAssessor
) -> None:
    tracker = tracker_with(domain, user("not_safe", "/not_safe"), SlotSet("crisis_active", True))
    assert play_turn(policy, tracker, domain)[0] == "utter_crisis_not_safe"
