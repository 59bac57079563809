"""Staging (navigator.md section 10): the Maudsley Staging Method and the Thase-Rush stage, approximate,
from self-report.

Maudsley (Fekadu et al. 2009), parts as section 10 gives them:
  duration      episode months <=12: 1, 13-24: 2, >24: 3
  severity      PHQ-9 total 0-4: 1, 5-9: 2, 10-19: 3, 20-27: 4; psychotic features: 5
  failures      failed adequate antidepressant trials 0-2: 1, 3-4: 2, 5-6: 3, 7-10: 4, >10: 5
  augmentation  augmentation or combination tried: +1
  ECT           an ECT course: +1
A part that is unknown is a range, so the total is (total_min, total_max); bands: mild 3-6,
moderate 7-10, severe 11-15.

Thase-Rush (Thase and Rush 1997): 0 no failed adequate trial; I one class failed; II two classes;
III stage II plus a failed TCA; IV stage III plus a failed MAOI; V stage IV plus an ECT course
without response. Failed trials are monotherapies (an antidepressant added on top of another is a
combination, counted in the augmentation part).
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

from .common import Tri, join
from .context import Context
from .model import Staging, StagingPart, TrialAssessment
from .trials import FAILED_OUTCOMES, class_label, other_course
from .urgency import psychotic_features

DURATION = ((12, 1), (24, 2))  # months up to -> score; beyond: 3
SEVERITY = ((4, 1), (9, 2), (19, 3), (27, 4))
PSYCHOTIC_SEVERITY = 5
FAILURES = ((2, 1), (4, 2), (6, 3), (10, 4))  # count up to -> score; beyond: 5
BANDS = ((6, "mild"), (10, "moderate"), (15, "severe"))
STAGES = ("0", "I", "II", "III", "IV", "V")


def _score(value: int, table: Sequence[Tuple[int, int]], beyond: int) -> int:
    for limit, score in table:
        if value <= limit:
            return score
    return beyond


def _band(total: int) -> str:
    for limit, band in BANDS:
        if total <= limit:
            return band
    return BANDS[-1][1]


def _maybe_failed(a: TrialAssessment) -> bool:
    """A monotherapy that may be a failed adequate trial: adequacy or outcome not known."""
    if a.failed_adequate or a.added_to or a.relapse_after_stopping:
        return False
    if a.adequacy == "unknown":
        return a.outcome is None or a.outcome in FAILED_OUTCOMES
    if a.adequacy == "adequate":
        return a.outcome is None
    return False


def _thase_rush(failed: Sequence[TrialAssessment], ect_no_response: bool) -> int:
    classes = {a.drug_class for a in failed if a.drug_class}
    if not classes:
        return 0
    stage = 1
    if len(classes) >= 2:
        stage = 2
        if "tca" in classes and len(classes) >= 3:
            stage = 3
            if "maoi" in classes and len(classes) >= 4:
                stage = 4
                if ect_no_response:
                    stage = 5
    return stage


def staging(ctx: Context) -> Staging:
    render = ctx.render
    say = render.say
    parts: List[StagingPart] = []

    months = ctx.record.get("episode_months")
    if isinstance(months, int):
        score = _score(months, DURATION, 3)
        parts.append(
            StagingPart("duration", score, score, say("staging.duration", months=months, score=score))
        )
    else:
        parts.append(StagingPart("duration", 1, 3, say("staging.duration_unknown")))

    phq9 = ctx.record.get("phq9")
    psychotic: Tri = psychotic_features(ctx)
    if psychotic is True:
        parts.append(StagingPart("severity", 5, 5, say("staging.severity_psychotic")))
    elif isinstance(phq9, list):
        total = int(sum(phq9))
        score = _score(total, SEVERITY, 4)
        if psychotic is None:
            parts.append(
                StagingPart(
                    "severity",
                    score,
                    PSYCHOTIC_SEVERITY,
                    say("staging.severity_psychosis_unknown", total=total, score=score),
                )
            )
        else:
            parts.append(
                StagingPart("severity", score, score, say("staging.severity", total=total, score=score))
            )
    else:
        top = PSYCHOTIC_SEVERITY if psychotic is None else 4
        parts.append(StagingPart("severity", 1, top, say("staging.severity_unknown")))

    failed = [a for a in ctx.mono if a.failed_adequate]
    failed_count = len(ctx.failed_names)
    maybe = sorted({a.name for a in ctx.mono if _maybe_failed(a)} - set(ctx.failed_names))
    low = _score(failed_count, FAILURES, 5)
    high = _score(failed_count + len(maybe), FAILURES, 5)
    if not ctx.trials_known:
        parts.append(StagingPart("failed_trials", 1, 5, say("staging.failures_unknown")))
    elif maybe:
        parts.append(
            StagingPart(
                "failed_trials",
                low,
                high,
                say("staging.failures_range", count=failed_count, maybe=join(maybe), low=low, high=high),
            )
        )
    else:
        parts.append(
            StagingPart("failed_trials", low, low, say("staging.failures", count=failed_count, score=low))
        )

    if ctx.combination_tried:
        parts.append(StagingPart("augmentation", 1, 1, say("staging.augmentation_yes")))
    elif not ctx.trials_known or ctx.role_unknown:
        parts.append(StagingPart("augmentation", 0, 1, say("staging.augmentation_unknown")))
    else:
        parts.append(StagingPart("augmentation", 0, 0, say("staging.augmentation_no")))

    ect = [o for o in ctx.others if o.get("type") == "ect"]
    ect_course: Tri = False
    for o in ect:
        full = other_course(ctx, o)
        if full is True:
            ect_course = True
            break
        if full is None:
            ect_course = None
    if ect_course is True:
        parts.append(StagingPart("ect", 1, 1, say("staging.ect_yes")))
    elif ect_course is None or not ctx.others_known:
        parts.append(StagingPart("ect", 0, 1, say("staging.ect_unknown")))
    else:
        parts.append(StagingPart("ect", 0, 0, say("staging.ect_no")))

    total_min = sum(p.min for p in parts)
    total_max = sum(p.max for p in parts)
    band_min, band_max = _band(total_min), _band(total_max)
    band = (
        band_min if band_min == band_max else render.phrase("staging.band_range", low=band_min, high=band_max)
    )

    ect_no_response = any(
        o.get("type") == "ect" and other_course(ctx, o) is True and o.get("outcome") in FAILED_OUTCOMES
        for o in ctx.others
    )
    stage = _thase_rush(failed, ect_no_response)
    maybe_trials = [a for a in ctx.mono if _maybe_failed(a)]
    stage_max = _thase_rush(failed + maybe_trials, ect_no_response or ect_course is None)
    classes = sorted({class_label(a.drug_class) for a in failed if a.drug_class})
    if stage == 0:
        tr_reason = say("staging.thase_rush_0")
    else:
        tr_reason = say("staging.thase_rush", stage=STAGES[stage], classes=join(classes))
    if stage_max != stage:
        tr_reason = say(
            "staging.thase_rush_range", stage=STAGES[stage], high=STAGES[stage_max], reason=tr_reason.text
        )
    total_words = (
        str(total_min)
        if total_min == total_max
        else render.phrase("staging.total_range", low=total_min, high=total_max)
    )
    summary = say("staging.summary", total=total_words, band=band, stage=STAGES[stage])
    return Staging(
        total_min=total_min,
        total_max=total_max,
        band=band,
        band_min=band_min,
        band_max=band_max,
        parts=parts,
        thase_rush=STAGES[stage],
        thase_rush_max=STAGES[stage_max],
        thase_rush_reason=tr_reason,
        summary=summary,
        note=say("staging.note"),
    )
