"""Treatments, cautions, questions and the measurement plan, as typed objects built from treatments.yml.

Pure: `build_treatments` receives the already-parsed YAML; the loader reads files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .lexicon import KnowledgeError, Lexicon
from .model import FLAG_VOCABULARY

LAYER_IDS: Tuple[str, ...] = ("reframe", "optimise", "mechanism", "psychotherapy", "emerging")

# Option ids the rules refer to; treatments.yml must define each of them in its layer.
REQUIRED_OPTIONS: Mapping[str, Tuple[str, ...]] = {
    "reframe": (
        "bipolar_evaluation",
        "trauma_focused_lead",
        "adhd_evaluation",
        "medical_workup",
        "sleep_study",
        "substance_review",
        "medicines_review",
    ),
    "optimise": (
        "finish_trial",
        "different_class_after_intolerance",
        "lithium",
        "t3",
        "atypical_antipsychotic",
        "antidepressant_combination",
        "psychotic_depression_medicines",
        "specialist_review",
    ),
    "mechanism": (
        "tms",
        "ketamine_esketamine",
        "ect",
        "maoi_tca",
        "catatonia_treatment",
        "specialist_referral",
    ),
    "psychotherapy": ("behavioural_activation", "cbt", "ipt", "trauma_focused", "dbt", "act"),
    "emerging": ("psilocybin", "vns", "dbs", "accelerated_tms"),
}
REQUIRED_CAUTIONS: Tuple[str, ...] = (
    "ketamine_caution",
    "t3_caution",
    "pregnancy_caution",
    "daily_visits_caution",
    "bipolar_caution",
    "older_adult_caution",
    "young_adult_caution",
)
REQUIRED_SOURCES: Tuple[str, ...] = (
    "seed_000",
    "seed_001",
    "seed_003",
    "navigator_design",
    "phq9",
    "pc_ptsd5",
)


@dataclass(frozen=True)
class Option:
    id: str
    layer: str
    name: str
    text: str
    trade_offs: Tuple[str, ...]
    sources: Tuple[str, ...]
    limited_access: bool = False
    figures: Mapping[str, str] = field(default_factory=dict)
    interaction_classes: Tuple[str, ...] = ()  # interactions.yml groups the option would add
    when: Optional[str] = None  # shown only when this flag is raised


@dataclass(frozen=True)
class LayerInfo:
    id: str
    title: str
    summary: str
    sources: Tuple[str, ...]
    options: Tuple[Option, ...]

    def option(self, option_id: str) -> Option:
        for opt in self.options:
            if opt.id == option_id:
                return opt
        raise KeyError(option_id)


@dataclass(frozen=True)
class CautionInfo:
    id: str
    flag: Optional[str]
    applies_to: Tuple[str, ...]
    text: str
    sources: Tuple[str, ...]


@dataclass(frozen=True)
class TextWithSources:
    text: str
    sources: Tuple[str, ...]


@dataclass(frozen=True)
class DecisionPoint:
    week: int
    text: str


@dataclass(frozen=True)
class MeasurementInfo:
    measure: str
    frequency: str
    measure_text: str
    decision_points: Tuple[DecisionPoint, ...]
    response: str
    remission: str
    backup_plan: str
    tracking_areas: Tuple[str, ...]
    safety_text: str
    sources: Tuple[str, ...]
    severity_bands: Tuple[Tuple[int, int, str], ...]

    def severity(self, total: int) -> str:
        for low, high, label in self.severity_bands:
            if low <= total <= high:
                return label
        return "unknown"


@dataclass(frozen=True)
class Treatments:
    sources: Mapping[str, str]
    disclaimer: str
    layers: Mapping[str, LayerInfo]
    cautions: Mapping[str, CautionInfo]
    base_questions: Tuple[TextWithSources, ...]
    layers_question: TextWithSources
    finding_questions: Mapping[str, TextWithSources]
    measurement: MeasurementInfo
    phq9_items: Tuple[str, ...]

    def option(self, option_id: str) -> Option:
        for layer in self.layers.values():
            for opt in layer.options:
                if opt.id == option_id:
                    return opt
        raise KeyError(option_id)

    def cite(self, source_ids: Sequence[str]) -> Tuple[str, ...]:
        """Citation strings for source ids (ids are checked when the file is loaded)."""
        return tuple(self.sources[s] for s in source_ids)


@dataclass(frozen=True)
class Knowledge:
    """Everything the navigator needs besides the record: lexicon, treatments and the intake validator."""

    lexicon: Lexicon
    treatments: Treatments
    validator: Any  # validation.IntakeValidator (kept Any to avoid an import cycle)
    wording: Any = None  # findings.Wording (navigator_wording.yml); None: the repository's file
    interactions: Any = None  # interactions.InteractionTable (interactions.yml); None: the repository's file


# ------------------------------------------------------------------ building


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(f"treatments.yml: {where}: must be non-empty text")
    return " ".join(value.split())


def _texts(value: Any, where: str) -> Tuple[str, ...]:
    if not isinstance(value, list):
        raise KnowledgeError(f"treatments.yml: {where}: must be a list")
    return tuple(_text(v, f"{where}[{i}]") for i, v in enumerate(value))


def _source_ids(value: Any, where: str, known: Mapping[str, str]) -> Tuple[str, ...]:
    ids = _texts(value, where)
    if not ids:
        raise KnowledgeError(f"treatments.yml: {where}: needs at least one source")
    for source_id in ids:
        if source_id not in known:
            raise KnowledgeError(f"treatments.yml: {where}: unknown source id {source_id!r}")
    return ids


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise KnowledgeError(f"treatments.yml: {where}: must be a mapping")
    return value


def _with_sources(raw: Any, where: str, sources: Mapping[str, str]) -> TextWithSources:
    raw = _mapping(raw, where)
    return TextWithSources(
        _text(raw.get("text"), f"{where}.text"), _source_ids(raw.get("sources"), f"{where}.sources", sources)
    )


def _build_option(raw: Any, layer_id: str, where: str, sources: Mapping[str, str]) -> Option:
    raw = _mapping(raw, where)
    figures = raw.get("figures") or {}
    if not isinstance(figures, Mapping) or not all(isinstance(v, str) for v in figures.values()):
        raise KnowledgeError(f"treatments.yml: {where}.figures: must map names to text")
    limited = raw.get("limited_access", False)
    if not isinstance(limited, bool):
        raise KnowledgeError(f"treatments.yml: {where}.limited_access: must be true or false")
    when = raw.get("when")
    if when is not None and when not in FLAG_VOCABULARY:
        raise KnowledgeError(f"treatments.yml: {where}.when: {when!r} is not a flag")
    groups = raw.get("interaction_classes", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise KnowledgeError(f"treatments.yml: {where}.interaction_classes: must be a list of group names")
    return Option(
        id=_text(raw.get("id"), f"{where}.id"),
        layer=layer_id,
        name=_text(raw.get("name"), f"{where}.name"),
        text=_text(raw.get("text"), f"{where}.text"),
        trade_offs=_texts(raw.get("trade_offs", []), f"{where}.trade_offs"),
        sources=_source_ids(raw.get("sources"), f"{where}.sources", sources),
        limited_access=limited,
        figures=dict(figures),
        interaction_classes=tuple(groups),
        when=when,
    )


def build_treatments(data: Any) -> Treatments:
    """Build `Treatments` from the parsed contents of treatments.yml; raises KnowledgeError when malformed."""
    data = _mapping(data, "(top level)")
    raw_sources = _mapping(data.get("sources"), "sources")
    sources: Dict[str, str] = {str(k): _text(v, f"sources.{k}") for k, v in raw_sources.items()}
    for required in REQUIRED_SOURCES:
        if required not in sources:
            raise KnowledgeError(f"treatments.yml: sources: missing {required!r}")

    raw_layers = data.get("layers")
    if not isinstance(raw_layers, list):
        raise KnowledgeError("treatments.yml: layers: must be a list")
    layers: Dict[str, LayerInfo] = {}
    for i, raw in enumerate(raw_layers):
        where = f"layers[{i}]"
        raw = _mapping(raw, where)
        layer_id = _text(raw.get("id"), f"{where}.id")
        if layer_id not in LAYER_IDS or layer_id in layers:
            raise KnowledgeError(f"treatments.yml: {where}: layer id {layer_id!r} unknown or repeated")
        raw_options = raw.get("options")
        if not isinstance(raw_options, list):
            raise KnowledgeError(f"treatments.yml: {where}.options: must be a list")
        options = tuple(
            _build_option(o, layer_id, f"{where}.options[{j}]", sources) for j, o in enumerate(raw_options)
        )
        layers[layer_id] = LayerInfo(
            id=layer_id,
            title=_text(raw.get("title"), f"{where}.title"),
            summary=_text(raw.get("summary"), f"{where}.summary"),
            sources=_source_ids(raw.get("sources"), f"{where}.sources", sources),
            options=options,
        )
    all_option_ids: List[str] = []
    for layer_id in LAYER_IDS:
        if layer_id not in layers:
            raise KnowledgeError(f"treatments.yml: layers: missing layer {layer_id!r}")
        ids = [o.id for o in layers[layer_id].options]
        all_option_ids.extend(ids)
        for required in REQUIRED_OPTIONS[layer_id]:
            if required not in ids:
                raise KnowledgeError(f"treatments.yml: layer {layer_id!r}: missing option {required!r}")
    if len(set(all_option_ids)) != len(all_option_ids):
        raise KnowledgeError("treatments.yml: option ids must be unique across layers")

    raw_cautions = data.get("cautions")
    if not isinstance(raw_cautions, list):
        raise KnowledgeError("treatments.yml: cautions: must be a list")
    cautions: Dict[str, CautionInfo] = {}
    for i, raw in enumerate(raw_cautions):
        where = f"cautions[{i}]"
        raw = _mapping(raw, where)
        caution_id = _text(raw.get("id"), f"{where}.id")
        applies_to = _texts(raw.get("applies_to"), f"{where}.applies_to")
        for option_id in applies_to:
            if option_id not in all_option_ids:
                raise KnowledgeError(f"treatments.yml: {where}.applies_to: unknown option {option_id!r}")
        flag = raw.get("flag")
        cautions[caution_id] = CautionInfo(
            id=caution_id,
            flag=None if flag is None else _text(flag, f"{where}.flag"),
            applies_to=applies_to,
            text=_text(raw.get("text"), f"{where}.text"),
            sources=_source_ids(raw.get("sources"), f"{where}.sources", sources),
        )
    for required in REQUIRED_CAUTIONS:
        if required not in cautions:
            raise KnowledgeError(f"treatments.yml: cautions: missing {required!r}")

    questions = _mapping(data.get("questions"), "questions")
    base_raw = questions.get("base")
    if not isinstance(base_raw, list) or len(base_raw) < 5:
        raise KnowledgeError("treatments.yml: questions.base: needs the five appointment questions")
    base = tuple(_with_sources(q, f"questions.base[{i}]", sources) for i, q in enumerate(base_raw))
    by_finding_raw = _mapping(questions.get("by_finding", {}), "questions.by_finding")
    by_finding = {
        str(k): _with_sources(v, f"questions.by_finding.{k}", sources) for k, v in by_finding_raw.items()
    }

    m = _mapping(data.get("measurement"), "measurement")
    points_raw = m.get("decision_points")
    if not isinstance(points_raw, list) or not points_raw:
        raise KnowledgeError("treatments.yml: measurement.decision_points: must be a non-empty list")
    points = []
    for i, p in enumerate(points_raw):
        p = _mapping(p, f"measurement.decision_points[{i}]")
        week = p.get("week")
        if not isinstance(week, int) or isinstance(week, bool) or week <= 0:
            raise KnowledgeError(f"treatments.yml: measurement.decision_points[{i}].week: positive integer")
        points.append(DecisionPoint(week, _text(p.get("text"), f"measurement.decision_points[{i}].text")))
    bands_raw = m.get("severity_bands")
    if not isinstance(bands_raw, list) or not bands_raw:
        raise KnowledgeError("treatments.yml: measurement.severity_bands: must be a non-empty list")
    bands = []
    for i, b in enumerate(bands_raw):
        b = _mapping(b, f"measurement.severity_bands[{i}]")
        low, high = b.get("min"), b.get("max")
        if not isinstance(low, int) or not isinstance(high, int) or low > high:
            raise KnowledgeError(f"treatments.yml: measurement.severity_bands[{i}]: min/max integers")
        bands.append((low, high, _text(b.get("label"), f"measurement.severity_bands[{i}].label")))
    measurement = MeasurementInfo(
        measure=_text(m.get("measure"), "measurement.measure"),
        frequency=_text(m.get("frequency"), "measurement.frequency"),
        measure_text=_text(m.get("measure_text"), "measurement.measure_text"),
        decision_points=tuple(points),
        response=_text(m.get("response"), "measurement.response"),
        remission=_text(m.get("remission"), "measurement.remission"),
        backup_plan=_text(m.get("backup_plan"), "measurement.backup_plan"),
        tracking_areas=_texts(m.get("tracking_areas"), "measurement.tracking_areas"),
        safety_text=_text(m.get("safety_text"), "measurement.safety_text"),
        sources=_source_ids(m.get("sources"), "measurement.sources", sources),
        severity_bands=tuple(bands),
    )

    phq9_items = _texts(data.get("phq9_items"), "phq9_items")
    if len(phq9_items) != 9:
        raise KnowledgeError("treatments.yml: phq9_items: needs exactly nine items")

    return Treatments(
        sources=sources,
        disclaimer=_text(data.get("disclaimer"), "disclaimer"),
        layers=layers,
        cautions=cautions,
        base_questions=base,
        layers_question=_with_sources(questions.get("layers_question"), "questions.layers_question", sources),
        finding_questions=by_finding,
        measurement=measurement,
        phq9_items=phq9_items,
    )
