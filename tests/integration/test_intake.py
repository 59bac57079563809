"""The structured intake over the real REST channel, with the action server and the database.

A person types the whole intake as people type (buttons' words, numbers, "not sure",
short sentences); the clinician then reads the record with GET /intake/<id>. Also: the
clinician API's 401/404, a question and a crisis in the middle of a form, PHQ-9 item 9,
start over, and pause/resume across a restart of the Rasa server.

Part 2 (medicines) is another engineer's form: the helper answers it with "skip this
part" / "none" until part 3 begins, whatever its questions are.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
import yaml

from tests.support.restarts import RestartedStack
from tests.support.servers import Stack, new_sender, texts

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WORDING = yaml.safe_load((ROOT / "data" / "knowledge" / "intake_questions.yml").read_text(encoding="utf-8"))
PHQ9_STEM = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"


def question(slot: str) -> str:
    """The first line of a question as the data file words it (follows copy edits)."""
    text = str(WORDING["questions"][slot]["text"])
    return text.split("{")[0].strip().splitlines()[0]


def message(name: str) -> str:
    return str(WORDING["messages"][name]).strip().splitlines()[0]


def say(stack: Stack, sender: str, text: str) -> str:
    reply = texts(stack.rest(sender, text))
    assert reply.strip(), f"no answer to {text!r}"
    return reply


def get_intake(stack: Stack, sender: str, token: Optional[str] = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token if token is not None else stack.env['CLINICIAN_TOKEN']}"}
    return requests.get(f"{stack.base_url}/intake/{sender}", headers=headers, timeout=30)


def until(stack: Stack, sender: str, reply: str, marker: str, answers: List[str], limit: int = 20) -> str:
    """Answer with ``answers`` in turn until ``marker`` appears (part 2's questions are not ours)."""
    for turn in range(limit):
        if marker in reply:
            return reply
        reply = say(stack, sender, answers[min(turn, len(answers) - 1)])
    raise AssertionError(f"{marker!r} never came; last reply: {reply}")


PART2_ANSWERS = ["skip this part", "none", "no", "not sure", "no", "no", "no", "no"]


def start(stack: Stack, sender: str) -> str:
    reply = say(stack, sender, "hi")
    reply = say(stack, sender, "yes, let's start")
    assert "Part 1 of 5: how things are now" in reply
    assert PHQ9_STEM in reply
    assert question("phq9_q1") in reply
    return reply


def answer_phq9(stack: Stack, sender: str, answers: List[str]) -> str:
    reply = ""
    for number, text in enumerate(answers, start=1):
        reply = say(stack, sender, text)
        if number < 9:
            assert question(f"phq9_q{number + 1}") in reply, (number, text, reply)
    return reply


def test_a_complete_intake_typed_as_people_type_is_in_the_clinicians_record(stack: Stack) -> None:
    sender = new_sender("intake")
    start(stack, sender)
    reply = answer_phq9(
        stack,
        sender,
        [
            "several days",
            "2",
            "More than half the days",
            "not at all",
            "Nearly every day",
            "I'd say several days",
            "3",
            "never",
            "Not at all",
        ],
    )
    assert "Part 1 of 5, continued: this episode" in reply and question("episode_months") in reply
    reply = say(stack, sender, "about a year and a half")
    assert question("previous_episodes") in reply
    reply = say(stack, sender, "yes, twice before")
    assert question("function_impaired") in reply
    reply = say(stack, sender, "no")
    assert question("psychosis_any") in reply
    reply = say(stack, sender, "no")
    assert question("catatonia") in reply
    reply = say(stack, sender, "no")
    assert "Part 2 of 5: medicines you've tried" in reply
    reply = until(stack, sender, reply, "Part 3 of 5", PART2_ANSWERS)
    assert question("therapy_any") in reply

    for text, expected in [
        ("yes", "therapy_type"),
        ("CBT", "therapy_sessions"),
        ("about 12", "therapy_completed"),
        ("Yes, I finished it", "therapy_more"),
        ("yes", "therapy_type"),
        ("just counselling with my GP's counsellor", "therapy_sessions"),
        ("not sure", "therapy_completed"),
        ("Still going", "therapy_more"),
        ("no", "ot_tried"),
        ("TMS", "ot_completed"),
        ("yes", "ot_sessions"),
        ("about 30", "ot_outcome"),
    ]:
        reply = say(stack, sender, text)
        assert question(expected) in reply, (text, reply)
    assert "TMS" in reply
    reply = say(stack, sender, "It helped somewhat")
    assert "Part 4 of 5" in reply and question("bp_elevated_periods") in reply

    screens = [
        ("no", "bp_little_sleep"),
        ("nope", "bp_ad_activation"),
        ("yes", "bp_ad_switch"),
        ("no, I just felt jittery", "bp_family_history"),
        ("I don't know", "bp_family_suicide"),
        ("no", "trauma_exposure"),
        ("no", "adhd_since_childhood"),
        ("no", "adhd_trouble_finishing"),
        ("yes", "adhd_distractible"),
        ("no", "adhd_interest_lifts_mood"),
        ("yes", "labs_any"),
        ("yes", "lab_thyroid"),
        ("yes", "lab_b12"),
        ("no", "lab_vitamin_d"),
        ("not sure", "lab_blood_count"),
        ("yes", "lab_glucose"),
        ("no", "apnea_snoring"),
        ("yes", "apnea_pauses"),
        ("no", "apnea_sleepy"),
        ("no", "heavy_substance"),
        ("no", "sub_alcohol"),
        ("about 3 a week", "sub_drugs"),
    ]
    for text, expected in screens:
        reply = say(stack, sender, text)
        assert question(expected) in reply, (text, reply)
    reply = say(stack, sender, "neither")
    assert "Part 5 of 5" in reply and question("age") in reply
    reply = say(stack, sender, "52")
    assert question("caution_bp_heart") in reply
    for text, expected in [
        ("no", "caution_psychosis"),
        ("no", "caution_substance"),
        ("not that I know of", "caution_pregnancy"),
        ("doesn't apply", "caution_daily_visits"),
    ]:
        reply = say(stack, sender, text)
        assert question(expected) in reply, (text, reply)
    reply = say(stack, sender, "yes")
    assert "That's all five parts." in reply
    assert "/summary/" in reply  # the chat summary and its link follow in the same turn
    link = re.search(r"https?://\S+/summary/[\w-]+", reply)
    assert link is not None, reply
    page = requests.get(stack.base_url + "/summary/" + link.group(0).rsplit("/", 1)[1], timeout=60)
    assert page.status_code == 200 and "not medical advice" in page.text

    r = get_intake(stack, sender)
    assert r.status_code == 200, r.text
    record: Dict[str, Any] = r.json()
    assert record["phq9"] == [1, 2, 2, 0, 3, 1, 3, 0, 0]
    assert record["episode_months"] == 18 and record["previous_episodes"] is True
    assert record["psychotherapy_tried"] is True
    assert record["psychotherapy"] == [
        {"type": "cbt", "sessions": 12, "completed": True},
        {
            "type": "other",
            "sessions": None,
            "completed": False,
            "ongoing": True,
            "description": "just counselling with my GP's counsellor",
        },
    ]
    assert record["other_treatments"] == [
        {"type": "tms", "completed": True, "outcome": "partial_response", "sessions": 30}
    ]
    assert (
        record["other_treatments_tried"]["tms"] is True and record["other_treatments_tried"]["ect"] is False
    )
    assert record["bipolar"] == {
        "elevated_periods": False,
        "little_sleep_needed": False,
        "antidepressant_activation": True,
        "family_history": None,
        "antidepressant_switch": False,
        "family_history_suicide": False,
    }
    assert record["trauma"] == {
        "exposure": False,
        "pc_ptsd5": None,
        "pc_ptsd5_items": None,
        "pc_ptsd5_score": 0,
    }
    assert record["adhd"] == {
        "since_childhood": False,
        "trouble_finishing": True,
        "distractible": False,
        "interest_lifts_mood": True,
    }
    assert record["medical"]["labs_checked_past_year"] == {
        "thyroid": True,
        "b12": False,
        "vitamin_d": None,
        "blood_count": True,
        "glucose": False,
    }
    assert (
        record["medical"]["loud_snoring"],
        record["medical"]["breathing_pauses_seen"],
        record["medical"]["daytime_sleepiness"],
        record["medical"]["heavy_alcohol_or_drugs"],
    ) == (True, False, False, False)
    assert record["cautions"] == {
        "uncontrolled_blood_pressure_or_heart_disease": False,
        "psychosis_or_dissociation_history": False,
        "substance_use_problem": False,
        "pregnant_or_planning": False,
        "can_attend_daily_visits": True,
    }
    assert record["suicidal_thoughts_now"] is False
    assert record["intake"]["status"] == "complete"
    assert record["substance"] == {
        "alcohol_drinks_per_week": 3.0,
        "cannabis_use": False,
        "other_drugs": False,
    }
    assert record["age_years"] == 52 and record["function_impaired"] is False
    assert record["psychosis_now"] == {"perceptions": False, "fixed_beliefs": False}
    assert record["catatonia_signs"] is False
    assert record["current_medications"] == []  # part 2 skipped, then "none" taken now
    assert record["intake"]["parts_done"] == [
        "phq9",
        "episode",
        "medications",
        "current_meds",
        "therapy",
        "screens",
        "cautions",
    ]


def test_every_version_2_question_reaches_the_clinicians_record(stack: Stack) -> None:
    """navigator.md section 10's new fields, each asked in the project's words and read back
    where it matters: the intake typed as a person types, then GET /intake/<id>."""
    sender = new_sender("intake-v2")
    start(stack, sender)
    reply = answer_phq9(stack, sender, ["2", "2", "1", "2", "1", "2", "1", "0", "Several days"])
    assert message("utter_intake_item9") in reply and "988" in reply and "Are you safe right now?" in reply
    assert question("sh_offer") not in reply  # never before the resources and the check
    reply = say(stack, sender, "I'm safe right now")
    assert question("sh_offer") in reply
    for text, expected in [
        ("Okay", "sh_thoughts"),
        ("Passing thoughts", "sh_plan"),
        ("no", "sh_means"),
        ("yes", "sh_attempt"),
        ("no", "sh_hospital"),
    ]:
        reply = say(stack, sender, text)
        assert question(expected) in reply, (text, reply)
    reply = say(stack, sender, "no")
    assert message("utter_intake_sh_thanks") in reply and "Would you like to go on" in reply
    reply = say(stack, sender, "yes")
    assert "Part 1 of 5, continued: this episode" in reply

    for text, expected in [
        ("about 10 months", "previous_episodes"),
        ("no", "function_impaired"),
        ("yes, I can't work at the moment", "psychosis_any"),
        ("yes", "psychosis_kind"),
        ("Unusual beliefs", "catatonia"),
    ]:
        reply = say(stack, sender, text)
        assert question(expected) in reply, (text, reply)
    reply = say(stack, sender, "no")
    assert "Part 2 of 5: medicines you've tried" in reply

    reply = say(stack, sender, "prozac, then wellbutrin and trazodone")
    assert "What was the highest daily dose of Prozac you took?" in reply
    for text in ("40mg", "12 weeks", "most days"):
        say(stack, sender, text)
    reply = say(stack, sender, "Improved, then it came back")
    assert "were you still taking Prozac at the same dose?" in reply
    for text in ("Yes, same dose", "none", "no"):
        reply = say(stack, sender, text)
    assert "Was Prozac taken on its own, or added on top of another medicine" in reply
    reply = say(stack, sender, "On its own")
    assert "improved, then it came back while still taking it" in reply
    reply = say(stack, sender, "yes")
    assert "Wellbutrin" in reply
    for text in ("300mg", "10 weeks", "most days", "No change", "none", "yes"):
        reply = say(stack, sender, text)
    reply = say(stack, sender, "it was added to the prozac")
    assert "added on top of fluoxetine" in reply
    reply = say(stack, sender, "yes")
    assert "What was trazodone for: depression, sleep or pain?" in reply  # a drug with a sleep dose
    reply = say(stack, sender, "Sleep")
    assert "highest daily dose of trazodone" in reply
    reply = say(stack, sender, "50mg at night")
    assert "Are you still taking trazodone?" in reply  # for sleep: no weeks, outcome or side effects
    for text in ("yes", "on its own"):
        reply = say(stack, sender, text)
    assert "Trazodone, for sleep, up to 50 mg a day; still taking it." in reply
    reply = say(stack, sender, "yes")
    assert "other medicines" in reply
    reply = say(stack, sender, "no, that's all")
    assert "You named Prozac, Wellbutrin and trazodone. Which did you take first?" in reply
    reply = say(stack, sender, "In the same order")
    assert "Part 2 of 5, continued: what you take now" in reply
    assert "You said you're still taking Wellbutrin and trazodone, so I've noted that." in reply
    reply = say(stack, sender, "lithium 600 mg, and St John's wort")
    assert "- lithium, 600 mg a day" in reply and "Is that everything" in reply
    reply = say(stack, sender, "and ibuprofen 400mg")
    assert message("utter_intake_cm_changed") in reply and "400 mg a day" in reply
    reply = say(stack, sender, "Yes, that's everything")
    assert "Part 3 of 5" in reply

    for text, expected in [
        ("yes", "therapy_type"),
        ("CBT", "therapy_sessions"),
        ("6", "therapy_completed"),
        ("No, I stopped early", "therapy_more"),
        ("no", "ot_tried"),
        ("TMS and ketamine", "ot_completed"),
        ("Yes, I finished it", "ot_sessions"),
        ("36", "ot_outcome"),
        ("It didn't help", "ot_completed"),
        ("No, I stopped early", "ot_sessions"),
        ("4", "ot_outcome"),
    ]:
        reply = say(stack, sender, text)
        assert question(expected) in reply, (text, reply)
    reply = say(stack, sender, "It helped somewhat")
    assert "Part 4 of 5" in reply

    for text, expected in [
        ("no", "bp_little_sleep"),
        ("no", "bp_ad_activation"),
        ("yes", "bp_ad_switch"),
        ("yes, I barely slept for a week and felt on top of the world", "bp_family_history"),
        ("no", "bp_family_suicide"),
        ("yes, my brother", "trauma_exposure"),
    ]:
        reply = say(stack, sender, text)
        assert question(expected) in reply, (text, reply)
    reply = until(stack, sender, reply, question("sub_alcohol"), ["no"])
    reply = say(stack, sender, "2 a day")
    assert question("sub_drugs") in reply
    reply = say(stack, sender, "cannabis")
    assert "Part 5 of 5" in reply and question("age") in reply
    reply = say(stack, sender, "in my 40s")
    assert question("caution_bp_heart") in reply
    reply = until(stack, sender, reply, question("caution_pregnancy"), ["no"])
    reply = say(stack, sender, "planning a pregnancy")
    assert question("caution_daily_visits") in reply
    reply = say(stack, sender, "yes")
    assert "That's all five parts." in reply and "/summary/" in reply

    record = get_intake(stack, sender).json()
    assert record["suicide_history"] == {
        "thoughts_now": "passive",
        "plan_or_intent": False,
        "past_attempt": False,
        "hospitalised": False,
        "access_to_means": True,
    }
    assert record["function_impaired"] is True
    assert record["psychosis_now"] == {"perceptions": False, "fixed_beliefs": True}
    assert record["catatonia_signs"] is False
    trials = {t["drug"]: t for t in record["trials"]}
    assert [(t["drug"], t["order"]) for t in record["trials"]] == [
        ("fluoxetine", 1),
        ("bupropion", 2),
        ("trazodone", 3),
    ]
    assert trials["fluoxetine"]["outcome"] == "response_then_relapse"
    assert trials["fluoxetine"]["relapse_while_taking"] is True
    assert trials["fluoxetine"]["added_to"] is None
    assert trials["bupropion"]["added_to"] == "fluoxetine"
    assert trials["trazodone"]["purpose"] == "sleep" and trials["trazodone"]["max_dose_mg"] == 50.0
    current = {m["drug"]: m["dose_mg"] for m in record["current_medications"]}
    assert current["bupropion"] == 300.0 and current["trazodone"] == 50.0
    assert current["lithium"] == 600.0 and current["ibuprofen"] == 400.0
    assert len(record["current_medications"]) == 5  # and St John's wort
    assert record["psychotherapy"] == [{"type": "cbt", "sessions": 6, "completed": False}]
    assert [(t["type"], t["sessions"]) for t in record["other_treatments"]] == [("tms", 36), ("ketamine", 4)]
    assert record["bipolar"]["antidepressant_switch"] is True
    assert record["bipolar"]["family_history_suicide"] is True
    assert record["substance"] == {
        "alcohol_drinks_per_week": 14.0,
        "cannabis_use": True,
        "other_drugs": False,
    }
    assert record["age_years"] == 44 and record["age_range"] == {"min_years": 40, "max_years": 49}
    assert record["notes"] == ["age_years is the midpoint of the age range given (40-49)"]
    assert record["perinatal"] == {
        "pregnant": False,
        "postpartum_within_year": False,
        "breastfeeding": False,
        "planning": True,
    }
    assert record["cautions"]["pregnant_or_planning"] is True
    assert record["safety"]["phq9_item9_positive"] is True


def test_the_clinician_api_needs_the_token_and_a_known_conversation(stack: Stack) -> None:
    sender = new_sender("api")
    start(stack, sender)
    say(stack, sender, "2")  # the record is stored from the first answer on
    assert get_intake(stack, sender).json()["phq9_items"][0] == 2
    no_token = requests.get(f"{stack.base_url}/intake/{sender}", timeout=30)
    assert no_token.status_code == 401 and "phq9" not in no_token.text
    wrong = get_intake(stack, sender, token="not-the-clinician-token")
    assert wrong.status_code == 401 and "phq9" not in wrong.text
    assert (
        get_intake(stack, sender, token=stack.auth_token).status_code == 401
    )  # the Rasa API token is not it
    assert get_intake(stack, new_sender("nobody")).status_code == 404


def test_unknown_answers_go_back_and_a_question_mid_form(stack: Stack) -> None:
    sender = new_sender("digress")
    start(stack, sender)
    reply = say(stack, sender, "not sure")
    assert message("utter_intake_skipped") in reply and question("phq9_q2") in reply
    reply = say(stack, sender, "Several days")
    assert question("phq9_q3") in reply
    reply = say(stack, sender, "go back")
    assert message("utter_intake_went_back") in reply and question("phq9_q2") in reply
    reply = say(stack, sender, "Nearly every day")
    assert question("phq9_q3") in reply
    reply = say(stack, sender, "sometimes")  # vague: asked again with the options
    assert "0 = not at all" in reply and question("phq9_q3") in reply
    reply = say(stack, sender, "what is TMS?")
    assert "magnetic" in reply and question("phq9_q3") in reply
    reply = say(stack, sender, "1")
    assert question("phq9_q4") in reply
    record = get_intake(stack, sender).json()
    assert record["phq9_items"][:3] == [None, 3, 1]


def test_a_crisis_mid_form_goes_to_the_safety_path_and_the_intake_resumes_at_the_same_question(
    stack: Stack,
) -> None:
    sender = new_sender("crisis")
    start(stack, sender)
    reply = say(stack, sender, "2")
    assert question("phq9_q2") in reply
    reply = say(stack, sender, "I want to kill myself")  # instead of answering item 2
    assert "988" in reply
    assert "Are you safe right now?" in reply
    assert question("phq9_q3") not in reply
    reply = say(stack, sender, "continue")  # not yet: the crisis is still open
    assert "Are you safe right now?" in reply and question("phq9_q2") not in reply
    reply = say(stack, sender, "I'm safe right now")
    assert question("sh_offer") in reply  # a few gentle questions, offered once, after the resources
    reply = say(stack, sender, "not now")
    assert message("utter_intake_sh_declined") in reply and "Would you like to go on" in reply
    reply = say(stack, sender, "yes")
    assert question("phq9_q2") in reply  # the same question again
    reply = say(stack, sender, "0")
    assert question("phq9_q3") in reply
    record = get_intake(stack, sender).json()
    assert record["phq9_items"][:3] == [2, 0, None]  # the crisis message was not taken as an answer
    assert record["safety"]["crisis_in_conversation"] is True and record["suicidal_thoughts_now"] is True


def test_phq9_item_9_above_zero_checks_in_at_once_and_goes_on_only_when_safe(stack: Stack) -> None:
    sender = new_sender("item9")
    start(stack, sender)
    reply = answer_phq9(stack, sender, ["1"] * 8 + ["Several days"])
    assert message("utter_intake_item9") in reply
    assert "988" in reply and "Are you safe right now?" in reply
    assert "Part 1 of 5, continued" not in reply
    reply = say(stack, sender, "I'm safe")
    assert question("sh_offer") in reply
    reply = say(stack, sender, "Not now")
    assert "Would you like to go on" in reply
    reply = say(stack, sender, "yes")
    assert "Part 1 of 5, continued: this episode" in reply and question("episode_months") in reply
    record = get_intake(stack, sender).json()
    assert record["phq9"] == [1] * 9
    assert record["suicidal_thoughts_now"] is True and record["safety"]["phq9_item9_positive"] is True


def test_start_over_asks_first_then_clears_the_answers(stack: Stack) -> None:
    sender = new_sender("restart-intake")
    start(stack, sender)
    say(stack, sender, "3")
    say(stack, sender, "3")
    reply = say(stack, sender, "start over")
    assert "clears every answer" in reply
    reply = say(stack, sender, "no, keep my answers")
    assert message("utter_intake_kept") in reply and question("phq9_q3") in reply
    reply = say(stack, sender, "start over")
    reply = say(stack, sender, "Yes, clear my answers")
    assert message("utter_intake_cleared") in reply and question("phq9_q1") in reply
    assert get_intake(stack, sender).json()["phq9_items"] == [None] * 9


def pause_then_resume(stack: Stack) -> Iterator[None]:
    """Pause (and just leave) mid-PHQ-9, then resume; yields where the Rasa server restarts.

    The shared stack restarts once for every scenario that needs a restart
    (``restarted_stack`` in tests/integration/conftest.py).
    """
    paused, left = new_sender("pause"), new_sender("left")
    for sender in (paused, left):
        start(stack, sender)
        say(stack, sender, "Several days")
        say(stack, sender, "2")
    reply = say(stack, paused, "can we stop for now")
    assert 'say "continue"' in reply
    assert get_intake(stack, paused).json()["phq9_items"][:3] == [1, 2, None]

    yield  # the Rasa server restarts here

    reply = say(stack, paused, "continue")
    assert message("utter_intake_resume") in reply and question("phq9_q3") in reply
    reply = say(stack, paused, "Not at all")
    assert question("phq9_q4") in reply
    # someone who just left, without saying "pause": a greeting picks up the same question
    reply = say(stack, left, "hello")
    assert question("phq9_q3") in reply
    assert get_intake(stack, paused).json()["phq9_items"][:3] == [1, 2, 0]


def test_pause_then_resume_after_the_rasa_server_restarts(restarted_stack: RestartedStack) -> None:
    restarted_stack.finish("pause_then_resume")
