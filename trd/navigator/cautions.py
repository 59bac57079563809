"""Cautions: what the cautions part of the intake changes (ketamine, T3, pregnancy and the perinatal
period, age, daily visits, bipolar), and the options with the cautions that apply to them, including
an interaction caution with the pair named for an option that would form an interaction pair with
what the person takes (navigator.md section 10)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from .common import Tri, boolean, join, section, t_or
from .context import Context
from .interactions import would_pair
from .knowledge import Option
from .model import CautionResult, OptionResult, Statement
from .screens import heavy_drinking
from .urgency import psychotic_features

OLDER_ADULT_AGE = 65
YOUNG_ADULT_AGE = 25
PERINATAL_PHRASES = {
    "pregnant": "caution.perinatal.pregnant",
    "postpartum_within_year": "caution.perinatal.postpartum_within_year",
    "breastfeeding": "caution.perinatal.breastfeeding",
    "planning": "caution.perinatal.planning",
}


def age_band(record: Any) -> Tuple[Tri, Tri]:
    """(65 or over, under 25) from age_years, else from an age_range whose bounds decide it."""
    age = record.get("age_years")
    if isinstance(age, int) and not isinstance(age, bool):
        return age >= OLDER_ADULT_AGE, age < YOUNG_ADULT_AGE
    band = section(record, "age_range")
    low, high = band.get("min_years"), band.get("max_years")
    older: Tri = None
    young: Tri = None
    if isinstance(low, int) and low >= OLDER_ADULT_AGE:
        older, young = True, False
    elif isinstance(high, int) and high < YOUNG_ADULT_AGE:
        older, young = False, True
    elif isinstance(low, int) and isinstance(high, int):
        older = False if high < OLDER_ADULT_AGE else None
        young = False if low >= YOUNG_ADULT_AGE else None
    return older, young


def perinatal_answers(ctx: Context) -> List[Tuple[Tri, str]]:
    perinatal = section(ctx.record, "perinatal")
    answers = [(boolean(perinatal, key), ctx.render.phrase(code)) for key, code in PERINATAL_PHRASES.items()]
    v1 = (boolean(ctx.cautions_in, "pregnant_or_planning"), ctx.render.phrase("caution.pregnant"))
    if not any(value is not None for value, _ in answers):
        return [v1]  # a version 1 record: its one question decides
    return answers + ([v1] if v1[0] is not None else [])


def cautions(ctx: Context, bipolar_result: str) -> List[CautionResult]:
    c = ctx.cautions_in
    phrase = ctx.render.phrase
    bp = boolean(c, "uncontrolled_blood_pressure_or_heart_disease")
    psychosis = boolean(c, "psychosis_or_dissociation_history")
    substance = boolean(c, "substance_use_problem")
    heavy_answers = [boolean(ctx.medical, "heavy_alcohol_or_drugs"), heavy_drinking(ctx)]
    known_heavy = [v for v in heavy_answers if v is not None]
    heavy = t_or(known_heavy) if known_heavy else None
    other_drugs = boolean(section(ctx.record, "substance"), "other_drugs")
    attend = boolean(c, "can_attend_daily_visits")
    bipolar: Tri = {"positive": True, "negative": False}.get(bipolar_result)
    older, young = age_band(ctx.record)
    ketamine = [
        (bp, phrase("caution.blood_pressure")),
        (psychosis, phrase("caution.psychosis")),
        (substance, phrase("caution.substance_problem")),
        (heavy, phrase("caution.heavy_use")),
    ]
    if psychotic_features(ctx) is True:
        ketamine.append((True, phrase("caution.psychosis_now")))
    if other_drugs is True:
        ketamine.append((True, phrase("caution.other_drugs")))
    triggers: Dict[str, List[Tuple[Tri, str]]] = {
        "ketamine_caution": ketamine,
        "t3_caution": [(bp, phrase("caution.blood_pressure"))],
        "pregnancy_caution": perinatal_answers(ctx),
        "older_adult_caution": [(older, phrase("caution.older_adult"))] if older is not None else [],
        "young_adult_caution": [(young, phrase("caution.young_adult"))] if young is not None else [],
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


def interaction_cautions(ctx: Context, groups: Sequence[str]) -> List[str]:
    """The interaction cautions of an option that would add medicines of `groups`, naming each pair:
    one sentence per interaction rule, with every medicine it pairs with."""
    if ctx.table is None or not groups:
        return []
    by_rule: Dict[str, List[Any]] = {}
    for med, rule, group in would_pair(ctx.table, groups, ctx.medicines):
        by_rule.setdefault(rule.id, [rule, group, []])[2].append(med)
    out = []
    for rule, group, meds in by_rule.values():
        named = join(
            [
                ctx.render.phrase(
                    "interaction.stopped_drug", drug=m.generic, weeks=f"{m.weeks_since_stopped:g}"
                )
                if not m.now
                else m.generic
                for m in meds
            ]
        )
        name = ctx.table.group_name(group)
        out.append(
            ctx.render.phrase(
                "caution.option_pair",
                group=name[:1].upper() + name[1:],
                drug=named,
                why=rule.why,
                strength=ctx.render.label("strength", rule.strength),
            )
        )
    return out


def shown(ctx: Context, opt: Option) -> bool:
    """An option with `when` is shown only when that flag is raised."""
    return opt.when is None or opt.when in ctx.flags


def option(
    ctx: Context,
    opt: Option,
    cautions_: Sequence[CautionResult],
    tried: Optional[str] = None,
    extra_text: str = "",
    extra_groups: Sequence[str] = (),
) -> OptionResult:
    applied = [c.text for c in cautions_ if c.status == "present" and opt.id in c.applies_to]
    pairs = interaction_cautions(ctx, tuple(opt.interaction_classes) + tuple(extra_groups))
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
        interactions=pairs,
    )
