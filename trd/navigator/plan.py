"""What comes out besides the layers (navigator.md section 8): the measurement plan and the questions
for the next appointment."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from .common import join
from .context import Context
from .model import FLAG_VOCABULARY, LayerResult, MeasurementPlan, Statement, Urgency
from .trials import FALSE_RESISTANCE_ADEQUACY


def measurement_plan(ctx: Context, layers: Sequence[LayerResult], urgency: Urgency) -> MeasurementPlan:
    m = ctx.t.measurement
    phrase = ctx.render.phrase
    phq9 = ctx.record.get("phq9")
    total: Optional[int] = None
    severity: Optional[str] = None
    targets: List[str] = []
    items = ctx.t.phq9_items
    if isinstance(phq9, list):
        total = int(sum(phq9))
        severity = m.severity(total)
        ranked = sorted(range(9), key=lambda i: (-phq9[i], i))
        targets = [items[i] for i in ranked if phq9[i] >= 2][:4]
        if not targets:
            targets = [items[i] for i in ranked if phq9[i] >= 1][:3]
        if phq9[8] > 0 and items[8] not in targets:
            targets.append(items[8])
        note = phrase("plan.targets_note")
    else:
        note = phrase("plan.no_phq9", areas="; ".join(m.tracking_areas))
    open_layers = [
        layer.title
        for layer in layers
        if layer.status not in ("worked_through", "not_yet") and layer.id != "emerging"
    ]
    backup = m.backup_plan
    if open_layers:
        backup += " " + phrase("plan.open_layers", layers="; ".join(open_layers))
    safety = m.safety_text
    if urgency.urgent:
        safety = phrase("plan.urgent_first") + " " + safety
    return MeasurementPlan(
        measure=m.measure,
        frequency=m.frequency,
        measure_text=m.measure_text,
        baseline_total=total,
        baseline_severity=severity,
        target_symptoms=targets,
        target_note=note,
        decision_points=[{"week": p.week, "text": p.text} for p in m.decision_points],
        response=m.response,
        remission=m.remission,
        backup_plan=backup,
        safety=safety,
        sources=ctx.t.cite(m.sources),
    )


def questions(
    ctx: Context, interactions: Sequence[Any] = (), layers: Sequence[LayerResult] = ()
) -> List[Statement]:
    t = ctx.t
    out = [Statement(q.text, t.cite(q.sources)) for q in t.base_questions]
    out.append(Statement(t.layers_question.text, t.cite(t.layers_question.sources)))
    restart = join([a.name for a in ctx.ad if a.relapse_after_stopping])
    fills = {
        "drugs": join([a.name for a in ctx.ad if a.adequacy in FALSE_RESISTANCE_ADEQUACY]),
        "missing": join(ctx.missing_labs),
        "restart": restart[:1].upper() + restart[1:],
        # asked only where the dose, not the person, says it was for sleep or pain
        "low_dose": capital(
            join([ctx.trial_dose_words(a) for a in ctx.not_trials if a.sleep_or_pain and a.purpose is None])
        ),
        "pairs": join(
            [ctx.render.phrase("interaction.pair_short", a=i.a.generic, b=i.b.generic) for i in interactions]
        ),
    }
    findings = [f for f in FLAG_VOCABULARY if f in ctx.flags]
    if any(layer.id == "mechanism" and layer.status == "not_yet" for layer in layers):
        # a change of mechanism is "not yet" (section 10): the question about it waits too
        findings = [f for f in findings if f != "monoamine_only"]
    if "one_adequate_trial" in findings:
        findings = [f for f in findings if f != "no_augmentation"]  # its question asks about add-ons too
    unknown_adequacy = [a.name for a in ctx.trials if a.adequacy == "unknown"]
    if unknown_adequacy:
        findings.append("adequacy_unknown")
    first = 0
    for finding in findings:
        template = t.finding_questions.get(finding)
        if template is None:
            continue
        values = dict(fills)
        if finding == "adequacy_unknown":
            values["drugs"] = join(unknown_adequacy)
        if finding == "sleep_or_pain_dose" and not values["low_dose"]:
            continue
        question = Statement(template.text.format(**values), t.cite(template.sources))
        if finding in ("urgent", "safety_check"):
            out.insert(first, question)  # safety first, in vocabulary order (urgent, then the safety check)
            first += 1
        else:
            out.append(question)
    return out


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]
