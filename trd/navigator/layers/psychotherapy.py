"""Layer 4, psychotherapy medication cannot replace (navigator.md sections 6 and 10): the flags
no_psychotherapy and no_trauma_focused_therapy, and the layer. A structured therapy counts as tried
with 8 or more sessions (navigator_wording.yml `courses`); fewer is "a short course" (partly)."""

from __future__ import annotations

from typing import Dict, List, Sequence

from ..cautions import option
from ..common import tri_pick
from ..context import Context
from ..findings import Finding
from ..model import CautionResult, LayerResult, Statement
from ..trials import course

ORDER = ["behavioural_activation", "cbt", "ipt", "trauma_focused", "dbt", "act"]


def _structured(ctx: Context, kind: object) -> bool:
    therapy = ctx.wording.therapies.get(str(kind))
    return therapy is not None and therapy.structured


def _trauma_focused(ctx: Context, kind: object) -> bool:
    therapy = ctx.wording.therapies.get(str(kind))
    return therapy is not None and therapy.trauma_focused


def flags(ctx: Context, trauma_result: str) -> None:
    render = ctx.render
    if not ctx.therapy_known:
        ctx.unknown(render.say("unknown.therapies"))
        return
    structured = [p for p in ctx.therapies if _structured(ctx, p.get("type"))]
    if not structured:
        then = (Finding("therapy.only_counselling"),) if ctx.therapies else ()
        ctx.flag("no_psychotherapy", render.statement(Finding("flag.no_psychotherapy", {}, then)))
    if trauma_result == "positive" and not any(_trauma_focused(ctx, p.get("type")) for p in ctx.therapies):
        ctx.flag("no_trauma_focused_therapy", render.say("flag.no_trauma_focused_therapy"))


def layer(ctx: Context, trauma_result: str, cautions: Sequence[CautionResult]) -> LayerResult:
    info = ctx.t.layers["psychotherapy"]
    render = ctx.render
    say = render.say
    reasons: List[Statement] = []
    for f in ("no_psychotherapy", "no_trauma_focused_therapy"):
        reasons.extend(ctx.flags.get(f, []))
    described: Dict[str, List[str]] = {}
    for p in ctx.therapies:
        kind = str(p.get("type"))
        therapy = ctx.wording.therapies[kind]
        sessions = p.get("sessions")
        state = tri_pick(
            p.get("completed"),
            render.phrase("therapy.state.yes"),
            render.phrase("therapy.state.no"),
            render.phrase("therapy.state.unknown"),
        )
        if sessions is not None:
            words = render.phrase(
                "therapy.described_sessions", name=therapy.name, state=state, sessions=sessions
            )
        else:
            words = render.phrase("therapy.described", name=therapy.name, state=state)
        described.setdefault(therapy.option or kind, []).append(words)
    if ctx.therapies:
        reasons.append(
            say("psychotherapy.recorded", therapies="; ".join(w for ws in described.values() for w in ws))
        )

    def full(p: object) -> bool:
        return course(ctx, "psychotherapy", p.get("sessions"), p.get("completed")) is True  # type: ignore[attr-defined]

    completed_structured = any(_structured(ctx, p.get("type")) and full(p) for p in ctx.therapies)
    completed_trauma = any(_trauma_focused(ctx, p.get("type")) and full(p) for p in ctx.therapies)
    short = [
        p
        for p in ctx.therapies
        if _structured(ctx, p.get("type"))
        and course(ctx, "psychotherapy", p.get("sessions"), p.get("completed")) is False
        and isinstance(p.get("sessions"), int)
    ]

    if not ctx.therapy_known:
        status = "open"
        reasons.append(say("unknown.therapies"))
    elif "no_psychotherapy" in ctx.flags or "no_trauma_focused_therapy" in ctx.flags:
        status = "open"
    elif completed_structured and (trauma_result == "negative" or completed_trauma):
        status = "worked_through"
    else:
        status = "partly"
        if short and not completed_structured:
            reasons.append(
                say(
                    "psychotherapy.short_course",
                    therapies="; ".join(
                        render.phrase(
                            "therapy.short",
                            name=ctx.wording.therapies[str(p.get("type"))].name,
                            sessions=p.get("sessions"),
                        )
                        for p in short
                    ),
                    needed=ctx.wording.courses.get("psychotherapy"),
                )
            )
        elif not completed_structured:
            reasons.append(say("psychotherapy.not_finished"))
        if trauma_result == "incomplete" and not completed_trauma:
            reasons.append(say("psychotherapy.trauma_incomplete"))
        elif trauma_result == "positive" and not completed_trauma:
            reasons.append(say("psychotherapy.trauma_not_finished"))

    order = list(ORDER)
    if trauma_result == "positive":
        order.remove("trauma_focused")
        order.insert(0, "trauma_focused")
    options = [
        option(
            ctx,
            info.option(option_id),
            cautions,
            tried="; ".join(described[option_id]) if option_id in described else None,
        )
        for option_id in order
    ]
    return LayerResult(
        "psychotherapy", info.title, info.summary, status, reasons, options, ctx.t.cite(info.sources)
    )
