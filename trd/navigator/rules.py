"""The navigator's rules (navigator.md sections 2-8): intake record in, layers, flags and questions out.

Pure: no Rasa, no file or network access. The lexicon and treatments are passed in (loader.py
reads them). `evaluate` assumes a schema-valid record; `navigate` validates first.

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

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from .knowledge import LAYER_IDS, Knowledge, Option, Treatments
from .lexicon import CLASS_LABELS, DrugEntry, Lexicon
from .model import (
    FLAG_VOCABULARY,
    CautionResult,
    LayerResult,
    MeasurementPlan,
    NavigatorResult,
    OptionResult,
    ScreenResult,
    Statement,
    TrialAssessment,
    Urgency,
)
from .validation import validate_intake

Tri = Optional[bool]
# What a statement says and the ids of the sources it cites, made into a Statement only when used.
Wording = Tuple[str, Tuple[str, ...]]

DEFAULT_ADEQUATE_WEEKS = 6.0
FAILED_OUTCOMES = frozenset({"no_response", "partial_response", "response_then_relapse"})
FALSE_RESISTANCE_ADEQUACY = frozenset(
    {"too_early", "inadequate_dose", "inadequate_duration", "inadequate_adherence"}
)
PHQ9_URGENT_TOTAL = 20

OUTCOME_WORDS: Mapping[str, str] = {
    "no_response": "no response",
    "partial_response": "a partial response",
    "response_then_relapse": "a response, then relapse",
    "remission": "remission",
    "stopped_side_effects": "stopped for side effects",
    "too_early": "too early to tell",
}
THERAPY_NAMES: Mapping[str, str] = {
    "cbt": "CBT",
    "behavioural_activation": "behavioural activation",
    "ipt": "IPT",
    "emdr": "EMDR",
    "ifs": "Internal Family Systems (IFS)",
    "sensorimotor": "sensorimotor psychotherapy",
    "dbt": "DBT",
    "act": "ACT",
    "psychodynamic": "psychodynamic therapy",
    "other": "supportive or other counselling",
}
STRUCTURED_THERAPIES = frozenset(THERAPY_NAMES) - {"other"}
TRAUMA_FOCUSED_THERAPIES = frozenset({"emdr", "ifs", "sensorimotor"})
THERAPY_OPTION: Mapping[str, str] = {
    "cbt": "cbt",
    "behavioural_activation": "behavioural_activation",
    "ipt": "ipt",
    "emdr": "trauma_focused",
    "ifs": "trauma_focused",
    "sensorimotor": "trauma_focused",
    "dbt": "dbt",
    "act": "act",
}
TREATMENT_NAMES: Mapping[str, str] = {
    "tms": "TMS",
    "ect": "ECT",
    "ketamine": "ketamine",
    "esketamine": "esketamine",
    "vns": "VNS",
    "dbs": "DBS",
    "tdcs": "tDCS",
    "psilocybin": "psilocybin",
}
TREATMENT_MECHANISM: Mapping[str, str] = {
    "tms": "circuit",
    "ect": "circuit",
    "vns": "circuit",
    "dbs": "circuit",
    "tdcs": "circuit",
    "ketamine": "glutamate",
    "esketamine": "glutamate",
    "psilocybin": "psychedelic",
}
EMERGING_TREATMENTS: Tuple[str, ...] = ("psilocybin", "vns", "dbs")

BIPOLAR_QUESTIONS: Tuple[Tuple[str, str], ...] = (
    (
        "elevated_periods",
        "periods of days with much more energy than usual, racing thoughts, or unusual risk-taking or "
        "irritability",
    ),
    ("little_sleep_needed", "periods of needing much less sleep than usual without feeling tired"),
    (
        "antidepressant_activation",
        "an antidepressant that caused agitation, sleeplessness or a 'too good' period",
    ),
    ("family_history", "a parent, brother or sister with bipolar disorder"),
)
ADHD_CORE = ("since_childhood", "trouble that goes back to childhood")
ADHD_FEATURES: Tuple[Tuple[str, str], ...] = (
    ("trouble_finishing", "lifelong trouble starting and finishing things, with projects left unfinished"),
    ("distractible", "being easily distracted"),
    ("interest_lifts_mood", "a mood that lifts when something is genuinely interesting"),
)
LAB_NAMES: Tuple[Tuple[str, str], ...] = (
    ("thyroid", "thyroid function"),
    ("b12", "vitamin B12"),
    ("vitamin_d", "vitamin D"),
    ("blood_count", "a blood count"),
    ("glucose", "blood glucose"),
)
SLEEP_SIGNS: Tuple[Tuple[str, str], ...] = (
    ("loud_snoring", "loud snoring"),
    ("breathing_pauses_seen", "pauses in breathing seen by someone"),
)


# ------------------------------------------------------------------ helpers


def t_or(values: Iterable[Tri]) -> Tri:
    vals = list(values)
    if any(v is True for v in vals):
        return True
    if all(v is False for v in vals):
        return False
    return None


def t_and(values: Iterable[Tri]) -> Tri:
    vals = list(values)
    if any(v is False for v in vals):
        return False
    if all(v is True for v in vals):
        return True
    return None


def at_least(count: int, values: Iterable[Tri]) -> Tri:
    vals = list(values)
    yes = sum(1 for v in vals if v is True)
    unknown = sum(1 for v in vals if v is None)
    if yes >= count:
        return True
    if yes + unknown < count:
        return False
    return None


def _num(x: float) -> str:
    return f"{x:g}"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _section(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}


def _bool(section: Mapping[str, Any], key: str) -> Tri:
    value = section.get(key)
    return value if isinstance(value, bool) else None


class _Say:
    """Builds statements with resolved citations."""

    def __init__(self, treatments: Treatments) -> None:
        self.treatments = treatments

    def __call__(self, text: str, *source_ids: str, extra: Sequence[str] = ()) -> Statement:
        return Statement(text, self.treatments.cite(source_ids) + tuple(extra))


# ------------------------------------------------------------------ trials (section 2)


def assess_trial(
    index: int, trial: Mapping[str, Any], lexicon: Lexicon, treatments: Treatments
) -> TrialAssessment:
    """Classify one medication trial: adequate / intolerance / too_early / inadequate_* / unknown."""
    say = _Say(treatments)
    drug = str(trial.get("drug", ""))
    entry: Optional[DrugEntry] = lexicon.lookup(drug) if drug.strip() else None
    name = entry.generic if entry else (drug.strip() or "an unnamed medicine")
    label = name[:1].upper() + name[1:]

    record_role = trial.get("role")
    if record_role in ("antidepressant", "augmentation"):
        role: Optional[str] = record_role
        role_from = "record"
    elif entry is not None:
        role, role_from = entry.role, "lexicon"
    else:
        role, role_from = None, "unknown"

    dose = trial.get("max_dose_mg")
    weeks = trial.get("weeks_at_dose")
    adherence = trial.get("adherence")
    outcome = trial.get("outcome")
    still_taking = trial.get("still_taking") if isinstance(trial.get("still_taking"), bool) else None
    required_weeks = entry.adequate_weeks if entry and entry.adequate_weeks else DEFAULT_ADEQUATE_WEEKS
    extra_sources: List[str] = []
    if entry and entry.min_dose_source:
        extra_sources.append(f"{entry.generic} minimum dose: {entry.min_dose_source}")
    if entry and entry.adequate_weeks_source:
        extra_sources.append(f"{entry.generic} course length: {entry.adequate_weeks_source}")

    shortfalls: List[str] = []
    unknowns: List[str] = []

    dose_ok: Tri = None
    if entry is None:
        if drug.strip():
            unknowns.append(f"'{drug.strip()}' is not in our medicine list, so its minimum dose is not known")
        else:
            unknowns.append("the medicine's name is missing")
    elif entry.min_dose_mg is None:
        unknowns.append(f"no single daily mg dose defines a full trial of {name} ({entry.note})")
    elif dose is None:
        unknowns.append("the highest daily dose is not known")
    elif entry.max_plausible_mg is not None and dose > entry.max_plausible_mg:
        unknowns.append(
            f"a dose of {_num(dose)} mg is far above what is used, so it may be micrograms written as mg "
            "(please check the pharmacy label)"
        )
    else:
        dose_ok = dose >= entry.min_dose_mg
        if not dose_ok:
            shortfalls.append(
                f"{_num(dose)} mg a day is below the minimum therapeutic dose for depression "
                f"({_num(entry.min_dose_mg)} mg a day)"
            )

    weeks_ok: Tri = None
    if weeks is None:
        unknowns.append("how many weeks it was taken at that dose is not known")
    else:
        weeks_ok = weeks >= required_weeks
        if not weeks_ok:
            shortfalls.append(
                f"{_num(weeks)} weeks at that dose is shorter than the {_num(required_weeks)} weeks a full "
                "trial needs"
            )

    adherence_ok: Tri = {"most_days": True, "often_missed": False}.get(adherence) if adherence else None
    if adherence is None:
        unknowns.append("whether it was taken most days is not known")
    elif adherence_ok is False:
        shortfalls.append("doses were often missed")

    if dose_ok is True and weeks_ok is True and adherence_ok is True:
        adequacy = "adequate"
    elif outcome == "stopped_side_effects":
        adequacy = "intolerance"
    elif (
        weeks is not None
        and weeks < required_weeks
        and still_taking is not False
        and (still_taking is True or outcome == "too_early")
    ):
        adequacy = "too_early"
    elif dose_ok is False:
        adequacy = "inadequate_dose"
    elif weeks_ok is False:
        adequacy = "inadequate_duration"
    elif adherence_ok is False:
        adequacy = "inadequate_adherence"
    else:
        adequacy = "unknown"

    failed = adequacy == "adequate" and outcome in FAILED_OUTCOMES
    base_sources = ("navigator_design", "seed_001", "seed_003")

    if adequacy == "adequate":
        assert entry is not None and entry.min_dose_mg is not None and dose is not None and weeks is not None
        text = (
            f"{label}: a full (adequate) trial: {_num(dose)} mg a day (minimum {_num(entry.min_dose_mg)} "
            "mg), "
            f"{_num(weeks)} weeks at that dose, taken most days."
        )
        if failed:
            text += (
                f" It brought {OUTCOME_WORDS[str(outcome)]} rather than remission,"
                " so it counts as a failed adequate trial."
            )
        elif outcome == "remission":
            text += " It brought remission."
        elif outcome == "stopped_side_effects":
            text += " It was stopped for side effects after that."
        elif outcome == "too_early":
            text += " It is still too early to tell how well it works."
        else:
            text += " How well it worked is not known."
    elif adequacy == "intolerance":
        text = (
            f"{label}: stopped because of side effects before it became a full trial. That is intolerance of "
            "one medicine, not treatment resistance: the usual path is a class with a different side-effect "
            "profile."
        )
    elif adequacy == "too_early":
        assert weeks is not None
        text = (
            f"{label}: still being taken, {_num(weeks)} weeks at this dose so far: too early to judge "
            f"(a full trial is at least {_num(required_weeks)} weeks at a therapeutic dose, taken most days)."
        )
        other = [s for s in shortfalls if "weeks at that dose" not in s]
        if other:
            text += " Also: " + "; ".join(other) + "."
    elif adequacy in ("inadequate_dose", "inadequate_duration", "inadequate_adherence"):
        text = (
            f"{label}: not a full trial: "
            + "; ".join(shortfalls)
            + ". Finishing a trial properly comes before "
            "counting it as a failure."
        )
        if unknowns:
            text += " Also not known: " + "; ".join(unknowns) + "."
    else:
        text = (
            f"{label}: not enough information to say whether this was a full trial: "
            + "; ".join(unknowns)
            + "."
        )

    return TrialAssessment(
        index=index,
        drug=drug,
        generic=entry.generic if entry else None,
        recognised=entry is not None,
        drug_class=entry.drug_class if entry else None,
        mechanism=entry.mechanism if entry else None,
        role=role,
        role_from=role_from,
        adequacy=adequacy,
        reason=say(text, *base_sources, extra=extra_sources),
        failed_adequate=failed,
        min_dose_mg=entry.min_dose_mg if entry else None,
        min_dose_source=entry.min_dose_source if entry else None,
        weeks_required=required_weeks,
        dose_mg=dose,
        weeks_at_dose=weeks,
        adherence=adherence,
        outcome=outcome,
        still_taking=still_taking,
    )


# ------------------------------------------------------------------ evaluation


class _Evaluation:
    def __init__(self, record: Mapping[str, Any], lexicon: Lexicon, treatments: Treatments) -> None:
        self.record = record
        self.lexicon = lexicon
        self.t = treatments
        self.say = _Say(treatments)
        self.flags: Dict[str, List[Statement]] = {}
        self.unknowns: List[Statement] = []

        self.trials_known = isinstance(record.get("trials"), list)
        self.trials = [
            assess_trial(i, trial, lexicon, treatments) for i, trial in enumerate(record.get("trials") or [])
        ]
        self.ad = [a for a in self.trials if a.role == "antidepressant"]
        self.aug = [a for a in self.trials if a.role == "augmentation"]
        self.role_unknown = [a for a in self.trials if a.role is None]
        self.therapy_known = isinstance(record.get("psychotherapy"), list)
        self.therapies: List[Mapping[str, Any]] = list(record.get("psychotherapy") or [])
        self.others_known = isinstance(record.get("other_treatments"), list)
        self.others: List[Mapping[str, Any]] = list(record.get("other_treatments") or [])
        self.cautions_in = _section(record, "cautions")
        self.medical = _section(record, "medical")
        self.missing_labs: List[str] = []

    # -------------------------------------------------------------- flags

    def flag(self, name: str, statement: Statement) -> None:
        assert name in FLAG_VOCABULARY, name
        self.flags.setdefault(name, []).append(statement)

    def unknown(self, statement: Statement) -> None:
        self.unknowns.append(statement)

    # -------------------------------------------------------------- trial-based flags

    def trial_flags(self) -> None:
        say = self.say
        if not self.trials_known:
            self.unknown(
                say(
                    "No medication history was recorded, so we cannot tell which trials were adequate.",
                    "navigator_design",
                )
            )
        if not self.others_known:
            self.unknown(
                say(
                    "We don't know yet whether TMS, ECT, ketamine, esketamine or other treatments"
                    " have been tried.",
                    "navigator_design",
                )
            )
        failed = [a for a in self.ad if a.failed_adequate]
        failed_names = sorted({a.name for a in failed})
        if len(failed_names) >= 2:
            self.flag(
                "trd_criteria_met",
                say(
                    f"At least two different antidepressants were taken as full trials without remission "
                    f"({_join(failed_names)}). That meets the usual definition of treatment-resistant "
                    "depression.",
                    "navigator_design",
                    "seed_003",
                    "seed_004",
                ),
            )

        false_res = [a for a in self.ad if a.adequacy in FALSE_RESISTANCE_ADEQUACY]
        if false_res:
            names = _join([a.name for a in false_res])
            self.flag(
                "false_resistance",
                say(
                    f"Not every antidepressant trial was a full one ({names}). The next step for those "
                    "medicines is "
                    "finishing the trial properly, not necessarily a new drug.",
                    "navigator_design",
                    "seed_001",
                    "seed_003",
                ),
            )

        if self.ad and all(a.adequacy == "intolerance" for a in self.ad):
            self.flag(
                "intolerance_only",
                say(
                    "Every antidepressant so far was stopped because of side effects before it became a full "
                    "trial. "
                    "That is intolerance, not resistance: the path is a class with a different side-effect "
                    "profile.",
                    "navigator_design",
                    "seed_003",
                ),
            )

        pairs = self.same_class_pairs()
        if pairs:
            described = "; ".join(
                f"{first.name} then {second.name} (both {_class_label(first.drug_class)}s)"
                for first, second in pairs
            )
            self.flag(
                "same_class_switching",
                say(
                    f"Switches within the same class: {described}. Another medicine of the same class is "
                    "rarely the "
                    "move that breaks the deadlock.",
                    "seed_000",
                    "seed_001",
                    "navigator_design",
                ),
            )

        for a in self.ad + self.aug + self.role_unknown:
            if a.adequacy == "unknown":
                self.unknown(a.reason)
        for a in self.role_unknown:
            self.unknown(
                say(
                    f"We could not tell whether {a.name} was taken as an antidepressant or as an add-on.",
                    "navigator_design",
                )
            )

        needs = [a for a in self.ad if a.failed_adequate or a.outcome == "partial_response"]
        if needs and not self.aug:
            why = _join([f"{a.name} ({OUTCOME_WORDS[str(a.outcome)]})" for a in needs])
            if self.role_unknown:
                self.unknown(
                    say(
                        f"After {why}, we could not tell whether an add-on (augmentation) has been tried.",
                        "seed_000",
                        "navigator_design",
                    )
                )
            else:
                self.flag(
                    "no_augmentation",
                    say(
                        f"After {why}, no add-on (augmentation) has been tried yet. Augmentation is its own "
                        "step, "
                        "separate from switching.",
                        "seed_000",
                        "seed_001",
                        "navigator_design",
                    ),
                )

    def same_class_pairs(self) -> List[Tuple[TrialAssessment, TrialAssessment]]:
        """Later antidepressant trials of the same class as an earlier one that did not end in remission
        or in side effects (trials are taken in the order listed, oldest first)."""
        pairs = []
        for j, later in enumerate(self.ad):
            if later.drug_class is None:
                continue
            for earlier in self.ad[:j]:
                if (
                    earlier.drug_class == later.drug_class
                    and earlier.name != later.name
                    and earlier.outcome not in ("stopped_side_effects", "remission")
                ):
                    pairs.append((earlier, later))
                    break
        return pairs

    # -------------------------------------------------------------- mechanisms

    def mechanisms(self) -> Dict[str, List[str]]:
        """Non-monoamine mechanism family -> descriptions of what was tried."""
        tried: Dict[str, List[str]] = {}
        for a in self.trials:
            if a.mechanism in ("glutamate", "gaba") or a.drug_class == "psychedelic":
                family = "psychedelic" if a.drug_class == "psychedelic" else str(a.mechanism)
                tried.setdefault(family, []).append(a.name)
        for other in self.others:
            kind = str(other.get("type"))
            tried.setdefault(TREATMENT_MECHANISM[kind], []).append(TREATMENT_NAMES[kind])
        return tried

    def monoamine_flag(self) -> None:
        say = self.say
        if not self.ad or self.mechanisms():
            return
        unrecognised = [a.name for a in self.ad if a.mechanism is None]
        if unrecognised:
            self.unknown(
                say(
                    f"We did not recognise {_join(unrecognised)}, so we cannot tell which mechanism it uses.",
                    "navigator_design",
                )
            )
            return
        if not all(a.mechanism == "monoamine" for a in self.ad):
            return
        classes = sorted({CLASS_LABELS.get(str(a.drug_class), str(a.drug_class)) for a in self.ad})
        if not self.others_known:
            self.unknown(
                say(
                    "Every antidepressant recorded acts on monoamines, but other treatments (TMS, ECT, "
                    "ketamine, "
                    "esketamine) were not asked about, so we cannot say only monoamines were tried.",
                    "navigator_design",
                )
            )
            return
        self.flag(
            "monoamine_only",
            say(
                f"Every antidepressant tried so far acts on monoamines (serotonin, noradrenaline, dopamine): "
                f"{_join(classes)}. A different mechanism has not been tested yet.",
                "seed_000",
                "navigator_design",
            ),
        )

    # -------------------------------------------------------------- screens (section 3)

    def record_screen(
        self,
        out: Dict[str, ScreenResult],
        screen_id: str,
        result: Tri,
        unanswered: List[str],
        *,
        flag: str,
        positive: Wording,
        negative: Wording,
        unfinished: Wording,
    ) -> None:
        """Record one yes / no / not-yet-known screen in ``out[screen_id]``.

        positive (result True): ``flag`` is raised, citing the ``positive`` statement;
        negative (False): the ``negative`` statement; incomplete (None): "<unfinished subject>
        not finished; not yet answered: <unanswered>." and the unanswered questions are listed.
        Each wording is (text, source ids); only the statement for the result is made.
        """
        if result is True:
            statement = self.say(positive[0], *positive[1])
            self.flag(flag, statement)
        elif result is False:
            statement = self.say(negative[0], *negative[1])
        else:
            subject, sources = unfinished
            statement = self.say(
                subject + " not finished; not yet answered: " + "; ".join(unanswered) + ".", *sources
            )
        out[screen_id] = ScreenResult(
            screen_id, _screen_word(result), [statement], unanswered if result is None else []
        )

    def screens(self) -> Dict[str, ScreenResult]:
        say = self.say
        out: Dict[str, ScreenResult] = {}

        bip = _section(self.record, "bipolar")
        answers = [(_bool(bip, key), text) for key, text in BIPOLAR_QUESTIONS]
        self.record_screen(
            out,
            "bipolar",
            t_or(v for v, _ in answers),
            [text for v, text in answers if v is None],
            flag="bipolar_features",
            positive=(
                "Possible bipolar-spectrum features: "
                + "; ".join(text for v, text in answers if v is True)
                + ".",
                ("seed_000", "seed_001", "navigator_design"),
            ),
            negative=("Bipolar screen: none of the features were reported.", ("seed_000",)),
            unfinished=("Bipolar screen", ("seed_000", "navigator_design")),
        )

        trauma = _section(self.record, "trauma")
        exposure = _bool(trauma, "exposure")
        items = trauma.get("pc_ptsd5")
        items_list = [bool(x) for x in items] if isinstance(items, list) else None
        items_yes = sum(items_list) if items_list is not None else 0
        items_positive: Tri = None if items_list is None else items_yes >= 3
        unanswered: List[str] = []
        if exposure is None:
            unanswered.append("whether you have been through a frightening, horrible or traumatic event")
        if items_list is None and exposure is not False:
            unanswered.append("the five PC-PTSD-5 questions")
        self.record_screen(
            out,
            "trauma",
            t_and([exposure, items_positive]),
            unanswered,
            flag="trauma",
            positive=(
                f"Trauma screen positive: trauma exposure and {items_yes} of the 5 PC-PTSD-5 questions "
                "answered yes (3 or more suggests PTSD is worth assessing). Trauma can look like depression "
                "and "
                "then standard antidepressants give only partial benefit.",
                ("pc_ptsd5", "seed_000", "navigator_design"),
            ),
            negative=(
                ("Trauma screen: no trauma exposure reported.", ("pc_ptsd5",))
                if exposure is False
                else (
                    f"Trauma screen: {items_yes} of the 5 PC-PTSD-5 questions answered yes (below 3).",
                    ("pc_ptsd5", "navigator_design"),
                )
            ),
            unfinished=("Trauma screen", ("pc_ptsd5", "navigator_design")),
        )

        adhd = _section(self.record, "adhd")
        core = _bool(adhd, ADHD_CORE[0])
        features = [(_bool(adhd, key), text) for key, text in ADHD_FEATURES]
        self.record_screen(
            out,
            "adhd",
            t_and([core, at_least(2, (v for v, _ in features))]),
            ([ADHD_CORE[1]] if core is None else []) + [text for v, text in features if v is None],
            flag="adhd_features",
            positive=(
                "Possible adult ADHD features since childhood: "
                + "; ".join(text for v, text in features if v is True)
                + ".",
                ("seed_000", "navigator_design"),
            ),
            negative=("ADHD screen: the lifelong pattern was not reported.", ("seed_000",)),
            unfinished=("ADHD screen", ("seed_000", "navigator_design")),
        )

        labs = self.medical.get("labs_checked_past_year")
        labs = labs if isinstance(labs, Mapping) else {}
        not_checked = [text for key, text in LAB_NAMES if _bool(labs, key) is False]
        not_known = [text for key, text in LAB_NAMES if _bool(labs, key) is None]
        reasons: List[Statement] = []
        if not_checked or not_known:
            parts = []
            if not_checked:
                parts.append("not checked in the past year: " + _join(not_checked))
            if not_known:
                parts.append("not known to have been checked in the past year: " + _join(not_known))
            statement = say(
                "The basic medical workup is not known to be complete (" + "; ".join(parts) + ").",
                "seed_000",
                "seed_001",
                "navigator_design",
            )
            self.flag("medical_workup_incomplete", statement)
            reasons.append(statement)
            result = True if not_checked else None
        else:
            reasons.append(
                say(
                    "Thyroid, B12, vitamin D, blood count and glucose were all checked in the past year.",
                    "seed_000",
                )
            )
            result = False
        out["medical"] = ScreenResult("medical", _screen_word(result), reasons, not_known)
        self.missing_labs = not_checked + not_known

        signs = [(_bool(self.medical, key), text) for key, text in SLEEP_SIGNS]
        sleepy = _bool(self.medical, "daytime_sleepiness")
        seen = [text for v, text in signs if v is True] + (["daytime sleepiness"] if sleepy else [])
        self.record_screen(
            out,
            "sleep_apnoea",
            t_or(v for v, _ in signs),
            [text for v, text in signs if v is None],
            flag="sleep_apnoea_signs",
            positive=(
                "Possible signs of sleep apnoea: " + _join(seen) + ".",
                ("seed_000", "navigator_design"),
            ),
            negative=("No loud snoring or breathing pauses reported.", ("seed_000",)),
            unfinished=("Sleep-apnoea questions", ("seed_000", "navigator_design")),
        )

        heavy = _bool(self.medical, "heavy_alcohol_or_drugs")
        problem = _bool(self.cautions_in, "substance_use_problem")
        self.record_screen(
            out,
            "substance_use",
            t_or([heavy, problem]),
            (["heavy alcohol or drug use"] if heavy is None else [])
            + (["a current substance use problem"] if problem is None else []),
            flag="substance_use",
            positive=(
                "Heavy alcohol or other substance use was reported; it can drive low mood and keep "
                "treatments "
                "from working.",
                ("seed_001", "seed_003", "navigator_design"),
            ),
            negative=("No heavy alcohol or other substance use reported.", ("seed_001",)),
            unfinished=("Alcohol and substance questions", ("seed_001", "navigator_design")),
        )

        for screen in out.values():
            if screen.result == "incomplete" and screen.id != "medical":
                self.unknown(screen.reasons[0])
        return out

    # -------------------------------------------------------------- psychotherapy flags

    def therapy_flags(self, trauma_result: str) -> None:
        say = self.say
        if not self.therapy_known:
            self.unknown(say("We don't know yet which talking therapies you have had.", "navigator_design"))
            return
        structured = [p for p in self.therapies if p.get("type") in STRUCTURED_THERAPIES]
        if not structured:
            extra = (
                " Supportive or other counselling is recorded, but not a structured therapy."
                if self.therapies
                else ""
            )
            self.flag(
                "no_psychotherapy",
                say(
                    "No structured psychotherapy (such as behavioural activation, CBT or IPT) is recorded."
                    + extra,
                    "seed_001",
                    "navigator_design",
                ),
            )
        if trauma_result == "positive" and not any(
            p.get("type") in TRAUMA_FOCUSED_THERAPIES for p in self.therapies
        ):
            self.flag(
                "no_trauma_focused_therapy",
                say(
                    "The trauma screen was positive and no trauma-focused therapy (EMDR, IFS, sensorimotor) "
                    "is recorded.",
                    "seed_000",
                    "navigator_design",
                ),
            )

    # -------------------------------------------------------------- urgency (section 5)

    def urgency(self) -> Urgency:
        say = self.say
        reasons: List[Statement] = []
        unknown: List[Statement] = []
        phq9 = self.record.get("phq9")
        thoughts = self.record.get("suicidal_thoughts_now")
        if isinstance(phq9, list):
            total = int(sum(phq9))
            if total >= PHQ9_URGENT_TOTAL:
                reasons.append(
                    say(
                        f"A PHQ-9 score of {total} is in the severe range (20 or more).",
                        "phq9",
                        "navigator_design",
                    )
                )
            if phq9[8] > 0:
                reasons.append(
                    say(
                        "The PHQ-9 question about thoughts of being better off dead or of hurting yourself "
                        "was "
                        "answered above 'not at all'.",
                        "phq9",
                        "navigator_design",
                    )
                )
        else:
            unknown.append(
                say("No PHQ-9 was recorded, so how severe the depression is right now is not known.", "phq9")
            )
        if thoughts is True:
            reasons.append(say("You said you are having thoughts of suicide now.", "navigator_design"))
        elif thoughts is None and not isinstance(phq9, list):
            unknown.append(
                say("We don't know whether thoughts of suicide are present right now.", "navigator_design")
            )
        function = self.record.get("unable_to_function")
        if function is True:
            reasons.append(
                say("You said you cannot manage daily life right now.", "navigator_design", "seed_001")
            )
        elif not isinstance(function, bool):
            unknown.append(
                say(
                    "The intake does not yet record whether you can manage daily life; if you cannot, tell "
                    "your "
                    "clinician, because that makes the situation urgent.",
                    "navigator_design",
                )
            )
        if reasons:
            self.flag(
                "urgent",
                say(
                    "This looks urgent. "
                    + " ".join(r.text for r in reasons)
                    + " ECT and ketamine or esketamine "
                    "move to the top of the options, and a safety plan comes first.",
                    "seed_000",
                    "seed_001",
                    "navigator_design",
                ),
            )
        self.unknowns.extend(unknown)
        return Urgency(bool(reasons), reasons, unknown)

    # -------------------------------------------------------------- cautions

    def cautions(self, bipolar_result: str) -> List[CautionResult]:
        c = self.cautions_in
        bp = _bool(c, "uncontrolled_blood_pressure_or_heart_disease")
        psychosis = _bool(c, "psychosis_or_dissociation_history")
        substance = _bool(c, "substance_use_problem")
        heavy = _bool(self.medical, "heavy_alcohol_or_drugs")
        pregnant = _bool(c, "pregnant_or_planning")
        attend = _bool(c, "can_attend_daily_visits")
        bipolar: Tri = {"positive": True, "negative": False}.get(bipolar_result)
        triggers: Dict[str, List[Tuple[Tri, str]]] = {
            "ketamine_caution": [
                (bp, "uncontrolled high blood pressure or heart disease"),
                (psychosis, "past psychosis or severe dissociation"),
                (substance, "a current substance use problem"),
                (heavy, "heavy alcohol or drug use"),
            ],
            "t3_caution": [(bp, "uncontrolled high blood pressure or heart disease")],
            "pregnancy_caution": [(pregnant, "pregnant or planning a pregnancy")],
            "daily_visits_caution": [
                (None if attend is None else not attend, "cannot attend daily clinic visits")
            ],
            "bipolar_caution": [(bipolar, "possible bipolar-spectrum features")],
        }
        out: List[CautionResult] = []
        for caution_id, info in self.t.cautions.items():
            trig = triggers.get(caution_id, [])
            present = [text for value, text in trig if value is True]
            unknown = [text for value, text in trig if value is None]
            if present:
                status, because = "present", present
            elif unknown:
                status, because = "unknown", unknown
            else:
                continue
            sources = self.t.cite(info.sources)
            out.append(CautionResult(caution_id, status, info.text, info.applies_to, because, sources))
            if status == "present" and info.flag:
                self.flag(info.flag, Statement(f"{info.text} Reported: {_join(present)}.", sources))
        return out

    # -------------------------------------------------------------- options

    def option(
        self,
        opt: Option,
        cautions: Sequence[CautionResult],
        tried: Optional[str] = None,
        extra_text: str = "",
    ) -> OptionResult:
        applied = [c.text for c in cautions if c.status == "present" and opt.id in c.applies_to]
        return OptionResult(
            id=opt.id,
            name=opt.name,
            text=(opt.text + (" " + extra_text if extra_text else "")),
            trade_offs=opt.trade_offs,
            limited_access=opt.limited_access,
            figures=dict(opt.figures),
            sources=self.t.cite(opt.sources),
            cautions=applied,
            tried=tried,
        )

    # -------------------------------------------------------------- layers

    def layer_reframe(
        self, screens: Mapping[str, ScreenResult], cautions: Sequence[CautionResult]
    ) -> LayerResult:
        info = self.t.layers["reframe"]
        reasons: List[Statement] = []
        for key in ("bipolar", "trauma", "adhd", "medical", "sleep_apnoea", "substance_use"):
            reasons.extend(screens[key].reasons)
        reframe_flags = (
            "bipolar_features",
            "trauma",
            "adhd_features",
            "medical_workup_incomplete",
            "sleep_apnoea_signs",
            "substance_use",
        )
        if any(f in self.flags for f in reframe_flags):
            status = "open"
        elif all(s.result == "negative" for s in screens.values()):
            status = "worked_through"
        else:
            status = "partly"
        option_for = {
            "bipolar": "bipolar_evaluation",
            "trauma": "trauma_focused_lead",
            "adhd": "adhd_evaluation",
            "medical": "medical_workup",
            "sleep_apnoea": "sleep_study",
            "substance_use": "substance_review",
        }
        options = []
        for key, option_id in option_for.items():
            if screens[key].result == "positive" or (key == "medical" and screens[key].result != "negative"):
                extra = ""
                if key == "medical":
                    extra = "Missing or not known: " + _join(self.missing_labs) + "."
                options.append(self.option(info.option(option_id), cautions, extra_text=extra))
        options.append(self.option(info.option("medicines_review"), cautions))
        return LayerResult(
            "reframe", info.title, info.summary, status, reasons, options, self.t.cite(info.sources)
        )

    def layer_optimise(self, cautions: Sequence[CautionResult]) -> LayerResult:
        info = self.t.layers["optimise"]
        say = self.say
        reasons: List[Statement] = []
        if not self.trials_known or not self.trials:
            reasons.append(
                say(
                    "No medication trials were recorded, so we cannot tell whether past treatment was "
                    "optimised.",
                    "navigator_design",
                )
            )
        ad_not_done = [a for a in self.ad if a.adequacy not in ("adequate", "intolerance")]
        for a in self.ad:
            reasons.append(a.reason)
        for f in ("same_class_switching", "intolerance_only", "no_augmentation"):
            reasons.extend(self.flags.get(f, []))
        needs_aug = any(a.failed_adequate or a.outcome == "partial_response" for a in self.ad)
        for a in self.aug:
            reasons.append(Statement(f"Add-on: {a.reason.text}", a.reason.sources))
        for a in self.role_unknown:
            reasons.append(a.reason)

        open_ = (
            not self.ad
            or bool(ad_not_done)
            or "no_augmentation" in self.flags
            or (needs_aug and not self.aug and bool(self.role_unknown))
        )
        adequate_aug = any(a.adequacy == "adequate" for a in self.aug)
        if open_:
            status = "open"
        elif any(a.adequacy == "adequate" for a in self.ad) and (not needs_aug or adequate_aug):
            status = "worked_through"
            reasons.append(
                say(
                    "Every antidepressant trial was a full trial, and where it was needed an add-on was "
                    "tried at a full dose for long enough.",
                    "navigator_design",
                    "seed_000",
                )
            )
        else:
            status = "partly"
            if needs_aug and self.aug and not adequate_aug:
                reasons.append(
                    say(
                        "An add-on was tried, but it is not known to have been given at a full dose for "
                        "long enough (for lithium, ask whether the blood level was in range).",
                        "navigator_design",
                        "seed_000",
                    )
                )

        options = []
        if any(a.adequacy in FALSE_RESISTANCE_ADEQUACY or a.adequacy == "unknown" for a in self.ad):
            options.append(self.option(info.option("finish_trial"), cautions))
        if any(a.adequacy == "intolerance" for a in self.ad):
            options.append(self.option(info.option("different_class_after_intolerance"), cautions))
        tried_names = {a.name for a in self.aug}
        tried_classes = {a.drug_class for a in self.aug}
        ad_classes_as_addon = {
            a.name
            for a in self.aug
            if a.drug_class
            not in (
                "mood_stabilizer",
                "thyroid",
                "atypical_antipsychotic",
                "stimulant",
                "dopamine_agonist",
                "other",
            )
        }
        options.append(
            self.option(
                info.option("lithium"),
                cautions,
                tried=_tried("lithium" in tried_names, self.aug, lambda a: a.name == "lithium"),
            )
        )
        options.append(
            self.option(
                info.option("t3"),
                cautions,
                tried=_tried("liothyronine" in tried_names, self.aug, lambda a: a.name == "liothyronine"),
            )
        )
        options.append(
            self.option(
                info.option("atypical_antipsychotic"),
                cautions,
                tried=_tried(
                    "atypical_antipsychotic" in tried_classes,
                    self.aug,
                    lambda a: a.drug_class == "atypical_antipsychotic",
                ),
            )
        )
        options.append(
            self.option(
                info.option("antidepressant_combination"),
                cautions,
                tried=_tried(bool(ad_classes_as_addon), self.aug, lambda a: a.name in ad_classes_as_addon),
            )
        )
        return LayerResult(
            "optimise", info.title, info.summary, status, reasons, options, self.t.cite(info.sources)
        )

    def layer_mechanism(self, urgency: Urgency, cautions: Sequence[CautionResult]) -> LayerResult:
        info = self.t.layers["mechanism"]
        say = self.say
        reasons: List[Statement] = []
        tried = self.mechanisms()
        reasons.extend(self.flags.get("monoamine_only", []))
        described = []
        for other in self.others:
            kind = str(other.get("type"))
            completed = other.get("completed")
            state = _tri_word(completed, "course completed", "not completed", "completion not known")
            if other.get("outcome"):
                state += f", {OUTCOME_WORDS[str(other['outcome'])]}"
            described.append(f"{TREATMENT_NAMES[kind]} ({state})")
        for a in self.trials:
            if a.mechanism in ("glutamate", "gaba") or a.drug_class == "psychedelic":
                described.append(_trial_words(a))
        if described:
            reasons.append(
                say(
                    "Tried outside the monoamine system: " + "; ".join(described) + ".",
                    "seed_000",
                    "navigator_design",
                )
            )
        elif not self.others_known:
            reasons.append(
                say(
                    "Other treatments (TMS, ECT, ketamine, esketamine) were not asked about yet.",
                    "navigator_design",
                )
            )
        else:
            reasons.append(
                say(
                    "No treatment acting outside the monoamine system is recorded.",
                    "seed_000",
                    "navigator_design",
                )
            )

        glutamate_done = any(
            o.get("type") in ("ketamine", "esketamine") and o.get("completed") is True for o in self.others
        ) or any(a.mechanism == "glutamate" and a.adequacy == "adequate" for a in self.trials)
        circuit_done = any(
            o.get("type") in ("tms", "ect") and o.get("completed") is True for o in self.others
        )
        if glutamate_done and circuit_done:
            status = "worked_through"
            reasons.append(
                say(
                    "A glutamate treatment (ketamine or esketamine) and a brain-stimulation course "
                    "(TMS or ECT) have both been completed.",
                    "seed_000",
                    "navigator_design",
                )
            )
        elif tried:
            status = "partly"
        else:
            status = "open"

        order = ["tms", "ketamine_esketamine", "ect", "maoi_tca"]
        if urgency.urgent:
            order = ["ect", "ketamine_esketamine", "tms", "maoi_tca"]
            reasons.append(
                say(
                    "Because of what you told us, ECT and ketamine or esketamine are listed first: they are "
                    "the "
                    "strongest and fastest options when depression is severe or suicidal thoughts are "
                    "present.",
                    "seed_000",
                    "seed_001",
                    "navigator_design",
                )
            )

        def other_tried(kinds: Set[str]) -> Optional[str]:
            found = [d for o, d in zip(self.others, described, strict=False) if o.get("type") in kinds]
            found += [_trial_words(a) for a in self.trials if a.name in kinds]
            return "; ".join(found) if found else None

        older = [a for a in self.trials if a.drug_class in ("maoi", "tca")]
        tried_map = {
            "tms": other_tried({"tms"}),
            "ect": other_tried({"ect"}),
            "ketamine_esketamine": other_tried({"ketamine", "esketamine"}),
            "maoi_tca": "; ".join(_trial_words(a) for a in older) or None,
        }
        options = [
            self.option(info.option(option_id), cautions, tried=tried_map[option_id]) for option_id in order
        ]
        return LayerResult(
            "mechanism", info.title, info.summary, status, reasons, options, self.t.cite(info.sources)
        )

    def layer_psychotherapy(self, trauma_result: str, cautions: Sequence[CautionResult]) -> LayerResult:
        info = self.t.layers["psychotherapy"]
        say = self.say
        reasons: List[Statement] = []
        for f in ("no_psychotherapy", "no_trauma_focused_therapy"):
            reasons.extend(self.flags.get(f, []))
        described: Dict[str, List[str]] = {}
        for p in self.therapies:
            kind = str(p.get("type"))
            sessions = p.get("sessions")
            completed = p.get("completed")
            state = _tri_word(completed, "finished", "not finished", "not known if finished")
            words = f"{THERAPY_NAMES[kind]} ({state}" + (
                f", about {sessions} sessions)" if sessions is not None else ")"
            )
            described.setdefault(THERAPY_OPTION.get(kind, kind), []).append(words)
        if self.therapies:
            reasons.append(
                say(
                    "Talking therapies recorded: "
                    + "; ".join(w for ws in described.values() for w in ws)
                    + ".",
                    "navigator_design",
                )
            )
        completed_structured = any(
            p.get("type") in STRUCTURED_THERAPIES and p.get("completed") is True for p in self.therapies
        )
        completed_trauma = any(
            p.get("type") in TRAUMA_FOCUSED_THERAPIES and p.get("completed") is True for p in self.therapies
        )

        if not self.therapy_known:
            status = "open"
            reasons.append(say("We don't know yet which talking therapies you have had.", "navigator_design"))
        elif "no_psychotherapy" in self.flags or "no_trauma_focused_therapy" in self.flags:
            status = "open"
        elif completed_structured and (trauma_result == "negative" or completed_trauma):
            status = "worked_through"
        else:
            status = "partly"
            if not completed_structured:
                reasons.append(
                    say(
                        "A structured therapy was started but is not recorded as finished.",
                        "navigator_design",
                    )
                )
            if trauma_result == "incomplete" and not completed_trauma:
                reasons.append(
                    say(
                        "The trauma questions were not fully answered; if trauma is part of the picture, "
                        "trauma-focused "
                        "therapy would be the step to ask about.",
                        "seed_000",
                        "navigator_design",
                    )
                )
            elif trauma_result == "positive" and not completed_trauma:
                reasons.append(
                    say(
                        "Trauma-focused therapy was started but is not recorded as finished.",
                        "seed_000",
                        "navigator_design",
                    )
                )

        order = ["behavioural_activation", "cbt", "ipt", "trauma_focused", "dbt", "act"]
        if trauma_result == "positive":
            order.remove("trauma_focused")
            order.insert(0, "trauma_focused")
        options = [
            self.option(
                info.option(option_id),
                cautions,
                tried="; ".join(described[option_id]) if option_id in described else None,
            )
            for option_id in order
        ]
        return LayerResult(
            "psychotherapy", info.title, info.summary, status, reasons, options, self.t.cite(info.sources)
        )

    def layer_emerging(self, cautions: Sequence[CautionResult]) -> LayerResult:
        info = self.t.layers["emerging"]
        say = self.say
        reasons = [
            say(
                "These options are not first-line and access is limited; they matter most once the layers "
                "above have been worked through.",
                "seed_000",
            )
        ]
        kinds = {str(o.get("type")): o for o in self.others if o.get("type") in EMERGING_TREATMENTS}
        for a in self.trials:
            if a.name == "psilocybin" and "psilocybin" not in kinds:
                kinds["psilocybin"] = {"type": "psilocybin", "completed": None}
        done = [k for k in EMERGING_TREATMENTS if k in kinds and kinds[k].get("completed") is True]
        if kinds:
            reasons.append(
                say("Already tried: " + _join([TREATMENT_NAMES[k] for k in kinds]) + ".", "navigator_design")
            )
        if len(done) == len(EMERGING_TREATMENTS):
            status = "worked_through"
        elif kinds:
            status = "partly"
        else:
            status = "open"
        tried_map = {"psilocybin": "psilocybin", "vns": "vns", "dbs": "dbs"}
        options = []
        for opt in info.options:
            kind = tried_map.get(opt.id)
            tried = None
            if kind and kind in kinds:
                completed = kinds[kind].get("completed")
                tried = _tri_word(completed, "completed", "not completed", "completion not known")
            options.append(self.option(opt, cautions, tried=tried))
        return LayerResult(
            "emerging", info.title, info.summary, status, reasons, options, self.t.cite(info.sources)
        )

    # -------------------------------------------------------------- plan and questions

    def measurement_plan(self, layers: Sequence[LayerResult], urgency: Urgency) -> MeasurementPlan:
        m = self.t.measurement
        phq9 = self.record.get("phq9")
        total: Optional[int] = None
        severity: Optional[str] = None
        targets: List[str] = []
        if isinstance(phq9, list):
            total = int(sum(phq9))
            severity = m.severity(total)
            ranked = sorted(range(9), key=lambda i: (-phq9[i], i))
            targets = [self.t.phq9_items[i] for i in ranked if phq9[i] >= 2][:4]
            if not targets:
                targets = [self.t.phq9_items[i] for i in ranked if phq9[i] >= 1][:3]
            if phq9[8] > 0 and self.t.phq9_items[8] not in targets:
                targets.append(self.t.phq9_items[8])
            note = (
                "Target symptoms are the PHQ-9 items you scored highest;"
                " agree the final list with your clinician."
            )
        else:
            note = (
                "No PHQ-9 yet: fill one in before the next change as a baseline, and choose two or three of "
                "these to track: " + "; ".join(m.tracking_areas) + "."
            )
        open_layers = [
            layer.title for layer in layers if layer.status != "worked_through" and layer.id != "emerging"
        ]
        backup = m.backup_plan
        if open_layers:
            backup += (
                " Layers not yet worked through, where a next step may come from: "
                + "; ".join(open_layers)
                + "."
            )
        safety = m.safety_text
        if urgency.urgent:
            safety = "Because of what you told us, this comes first. " + safety
        return MeasurementPlan(
            measure=m.measure,
            frequency=m.frequency,
            measure_text=m.measure_text,
            baseline_total=total,
            baseline_severity=severity,
            target_symptoms=targets,
            target_note=note,
            decision_points=[{"week": p.week, "text": p.text} for p in m.decision_points],
            response=m.response,
            remission=m.remission,
            backup_plan=backup,
            safety=safety,
            sources=self.t.cite(m.sources),
        )

    def questions(self) -> List[Statement]:
        out = [Statement(q.text, self.t.cite(q.sources)) for q in self.t.base_questions]
        lq = self.t.layers_question
        out.append(Statement(lq.text, self.t.cite(lq.sources)))
        fills = {
            "drugs": _join([a.name for a in self.ad if a.adequacy in FALSE_RESISTANCE_ADEQUACY]),
            "missing": _join(self.missing_labs),
        }
        findings = [f for f in FLAG_VOCABULARY if f in self.flags]
        unknown_adequacy = [a.name for a in self.trials if a.adequacy == "unknown"]
        if unknown_adequacy:
            findings.append("adequacy_unknown")
        for finding in findings:
            template = self.t.finding_questions.get(finding)
            if template is None:
                continue
            values = dict(fills)
            if finding == "adequacy_unknown":
                values["drugs"] = _join(unknown_adequacy)
            question = Statement(template.text.format(**values), self.t.cite(template.sources))
            if finding == "urgent":
                out.insert(0, question)  # safety first
            else:
                out.append(question)
        return out


ADEQUACY_WORDS: Mapping[str, str] = {
    "adequate": "a full trial",
    "intolerance": "stopped for side effects",
    "too_early": "too early to judge",
    "inadequate_dose": "dose below the minimum",
    "inadequate_duration": "too short to judge",
    "inadequate_adherence": "doses often missed",
    "unknown": "not known whether it was a full trial",
}


def _trial_words(trial: TrialAssessment) -> str:
    return f"{trial.name} ({ADEQUACY_WORDS[trial.adequacy]})"


def _tri_word(value: Any, yes: str, no: str, unknown: str) -> str:
    if value is True:
        return yes
    if value is False:
        return no
    return unknown


def _class_label(drug_class: Optional[str]) -> str:
    return CLASS_LABELS.get(str(drug_class), str(drug_class))


def _screen_word(result: Tri) -> str:
    if result is None:
        return "incomplete"
    return "positive" if result else "negative"


def _tried(condition: bool, trials: Sequence[TrialAssessment], pick: Any) -> Optional[str]:
    if not condition:
        return None
    found = [_trial_words(a) for a in trials if pick(a)]
    return "; ".join(found) or None


def evaluate(record: Mapping[str, Any], lexicon: Lexicon, treatments: Treatments) -> NavigatorResult:
    """Apply navigator.md sections 2-8 to a schema-valid intake record (no validation here)."""
    ev = _Evaluation(record, lexicon, treatments)
    ev.trial_flags()
    screens = ev.screens()
    ev.monoamine_flag()
    ev.therapy_flags(screens["trauma"].result)
    urgency = ev.urgency()
    cautions = ev.cautions(screens["bipolar"].result)
    layers = [
        ev.layer_reframe(screens, cautions),
        ev.layer_optimise(cautions),
        ev.layer_mechanism(urgency, cautions),
        ev.layer_psychotherapy(screens["trauma"].result, cautions),
        ev.layer_emerging(cautions),
    ]
    assert tuple(layer.id for layer in layers) == LAYER_IDS
    plan = ev.measurement_plan(layers, urgency)
    questions = ev.questions()
    flags = [f for f in FLAG_VOCABULARY if f in ev.flags]
    failed_names = sorted({a.name for a in ev.ad if a.failed_adequate})
    counts = {
        "antidepressant_trials": len(ev.ad),
        "augmentation_trials": len(ev.aug),
        "adequate_antidepressant_trials": sum(1 for a in ev.ad if a.adequacy == "adequate"),
        "failed_adequate_antidepressants": len(failed_names),
        "failed_adequate_names": failed_names,
        "classes_tried": sorted({str(a.drug_class) for a in ev.ad if a.drug_class}),
        "mechanisms_tried": sorted(
            {str(a.mechanism) for a in ev.trials if a.mechanism} | set(ev.mechanisms())
        ),
    }
    return NavigatorResult(
        disclaimer=treatments.disclaimer,
        flags=flags,
        flag_reasons={f: ev.flags[f] for f in flags},
        urgency=urgency,
        layers=layers,
        trials=ev.trials,
        counts=counts,
        screens=screens,
        cautions=cautions,
        measurement_plan=plan,
        questions=questions,
        unknowns=ev.unknowns,
    )


def navigate(record: Any, knowledge: Knowledge) -> NavigatorResult:
    """Validate `record` against the intake schema (raising IntakeValidationError naming the field),
    then evaluate it. The entry point for the CLI and the action server."""
    validate_intake(record, knowledge.validator)
    return evaluate(record, knowledge.lexicon, knowledge.treatments)
