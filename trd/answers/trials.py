"""The answers about one medicine trial: dose, weeks at that dose, side effects, still
taking it, and the read-back's confirmation or corrections.

Pure Python (no Rasa). Each reader returns the canonical value, UNKNOWN or INVALID
(never a guess). Fields are the schema's trial fields (``max_dose_mg``, ...).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from trd.answers.adherence import adherence_in_correction
from trd.answers.common import normalise_answer
from trd.answers.doses import parse_dose
from trd.answers.durations import parse_duration
from trd.answers.intake import is_unknown, parse_yes_no, strip_filler, unknownish
from trd.answers.medicines import _STOP_WORDS
from trd.answers.outcomes import OUTCOME_BUTTONS, outcome_in_correction
from trd.answers.values import INVALID, UNKNOWN

MAX_SIDE_EFFECTS = 20
MAX_SIDE_EFFECT_CHARS = 120
# The trial fields the read-back can correct, in the order asked.
FIELDS = ("max_dose_mg", "weeks_at_dose", "adherence", "outcome", "side_effects", "still_taking")


def read_dose(text: str) -> Any:
    """mg per day, UNKNOWN, or INVALID (asked again with an example: never a guess)."""
    mg = parse_dose(text)
    if mg is not None:
        return mg
    return UNKNOWN if unknownish(text) else INVALID


def read_weeks(text: str) -> Any:
    weeks = parse_duration(text, default_unit="weeks")
    if weeks is not None:
        return weeks
    return UNKNOWN if unknownish(text) else INVALID


_NO_SIDE_EFFECTS = frozenset(
    {
        "none",
        "no",
        "nope",
        "nah",
        "nothing",
        "no side effects",
        "no side effect",
        "none at all",
        "not really",
        "no none",
        "nothing really",
        "nothing at all",
        "none really",
        "no not really",
        "no side effects at all",
        "didnt have any",
        "i didnt have any",
        "none that i noticed",
        "not that i noticed",
        "no nothing",
    }
)
_LIST_SPLIT = re.compile(r"\s*(?:,|;|\n|/|\+|&|\band\b|\bplus\b|\bas well as\b|\balso\b|\bthen\b)\s*", re.I)
_LEAD_IN = re.compile(
    r"^(?:side ?effects?(?: (?:were|was|are|included?|like|of))?\s*:?|it (?:gave|caused|made) me|"
    r"(?:it )?gave me|caused|i (?:had|got|felt|was|have)|(?:there was|there were)|some|a bit of|a lot of|"
    r"lots of|mostly|mainly|mostly just|just|really|bad|the)\s+",
    re.I,
)


def split_side_effects(text: str) -> List[str]:
    """ "nausea, weight gain and trouble sleeping" -> ["nausea", "weight gain", "trouble sleeping"]."""
    items: List[str] = []
    for part in _LIST_SPLIT.split(text):
        item = part.strip(" .!?-:\"'()").lower()
        changed = True
        while changed and item:
            stripped = _LEAD_IN.sub("", item, count=1).strip(" .!?-:\"'()")
            changed = stripped != item
            item = stripped
        if not item or not re.search(r"[^\W\d_]", item) or item in _STOP_WORDS:
            continue
        item = item[:MAX_SIDE_EFFECT_CHARS].rstrip()
        if item not in items:
            items.append(item)
    return items[:MAX_SIDE_EFFECTS]


def read_side_effects(text: str) -> Any:
    t = strip_filler(text)
    if t in _NO_SIDE_EFFECTS or normalise_answer(text) in _NO_SIDE_EFFECTS:
        return []
    if unknownish(text):
        return UNKNOWN
    items = split_side_effects(text)
    return items if items else INVALID


_STOPPED = re.compile(
    r"\b(not|no longer|never) (taking|on) (it|them|that)\b|\bno longer\b|\bnot any ?more\b|\bstopped\b"
    r"|\bcame off\b|\bquit\b|\bnot now\b|\bgave (it )?up\b|\bweaned off\b|\btapered off\b"
)
_STILL = re.compile(r"\bstill\b|\bcurrently\b|\bat the moment\b|\bright now\b|\bi am on it\b|\bim on it\b")


def read_still_taking(text: str) -> Any:
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if _STOPPED.search(t):
        return False
    if _STILL.search(t):
        return True
    parsed = parse_yes_no(text)
    if parsed is INVALID and unknownish(text):
        return UNKNOWN
    return parsed


# --- the read-back and its corrections --------------------------------------------------------

_FIELD_WORDS: Tuple[Tuple[str, str], ...] = (
    ("max_dose_mg", r"dose|dosage|doses? taken|amount|mg|how much"),
    ("weeks_at_dose", r"how long|duration|length|time|weeks?|months?"),
    (
        "adherence",
        r"missed doses|doses missed|how often|how regularly|adherence|missing doses|taken most days",
    ),
    ("outcome", r"what happened|outcome|result|how it went|effect"),
    ("side_effects", r"side ?effects?"),
    ("still_taking", r"still taking( it)?|whether (i am|im) still taking it"),
    ("purpose", r"what it was for|what its for|purpose|reason"),
    ("added_to", r"added to|added on top|what it was added to|on its own|combination"),
    ("relapse_while_taking", r"when it came back|relapse"),
)
_PICK = [
    (
        field,
        re.compile(
            rf"^(?:(?:no|nope|wrong)\s+)?(?:(?:change|fix|correct|edit|update|redo)\s+)?"
            rf"(?:the\s+)?(?:{words})"
            rf"(?:\s+(?:is|was|are|were|part is|bit is)\s+(?:wrong|not right|incorrect|off))?$"
        ),
    )
    for field, words in _FIELD_WORDS
]
_CONFIRM_YES = frozenset(
    {
        "yes",
        "yes thats right",
        "yes that is right",
        "yes its right",
        "thats right",
        "that is right",
        "thats correct",
        "yes correct",
        "correct",
        "right",
        "yep",
        "yeah",
        "yup",
        "looks good",
        "looks right",
        "all good",
        "perfect",
        "spot on",
        "exactly",
        "yes exactly",
        "yes perfect",
        "sounds right",
        "thats it",
        "yes thats it",
        "yes all correct",
        "all correct",
        "yes all good",
        "yes thanks",
        "ok",
        "okay",
    }
)
_CONFIRM_NO = re.compile(
    r"^(no|nope|nah|not quite|not really|not right|thats wrong|that is wrong|wrong|incorrect|not correct|"
    r"thats not right|that isnt right|thats not correct|something is wrong|somethings wrong|"
    r"no thats wrong|no thats not right|no its not|no not quite|no something is wrong|"
    r"i need to change something|"
    r"change something)$"
)
_MASS_UNIT = re.compile(r"(?:\d|\b)(?:mg|mgs|milligrams?|mcg|micrograms?|ug|g|grams?|gm)\b", re.I)
_TIME_UNIT = re.compile(r"\b(?:days?|weeks?|wks?|months?|mos?|years?|yrs?|fortnights?)\b|\bsince\b", re.I)
_CLAUSES = re.compile(r"\s*(?:,|;|\bfor\b|\bbut\b|\bover\b|\bduring\b|\band\b(?!\s+(?:a half|\d)))\s*", re.I)
_CORRECTION_STILL = re.compile(
    r"\bstill (taking|on|take) (it|them|that)\b|\bi(m| am) still (on|taking)\b|\bi still take\b"
    r"|\bcurrently (taking|on) it\b"
)
_CORRECTION_STOPPED = re.compile(
    r"\b(stopped|quit) (taking )?(it|them)\b|\b(not|no longer) (taking|on) (it|them)\b|\bno longer\b"
    r"|\bcame off( it)?\b|\bnot any ?more\b|\bi stopped\b"
)
_CORRECTION_SIDE_EFFECTS = re.compile(
    r"\bside ?effects? (?:were|was|are|included?|like|of)\s+(?P<list>.+)$"
    r"|\bside ?effects?\s*:\s*(?P<list2>.+)$"
    r"|\b(?:it )?(?:gave me|caused)\s+(?P<list3>.+)$",
    re.I,
)
_CORRECTION_NO_SIDE_EFFECTS = re.compile(r"\bno side ?effects?\b|\bdidnt have (any )?side ?effects?\b")


def _first_in_clauses(text: str, reader: Any, unit: re.Pattern[str]) -> Optional[float]:
    value = reader(text)
    if value is not None:
        return float(value)
    for clause in _CLAUSES.split(text):
        if clause and unit.search(clause):
            value = reader(clause)
            if value is not None:
                return float(value)
    return None


def read_corrections(text: str) -> Dict[str, Any]:
    """Trial fields a correction names, read by what it contains ({} when it names none).

    "no, it was 100 mg" -> {"max_dose_mg": 100}; "it was 12 weeks" -> {"weeks_at_dose": 12};
    "I missed a lot of doses" -> {"adherence": "often_missed"}. A number without a unit is
    not read: it could be a dose or a time, and the form does not guess.
    """
    fixes: Dict[str, Any] = {}
    raw = text.strip()
    t = normalise_answer(raw)
    rest = t
    if _MASS_UNIT.search(raw):
        mg = _first_in_clauses(raw, parse_dose, _MASS_UNIT)
        if mg is not None:
            fixes["max_dose_mg"] = mg
    if _TIME_UNIT.search(raw):
        weeks = _first_in_clauses(raw, parse_duration, _TIME_UNIT)
        if weeks is not None:
            fixes["weeks_at_dose"] = weeks
    listed = _CORRECTION_SIDE_EFFECTS.search(raw)
    if _CORRECTION_NO_SIDE_EFFECTS.search(t):
        fixes["side_effects"] = []
        rest = _CORRECTION_NO_SIDE_EFFECTS.sub(" ", rest)
    elif listed:
        said = listed.group("list") or listed.group("list2") or listed.group("list3") or ""
        items = split_side_effects(said)
        if items:
            fixes["side_effects"] = items
            rest = normalise_answer(raw[: listed.start()])
    if _CORRECTION_STILL.search(rest):
        fixes["still_taking"] = True
        rest = _CORRECTION_STILL.sub(" ", rest)
    elif _CORRECTION_STOPPED.search(rest) and not re.search(r"\bstopped (working|helping)\b", rest):
        fixes["still_taking"] = False
    adherence, rest = adherence_in_correction(rest)
    if adherence is not None:
        fixes["adherence"] = adherence
    outcome = outcome_in_correction(rest)
    if outcome is not None:
        fixes["outcome"] = outcome
        if outcome == "stopped_side_effects":
            fixes.setdefault("still_taking", False)
    else:
        stripped = re.sub(r"^(no|nope|actually|sorry|wait|well|oh)\s+", "", strip_filler(rest))
        if stripped in OUTCOME_BUTTONS:
            fixes["outcome"] = OUTCOME_BUTTONS[stripped]
    return fixes


def read_confirm(text: str) -> Any:
    """True; {"fix": {...}}; {"pick": field} (the trial field to ask again); {"which": True} for a
    bare "no"; UNKNOWN; INVALID."""
    t = normalise_answer(text)
    if not _CORRECTION_NO_SIDE_EFFECTS.search(t):
        for field, pattern in _PICK:
            if pattern.match(t):
                return {"pick": field}
    fixes = read_corrections(text)
    if fixes:
        return {"fix": fixes}
    if t in _CONFIRM_YES or strip_filler(text) in _CONFIRM_YES:
        return True
    if _CONFIRM_NO.match(t):
        return {"which": True}
    if is_unknown(text):
        return UNKNOWN
    if parse_yes_no(text) is True:
        return True
    return INVALID
