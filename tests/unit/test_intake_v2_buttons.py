"""The intake's buttons are sent as the person's own words, and every message passes the risk
check: none of them may read as risk, or a tap on an answer would be met with the crisis block or
"are you having thoughts of suicide?" (crying wolf at a person doing what they were asked)."""

from __future__ import annotations

import pytest

from trd.intake.questions import default_questions
from trd.safety.assessment import RiskAssessor

pytestmark = pytest.mark.slow


def test_no_button_of_the_intake_reads_as_risk() -> None:
    q = default_questions()
    used = {question.answers for question in q.questions.values() if question.answers}
    words = sorted({title for name in used for title in q.answer_sets[name]})
    words += sorted({title for message in q.buttons.values() for title in message.buttons})
    assessor = RiskAssessor.from_files()
    flagged = [(w, assessor.assess([w]).tier) for w in words if assessor.assess([w]).tier != "none"]
    assert flagged == []
