"""Treatment questions through the real REST channel: the trained ResponseSelector, the rules
and the generated responses, as a person reads them.

* the held-out questions (tests/nlu/treatment_info_heldout.yml, never trained on) get an
  answer carrying the expected facts for at least 90% of them; the misses are printed;
* an answer comes with its source, and never with a crisis number;
* a treatment question asked in the middle of a form is answered, and the form asks its
  question again (rules in data/rules/treatment_info.yml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import eval_treatment_info as ev
from scripts import gen_treatment_info as gen
from tests.support.servers import new_sender, texts

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TARGET = 0.90


def test_heldout_questions_get_the_right_answer_with_its_facts(stack: Any) -> None:
    knowledge = gen.load_knowledge()

    def ask(text: str) -> ev.Answer:
        return ev.answer_from_messages(stack.rest(new_sender("treatment-info"), text), knowledge)

    report = ev.evaluate(ev.load_cases(), ask, knowledge)
    detail = "\n".join(m.describe() for m in report.misses)
    print(f"treatment info through REST: {report.correct}/{report.total} ({report.accuracy:.1%})\n{detail}")
    assert report.accuracy >= TARGET, f"{report.correct}/{report.total} answered right; misses:\n{detail}"


def test_an_answer_names_its_source_and_no_crisis_number(stack: Any) -> None:
    knowledge = gen.load_knowledge()
    reply = texts(stack.rest(new_sender("treatment-info"), "what's the TMS dip"))
    assert knowledge.text(knowledge.entry("tms_dip")) in reply
    assert "Source: A psychiatrist's decision-tree article on treatment-resistant depression." in reply
    for pattern in gen.CRISIS_NUMBER_PATTERNS:
        assert not pattern.search(reply)


def _first_line(text: str) -> str:
    return text.split("{")[0].strip().splitlines()[0]


def test_a_question_in_the_middle_of_a_form_is_answered_and_the_form_goes_on(stack: Any) -> None:
    path = ROOT / "data" / "knowledge" / "intake_questions.yml"
    wording = yaml.safe_load(path.read_text(encoding="utf-8"))
    q1 = _first_line(str(wording["questions"]["phq9_q1"]["text"]))
    q2 = _first_line(str(wording["questions"]["phq9_q2"]["text"]))
    knowledge = gen.load_knowledge()
    sender = new_sender("treatment-info-form")

    texts(stack.rest(sender, "hi"))
    reply = texts(stack.rest(sender, "yes, let's start"))
    assert q1 in reply, reply

    reply = texts(stack.rest(sender, "how quickly does ketamine work?"))
    assert knowledge.text(knowledge.entry("ketamine_speed")) in reply, reply  # our answer, with its source
    assert q1 in reply.split("Source:", 1)[1], reply  # then the same question again

    reply = texts(stack.rest(sender, "several days"))
    assert q2 in reply, reply  # the form goes on
