"""Issue 11's opening list, case by case (navigator.md section 10): each read as a psychiatrist would.

Every test here failed on the main branch before version 2 (see the commit that added it).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict

Run = Callable[[Dict[str, Any]], Dict[str, Any]]


def trial(drug: str, dose: Any, weeks: Any, outcome: Any, **extra: Any) -> Dict[str, Any]:
    return {
        "drug": drug,
        "max_dose_mg": dose,
        "weeks_at_dose": weeks,
        "adherence": "most_days",
        "outcome": outcome,
        "still_taking": False,
        **extra,
    }


def layer(result: Dict[str, Any], layer_id: str) -> Dict[str, Any]:
    return next(item for item in result["layers"] if item["id"] == layer_id)


def option(result: Dict[str, Any], layer_id: str, option_id: str) -> Dict[str, Any]:
    return next(o for o in layer(result, layer_id)["option_details"] if o["id"] == option_id)


def test_one_trial_stopped_in_week_two_does_not_open_tms_ketamine_or_ect(run: Run) -> None:
    result = run(
        {
            "phq9": [2, 2, 2, 1, 1, 1, 1, 1, 0],
            "trials": [trial("sertraline", 50, 2, "stopped_side_effects")],
            "other_treatments": [],
            "function_impaired": False,
        }
    )
    mechanism = layer(result, "mechanism")
    assert mechanism["status"] == "not_yet"
    assert mechanism["reasons"][0].startswith("Not yet: no antidepressant has failed as a full trial yet.")
    assert "trd_criteria_met" not in result["flags"] and "one_adequate_trial" not in result["flags"]
    assert not any("TMS, ketamine/esketamine or ECT, fit me" in q for q in result["questions"])


def test_phenelzine_with_tramadol_and_the_options_that_would_form_a_pair(run: Run) -> None:
    result = run(
        {
            "current_medications": [{"drug": "Nardil", "dose_mg": 60}, {"drug": "tramadol", "dose_mg": 200}],
            "trials": [
                trial("sertraline", 150, 10, "no_response"),
                trial("venlafaxine", 225, 10, "no_response"),
            ],
        }
    )
    assert "interaction_caution" in result["flags"]
    assert [(i["a"], i["b"], i["strength"]) for i in result["interactions"]] == [
        ("phenelzine", "tramadol", "contraindicated")
    ]
    assert (
        "phenelzine + tramadol (not to be taken together:" in result["flag_reasons"]["interaction_caution"][0]
    )
    # "an SSRI with bupropion" and esketamine would each form a pair with phenelzine
    combination = option(result, "optimise", "antidepressant_combination")["interactions"]
    assert any(c.startswith("An SSRI would interact with phenelzine") for c in combination)
    assert any(c.startswith("Bupropion would interact with phenelzine") for c in combination)
    ketamine = option(result, "mechanism", "ketamine_esketamine")["interactions"]
    assert ketamine == [
        "Ketamine or esketamine would interact with phenelzine (taken now or recently): both raise blood "
        "pressure: blood pressure needs close monitoring during sessions (avoid, or only with close "
        "monitoring)."
    ]
    assert any("tramadol" in q and "phenelzine" in q for q in result["questions"])


def test_trazodone_50_and_quetiapine_25_are_not_trials(run: Run) -> None:
    result = run(
        {
            "trials": [
                trial("sertraline", 150, 10, "partial_response", still_taking=True),
                trial("trazodone", 50, 20, "no_response", still_taking=True),
                trial("quetiapine", 25, 20, "no_response", still_taking=True),
            ]
        }
    )
    assert [t["adequacy"] for t in result["trials"]] == ["adequate", "not_a_trial", "not_a_trial"]
    assert "false_resistance" not in result["flags"]
    # quetiapine 25 mg does not hide the missing augmentation
    assert "no_augmentation" in result["flags"] and "combination_tried" not in result["flags"]
    assert "sleep_or_pain_dose" in result["flags"]
    assert not any("Were my trials of trazodone" in q for q in result["questions"])
    assert (
        "Trazodone 50 mg and quetiapine 25 mg was taken at a dose used for sleep or pain: should it count as "
        "an antidepressant trial at all?"
    ) in result["questions"]


def test_an_ssri_plus_bupropion_is_a_combination(run: Run) -> None:
    result = run(
        {
            "trials": [
                trial("sertraline", 150, 12, "partial_response", still_taking=True, order=1),
                trial("bupropion", 300, 10, "no_response", still_taking=True, order=2, added_to="Zoloft"),
            ]
        }
    )
    assert "combination_tried" in result["flags"] and "no_augmentation" not in result["flags"]
    assert "bupropion added to sertraline" in result["flag_reasons"]["combination_tried"][0]
    assert "trd_criteria_met" not in result["flags"]  # not two separate monotherapies
    assert option(result, "optimise", "antidepressant_combination")["tried"] == "bupropion (a full trial)"


def test_item_9_alone_at_a_phq9_of_7_is_a_safety_check_and_never_you_said(run: Run) -> None:
    result = run({"phq9": [1, 1, 1, 1, 1, 0, 0, 1, 1], "suicidal_thoughts_now": True})
    assert "safety_check" in result["flags"] and "urgent" not in result["flags"]
    assert result["urgency"]["show_crisis_resources"] is True
    assert result["urgency"]["clinician_lines"] == ["PHQ-9 item 9 scored 1"]
    text = json.dumps(result)
    assert "You said" not in text and "you said" not in text
    assert not any("ECT or ketamine/esketamine be considered sooner" in q for q in result["questions"])
    assert result["questions"][0].startswith("Can we talk about the thoughts of death I noted")


def test_one_adequate_trial_is_said_plainly(run: Run) -> None:
    result = run({"trials": [trial("escitalopram", 20, 10, "no_response")], "other_treatments": []})
    assert result["flag_reasons"]["one_adequate_trial"] == [
        "One full antidepressant trial so far (escitalopram) without remission: not treatment-resistant "
        "depression by the usual definition yet (that means two)."
    ]


def test_a_relapse_after_stopping_is_not_a_failed_trial(run: Run) -> None:
    result = run(
        {
            "trials": [
                trial("sertraline", 150, 30, "response_then_relapse", relapse_while_taking=False),
                trial("venlafaxine", 225, 10, "no_response"),
            ]
        }
    )
    assert "trd_criteria_met" not in result["flags"]
    assert {"relapse_after_stopping", "one_adequate_trial"} <= set(result["flags"])
    assert any(q.startswith("Sertraline helped before") for q in result["questions"])


def test_two_sessions_of_cbt_do_not_work_through_psychotherapy(run: Run) -> None:
    result = run(
        {"psychotherapy": [{"type": "cbt", "sessions": 2, "completed": True}], "trauma": {"exposure": False}}
    )
    psychotherapy = layer(result, "psychotherapy")
    assert psychotherapy["status"] == "partly"
    assert (
        "So far a short course (2 sessions of CBT); 8 or more sessions count as a course."
        in (psychotherapy["reasons"])
    )


def test_an_opioid_painkiller_from_other_medicines_with_a_benzodiazepine_is_named(run: Run) -> None:
    """Medicines that are not depression treatments (other_medicines.yml: Norco, oxycodone...) are
    looked up for the interactions too, not only read by the intake: with a benzodiazepine the
    pair is named (FDA boxed warning)."""
    result = run(
        {
            "current_medications": [{"drug": "Norco", "dose_mg": 10}, {"drug": "lorazepam", "dose_mg": 1}],
            "trials": [trial("sertraline", 150, 10, "no_response")],
        }
    )
    assert "interaction_caution" in result["flags"]
    assert [(i["a"], i["b"]) for i in result["interactions"]] == [("hydrocodone", "lorazepam")]
    shown = {m["drug"]: m["recognised"] for m in result["current_medications"]}
    assert shown == {"Norco": True, "lorazepam": True}


def test_every_interaction_class_of_other_medicines_is_a_group_of_the_table() -> None:
    from trd.navigator.loader import default_interactions, load_lexicon, load_taken_now

    table = default_interactions()
    groups = set(table.groups)
    lexicon = load_lexicon()
    drug_names = {e.generic for e in lexicon.entries}
    extra = [e for e in load_taken_now(lexicon).entries if e.generic not in drug_names]
    assert extra, "other_medicines.yml adds medicines"
    for entry in extra:
        for group in entry.interaction_classes:
            assert group in groups, (entry.generic, group)
