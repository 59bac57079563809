"""Urgency: a severe PHQ-9, PHQ-9 item 9 above 0, suicidal thoughts now or not managing daily life
move ECT and ketamine or esketamine to the top and put the safety plan first."""

from __future__ import annotations

from typing import List

from .context import Context
from .model import Statement, Urgency

PHQ9_URGENT_TOTAL = 20


def urgency(ctx: Context) -> Urgency:
    say = ctx.render.say
    reasons: List[Statement] = []
    unknown: List[Statement] = []
    phq9 = ctx.record.get("phq9")
    thoughts = ctx.record.get("suicidal_thoughts_now")
    if isinstance(phq9, list):
        total = int(sum(phq9))
        if total >= PHQ9_URGENT_TOTAL:
            reasons.append(say("urgency.phq9_severe", total=total))
        if phq9[8] > 0:
            reasons.append(say("urgency.phq9_item9"))
    else:
        unknown.append(say("urgency.no_phq9"))
    if thoughts is True:
        reasons.append(say("urgency.suicidal_thoughts"))
    elif thoughts is None and not isinstance(phq9, list):
        unknown.append(say("urgency.thoughts_unknown"))
    function = ctx.record.get("unable_to_function")
    if function is True:
        reasons.append(say("urgency.unable_to_function"))
    elif not isinstance(function, bool):
        unknown.append(say("urgency.function_unknown"))
    if reasons:
        ctx.flag("urgent", say("flag.urgent", reasons=" ".join(r.text for r in reasons)))
    ctx.unknowns.extend(unknown)
    return Urgency(bool(reasons), reasons, unknown)
