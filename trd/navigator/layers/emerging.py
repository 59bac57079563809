"""Layer 5, emerging options (navigator.md section 7): psilocybin, VNS, DBS, accelerated TMS."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence

from ..cautions import option
from ..common import join, tri_pick
from ..context import Context
from ..model import CautionResult, LayerResult, OptionResult


def layer(ctx: Context, cautions: Sequence[CautionResult]) -> LayerResult:
    info = ctx.t.layers["emerging"]
    render = ctx.render
    emerging = tuple(k for k, t in ctx.wording.treatments.items() if t.emerging)
    reasons = [render.say("emerging.not_first_line")]
    kinds: Dict[str, Mapping[str, Any]] = {
        str(o.get("type")): o for o in ctx.others if o.get("type") in emerging
    }
    for a in ctx.trials:
        if a.name == "psilocybin" and "psilocybin" not in kinds:
            kinds["psilocybin"] = {"type": "psilocybin", "completed": None}
    done = [k for k in emerging if k in kinds and kinds[k].get("completed") is True]
    if kinds:
        reasons.append(render.say("emerging.tried", names=join([ctx.treatment_name(k) for k in kinds])))
    if len(done) == len(emerging):
        status = "worked_through"
    elif kinds:
        status = "partly"
    else:
        status = "open"
    options: list[OptionResult] = []
    for opt in info.options:
        tried = None
        if opt.id in emerging and opt.id in kinds:
            tried = tri_pick(
                kinds[opt.id].get("completed"),
                render.phrase("emerging.state.yes"),
                render.phrase("emerging.state.no"),
                render.phrase("emerging.state.unknown"),
            )
        options.append(option(ctx, opt, cautions, tried=tried))
    return LayerResult(
        "emerging", info.title, info.summary, status, reasons, options, ctx.t.cite(info.sources)
    )
