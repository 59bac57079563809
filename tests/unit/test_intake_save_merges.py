"""#10: an intake save never replaces known answers with unknowns; only a confirmed "start
over" replaces the record."""

from __future__ import annotations

import asyncio
from typing import Any, Dict

from trd.intake.record import build_record
from trd.intake.store import merge_known, save_record
from trd.store.repository import InMemoryRepository

ANSWERS: Dict[str, Any] = {
    "intake_started": True,
    "phq9_q1": 2,
    "phq9_q9": 1,
    "episode_months": 14,
    "previous_episodes": True,
    "bp_elevated_periods": False,
}


def _save(repo: InMemoryRepository, slots: Dict[str, Any], replace: bool = False) -> None:
    assert asyncio.run(save_record("conv-1", slots, lambda: repo, replace=replace)) is True


def test_a_save_from_empty_slots_keeps_every_known_answer() -> None:
    repo = InMemoryRepository()
    _save(repo, ANSWERS)
    before = repo.intake("conv-1")
    assert before is not None and before["episode_months"] == 14
    _save(repo, {})  # e.g. a turn that ran on a conversation that could not be read
    assert repo.intake("conv-1") == before


def test_a_changed_answer_replaces_the_old_one_and_unknowns_keep_theirs() -> None:
    repo = InMemoryRepository()
    _save(repo, ANSWERS)
    _save(repo, {**{k: None for k in ANSWERS}, "intake_started": True, "episode_months": 20})
    record = repo.intake("conv-1")
    assert record is not None
    assert record["episode_months"] == 20
    assert record["previous_episodes"] is True
    assert record["bipolar"]["elevated_periods"] is False
    assert record["phq9_items"][0] == 2 and record["phq9_items"][8] == 1
    assert record["intake"]["status"] == "in_progress"


def test_start_over_replaces_the_record() -> None:
    repo = InMemoryRepository()
    _save(repo, ANSWERS)
    _save(repo, {}, replace=True)
    assert repo.intake("conv-1") == build_record({})


def test_merge_rules() -> None:
    assert merge_known({"a": 1, "b": [1]}, {"a": None, "b": []}) == {"a": 1, "b": [1]}
    assert merge_known({"a": 1}, {"a": 2, "c": None}) == {"a": 2, "c": None}
    assert merge_known([1, None, 3], [None, 2, None]) == [1, 2, 3]
    assert merge_known([{"drug": "x"}], [{"drug": "y"}]) == [{"drug": "y"}]
    assert merge_known({"status": "complete"}, {"status": "not_started"}) == {"status": "complete"}
    assert merge_known(
        {"crisis_in_conversation": True, "risk_categories": ["plan"]},
        {"crisis_in_conversation": False, "risk_categories": ["sos"]},
    ) == {"crisis_in_conversation": True, "risk_categories": ["plan", "sos"]}


def test_a_list_of_medicines_taken_now_cleared_by_the_person_is_saved_empty() -> None:
    """'Nothing now' after a list was saved is an answer ([]), not unknown; unknown keeps the list."""
    repo = InMemoryRepository()
    lithium = {"drug": "lithium", "dose_mg": 900.0, "name_given": "lithium", "recognised": True}
    _save(repo, {**ANSWERS, "current_meds": [lithium]})
    record = repo.intake("conv-1")
    assert record is not None and [m["drug"] for m in record["current_medications"]] == ["lithium"]
    _save(repo, {**ANSWERS, "current_meds": None})  # not answered in this turn's slots: kept
    record = repo.intake("conv-1")
    assert record is not None and [m["drug"] for m in record["current_medications"]] == ["lithium"]
    _save(repo, {**ANSWERS, "current_meds": []})  # "I stopped all of them"
    record = repo.intake("conv-1")
    assert record is not None and record["current_medications"] == []
    assert record["episode_months"] == 14 and record["previous_episodes"] is True
    # the other lists keep their rule: the record builder writes [] for a list nobody was asked about
    assert merge_known({"trials": [{"drug": "x"}]}, {"trials": []}) == {"trials": [{"drug": "x"}]}
    assert merge_known({"current_medications": [{"drug": "x"}]}, {"current_medications": None}) == {
        "current_medications": [{"drug": "x"}]
    }
