"""Trials (navigator.md sections 2 and 10): is each medication trial adequate (or not a depression trial
at all), and what the trials together show (trd_criteria_met, one_adequate_trial, false_resistance,
intolerance_only, same_class_switching, no_augmentation, combination_tried, relapse_after_stopping,
sleep_or_pain_dose, monoamine_only), and whether a course of a non-drug treatment was a full course."""

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
SLEEP_PAIN_PURPOSES = ("sleep", "pain")
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
    purpose = trial.get("purpose")
    added_raw = trial.get("added_to")
    added_entry = lexicon.lookup(added_raw) if isinstance(added_raw, str) and added_raw.strip() else None
    added_to = (
        added_entry.generic
        if added_entry
        else (added_raw.strip() if isinstance(added_raw, str) and added_raw.strip() else None)
    )
    relapse_while = trial.get("relapse_while_taking")
    relapse_while = relapse_while if isinstance(relapse_while, bool) else None
    if relapse_while is None and outcome == "response_then_relapse" and still_taking is True:
        relapse_while = True  # still on it, so the relapse came while taking it
    order = trial.get("order") if isinstance(trial.get("order"), int) else None
    stopped = trial.get("weeks_since_stopped")
    # What the assessment says of this trial whether or not it is a depression treatment trial.
    facts: Dict[str, Any] = {
        "index": index,
        "drug": drug,
        "generic": entry.generic if entry else None,
        "recognised": entry is not None,
        "drug_class": entry.drug_class if entry else None,
        "mechanism": entry.mechanism if entry else None,
        "role_from": role_from,
        "min_dose_mg": entry.min_dose_mg if entry else None,
        "min_dose_source": entry.min_dose_source if entry else None,
        "dose_mg": dose,
        "weeks_at_dose": weeks,
        "adherence": adherence,
        "outcome": outcome,
        "still_taking": still_taking,
        "purpose": purpose,
        "added_to": added_to,
        "order": order,
        "relapse_while_taking": relapse_while,
        "weeks_since_stopped": None if still_taking is True else stopped,
        "interaction_classes": entry.interaction_classes if entry else (),
    }
    not_trial = _not_a_trial(entry, label, role if role_from == "record" else None, purpose, dose, render)
    if not_trial is not None:
        finding, sleep_or_pain, sources = not_trial
        return TrialAssessment(
            role=None if role == "other" else role,
            adequacy="not_a_trial",
            reason=render.statement(finding, extra=sources),
            failed_adequate=False,
            weeks_required=DEFAULT_ADEQUATE_WEEKS,
            sleep_or_pain=sleep_or_pain,
            **facts,
        )
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

    # A relapse after stopping (or lowering) a medicine that worked is not a failed trial (section 10).
    failed = adequacy == "adequate" and outcome in FAILED_OUTCOMES and relapse_while is not False

    def listed(items: List[Finding]) -> str:
        return "; ".join(render.text(f) for f in items)

    if adequacy == "adequate":
        assert entry is not None and entry.min_dose_mg is not None and dose is not None and weeks is not None
        if failed:
            result = Finding("trial.result.failed", {"outcome": render.label("outcome", outcome)})
        elif outcome == "response_then_relapse":
            result = Finding("trial.result.relapse_after_stopping")
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
        role=role,
        adequacy=adequacy,
        reason=render.statement(finding, extra=extra_sources),
        failed_adequate=failed,
        weeks_required=required_weeks,
        **facts,
    )


def _not_a_trial(
    entry: Optional[DrugEntry],
    label: str,
    record_role: Optional[str],
    purpose: Any,
    dose: Any,
    render: Renderer,
) -> Optional[Tuple[Finding, bool, List[str]]]:
    """(reason, taken for sleep or pain, extra sources) when this is not a depression treatment trial
    (navigator.md section 10: a drug taken for sleep or pain, or below the minimum at a dose the
    lexicon marks as a sleep or pain dose); None when it is a trial to assess."""
    if purpose in SLEEP_PAIN_PURPOSES:
        return (
            Finding(
                "trial.not_a_trial.purpose", {"label": label, "purpose": render.label("purpose", purpose)}
            ),
            True,
            [],
        )
    if purpose == "other":
        return Finding("trial.not_a_trial.other_purpose", {"label": label}), False, []
    if entry is None:
        return None
    if entry.role == "other" and record_role is None:
        return Finding("trial.not_a_trial.other_medicine", {"label": label}), False, []
    low = entry.sleep_pain_dose
    if purpose is None and low is not None and isinstance(dose, (int, float)) and 0 < dose <= low.max_mg:
        uses = " or ".join(render.label("purpose", u) for u in low.uses)
        finding = Finding(
            "trial.not_a_trial.low_dose",
            {"label": label, "dose": num(dose), "uses": uses, "min_dose": num(entry.min_dose_mg or 0)},
        )
        return finding, True, [render.phrase("trial.source.low_dose", name=entry.generic, source=low.source)]
    return None


# ------------------------------------------------------------------ what the trials together show


def trial_flags(ctx: Context, bipolar_result: str = "negative") -> None:
    say = ctx.render.say
    if not ctx.trials_known:
        ctx.unknown(say("unknown.no_trials"))
    if not ctx.others_known:
        ctx.unknown(say("unknown.no_other_treatments"))
    failed_names = ctx.failed_names
    if len(failed_names) >= 2:
        code = (
            "flag.trd_criteria_met_if_unipolar" if bipolar_result == "positive" else "flag.trd_criteria_met"
        )
        ctx.flag("trd_criteria_met", say(code, names=join(failed_names)))
    elif len(failed_names) == 1:
        ctx.flag("one_adequate_trial", say("flag.one_adequate_trial", name=failed_names[0]))

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

    low = [a for a in ctx.not_trials if a.sleep_or_pain]
    if low:
        ctx.flag(
            "sleep_or_pain_dose",
            say("flag.sleep_or_pain_dose", names=join([ctx.trial_dose_words(a) for a in low])),
        )

    added = [
        ctx.render.phrase("combination.described", name=a.name, base=a.added_to or "") for a in ctx.combined
    ]
    added += [
        ctx.render.phrase("combination.described", name=a.name, base=a.added_to)
        if a.added_to
        else ctx.render.phrase("combination.addon", name=a.name)
        for a in ctx.aug
    ]
    if ctx.combination_tried:
        ctx.flag("combination_tried", say("flag.combination_tried", tried=join(added)))

    needs = [a for a in ctx.mono if a.failed_adequate or a.outcome == "partial_response"]
    if needs and not ctx.combination_tried:
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

    relapsed = [a for a in ctx.ad if a.relapse_after_stopping]
    if relapsed:
        ctx.flag(
            "relapse_after_stopping",
            say("flag.relapse_after_stopping", names=join([a.name for a in relapsed])),
        )
    for a in ctx.ad:
        if a.outcome == "response_then_relapse" and a.relapse_while_taking is None:
            ctx.unknown(say("unknown.relapse_timing", name=a.name))


def same_class_pairs(ctx: Context) -> List[Tuple[TrialAssessment, TrialAssessment]]:
    """Later antidepressant monotherapies of the same class as an earlier one that did not end in
    remission or in side effects (oldest first: by `order`, else as listed). An antidepressant added on
    top of another is a combination, not a switch."""
    pairs = []
    for j, later in enumerate(ctx.mono):
        if later.drug_class is None:
            continue
        for earlier in ctx.mono[:j]:
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


def course(ctx: Context, kind: str, sessions: Any, completed: Any) -> Tri:
    """Whether a treatment given in sessions was a full course (navigator.md section 10: psychotherapy 8
    or more sessions, TMS 20, ECT 6, ketamine or esketamine 4; navigator_wording.yml `courses`).
    Without a session count, "completed" decides; kinds with no session figure count once listed."""
    minimum = ctx.wording.courses.get(kind)
    if isinstance(sessions, int) and not isinstance(sessions, bool) and minimum is not None:
        return sessions >= minimum
    if minimum is None:
        return True
    return completed if isinstance(completed, bool) else None


def other_course(ctx: Context, other: Mapping[str, Any]) -> Tri:
    return course(ctx, str(other.get("type")), other.get("sessions"), other.get("completed"))


def mechanisms(ctx: Context, include_unsure: bool = False) -> Dict[str, List[str]]:
    """Non-monoamine mechanism family -> what was tried as a full course (with include_unsure, also
    the courses whose length is not known)."""
    tried: Dict[str, List[str]] = {}
    for a in ctx.trials:
        if a.counts and outside_monoamines(a):
            family = "psychedelic" if a.drug_class == "psychedelic" else str(a.mechanism)
            tried.setdefault(family, []).append(a.name)
    for other in ctx.others:
        full = other_course(ctx, other)
        if full is True or (include_unsure and full is None):
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
    unsure = [ctx.treatment_name(str(o.get("type"))) for o in ctx.others if other_course(ctx, o) is None]
    if unsure:
        ctx.unknown(say("unknown.course_length", names=join(unsure)))
        return
    short = [ctx.treatment_name(str(o.get("type"))) for o in ctx.others]
    then = (Finding("monoamine.short_courses", {"names": join(short)}),) if short else ()
    ctx.flag(
        "monoamine_only",
        ctx.render.statement(Finding("flag.monoamine_only", {"classes": join(classes)}, then)),
    )


def class_label(drug_class: Optional[str]) -> str:
    return CLASS_LABELS.get(str(drug_class), str(drug_class))
