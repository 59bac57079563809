"""What a summary is made of: the intake record, the navigator's result and the safety history.

:class:`SummaryInputs` holds everything one summary shows; :func:`clinician_view`
turns it into plain values for the clinician page's template (labels in plain
words, duplicates removed so the page stays short, sources numbered once and
cited by number). Pure: no I/O besides the cached wording, knowledge and crisis
resources files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from trd.navigator import Knowledge, default_knowledge, navigate
from trd.store.repository import CrisisRecord, SafetyPlan
from trd.summary.resources import fill, resources
from trd.summary.wording import default_wording, label

SCREEN_ORDER = ("bipolar", "trauma", "adhd", "medical", "sleep_apnoea", "substance_use")


def run_navigator(record: Mapping[str, Any], knowledge: Optional[Knowledge] = None) -> Dict[str, Any]:
    """The navigator's JSON-ready result for a stored record (raises IntakeValidationError)."""
    result: Dict[str, Any] = navigate(record, knowledge or default_knowledge()).to_dict()
    return result


@dataclass(frozen=True)
class SummaryInputs:
    """Everything one summary shows."""

    record: Mapping[str, Any]
    result: Mapping[str, Any]  # the navigator's to_dict()
    generated_at: datetime
    expires_at: Optional[datetime] = None
    crises: Sequence[CrisisRecord] = ()
    safety_plan: Optional[SafetyPlan] = None


def utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def show_date(value: Optional[datetime]) -> str:
    return utc(value).strftime("%Y-%m-%d") if value is not None else ""


def show_time(value: Optional[datetime]) -> str:
    return utc(value).strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def iso(value: Optional[datetime]) -> Optional[str]:
    return utc(value).isoformat().replace("+00:00", "Z") if value is not None else None


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    return f"{value:g}"


# "Seed 001: patient guide '...' (project seeds, 001_*.txt)": the page leaves out the repeated locator.
_SEED_LOCATOR = re.compile(r"\s*\(project seeds, \d{3}_\*\.txt\)$")


def short_source(source: str) -> str:
    """A source as the page's numbered list shows it (the JSON keeps every source in full)."""
    return _SEED_LOCATOR.sub("", source) if source.startswith("Seed ") else source


class SourceRefs:
    """The result's sources, numbered in list order, and the numbers that back each statement."""

    def __init__(self, result: Mapping[str, Any]) -> None:
        self.sources = [str(s) for s in result.get("sources") or []]
        self._number = {s: n for n, s in enumerate(self.sources, 1)}
        self._by_statement: Dict[str, List[str]] = {}
        for item in result.get("evidence") or []:
            if isinstance(item, Mapping):
                statement = str(item.get("statement") or "")
                self._by_statement.setdefault(statement, []).extend(str(s) for s in item.get("sources") or [])

    def numbers(self, sources: Any) -> Set[int]:
        """The numbers of ``sources`` (unknown ones left out)."""
        return {self._number[str(s)] for s in sources or [] if str(s) in self._number}

    def numbers_for(self, statement: str) -> Set[int]:
        """The numbers behind the evidence for ``statement`` (the navigator's exact wording)."""
        return self.numbers(self._by_statement.get(statement, []))

    @staticmethod
    def show(numbers: Iterable[int]) -> str:
        """``"2,5\u20137"``: runs of three or more numbers joined."""
        ordered = sorted(set(numbers))
        parts: List[str] = []
        start = 0
        for i in range(1, len(ordered) + 1):
            if i == len(ordered) or ordered[i] != ordered[i - 1] + 1:
                run = ordered[start:i]
                parts.append(f"{run[0]}\u2013{run[-1]}" if len(run) >= 3 else ",".join(map(str, run)))
                start = i
        return ",".join(parts)

    def of(self, sources: Any) -> str:
        """``sources`` cited by number."""
        return self.show(self.numbers(sources))

    def for_statements(self, statements: Sequence[str]) -> str:
        """The sources behind ``statements`` cited by number."""
        return self.show(n for text in statements for n in self.numbers_for(text))


def _strip_name(reason: str, name: str) -> str:
    """A trial reason without its leading "Sertraline: " (the table shows the drug already)."""
    head, sep, rest = reason.partition(": ")
    if sep and head.strip().lower() == name.strip().lower():
        return rest[:1].upper() + rest[1:]
    return reason


def _trial_rows(
    result: Mapping[str, Any], words: Mapping[str, Any], refs: SourceRefs
) -> Tuple[List[Dict[str, Any]], str]:
    """The trials table's rows, and the sources every row's verdict shares (cited once, in the heading)."""
    trials = list(result.get("trials") or [])
    cited = [refs.numbers_for(str(trial.get("reason") or "")) for trial in trials]
    shared: Set[int] = cited[0].intersection(*cited[1:]) if cited else set()
    rows = []
    for n, trial in enumerate(trials, 1):
        drug = str(trial.get("drug") or "")
        generic = trial.get("generic")
        dose = _number(trial.get("dose_mg"))
        minimum = _number(trial.get("min_dose_mg"))
        weeks = _number(trial.get("weeks_at_dose"))
        needed = _number(trial.get("weeks_required"))
        still = trial.get("still_taking")
        rows.append(
            {
                "n": n,
                "drug": drug,
                "generic": generic if generic and str(generic).lower() != drug.lower() else "",
                "recognised": bool(trial.get("recognised")),
                "drug_class": label(words["drug_class"], trial.get("class")),
                "role": label(words["role"], trial.get("role")),
                "dose": f"{dose} mg" if dose else "not known",
                "min_dose": f"min {minimum}" if minimum else "",
                "weeks": weeks if weeks else "not known",
                "weeks_needed": f"needs {needed}" if needed else "",
                "adherence": label(words["adherence"], trial.get("adherence")),
                "outcome": label(words["outcome"], trial.get("outcome")),
                "still_taking": "yes" if still is True else "no" if still is False else "not known",
                "adequacy": str(trial.get("adequacy") or "unknown"),
                "verdict": label(words["adequacy"], trial.get("adequacy")),
                "reason": _strip_name(str(trial.get("reason") or ""), drug),
                "refs": refs.show(cited[n - 1] - shared),
                "failed_adequate": bool(trial.get("failed_adequate")),
            }
        )
    return rows, refs.show(shared)


def _screen_rows(
    result: Mapping[str, Any], words: Mapping[str, Any], refs: SourceRefs
) -> List[Dict[str, Any]]:
    screens = result.get("screens") or {}
    rows = []
    for key in [*SCREEN_ORDER, *[k for k in screens if k not in SCREEN_ORDER]]:
        screen = screens.get(key)
        if not isinstance(screen, Mapping):
            continue
        outcome = str(screen.get("result") or "incomplete")
        results = words["screen_results"].get(key) or words["screen_results"]["default"]
        reasons = [str(r) for r in screen.get("reasons") or []]
        rows.append(
            {
                "id": key,
                "name": label(words["screens"], key),
                "result": outcome,
                "result_label": label(results, outcome),
                "reasons": reasons,
                "refs": refs.for_statements(reasons),
            }
        )
    return rows


def _figures(figures: Any) -> str:
    """``response 50-60%; about 20-36 sessions`` (the name is left out when the value says it)."""
    if not isinstance(figures, Mapping):
        return ""
    shown = []
    for key, value in figures.items():
        if not value:
            continue
        name = str(key).replace("_", " ")
        shown.append(str(value) if name.lower() in str(value).lower() else f"{name} {value}")
    return "; ".join(shown)


def _elsewhere(count: int, where: Sequence[str], words: Mapping[str, Any]) -> str:
    """``3 more findings: see the trials and screens above.`` (empty for none)."""
    if not count:
        return ""
    clinician = words["clinician"]
    template = clinician["reasons_elsewhere_one" if count == 1 else "reasons_elsewhere_many"]
    place = clinician["elsewhere"]["both" if len(where) > 1 else where[0]]
    return fill(template, {"count": str(count), "where": place}, "clinician.reasons_elsewhere")


def _layer_rows(
    result: Mapping[str, Any], words: Mapping[str, Any], shown: Mapping[str, str], refs: SourceRefs
) -> List[Dict[str, Any]]:
    """The layers; a reason the trials table or the screens already show is counted, not repeated."""
    rows = []
    for layer in result.get("layers") or []:
        reasons = [str(r) for r in layer.get("reasons") or []]
        fresh = [r for r in reasons if r not in shown]
        where = sorted({shown[r] for r in reasons if r in shown}, reverse=True)  # trials, then screens
        # a "not yet" layer (section 10) lists its options by name: they come after the steps before it
        brief = layer.get("status") == "not_yet"
        options = []
        for opt in layer.get("option_details") or []:
            tried = str(opt.get("tried") or "")
            options.append(
                {
                    "name": str(opt.get("name") or ""),
                    "tried": bool(tried),
                    # what was tried, unless a reason of this layer already says it
                    "tried_detail": "" if any(tried in r for r in reasons) else tried,
                    "limited_access": bool(opt.get("limited_access")),
                    "figures": _figures(opt.get("figures")),
                    "trade_offs": [] if brief else [str(t) for t in opt.get("trade_offs") or []],
                    "has_caution": bool(opt.get("cautions")),
                    # section 10: an option that would form an interaction pair says so, with the pair
                    "interactions": [str(i) for i in opt.get("interactions") or []],
                    "refs": refs.of(opt.get("sources")),
                }
            )
        status = str(layer.get("status") or "open")
        rows.append(
            {
                "id": str(layer.get("id") or ""),
                "title": str(layer.get("title") or ""),
                "status": status,
                "status_label": label(words["status"], status),
                "reasons": [{"text": r, "refs": refs.for_statements([r])} for r in fresh],
                "reasons_elsewhere": _elsewhere(len(reasons) - len(fresh), where, words),
                "options": options,
            }
        )
    return rows


def _staging_view(
    result: Mapping[str, Any], words: Mapping[str, Any], refs: SourceRefs
) -> Optional[Dict[str, Any]]:
    """The staging line: Maudsley total (a range when parts are unknown) and band, Thase-Rush stage."""
    staging = result.get("staging")
    if not isinstance(staging, Mapping):
        return None
    msm = staging.get("maudsley") or {}
    low, high = msm.get("total_min"), msm.get("total_max")
    parts = msm.get("parts") or {}
    part_words = []
    for key, name in words["staging_parts"].items():
        part = parts.get(key)
        if isinstance(part, Mapping):
            lo, hi = part.get("min"), part.get("max")
            part_words.append(f"{name} {lo}" if lo == hi else f"{name} {lo}-{hi}")
    return {
        "label": words["clinician"]["staging_label"],
        "maudsley": f"{low}" if low == high else f"{low}-{high}",
        "maudsley_range": low != high,  # the parts say which answers are missing
        "band": str(msm.get("band") or ""),
        "parts": ", ".join(part_words),
        "thase_rush": str(staging.get("thase_rush") or ""),
        "refs": refs.of(staging.get("sources")),
    }


def _pair_side(item: Mapping[str, Any], side: str) -> str:
    """ "fluoxetine (stopped 3 wk ago)" for a medicine stopped within the washout, else its name."""
    weeks = item.get(f"{side}_weeks_since_stopped")
    drug = str(item.get(side) or "")
    if item.get(f"{side}_taken_now") or not isinstance(weeks, (int, float)):
        return drug
    return f"{drug} (stopped {weeks:g} wk ago)"


def _interaction_rows(
    result: Mapping[str, Any], words: Mapping[str, Any], refs: SourceRefs
) -> List[Dict[str, str]]:
    """Every interaction the navigator found, with the pair named, how strong, why and its sources."""
    rows = []
    for item in result.get("interactions") or []:
        if isinstance(item, Mapping):
            rows.append(
                {
                    "pair": f"{_pair_side(item, 'a')} + {_pair_side(item, 'b')}",
                    "strength": label(words["interaction_strength"], item.get("strength")),
                    "why": str(item.get("why") or ""),
                    "refs": refs.of(item.get("sources")),
                }
            )
    return rows


def _current_medicines(result: Mapping[str, Any]) -> str:
    shown = []
    for med in result.get("current_medications") or []:
        if isinstance(med, Mapping):
            dose = _number(med.get("dose_mg"))
            shown.append(f"{med.get('drug')} {dose} mg" if dose else str(med.get("drug")))
    return ", ".join(shown)


def _without(text: str, sentences: Sequence[str]) -> str:
    """``text`` without the ``sentences`` the page shows elsewhere (exact wording, spaces tidied)."""
    for sentence in sentences:
        if sentence and sentence in text:
            text = " ".join(text.replace(sentence, " ").split())
    return text


def _short_time(value: datetime, day: Optional[datetime] = None) -> str:
    """``2024-12-06 07:30`` (UTC), or just ``07:50`` on the same day as ``day``."""
    moment = utc(value)
    if day is not None and utc(day).date() == moment.date():
        return moment.strftime("%H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def _crisis_rows(crises: Sequence[CrisisRecord], words: Mapping[str, Any]) -> List[Dict[str, str]]:
    """The crisis history, times in UTC (the table's heading says so)."""
    rows = []
    for crisis in crises:
        rows.append(
            {
                "date": _short_time(crisis.created_at),
                "category": label(words["crisis_categories"], crisis.category),
                "resolved": (
                    f"yes, {_short_time(crisis.resolved_at, crisis.created_at)}"
                    if crisis.resolved_at is not None
                    else words["clinician"]["crisis_open"]
                ),
            }
        )
    return rows


def clinician_view(
    inputs: SummaryInputs,
    wording: Optional[Mapping[str, Any]] = None,
    crisis_resources: Optional[Mapping[str, str]] = None,
) -> Dict[str, Any]:
    """Plain values for templates/clinician.html."""
    words = wording if wording is not None else default_wording()
    res = resources(crisis_resources)
    result = inputs.result
    clinician = words["clinician"]
    refs = SourceRefs(result)
    trials, trials_refs = _trial_rows(result, words, refs)
    screens = _screen_rows(result, words, refs)
    # reasons the trials table and the screens show, and where (the layers point there instead)
    shown = {str(t["reason"]): "trials" for t in trials}
    shown.update({str(trial.get("reason") or ""): "trials" for trial in result.get("trials") or []})
    for screen in screens:
        shown.update({r: "screens" for r in screen["reasons"]})
    layers = _layer_rows(result, words, shown, refs)
    # a flag's reasons are shown with it only when no layer, trial or screen shows them already,
    # and without the sentences the urgent banner shows
    in_layers = {str(r) for layer in result.get("layers") or [] for r in layer.get("reasons") or []}
    urgency = result.get("urgency") or {}
    banner = [str(r) for r in urgency.get("reasons") or []] if urgency.get("urgent") else []
    plan = result.get("measurement_plan") or {}
    baseline = plan.get("baseline") or {}
    counts = result.get("counts") or {}
    flag_reasons = result.get("flag_reasons") or {}
    record = inputs.record
    safety_plan = inputs.safety_plan
    return {
        "title": clinician["title"],
        "subtitle": clinician["subtitle"],
        "crisis_line": fill(clinician["crisis_line"], res, "clinician.crisis_line"),
        "generated": show_time(inputs.generated_at),
        "generated_date": show_date(inputs.generated_at),
        "expires": (
            fill(clinician["expires"], {"date": show_time(inputs.expires_at)}, "clinician.expires")
            if inputs.expires_at is not None
            else ""
        ),
        "urgent": bool(urgency.get("urgent")),
        "staging": _staging_view(result, words, refs),
        "interactions": _interaction_rows(result, words, refs),
        "interactions_heading": clinician["interactions_heading"],
        "current_medications": _current_medicines(result),
        "current_medications_label": clinician["current_medications_label"],
        # section 10: the clinician sees "PHQ-9 item 9 scored N" (and the other safety answers) in those words
        "safety_lines": [str(line) for line in urgency.get("clinician_lines") or []],
        "safety_answers_label": clinician["safety_answers_label"],
        "urgent_banner": clinician["urgent_banner"],
        "urgent_reasons": [str(r) for r in urgency.get("reasons") or []],
        "phq9_total": baseline.get("phq9_total"),
        "phq9_severity": baseline.get("severity") or "",
        "episode_months": record.get("episode_months"),
        "previous_episodes": record.get("previous_episodes"),
        "counts": {
            "antidepressant_trials": counts.get("antidepressant_trials", 0),
            "augmentation_trials": counts.get("augmentation_trials", 0),
            "adequate": counts.get("adequate_antidepressant_trials", 0),
            "failed_adequate": counts.get("failed_adequate_antidepressants", 0),
            "failed_names": ", ".join(str(n) for n in counts.get("failed_adequate_names") or []),
            "classes": ", ".join(label(words["drug_class"], c) for c in counts.get("classes_tried") or []),
            "mechanisms": ", ".join(str(m) for m in counts.get("mechanisms_tried") or []),
        },
        "flags": [
            {
                "id": flag,
                "label": label(words["flags"], flag),
                "reasons": [
                    {"text": _without(str(r), banner), "refs": refs.for_statements([str(r)])}
                    for r in flag_reasons.get(flag) or []
                    if str(r) not in shown
                    and str(r) not in in_layers
                    and _without(str(r), banner)
                    and flag != "interaction_caution"  # the interactions list below names each pair
                ],
            }
            for flag in result.get("flags") or []
        ],
        "trials": trials,
        "trials_refs": trials_refs,
        "no_trials": clinician["no_trials"],
        "screens": screens,
        "layers_intro": clinician["layers_intro"],
        "layers": layers,
        "cautions": [
            {
                "status": str(c.get("status") or "unknown"),
                "status_label": label(words["caution_status"], c.get("status")),
                "text": str(c.get("text") or ""),
                "because": ", ".join(str(b) for b in c.get("because") or []),
                "refs": refs.of(c.get("sources")),
            }
            for c in result.get("cautions") or []
        ],
        "crises": _crisis_rows(inputs.crises, words),
        "no_crises": clinician["no_crises"],
        "safety_plan": (
            fill(clinician["safety_plan_saved"], {"date": show_date(safety_plan.updated_at)}, "safety_plan")
            if safety_plan is not None
            else clinician["no_safety_plan"]
        ),
        "measurement": {
            "measure": plan.get("measure") or "",
            "frequency": plan.get("frequency") or "",
            "measure_text": plan.get("measure_text") or "",
            "target_symptoms": [str(s) for s in plan.get("target_symptoms") or []],
            "target_note": plan.get("target_note") or "",
            "decision_points": [
                {"week": dp.get("week"), "text": str(dp.get("text") or "")}
                for dp in plan.get("decision_points") or []
                if isinstance(dp, Mapping)
            ],
            "response": plan.get("response") or "",
            "remission": plan.get("remission") or "",
            "backup_plan": plan.get("backup_plan") or "",
            "safety": plan.get("safety") or "",
            "refs": refs.of(plan.get("sources")),
        },
        "follow_up": follow_up_view(result.get("follow_up")),
        "questions": [str(q) for q in result.get("questions") or []],
        "unknowns": [str(u) for u in result.get("unknowns") or [] if str(u) not in shown],
        "sources": [short_source(s) for s in refs.sources],
        "disclaimer": str(result.get("disclaimer") or ""),
    }


FOLLOW_UP_STATUS = {
    "worsening": "worse by 5 points or more since the intake",
    "remission": "in the remission range (under 5)",
    "response": "a response: 50% or more below the intake",
    "meaningful_change": "a meaningful improvement: 5 points or more below the intake",
    "no_change": "no meaningful change yet (under 5 points either way)",
}


def follow_up_view(follow_up: Any) -> Optional[Dict[str, Any]]:
    """The weekly check-ins for the clinician page: the status in words, the chart, what changed."""
    if not isinstance(follow_up, Mapping) or not follow_up.get("points"):
        return None
    from trd.summary.chart import change_notes, phq9_chart

    baseline, latest, change = follow_up.get("baseline"), follow_up.get("latest"), follow_up.get("change")
    where = "intake" if follow_up.get("baseline_source") == "intake" else "first check-in"
    direction = "lower" if isinstance(change, int) and change < 0 else "higher"
    moved = f"{abs(change)} points {direction}" if isinstance(change, int) and change else "no change"
    return {
        "status": str(follow_up.get("status") or ""),
        "line": (
            f"Latest PHQ-9 {latest} (at the {where}: {baseline}), {moved}: "
            f"{FOLLOW_UP_STATUS.get(str(follow_up.get('status')), '')}. "
            f"{follow_up.get('check_ins')} check-in(s) over {follow_up.get('days')} days."
        ),
        "svg": phq9_chart(follow_up),
        "notes": change_notes(follow_up),
        "item9": [
            f"PHQ-9 item 9 scored {i.get('score')} on {i.get('date')}" for i in follow_up.get("item9") or []
        ],
    }


def summary_json(inputs: SummaryInputs) -> Dict[str, Any]:
    """The JSON rendering: the navigator result and the record, with the safety history and meta."""
    plan = inputs.safety_plan
    return {
        "meta": {
            "format_version": 1,
            "generated_at": iso(inputs.generated_at),
            "expires_at": iso(inputs.expires_at),
            "disclaimer": str(inputs.result.get("disclaimer") or ""),
        },
        "record": dict(inputs.record),
        "navigator": dict(inputs.result),
        "crises": [
            {
                "created_at": iso(c.created_at),
                "category": c.category,
                "resolved": c.resolved_at is not None,
                "resolved_at": iso(c.resolved_at),
            }
            for c in inputs.crises
        ],
        "safety_plan": {"exists": plan is not None, "updated_at": iso(plan.updated_at) if plan else None},
    }
