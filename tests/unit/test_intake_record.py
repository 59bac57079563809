"""The intake record builder (slots -> intake.schema.json) and the intake's wording data."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from actions.forms.base import SKIPPED
from actions.intake import domain_gen
from trd.intake.questions import default_questions
from trd.intake.record import build_record, empty_record, validate_record
from trd.navigator.validation import IntakeValidationError

ROOT = Path(__file__).resolve().parents[2]

FULL: Dict[str, Any] = {
    **{f"phq9_q{i}": v for i, v in enumerate([2, 3, 1, 3, 0, 2, 2, 1, 0], start=1)},
    "episode_months": 30,
    "previous_episodes": True,
    "trials": [
        {
            "drug": "sertraline",
            "role": "antidepressant",
            "max_dose_mg": 150,
            "weeks_at_dose": 10,
            "adherence": "most_days",
            "outcome": "partial_response",
            "still_taking": False,
            "side_effects": ["nausea"],
        }
    ],
    "therapy_any": True,
    "psychotherapy": [{"type": "cbt", "sessions": 12, "completed": True}],
    "therapy_type": {"type": "cbt", "description": None},
    "therapy_sessions": 12,
    "therapy_completed": {"completed": True, "ongoing": False},
    "therapy_more": False,
    "ot_tried": ["tms"],
    "other_treatments": [{"type": "tms", "completed": True, "outcome": "response_then_relapse"}],
    "bp_elevated_periods": False,
    "bp_little_sleep": False,
    "bp_ad_activation": True,
    "bp_family_history": SKIPPED,
    "trauma_exposure": True,
    **{f"ptsd_{i}": v for i, v in enumerate([True, True, False, True, False], start=1)},
    "adhd_since_childhood": False,
    "adhd_trouble_finishing": False,
    "adhd_distractible": True,
    "adhd_interest_lifts_mood": True,
    "labs_any": True,
    "lab_thyroid": True,
    "lab_b12": False,
    "lab_vitamin_d": SKIPPED,
    "lab_blood_count": True,
    "lab_glucose": True,
    "apnea_snoring": True,
    "apnea_pauses": SKIPPED,
    "apnea_sleepy": False,
    "heavy_substance": False,
    "caution_bp_heart": False,
    "caution_psychosis": False,
    "caution_substance": False,
    "caution_pregnancy": False,
    "caution_daily_visits": True,
    "intake_part": "done",
    "intake_started": True,
    "intake_parts_done": ["phq9", "episode", "medications", "therapy", "screens", "cautions"],
}


def test_an_empty_intake_is_a_valid_record_with_everything_unknown() -> None:
    record = empty_record()
    validate_record(record)
    assert record["phq9"] is None and record["phq9_items"] == [None] * 9
    assert record["episode_months"] is None and record["previous_episodes"] is None
    assert record["trials"] == [] and record["psychotherapy"] == [] and record["other_treatments"] == []
    assert set(record["bipolar"].values()) == {None}
    assert set(record["adhd"].values()) == {None}
    assert set(record["cautions"].values()) == {None}
    assert set(record["medical"]["labs_checked_past_year"].values()) == {None}
    assert record["trauma"] == {
        "exposure": None,
        "pc_ptsd5": None,
        "pc_ptsd5_items": None,
        "pc_ptsd5_score": None,
    }
    assert record["suicidal_thoughts_now"] is None
    assert record["intake"] == {"status": "not_started", "current_part": None, "parts_done": []}


def test_a_complete_intake_maps_every_answer_to_the_schema() -> None:
    record = build_record(FULL)
    validate_record(record)
    assert record["phq9"] == [2, 3, 1, 3, 0, 2, 2, 1, 0]
    assert record["episode_months"] == 30 and record["previous_episodes"] is True
    assert record["trials"] == FULL["trials"]
    assert record["psychotherapy_tried"] is True
    assert record["psychotherapy"] == [{"type": "cbt", "sessions": 12, "completed": True}]
    assert record["other_treatments"] == [
        {"type": "tms", "completed": True, "outcome": "response_then_relapse"}
    ]
    assert (
        record["other_treatments_tried"]["tms"] is True and record["other_treatments_tried"]["ect"] is False
    )
    assert record["bipolar"] == {
        "elevated_periods": False,
        "little_sleep_needed": False,
        "antidepressant_activation": True,
        "family_history": None,
        "family_history_suicide": None,
        "antidepressant_switch": None,
    }
    assert record["trauma"]["pc_ptsd5"] == [True, True, False, True, False]
    assert record["trauma"]["pc_ptsd5_score"] == 3
    assert record["medical"]["labs_checked_past_year"] == {
        "thyroid": True,
        "b12": False,
        "vitamin_d": None,
        "blood_count": True,
        "glucose": True,
    }
    assert record["medical"]["loud_snoring"] is True
    assert record["medical"]["breathing_pauses_seen"] is None
    assert record["cautions"]["can_attend_daily_visits"] is True
    assert record["suicidal_thoughts_now"] is False
    assert record["intake"]["status"] == "complete"


def test_unknown_answers_are_null_never_false() -> None:
    slots = {name: SKIPPED for name in default_questions().questions}
    slots["therapy_any"] = True
    slots["labs_any"] = True
    slots["trauma_exposure"] = True
    record = build_record(slots)
    validate_record(record)
    assert record["phq9"] is None and record["phq9_items"] == [None] * 9
    assert record["previous_episodes"] is None and record["episode_months"] is None
    assert set(record["bipolar"].values()) == {None}
    assert set(record["cautions"].values()) == {None}
    assert set(record["medical"]["labs_checked_past_year"].values()) == {None}
    assert record["trauma"]["pc_ptsd5"] is None and record["trauma"]["pc_ptsd5_items"] == [None] * 5
    assert record["suicidal_thoughts_now"] is None
    assert set(record["other_treatments_tried"].values()) == {None}
    assert False not in _all_values(record["cautions"]) + _all_values(record["bipolar"])


def _all_values(value: Any) -> list:
    return list(value.values()) if isinstance(value, dict) else [value]


def test_a_partial_phq9_keeps_every_known_item() -> None:
    record = build_record({"phq9_q1": 2, "phq9_q2": SKIPPED, "phq9_q3": 3})
    validate_record(record)
    assert record["phq9"] is None  # the schema's array needs all nine
    assert record["phq9_items"] == [2, None, 3, None, None, None, None, None, None]


def test_no_trauma_exposure_scores_zero_without_asking_the_items() -> None:
    trauma = build_record({"trauma_exposure": False})["trauma"]
    assert trauma == {"exposure": False, "pc_ptsd5": None, "pc_ptsd5_items": None, "pc_ptsd5_score": 0}


def test_no_blood_tests_means_none_of_the_five_was_checked_and_unknown_means_unknown() -> None:
    assert set(build_record({"labs_any": False})["medical"]["labs_checked_past_year"].values()) == {False}
    assert set(build_record({"labs_any": SKIPPED})["medical"]["labs_checked_past_year"].values()) == {None}


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        ({"phq9_q9": 0}, False),
        ({"phq9_q9": 1}, True),
        ({"phq9_q9": 3}, True),
        ({"phq9_q9": SKIPPED}, None),
        ({}, None),
        ({"phq9_q9": 0, "intake_crises": ["suicidal_ideation"]}, True),
        ({"intake_crises": ["plan"]}, True),
        ({"intake_crises": ["unspecified"]}, True),
        ({"intake_crises": ["sos"]}, None),
        ({"phq9_q9": 0, "intake_crises": ["third_party"]}, False),
    ],
)
def test_suicidal_thoughts_now_comes_from_item_9_and_the_safety_path(
    slots: Dict[str, Any], expected: Any
) -> None:
    record = build_record(slots)
    assert record["suicidal_thoughts_now"] is expected
    assert record["safety"]["crisis_in_conversation"] is bool(slots.get("intake_crises"))


def test_answers_being_collected_are_kept_when_the_person_leaves_halfway() -> None:
    record = build_record(
        {
            "therapy_any": True,
            "therapy_type": {"type": "other", "description": "art therapy"},
            "therapy_sessions": 6,
            "ot_tried": ["ect", "ketamine"],
            "other_treatments": [{"type": "ect", "completed": True, "outcome": "remission"}],
            "ot_current": "ketamine",
            "ot_completed": {"completed": False, "ongoing": True},
        }
    )
    validate_record(record)
    assert record["psychotherapy"] == [
        {"type": "other", "sessions": 6, "completed": None, "description": "art therapy"}
    ]
    assert record["other_treatments"] == [
        {"type": "ect", "completed": True, "outcome": "remission"},
        {"type": "ketamine", "completed": False, "outcome": None, "sessions": None, "ongoing": True},
    ]


def test_medicine_trials_that_break_the_schema_are_kept_apart_not_lost() -> None:
    good = {"drug": "bupropion", "max_dose_mg": 300}
    bad = {"drug": "sertraline", "max_dose_mg": -5}
    record = build_record({"trials": [good, bad, "escitalopram"]})
    validate_record(record)
    assert record["trials"] == [good]
    assert record["trials_unreadable"] == [bad, "escitalopram"]


def test_the_builder_does_not_change_its_input() -> None:
    slots = copy.deepcopy(FULL)
    build_record(slots)
    assert slots == FULL


def test_the_validator_names_the_field_of_a_broken_record() -> None:
    record = build_record(FULL)
    record["phq9"][0] = 7
    with pytest.raises(IntakeValidationError) as caught:
        validate_record(record)
    assert caught.value.field == "phq9[0]"


# --- the wording data and the domain ---------------------------------------------------------

PHQ9_STEM = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
PHQ9_ITEMS = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself \u2014 or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite \u2014 being so "
    "fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
]
PC_PTSD5_ITEMS = [
    "had nightmares about the event(s) or thought about the event(s) when you did not want to?",
    "tried hard not to think about the event(s) or went out of your way to avoid situations that "
    "reminded you of the event(s)?",
    "been constantly on guard, watchful, or easily startled?",
    "felt numb or detached from people, activities, or your surroundings?",
    "felt guilty or unable to stop blaming yourself or others for the event(s) or any problems the "
    "event(s) may have caused?",
]


def test_the_phq9_is_asked_as_published() -> None:
    q = default_questions()
    assert PHQ9_STEM in q.part("phq9").announce
    assert "Kroenke" in q.part("phq9").announce and "Kroenke" in q.sources["phq9"]
    for number, item in enumerate(PHQ9_ITEMS, start=1):
        question = q.questions[f"phq9_q{number}"]
        assert question.text == f"({number} of 9) {item}"
        assert question.verbatim and question.source == "phq9"
        assert q.answer_sets[str(question.answers)] == (
            "Not at all",
            "Several days",
            "More than half the days",
            "Nearly every day",
        )


def test_the_pc_ptsd5_is_asked_as_published() -> None:
    q = default_questions()
    exposure = q.questions["trauma_exposure"].text
    assert (
        "Sometimes things happen to people that are unusually or especially frightening, horrible, "
        "or traumatic." in exposure
    )
    assert exposure.rstrip().endswith("Have you ever experienced this kind of event?")
    for number, item in enumerate(PC_PTSD5_ITEMS, start=1):
        question = q.questions[f"ptsd_{number}"]
        assert question.text == f"({number} of 5) In the past month, have you {item}"
        assert question.source == "pc_ptsd5"
    assert "Prins" in q.sources["pc_ptsd5"] and "public domain" in q.sources["pc_ptsd5"]


# Signature wording of copyrighted questionnaires that must not be copied.
COPYRIGHTED = [
    "you felt so good or so hyper",  # MDQ
    "not your normal self",  # MDQ
    "wrapping up the final details",  # ASRS
    "fidget or squirm",  # ASRS
    "louder than talking",  # STOP-Bang
    "observed you stop breathing",  # STOP-Bang
    "feel tired, fatigued",  # STOP-Bang
]


def test_own_questions_do_not_copy_the_mdq_asrs_or_stop_bang() -> None:
    q = default_questions()
    own = [question for question in q.questions.values() if question.source == "project"]
    assert {"bp_elevated_periods", "adhd_distractible", "apnea_snoring"} <= {x.slot for x in own}
    for question in own:
        assert not question.verbatim
        for phrase in COPYRIGHTED:
            assert phrase not in question.text.lower(), (question.slot, phrase)


def test_domain_yml_is_generated_from_the_wording_file() -> None:
    assert domain_gen.main(["--check"]) == 0


@pytest.mark.slow
def test_every_answer_slot_is_guarded_against_filling_itself_or_swallowing_a_crisis() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    q = default_questions()
    for slot, question in q.questions.items():
        [mapping] = domain["slots"][slot]["mappings"]
        assert mapping["type"] == "from_text"
        assert {"crisis", "crisis_danger_now", "sos"} <= set(mapping["not_intent"])
        assert mapping["conditions"] == [{"active_loop": question.form, "requested_slot": slot}]
        assert question.response in domain["responses"]
    for part in q.parts:
        assert domain["responses"][part.response][0]["text"] == part.announce
    assert q.part("medications").label == "Part 2 of 5: medicines you've tried"


@pytest.mark.slow
def test_on_sms_a_typed_number_stays_the_persons_number() -> None:
    """SMS turns buttons into numbered options; number questions go there without buttons."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for slot in ("phq9_q1", "phq9_q9", "episode_months", "therapy_sessions"):
        [sms] = [v for v in domain["responses"][f"utter_ask_{slot}"] if v.get("channel") == "twilio"]
        assert "buttons" not in sms
    [sms] = [v for v in domain["responses"]["utter_ask_phq9_q2"] if v.get("channel") == "twilio"]
    assert sms["text"].endswith(
        "Reply 0 for not at all, 1 for several days, 2 for more than half the days, "
        "or 3 for nearly every day."
    )


def test_rasa_never_reads_the_wording_file_as_training_data() -> None:
    """Rasa treats any data/ YAML with a line starting "nlu:", "rules:"... as training data."""
    text = (ROOT / "data" / "knowledge" / "intake_questions.yml").read_text(encoding="utf-8")
    for line in text.splitlines():
        key = line.strip().split(":", 1)[0]
        assert key not in {"nlu", "responses", "stories", "rules", "intents", "slots", "forms", "actions"}, (
            line
        )


# --- version 2 (navigator.md section 10) ------------------------------------------------------------

V2: Dict[str, Any] = {
    **FULL,
    "function_impaired": True,
    "psychosis_any": True,
    "psychosis_kind": {"perceptions": False, "fixed_beliefs": True},
    "catatonia": False,
    "trials": [
        {**FULL["trials"][0], "order": 1, "added_to": None},
        {
            "drug": "bupropion",
            "role": "antidepressant",
            "max_dose_mg": 300,
            "weeks_at_dose": 8,
            "adherence": "most_days",
            "outcome": "response_then_relapse",
            "relapse_while_taking": False,
            "still_taking": True,
            "added_to": "sertraline",
            "order": 2,
        },
        {"drug": "trazodone", "role": "antidepressant", "max_dose_mg": 50, "purpose": "sleep", "order": 3},
    ],
    "current_meds": [
        {"drug": "bupropion", "dose_mg": 300.0, "name_given": "wellbutrin", "recognised": True},
        {"drug": "flibberzine", "dose_mg": None, "name_given": "Flibberzine", "recognised": False},
    ],
    "ot_tried": ["tms", "ect"],
    "other_treatments": [
        {"type": "tms", "completed": True, "outcome": "no_response", "sessions": 30},
        {"type": "ect", "completed": False, "outcome": "too_early", "sessions": 4},
    ],
    "bp_ad_switch": True,
    "bp_family_suicide": False,
    "sub_alcohol": 10.0,
    "sub_drugs": {"cannabis": True, "other": False},
    "age": {"min": 60, "max": 69},
    "caution_pregnancy": {
        "pregnant": False,
        "postpartum_within_year": False,
        "breastfeeding": False,
        "planning": True,
    },
    "sh_offer": True,
    "sh_thoughts": "passive",
    "sh_plan": False,
    "sh_means": True,
    "sh_attempt": SKIPPED,
    "sh_hospital": False,
}


def test_every_version_2_field_reaches_the_record_under_its_section_10_name() -> None:
    record = build_record(V2)
    validate_record(record)
    assert record["function_impaired"] is True
    assert record["psychosis_now"] == {"perceptions": False, "fixed_beliefs": True}
    assert record["catatonia_signs"] is False
    assert [(t["drug"], t.get("order"), t.get("added_to"), t.get("purpose")) for t in record["trials"]] == [
        ("sertraline", 1, None, None),
        ("bupropion", 2, "sertraline", None),
        ("trazodone", 3, None, "sleep"),
    ]
    assert record["trials"][1]["relapse_while_taking"] is False
    assert record["current_medications"] == [
        {"drug": "bupropion", "dose_mg": 300.0, "name_given": "wellbutrin", "recognised": True},
        {"drug": "flibberzine", "dose_mg": None, "name_given": "Flibberzine", "recognised": False},
    ]
    assert [(t["type"], t["sessions"]) for t in record["other_treatments"]] == [("tms", 30), ("ect", 4)]
    assert record["psychotherapy"][0]["sessions"] == 12
    assert record["bipolar"]["antidepressant_switch"] is True
    assert record["bipolar"]["family_history_suicide"] is False
    assert record["substance"] == {
        "alcohol_drinks_per_week": 10.0,
        "cannabis_use": True,
        "other_drugs": False,
    }
    assert record["age_years"] == 64
    assert record["age_range"] == {"min_years": 60, "max_years": 69}
    assert record["notes"] == ["age_years is the midpoint of the age range given (60-69)"]
    assert record["perinatal"] == {
        "pregnant": False,
        "postpartum_within_year": False,
        "breastfeeding": False,
        "planning": True,
    }
    assert record["cautions"]["pregnant_or_planning"] is True  # the version 1 field still answers
    assert record["suicide_history"] == {
        "thoughts_now": "passive",
        "plan_or_intent": False,
        "past_attempt": None,
        "hospitalised": False,
        "access_to_means": True,
    }


def test_version_2_fields_are_unknown_until_asked_never_false() -> None:
    record = build_record({})
    validate_record(record)
    assert record["age_years"] is None and "age_range" not in record and record["notes"] == []
    assert set(record["perinatal"].values()) == {None}
    assert record["current_medications"] is None  # not asked yet; [] is "nothing"
    assert record["psychosis_now"] == {"perceptions": None, "fixed_beliefs": None}
    assert record["catatonia_signs"] is None and record["function_impaired"] is None
    assert set(record["suicide_history"].values()) == {None}
    assert set(record["substance"].values()) == {None}


def test_derived_answers_follow_from_what_was_said() -> None:
    # no psychotic experiences: both kinds are no; no reaction to an antidepressant: no switch on one
    record = build_record({"psychosis_any": False, "bp_ad_activation": False, "sh_thoughts": "none"})
    assert record["psychosis_now"] == {"perceptions": False, "fixed_beliefs": False}
    assert record["bipolar"]["antidepressant_switch"] is False
    assert record["suicide_history"]["plan_or_intent"] is False  # no thoughts now: no plan now
    assert record["suicide_history"]["access_to_means"] is None  # not asked, not implied
    # an answer to the version 1 pregnancy question (kept in an older conversation) still counts
    old = build_record({"caution_pregnancy": True})
    assert old["cautions"]["pregnant_or_planning"] is True and set(old["perinatal"].values()) == {None}
    assert build_record({"current_meds": []})["current_medications"] == []
    assert build_record({"age": {"min": 65, "max": None}})["notes"] == [
        "age_years is the lower bound of the age given (65 or over)"
    ]


@pytest.mark.parametrize(
    ("state", "recorded"), [(None, None), ("asked", "asked"), ("reasked", "asked"), ("declined", "declined")]
)
def test_the_possible_risk_question_is_recorded_for_the_clinician(state: object, recorded: object) -> None:
    # a yes or an evasive answer opens the crisis path, recorded in risk_categories
    assert build_record({"risk_check": state})["safety"]["possible_risk_question"] == recorded
