"""What every part of the evaluation shares: the record, the knowledge, the renderer, and the flags and
unknowns found so far (the state the old single `_Evaluation` class held)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from .common import section
from .findings import Renderer
from .knowledge import Treatments
from .lexicon import Lexicon
from .model import FLAG_VOCABULARY, Statement, TrialAssessment


class Context:
    def __init__(
        self,
        record: Mapping[str, Any],
        lexicon: Lexicon,
        treatments: Treatments,
        render: Renderer,
        trials: List[TrialAssessment],
    ) -> None:
        self.record = record
        self.lexicon = lexicon
        self.t = treatments
        self.render = render
        self.wording = render.wording
        self.flags: Dict[str, List[Statement]] = {}
        self.unknowns: List[Statement] = []

        self.trials_known = isinstance(record.get("trials"), list)
        self.trials = trials
        self.ad = [a for a in trials if a.role == "antidepressant"]
        self.aug = [a for a in trials if a.role == "augmentation"]
        self.role_unknown = [a for a in trials if a.role is None]
        self.therapy_known = isinstance(record.get("psychotherapy"), list)
        self.therapies: List[Mapping[str, Any]] = list(record.get("psychotherapy") or [])
        self.others_known = isinstance(record.get("other_treatments"), list)
        self.others: List[Mapping[str, Any]] = list(record.get("other_treatments") or [])
        self.cautions_in = section(record, "cautions")
        self.medical = section(record, "medical")
        self.missing_labs: List[str] = []

    def flag(self, name: str, statement: Statement) -> None:
        assert name in FLAG_VOCABULARY, name
        self.flags.setdefault(name, []).append(statement)

    def unknown(self, statement: Statement) -> None:
        self.unknowns.append(statement)

    def trial_words(self, trial: TrialAssessment) -> str:
        """ "sertraline (a full trial)": a trial in brief."""
        return self.render.phrase(
            "trial.in_brief", name=trial.name, adequacy=self.render.label("adequacy", trial.adequacy)
        )

    def treatment_name(self, kind: str) -> str:
        return self.wording.treatments[kind].name
