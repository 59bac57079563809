"""Layer 3, change the mechanism (navigator.md section 5): TMS, ketamine or esketamine, ECT,
MAOIs and TCAs."""

from __future__ import annotations

from typing import List, Optional, Sequence, Set

from ..cautions import option
from ..common import tri_pick
from ..context import Context
from ..model import CautionResult, LayerResult, Statement, Urgency
from ..trials import mechanisms, outside_monoamines

ORDER = ["tms", "ketamine_esketamine", "ect", "maoi_tca"]
URGENT_ORDER = ["ect", "ketamine_esketamine", "tms", "maoi_tca"]


def layer(ctx: Context, urgency: Urgency, cautions: Sequence[CautionResult]) -> LayerResult:
    info = ctx.t.layers["mechanism"]
    render = ctx.render
    say = render.say
    reasons: List[Statement] = []
    tried = mechanisms(ctx)
    reasons.extend(ctx.flags.get("monoamine_only", []))
    described = []
    for other in ctx.others:
        kind = str(other.get("type"))
        state = tri_pick(
            other.get("completed"),
            render.phrase("other.state.yes"),
            render.phrase("other.state.no"),
            render.phrase("other.state.unknown"),
        )
        if other.get("outcome"):
            state = render.phrase(
                "other.with_outcome", state=state, outcome=render.label("outcome", other["outcome"])
            )
        described.append(render.phrase("other.described", name=ctx.treatment_name(kind), state=state))
    for a in ctx.trials:
        if outside_monoamines(a):
            described.append(ctx.trial_words(a))
    if described:
        reasons.append(say("mechanism.tried", described="; ".join(described)))
    elif not ctx.others_known:
        reasons.append(say("mechanism.not_asked"))
    else:
        reasons.append(say("mechanism.none"))

    glutamate_done = any(
        o.get("type") in ("ketamine", "esketamine") and o.get("completed") is True for o in ctx.others
    ) or any(a.mechanism == "glutamate" and a.adequacy == "adequate" for a in ctx.trials)
    circuit_done = any(o.get("type") in ("tms", "ect") and o.get("completed") is True for o in ctx.others)
    if glutamate_done and circuit_done:
        status = "worked_through"
        reasons.append(say("mechanism.worked_through"))
    elif tried:
        status = "partly"
    else:
        status = "open"

    order = ORDER
    if urgency.urgent:
        order = URGENT_ORDER
        reasons.append(say("mechanism.urgent_order"))

    def other_tried(kinds: Set[str]) -> Optional[str]:
        found = [d for o, d in zip(ctx.others, described, strict=False) if o.get("type") in kinds]
        found += [ctx.trial_words(a) for a in ctx.trials if a.name in kinds]
        return "; ".join(found) if found else None

    older = [a for a in ctx.trials if a.drug_class in ("maoi", "tca")]
    tried_map = {
        "tms": other_tried({"tms"}),
        "ect": other_tried({"ect"}),
        "ketamine_esketamine": other_tried({"ketamine", "esketamine"}),
        "maoi_tca": "; ".join(ctx.trial_words(a) for a in older) or None,
    }
    options = [
        option(ctx, info.option(option_id), cautions, tried=tried_map[option_id]) for option_id in order
    ]
    return LayerResult(
        "mechanism", info.title, info.summary, status, reasons, options, ctx.t.cite(info.sources)
    )
