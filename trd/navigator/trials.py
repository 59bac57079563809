"""Trials (navigator.md section 2): is each medication trial adequate, and what the trials together show
(trd_criteria_met, false_resistance, intolerance_only, same_class_switching, no_augmentation,
monoamine_only)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from .common import Tri, join, num
from .context import Context
from .findings import Finding, Renderer
from .lexicon import CLASS_LABELS, DrugEntry, Lexicon
from .model import TrialAssessment

DEFAULT_ADEQUATE_WEEKS = 6.0
FAILED_OUTCOMES = frozenset({"no_response", "partial_response", "response_then_relapse"})
FALSE_RESISTANCE_ADEQUACY = frozenset(
    {"too_early", "inadequate_dose", "inadequate_duration", "inadequate_adherence"}
)
NON_MONOAMINE_MECHANISMS = ("glutamate", "gaba")
RESULT_CODE = {
    "remission": "trial.result.remission",
    "stopped_side_effects": "trial.result.stopped_side_effects",
    "too_early": "trial.result.too_early",
}


def assess_trial(index: int, trial: Mapping[str, Any], lexicon: Lexicon, render: Renderer) -> TrialAssessment:
    """Classify one medication trial: adequate / intolerance / too_early / inadequate_* / unknown."""
    drug = str(trial.get("drug", ""))
    entry: Optional[DrugEntry] = lexicon.lookup(drug) if drug.strip() else None
    name = entry.generic if entry else (drug.strip() or render.phrase("trial.unnamed"))
    label = name[:1].upper() + name[1:]

    record_role = trial.get("role")
    if record_role in ("antidepressant", "augmentation"):
        role: Optional[str] = record_role
        role_from = "record"
    elif entry is not None:
        role, role_from = entry.role, "lexicon"
    else:
        role, role_from = None, "unknown"

    dose = trial.get("max_dose_mg")
    weeks = trial.get("weeks_at_dose")
    adherence = trial.get("adherence")
    outcome = trial.get("outcome")
    still_taking = trial.get("still_taking") if isinstance(trial.get("still_taking"), bool) else None
    required_weeks = entry.adequate_weeks if entry and entry.adequate_weeks else DEFAULT_ADEQUATE_WEEKS
    extra_sources: List[str] = []
    if entry and entry.min_dose_source:
        extra_sources.append(
            render.phrase("trial.source.min_dose", name=entry.generic, source=entry.min_dose_source)
        )
    if entry and entry.adequate_weeks_source:
        extra_sources.append(
            render.phrase("trial.source.weeks", name=entry.generic, source=entry.adequate_weeks_source)
        )

    shortfalls: List[Finding] = []
    unknowns: List[Finding] = []

    dose_ok: Tri = None
    if entry is None:
        if drug.strip():
            unknowns.append(Finding("trial.unknown.not_listed", {"drug": drug.strip()}))
        else:
            unknowns.append(Finding("trial.unknown.name_missing"))
    elif entry.min_dose_mg is None:
        unknowns.append(Finding("trial.unknown.no_mg_dose", {"name": name, "note": entry.note}))
    elif dose is None:
        unknowns.append(Finding("trial.unknown.dose"))
    elif entry.max_plausible_mg is not None and dose > entry.max_plausible_mg:
        unknowns.append(Finding("trial.unknown.dose_implausible", {"dose": num(dose)}))
    else:
        dose_ok = dose >= entry.min_dose_mg
        if not dose_ok:
            shortfalls.append(
                Finding("trial.shortfall.dose", {"dose": num(dose), "min_dose": num(entry.min_dose_mg)})
            )

    weeks_ok: Tri = None
    if weeks is None:
        unknowns.append(Finding("trial.unknown.weeks"))
    else:
        weeks_ok = weeks >= required_weeks
        if not weeks_ok:
            shortfalls.append(
                Finding("trial.shortfall.weeks", {"weeks": num(weeks), "required_weeks": num(required_weeks)})
            )

    adherence_ok: Tri = {"most_days": True, "often_missed": False}.get(adherence) if adherence else None
    if adherence is None:
        unknowns.append(Finding("trial.unknown.adherence"))
    elif adherence_ok is False:
        shortfalls.append(Finding("trial.shortfall.adherence"))

    if dose_ok is True and weeks_ok is True and adherence_ok is True:
        adequacy = "adequate"
    elif outcome == "stopped_side_effects":
        adequacy = "intolerance"
    elif (
        weeks is not None
        and weeks < required_weeks
        and still_taking is not False
        and (still_taking is True or outcome == "too_early")
    ):
        adequacy = "too_early"
    elif dose_ok is False:
        adequacy = "inadequate_dose"
    elif weeks_ok is False:
        adequacy = "inadequate_duration"
    elif adherence_ok is False:
        adequacy = "inadequate_adherence"
    else:
        adequacy = "unknown"

    failed = adequacy == "adequate" and outcome in FAILED_OUTCOMES

    def listed(items: List[Finding]) -> str:
        return "; ".join(render.text(f) for f in items)

    if adequacy == "adequate":
        assert entry is not None and entry.min_dose_mg is not None and dose is not None and weeks is not None
        if failed:
            result = Finding("trial.result.failed", {"outcome": render.label("outcome", outcome)})
        else:
            result = Finding(RESULT_CODE.get(str(outcome), "trial.result.unknown"))
        finding = Finding(
            "trial.adequate",
            {"label": label, "dose": num(dose), "min_dose": num(entry.min_dose_mg), "weeks": num(weeks)},
            (result,),
        )
    elif adequacy == "intolerance":
        finding = Finding("trial.intolerance", {"label": label})
    elif adequacy == "too_early":
        assert weeks is not None
        other = [s for s in shortfalls if s.code != "trial.shortfall.weeks"]
        finding = Finding(
            "trial.too_early",
            {"label": label, "weeks": num(weeks), "required_weeks": num(required_weeks)},
            (Finding("trial.also", {"items": listed(other)}),) if other else (),
        )
    elif adequacy in ("inadequate_dose", "inadequate_duration", "inadequate_adherence"):
        finding = Finding(
            "trial.inadequate",
            {"label": label, "shortfalls": listed(shortfalls)},
            (Finding("trial.also_not_known", {"items": listed(unknowns)}),) if unknowns else (),
        )
    else:
        finding = Finding("trial.unknown", {"label": label, "unknowns": listed(unknowns)})

    return TrialAssessment(
        index=index,
        drug=drug,
        generic=entry.generic if entry else None,
        recognised=entry is not None,
        drug_class=entry.drug_class if entry else None,
        mechanism=entry.mechanism if entry else None,
        role=role,
        role_from=role_from,
        adequacy=adequacy,
        reason=render.statement(finding, extra=extra_sources),
        failed_adequate=failed,
        min_dose_mg=entry.min_dose_mg if entry else None,
        min_dose_source=entry.min_dose_source if entry else None,
        weeks_required=required_weeks,
        dose_mg=dose,
        weeks_at_dose=weeks,
        adherence=adherence,
        outcome=outcome,
        still_taking=still_taking,
    )


# ------------------------------------------------------------------ what the trials together show


def trial_flags(ctx: Context) -> None:
    say = ctx.render.say
    if not ctx.trials_known:
        ctx.unknown(say("unknown.no_trials"))
    if not ctx.others_known:
        ctx.unknown(say("unknown.no_other_treatments"))
    failed_names = sorted({a.name for a in ctx.ad if a.failed_adequate})
    if len(failed_names) >= 2:
        ctx.flag("trd_criteria_met", say("flag.trd_criteria_met", names=join(failed_names)))

    false_res = [a for a in ctx.ad if a.adequacy in FALSE_RESISTANCE_ADEQUACY]
    if false_res:
        ctx.flag("false_resistance", say("flag.false_resistance", names=join([a.name for a in false_res])))

    if ctx.ad and all(a.adequacy == "intolerance" for a in ctx.ad):
        ctx.flag("intolerance_only", say("flag.intolerance_only"))

    pairs = same_class_pairs(ctx)
    if pairs:
        described = "; ".join(
            ctx.render.phrase(
                "same_class.pair",
                first=first.name,
                second=second.name,
                drug_class=class_label(first.drug_class),
            )
            for first, second in pairs
        )
        ctx.flag("same_class_switching", say("flag.same_class_switching", pairs=described))

    for a in ctx.ad + ctx.aug + ctx.role_unknown:
        if a.adequacy == "unknown":
            ctx.unknown(a.reason)
    for a in ctx.role_unknown:
        ctx.unknown(say("unknown.role", name=a.name))

    needs = [a for a in ctx.ad if a.failed_adequate or a.outcome == "partial_response"]
    if needs and not ctx.aug:
        why = join(
            [
                ctx.render.phrase(
                    "trial.with_outcome", name=a.name, outcome=ctx.render.label("outcome", a.outcome)
                )
                for a in needs
            ]
        )
        if ctx.role_unknown:
            ctx.unknown(say("unknown.augmentation", why=why))
        else:
            ctx.flag("no_augmentation", say("flag.no_augmentation", why=why))


def same_class_pairs(ctx: Context) -> List[Tuple[TrialAssessment, TrialAssessment]]:
    """Later antidepressant trials of the same class as an earlier one that did not end in remission
    or in side effects (trials are taken in the order listed, oldest first)."""
    pairs = []
    for j, later in enumerate(ctx.ad):
        if later.drug_class is None:
            continue
        for earlier in ctx.ad[:j]:
            if (
                earlier.drug_class == later.drug_class
                and earlier.name != later.name
                and earlier.outcome not in ("stopped_side_effects", "remission")
            ):
                pairs.append((earlier, later))
                break
    return pairs


def outside_monoamines(trial: TrialAssessment) -> bool:
    return trial.mechanism in NON_MONOAMINE_MECHANISMS or trial.drug_class == "psychedelic"


def mechanisms(ctx: Context) -> Dict[str, List[str]]:
    """Non-monoamine mechanism family -> descriptions of what was tried."""
    tried: Dict[str, List[str]] = {}
    for a in ctx.trials:
        if outside_monoamines(a):
            family = "psychedelic" if a.drug_class == "psychedelic" else str(a.mechanism)
            tried.setdefault(family, []).append(a.name)
    for other in ctx.others:
        info = ctx.wording.treatments[str(other.get("type"))]
        tried.setdefault(info.mechanism, []).append(info.name)
    return tried


def monoamine_flag(ctx: Context) -> None:
    say = ctx.render.say
    if not ctx.ad or mechanisms(ctx):
        return
    unrecognised = [a.name for a in ctx.ad if a.mechanism is None]
    if unrecognised:
        ctx.unknown(say("unknown.mechanism_unrecognised", names=join(unrecognised)))
        return
    if not all(a.mechanism == "monoamine" for a in ctx.ad):
        return
    classes = sorted({CLASS_LABELS.get(str(a.drug_class), str(a.drug_class)) for a in ctx.ad})
    if not ctx.others_known:
        ctx.unknown(say("unknown.monoamine_others_not_asked"))
        return
    ctx.flag("monoamine_only", say("flag.monoamine_only", classes=join(classes)))


def class_label(drug_class: Optional[str]) -> str:
    return CLASS_LABELS.get(str(drug_class), str(drug_class))
