"""The navigator's result: dataclasses whose `to_dict()` gives JSON-ready data (navigator.md section 9)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

ADEQUACY_VALUES: Tuple[str, ...] = (
    "adequate",
    "intolerance",
    "too_early",
    "inadequate_dose",
    "inadequate_duration",
    "inadequate_adherence",
    "unknown",
)
FLAG_VOCABULARY: Tuple[str, ...] = (
    "trd_criteria_met",
    "false_resistance",
    "intolerance_only",
    "same_class_switching",
    "monoamine_only",
    "no_augmentation",
    "bipolar_features",
    "trauma",
    "adhd_features",
    "medical_workup_incomplete",
    "sleep_apnoea_signs",
    "substance_use",
    "no_psychotherapy",
    "no_trauma_focused_therapy",
    "urgent",
    "ketamine_caution",
    "t3_caution",
)
STATUSES: Tuple[str, ...] = ("open", "partly", "worked_through")
STATUS_RANK = {"open": 0, "partly": 1, "worked_through": 2}
SCREEN_RESULTS: Tuple[str, ...] = ("positive", "negative", "incomplete")
RESULT_VERSION = 1


@dataclass(frozen=True)
class Statement:
    """One thing the navigator says, with the citations behind it."""

    text: str
    sources: Tuple[str, ...]

    def to_dict(self) -> Dict[str, Any]:
        return {"statement": self.text, "sources": list(self.sources)}


@dataclass
class TrialAssessment:
    index: int
    drug: str
    generic: Optional[str]
    recognised: bool
    drug_class: Optional[str]
    mechanism: Optional[str]
    role: Optional[str]
    role_from: str  # "record", "lexicon" or "unknown"
    adequacy: str
    reason: Statement
    failed_adequate: bool
    min_dose_mg: Optional[float]
    min_dose_source: Optional[str]
    weeks_required: float
    dose_mg: Optional[float]
    weeks_at_dose: Optional[float]
    adherence: Optional[str]
    outcome: Optional[str]
    still_taking: Optional[bool]

    @property
    def name(self) -> str:
        return self.generic or self.drug

    def to_dict(self) -> Dict[str, Any]:
        return {
            "index": self.index,
            "drug": self.drug,
            "generic": self.generic,
            "recognised": self.recognised,
            "class": self.drug_class,
            "mechanism": self.mechanism,
            "role": self.role,
            "role_from": self.role_from,
            "adequacy": self.adequacy,
            "reason": self.reason.text,
            "failed_adequate": self.failed_adequate,
            "min_dose_mg": self.min_dose_mg,
            "min_dose_source": self.min_dose_source,
            "weeks_required": self.weeks_required,
            "dose_mg": self.dose_mg,
            "weeks_at_dose": self.weeks_at_dose,
            "adherence": self.adherence,
            "outcome": self.outcome,
            "still_taking": self.still_taking,
            "sources": list(self.reason.sources),
        }


@dataclass
class OptionResult:
    id: str
    name: str
    text: str
    trade_offs: Tuple[str, ...]
    limited_access: bool
    figures: Dict[str, str]
    sources: Tuple[str, ...]
    cautions: List[str] = field(default_factory=list)
    tried: Optional[str] = None

    def as_text(self) -> str:
        parts = [f"{self.name}: {self.text}"]
        if self.limited_access:
            parts.append("Limited access.")
        if self.tried:
            parts.append(f"Already tried: {self.tried}.")
        if self.trade_offs:
            parts.append("Trade-offs: " + " ".join(self.trade_offs))
        for caution in self.cautions:
            parts.append(f"Caution: {caution}")
        return " ".join(parts)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "text": self.text,
            "trade_offs": list(self.trade_offs),
            "limited_access": self.limited_access,
            "figures": dict(self.figures),
            "cautions": list(self.cautions),
            "tried": self.tried,
            "sources": list(self.sources),
        }


@dataclass
class LayerResult:
    id: str
    title: str
    summary: str
    status: str
    reasons: List[Statement]
    options: List[OptionResult]
    sources: Tuple[str, ...]

    def to_dict(self) -> Dict[str, Any]:
        evidence = [r.to_dict() for r in self.reasons]
        evidence += [{"statement": o.as_text(), "sources": list(o.sources)} for o in self.options]
        return {
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "status": self.status,
            "reasons": [r.text for r in self.reasons],
            "options": [o.as_text() for o in self.options],
            "option_details": [o.to_dict() for o in self.options],
            "evidence": evidence,
            "sources": list(self.sources),
        }


@dataclass
class ScreenResult:
    id: str
    result: str  # positive | negative | incomplete
    reasons: List[Statement]
    unanswered: List[str]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "result": self.result,
            "reasons": [r.text for r in self.reasons],
            "unanswered": list(self.unanswered),
            "evidence": [r.to_dict() for r in self.reasons],
        }


@dataclass
class CautionResult:
    id: str
    status: str  # present | unknown
    text: str
    applies_to: Tuple[str, ...]
    because: List[str]
    sources: Tuple[str, ...]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "text": self.text,
            "applies_to": list(self.applies_to),
            "because": list(self.because),
            "sources": list(self.sources),
        }


@dataclass
class Urgency:
    urgent: bool
    reasons: List[Statement]
    unknown: List[Statement]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "urgent": self.urgent,
            "reasons": [r.text for r in self.reasons],
            "unknown": [u.text for u in self.unknown],
            "show_crisis_resources": self.urgent,
            "evidence": [s.to_dict() for s in self.reasons + self.unknown],
        }


@dataclass
class MeasurementPlan:
    measure: str
    frequency: str
    measure_text: str
    baseline_total: Optional[int]
    baseline_severity: Optional[str]
    target_symptoms: List[str]
    target_note: str
    decision_points: List[Dict[str, Any]]
    response: str
    remission: str
    backup_plan: str
    safety: str
    sources: Tuple[str, ...]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "measure": self.measure,
            "frequency": self.frequency,
            "measure_text": self.measure_text,
            "baseline": {"phq9_total": self.baseline_total, "severity": self.baseline_severity},
            "target_symptoms": list(self.target_symptoms),
            "target_note": self.target_note,
            "decision_points": [dict(p) for p in self.decision_points],
            "response": self.response,
            "remission": self.remission,
            "backup_plan": self.backup_plan,
            "safety": self.safety,
            "sources": list(self.sources),
        }


@dataclass
class NavigatorResult:
    disclaimer: str
    flags: List[str]
    flag_reasons: Dict[str, List[Statement]]
    urgency: Urgency
    layers: List[LayerResult]
    trials: List[TrialAssessment]
    counts: Dict[str, Any]
    screens: Dict[str, ScreenResult]
    cautions: List[CautionResult]
    measurement_plan: MeasurementPlan
    questions: List[Statement]
    unknowns: List[Statement]

    def layer(self, layer_id: str) -> LayerResult:
        for layer in self.layers:
            if layer.id == layer_id:
                return layer
        raise KeyError(layer_id)

    def statements(self) -> List[Statement]:
        """Every statement the result makes, each with its sources (for the evidence list)."""
        out: List[Statement] = []
        for reasons in self.flag_reasons.values():
            out.extend(reasons)
        out.extend(self.urgency.reasons)
        out.extend(self.urgency.unknown)
        for layer in self.layers:
            out.extend(layer.reasons)
            out.extend(Statement(o.as_text(), o.sources) for o in layer.options)
        out.extend(t.reason for t in self.trials)
        for screen in self.screens.values():
            out.extend(screen.reasons)
        out.extend(Statement(c.text, c.sources) for c in self.cautions)
        plan = self.measurement_plan
        out.append(Statement(plan.measure_text, plan.sources))
        out.append(Statement(plan.backup_plan, plan.sources))
        out.extend(self.questions)
        out.extend(self.unknowns)
        seen = set()
        unique = []
        for statement in out:
            if statement.text not in seen:
                seen.add(statement.text)
                unique.append(statement)
        return unique

    def to_dict(self) -> Dict[str, Any]:
        evidence = [s.to_dict() for s in self.statements()]
        sources = sorted({src for item in evidence for src in item["sources"]})
        return {
            "version": RESULT_VERSION,
            "disclaimer": self.disclaimer,
            "flags": list(self.flags),
            "flag_reasons": {flag: [r.text for r in self.flag_reasons[flag]] for flag in self.flags},
            "urgency": self.urgency.to_dict(),
            "layers": [layer.to_dict() for layer in self.layers],
            "trials": [t.to_dict() for t in self.trials],
            "counts": dict(self.counts),
            "screens": {key: screen.to_dict() for key, screen in self.screens.items()},
            "cautions": [c.to_dict() for c in self.cautions],
            "measurement_plan": self.measurement_plan.to_dict(),
            "questions": [q.text for q in self.questions],
            "unknowns": [u.text for u in self.unknowns],
            "sources": sources,
            "evidence": evidence,
        }
