"""Part 2 of the intake: the medicines the person has tried (``medications_form``).

The flow, one question per slot (domain.yml, "# --- medicines form"):

``med_names``
    "Which medicines have you tried?" Several may be named in one message. Names come
    from the NLU's ``drug`` entities (value: the generic name) and from a lexicon lookup
    on the raw words, so a name the lexicon knows is never dropped; they are kept in the
    order mentioned ("X, and before that Y" puts Y first). "none" ends the part.
``med_spelling``
    For each word that stands where a name stands but is not in the lexicon: "I didn't
    recognise X: could you check the spelling?" Never a guess: the person retypes it,
    leaves it out, or keeps it as typed (the navigator then says its dose is unknown).
``med_dose`` ... ``med_still_taking``
    For each medicine in turn: highest daily dose (mg/day, :func:`parse_dose`), weeks at
    that dose (:func:`parse_duration`), taken most days or often missed, what happened,
    side effects (a list), still taking it.
``med_confirm``
    The trial read back in plain words; "yes", a typed correction ("no, it was 100 mg",
    "it was 12 weeks", "I missed a lot of doses": each field read by what the correction
    contains), or a button naming the part to change (that question is asked again).
``med_more``
    "Any other medicines?" Yes (or a name) goes round again.

"skip", "not sure", "I don't know" leave any answer unknown (null in the record);
"go back", "skip this part", "pause", questions and the record saving after every
answer come from :class:`actions.forms.intake_base.IntakeFormValidation`.

State lives in slots, so a crisis that suspends the form, a pause or a server restart
resumes at the same medicine and question: ``trials`` (every medicine named so far,
oldest first, as schema items, updated after each answer), ``med_index`` (the medicine
being asked about; the ones before it are confirmed), ``med_unknown`` (names waiting for
a spelling check, with the position they were mentioned at). Derived text for the
questions: ``med_current`` (the medicine's name), ``med_readback``, ``med_unknown_name``.
"""

from __future__ import annotations

import contextvars
import logging
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms.base import SKIPPED, normalise_answer
from actions.forms.intake_base import IntakeFormValidation
from trd.answers.parsing import parse_dose, parse_duration
from trd.intake import answers
from trd.intake.answers import INVALID, OUTCOMES, UNKNOWN
from trd.intake.parts import MEDICATIONS_FORM, SLOT_TRIALS
from trd.navigator.lexicon import DrugEntry, Lexicon, normalise_name

logger = logging.getLogger(__name__)

FORM_NAME = MEDICATIONS_FORM

# --- slots ---------------------------------------------------------------------------------
NAMES = "med_names"
SPELLING = "med_spelling"
DOSE = "med_dose"
WEEKS = "med_weeks"
ADHERENCE = "med_adherence"
OUTCOME = "med_outcome"
SIDE_EFFECTS = "med_side_effects"
STILL_TAKING = "med_still_taking"
CONFIRM = "med_confirm"
MORE = "med_more"
# state (custom mappings)
INDEX = "med_index"
UNKNOWN_NAMES = "med_unknown"
CURRENT = "med_current"
READBACK = "med_readback"
UNKNOWN_NAME = "med_unknown_name"

QUESTION_SLOTS: Tuple[str, ...] = (
    NAMES,
    SPELLING,
    DOSE,
    WEEKS,
    ADHERENCE,
    OUTCOME,
    SIDE_EFFECTS,
    STILL_TAKING,
    CONFIRM,
    MORE,
)
STATE_SLOTS: Tuple[str, ...] = (SLOT_TRIALS, INDEX, UNKNOWN_NAMES, CURRENT, READBACK, UNKNOWN_NAME)
# The questions about one medicine, in the order asked, and the trial field each fills.
FIELD_SLOTS: Tuple[str, ...] = (DOSE, WEEKS, ADHERENCE, OUTCOME, SIDE_EFFECTS, STILL_TAKING)
PER_DRUG_SLOTS: Tuple[str, ...] = (*FIELD_SLOTS, CONFIRM)
FIELD_OF_SLOT: Dict[str, str] = {
    DOSE: "max_dose_mg",
    WEEKS: "weeks_at_dose",
    ADHERENCE: "adherence",
    OUTCOME: "outcome",
    SIDE_EFFECTS: "side_effects",
    STILL_TAKING: "still_taking",
}
SLOT_OF_FIELD: Dict[str, str] = {field: slot for slot, field in FIELD_OF_SLOT.items()}

ADHERENCE_VALUES: Tuple[str, ...] = ("most_days", "often_missed")
MAX_SIDE_EFFECTS = 20
MAX_SIDE_EFFECT_CHARS = 120
MAX_NAME_CHARS = 60
MAX_MENTIONS = 30  # names read from one answer
MAX_NAME_WORD = 40  # a longer "word" is not a medicine's name
MAX_SPELLING_TRIES = 2  # a name still not recognised after this many retypes is kept as typed

# Responses (domain.yml, "# --- medicines form").
UTTER_LISTED = "utter_med_listed"
UTTER_NONE = "utter_med_none"
UTTER_KEPT = "utter_med_spelling_kept"
UTTER_LEFT_OUT = "utter_med_left_out"
UTTER_WHICH_PART = "utter_med_which_part"
UTTER_CHANGED = "utter_med_changed"

# The message being validated (its `drug` entities), for parse(), which only gets the text.
_MESSAGE: contextvars.ContextVar[Optional[Mapping[str, Any]]] = contextvars.ContextVar(
    "med_message", default=None
)


def default_lexicon() -> Lexicon:
    """The drug lexicon (data/knowledge/drugs.yml), read once per process on first use."""
    from trd.navigator import default_knowledge

    return default_knowledge().lexicon


# --- finding medicine names ------------------------------------------------------------------

# Words that never stand for a medicine's name in an answer: the common English function
# words, and the words people use around names ("I took", "50mg", "for my sleep").
_STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can cant could couldnt did didnt do does doesnt doing dont down during
    each either else even ever every few for from further had hadnt has hasnt have havent having he
    her here hers herself him himself his how i id if ill im in into is isnt it its itself ive just
    last least less let like lot lots many may me might mine more most much must my myself neither
    never no nor not now of off on once one only or other others our ours out over own per quite
    rather really same she should so some such than that thats the their theirs them themselves then
    there these they thing things this those though through thru to too two three four under until up
    upon us very was wasnt we were werent what whatever when where which while who whom whose why
    will with within without would wouldnt yet you your yours yourself something anything nothing
    everything someone anyone everyone somewhere maybe perhaps probably actually basically just still
    first second third fourth fifth next later earlier previously afterwards finally eventually
    initially originally recently currently lately already again once twice times time
    yes yeah yep yup yea nope nah ok okay sure well um umm ummm uh uhh hmm hmmm erm er ah oh so thanks
    thank please sorry meh ugh idk dunno lol
    """.split()
)
_CONTEXT_WORDS = frozenset(
    """
    take takes taking took taken tried try trying tries started start starting stopped stop stopping
    switched switch switching changed change changing added add adding increased increase decreased
    decrease raised lowered upped reduced tapered went go going gone put prescribed prescription
    given gave give gives stayed stay kept keep came come coming quit ended end using use used
    dose doses dosage dosages mg mgs mcg milligram milligrams microgram micrograms gram grams g ml
    pill pills tablet tablets tab tabs capsule capsules liquid injection injections patch patches
    daily day days week weeks wk wks month months year years yr yrs ago morning mornings night nights
    evening bedtime am pm hour hours
    xr xl sr er cr ir la odt extended release generic brand name names called
    medicine medicines medication medications meds med drug drugs antidepressant antidepressants
    antipsychotic antipsychotics ssri ssris snri snris maoi maois tca tcas stimulant stimulants
    supplement supplements vitamin vitamins sleeping pill
    doctor doctors gp psychiatrist psychiatrists pharmacist nurse therapist prescriber
    depression depressed anxiety anxious sleep insomnia pain mood moods panic ocd ptsd bipolar adhd
    help helped helping work worked working useless effect effects side nothing
    remember remembered forget forgot forgotten recall know knew sure unsure idea think thought
    guess believe mean meant
    combo combination combined together alongside augment augmented augmentation addon top
    low high higher highest lower lowest max maximum min minimum full half
    long short while ages year
    none all any both each few several couple bunch
    followed back question questions part section rest answer answers
    blue white yellow pink orange green red purple brown grey gray little small big tiny new old
    different another same kind type sort one ones
    """.split()
)
_IGNORED_WORDS = _STOP_WORDS | _CONTEXT_WORDS

# What separates one medicine from the next in a list; the "before" ones reverse the order.
_SEPARATOR = re.compile(
    r",|;|\n|\.(?=\s|$)|\+|&|\s/\s|"
    r"\b(?:and then|and|then|plus|also|or|followed by|after that|afterwards|after which|later on|later|"
    r"next|now|before (?:that|then|this|it|those|them)|prior to (?:that|this|it)|"
    r"and before (?:that|then|this|it|those|them))\b",
    re.IGNORECASE,
)
_BEFORE = re.compile(r"\bbefore\b|\bprior\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
_COMPOUND = re.compile(r"[^\W_]+(?:[-/+][^\W_]+)+")
_JOINERS = frozenset({"and", "or", "with", "then", "plus", "also"})
_MAX_NGRAM = 3


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    generic: Optional[str]  # None: a word where a name stands that the lexicon does not know
    said: str


def _overlaps(start: int, end: int, spans: Sequence[_Span]) -> bool:
    return any(start < s.end and s.start < end for s in spans)


def _entity_spans(text: str, message: Mapping[str, Any], lexicon: Lexicon) -> List[_Span]:
    """The NLU's ``drug`` entities located in ``text`` (the message may have been trimmed)."""
    original = str(message.get("text") or "")
    spans: List[_Span] = []
    cursor = 0
    for entity in sorted(
        (e for e in message.get("entities") or [] if isinstance(e, Mapping) and e.get("entity") == "drug"),
        key=lambda e: int(e.get("start") or 0),
    ):
        try:
            start, end = int(entity["start"]), int(entity["end"])
        except (KeyError, TypeError, ValueError):
            continue
        surface = original[start:end].strip()
        if not surface:
            continue
        at = text.lower().find(surface.lower(), cursor)
        if at < 0:
            continue
        value = str(entity.get("value") or "")
        entry = lexicon.lookup(value) or lexicon.lookup(surface)
        if entry is None or _overlaps(at, at + len(surface), spans):
            continue
        spans.append(_Span(at, at + len(surface), entry.generic, text[at : at + len(surface)]))
        cursor = at + len(surface)
    return spans


def _lexicon_spans(text: str, lexicon: Lexicon, taken: List[_Span]) -> List[_Span]:
    """Names the lexicon knows (generic, brand, alias, listed misspelling), longest first."""
    spans = list(taken)
    for match in _COMPOUND.finditer(text):
        if _overlaps(match.start(), match.end(), spans):
            continue
        entry = lexicon.lookup(match.group())
        if entry is not None:
            spans.append(_Span(match.start(), match.end(), entry.generic, match.group()))
    words = list(_WORD.finditer(text))
    i = 0
    while i < len(words):
        found = False
        for n in range(min(_MAX_NGRAM, len(words) - i), 0, -1):
            group = words[i : i + n]
            start, end = group[0].start(), group[-1].end()
            if _overlaps(start, end, spans):
                continue
            if n > 1:
                if any(w.group().lower() in _JOINERS for w in group):
                    continue
                gaps = [text[a.end() : b.start()] for a, b in zip(group, group[1:], strict=False)]
                if any(g.strip(" -") for g in gaps):
                    continue
            phrase = text[start:end]
            entry = lexicon.lookup(phrase)
            if entry is not None and not phrase.isdigit():
                # "sertraline 100mg": the name as said, without the dose the lookup ignored
                said = group
                while len(said) > 1 and re.search(r"\d", said[-1].group()):
                    said = said[:-1]
                spans.append(_Span(start, end, entry.generic, text[start : said[-1].end()]))
                i += n
                found = True
                break
        if not found:
            i += 1
    return spans[len(taken) :]


def _candidate_words(text: str, start: int, end: int, drugs: Sequence[_Span]) -> List[_Span]:
    """Words between ``start`` and ``end`` that stand where a medicine's name stands."""
    words = [w for w in _WORD.finditer(text, start, end) if not _overlaps(w.start(), w.end(), drugs)]

    def content(w: re.Match[str]) -> bool:
        token = w.group().lower()
        return (
            3 <= len(token) <= MAX_NAME_WORD
            and not any(c.isdigit() for c in token)
            and token not in _IGNORED_WORDS
        )

    # runs of content words next to each other
    runs: List[List[re.Match[str]]] = []
    for w in words:
        if not content(w):
            if runs and runs[-1]:
                runs.append([])
            continue
        if runs and runs[-1] and not text[runs[-1][-1].end() : w.start()].strip(" -"):
            runs[-1].append(w)
        else:
            runs.append([w])
    runs = [r for r in runs if r]
    inside = [d for d in drugs if start <= d.start < end]
    if not inside:
        # a list item without a known name: its content words are the name (a short one)
        all_content = [w for w in words if content(w)]
        if not runs or len(all_content) > 3 or len(runs) > 1:
            return []
        run = runs[0]
        return [_Span(run[0].start(), run[-1].end(), None, text[run[0].start() : run[-1].end()])]
    # next to a known name with nothing between ("zoloft flibberzine"): another name
    found: List[_Span] = []
    for run in runs:
        s, e = run[0].start(), run[-1].end()
        touching = any(
            not text[d.end : s].strip(" -") if d.end <= s else not text[e : d.start].strip(" -")
            for d in inside
        )
        if touching and len(run) <= 3:
            found.append(_Span(s, e, None, text[s:e]))
    return found


@dataclass(frozen=True)
class Mention:
    """A medicine named in an answer: a generic from the lexicon, or an unrecognised word."""

    said: str
    generic: Optional[str] = None

    def as_dict(self) -> Dict[str, Any]:
        if self.generic is None:
            return {"unknown": self.said}
        return {"drug": self.generic, "name_given": self.said}


def find_medicines(
    text: str, message: Optional[Mapping[str, Any]] = None, lexicon: Optional[Lexicon] = None
) -> List[Mention]:
    """Medicines named in ``text``, in the order they were taken as far as the words say.

    Known names come from the NLU's ``drug`` entities in ``message`` and from the lexicon;
    unrecognised words that stand where a name stands (a list item of their own, or right
    next to a known name) are returned with ``generic`` None, never matched to a drug.
    A medicine named twice is kept once.
    """
    lex = lexicon or default_lexicon()
    spans = _entity_spans(text, message or {}, lex)
    spans += _lexicon_spans(text, lex, spans)
    spans.sort(key=lambda s: s.start)

    # segments between separators, each remembering whether it reverses the order
    segments: List[Tuple[int, int, bool]] = []
    position, before = 0, False
    for sep in _SEPARATOR.finditer(text):
        if _overlaps(sep.start(), sep.end(), spans):
            continue  # "+" or "and" inside a known name
        segments.append((position, sep.start(), before))
        position, before = sep.end(), bool(_BEFORE.search(sep.group()))
    segments.append((position, len(text), before))

    ordered: List[Mention] = []
    group_start = 0
    for start, end, reverse in segments:
        items = [s for s in spans if start <= s.start < end]
        items += _candidate_words(text, start, end, spans)
        items.sort(key=lambda s: s.start)
        mentions = [Mention(s.said.strip(), s.generic) for s in items]
        if not mentions:
            continue
        if reverse:
            ordered[group_start:group_start] = mentions
        else:
            group_start = len(ordered)
            ordered.extend(mentions)

    unique: List[Mention] = []
    seen: set[str] = set()
    for m in ordered:
        key = m.generic or normalise_name(m.said)
        if key in seen:
            continue
        seen.add(key)
        unique.append(m)
    return unique[:MAX_MENTIONS]


# --- reading each answer -----------------------------------------------------------------------

_UNKNOWN_WORDS = re.compile(
    r"\b(dont|do not|cant|cannot|can not) (really )?(know|remember|recall|say)\b|\bnot (really )?sure\b"
    r"|\bno idea\b|\bforgot(ten)?\b|\bforget\b|\bunsure\b|\bno clue\b"
)
_NONE_ANSWERS = frozenset(
    {
        "none", "no", "nope", "nah", "nothing", "never", "not any", "none yet", "none so far", "no none",
        "none of them", "no medicines", "no medications", "no medication", "no meds", "no medicine",
        "i havent", "i have not", "i havent tried any", "i havent tried anything", "i havent taken any",
        "i havent taken anything", "havent tried any", "i have not tried any", "i have never taken any",
        "ive never taken any", "never taken any", "ive not tried any", "no i havent", "nothing yet",
        "not yet", "no never", "no i have not", "none at all",
    }
)


def _unknownish(text: str) -> bool:
    """ "not sure", "I can't remember the dose": unknown, when no number is given."""
    if answers.is_unknown(text):
        return True
    t = normalise_answer(text)
    return bool(_UNKNOWN_WORDS.search(t)) and not re.search(r"\d", t) and len(t.split()) <= 12


def _names_value(mentions: Sequence[Mention]) -> Dict[str, Any]:
    return {"mentions": [m.as_dict() for m in mentions], "none": False}


NONE_VALUE: Dict[str, Any] = {"mentions": [], "none": True}


def read_names(
    text: str, message: Optional[Mapping[str, Any]] = None, lexicon: Optional[Lexicon] = None
) -> Any:
    """The medicines named: {"mentions": [...], "none": False}; NONE_VALUE; UNKNOWN; or INVALID."""
    mentions = find_medicines(text, message, lexicon)
    if any(m.generic for m in mentions):
        return _names_value(mentions)
    t = answers.strip_filler(text)
    if t in _NONE_ANSWERS or normalise_answer(text) in _NONE_ANSWERS:
        return dict(NONE_VALUE)
    if _unknownish(text):
        return UNKNOWN
    if mentions:
        return _names_value(mentions)
    return INVALID


def read_dose(text: str) -> Any:
    """mg per day, UNKNOWN, or INVALID (asked again with an example: never a guess)."""
    mg = parse_dose(text)
    if mg is not None:
        return mg
    return UNKNOWN if _unknownish(text) else INVALID


def read_weeks(text: str) -> Any:
    weeks = parse_duration(text, default_unit="weeks")
    if weeks is not None:
        return weeks
    return UNKNOWN if _unknownish(text) else INVALID


_OFTEN_MISSED = re.compile(
    r"\boften missed\b|\bmissed (it |them |doses )?(a lot|lots|loads|many|often|a great deal|half)\b"
    r"|\bmissed (many|lots of|loads of|a lot of) (doses|days|pills)\b|\boften (forgot|missed|skipped)\b"
    r"|\b(forgot|skipped) (it |them |doses )?(a lot|lots|often|many)\b"
    r"|\b(forgot|skipped) (many|lots of|a lot of)\b"
    r"|\bon and off\b|\boff and on\b|\bhit and miss\b|\bhit or miss\b|\bsporadic|\birregular|\binconsistent"
    r"|\bnot (very |always )?(regularly|consistently|every day|everyday|daily)\b|\bhalf the time\b"
    r"|\bwhen i remembered\b|\bnot often\b|\brarely took\b|\bmostly missed\b|\bmissed most\b"
)
_MOST_DAYS = re.compile(
    r"\bmost days\b|\bevery ?day\b|\bdaily\b|\balways\b|\b(never|rarely|hardly( ever)?|seldom|almost never) "
    r"(missed|forgot|skipped)\b|\bregularly\b|\bconsistently\b|\breligiously\b|\bas prescribed\b"
    r"|\b(nearly|almost) every\b|\bevery (single )?(morning|night|evening)\b|\bdidnt (miss|forget|skip)\b"
    r"|\bmissed (only )?(a few|one or two|a couple|the odd one|very few|hardly any)\b|\bmostly took\b"
    r"|\btook it most\b"
)


def read_adherence(text: str) -> Any:
    t = answers.strip_filler(text)
    if _OFTEN_MISSED.search(t):
        return "often_missed"
    if _MOST_DAYS.search(t):
        return "most_days"
    if _unknownish(text):
        return UNKNOWN
    return INVALID


# The buttons' words first, then descriptions; the first match wins.
_OUTCOME_BUTTONS: Dict[str, str] = {
    "no change": "no_response",
    "some improvement": "partial_response",
    "improved then it came back": "response_then_relapse",
    "improved then came back": "response_then_relapse",
    "got well": "remission",
    "stopped for side effects": "stopped_side_effects",
    "too early to tell": "too_early",
}
_OUTCOME_PATTERNS: Tuple[Tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), outcome)
    for p, outcome in (
        (
            r"\b(stopped|quit|came off|gave up)\b.*\b(side ?effects?|couldnt (tolerate|stand))\b"
            r"|\bcouldnt (tolerate|stand|handle) (it|the side ?effects?)\b|\bintolerable\b",
            "stopped_side_effects",
        ),
        (
            r"\b(improved|improvement|helped|worked|better)\b.*"
            r"\b(came back|wore off|stopped working|didnt last|faded|went back|relapsed?)\b|\bpooped out\b",
            "response_then_relapse",
        ),
        (
            r"\bno (change|improvement|difference|effect)\b|\bnot improved\b"
            r"|\bdidnt (improve|help|work|change)\b"
            r"|\b(did|made) (nothing|no difference)\b|\bnothing changed\b|\bnothing at all\b"
            r"|\bdidnt do (anything|much|a thing)\b",
            "no_response",
        ),
        (r"\btoo (early|soon)( to tell)?\b|\bcant tell yet\b|\bjust started\b", "too_early"),
        (
            r"\bgot well\b|\bremission\b|\bfully (recovered|better|well)\b|\bback to (normal|myself)\b"
            r"|\bcompletely (better|well)\b|\brecovered\b",
            "remission",
        ),
        (
            r"\b(some|slight|small|little|partial|bit of) improvement\b"
            r"|\bimproved (a bit|a little|somewhat|slightly)\b"
            r"|\bimproved\b|\bimprovement\b",
            "partial_response",
        ),
    )
)


def read_outcome(text: str) -> Any:
    t = answers.strip_filler(text)
    if t in _OUTCOME_BUTTONS:
        return _OUTCOME_BUTTONS[t]
    if t.replace(" ", "_") in OUTCOMES:
        return t.replace(" ", "_")
    for pattern, outcome in _OUTCOME_PATTERNS:
        if pattern.search(t):
            return outcome
    parsed = answers.parse_outcome(text)
    if parsed is INVALID and _unknownish(text):
        return UNKNOWN
    return parsed


_NO_SIDE_EFFECTS = frozenset(
    {
        "none", "no", "nope", "nah", "nothing", "no side effects", "no side effect", "none at all",
        "not really", "no none", "nothing really", "nothing at all", "none really", "no not really",
        "no side effects at all", "didnt have any", "i didnt have any", "none that i noticed",
        "not that i noticed", "no nothing",
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
    t = answers.strip_filler(text)
    if t in _NO_SIDE_EFFECTS or normalise_answer(text) in _NO_SIDE_EFFECTS:
        return []
    if _unknownish(text):
        return UNKNOWN
    items = split_side_effects(text)
    return items if items else INVALID


_STOPPED = re.compile(
    r"\b(not|no longer|never) (taking|on) (it|them|that)\b|\bno longer\b|\bnot any ?more\b|\bstopped\b"
    r"|\bcame off\b|\bquit\b|\bnot now\b|\bgave (it )?up\b|\bweaned off\b|\btapered off\b"
)
_STILL = re.compile(r"\bstill\b|\bcurrently\b|\bat the moment\b|\bright now\b|\bi am on it\b|\bim on it\b")


def read_still_taking(text: str) -> Any:
    if answers.is_unknown(text):
        return UNKNOWN
    t = answers.strip_filler(text)
    if _STOPPED.search(t):
        return False
    if _STILL.search(t):
        return True
    parsed = answers.parse_yes_no(text)
    if parsed is INVALID and _unknownish(text):
        return UNKNOWN
    return parsed


# --- the read-back and its corrections --------------------------------------------------------

_FIELD_WORDS: Tuple[Tuple[str, str], ...] = (
    (DOSE, r"dose|dosage|doses? taken|amount|mg|how much"),
    (WEEKS, r"how long|duration|length|time|weeks?|months?"),
    (ADHERENCE, r"missed doses|doses missed|how often|how regularly|adherence|missing doses|taken most days"),
    (OUTCOME, r"what happened|outcome|result|how it went|effect"),
    (SIDE_EFFECTS, r"side ?effects?"),
    (STILL_TAKING, r"still taking( it)?|whether (i am|im) still taking it"),
)
_PICK = [
    (
        slot,
        re.compile(
            rf"^(?:(?:no|nope|wrong)\s+)?(?:(?:change|fix|correct|edit|update|redo)\s+)?"
            rf"(?:the\s+)?(?:{words})"
            rf"(?:\s+(?:is|was|are|were|part is|bit is)\s+(?:wrong|not right|incorrect|off))?$"
        ),
    )
    for slot, words in _FIELD_WORDS
]
_CONFIRM_YES = frozenset(
    {
        "yes", "yes thats right", "yes that is right", "yes its right", "thats right", "that is right",
        "thats correct", "yes correct", "correct", "right", "yep", "yeah", "yup", "looks good",
        "looks right", "all good", "perfect", "spot on", "exactly", "yes exactly", "yes perfect",
        "sounds right", "thats it", "yes thats it", "yes all correct", "all correct", "yes all good",
        "yes thanks", "ok", "okay",
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
_CORRECTION_OFTEN = re.compile(
    r"\bmissed\b|\bforgot\b|\bskipped\b|\bon and off\b|\boff and on\b|\bhit and miss\b|\birregular"
    r"|\bnot (every day|regularly|consistently)\b"
)
_CORRECTION_MOST = re.compile(
    r"\bmost days\b|\b(took|taken|take|taking) it (on )?(most days|every ?day|daily|regularly)\b"
    r"|\b(never|rarely|hardly( ever)?) (missed|forgot|skipped)\b|\bdidnt (miss|forget|skip)\b"
)
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
    if _CORRECTION_OFTEN.search(rest):
        fixes["adherence"] = "often_missed"
        rest = _CORRECTION_OFTEN.sub(" ", rest)
    elif _CORRECTION_MOST.search(rest):
        fixes["adherence"] = "most_days"
        rest = _CORRECTION_MOST.sub(" ", rest)
    for pattern, outcome in _OUTCOME_PATTERNS:
        if pattern.search(rest):
            fixes["outcome"] = outcome
            if outcome == "stopped_side_effects":
                fixes.setdefault("still_taking", False)
            break
    else:
        stripped = re.sub(r"^(no|nope|actually|sorry|wait|well|oh)\s+", "", answers.strip_filler(rest))
        if stripped in _OUTCOME_BUTTONS:
            fixes["outcome"] = _OUTCOME_BUTTONS[stripped]
    return fixes


def read_confirm(text: str) -> Any:
    """True; {"fix": {...}}; {"pick": slot}; {"which": True} for a bare "no"; UNKNOWN; INVALID."""
    t = normalise_answer(text)
    if not _CORRECTION_NO_SIDE_EFFECTS.search(t):
        for slot, pattern in _PICK:
            if pattern.match(t):
                return {"pick": slot}
    fixes = read_corrections(text)
    if fixes:
        return {"fix": fixes}
    if t in _CONFIRM_YES or answers.strip_filler(text) in _CONFIRM_YES:
        return True
    if _CONFIRM_NO.match(t):
        return {"which": True}
    if answers.is_unknown(text):
        return UNKNOWN
    if answers.parse_yes_no(text) is True:
        return True
    return INVALID


_NO_MORE = frozenset(
    {
        "no thats all", "thats all", "thats it", "thats everything", "no more", "nothing else",
        "no others", "none", "no none", "none else", "no thats it", "no thats everything",
        "no nothing else", "no other", "i think thats all", "thats all of them",
        "nope thats all", "none other",
    }
)


def read_more(
    text: str, message: Optional[Mapping[str, Any]] = None, lexicon: Optional[Lexicon] = None
) -> Any:
    """True, False, UNKNOWN, INVALID, or a names value when the answer names medicines."""
    t = answers.strip_filler(text)
    if t in _NO_MORE or normalise_answer(text) in _NO_MORE:
        return False
    mentions = find_medicines(text, message, lexicon)
    if mentions:
        return _names_value(mentions)
    if answers.is_unknown(text):
        return UNKNOWN
    parsed = answers.parse_yes_no(text)
    if parsed is INVALID and _unknownish(text):
        return UNKNOWN
    return parsed


_DROP = re.compile(
    r"\bleave (it|that)( out)?\b|\bignore (it|that)\b|\bnever ?mind\b"
    r"|\bnot a (medicine|medication|drug|med)\b"
    r"|\bforget (it|that)\b|\b(remove|drop|delete) (it|that)\b|\bleave it out\b|\bno such\b|\bmy mistake\b"
    r"|\bmistake\b|\btypo\b|\bnot a name\b"
)
_KEEP = re.compile(
    r"\bspelled (it )?right\b|\bspelt (it )?right\b|\bspelling is (right|correct|fine)\b"
    r"|\bthats (right|correct)\b|\bthat is (right|correct)\b|\bits (right|correct)\b"
    r"|\bthats how (its|it is) spelled\b|\bthats the name\b"
    r"|\bkeep it\b|^(yes|yeah|yep|correct|right)$"
)


def read_spelling(
    text: str, message: Optional[Mapping[str, Any]] = None, lexicon: Optional[Lexicon] = None
) -> Any:
    """The answer to "could you check the spelling of X?": the medicine, keep, drop, or a retype.

    A retype that is still not recognised comes back as {"retry": ...}; the form compares
    it with the name being checked (the same word again means "spelled as I mean it").
    """
    if answers.is_unknown(text):
        return UNKNOWN
    t = normalise_answer(text)
    if _KEEP.search(t):
        return {"keep": True}
    if _DROP.search(t) or t in ("no", "nope", "nah", "skip it", "none"):
        return {"drop": True}
    mentions = find_medicines(text, message, lexicon)
    known = [m for m in mentions if m.generic]
    if known:
        return {"mentions": [m.as_dict() for m in known]}
    if mentions:
        return {"retry": mentions[0].said[:MAX_NAME_CHARS]}
    words = _WORD.findall(text)
    if len(words) == 1 and len(words[0]) >= 3 and not words[0].isdigit():
        # one word the list rules ignore ("generic"): still a retyped name to check, never a guess
        return {"retry": words[0][:MAX_NAME_CHARS]}
    return INVALID


# --- plain words for the read-back ---------------------------------------------------------------


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


def readback(trial: Mapping[str, Any], lexicon: Optional[Lexicon] = None) -> str:
    """ "Sertraline, up to 150 mg a day for about 8 weeks, taken most days; some improvement;
    side effects: nausea; still taking it." """
    drug = str(trial.get("drug") or "")
    label = trial_label(trial, lexicon)
    name = label[:1].upper() + label[1:]
    if label.lower() != drug.lower() and drug:
        name = f"{name} ({drug})"
    dose = trial.get("max_dose_mg")
    weeks = trial.get("weeks_at_dose")
    head = f"{name}, {dose_words(dose)}"
    head += f" {duration_words(weeks)}" if dose is not None else f", {duration_words(weeks)}"
    adherence = _ADHERENCE_WORDS.get(str(trial.get("adherence")), "not sure how regularly it was taken")
    outcome = _OUTCOME_WORDS.get(str(trial.get("outcome")), "what happened is not known")
    if "side_effects" not in trial:
        side = "side effects not known"
    elif trial["side_effects"]:
        side = "side effects: " + ", ".join(str(s) for s in trial["side_effects"])
    else:
        side = "no side effects"
    still = {True: "still taking it", False: "not taking it now"}.get(
        trial.get("still_taking"), "not sure whether still taking it"  # type: ignore[arg-type]
    )
    return f"{head}, {adherence}; {outcome}; {side}; {still}."


def join_names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


# --- the trials list ----------------------------------------------------------------------------------


def new_trial(generic: str, name_given: str, lexicon: Optional[Lexicon] = None) -> Dict[str, Any]:
    """A schema trials item with nothing known yet but the medicine (role from the lexicon)."""
    lex = lexicon or default_lexicon()
    entry = lex.lookup(generic)
    return {
        "drug": entry.generic if entry else generic.strip().lower()[:MAX_NAME_CHARS],
        "role": entry.role if entry else None,
        "max_dose_mg": None,
        "weeks_at_dose": None,
        "adherence": None,
        "outcome": None,
        "still_taking": None,
        "name_given": name_given.strip()[:MAX_NAME_CHARS],
    }


def _trials(slots: Mapping[str, Any]) -> List[Dict[str, Any]]:
    value = slots.get(SLOT_TRIALS)
    return [dict(t) for t in value if isinstance(t, Mapping)] if isinstance(value, list) else []


def _index(slots: Mapping[str, Any], trials: Sequence[Any]) -> int:
    value = slots.get(INDEX)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return max(0, min(int(value), len(trials)))


def _pending(slots: Mapping[str, Any]) -> List[Dict[str, Any]]:
    value = slots.get(UNKNOWN_NAMES)
    if not isinstance(value, list):
        return []
    return [dict(u) for u in value if isinstance(u, Mapping) and isinstance(u.get("name"), str)]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _is_names(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("mentions"), list)
        and all(isinstance(m, Mapping) for m in value["mentions"])
    )


def _field_value(slot: str, value: Any) -> Any:
    """What a question slot's canonical value means in the trial (unknown -> None)."""
    return None if value == SKIPPED else value


class ValidateMedicationsForm(IntakeFormValidation):
    """Validation of ``medications_form`` (part 2), on the intake's shared base."""

    def __init__(self, repository_factory: Any = None, lexicon: Optional[Lexicon] = None) -> None:
        super().__init__(repository_factory)
        self._lexicon = lexicon

    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            self._lexicon = default_lexicon()
        return self._lexicon

    # --- which questions ---------------------------------------------------------------------------

    def own_slots(self) -> List[str]:
        return list(QUESTION_SLOTS)

    def required_for(self, slots: Mapping[str, Any]) -> List[str]:
        names = slots.get(NAMES)
        required = [NAMES]
        if names is None:
            return required
        if _pending(slots):
            return required + [SPELLING]
        trials = _trials(slots)
        if _index(slots, trials) < len(trials):
            return required + list(PER_DRUG_SLOTS)
        if not trials and (names == SKIPPED or (_is_names(names) and names.get("none"))):
            return required  # no medicines (or not sure which): nothing more to ask
        return required + [MORE]

    # --- reading answers ------------------------------------------------------------------------------

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        token = _MESSAGE.set(dict(tracker.latest_message or {}))
        try:
            return await super().get_validation_events(dispatcher, tracker, domain)
        finally:
            _MESSAGE.reset(token)

    def parse(self, slot: str, text: str, intent: Optional[str], confidence: float) -> Any:
        message = _MESSAGE.get() or {}
        if slot == NAMES:
            return read_names(text, message, self.lexicon)
        if slot == SPELLING:
            return read_spelling(text, message, self.lexicon)
        if slot == DOSE:
            return read_dose(text)
        if slot == WEEKS:
            return read_weeks(text)
        if slot == ADHERENCE:
            return read_adherence(text)
        if slot == OUTCOME:
            return read_outcome(text)
        if slot == SIDE_EFFECTS:
            return read_side_effects(text)
        if slot == STILL_TAKING:
            return read_still_taking(text)
        if slot == CONFIRM:
            return read_confirm(text)
        if slot == MORE:
            return read_more(text, message, self.lexicon)
        return INVALID

    def hint_response(self, slot: str) -> Optional[str]:
        return f"utter_{slot}_hint" if slot in QUESTION_SLOTS else None

    def is_canonical(self, slot: str, value: Any) -> bool:
        if value == SKIPPED:
            return True
        if slot == NAMES:
            return _is_names(value)
        if slot in (DOSE, WEEKS):
            return _is_number(value)
        if slot == ADHERENCE:
            return value in ADHERENCE_VALUES
        if slot == OUTCOME:
            return value in OUTCOMES
        if slot == SIDE_EFFECTS:
            return isinstance(value, list) and all(isinstance(v, str) for v in value)
        if slot in (STILL_TAKING, MORE):
            return isinstance(value, bool)
        if slot == CONFIRM:
            return value is True
        return False  # med_spelling holds nothing between answers

    # --- what an answer changes -------------------------------------------------------------------------

    def after_answer(
        self,
        slot: str,
        value: Any,
        slots: Mapping[str, Any],
        tracker: Tracker,
        dispatcher: CollectingDispatcher,
    ) -> Dict[str, Any]:
        changes = self._changes(slot, value, slots, dispatcher)
        # only what changes: a slot set to the value it already holds is noise in the tracker
        return {name: new for name, new in changes.items() if slots.get(name) != new}

    def _changes(
        self, slot: str, value: Any, slots: Mapping[str, Any], dispatcher: CollectingDispatcher
    ) -> Dict[str, Any]:
        if slot == NAMES:
            return self._names_given(value, slots, dispatcher)
        if slot == SPELLING:
            return self._spelling_checked(value, slots, dispatcher)
        if slot in FIELD_SLOTS:
            return self._field_answered(slot, value, slots)
        if slot == CONFIRM:
            return self._confirmed(value, slots, dispatcher)
        if slot == MORE:
            if _is_names(value):
                # "yes, wellbutrin": the names, without asking "which ones?"
                changes = self._names_given(value, {**slots, NAMES: value, MORE: None}, dispatcher)
                return {NAMES: value, **changes, MORE: None}
            if value is True:
                return {NAMES: None}  # "which other medicines?"
        return {}

    def _names_given(
        self, value: Any, slots: Mapping[str, Any], dispatcher: CollectingDispatcher
    ) -> Dict[str, Any]:
        confirmed_trials = _trials(slots)
        confirmed = _index(slots, confirmed_trials)
        # the names question comes once every earlier medicine is confirmed
        trials = confirmed_trials[:confirmed]
        more_mode = slots.get(MORE) is True
        mentions = value.get("mentions") if _is_names(value) else []
        added: List[Dict[str, Any]] = []
        unknown: List[Dict[str, Any]] = []
        for mention in mentions or []:
            if mention.get("drug"):
                said = str(mention.get("name_given") or "")
                added.append(new_trial(str(mention["drug"]), said, self.lexicon))
            elif mention.get("unknown"):
                name = str(mention["unknown"])[:MAX_NAME_CHARS]
                unknown.append({"name": name, "at": len(trials) + len(added)})
        trials = trials + added
        changes: Dict[str, Any] = {
            SLOT_TRIALS: trials,
            INDEX: confirmed,
            UNKNOWN_NAMES: unknown or None,
            UNKNOWN_NAME: unknown[0]["name"] if unknown else None,
            CURRENT: trial_label(trials[confirmed], self.lexicon) if confirmed < len(trials) else None,
            READBACK: None,
            **{name: None for name in PER_DRUG_SLOTS},
        }
        if not mentions:
            if more_mode:
                changes[MORE] = False  # "none" after "yes, another": that's all
            elif value != SKIPPED and not trials:
                dispatcher.utter_message(response=UTTER_NONE)
            return changes
        if more_mode:
            changes[MORE] = None
        if len(added) >= 2:
            dispatcher.utter_message(
                response=UTTER_LISTED, med_list=join_names([trial_label(t, self.lexicon) for t in added])
            )
        return changes

    def _spelling_checked(
        self, value: Any, slots: Mapping[str, Any], dispatcher: CollectingDispatcher
    ) -> Dict[str, Any]:
        pending = _pending(slots)
        trials = _trials(slots)
        changes: Dict[str, Any] = {SPELLING: None}
        if not pending:
            return changes
        first = pending[0]
        name = str(first["name"])
        at = first.get("at")
        position = max(0, min(int(at), len(trials))) if isinstance(at, int) else len(trials)
        inserted: List[Dict[str, Any]] = []
        if isinstance(value, Mapping) and value.get("retry"):
            retry = str(value["retry"])
            if normalise_name(retry) == normalise_name(name):
                value = {"keep": True}  # typed the same again: it is spelled as they mean it
        if isinstance(value, Mapping) and value.get("retry"):
            retry = str(value["retry"])
            tries = int(first.get("tries") or 0) + 1
            if tries < MAX_SPELLING_TRIES:
                pending[0] = {**first, "name": retry, "tries": tries}
                changes.update({UNKNOWN_NAMES: pending, UNKNOWN_NAME: retry})
                return changes  # asked again, with the new spelling
            name = retry
            value = {"keep": True}
        if isinstance(value, Mapping) and _is_names(value):
            inserted = [
                new_trial(str(m["drug"]), str(m.get("name_given") or ""), self.lexicon)
                for m in value["mentions"]
                if m.get("drug")
            ]
        elif isinstance(value, Mapping) and value.get("keep"):
            inserted = [new_trial(name, name, self.lexicon)]
            dispatcher.utter_message(response=UTTER_KEPT, med_unknown_name=name)
        elif isinstance(value, Mapping) and value.get("drop"):
            dispatcher.utter_message(response=UTTER_LEFT_OUT, med_unknown_name=name)
        trials[position:position] = inserted
        rest = [{**u, "at": int(u.get("at") or 0) + len(inserted)} for u in pending[1:]]
        index = _index(slots, trials)
        changes.update(
            {
                SLOT_TRIALS: trials,
                UNKNOWN_NAMES: rest or None,
                UNKNOWN_NAME: rest[0]["name"] if rest else None,
                CURRENT: trial_label(trials[index], self.lexicon) if index < len(trials) else None,
            }
        )
        return changes

    def _field_answered(self, slot: str, value: Any, slots: Mapping[str, Any]) -> Dict[str, Any]:
        trials = _trials(slots)
        index = _index(slots, trials)
        if index >= len(trials):
            return {}
        trial = trials[index]
        self._set_field(trial, FIELD_OF_SLOT[slot], _field_value(slot, value))
        changes: Dict[str, Any] = {SLOT_TRIALS: trials}
        if slot == OUTCOME and value == "stopped_side_effects" and slots.get(STILL_TAKING) is None:
            # stopped because of side effects: not taking it now (read back, so it can be changed)
            trial["still_taking"] = False
            changes[STILL_TAKING] = False
        changes[READBACK] = readback(trial, self.lexicon)
        return changes

    @staticmethod
    def _set_field(trial: Dict[str, Any], field: str, value: Any) -> None:
        if field == "side_effects":
            if value is None:
                trial.pop("side_effects", None)  # unknown is not "none"
            else:
                trial["side_effects"] = list(value)
            return
        trial[field] = value

    def _confirmed(
        self, value: Any, slots: Mapping[str, Any], dispatcher: CollectingDispatcher
    ) -> Dict[str, Any]:
        trials = _trials(slots)
        index = _index(slots, trials)
        if index >= len(trials):
            return {}
        trial = trials[index]
        if isinstance(value, Mapping) and "fix" in value:
            changes: Dict[str, Any] = {CONFIRM: None}  # read back again, with the change
            for field, fixed in dict(value["fix"]).items():
                slot = SLOT_OF_FIELD.get(field)
                if slot is None:
                    continue
                self._set_field(trial, field, fixed)
                changes[slot] = fixed
            changes[SLOT_TRIALS] = trials
            changes[READBACK] = readback(trial, self.lexicon)
            dispatcher.utter_message(response=UTTER_CHANGED)
            return changes
        if isinstance(value, Mapping) and value.get("pick") in FIELD_SLOTS:
            return {CONFIRM: None, str(value["pick"]): None}
        if isinstance(value, Mapping) and value.get("which"):
            dispatcher.utter_message(response=UTTER_WHICH_PART)
            return {CONFIRM: None}
        # confirmed (or left as read): on to the next medicine
        following = index + 1
        changes = {name: None for name in PER_DRUG_SLOTS}
        changes.update(
            {
                INDEX: following,
                READBACK: None,
                CURRENT: trial_label(trials[following], self.lexicon) if following < len(trials) else None,
            }
        )
        return changes
