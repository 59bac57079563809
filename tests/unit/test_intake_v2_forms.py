"""The intake's version 2 questions (navigator.md section 10), validator by validator: each test
hands a form's validator the tracker Rasa's FormAction sends and asserts the exact events,
what the person is told, and the record saved."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.base import SKIPPED
from actions.forms.intake_base import IntakeFormValidation
from actions.forms.intake_cautions import ValidateCautionsForm
from actions.forms.intake_current_meds import ValidateCurrentMedsForm
from actions.forms.intake_episode import ValidateEpisodeForm
from actions.forms.intake_screens import ValidateScreensForm
from actions.forms.intake_therapy import ValidateTherapyForm
from actions.forms.suicide_history import ValidateSuicideHistoryForm
from actions.safety import ActionCloseCrisis
from tests.support.trackers import form_answer_events, make_tracker, user_event
from trd.intake.questions import default_questions
from trd.store.repository import InMemoryRepository

SENDER = "intake-v2"
Q = default_questions()
FORMS = (
    "episode_form",
    "current_meds_form",
    "therapy_form",
    "screens_form",
    "cautions_form",
    "suicide_history_form",
)
EXTRA_SLOTS = (
    "intake_part",
    "intake_started",
    "intake_parts_done",
    "intake_undo",
    "intake_crises",
    "psychotherapy",
    "other_treatments",
    "ot_current",
    "ot_current_label",
    "trials",
    "current_meds",
    "cm_lead",
    "cm_readback",
    "sh_due",
    "sh_undo",
    "crisis_active",
    "risk_category",
    "crisis_interrupted_loop",
    "requested_slot",
)
DOMAIN: Dict[str, Any] = {
    "forms": {form: {"required_slots": Q.form_slots(form)} for form in FORMS},
    "slots": {
        name: {"type": "any", "influence_conversation": False, "mappings": []}
        for name in (*Q.questions, *EXTRA_SLOTS)
    },
    "responses": {},
    "actions": [f"validate_{form}" for form in FORMS],
}
VALIDATORS = {
    "episode_form": ValidateEpisodeForm,
    "current_meds_form": ValidateCurrentMedsForm,
    "therapy_form": ValidateTherapyForm,
    "screens_form": ValidateScreensForm,
    "cautions_form": ValidateCautionsForm,
    "suicide_history_form": ValidateSuicideHistoryForm,
}
PART = {form: form.replace("_form", "") for form in FORMS}
PART["current_meds_form"] = "current_meds"
PART["suicide_history_form"] = None  # type: ignore[assignment]


def answer(
    form: str, slot: str, text: str, slots: Optional[Dict[str, Any]] = None, intent: str = "intake_answer"
) -> Tracker:
    message = user_event(text, intent)
    all_slots: Dict[str, Any] = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots or {})
    all_slots.update({slot: text, "requested_slot": slot})
    events = form_answer_events(form, slot, message, text)
    return make_tracker(
        SENDER, all_slots, message["parse_data"], events, active_loop=form, latest_action=form
    )


def validate(tracker: Tracker) -> Tuple[List[Dict[str, Any]], List[Any], InMemoryRepository]:
    repository = InMemoryRepository()
    form = str(tracker.active_loop.get("name"))
    validator: IntakeFormValidation = VALIDATORS[form](lambda: repository)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(validator.run(dispatcher, tracker, DOMAIN))
    said = [m.get("response") or m.get("text") for m in dispatcher.messages]
    return events, said, repository


def undo(form: str, **slots: Any) -> Dict[str, Any]:
    return {"form": form, "part": PART[form], "slots": slots}


def saved(repository: InMemoryRepository) -> Dict[str, Any]:
    record = repository.intake(SENDER)
    assert record is not None
    return dict(record)


# --- part 1 continued: function, psychotic features, catatonia -------------------------------------

EPISODE = {"episode_months": 14, "previous_episodes": True, "function_impaired": False}


def test_no_psychotic_experiences_goes_straight_to_catatonia() -> None:
    events, said, repo = validate(answer("episode_form", "psychosis_any", "no", EPISODE, "deny"))
    assert events == [
        SlotSet("psychosis_any", False),
        SlotSet("intake_undo", [undo("episode_form", psychosis_any=None)]),
        SlotSet("requested_slot", "catatonia"),
    ]
    assert said == []
    assert saved(repo)["psychosis_now"] == {"perceptions": False, "fixed_beliefs": False}


def test_yes_to_psychotic_experiences_asks_which_then_catatonia() -> None:
    events, _, _ = validate(answer("episode_form", "psychosis_any", "yes", EPISODE, "affirm"))
    # every question of the form now applies: Rasa's FormAction asks the first empty one, psychosis_kind
    assert events == [
        SlotSet("psychosis_any", True),
        SlotSet("intake_undo", [undo("episode_form", psychosis_any=None)]),
    ]
    slots = {**EPISODE, "psychosis_any": True}
    events, said, repo = validate(answer("episode_form", "psychosis_kind", "I hear voices", slots))
    assert events == [
        SlotSet("psychosis_kind", {"perceptions": True, "fixed_beliefs": False}),
        SlotSet("intake_undo", [undo("episode_form", psychosis_kind=None)]),
    ]
    assert saved(repo)["psychosis_now"] == {"perceptions": True, "fixed_beliefs": False}
    events, said, _ = validate(answer("episode_form", "psychosis_kind", "yes", slots, "affirm"))
    assert events == [SlotSet("psychosis_kind", None)]  # asked again, with the choices
    assert said == ["utter_intake_hint_psychosis_kind"]


def test_catatonia_and_function_reach_the_record() -> None:
    slots = {**EPISODE, "function_impaired": None}
    events, _, repo = validate(answer("episode_form", "function_impaired", "yes", slots, "affirm"))
    assert events[0] == SlotSet("function_impaired", True) and saved(repo)["function_impaired"] is True
    slots = {**EPISODE, "psychosis_any": False}
    events, _, repo = validate(answer("episode_form", "catatonia", "no", slots, "deny"))
    assert events == [
        SlotSet("catatonia", False),
        SlotSet("intake_undo", [undo("episode_form", catatonia=None)]),
        SlotSet("requested_slot", None),
    ]
    assert saved(repo)["catatonia_signs"] is False


# --- part 2 continued: what the person takes now ---------------------------------------------------

STILL_ON_ZOLOFT = {
    "trials": [{"drug": "sertraline", "max_dose_mg": 100.0, "still_taking": True, "name_given": "Zoloft"}],
    "cm_lead": "You said you're still taking Zoloft, so I've noted that. ...",
}


def test_the_medicines_taken_now_are_read_with_their_doses_and_read_back() -> None:
    events, said, repo = validate(
        answer("current_meds_form", "cm_list", "lithium 900mg, flibberzine", STILL_ON_ZOLOFT)
    )
    items = [
        {"drug": "sertraline", "dose_mg": 100.0, "name_given": "Zoloft", "recognised": True},
        {"drug": "lithium", "dose_mg": 900.0, "name_given": "lithium", "recognised": True},
        {"drug": "flibberzine", "dose_mg": None, "name_given": "flibberzine", "recognised": False},
    ]
    readback = (
        "- Zoloft (sertraline), 100 mg a day\n"
        "- lithium, 900 mg a day\n"
        "- flibberzine (a name I don't know, kept as you typed it), dose not given"
    )
    assert events == [
        SlotSet("cm_list", {"medicines": items[1:], "none": False}),
        SlotSet("current_meds", items),
        SlotSet("cm_readback", readback),
        SlotSet("cm_confirm", None),
        SlotSet(
            "intake_undo",
            [undo("current_meds_form", cm_list=None, current_meds=None, cm_readback=None, cm_confirm=None)],
        ),
    ]  # both questions apply: FormAction asks the empty one, the read-back
    assert said == []
    assert saved(repo)["current_medications"] == items


def test_nothing_taken_now_ends_the_part_without_a_read_back() -> None:
    events, _, repo = validate(answer("current_meds_form", "cm_list", "none", {}, "deny"))
    assert events[0] == SlotSet("cm_list", {"medicines": [], "none": True})
    assert SlotSet("current_meds", []) in events and events[-1] == SlotSet("requested_slot", None)
    assert saved(repo)["current_medications"] == []


def test_not_sure_keeps_what_part_2_said_and_nothing_when_it_said_nothing() -> None:
    events, said, repo = validate(
        answer("current_meds_form", "cm_list", "not sure", STILL_ON_ZOLOFT, "dont_know")
    )
    assert said == ["utter_intake_skipped"]
    assert saved(repo)["current_medications"] == [
        {"drug": "sertraline", "dose_mg": 100.0, "name_given": "Zoloft", "recognised": True}
    ]
    events, _, repo = validate(answer("current_meds_form", "cm_list", "not sure", {}, "dont_know"))
    assert events[-1] == SlotSet("requested_slot", None) and saved(repo)["current_medications"] is None


LISTED = {
    "cm_list": {"medicines": [], "none": False},
    "current_meds": [
        {"drug": "sertraline", "dose_mg": 100.0, "name_given": "Zoloft", "recognised": True},
        {"drug": "lithium", "dose_mg": 900.0, "name_given": "lithium", "recognised": True},
    ],
    "cm_readback": "- Zoloft (sertraline), 100 mg a day\n- lithium, 900 mg a day",
}


def test_a_change_to_the_list_is_made_and_read_back_again() -> None:
    events, said, repo = validate(
        answer("current_meds_form", "cm_confirm", "I stopped the lithium and sertraline is 50 mg", LISTED)
    )
    items = [{"drug": "sertraline", "dose_mg": 50.0, "name_given": "Zoloft", "recognised": True}]
    assert events[:3] == [
        SlotSet("cm_confirm", None),
        SlotSet("current_meds", items),
        SlotSet("cm_readback", "- Zoloft (sertraline), 50 mg a day"),
    ]
    assert not [e for e in events if e.get("name") == "requested_slot"]  # cm_confirm, empty again
    assert said == ["utter_intake_cm_changed"]
    assert saved(repo)["current_medications"] == items


def test_yes_confirms_the_list_and_a_bare_no_asks_what_to_change() -> None:
    events, said, _ = validate(
        answer("current_meds_form", "cm_confirm", "Yes, that's everything", LISTED, "affirm")
    )
    assert events == [
        SlotSet("cm_confirm", True),
        SlotSet("intake_undo", [undo("current_meds_form", cm_confirm=None)]),
    ]  # nothing left empty: the form is done
    events, said, _ = validate(answer("current_meds_form", "cm_confirm", "no", LISTED, "deny"))
    assert events == [
        SlotSet("cm_confirm", None),
        SlotSet("intake_undo", [undo("current_meds_form", cm_confirm=None)]),
    ]
    assert said == ["utter_intake_cm_which"]


# --- part 3: sessions of TMS, ECT and ketamine ---------------------------------------------------------

TMS = {
    "therapy_any": False,
    "ot_tried": ["tms", "vns"],
    "ot_current": "tms",
    "ot_current_label": "TMS",
}


def test_sessions_are_asked_for_tms_ect_and_ketamine_not_for_an_implant() -> None:
    events, _, _ = validate(answer("therapy_form", "ot_completed", "Yes, I finished it", TMS))
    assert events[-1] == SlotSet("requested_slot", "ot_sessions")
    slots = {**TMS, "ot_completed": {"completed": True, "ongoing": False}}
    events, _, repo = validate(answer("therapy_form", "ot_sessions", "about 30", slots))
    assert events == [
        SlotSet("ot_sessions", 30),
        SlotSet("intake_undo", [undo("therapy_form", ot_sessions=None)]),
        SlotSet("requested_slot", "ot_outcome"),
    ]
    assert saved(repo)["other_treatments"][0] == {
        "type": "tms",
        "completed": True,
        "outcome": None,
        "sessions": 30,
    }
    vns = {**TMS, "ot_current": "vns", "ot_current_label": "VNS"}
    events, _, _ = validate(answer("therapy_form", "ot_completed", "Still going", vns))
    assert events[-1] == SlotSet("requested_slot", "ot_outcome")


# --- part 4: a switch on an antidepressant, suicide in the family, alcohol and drugs ---------------------

BIPOLAR = {"bp_elevated_periods": False, "bp_little_sleep": False}


def test_an_antidepressant_switch_is_asked_only_after_an_unusual_reaction() -> None:
    events, _, repo = validate(answer("screens_form", "bp_ad_activation", "yes", BIPOLAR, "affirm"))
    assert events[-1] == SlotSet("requested_slot", "bp_ad_switch")
    slots = {**BIPOLAR, "bp_ad_activation": True}
    events, _, repo = validate(answer("screens_form", "bp_ad_switch", "no, just jittery", slots, "deny"))
    assert events == [
        SlotSet("bp_ad_switch", False),
        SlotSet("intake_undo", [undo("screens_form", bp_ad_switch=None)]),
        SlotSet("requested_slot", "bp_family_history"),
    ]
    assert saved(repo)["bipolar"]["antidepressant_switch"] is False
    events, _, repo = validate(answer("screens_form", "bp_ad_activation", "no", BIPOLAR, "deny"))
    assert events[-1] == SlotSet("requested_slot", "bp_family_history")
    assert saved(repo)["bipolar"]["antidepressant_switch"] is False  # no reaction at all: no switch


def test_a_parent_or_sibling_who_died_by_suicide_is_asked_after_bipolar_in_the_family() -> None:
    slots = {**BIPOLAR, "bp_ad_activation": False}
    events, _, _ = validate(answer("screens_form", "bp_family_history", "no", slots, "deny"))
    assert events[-1] == SlotSet("requested_slot", "bp_family_suicide")
    slots["bp_family_history"] = False
    events, _, repo = validate(answer("screens_form", "bp_family_suicide", "skip", slots, "dont_know"))
    assert events[0] == SlotSet("bp_family_suicide", SKIPPED)
    assert events[-1] == SlotSet("requested_slot", "trauma_exposure")
    assert saved(repo)["bipolar"]["family_history_suicide"] is None


SCREENED = {
    name: False
    for name in Q.form_slots("screens_form")
    if name not in ("bp_ad_switch", "sub_alcohol", "sub_drugs", "heavy_substance")
    and not name.startswith("ptsd_")
}


def test_drinks_in_a_week_and_drugs_follow_the_heavy_use_question() -> None:
    events, _, _ = validate(answer("screens_form", "heavy_substance", "no", SCREENED, "deny"))
    assert events[-1] == SlotSet("requested_slot", "sub_alcohol")
    slots = {**SCREENED, "heavy_substance": False}
    events, said, repo = validate(answer("screens_form", "sub_alcohol", "2 a day", slots))
    assert events == [
        SlotSet("sub_alcohol", 14.0),
        SlotSet("intake_undo", [undo("screens_form", sub_alcohol=None)]),
        SlotSet("requested_slot", "sub_drugs"),
    ]
    events, said, _ = validate(answer("screens_form", "sub_alcohol", "a few", slots))
    assert events == [SlotSet("sub_alcohol", None), SlotSet("requested_slot", "sub_alcohol")]
    assert said == ["utter_intake_hint_drinks_per_week"]
    slots["sub_alcohol"] = 14.0
    events, _, repo = validate(answer("screens_form", "sub_drugs", "weed at weekends", slots))
    assert events[0] == SlotSet("sub_drugs", {"cannabis": True, "other": False})
    assert events[-1] == SlotSet("requested_slot", None)
    assert saved(repo)["substance"] == {
        "alcohol_drinks_per_week": 14.0,
        "cannabis_use": True,
        "other_drugs": False,
    }


# --- part 5: age and pregnancy, asked of everyone -------------------------------------------------------


def test_age_is_asked_first_a_range_is_kept_with_a_note() -> None:
    events, said, repo = validate(answer("cautions_form", "age", "in my 60s", {}))
    assert events == [
        SlotSet("age", {"min": 60, "max": 69}),
        SlotSet("intake_undo", [undo("cautions_form", age=None)]),
    ]
    record = saved(repo)
    assert record["age_years"] == 64 and record["notes"] == [
        "age_years is the midpoint of the age range given (60-69)"
    ]
    events, said, _ = validate(answer("cautions_form", "age", "7", {}))
    assert events == [SlotSet("age", None)]
    assert said == ["utter_intake_hint_age"]
    events, said, repo = validate(answer("cautions_form", "age", "rather not say", {}, "dont_know"))
    assert events[0] == SlotSet("age", SKIPPED) and saved(repo)["age_years"] is None


def test_pregnancy_a_birth_in_the_past_year_and_breastfeeding_in_one_question() -> None:
    slots = {
        "age": {"years": 31},
        "caution_bp_heart": False,
        "caution_psychosis": False,
        "caution_substance": False,
    }
    events, _, repo = validate(
        answer("cautions_form", "caution_pregnancy", "had a baby in March, breastfeeding", slots)
    )
    perinatal = {"pregnant": False, "postpartum_within_year": True, "breastfeeding": True, "planning": False}
    assert events == [
        SlotSet("caution_pregnancy", perinatal),
        SlotSet("intake_undo", [undo("cautions_form", caution_pregnancy=None)]),
    ]
    record = saved(repo)
    assert record["perinatal"] == perinatal and record["cautions"]["pregnant_or_planning"] is False
    events, said, _ = validate(answer("cautions_form", "caution_pregnancy", "yes", slots, "affirm"))
    assert said == ["utter_intake_hint_perinatal"] and events[0] == SlotSet("caution_pregnancy", None)


# --- after the crisis check: the gentle questions --------------------------------------------------------


def test_the_gentle_questions_start_by_asking_and_drop_the_flag_that_opened_them() -> None:
    message = user_event("/confirm_safe", "confirm_safe")
    events_in = [
        {"event": "action", "name": "action_close_crisis"},
        {"event": "slot", "name": "sh_due", "value": True},
        {"event": "action", "name": "suicide_history_form"},
    ]
    slots: Dict[str, Any] = {name: None for name in DOMAIN["slots"]}
    slots["sh_due"] = True
    tracker = make_tracker(
        SENDER, slots, message["parse_data"], events_in, latest_action="suicide_history_form"
    )
    events, said, _ = validate_activation(tracker)
    assert events == [SlotSet("sh_due", None), SlotSet("requested_slot", "sh_offer")]
    assert said == []


def validate_activation(tracker: Tracker) -> Tuple[List[Dict[str, Any]], List[Any], InMemoryRepository]:
    repository = InMemoryRepository()
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateSuicideHistoryForm(lambda: repository).run(dispatcher, tracker, DOMAIN))
    return events, [m.get("response") for m in dispatcher.messages], repository


def test_not_now_ends_the_gentle_questions_at_once() -> None:
    events, said, repo = validate(answer("suicide_history_form", "sh_offer", "Not now", {}, "deny"))
    assert events == [
        SlotSet("sh_offer", False),
        SlotSet("sh_undo", [undo("suicide_history_form", sh_offer=None)]),
        SlotSet("requested_slot", None),
    ]
    assert said == ["utter_intake_sh_declined"]
    assert set(saved(repo)["suicide_history"].values()) == {None}


def test_passing_thoughts_are_followed_by_a_plan_and_means_then_the_past() -> None:
    offered = {"sh_offer": True}
    events, said, repo = validate(
        answer("suicide_history_form", "sh_thoughts", "Wishing I wasn't here", offered)
    )
    assert events == [
        SlotSet("sh_thoughts", "passive"),
        SlotSet("sh_undo", [undo("suicide_history_form", sh_thoughts=None)]),
    ]  # every question now applies: FormAction asks the first empty one, sh_plan
    assert said == ["utter_intake_sh_heard"]
    assert saved(repo)["suicide_history"]["thoughts_now"] == "passive"
    # never onto the intake's own "go back" stack
    assert not any(e.get("name") == "intake_undo" for e in events)


def test_no_thoughts_lately_skips_the_plan_and_means() -> None:
    events, said, repo = validate(
        answer("suicide_history_form", "sh_thoughts", "Not lately", {"sh_offer": True})
    )
    assert events[-1] == SlotSet("requested_slot", "sh_attempt") and said == []
    assert saved(repo)["suicide_history"]["plan_or_intent"] is False


def test_the_last_answer_is_thanked_and_saved() -> None:
    slots = {
        "sh_offer": True,
        "sh_thoughts": "active",
        "sh_plan": False,
        "sh_means": True,
        "sh_attempt": True,
    }
    events, said, repo = validate(answer("suicide_history_form", "sh_hospital", "no", slots, "deny"))
    assert events == [
        SlotSet("sh_hospital", False),
        SlotSet("sh_undo", [undo("suicide_history_form", sh_hospital=None)]),
    ]
    assert said == ["utter_intake_sh_thanks"]
    assert saved(repo)["suicide_history"] == {
        "thoughts_now": "active",
        "plan_or_intent": False,
        "past_attempt": True,
        "hospitalised": False,
        "access_to_means": True,
    }


# --- action_close_crisis says when they are due -------------------------------------------------------------


def close(slots: Dict[str, Any], intent: str = "confirm_safe") -> List[Dict[str, Any]]:
    message = user_event("/" + intent, intent)
    tracker = make_tracker(SENDER, slots, message["parse_data"], [message])
    domain = {"forms": {"suicide_history_form": {}}}
    return asyncio.run(
        ActionCloseCrisis(lambda: InMemoryRepository()).run(CollectingDispatcher(), tracker, domain)
    )


def test_safe_after_a_crisis_of_their_own_makes_the_gentle_questions_due_once() -> None:
    open_crisis = {"crisis_active": True, "risk_category": "suicidal_ideation"}
    assert close(open_crisis) == [SlotSet("crisis_active", False), SlotSet("sh_due", True)]
    assert close({**open_crisis, "sh_offer": False}) == [SlotSet("crisis_active", False)]  # offered before
    assert close({**open_crisis, "risk_category": "third_party"}) == [SlotSet("crisis_active", False)]
    assert close({**open_crisis, "risk_category": "harm_to_others"}) == [SlotSet("crisis_active", False)]
    assert close(open_crisis, intent="crisis_retract") == [SlotSet("crisis_active", False)]
    assert close({"crisis_active": False}) == [SlotSet("crisis_active", False)]
