"""Layer 3, change the mechanism (navigator.md sections 5 and 10): TMS, ketamine or esketamine, ECT,
MAOIs and TCAs; `not_yet` while fewer than two adequate trials have failed and no add-on or
combination has been tried (unless urgent); full courses only (TMS 20+, ECT 6+, ketamine 4+
sessions); worked through only when a glutamate course, an ECT course and an MAOI have all been
tried; a specialist referral once treatment-resistance criteria are met."""

from __future__ import annotations

from typing import List, Optional, Sequence, Set

from ..cautions import option, shown
from ..common import tri_pick
from ..context import Context
from ..model import CautionResult, LayerResult, Statement, Urgency
from ..trials import mechanisms, other_course, outside_monoamines

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
        if isinstance(other.get("sessions"), int):
            state = render.phrase("other.with_sessions", state=state, sessions=other["sessions"])
        if other.get("outcome"):
            state = render.phrase(
                "other.with_outcome", state=state, outcome=render.label("outcome", other["outcome"])
            )
        described.append(render.phrase("other.described", name=ctx.treatment_name(kind), state=state))
    for a in ctx.trials:
        if a.counts and outside_monoamines(a):
            described.append(ctx.trial_words(a))
    if described:
        reasons.append(say("mechanism.tried", described="; ".join(described)))
    elif not ctx.others_known:
        reasons.append(say("mechanism.not_asked"))
    else:
        reasons.append(say("mechanism.none"))

    courses = {i: other_course(ctx, o) for i, o in enumerate(ctx.others)}
    short = [
        render.phrase(
            "mechanism.short_course",
            name=ctx.treatment_name(str(o.get("type"))),
            sessions=o.get("sessions"),
            needed=ctx.wording.courses.get(str(o.get("type"))),
        )
        for i, o in enumerate(ctx.others)
        if courses[i] is False and isinstance(o.get("sessions"), int)
    ]
    if short:
        reasons.append(say("mechanism.short_courses", courses="; ".join(short)))
    glutamate_done = any(
        o.get("type") in ("ketamine", "esketamine") and courses[i] is True for i, o in enumerate(ctx.others)
    ) or any(a.mechanism == "glutamate" and a.adequacy == "adequate" for a in ctx.trials)
    ect_done = any(o.get("type") == "ect" and courses[i] is True for i, o in enumerate(ctx.others))
    circuit_done = ect_done or any(
        o.get("type") == "tms" and courses[i] is True for i, o in enumerate(ctx.others)
    )
    maoi_done = any(a.drug_class == "maoi" and a.adequacy == "adequate" for a in ctx.ad)
    started = bool(ctx.others) or any(a.counts and outside_monoamines(a) for a in ctx.trials)
    sequenced = len(ctx.failed_names) >= 2 or ctx.combination_tried
    if glutamate_done and ect_done and maoi_done:
        status = "worked_through"
        reasons.append(say("mechanism.worked_through"))
    elif tried or started:
        status = "partly"
        if glutamate_done and circuit_done:
            reasons.append(say("mechanism.partly_no_ect_maoi"))
    elif ctx.trials_known and not sequenced and not urgency.urgent:
        status = "not_yet"
        if ctx.failed_names:
            why = render.phrase("mechanism.not_yet.one", name=ctx.failed_names[0])
        else:
            why = render.phrase("mechanism.not_yet.none")
        reasons.insert(0, say("mechanism.not_yet", why=why))
    else:
        status = "open"

    if "perinatal" in ctx.flags:
        reasons.append(say("mechanism.perinatal"))
    if "older_adult" in ctx.flags:
        reasons.append(say("mechanism.older_adult"))
    if "psychotic_features" in ctx.flags or "catatonia" in ctx.flags:
        reasons.append(say("mechanism.psychotic_catatonia"))

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
    tried_map["catatonia_treatment"] = None
    tried_map["specialist_referral"] = None
    if "catatonia" in ctx.flags:
        order = ["catatonia_treatment", *order]
    options = [
        option(ctx, info.option(option_id), cautions, tried=tried_map[option_id])
        for option_id in [*order, "specialist_referral"]
        if shown(ctx, info.option(option_id))
    ]
    return LayerResult(
        "mechanism", info.title, info.summary, status, reasons, options, ctx.t.cite(info.sources)
    )
