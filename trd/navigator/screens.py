"""Screens (navigator.md section 3, "change the question"): bipolar, trauma, ADHD, the medical workup,
sleep apnoea and substance use, each positive, negative or incomplete."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from .common import Tri, at_least, boolean, join, screen_word, section, t_and, t_or
from .context import Context
from .model import ScreenResult, Statement

SCREEN_FLAGS: Mapping[str, str] = {
    "bipolar": "bipolar_features",
    "trauma": "trauma",
    "adhd": "adhd_features",
    "sleep_apnoea": "sleep_apnoea_signs",
    "substance_use": "substance_use",
}
ADHD_CORE = "since_childhood"
PC_PTSD5_POSITIVE = 3
# navigator.md section 10: an elevated period that began on an antidepressant is a bipolar feature on
# its own; ordinary activation (jittery, poor sleep) counts only beside another feature, so it never
# raises the screen by itself.
ORDINARY_ACTIVATION = "antidepressant_activation"
# More than 14 standard drinks a week: the NIAAA's heavy-drinking limit for men (7 for women); the
# sentence that reports it cites the source.
HEAVY_DRINKS_PER_WEEK = 14


def heavy_drinking(ctx: Context) -> Tri:
    drinks = section(ctx.record, "substance").get("alcohol_drinks_per_week")
    if isinstance(drinks, (int, float)) and not isinstance(drinks, bool):
        return drinks > HEAVY_DRINKS_PER_WEEK
    return None


def record_screen(
    ctx: Context,
    out: Dict[str, ScreenResult],
    screen_id: str,
    result: Tri,
    unanswered: List[str],
    *,
    negative: str = "negative",
    **params: Any,
) -> None:
    """Record one yes / no / not-yet-known screen in ``out[screen_id]``.

    positive (result True): the screen's flag is raised, citing ``screen.<id>.positive`` (with
    ``params``); negative (False): ``screen.<id>.<negative>``; incomplete (None):
    ``screen.<id>.incomplete`` listing the unanswered questions, which the result also lists.
    """
    say = ctx.render.say
    if result is True:
        statement = say(f"screen.{screen_id}.positive", **params)
        ctx.flag(SCREEN_FLAGS[screen_id], statement)
    elif result is False:
        statement = say(f"screen.{screen_id}.{negative}", **params)
    else:
        statement = say(f"screen.{screen_id}.incomplete", unanswered="; ".join(unanswered))
    out[screen_id] = ScreenResult(
        screen_id, screen_word(result), [statement], unanswered if result is None else []
    )


def screens(ctx: Context) -> Dict[str, ScreenResult]:
    questions = ctx.wording.questions
    out: Dict[str, ScreenResult] = {}

    bip = section(ctx.record, "bipolar")
    answers = [
        (boolean(bip, key), text) for key, text in questions["bipolar"].items() if key != ORDINARY_ACTIVATION
    ]
    activation = boolean(bip, ORDINARY_ACTIVATION)
    bipolar = t_or(v for v, _ in answers)
    bipolar_features = [text for v, text in answers if v is True]
    if bipolar is True and activation is True:
        bipolar_features.append(questions["bipolar"][ORDINARY_ACTIVATION])
    record_screen(
        ctx,
        out,
        "bipolar",
        bipolar,
        [text for v, text in answers if v is None],
        negative="activation_only" if bipolar is False and activation is True else "negative",
        features="; ".join(bipolar_features),
    )

    trauma = section(ctx.record, "trauma")
    exposure = boolean(trauma, "exposure")
    items = trauma.get("pc_ptsd5")
    items_list = [bool(x) for x in items] if isinstance(items, list) else None
    items_yes = sum(items_list) if items_list is not None else 0
    items_positive: Tri = None if items_list is None else items_yes >= PC_PTSD5_POSITIVE
    unanswered: List[str] = []
    if exposure is None:
        unanswered.append(questions["trauma"]["exposure"])
    if items_list is None and exposure is not False:
        unanswered.append(questions["trauma"]["pc_ptsd5"])
    record_screen(
        ctx,
        out,
        "trauma",
        t_and([exposure, items_positive]),
        unanswered,
        negative="no_exposure" if exposure is False else "negative",
        items_yes=items_yes,
    )

    adhd = section(ctx.record, "adhd")
    core = boolean(adhd, ADHD_CORE)
    features = [(boolean(adhd, key), text) for key, text in questions["adhd"].items() if key != ADHD_CORE]
    record_screen(
        ctx,
        out,
        "adhd",
        t_and([core, at_least(2, (v for v, _ in features))]),
        ([questions["adhd"][ADHD_CORE]] if core is None else [])
        + [text for v, text in features if v is None],
        features="; ".join(text for v, text in features if v is True),
    )

    labs = ctx.medical.get("labs_checked_past_year")
    labs = labs if isinstance(labs, Mapping) else {}
    lab_names = questions["labs"].items()
    not_checked = [text for key, text in lab_names if boolean(labs, key) is False]
    not_known = [text for key, text in lab_names if boolean(labs, key) is None]
    reasons: List[Statement] = []
    if not_checked or not_known:
        parts = []
        if not_checked:
            parts.append(ctx.render.phrase("labs.not_checked", labs=join(not_checked)))
        if not_known:
            parts.append(ctx.render.phrase("labs.not_known", labs=join(not_known)))
        statement = ctx.render.say("screen.medical.workup_incomplete", parts="; ".join(parts))
        ctx.flag("medical_workup_incomplete", statement)
        reasons.append(statement)
        result: Tri = True if not_checked else None
    else:
        reasons.append(ctx.render.say("screen.medical.negative"))
        result = False
    out["medical"] = ScreenResult("medical", screen_word(result), reasons, not_known)
    ctx.missing_labs = not_checked + not_known

    signs = [(boolean(ctx.medical, key), text) for key, text in questions["sleep"].items()]
    sleepy = boolean(ctx.medical, "daytime_sleepiness")
    seen = [text for v, text in signs if v is True] + (
        [ctx.render.phrase("sleep.daytime_sleepiness")] if sleepy else []
    )
    record_screen(
        ctx,
        out,
        "sleep_apnoea",
        t_or(v for v, _ in signs),
        [text for v, text in signs if v is None],
        signs=join(seen),
    )

    substance = questions["substance"]
    heavy = boolean(ctx.medical, "heavy_alcohol_or_drugs")
    problem = boolean(ctx.cautions_in, "substance_use_problem")
    use = section(ctx.record, "substance")
    v2 = [
        (heavy_drinking(ctx), "alcohol_drinks_per_week"),
        (boolean(use, "cannabis_use"), "cannabis_use"),
        (boolean(use, "other_drugs"), "other_drugs"),
    ]
    # The version-2 questions (drinks a week, cannabis, other drugs) replace the single v1 question
    # about heavy use when any of them was answered.
    answered_v2 = any(value is not None for value, _ in v2)
    answers = v2 if answered_v2 else [(heavy, "heavy_alcohol_or_drugs")]
    if heavy is True and answered_v2:
        answers.append((heavy, "heavy_alcohol_or_drugs"))
    if problem is not None or not answered_v2:
        answers.append((problem, "substance_use_problem"))
    record_screen(
        ctx,
        out,
        "substance_use",
        t_or(v for v, _ in answers),
        [substance[key] for v, key in answers if v is None],
        found=join([substance[key] for v, key in answers if v is True]),
    )

    for screen in out.values():
        if screen.result == "incomplete" and screen.id != "medical":
            ctx.unknown(screen.reasons[0])
    return out
