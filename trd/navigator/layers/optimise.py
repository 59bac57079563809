"""Layer 2, optimise what is in place (navigator.md sections 4 and 10): finish trials, add-ons,
combinations (an antidepressant added on top of another counts as a combination tried), the
antidepressant-with-antipsychotic option for psychotic features, and a specialist review once
treatment-resistance criteria are met. Medicines taken for sleep or pain are listed, never counted."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from ..cautions import option, shown
from ..context import Context
from ..model import CautionResult, LayerResult, Statement, TrialAssessment
from ..trials import FALSE_RESISTANCE_ADEQUACY

NOT_ANTIDEPRESSANT_CLASSES = (
    "mood_stabilizer",
    "thyroid",
    "atypical_antipsychotic",
    "stimulant",
    "dopamine_agonist",
    "other",
)


def _tried(ctx: Context, condition: bool, trials: Sequence[TrialAssessment], pick: Any) -> Optional[str]:
    if not condition:
        return None
    found = [ctx.trial_words(a) for a in trials if pick(a)]
    return "; ".join(found) or None


def layer(ctx: Context, cautions: Sequence[CautionResult]) -> LayerResult:
    info = ctx.t.layers["optimise"]
    say = ctx.render.say
    reasons: List[Statement] = []
    if not ctx.trials_known or not ctx.trials:
        reasons.append(say("optimise.no_trials"))
    ad_not_done = [a for a in ctx.ad if a.adequacy not in ("adequate", "intolerance")]
    for a in ctx.ad:
        reasons.append(a.reason)
    for f in ("same_class_switching", "intolerance_only", "no_augmentation"):
        reasons.extend(ctx.flags.get(f, []))
    for f in ("combination_tried", "one_adequate_trial", "relapse_after_stopping", "sleep_or_pain_dose"):
        reasons.extend(ctx.flags.get(f, []))
    needs_aug = any(a.failed_adequate or a.outcome == "partial_response" for a in ctx.mono)
    for a in ctx.aug:
        reasons.append(Statement(ctx.render.phrase("optimise.addon", reason=a.reason.text), a.reason.sources))
    for a in ctx.role_unknown:
        reasons.append(a.reason)
    for a in ctx.not_trials:
        reasons.append(a.reason)

    open_ = (
        not ctx.ad
        or bool(ad_not_done)
        or "no_augmentation" in ctx.flags
        or (needs_aug and not ctx.combination_tried and bool(ctx.role_unknown))
    )
    adequate_aug = any(a.adequacy == "adequate" for a in ctx.aug + ctx.combined)
    if open_:
        status = "open"
    elif any(a.adequacy == "adequate" for a in ctx.ad) and (not needs_aug or adequate_aug):
        status = "worked_through"
        reasons.append(say("optimise.worked_through"))
    else:
        status = "partly"
        if needs_aug and ctx.combination_tried and not adequate_aug:
            reasons.append(say("optimise.addon_not_full"))

    options = []
    if "psychotic_features" in ctx.flags:
        options.append(option(ctx, info.option("psychotic_depression_medicines"), cautions))
    unfinished = [a for a in ctx.ad if a.adequacy in FALSE_RESISTANCE_ADEQUACY or a.adequacy == "unknown"]
    if unfinished:
        groups = tuple(dict.fromkeys(g for a in unfinished for g in a.interaction_classes))
        options.append(option(ctx, info.option("finish_trial"), cautions, extra_groups=groups))
    if any(a.adequacy == "intolerance" for a in ctx.ad):
        options.append(option(ctx, info.option("different_class_after_intolerance"), cautions))
    tried_names = {a.name for a in ctx.aug}
    tried_classes = {a.drug_class for a in ctx.aug}
    ad_classes_as_addon = {a.name for a in ctx.aug if a.drug_class not in NOT_ANTIDEPRESSANT_CLASSES}
    ad_classes_as_addon |= {a.name for a in ctx.combined}
    options.append(
        option(
            ctx,
            info.option("lithium"),
            cautions,
            tried=_tried(ctx, "lithium" in tried_names, ctx.aug, lambda a: a.name == "lithium"),
        )
    )
    options.append(
        option(
            ctx,
            info.option("t3"),
            cautions,
            tried=_tried(ctx, "liothyronine" in tried_names, ctx.aug, lambda a: a.name == "liothyronine"),
        )
    )
    options.append(
        option(
            ctx,
            info.option("atypical_antipsychotic"),
            cautions,
            tried=_tried(
                ctx,
                "atypical_antipsychotic" in tried_classes,
                ctx.aug,
                lambda a: a.drug_class == "atypical_antipsychotic",
            ),
        )
    )
    options.append(
        option(
            ctx,
            info.option("antidepressant_combination"),
            cautions,
            tried=_tried(
                ctx,
                bool(ad_classes_as_addon),
                ctx.aug + ctx.combined,
                lambda a: a.name in ad_classes_as_addon,
            ),
        )
    )
    specialist = info.option("specialist_review")
    if shown(ctx, specialist):
        options.append(option(ctx, specialist, cautions))
    return LayerResult(
        "optimise", info.title, info.summary, status, reasons, options, ctx.t.cite(info.sources)
    )
