"""The intake's question kinds (parts 1, 3-5): PHQ-9, yes/no, months, counts, therapy,
completion, other treatments; and the navigation words every form hears.

Pure functions from typed text to a canonical value, registered as kinds in
:mod:`trd.answers.kinds` (outcomes are in :mod:`trd.answers.outcomes`).

Each parser returns the canonical value, :data:`UNKNOWN` when the person said they
don't know (stored as null in the record; unknown is never "no"), or :data:`INVALID`
when the text is not an answer to the question (the form asks again with a hint).
Parsers accept what people type: button words, numbers, short sentences, typos in
case and punctuation. They never guess from vague words ("sometimes", "a few"):
those are asked again, with the options spelled out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

from trd.answers.common import SKIP_PHRASES, normalise_answer
from trd.answers.numbers import UpperBound, qualifier_pattern, read_number
from trd.answers.values import INVALID, UNKNOWN

# Said instead of an answer: unknown, never "no".
UNKNOWN_PHRASES: FrozenSet[str] = frozenset(
    SKIP_PHRASES
    | {
        "maybe",
        "possibly",
        "perhaps",
        "sort of",
        "kind of",
        "kinda",
        "not certain",
        "im not certain",
        "i am not certain",
        "hard to say",
        "its hard to say",
        "no clue",
        "i have no clue",
        "i really dont know",
        "i honestly dont know",
        "honestly i dont know",
        "i dont recall",
        "i cant recall",
        "cant recall",
        "dont recall",
        "i forget",
        "i forgot",
        "not sure really",
        "no idea really",
        "unknown",
        "dont know really",
        "i dunno",
        "who knows",
        "skip please",
        "please skip",
        "skip that one",
        "skip the question",
        "skip this question",
        "i dont know sorry",
        "sorry i dont know",
        "not sure sorry",
        "sorry not sure",
        "im unsure",
        "i am unsure",
        "i really cant remember",
        "i dont really know",
        "not sure tbh",
    }
)

_FILLER_PREFIXES = (
    "i would say",
    "id say",
    "i guess",
    "i think",
    "probably",
    "about",
    "around",
    "roughly",
    "approximately",
    "maybe about",
    "um",
    "uh",
    "hmm",
    "well",
    "honestly",
    "its",
    "it is",
    "it was",
    "i suppose",
    "like",
    "just",
)
_FILLER_SUFFIXES = (
    "i think",
    "i guess",
    "probably",
    "or so",
    "i suppose",
    "roughly",
    "thanks",
    "thank you",
    "honestly",
    "tbh",
    "to be honest",
    "lol",
    "haha",
    "sorry",
)


def strip_filler(text: str) -> str:
    """Normalised text without hedges around the answer ("I'd say several days, I think")."""
    t = normalise_answer(text)
    changed = True
    while changed and t:
        changed = False
        for prefix in _FILLER_PREFIXES:
            if t.startswith(prefix + " "):
                t = t[len(prefix) + 1 :]
                changed = True
        for suffix in _FILLER_SUFFIXES:
            if t.endswith(" " + suffix):
                t = t[: -len(suffix) - 1]
                changed = True
    return t.strip()


# Declining in one's own words ("I'd prefer not to give my age", "not answering that one"): a skip.
# Only verbs of telling: "I'd rather not be here" is no decline.
_DECLINE = re.compile(
    r"\b(?:(?:prefer|rather|like) not|(?:dont|do not|wont|will not) (?:want|wish|care) to|not (?:going|gonna|"
    r"comfortable|willing|happy|ready)(?: to)?|not keen (?:on|to))\s+(?:to\s+)?"
    r"(?:answer|say|tell|share|give|talk|discuss|list|go into|get into|disclose|type|write|put|answering"
    r"|saying|sharing|talking|giving|listing|going into)\b"
    r"|\bnot answering\b|\bno comment\b|\bnone of (?:your|ur) business\b|\bpass on (?:this|that)\b"
    r"|\bskip(?:ping)? (?:this|that|it)\b"
)
MAX_DECLINE_WORDS = 12


def is_unknown(text: str) -> bool:
    t = normalise_answer(text)
    if t in UNKNOWN_PHRASES or strip_filler(text) in UNKNOWN_PHRASES:
        return True
    return len(t.split()) <= MAX_DECLINE_WORDS and bool(_DECLINE.search(t))


_UNKNOWN_WORDS = re.compile(
    r"\b(dont|do not|cant|cannot|can not) (really )?(know|remember|recall|say)\b|\bnot (really )?sure\b"
    r"|\bno idea\b|\bforgot(ten)?\b|\bforget\b|\bunsure\b|\bno clue\b"
)


def unknownish(text: str) -> bool:
    """ "not sure", "I can't remember the dose": unknown, when no number is given."""
    if is_unknown(text):
        return True
    t = normalise_answer(text)
    return bool(_UNKNOWN_WORDS.search(t)) and not re.search(r"\d", t) and len(t.split()) <= 12


# --- PHQ-9: 0-3 by button words, numbers or words ------------------------------------

PHQ9_ANSWER_WORDS: Tuple[str, ...] = (
    "Not at all",
    "Several days",
    "More than half the days",
    "Nearly every day",
)

_PHQ9_WORDS: Dict[str, int] = {
    # 0
    "not at all": 0,
    "never": 0,
    "none": 0,
    "no": 0,
    "not once": 0,
    "none of the time": 0,
    "nope": 0,
    "zero": 0,
    "no days": 0,
    "0 days": 0,
    "not really at all": 0,
    # 1
    "several days": 1,
    "several": 1,
    "a few days": 1,
    "some days": 1,
    "one": 1,
    "a couple of days": 1,
    "a couple days": 1,
    # 2
    "more than half the days": 2,
    "more than half of the days": 2,
    "more than half": 2,
    "over half the days": 2,
    "more than half the time": 2,
    "most days": 2,
    "two": 2,
    # 3
    "nearly every day": 3,
    "almost every day": 3,
    "every day": 3,
    "everyday": 3,
    "every single day": 3,
    "all the time": 3,
    "daily": 3,
    "constantly": 3,
    "three": 3,
    "pretty much every day": 3,
    "nearly everyday": 3,
    "almost everyday": 3,
    "always": 3,
}
_PHQ9_NUMBER = re.compile(r"^([0-3])(?:\s+(.*))?$")


def parse_phq9(text: str) -> Any:
    """0-3 from "2", "2 more than half the days", "several days", "Nearly every day"."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if t in _PHQ9_WORDS:
        return _PHQ9_WORDS[t]
    match = _PHQ9_NUMBER.match(t)
    if match:
        number = int(match.group(1))
        rest = (match.group(2) or "").strip()
        if not rest or _PHQ9_WORDS.get(rest) == number:
            return number
    return INVALID


# --- yes / no ---------------------------------------------------------------------------

_YES = frozenset(
    {
        "yes",
        "y",
        "yeah",
        "yea",
        "yep",
        "yup",
        "ya",
        "yes i have",
        "yes i did",
        "yes i do",
        "i have",
        "i did",
        "i do",
        "i am",
        "sure",
        "definitely",
        "absolutely",
        "correct",
        "true",
        "thats right",
        "that's right",
        "right",
        "i have had",
        "i had",
        "yes definitely",
        "yes please",
        "yes absolutely",
        "yes a lot",
        "yes often",
        "yes sometimes",
        "a few times",
        "once",
        "twice",
        "many times",
        "often",
        "sometimes",
        "yes once",
        "yes twice",
        "affirmative",
        "certainly",
        "of course",
        "it has",
        "they have",
        "they did",
        "i could",
        "yes i could",
        "i can",
        "yes i can",
        "probably yes",
        "yes probably",
        "mostly yes",
        "yes mostly",
        "yes i am",
        "i would",
        "yes it does",
        "it does",
        "yes it did",
        "it did",
        "yes they did",
        "yes they have",
        "yes there were",
        "there were",
        "yes it was",
        "yes it is",
        "it is",
    }
)
_NO = frozenset(
    {
        "no",
        "n",
        "nope",
        "nah",
        "na",
        "never",
        "no never",
        "not really",
        "i havent",
        "i have not",
        "i didnt",
        "i did not",
        "i dont",
        "i do not",
        "im not",
        "i am not",
        "none",
        "not at all",
        "false",
        "no i havent",
        "no i have not",
        "no i didnt",
        "no i did not",
        "no i dont",
        "no i do not",
        "no im not",
        "no i am not",
        "not that i know of",
        "not that i know",
        "not that im aware of",
        "negative",
        "no not really",
        "definitely not",
        "absolutely not",
        "no way",
        "not ever",
        "no none",
        "no one",
        "nobody",
        "no it hasnt",
        "it hasnt",
        "they havent",
        "no they havent",
        "no they didnt",
        "i couldnt",
        "no i couldnt",
        "i cant",
        "no i cant",
        "i could not",
        "no it doesnt",
        "it doesnt",
        "no it didnt",
        "it didnt",
        "doesnt apply",
        "does not apply",
        "not applicable",
        "no there werent",
        "there werent",
        "not me",
        "no never have",
    }
)
# Not "no" about the question: "no idea", "no clue" are unknown (checked first).
_YES_LEAD = re.compile(r"^(yes|yeah|yep|yup|yea)\b")
_NO_LEAD = re.compile(
    r"^(no|nope|nah|never)\b(?!\s+(idea|clue|recollection|memory|recall|way (of|to) know|sure|certain))"
)


def parse_yes_no(text: str, intent: Optional[str] = None, confidence: float = 0.0) -> Any:
    """True / False / UNKNOWN from "yes", "nope", "yes, twice", "not that I know of"."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if t in _YES:
        return True
    if t in _NO:
        return False
    yes_lead, no_lead = bool(_YES_LEAD.match(t)), bool(_NO_LEAD.match(t))
    if yes_lead != no_lead:
        return yes_lead
    if intent in ("affirm", "deny") and confidence >= 0.8 and len(t.split()) <= 6:
        return intent == "affirm"
    return INVALID


# --- numbers -----------------------------------------------------------------------------

# Where a number stands in a whole answer: digits, or number words as the one number grammar
# (trd.answers.numbers) reads them ("twenty four", "a hundred and twenty", "a couple of"), whose
# value it gives; "a"/"an" alone is one ("a year").
_ONES9 = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_BELOW_100 = (
    r"(?:(?:twenty|thirty|forty|fourty|fifty|sixty|seventy|eighty|ninety)(?:\s+" + _ONES9 + r")?"
    r"|zero|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|"
    + _ONES9
    + r")"
)
_HUNDREDS = rf"(?:(?:(?:a|an|{_BELOW_100})\s+)?hundred(?:\s+(?:and\s+)?{_BELOW_100})?)"
_NUMBER = (
    rf"(\d+(?:[.,]\d+)?|(?:(?:a|an|{_BELOW_100}|{_HUNDREDS})\s+)?thousand|{_HUNDREDS}|{_BELOW_100}"
    r"|(?:(?:a|an)\s+)?(?:dozen|couple(?:\s+of)?)|half\s+a|half|a|an)"
)
# Episode lengths and session counts are rough answers: "almost 2 years", "under 10" are read
# as estimates (the trial readers reject upper bounds; see trd.answers.numbers.UpperBound).
_QUALIFIERS = qualifier_pattern(UpperBound.AS_ESTIMATE)


def _number_value(token: str) -> Optional[float]:
    token = token.strip()
    if token in ("a", "an"):
        return 1.0  # "a year"
    return read_number(token.replace(",", "."))


_UNIT_MONTHS = {
    "year": 12.0,
    "yr": 12.0,
    "month": 1.0,
    "mo": 1.0,
    "week": 12 / 52,
    "wk": 12 / 52,
    "day": 12 / 365,
}
_DURATION = re.compile(
    rf"^(?:{_QUALIFIERS})?{_NUMBER}\s*(?:and\s+a\s+half\s+)?(years?|yrs?|months?|mos?|weeks?|wks?|days?)"
    rf"(?:\s+and\s+(?:a\s+half|{_NUMBER}\s*(months?|mos?|weeks?|wks?)))?(?:\s+(?:now|so far|or so|ago))?$"
)
_BARE_NUMBER = re.compile(rf"^(?:{_QUALIFIERS})?{_NUMBER}$")
MAX_EPISODE_MONTHS = 1200


def parse_months(text: str) -> Any:
    """Whole months (int >= 0) from "8 months", "2 years", "a year and a half", "18"."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text).replace("-", " ")
    t = re.sub(r"\s+", " ", t).strip()
    t = t.replace("one and a half", "1.5").replace("a year and a half", "1.5 years")
    t = t.replace("half a year", "6 months").replace("a half year", "6 months")
    t = re.sub(r"\bfor\b\s*", "", t).strip()
    match = _DURATION.match(t)
    months: Optional[float] = None
    if match:
        amount = _number_value(match.group(1))
        unit = match.group(2)
        if amount is not None:
            if " and a half " in f" {t} " and (match.group(3) is None):
                amount += 0.5
            key = next(k for k in _UNIT_MONTHS if unit.startswith(k))
            months = amount * _UNIT_MONTHS[key]
            if match.group(3):
                extra = _number_value(match.group(3))
                extra_unit = match.group(4) or ""
                if extra is not None:
                    extra_key = next(k for k in _UNIT_MONTHS if extra_unit.startswith(k))
                    months += extra * _UNIT_MONTHS[extra_key]
    else:
        bare = _BARE_NUMBER.match(t)
        if bare:
            months = _number_value(bare.group(1))  # a bare number answers "how many months"
    if months is None or months < 0 or months > MAX_EPISODE_MONTHS:
        return INVALID
    return int(round(months))


_RANGE = re.compile(
    # "10-15", "10 to 15", "10 or 15" (the dash became a space in normalise_answer)
    rf"^(?:{_QUALIFIERS})?(\d+)(?:\s*(?:to|or|-|–)\s*|\s+)(\d+)(?:\s+(?:sessions?|times?|visits?))?$"
)
_COUNT = re.compile(
    rf"^(?:{_QUALIFIERS})?{_NUMBER}(?:\s+or\s+so)?(?:\s+(?:sessions?|times?|visits?|appointments?))?(?:\s+or\s+so)?$"
)
MAX_COUNT = 2000


def parse_count(text: str) -> Any:
    """A whole number of sessions from "12", "about a dozen", "10-15" (middle), "none"."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if t in ("none", "no", "zero", "0", "not any"):
        return 0
    spaced = re.sub(r"(\d)\s*-\s*(\d)", r"\1 - \2", t)
    match = _RANGE.match(spaced)
    value: Optional[float] = None
    if match:
        low, high = _number_value(match.group(1)), _number_value(match.group(2))
        if low is not None and high is not None and low <= high:
            value = (low + high) / 2
    else:
        match = _COUNT.match(t)
        if match:
            value = _number_value(match.group(1))
    if value is None or value < 0 or value > MAX_COUNT or value != value:
        return INVALID
    return int(round(value))


# --- psychotherapy --------------------------------------------------------------------------

THERAPY_TYPES: Tuple[str, ...] = (
    "cbt",
    "behavioural_activation",
    "ipt",
    "emdr",
    "ifs",
    "sensorimotor",
    "dbt",
    "act",
    "psychodynamic",
    "other",
)

# (pattern on normalised text, schema type), most specific first.
_THERAPY_PATTERNS: Tuple[Tuple[str, str], ...] = (
    (r"\bbehaviou?ral activation\b|\bba\b", "behavioural_activation"),
    (r"\bdialectical\b|\bdbt\b", "dbt"),
    (r"\bacceptance and commitment\b|\bact\b", "act"),
    (r"\binterpersonal\b|\bipt\b", "ipt"),
    (r"\bemdr\b|\beye movement", "emdr"),
    (r"\binternal family systems?\b|\bifs\b|\bparts work\b", "ifs"),
    (r"\bsensori ?motor\b", "sensorimotor"),
    (r"\bpsycho ?dynamic\b|\bpsycho ?analy|\bpsychoanalytic\b", "psychodynamic"),
    (r"\bcognitive\b|\bcbt\b|\bcbti\b", "cbt"),
    (
        r"\bcounsell?ing\b|\bcounsell?or\b|\btalk(ing)? therapy\b|\bsupportive\b|\bgroup\b|\bart therapy\b"
        r"|\bschema\b|\bmindfulness\b|\bmbct\b|\bcouples?\b|\bfamily therapy\b|\bsomatic\b|\bother\b"
        r"|\bsomething else\b|\bjust talking\b|\bpsychotherapy\b|\btherapist\b",
        "other",
    ),
)


@dataclass(frozen=True)
class TherapyType:
    type: str
    description: Optional[str] = None  # the person's words when the type is "other"


def parse_therapy_type(text: str) -> Any:
    """The schema's therapy type; unnamed kinds are "other" with the person's words kept."""
    if is_unknown(text):
        return TherapyType("other", None)
    t = normalise_answer(text)
    if re.search(r"\b(dont|do not|cant|cannot) (know|remember|recall)\b|\bnot sure\b|\bno idea\b", t):
        return TherapyType("other", None)
    if not t or not re.search(r"[a-z]", t):
        return INVALID
    for pattern, kind in _THERAPY_PATTERNS:
        if re.search(pattern, t):
            described = (
                None if kind != "other" or t in ("other", "counselling or other", "something else") else text
            )
            return TherapyType(kind, described.strip()[:200] if described else None)
    words = t.split()
    if 1 <= len(words) <= 8 and t not in ("yes", "no", "none", "nope", "yeah"):
        # a kind we do not list (e.g. "narrative therapy"): kept in their words
        return TherapyType("other", text.strip()[:200])
    return INVALID


@dataclass(frozen=True)
class Completion:
    completed: Optional[bool]
    ongoing: bool = False


_FINISHED = (
    r"^(yes|yeah|yep|yup)\b|\bfinished\b|\bcompleted?\b|\bthe whole\b|\ball of it\b|\bi did\b|\bfull course\b"
    r"|\bto the end\b|\bwent the distance\b"
)
_STOPPED = (
    r"^(no|nope|nah)\b|\bstopped\b|\bquit\b|\bdropped out\b|\bgave up\b|\bdidnt finish\b|\bdid not finish\b"
    r"|\bleft early\b|\bended early\b|\bearly\b|\bcouldnt finish\b|\bnot finished\b|\bi didnt\b"
    r"|\bdiscontinued\b"
)
_ONGOING = r"\bstill\b|\bongoing\b|\bcurrently\b|\bin progress\b|\bat the moment\b|\bright now\b|\bgoing on\b"


def parse_completed(text: str) -> Any:
    """Finished (True), stopped early (False), still going (False, ongoing) or unknown."""
    if is_unknown(text):
        return Completion(None)
    t = strip_filler(text)
    if re.search(_ONGOING, t):
        return Completion(False, ongoing=True)
    stopped = bool(re.search(_STOPPED, t))
    finished = bool(re.search(_FINISHED, t))
    if stopped and not re.search(r"^(yes|yeah|yep|yup)\b", t):
        return Completion(False)
    if finished:
        return Completion(True)
    return INVALID


# --- other treatments -------------------------------------------------------------------------

OTHER_TREATMENTS: Tuple[str, ...] = (
    "tms",
    "ect",
    "ketamine",
    "esketamine",
    "vns",
    "dbs",
    "tdcs",
    "psilocybin",
)
OTHER_TREATMENT_LABELS: Dict[str, str] = {
    "tms": "TMS",
    "ect": "ECT",
    "ketamine": "ketamine",
    "esketamine": "esketamine (Spravato)",
    "vns": "VNS",
    "dbs": "DBS",
    "tdcs": "tDCS",
    "psilocybin": "psilocybin",
}
_TREATMENT_PATTERNS: Tuple[Tuple[str, str], ...] = (
    (r"\besketamine\b|\bspravato\b|\bnasal spray\b", "esketamine"),
    (r"(?<!es)\bketamine\b|\bket\b|\bketamine infusions?\b", "ketamine"),
    (r"\b(r|d|deep ?)?tms\b|\bmagnetic\b|\bsaint\b|\btheta burst\b", "tms"),
    (r"\bect\b|\belectro ?convulsive\b|\bshock (therapy|treatment)\b|\belectroshock\b", "ect"),
    (r"\bvns\b|\bvagus\b|\bvagal\b", "vns"),
    (r"\bdbs\b|\bdeep brain\b", "dbs"),
    (r"\btdcs\b|\bdirect current\b", "tdcs"),
    (r"\bpsilocybin\b|\bmushrooms?\b|\bshrooms\b|\bpsychedelics?\b", "psilocybin"),
)
_NONE_OF_THESE = frozenset(
    {
        "none",
        "none of these",
        "none of them",
        "no",
        "nope",
        "nah",
        "neither",
        "nothing",
        "not any",
        "none of those",
        "no none",
        "no none of them",
        "no none of these",
        "i havent",
        "i have not",
        "havent tried any",
        "i havent tried any",
        "i havent tried any of them",
        "never",
        "no never",
        "i havent tried any of these",
        "not tried any",
        "no i havent",
        "none so far",
        "nothing like that",
        "no nothing like that",
        "none of the above",
    }
)
_ALL_OF_THESE = frozenset({"all", "all of them", "all of these", "every one", "all of the above"})


def parse_treatments(text: str) -> Any:
    """The other treatments named, in the schema's order: [] for "none"; UNKNOWN; or INVALID."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if t in _NONE_OF_THESE:
        return []
    if t in _ALL_OF_THESE:
        return list(OTHER_TREATMENTS)
    found = {kind for pattern, kind in _TREATMENT_PATTERNS if re.search(pattern, t)}
    if not found:
        return INVALID
    return [kind for kind in OTHER_TREATMENTS if kind in found]


# --- navigation and commands --------------------------------------------------------------------

GO_BACK_PHRASES: FrozenSet[str] = frozenset(
    {
        "go back",
        "back",
        "previous",
        "previous question",
        "go back please",
        "back please",
        "go back one",
        "the previous question",
        "last question",
        "go to the previous question",
        "can we go back",
        "can i go back",
        "undo",
        "oops go back",
        "wait go back",
        "go back a question",
        "back one",
        "back up",
        "i want to go back",
        "let me go back",
        "take me back",
        "one back",
        "back a step",
        "go back one question",
        "i made a mistake",
        "wrong answer",
        "i pressed the wrong button",
        "change my last answer",
        "change my answer",
        "let me change that",
        "i want to change my answer",
    }
)
SKIP_PART_PATTERN = re.compile(
    r"\bskip\b.*\b(part|section|rest|all|these|whole|lot|them)\b|\bnext (part|section)\b"
    r"|\bmove on to the next (part|section)\b"
)


def is_go_back(text: str) -> bool:
    return normalise_answer(text) in GO_BACK_PHRASES


def is_skip_part(text: str) -> bool:
    t = normalise_answer(text)
    return bool(SKIP_PART_PATTERN.search(t)) and len(t.split()) <= 10


_QUESTION_START = re.compile(
    r"^(what|whats|how|hows|is|are|does|do|can|could|would|will|why|which|who|where|when|tell me|explain"
    r"|should|whats the|what does|what do|define|meaning of|i dont understand|i dont know what)\b"
)


def looks_like_question(text: str) -> bool:
    """A question rather than an answer: ends with "?" or opens like one."""
    stripped = text.strip()
    return stripped.endswith("?") or bool(_QUESTION_START.match(normalise_answer(stripped)))


# --- glossary terms ---------------------------------------------------------------------------


def find_terms(text: str, term_lists: Sequence[Sequence[str]]) -> Optional[int]:
    """Index of the first entry whose term occurs as whole words (longest terms first)."""
    t = f" {normalise_answer(text)} "
    candidates: List[Tuple[int, int, str]] = []
    for index, terms in enumerate(term_lists):
        for term in terms:
            candidates.append((-len(term), index, normalise_answer(term)))
    for _, index, term in sorted(candidates):
        if term and f" {term} " in t:
            return index
    return None
