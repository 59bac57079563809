"""The navigator's rules (navigator.md sections 2-8): intake record in, layers, flags and questions out.

This module is the orchestrator; each section of the design has its own module:

- trials.py: adequate trials and what the trials together show (section 2)
- screens.py: the reframe screens (section 3); urgency.py; cautions.py (cautions and options)
- layers/reframe.py, optimise.py, mechanism.py, psychotherapy.py, emerging.py (sections 3-7)
- plan.py: the measurement plan and the appointment questions (section 8)

The rules emit findings (findings.Finding: a code and its values); findings.Renderer turns them into
the sentences of data/knowledge/navigator_wording.yml. No sentence is written in the rules.

Pure: no Rasa, no file or network access besides the wording the loader reads once. `evaluate`
assumes a schema-valid record; `navigate` validates first.

How "unknown" is handled (navigator.md: unknown is never treated as "no"):
- Answers are three-valued: True, False, None (unknown or missing). Screens combine them with
  Kleene logic, so a screen is positive only on "yes" answers, negative only when the answers
  that could make it positive are all "no", and otherwise *incomplete*.
- A screen flag (bipolar_features, trauma, adhd_features, sleep_apnoea_signs, substance_use) is
  raised only by "yes" answers; an incomplete screen keeps the reframe layer from looking worked
  through and lists the unanswered questions.
- medical_workup_incomplete is raised when any lab is "not checked" *or* not known to be checked:
  an unknown lab is never read as done.
- A trial is adequate only when dose, weeks and adherence are all known to meet the bar; any
  unknown makes it `unknown` (unless an earlier class matches), and an unknown trial keeps the
  optimise layer open.
- Caution flags (ketamine_caution, t3_caution) are raised on "yes"; an unanswered caution is
  listed with status "unknown" so the summary asks about it.
- Missing sections (no `trials`, `psychotherapy` or `other_treatments` key) are unknown: flags
  that assert absence (no_psychotherapy, monoamine_only) are not raised, the layer stays open,
  and the result says what is not known. An empty list means "none".
"""

from __future__ import annotations

import importlib
from typing import Any, Mapping, Optional

from . import current, plan, screens, staging, trials, urgency
from .cautions import cautions
from .common import Tri, at_least, t_and, t_or
from .context import Context
from .findings import Renderer, Wording
from .interactions import InteractionTable
from .knowledge import LAYER_IDS, Knowledge, Treatments
from .layers import emerging, mechanism, optimise, psychotherapy, reframe
from .lexicon import Lexicon
from .model import FLAG_VOCABULARY, NavigatorResult, TrialAssessment
from .trials import DEFAULT_ADEQUATE_WEEKS, FAILED_OUTCOMES, FALSE_RESISTANCE_ADEQUACY
from .urgency import PHQ9_URGENT_TOTAL
from .validation import validate_intake

__all__ = [
    "DEFAULT_ADEQUATE_WEEKS",
    "FAILED_OUTCOMES",
    "FALSE_RESISTANCE_ADEQUACY",
    "PHQ9_URGENT_TOTAL",
    "Tri",
    "assess_trial",
    "at_least",
    "evaluate",
    "navigate",
    "t_and",
    "t_or",
]


def _renderer(treatments: Treatments, wording: Optional[Wording]) -> Renderer:
    if wording is None:
        from .loader import default_wording  # the repository's wording file, read once per process

        wording = default_wording()
    return Renderer(wording, treatments.sources)


def assess_trial(
    index: int,
    trial: Mapping[str, Any],
    lexicon: Lexicon,
    treatments: Treatments,
    wording: Optional[Wording] = None,
) -> TrialAssessment:
    """Classify one medication trial: adequate / intolerance / too_early / inadequate_* / unknown."""
    return trials.assess_trial(index, trial, lexicon, _renderer(treatments, wording))


def _follow_up(ctx: Context) -> Any:
    """The follow-up part's result (issue 12 owns trd/navigator/follow_up.py: `evaluate(ctx)` returns an
    object with to_dict() -> {baseline, latest, change, status, ...}, or None without follow-up)."""
    name = f"{__package__}.follow_up"
    try:
        follow_up = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None
    return follow_up.evaluate(ctx)


def evaluate(
    record: Mapping[str, Any],
    lexicon: Lexicon,
    treatments: Treatments,
    wording: Optional[Wording] = None,
    interactions: Optional[InteractionTable] = None,
) -> NavigatorResult:
    """Apply navigator.md sections 2-8 and 10 to a schema-valid intake record (no validation here)."""
    render = _renderer(treatments, wording)
    if interactions is None:
        from .loader import default_interactions  # the repository's interactions.yml, read once

        interactions = default_interactions()
    from .loader import taken_now_lexicon  # other_medicines.yml beside the drug lexicon, built once

    taken_now = taken_now_lexicon(lexicon)
    assessed = [trials.assess_trial(i, t, lexicon, render) for i, t in enumerate(record.get("trials") or [])]
    ctx = Context(record, lexicon, treatments, render, assessed, interactions, taken_now)
    current_medications = current.gather(ctx)
    screen_results = screens.screens(ctx)
    trials.trial_flags(ctx, screen_results["bipolar"].result)
    trials.monoamine_flag(ctx)
    trauma = screen_results["trauma"].result
    psychotherapy.flags(ctx, trauma)
    urgent = urgency.urgency(ctx)
    found = current.interactions(ctx)
    caution_results = cautions(ctx, screen_results["bipolar"].result)
    layers = [
        reframe.layer(ctx, screen_results, caution_results),
        optimise.layer(ctx, caution_results),
        mechanism.layer(ctx, urgent, caution_results),
        psychotherapy.layer(ctx, trauma, caution_results),
        emerging.layer(ctx, caution_results),
    ]
    assert tuple(layer.id for layer in layers) == LAYER_IDS
    stages = staging.staging(ctx)
    measurement = plan.measurement_plan(ctx, layers, urgent)
    questions = plan.questions(ctx, found, layers)
    flags = [f for f in FLAG_VOCABULARY if f in ctx.flags]
    failed_names = ctx.failed_names
    counts = {
        "antidepressant_trials": len(ctx.ad),
        "not_a_trial": len(ctx.not_trials),
        "combinations": len(ctx.combined),
        "augmentation_trials": len(ctx.aug),
        "adequate_antidepressant_trials": sum(1 for a in ctx.ad if a.adequacy == "adequate"),
        "failed_adequate_antidepressants": len(failed_names),
        "failed_adequate_names": failed_names,
        "classes_tried": sorted({str(a.drug_class) for a in ctx.ad if a.drug_class}),
        "mechanisms_tried": sorted(
            {str(a.mechanism) for a in ctx.trials if a.mechanism and a.counts} | set(trials.mechanisms(ctx))
        ),
    }
    return NavigatorResult(
        disclaimer=treatments.disclaimer,
        flags=flags,
        flag_reasons={f: ctx.flags[f] for f in flags},
        urgency=urgent,
        layers=layers,
        trials=ctx.trials,
        counts=counts,
        screens=screen_results,
        cautions=caution_results,
        measurement_plan=measurement,
        questions=questions,
        unknowns=ctx.unknowns,
        staging=stages,
        interactions=found,
        current_medications=current_medications,
        follow_up=_follow_up(ctx),
    )


def navigate(record: Any, knowledge: Knowledge) -> NavigatorResult:
    """Validate `record` against the intake schema (raising IntakeValidationError naming the field),
    then evaluate it. The entry point for the CLI and the action server."""
    validate_intake(record, knowledge.validator)
    return evaluate(
        record,
        knowledge.lexicon,
        knowledge.treatments,
        getattr(knowledge, "wording", None),
        getattr(knowledge, "interactions", None),
    )
