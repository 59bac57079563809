"""Plain answers (data/knowledge/plain_answers.yml): a whole reply that only answers the
question asked is not read by the risk detector alone, so a person answering "I don't know"
or "nothing else" in the intake is not met with the suicide question; what the lexicon
lists, and short replies that do say something about the person, are still read."""

from __future__ import annotations

import pytest

from trd.safety.assessment import RiskAssessor
from trd.safety.plain_answers import load_plain_answers, plain

pytestmark = pytest.mark.slow  # loads the detector


@pytest.fixture(scope="module")
def assessor() -> RiskAssessor:
    return RiskAssessor.from_files()


@pytest.mark.parametrize(
    "reply",
    ["I don't know", "nothing else", "Nothing else.", "I DON\u2019T KNOW", "not sure", "skip this part"],
)
def test_a_plain_answer_is_an_ordinary_message(assessor: RiskAssessor, reply: str) -> None:
    assert assessor.assess([reply]).tier == "none"


@pytest.mark.parametrize(
    "reply", ["no point", "want out", "I can't anymore", "I don't know why I bother anymore"]
)
def test_a_short_reply_that_says_something_is_still_read(assessor: RiskAssessor, reply: str) -> None:
    assert assessor.assess([reply]).tier != "none"


@pytest.mark.parametrize("reply", ["I want to kill myself", "kill myself", "suicide"])
def test_the_lexicon_reads_first(assessor: RiskAssessor, reply: str) -> None:
    assert assessor.assess([reply]).tier != "none"


def test_the_list_holds_no_reply_that_speaks_of_the_person(assessor: RiskAssessor) -> None:
    answers = load_plain_answers().answers
    assert plain("Don't know!") == "don't know"
    for phrase in answers:
        assert not assessor.engine.assess(phrase).is_crisis, phrase
        assert len(phrase.split()) <= 5, phrase


# Single words and emoji the detector, trained on whole sentences, once read as risk ("tonight"
# and "goodbye" got the crisis block; "night", "whatever" and an emoji the question). These
# are not lines of data/safety/risk_training/negatives_short.yml: they test what it taught.
@pytest.mark.parametrize("reply", ["night", "whatever", "meh", "sigh", "\U0001f642", "\U0001f64f"])
def test_an_ordinary_word_alone_is_an_ordinary_message(assessor: RiskAssessor, reply: str) -> None:
    assert assessor.assess([reply]).tier == "none"


@pytest.mark.parametrize("reply", ["tonight", "goodbye", "pills", "rope"])
def test_a_word_that_could_be_risk_is_asked_about_never_blocked_alone(
    assessor: RiskAssessor, reply: str
) -> None:
    assert assessor.assess([reply]).tier == "possible"


@pytest.mark.parametrize("reply", ["wanna die", "end it", "ending it tmrw", "quiero morirme"])
def test_a_short_risk_message_is_still_read(assessor: RiskAssessor, reply: str) -> None:
    assert assessor.assess([reply]).tier != "none"
