"""Layer 1, change the question (navigator.md section 3): the screens' results and the evaluations
to ask for."""

from __future__ import annotations

from typing import List, Mapping, Sequence

from ..cautions import option
from ..common import join
from ..context import Context
from ..model import CautionResult, LayerResult, ScreenResult, Statement

REFRAME_FLAGS = (
    "bipolar_features",
    "trauma",
    "adhd_features",
    "medical_workup_incomplete",
    "sleep_apnoea_signs",
    "substance_use",
)
OPTION_FOR = {
    "bipolar": "bipolar_evaluation",
    "trauma": "trauma_focused_lead",
    "adhd": "adhd_evaluation",
    "medical": "medical_workup",
    "sleep_apnoea": "sleep_study",
    "substance_use": "substance_review",
}


def layer(
    ctx: Context, screens: Mapping[str, ScreenResult], cautions: Sequence[CautionResult]
) -> LayerResult:
    info = ctx.t.layers["reframe"]
    reasons: List[Statement] = []
    for key in OPTION_FOR:
        reasons.extend(screens[key].reasons)
    if any(f in ctx.flags for f in REFRAME_FLAGS):
        status = "open"
    elif all(s.result == "negative" for s in screens.values()):
        status = "worked_through"
    else:
        status = "partly"
    options = []
    for key, option_id in OPTION_FOR.items():
        if screens[key].result == "positive" or (key == "medical" and screens[key].result != "negative"):
            extra = ""
            if key == "medical":
                extra = ctx.render.phrase("reframe.labs_missing", labs=join(ctx.missing_labs))
            options.append(option(ctx, info.option(option_id), cautions, extra_text=extra))
    options.append(option(ctx, info.option("medicines_review"), cautions))
    return LayerResult(
        "reframe", info.title, info.summary, status, reasons, options, ctx.t.cite(info.sources)
    )
