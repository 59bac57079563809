"""Reading what a person answers: the one home of answer reading (Rasa-free).

``read(kind, text) -> Answer`` reads any registered kind (:mod:`trd.answers.kinds`);
the readers live in:

* :mod:`trd.answers.numbers`: the one number grammar, and the upper-bound rule;
* :mod:`trd.answers.doses`, :mod:`trd.answers.durations`: mg/day, weeks, months;
* :mod:`trd.answers.intake`: PHQ-9, yes/no, counts, therapy, completion, treatments,
  navigation words;
* :mod:`trd.answers.outcomes`: the one outcome pattern set;
* :mod:`trd.answers.adherence`, :mod:`trd.answers.trials`: a medicine trial's answers;
* :mod:`trd.answers.medicines`: medicines named in an answer;
* :mod:`trd.answers.readback`: a trial read back in plain words;
* :mod:`trd.answers.common`: skip phrases, the skipped marker, normalising text.
"""

from trd.answers import kinds as _kinds  # noqa: F401  (registers every kind once)
from trd.answers.registry import Answer, Context, is_canonical, kind, kinds, read, register
from trd.answers.values import INVALID, UNKNOWN

__all__ = ["INVALID", "UNKNOWN", "Answer", "Context", "is_canonical", "kind", "kinds", "read", "register"]
