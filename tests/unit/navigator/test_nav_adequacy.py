"""Adequacy of one medication trial (navigator.md section 2): table-driven, first match wins."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from trd.navigator import ADEQUACY_VALUES, Knowledge, assess_trial

# (drug, dose mg, weeks at dose, adherence, outcome, still taking) -> adequacy, failed adequate trial
CASES = [
    # adequate: all three criteria known and met (boundaries included)
    ("sertraline", 50, 6, "most_days", "no_response", False, "adequate", True),
    ("sertraline", 200, 12, "most_days", "partial_response", True, "adequate", True),
    ("sertraline", 100, 8, "most_days", "response_then_relapse", False, "adequate", True),
    ("sertraline", 100, 8, "most_days", "remission", True, "adequate", False),
    ("sertraline", 100, 8, "most_days", None, None, "adequate", False),
    ("sertraline", 100, 8, "most_days", "too_early", True, "adequate", False),
    # stopped for side effects after it was already a full trial: adequate, but not a failure
    ("sertraline", 100, 8, "most_days", "stopped_side_effects", False, "adequate", False),
    # 1. intolerance: stopped for side effects before it was adequate
    ("sertraline", 25, 2, "most_days", "stopped_side_effects", False, "intolerance", False),
    ("escitalopram", None, None, None, "stopped_side_effects", False, "intolerance", False),
    ("sertraline", 100, 3, "most_days", "stopped_side_effects", True, "intolerance", False),
    # 2. too_early: still on it and under 6 weeks at dose (wins over a low dose: first match)
    ("sertraline", 100, 3, "most_days", None, True, "too_early", False),
    ("sertraline", 25, 3, "most_days", "no_response", True, "too_early", False),
    ("sertraline", 100, 5.9, "often_missed", None, True, "too_early", False),
    ("sertraline", 100, 3, "most_days", "too_early", None, "too_early", False),
    # stopped, or not known to be still taking and not "too early to tell": a short trial
    ("sertraline", 100, 3, "most_days", "too_early", False, "inadequate_duration", False),
    ("sertraline", 100, 3, "most_days", "no_response", None, "inadequate_duration", False),
    # 3. inadequate dose / duration / adherence, in that order
    ("sertraline", 49.9, 8, "most_days", "no_response", False, "inadequate_dose", False),
    ("sertraline", 25, 3, "often_missed", "no_response", False, "inadequate_dose", False),
    ("sertraline", 25, 8, "often_missed", "no_response", False, "inadequate_dose", False),
    ("sertraline", 100, 5.9, "most_days", "no_response", False, "inadequate_duration", False),
    ("sertraline", 100, 3, "often_missed", "no_response", False, "inadequate_duration", False),
    ("sertraline", 100, 8, "often_missed", "no_response", False, "inadequate_adherence", False),
    # a known shortfall wins over unknowns elsewhere
    ("sertraline", 25, None, None, "no_response", False, "inadequate_dose", False),
    ("sertraline", None, 2, None, "no_response", False, "inadequate_duration", False),
    ("sertraline", None, None, "often_missed", "no_response", False, "inadequate_adherence", False),
    # 4. unknown: adherence, dose or weeks not known is never read as "fine"
    ("sertraline", 100, 8, None, "no_response", False, "unknown", False),
    ("sertraline", None, 8, "most_days", "no_response", False, "unknown", False),
    ("sertraline", 100, None, "most_days", "no_response", False, "unknown", False),
    ("sertraline", None, None, None, None, None, "unknown", False),
    # an unrecognised drug has no minimum dose, so it is never adequate
    ("zapinexol", 100, 8, "most_days", "no_response", False, "unknown", False),
    ("zapinexol", 100, 2, "most_days", "no_response", False, "inadequate_duration", False),
    # no daily mg dose applies (sessions, blood levels, fixed combinations)
    ("ketamine", 50, 8, "most_days", "no_response", False, "unknown", False),
    ("esketamine", 84, 8, "most_days", "partial_response", False, "unknown", False),
    ("lithium", 900, 8, "most_days", "no_response", False, "unknown", False),
    # names resolved through the lexicon: brands, misspellings, formulations
    ("Zoloft", 50, 6, "most_days", "no_response", False, "adequate", True),
    ("trazadone", 50, 8, "most_days", "no_response", False, "not_a_trial", False),
    ("Wellbutrin XL", 150, 8, "most_days", "no_response", False, "inadequate_dose", False),
    ("Wellbutrin XL", 300, 8, "most_days", "no_response", False, "adequate", True),
    ("amitryptiline", 25, 12, "most_days", "no_response", False, "not_a_trial", False),
    ("quetiapine", 25, 20, "most_days", "no_response", False, "not_a_trial", False),
    # a course shorter than 6 weeks by design (zuranolone: 14 days)
    ("zuranolone", 50, 2, "most_days", "no_response", False, "adequate", True),
    ("zuranolone", 50, 1, "most_days", "no_response", False, "inadequate_duration", False),
    # micrograms: 25 micrograms of T3 is 0.025 mg; "25 mg" is a unit mix-up, not trusted
    ("liothyronine", 0.025, 6, "most_days", "partial_response", True, "adequate", True),
    ("liothyronine", 25, 6, "most_days", "partial_response", True, "unknown", False),
    ("T3", 0.05, 8, "most_days", "no_response", False, "adequate", True),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("drug", "dose", "weeks", "adherence", "outcome", "still_taking", "expected", "failed"), CASES
)
def test_adequacy_table(
    knowledge: Knowledge,
    drug: str,
    dose: Optional[float],
    weeks: Optional[float],
    adherence: Optional[str],
    outcome: Optional[str],
    still_taking: Optional[bool],
    expected: str,
    failed: bool,
) -> None:
    record: dict[str, Any] = {
        "drug": drug,
        "max_dose_mg": dose,
        "weeks_at_dose": weeks,
        "adherence": adherence,
        "outcome": outcome,
        "still_taking": still_taking,
    }
    result = assess_trial(0, record, knowledge.lexicon, knowledge.treatments)
    assert result.adequacy == expected
    assert result.failed_adequate is failed
    assert result.adequacy in ADEQUACY_VALUES
    assert result.reason.text and result.reason.sources


REASON_CASES = [
    (("sertraline", 25, 8, "most_days", "no_response", False), ["25 mg a day", "below", "50 mg a day"]),
    (("sertraline", 100, 4, "most_days", "no_response", False), ["4 weeks", "shorter than the 6 weeks"]),
    (("sertraline", 100, 8, "often_missed", "no_response", False), ["often missed"]),
    (("sertraline", 100, 3, "most_days", None, True), ["still being taken", "too early to judge"]),
    (
        ("sertraline", 25, 2, "most_days", "stopped_side_effects", False),
        ["side effects", "not treatment resistance"],
    ),
    (("sertraline", 100, 8, None, "no_response", False), ["whether it was taken most days is not known"]),
    (("sertraline", None, 8, "most_days", "no_response", False), ["highest daily dose is not known"]),
    (("zapinexol", 100, 8, "most_days", "no_response", False), ["'zapinexol' is not in our medicine list"]),
    (("esketamine", None, 4, "most_days", None, False), ["no single daily mg dose", "Spravato"]),
    (("liothyronine", 25, 8, "most_days", None, False), ["micrograms written as mg"]),
    (
        ("sertraline", 100, 8, "most_days", "partial_response", False),
        ["full (adequate) trial", "failed adequate"],
    ),
]


@pytest.mark.parametrize(("fields", "phrases"), REASON_CASES)
def test_adequacy_reason_in_plain_words(knowledge: Knowledge, fields: tuple, phrases: list) -> None:
    drug, dose, weeks, adherence, outcome, still_taking = fields
    record = {
        "drug": drug,
        "max_dose_mg": dose,
        "weeks_at_dose": weeks,
        "adherence": adherence,
        "outcome": outcome,
        "still_taking": still_taking,
    }
    text = assess_trial(0, record, knowledge.lexicon, knowledge.treatments).reason.text
    for phrase in phrases:
        assert phrase in text


def test_trial_source_names_the_published_minimum_dose(knowledge: Knowledge) -> None:
    record = {"drug": "Zoloft", "max_dose_mg": 50, "weeks_at_dose": 8, "adherence": "most_days"}
    result = assess_trial(0, record, knowledge.lexicon, knowledge.treatments)
    assert result.generic == "sertraline"
    assert result.min_dose_mg == 50
    assert any("FDA label (Zoloft)" in source for source in result.reason.sources)


@pytest.mark.parametrize(
    ("drug", "role", "expected_role", "role_from"),
    [
        ("aripiprazole", None, "augmentation", "lexicon"),
        ("sertraline", None, "antidepressant", "lexicon"),
        ("bupropion", "augmentation", "augmentation", "record"),
        ("quetiapine", "antidepressant", "antidepressant", "record"),
        ("zapinexol", None, None, "unknown"),
    ],
)
def test_role_comes_from_the_record_then_the_lexicon(
    knowledge: Knowledge, drug: str, role: Optional[str], expected_role: Optional[str], role_from: str
) -> None:
    result = assess_trial(0, {"drug": drug, "role": role}, knowledge.lexicon, knowledge.treatments)
    assert result.role == expected_role
    assert result.role_from == role_from
