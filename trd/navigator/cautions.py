"""Cautions: what the cautions part of the intake changes (ketamine, T3, pregnancy, daily visits,
bipolar), and the options with the cautions that apply to them."""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from .common import Tri, boolean, join
from .context import Context
from .knowledge import Option
from .model import CautionResult, OptionResult, Statement


def cautions(ctx: Context, bipolar_result: str) -> List[CautionResult]:
    c = ctx.cautions_in
    phrase = ctx.render.phrase
    bp = boolean(c, "uncontrolled_blood_pressure_or_heart_disease")
    psychosis = boolean(c, "psychosis_or_dissociation_history")
    substance = boolean(c, "substance_use_problem")
    heavy = boolean(ctx.medical, "heavy_alcohol_or_drugs")
    pregnant = boolean(c, "pregnant_or_planning")
    attend = boolean(c, "can_attend_daily_visits")
    bipolar: Tri = {"positive": True, "negative": False}.get(bipolar_result)
    triggers: Dict[str, List[Tuple[Tri, str]]] = {
        "ketamine_caution": [
            (bp, phrase("caution.blood_pressure")),
            (psychosis, phrase("caution.psychosis")),
            (substance, phrase("caution.substance_problem")),
            (heavy, phrase("caution.heavy_use")),
        ],
        "t3_caution": [(bp, phrase("caution.blood_pressure"))],
        "pregnancy_caution": [(pregnant, phrase("caution.pregnant"))],
        "daily_visits_caution": [(None if attend is None else not attend, phrase("caution.no_daily_visits"))],
        "bipolar_caution": [(bipolar, phrase("caution.bipolar"))],
    }
    out: List[CautionResult] = []
    for caution_id, info in ctx.t.cautions.items():
        trig = triggers.get(caution_id, [])
        present = [text for value, text in trig if value is True]
        unknown = [text for value, text in trig if value is None]
        if present:
            status, because = "present", present
        elif unknown:
            status, because = "unknown", unknown
        else:
            continue
        sources = ctx.t.cite(info.sources)
        out.append(CautionResult(caution_id, status, info.text, info.applies_to, because, sources))
        if status == "present" and info.flag:
            text = phrase("caution.reported", caution=info.text, present=join(present))
            ctx.flag(info.flag, Statement(text, sources))
    return out


def option(
    ctx: Context,
    opt: Option,
    cautions_: Sequence[CautionResult],
    tried: Optional[str] = None,
    extra_text: str = "",
) -> OptionResult:
    applied = [c.text for c in cautions_ if c.status == "present" and opt.id in c.applies_to]
    return OptionResult(
        id=opt.id,
        name=opt.name,
        text=(opt.text + (" " + extra_text if extra_text else "")),
        trade_offs=opt.trade_offs,
        limited_access=opt.limited_access,
        figures=dict(opt.figures),
        sources=ctx.t.cite(opt.sources),
        cautions=applied,
        tried=tried,
    )
