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
    "not_a_trial",
)
FLAG_VOCABULARY: Tuple[str, ...] = (
    "trd_criteria_met",
    "false_resistance",
    "intolerance_only",
    "same_class_switching",
    "monoamine_only",
    "no_augmentation",
    "combination_tried",
    "one_adequate_trial",
    "relapse_after_stopping",
    "sleep_or_pain_dose",
    "bipolar_features",
    "trauma",
    "adhd_features",
    "medical_workup_incomplete",
    "sleep_apnoea_signs",
    "substance_use",
    "no_psychotherapy",
    "no_trauma_focused_therapy",
    "urgent",
    "safety_check",
    "psychotic_features",
    "catatonia",
    "ketamine_caution",
    "t3_caution",
    "interaction_caution",
    "perinatal",
    "older_adult",
    "young_adult",
)
# not_yet (version 2): the mechanism layer while the steps before it have not been taken (section 10).
STATUSES: Tuple[str, ...] = ("open", "not_yet", "partly", "worked_through")
STATUS_RANK = {"open": 0, "not_yet": 0, "partly": 1, "worked_through": 2}
SCREEN_RESULTS: Tuple[str, ...] = ("positive", "negative", "incomplete")
RESULT_VERSION = 2


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
    purpose: Optional[str] = None
    added_to: Optional[str] = None
    order: Optional[int] = None
    relapse_while_taking: Optional[bool] = None
    weeks_since_stopped: Optional[float] = None
    interaction_classes: Tuple[str, ...] = ()
    sleep_or_pain: bool = False  # not_a_trial because taken (or dosed) for sleep or pain

    @property
    def name(self) -> str:
        return self.generic or self.drug

    @property
    def counts(self) -> bool:
        """A depression treatment trial (not a medicine taken for sleep, pain or something else)."""
        return self.adequacy != "not_a_trial"

    @property
    def relapse_after_stopping(self) -> bool:
        return self.outcome == "response_then_relapse" and self.relapse_while_taking is False

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
            "purpose": self.purpose,
            "added_to": self.added_to,
            "order": self.order,
            "relapse_while_taking": self.relapse_while_taking,
            "weeks_since_stopped": self.weeks_since_stopped,
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
    # section 10: an option that would form an interaction pair with what the person takes names it
    interactions: List[str] = field(default_factory=list)

    def as_text(self) -> str:
        parts = [f"{self.name}: {self.text}"]
        if self.limited_access:
            parts.append("Limited access.")
        if self.tried:
            parts.append(f"Already tried: {self.tried}.")
        if self.trade_offs:
            parts.append("Trade-offs: " + " ".join(self.trade_offs))
        for caution in self.cautions + self.interactions:
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
            "interactions": list(self.interactions),
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
    """Urgency (ECT and ketamine move up) and, separately, the safety check (navigator.md section 10:
    safety is not urgency). `safety_reasons` are patient-facing; `clinician_lines` are the clinician
    page's own words ("PHQ-9 item 9 scored 2")."""

    urgent: bool
    reasons: List[Statement]
    unknown: List[Statement]
    safety_check: bool = False
    safety_reasons: List[Statement] = field(default_factory=list)
    clinician_lines: List[str] = field(default_factory=list)
    risk_history: List[Statement] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "urgent": self.urgent,
            "reasons": [r.text for r in self.reasons],
            "unknown": [u.text for u in self.unknown],
            "safety_check": self.safety_check,
            "safety_reasons": [r.text for r in self.safety_reasons],
            "clinician_lines": list(self.clinician_lines),
            "risk_history": [r.text for r in self.risk_history],
            "show_crisis_resources": self.urgent or self.safety_check,
            "evidence": [
                s.to_dict() for s in self.reasons + self.safety_reasons + self.risk_history + self.unknown
            ],
        }


@dataclass
class StagingPart:
    id: str
    min: int
    max: int
    reason: Statement

    def to_dict(self) -> Dict[str, Any]:
        return {"min": self.min, "max": self.max, "reason": self.reason.text}


@dataclass
class Staging:
    """The Maudsley Staging Method and the Thase-Rush stage, approximate, from self-report."""

    total_min: int
    total_max: int
    band: str
    band_min: str
    band_max: str
    parts: List[StagingPart]
    thase_rush: str
    thase_rush_max: str
    thase_rush_reason: Statement
    summary: Statement
    note: Statement

    def statements(self) -> List[Statement]:
        return [self.summary, *(p.reason for p in self.parts), self.thase_rush_reason, self.note]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "maudsley": {
                "total_min": self.total_min,
                "total_max": self.total_max,
                "band": self.band,
                "band_min": self.band_min,
                "band_max": self.band_max,
                "parts": {p.id: p.to_dict() for p in self.parts},
            },
            "thase_rush": self.thase_rush,
            "thase_rush_max": self.thase_rush_max,
            "thase_rush_reason": self.thase_rush_reason.text,
            "summary": self.summary.text,
            "approximate": True,
            "note": self.note.text,
            "sources": sorted({s for st in self.statements() for s in st.sources}),
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
    staging: Optional[Staging] = None
    interactions: List[Any] = field(default_factory=list)  # interactions.Interaction
    current_medications: List[Dict[str, Any]] = field(default_factory=list)
    # Filled by the follow-up part (issue 12: trd/navigator/follow_up.py) when the record has
    # follow-up PHQ-9s; an object with to_dict() ({baseline, latest, change, status, ...}) or None.
    follow_up: Any = None

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
        out.extend(self.urgency.safety_reasons)
        out.extend(self.urgency.risk_history)
        if self.staging is not None:
            out.extend(self.staging.statements())
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
            "staging": self.staging.to_dict() if self.staging is not None else None,
            "interactions": [i.to_dict() for i in self.interactions],
            "current_medications": [dict(m) for m in self.current_medications],
            "follow_up": self.follow_up.to_dict() if hasattr(self.follow_up, "to_dict") else self.follow_up,
            "sources": sources,
            "evidence": evidence,
        }
