"""A medicine trial read back in plain words, for the person to confirm or correct."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from trd.answers.medicines import default_lexicon
from trd.navigator.lexicon import DrugEntry, Lexicon, normalise_name


def _num(value: float) -> str:
    return f"{round(value, 2):g}"


def _half(value: float) -> str:
    return _num(round(value * 2) / 2)


def dose_words(mg: Optional[float]) -> str:
    if mg is None:
        return "dose not known"
    if mg < 1:
        return f"up to {_num(mg * 1000)} mcg a day"
    return f"up to {_num(mg)} mg a day"


WEEKS_PER_MONTH = 365.25 / 12 / 7


def duration_words(weeks: Optional[float]) -> str:
    if weeks is None:
        return "for an unknown time"
    if weeks < 2 and not float(weeks).is_integer():
        days = max(1, round(weeks * 7))
        return f"for about {days} day" + ("s" if days != 1 else "")
    if float(weeks).is_integer() and weeks <= 26 or weeks < 8:
        return f"for about {_half(weeks)} week" + ("s" if weeks != 1 else "")
    if weeks < 104:
        months = weeks / WEEKS_PER_MONTH
        return f"for about {_half(months)} month" + ("s" if round(months * 2) / 2 != 1 else "")
    years = weeks / (365.25 / 7)
    return f"for about {_half(years)} years"


_ADHERENCE_WORDS = {"most_days": "taken most days", "often_missed": "doses often missed"}
_OUTCOME_WORDS = {
    "no_response": "no change",
    "partial_response": "some improvement",
    "response_then_relapse": "improved, then it came back",
    "remission": "got well",
    "stopped_side_effects": "stopped because of side effects",
    "too_early": "too early to tell",
}


def trial_label(trial: Mapping[str, Any], lexicon: Optional[Lexicon] = None) -> str:
    """The name to ask about: the brand the person used ("Zoloft"), else the generic."""
    drug = str(trial.get("drug") or "")
    said = str(trial.get("name_given") or "")
    lex = lexicon or default_lexicon()
    entry: Optional[DrugEntry] = lex.lookup(drug) if drug else None
    if entry is None:
        return said or drug
    key = normalise_name(said)
    for brand in entry.brands:
        if normalise_name(brand) == key:
            return brand
    return entry.generic


_PURPOSE_WORDS = {
    "sleep": "for sleep",
    "pain": "for pain",
    "depression": "for depression",
    "other": "for something else",
}


def readback(trial: Mapping[str, Any], lexicon: Optional[Lexicon] = None) -> str:
    """ "Sertraline, up to 150 mg a day for about 8 weeks, taken most days; some improvement;
    side effects: nausea; still taking it." A medicine taken for sleep or pain: "Trazodone,
    for sleep, up to 50 mg a day; still taking it." """
    drug = str(trial.get("drug") or "")
    label = trial_label(trial, lexicon)
    name = label[:1].upper() + label[1:]
    if label.lower() != drug.lower() and drug:
        name = f"{name} ({drug})"
    purpose = trial.get("purpose")
    if purpose in _PURPOSE_WORDS:
        name = f"{name}, {_PURPOSE_WORDS[str(purpose)]}"
    dose = trial.get("max_dose_mg")
    still_taking = trial.get("still_taking")
    still = {True: "still taking it", False: "not taking it now"}.get(
        still_taking if isinstance(still_taking, bool) else None,  # type: ignore[arg-type]
        "not sure whether still taking it",
    )
    added = trial.get("added_to")
    added_words = f"; added on top of {added}" if isinstance(added, str) and added else ""
    if purpose in ("sleep", "pain"):
        return f"{name}, {dose_words(dose)}; {still}{added_words}."
    weeks = trial.get("weeks_at_dose")
    head = f"{name}, {dose_words(dose)}"
    head += f" {duration_words(weeks)}" if dose is not None else f", {duration_words(weeks)}"
    adherence = _ADHERENCE_WORDS.get(str(trial.get("adherence")), "not sure how regularly it was taken")
    outcome = _OUTCOME_WORDS.get(str(trial.get("outcome")), "what happened is not known")
    if trial.get("outcome") == "response_then_relapse":
        relapse = trial.get("relapse_while_taking")
        if relapse is True:
            outcome += " while still taking it"
        elif relapse is False:
            outcome += " after stopping or lowering it"
    if "side_effects" not in trial:
        side = "side effects not known"
    elif trial["side_effects"]:
        side = "side effects: " + ", ".join(str(s) for s in trial["side_effects"])
    else:
        side = "no side effects"
    return f"{head}, {adherence}; {outcome}; {side}; {still}{added_words}."


def join_names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
