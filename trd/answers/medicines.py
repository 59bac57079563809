"""Medicines named in an answer, found with the drug lexicon and the NLU's ``drug`` entities.

Pure Python (no Rasa): the message is a plain mapping (``text``, ``entities``). Names
the lexicon knows are never dropped; a word that stands where a name stands but is not
in the lexicon comes back unrecognised (``generic`` None), never matched to a drug.
Readers for the medicines form's name questions: :func:`read_names`, :func:`read_more`,
:func:`read_spelling`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from trd.answers.common import normalise_answer
from trd.answers.intake import is_unknown, parse_yes_no, strip_filler, unknownish
from trd.answers.values import INVALID, UNKNOWN
from trd.navigator.lexicon import Lexicon, normalise_name

MAX_NAME_CHARS = 60
MAX_MENTIONS = 30  # names read from one answer
MAX_NAME_WORD = 40  # a longer "word" is not a medicine's name


def default_lexicon() -> Lexicon:
    """The drug lexicon (data/knowledge/drugs.yml), read once per process on first use."""
    from trd.navigator import default_knowledge

    return default_knowledge().lexicon


def taken_now_lexicon(lexicon: Optional[Lexicon] = None) -> Lexicon:
    """``lexicon`` (the drug lexicon by default) with the medicines and supplements of
    data/knowledge/other_medicines.yml: the names read in a list of everything taken now."""
    from trd.navigator.loader import taken_now_lexicon as combined

    return combined(lexicon or default_lexicon())


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
    anymore needed occasionally usually regularly prn mostly sometimes
    blue white yellow pink orange green red purple brown grey gray little small big tiny new old
    different another same kind type sort one ones
    coil iud implant ring shot jab gummies gummy
    january february march april june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    honestly tbh rn atm haha literally obviously definitely
    """.split()
)
# Words after which a list item says what a medicine is for or when it is taken ("a tablet for
# cholesterol", "naproxen if my knee is bad"): the words that follow are not a medicine's name.
_PURPOSE_WORDS = frozenset({"for", "when", "whenever", "before", "because", "cause", "if", "as", "to"})
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
_SPOKEN_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")  # "don't" is one word, not "don"
_COMPOUND = re.compile(r"[^\W_]+(?:[-/+][^\W_]+)+")
_JOINERS = frozenset({"and", "or", "with", "then", "plus", "also"})
_DOSE_WORDS = frozenset({"mg", "mgs", "mcg", "daily"})
_MAX_NGRAM = 4  # "st john's wort" is four words to the word pattern


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
                if any(g.strip(" -'\u2019") for g in gaps):
                    continue
            phrase = text[start:end]
            entry = lexicon.lookup(phrase)
            if entry is not None and not phrase.isdigit():
                # "sertraline 100mg daily": the name as said, without the dose the lookup ignored
                # (a formulation word stays: "wellbutrin xl", "emsam patch")
                said = group
                while len(said) > 1 and (
                    re.search(r"\d", said[-1].group()) or said[-1].group().lower() in _DOSE_WORDS
                ):
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
    words = [w for w in _SPOKEN_WORD.finditer(text, start, end) if not _overlaps(w.start(), w.end(), drugs)]
    cut = next((w.start() for w in words if w.group().lower() in _PURPOSE_WORDS), end)
    words = [w for w in words if w.start() < cut]

    def content(w: re.Match[str]) -> bool:
        token = re.sub(r"['\u2019]", "", w.group().lower())
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


@dataclass(frozen=True)
class Located:
    """A medicine named in an answer, where it stands, and the stretch of words around it
    that belongs to it (from the separator before it to the separator after it)."""

    mention: Mention
    start: int
    end: int
    before: str  # the words between the separator (or name) before it and its name
    after: str  # the words between its name and the next separator (or name)
    tail: str = ""  # the words between its name and the next name, separators included


_TRAILING_DOSE = re.compile(
    r"(?:\s+\d[\d.,]*\s*(?:mg|mgs|mcg|ug|g|milligrams?|micrograms?)?)+\s*$", re.IGNORECASE
)


def _separators(text: str, spans: Sequence[_Span]) -> List[Tuple[int, int]]:
    return [
        (sep.start(), sep.end())
        for sep in _SEPARATOR.finditer(text)
        if not _overlaps(sep.start(), sep.end(), spans)
    ]


def locate_medicines(
    text: str, message: Optional[Mapping[str, Any]] = None, lexicon: Optional[Lexicon] = None
) -> List[Located]:
    """Medicines named in ``text`` in the order they stand (no reordering, no merging), each
    with the words that belong to it ("sertraline 100mg, lisinopril 10 mg": its dose).

    The same names as :func:`find_medicines` (the lexicon's, the NLU's ``drug`` entities and
    unrecognised words where a name stands); used where each name carries its own details,
    as in a list of the medicines someone takes now.
    """
    lex = lexicon or default_lexicon()
    spans = _entity_spans(text, message or {}, lex)
    spans += _lexicon_spans(text, lex, spans)
    spans.sort(key=lambda s: s.start)
    separators = _separators(text, spans)
    bounds = [0] + [b for sep in separators for b in sep] + [len(text)]
    segments = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds) - 1, 2)]
    items: List[_Span] = []
    for start, end in segments:
        inside = [s for s in spans if start <= s.start < end]
        items += inside + _candidate_words(text, start, end, spans)
    items.sort(key=lambda s: s.start)
    located: List[Located] = []
    for index, span in enumerate(items):
        segment = next(((a, b) for a, b in segments if a <= span.start < b), (0, len(text)))
        left = max([segment[0]] + [s.end for s in items[:index] if s.end <= span.start])
        right = min([segment[1]] + [s.start for s in items[index + 1 :] if s.start >= span.end])
        name = _TRAILING_DOSE.sub("", span.said).strip() or span.said.strip()
        said_end = span.start + len(name)
        following = min([len(text)] + [s.start for s in items[index + 1 :] if s.start >= span.end])
        located.append(
            Located(
                Mention(name, span.generic),
                span.start,
                span.end,
                text[left : span.start],
                text[said_end:right] if said_end <= right else "",
                text[said_end:following] if said_end <= following else "",
            )
        )
    return located[:MAX_MENTIONS]


# Words that put two medicines in sequence ("X, then Y", "Y, and before that X").
_SEQUENCE = re.compile(
    r"\b(?:then|after that|afterwards|after which|followed by|later(?: on)?|next"
    r"|before (?:that|then|this|it|those|them)|prior to (?:that|this|it)|switched(?: me)? to"
    r"|changed(?: me)? to|moved(?: me)?(?: on)? to|swapped(?: me)? to"
    r"|replaced (?:it )?(?:by|with)|after)\b",
    re.IGNORECASE,
)


def named_in_sequence(text: str, mentions: Sequence[Mention]) -> bool:
    """Whether the words put the medicines named in an order ("zoloft, then lexapro"), rather
    than only listing them ("zoloft, lexapro and abilify": the order is not clear)."""
    names = [m for m in mentions if m.generic or m.said]
    if len(names) <= 1:
        return True
    return len(_SEQUENCE.findall(text)) >= len(names) - 1


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


_NONE_ANSWERS = frozenset(
    {
        "none",
        "no",
        "nope",
        "nah",
        "nothing",
        "never",
        "not any",
        "none yet",
        "none so far",
        "no none",
        "none of them",
        "no medicines",
        "no medications",
        "no medication",
        "no meds",
        "no medicine",
        "i havent",
        "i have not",
        "i havent tried any",
        "i havent tried anything",
        "i havent taken any",
        "i havent taken anything",
        "havent tried any",
        "i have not tried any",
        "i have never taken any",
        "ive never taken any",
        "never taken any",
        "ive not tried any",
        "no i havent",
        "nothing yet",
        "not yet",
        "no never",
        "no i have not",
        "none at all",
    }
)


def is_names_value(value: Any) -> bool:
    """Whether ``value`` is a names answer ({"mentions": [...], "none": ...})."""
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("mentions"), list)
        and all(isinstance(m, Mapping) for m in value["mentions"])
    )


def names_value(mentions: Sequence[Mention], in_sequence: bool = True) -> Dict[str, Any]:
    """The names answer; ``"in_sequence": False`` when the words did not put them in an order."""
    value: Dict[str, Any] = {"mentions": [m.as_dict() for m in mentions], "none": False}
    if not in_sequence:
        value["in_sequence"] = False
    return value


NONE_VALUE: Dict[str, Any] = {"mentions": [], "none": True}


def read_names(
    text: str, message: Optional[Mapping[str, Any]] = None, lexicon: Optional[Lexicon] = None
) -> Any:
    """The medicines named: {"mentions": [...], "none": False}; NONE_VALUE; UNKNOWN; or INVALID."""
    mentions = find_medicines(text, message, lexicon)
    if any(m.generic for m in mentions):
        return names_value(mentions, named_in_sequence(text, mentions))
    t = strip_filler(text)
    if t in _NONE_ANSWERS or normalise_answer(text) in _NONE_ANSWERS:
        return dict(NONE_VALUE)
    if unknownish(text):
        return UNKNOWN
    if mentions:
        return names_value(mentions, named_in_sequence(text, mentions))
    return INVALID


_NO_MORE = frozenset(
    {
        "no thats all",
        "thats all",
        "thats it",
        "thats everything",
        "no more",
        "nothing else",
        "no others",
        "none",
        "no none",
        "none else",
        "no thats it",
        "no thats everything",
        "no nothing else",
        "no other",
        "i think thats all",
        "thats all of them",
        "nope thats all",
        "none other",
    }
)


def read_more(
    text: str, message: Optional[Mapping[str, Any]] = None, lexicon: Optional[Lexicon] = None
) -> Any:
    """True, False, UNKNOWN, INVALID, or a names value when the answer names medicines."""
    t = strip_filler(text)
    if t in _NO_MORE or normalise_answer(text) in _NO_MORE:
        return False
    mentions = find_medicines(text, message, lexicon)
    if mentions:
        return names_value(mentions)
    if is_unknown(text):
        return UNKNOWN
    parsed = parse_yes_no(text)
    if parsed is INVALID and unknownish(text):
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
    if is_unknown(text):
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
