"""What every part of the evaluation shares: the record, the knowledge, the renderer, and the flags and
unknowns found so far (the state the old single `_Evaluation` class held)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from .common import num, section
from .findings import Renderer
from .interactions import InteractionTable, Medicine
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
        interactions: Optional[InteractionTable] = None,
        taken_now: Optional[Lexicon] = None,
    ) -> None:
        self.record = record
        self.lexicon = lexicon
        # what current_medications are looked up in: the drug lexicon and other_medicines.yml
        self.taken_now = taken_now if taken_now is not None else lexicon
        self.t = treatments
        self.render = render
        self.wording = render.wording
        self.flags: Dict[str, List[Statement]] = {}
        self.unknowns: List[Statement] = []

        self.table = interactions
        self.trials_known = isinstance(record.get("trials"), list)
        self.trials = trials
        # Oldest first: by `order` where the record gives it, else in list order.
        self.ordered = sorted(
            trials, key=lambda a: (a.order if a.order is not None else a.index + 1, a.index)
        )
        counted = [a for a in self.ordered if a.counts]
        self.not_trials = [a for a in self.ordered if not a.counts]
        self.ad = [a for a in counted if a.role == "antidepressant"]
        self.aug = [a for a in counted if a.role == "augmentation"]
        self.role_unknown = [a for a in counted if a.role is None]
        # An antidepressant added on top of another (navigator.md section 10: a combination, not a
        # second monotherapy) and the monotherapies.
        self.combined = [a for a in self.ad if a.added_to]
        self.mono = [a for a in self.ad if not a.added_to]
        self.combination_tried = bool(self.aug or self.combined)
        self.failed_names = sorted({a.name for a in self.mono if a.failed_adequate})
        self.medicines: List[Medicine] = []
        self.unrecognised_medicines: List[str] = []
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

    def trial_dose_words(self, trial: TrialAssessment) -> str:
        """ "trazodone 50 mg": a medicine with its dose when known."""
        if trial.dose_mg is None:
            return trial.name
        return self.render.phrase("trial.with_dose", name=trial.name, dose=num(trial.dose_mg))

    def treatment_name(self, kind: str) -> str:
        return self.wording.treatments[kind].name
