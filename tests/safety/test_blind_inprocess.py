"""Blind rounds 1 to 4, 6 and 7 read in-process, turn by turn as the running assistant reads them.

tests/safety/test_blind_served.py sends round 5 through the running assistant; sending them all
put CI over its 20 minutes. Here the others are read by
scripts/eval_risk.py: the lexicon, the detector and the recent turns together
(trd/safety/assessment.py), and in conversations the possible-risk question and the reading of
the answer to it, as the safety policy does. On rounds 1, 2, 3 and 5 this reading gives the
running assistant's figures but one: the trained classifier (which the in-process reading
leaves out) asked one more of round 1's possible-risk messages at stop 20. The figures are held where they
were measured at stop 20, and at stop 21 for the possible-risk messages (FLOORS), so a change
that makes them worse fails; they are not yet the issue's targets (README, "Three answers").
Rounds 3 and 6 assert every at-risk conversation answered, the issue's target. Round 6 was
written at stop 21 and read once, at its end, after that stop's changes (through the running
assistant as well: the same figures); its floors are that reading. Round 7 was written at the
start of stop 22 (the writer saw none of that stop's changes) and read once, in-process and
through the running assistant (the same figures), after the stop's changes; its floors are that
reading, and every at-risk conversation of it is answered (held at 0 missed, the default).
"""

from __future__ import annotations

from typing import Dict

import pytest

from scripts.eval_risk import conversation, conversations, messages, primed, shown
from tests.safety.test_blind_served import Floors, report_and_hold, tabulate
from tests.support.safety_report import SafetyResults
from trd.safety.assessment import RiskAssessor
from trd.safety.risk_check import load_answer_phrases

pytestmark = pytest.mark.slow

FLOORS: Dict[str, Floors] = {
    "blind": Floors(clear_missed=2, possible_missed=1, worst_kind=0.089, lookalikes=0.025,
                    safe_questions=0.022, lonely_blocked=4, others_blocked=6),
    "blind2": Floors(clear_missed=2, possible_missed=1, worst_kind=0.167, lookalikes=0.059,
                     safe_questions=0.025, lonely_blocked=1, others_blocked=3),
    # served at stop 20 with the same figures (README)
    "blind3": Floors(clear_missed=4, possible_missed=1, worst_kind=0.05, lookalikes=0.015,
                     safe_questions=0.009, lonely_blocked=2, others_blocked=4),
    # round 6: stop 21's, read once at its end (in-process and served alike: worst kind 0.35,
    # look-alikes 0.072), then again after the last change of that stop, chosen on validation;
    # the look-alike floors of every round tightened after stop 22's lexicon changes
    "blind6": Floors(clear_missed=2, possible_missed=2, worst_kind=0.2, lookalikes=0.04,
                     safe_questions=0.019, lonely_blocked=1, others_blocked=3),
    # round 7: stop 22's, read once after that stop's changes (in-process and served alike)
    "blind7": Floors(clear_missed=2, possible_missed=3, worst_kind=0.264, lookalikes=0.054,
                     safe_questions=0.041, lonely_blocked=2, others_blocked=1),
    "blind4": Floors(clear_missed=2, possible_missed=0, worst_kind=0.167, lookalikes=0.028,
                     safe_questions=0.021, lonely_blocked=2, others_blocked=3),
}


@pytest.fixture(scope="module")
def assessor() -> RiskAssessor:
    return RiskAssessor.from_files()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("folder", sorted(FLOORS))
def test_the_blind_sets_read_as_the_assistant_reads_them(assessor: RiskAssessor, folder: str) -> None:
    # its own record, not the session's safety table (the shared fixture would tie this test to
    # the worker that runs the shared Rasa server, and it needs none)
    safety_results = SafetyResults()
    answers = load_answer_phrases()
    crisis, lookalikes = [], []
    with primed(assessor, folder):
        for text, tier, category in messages(folder):
            seen = shown(assessor.assess([text]).tier)
            if tier == "none":
                lookalikes.append(({"category": category}, seen))
            else:
                crisis.append(({"tier": tier, "category": category}, seen))
        convs = [(c, conversation(assessor, answers, c["turns"])) for c in conversations(folder)]
    lines, got = tabulate(folder, safety_results, crisis, lookalikes, convs)
    report_and_hold(f"blind_inprocess_{folder}.txt", folder, lines, got, FLOORS[folder])
