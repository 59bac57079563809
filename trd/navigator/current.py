"""What the person takes now, and the interactions among it (navigator.md section 10).

The medicines that count: every entry of `current_medications`, every trial still being taken, and a
trial stopped `weeks_since_stopped` ago (it counts only for the MAOI pairs, inside their washout).
Each pair found raises `interaction_caution` with the pair named; the options that would form a pair
carry the caution (cautions.option).
"""

from __future__ import annotations

from typing import Any, Dict, List

from .common import join
from .context import Context
from .interactions import Interaction, Medicine, pairs_among


def gather(ctx: Context) -> List[Dict[str, Any]]:
    """Fill ctx.medicines (for the interaction rules) and return the current medicines as shown."""
    shown: List[Dict[str, Any]] = []
    now: Dict[str, Medicine] = {}
    stopped: Dict[str, Medicine] = {}
    for raw in ctx.record.get("current_medications") or []:
        name = str(raw.get("drug", "")).strip()
        if not name:
            continue
        entry = ctx.taken_now.lookup(name)
        shown.append(
            {
                "drug": name,
                "generic": entry.generic if entry else None,
                "recognised": entry is not None,
                "class": entry.drug_class if entry else None,
                "dose_mg": raw.get("dose_mg"),
                "interaction_classes": list(entry.interaction_classes) if entry else [],
            }
        )
        if entry is None:
            ctx.unrecognised_medicines.append(name)
        else:
            now.setdefault(entry.generic, Medicine(entry.generic, entry.interaction_classes, True))
    for trial in ctx.ordered:
        if trial.generic is None:
            continue
        if trial.still_taking is True:
            now.setdefault(trial.generic, Medicine(trial.generic, trial.interaction_classes, True))
        elif trial.weeks_since_stopped is not None and trial.generic not in now:
            previous = stopped.get(trial.generic)
            if previous is None or (previous.weeks_since_stopped or 0) > trial.weeks_since_stopped:
                stopped[trial.generic] = Medicine(
                    trial.generic, trial.interaction_classes, False, float(trial.weeks_since_stopped)
                )
    ctx.medicines = list(now.values()) + [m for g, m in stopped.items() if g not in now]
    return shown


def interactions(ctx: Context) -> List[Interaction]:
    """The pairs among what the person takes; raises interaction_caution naming each pair."""
    say = ctx.render.say
    if ctx.unrecognised_medicines:
        ctx.unknown(say("unknown.medicines_unrecognised", names=join(ctx.unrecognised_medicines)))
    if ctx.table is None:
        return []
    found = pairs_among(ctx.table, ctx.medicines)
    if found:
        described = "; ".join(pair_words(ctx, i) for i in found)
        sources = tuple(dict.fromkeys(s for i in found for s in i.sources))
        ctx.flag("interaction_caution", say("flag.interaction_caution", pairs=described, extra=sources))
    return found


def pair_words(ctx: Context, found: Interaction) -> str:
    """ "phenelzine + tramadol (avoid together: ...)" """

    def when(med: Medicine) -> str:
        if med.now:
            return med.generic
        return ctx.render.phrase(
            "interaction.stopped_drug", drug=med.generic, weeks=f"{med.weeks_since_stopped:g}"
        )

    return ctx.render.phrase(
        "interaction.pair",
        a=when(found.a),
        b=when(found.b),
        strength=ctx.render.label("strength", found.strength),
        why=found.why,
    )
