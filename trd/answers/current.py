"""The medicines someone takes now, every one (navigator.md section 10, for interactions):
several in one message, each with its dose when given, read back for a yes or a change.

Pure Python (no Rasa). Names come from :mod:`trd.answers.medicines` (the drug lexicon with the
medicines and supplements of data/knowledge/other_medicines.yml, and the NLU's ``drug``
entities): a name the lexicon knows is stored as its generic; another
name is kept as typed (lower case) and marked unrecognised, never matched to a drug. A dose
is read from the words next to its name ("sertraline 100 mg"; "100 mg of sertraline"); a
bare number counts as milligrams only beside a name the lexicon knows ("zoloft 50").
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence

from trd.answers.common import normalise_answer
from trd.answers.doses import parse_dose
from trd.answers.intake import is_unknown, parse_yes_no, strip_filler, unknownish
from trd.answers.medicines import MAX_NAME_CHARS, Located, locate_medicines, taken_now_lexicon
from trd.answers.readback import join_names
from trd.answers.values import INVALID, UNKNOWN
from trd.navigator.lexicon import Lexicon, normalise_name

MAX_CURRENT = 30
_MASS_UNIT = re.compile(r"(?:\d|\b)(?:mg|mgs|milligrams?|mcg|micrograms?|ug|g|grams?|gm)\b", re.I)
_NONE = frozenset(
    {
        "none",
        "no",
        "nope",
        "nothing",
        "nothing else",
        "none else",
        "no others",
        "nothing at all",
        "i dont take anything",
        "i dont take anything else",
        "not taking anything",
        "im not taking anything",
        "i am not taking anything",
        "no medicines",
        "no medications",
        "no meds",
        "nothing right now",
        "nothing at the moment",
        "none at the moment",
        "none right now",
        "no none",
        "not anything",
        "none at all",
        "no thats it",
        "thats it",
        "thats all",
        "no nothing else",
        "nothing more",
        "just those",
        "only those",
        "just that",
        "only that",
        "no more",
        "none of note",
    }
)


def _dose(item: Located) -> Optional[float]:
    """The dose said next to a name, in mg a day (None when none was given)."""
    for words in (item.after, item.before):
        if not words.strip() or not re.search(r"\d", words):
            continue
        if item.mention.generic is None and not _MASS_UNIT.search(words):
            continue  # "omega 3": a number beside an unknown name is not a dose
        mg = parse_dose(words)
        if mg is not None:
            return mg
    if item.mention.generic is not None and not re.search(r"\d", item.after):
        # "naproxen for my knee, 500 mg I think": a dose with its unit, in a stretch of its own
        # before the next name
        doses = [parse_dose(part) for part in _SEPARATOR.split(item.tail) if _MASS_UNIT.search(part)]
        found = [mg for mg in doses if mg is not None]
        if len(found) == 1:
            return found[0]
    return None


_SEPARATOR = re.compile(r"[,;\n]|\.(?=\s|$)|\band\b|\bplus\b|\+")
# Said after the list: what follows is not part of it ("lithium 400mg, that's all, the clinic checks").
_LIST_END = re.compile(
    r"\b(?:nothing else|thats (?:all|it|everything)|that is (?:all|it|everything)|nothing more|no others)\b",
    re.IGNORECASE,
)
# "nothing at present, I came off all of them last spring", "I stopped all of them", "nothing now"
_NOW_WORDS = re.compile(
    r"\b(?:rn|atm|now|right now|currently|at the moment|at present|these days|anymore|any more|lately"
    r"|really|at all|thanks|thank you|tbh|honestly)\b"
)
_STOPPED_ALL = re.compile(
    r"\b(?:came|come|coming|got|am|im|i am|been) off (?:everything|all (?:of )?(?:them|it|my \w+)|all)\b"
    r"|\b(?:stopped|quit|stopped taking|dropped) (?:everything|all (?:of )?(?:them|my \w+)|them all|all)\b"
    r"|\b(?:dont|do not) take (?:anything|any of (?:them|those|it))(?: any ?more| now)?\b"
    r"|\bnot (?:on|taking) (?:anything|any)\b"
)
# Nothing any more, said at the read-back (a bare "none" there may mean "no changes": asked again)
_NONE_NOW = re.compile(
    r"^(?:(?:i )?(?:take |taking )?(?:none|nothing|no (?:meds|medicines|medications|pills))"
    r"(?: of (?:them|those|it))?)"
    r"\s+(?:now|anymore|any more|at the moment|these days|currently|right now|at all now)$"
)
# A medicine described without its name ("something for my thyroid", "the small pink one"):
# a pharmacist would ask which; so does the form.
_UNNAMED = re.compile(
    r"\bsomething (?:for|starting|beginning|called|else for|to help)\b"
    r"|\b(?:cant|can not|cannot|dont|do not) (?:remember|recall|know) (?:the |its |their |what )?"
    r"(?:names?|its called)\b"
    r"|\bforg[eo]t(?:ten)? (?:the |its |their )?names?\b"
    r"|\bnot sure (?:of |about )?(?:the |its )?names?\b"
    r"|\bthe (?:little |small |tiny |big )?(?:white|blue|yellow|pink|orange|green|red|purple|brown)"
    r" (?:one|pill|tablet)s?\b"
    r"|\b(?:a|one|some) (?:pill|tablet|medicine|medication|med) for\b"
)


def _none_answer(text: str) -> bool:
    """Nothing taken now, in a few words ("nothing atm, stopped them all in the autumn")."""
    t = strip_filler(text)
    if t in _NONE or normalise_answer(text) in _NONE or parse_yes_no(text) is False:
        return True
    first = re.split(r"[,;.]", text, maxsplit=1)[0]
    short = " ".join(_NOW_WORDS.sub(" ", strip_filler(first)).split())
    return short in _NONE or bool(_STOPPED_ALL.search(normalise_answer(text)))


def medicine_item(item: Located) -> Dict[str, Any]:
    said = item.mention.said.strip()[:MAX_NAME_CHARS]
    known = item.mention.generic is not None
    return {
        "drug": item.mention.generic if known else said.lower(),
        "dose_mg": _dose(item),
        "name_given": said,
        "recognised": known,
    }


def _items(
    text: str, message: Optional[Mapping[str, Any]], lexicon: Optional[Lexicon]
) -> List[Dict[str, Any]]:
    items: List[Dict[str, Any]] = []
    for located in locate_medicines(text, message, taken_now_lexicon(lexicon)):
        item = medicine_item(located)
        same = next((i for i in items if i["drug"] == item["drug"]), None)
        if same is None:
            items.append(item)
        elif same["dose_mg"] is None:
            same["dose_mg"] = item["dose_mg"]
    return items[:MAX_CURRENT]


def read_current_medicines(
    text: str, message: Optional[Mapping[str, Any]] = None, lexicon: Optional[Lexicon] = None
) -> Any:
    """{"medicines": [{drug, dose_mg, name_given, recognised}], "none": False}; none: {"medicines": [],
    "none": True}; UNKNOWN; INVALID (asked again: also when a medicine is described, not named)."""
    end = _LIST_END.search(text)
    listed = text[: end.start()] if end and end.start() > 0 else text
    items = _items(listed, message if listed == text else None, lexicon)
    if not any(item["recognised"] for item in items):
        # a skip, "not sure" or "none" is never read as an unknown name ("skip", "honestly")
        if is_unknown(text):
            return UNKNOWN
        if _none_answer(text):
            return {"medicines": [], "none": True}
        if unknownish(text):
            return UNKNOWN
    if _UNNAMED.search(normalise_answer(text)):
        return INVALID
    if items:
        return {"medicines": items, "none": False}
    return INVALID


def is_medicines_value(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("medicines"), list)
        and all(isinstance(m, Mapping) and isinstance(m.get("drug"), str) for m in value["medicines"])
    )


# --- the read-back and its changes -------------------------------------------------------------------

_YES = frozenset(
    {
        "yes",
        "yes thats everything",
        "thats everything",
        "yes thats right",
        "thats right",
        "correct",
        "yes correct",
        "yes thats all",
        "thats all",
        "yep",
        "yeah",
        "yup",
        "right",
        "all good",
        "looks good",
        "looks right",
        "yes all good",
        "yes that is everything",
        "that is everything",
        "yes thats it",
        "thats it",
        "yes everything",
        "perfect",
        "spot on",
        "ok",
        "okay",
        "yes thanks",
        "all correct",
        "yes all correct",
        "yes thats correct",
        "thats correct",
        "sounds right",
        "exactly",
    }
)
_NO = re.compile(
    r"^(?:no|nope|nah|not quite|not really|thats wrong|that is wrong|wrong|not right|incorrect|not everything"
    r"|no thats wrong|no not quite|something is wrong|somethings wrong|no something is missing"
    r"|something is missing"
    r"|somethings missing|i need to change something|change something|no thats not right|no its not)$"
)
_REMOVE = re.compile(
    r"\b(?:not|no longer|stopped|stop|remove|delete|take off|take out|dont take|do not take|dont|quit"
    r"|came off|come off|without|drop|not taking|no more|finished|discontinued|off)\b"
)


def read_current_confirm(
    text: str, message: Optional[Mapping[str, Any]] = None, lexicon: Optional[Lexicon] = None
) -> Any:
    """True (everything is right); {"edits": [{"op": "set"|"remove", ...item}]} ("also ibuprofen",
    "sertraline is 50 mg", "I stopped the lisinopril"); {"edits": [{"op": "clear"}]} when nothing
    is taken now any more ("I stopped all of them"); {"which": True} for a bare "no"; UNKNOWN;
    INVALID."""
    located = locate_medicines(text, message, taken_now_lexicon(lexicon))
    if located:
        edits: List[Dict[str, Any]] = []
        for item in located:
            words = normalise_answer(f"{item.before} {item.after}")
            op = "remove" if _REMOVE.search(words) else "set"
            edits.append({"op": op, **medicine_item(item)})
        return {"edits": edits}
    t = normalise_answer(text)
    if t in _YES or strip_filler(text) in _YES:
        return True
    if _STOPPED_ALL.search(t) or _NONE_NOW.search(t):
        return {"edits": [{"op": "clear"}]}  # "I stopped all of them", "nothing now"
    if _NO.match(t):
        return {"which": True}
    if is_unknown(text):
        return UNKNOWN
    if parse_yes_no(text) is True:
        return True
    return INVALID


def is_confirm_value(value: Any) -> bool:
    return value is True


def apply_edits(
    current: Sequence[Mapping[str, Any]], edits: Sequence[Mapping[str, Any]]
) -> List[Dict[str, Any]]:
    """The list after the changes a read-back answer names (a dose given replaces the old one)."""
    result = [dict(m) for m in current]
    for edit in edits:
        if edit.get("op") == "clear":
            result = []  # nothing taken now
            continue
        key = normalise_name(str(edit.get("drug") or ""))
        found = next((m for m in result if normalise_name(str(m.get("drug") or "")) == key), None)
        if edit.get("op") == "remove":
            if found is not None:
                result.remove(found)
            continue
        item = {k: edit.get(k) for k in ("drug", "dose_mg", "name_given", "recognised")}
        if found is None:
            result.append(item)
        elif item["dose_mg"] is not None:
            found["dose_mg"] = item["dose_mg"]
    return result[:MAX_CURRENT]


def _dose_words(mg: Any) -> str:
    if not isinstance(mg, (int, float)) or isinstance(mg, bool):
        return "dose not given"
    if mg < 1:
        return f"{round(mg * 1000, 2):g} mcg a day"
    return f"{round(mg, 2):g} mg a day"


def _label(item: Mapping[str, Any], lexicon: Optional[Lexicon]) -> str:
    drug = str(item.get("drug") or "")
    said = str(item.get("name_given") or drug)
    if not item.get("recognised", True):
        return f"{said} (a name I don't know, kept as you typed it)"
    lex = taken_now_lexicon(lexicon)
    entry = lex.lookup(drug)
    if entry is None:
        return said or drug
    key = normalise_name(said)
    brand = next((b for b in entry.brands if normalise_name(b) == key), None)
    return f"{brand} ({entry.generic})" if brand else entry.generic


def current_readback(items: Sequence[Mapping[str, Any]], lexicon: Optional[Lexicon] = None) -> str:
    """ "Zoloft (sertraline), 100 mg a day; lisinopril, dose not given." (one line per medicine)"""
    if not items:
        return "No medicines at the moment."
    lines = [f"- {_label(item, lexicon)}, {_dose_words(item.get('dose_mg'))}" for item in items]
    return "\n".join(lines)


def noted_names(items: Sequence[Mapping[str, Any]], lexicon: Optional[Lexicon] = None) -> str:
    """ "Zoloft and lithium" (for "you said you still take ...")."""
    labels = []
    for item in items:
        label = _label(item, lexicon)
        labels.append(label.split(" (")[0] if "(" in label else label)
    return join_names(labels)
