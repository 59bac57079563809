"""Urgency and the safety check (navigator.md section 10: safety is not urgency).

- `safety_check`: PHQ-9 item 9 above 0, thoughts of suicide recorded (passive or active), or a plan:
  crisis resources and a safety plan. The clinician sees "PHQ-9 item 9 scored N" in those words.
- `urgent`: active thoughts, a plan or intent, a past attempt with current thoughts, psychotic features,
  catatonia, a PHQ-9 of 20 or more, or not managing daily life (function_impaired). Urgency moves ECT
  and ketamine or esketamine up and puts the safety plan first.

Nothing here tells a person they "said" something they did not: each reason names where it comes
from (a PHQ-9 answer, an intake answer).
"""

from __future__ import annotations

from typing import Any, List

from .common import Tri, boolean, section, t_or
from .context import Context
from .model import Statement, Urgency

PHQ9_URGENT_TOTAL = 20
THOUGHTS = ("passive", "active")


def psychotic_features(ctx: Context) -> Tri:
    psychosis = section(ctx.record, "psychosis_now")
    return t_or([boolean(psychosis, "perceptions"), boolean(psychosis, "fixed_beliefs")])


def urgency(ctx: Context) -> Urgency:
    say = ctx.render.say
    phrase = ctx.render.phrase
    reasons: List[Statement] = []
    safety: List[Statement] = []
    lines: List[str] = []
    history: List[Statement] = []
    unknown: List[Statement] = []
    record = ctx.record
    phq9 = record.get("phq9")
    item9 = int(phq9[8]) if isinstance(phq9, list) else None
    if isinstance(phq9, list):
        total = int(sum(phq9))
        if total >= PHQ9_URGENT_TOTAL:
            reasons.append(say("urgency.phq9_severe", total=total))
        if item9 is not None and item9 > 0:
            answer = ctx.render.label("phq9_answer", item9)
            safety.append(say("safety.phq9_item9", score=item9, answer=answer))
            lines.append(phrase("clinician.phq9_item9", score=item9))
    else:
        unknown.append(say("urgency.no_phq9"))

    history_in = section(record, "suicide_history")
    thoughts_now: Any = history_in.get("thoughts_now")
    plan = boolean(history_in, "plan_or_intent")
    attempt = boolean(history_in, "past_attempt")
    recorded = record.get("suicidal_thoughts_now")
    if thoughts_now == "active":
        reasons.append(say("urgency.active_thoughts"))
        safety.append(say("safety.active_thoughts"))
    elif thoughts_now == "passive":
        safety.append(say("safety.passive_thoughts"))
    elif recorded is True:
        safety.append(say("safety.thoughts_recorded"))
    if thoughts_now in THOUGHTS:
        lines.append(phrase("clinician.thoughts_now", kind=ctx.render.label("thoughts_now", thoughts_now)))
    if plan is True:
        reasons.append(say("urgency.plan_or_intent"))
        safety.append(say("safety.plan_or_intent"))
        lines.append(phrase("clinician.plan_or_intent"))
    current = (
        thoughts_now in THOUGHTS or recorded is True or (item9 is not None and item9 > 0) or plan is True
    )
    if attempt is True:
        lines.append(phrase("clinician.past_attempt"))
        if current:
            reasons.append(say("urgency.attempt_with_thoughts"))
        else:
            history.append(say("safety.past_attempt"))
    if boolean(history_in, "hospitalised") is True:
        lines.append(phrase("clinician.hospitalised"))
        history.append(say("safety.hospitalised"))
    if boolean(history_in, "access_to_means") is True:
        lines.append(phrase("clinician.access_to_means"))
        (safety if current else history).append(say("safety.access_to_means"))
    if boolean(section(record, "bipolar"), "family_history_suicide") is True:
        lines.append(phrase("clinician.family_suicide"))
        history.append(say("safety.family_suicide"))
    if safety and thoughts_now not in THOUGHTS and thoughts_now != "none":
        unknown.append(say("safety.kind_unknown"))
    if recorded is None and thoughts_now is None and item9 is None:
        unknown.append(say("urgency.thoughts_unknown"))

    psychotic = psychotic_features(ctx)
    if psychotic is True:
        statement = say("urgency.psychotic_features")
        reasons.append(statement)
        ctx.flag("psychotic_features", statement)
    if boolean(record, "catatonia_signs") is True:
        statement = say("urgency.catatonia")
        reasons.append(statement)
        ctx.flag("catatonia", statement)

    function = t_or([boolean(record, "function_impaired"), boolean(record, "unable_to_function")])
    if function is True:
        reasons.append(say("urgency.unable_to_function"))
    elif function is None:
        unknown.append(say("urgency.function_unknown"))

    if reasons:
        ctx.flag("urgent", say("flag.urgent", reasons=" ".join(r.text for r in reasons)))
    if safety:
        ctx.flag("safety_check", say("flag.safety_check", reasons=" ".join(r.text for r in safety)))
    ctx.unknowns.extend(unknown)
    return Urgency(bool(reasons), reasons, unknown, bool(safety), safety, lines, history)
