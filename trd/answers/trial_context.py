"""What a medicine trial was part of (navigator.md section 10): what it was for, whether it
was added on top of another medicine, whether an illness that came back came back while
still taking it, and the order the medicines were tried in.

Pure Python (no Rasa). Readers return the canonical value, UNKNOWN or INVALID (never a
guess); names are found by :mod:`trd.answers.medicines` with the drug lexicon.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from trd.answers.common import normalise_answer
from trd.answers.intake import is_unknown, parse_yes_no, strip_filler, unknownish
from trd.answers.medicines import MAX_NAME_CHARS, Mention, find_medicines, locate_medicines
from trd.answers.values import INVALID, UNKNOWN
from trd.navigator.lexicon import Lexicon

# --- what it was for ----------------------------------------------------------------------------

PURPOSES: Tuple[str, ...] = ("depression", "sleep", "pain", "other")
_PURPOSE_WORDS: Tuple[Tuple[str, re.Pattern[str]], ...] = (
    (
        "depression",
        re.compile(
            r"\bdepress\w*|\bmood\b(?! stabili)|\blow mood\b|\bantidepressant\b|\bsad(?:ness)?\b"
            r"|^dep$|\bdepresh\b"
        ),
    ),
    (
        "sleep",
        re.compile(
            r"\bsleep\w*|\binsomnia\b|\bto help me (?:drop off|nod off)\b|\bbedtime\b|\bknock me out\b"
            r"|\basleep\b|\bawake\b|\bwaking (?:up )?(?:at night|in the night|early)\b"
        ),
    ),
    (
        "pain",
        re.compile(
            r"\bpain\w*|\bmigraines?\b|\bheadaches?\b|\bneuropath\w*|\bfibro\w*|\bnerve\b|\barthritis\b"
            r"|\bback\b|\bsciatica\b|\bache\w*"
        ),
    ),
    (
        "other",
        re.compile(
            r"\bsomething else\b|\bother\b|\banxiety\b|\banxious\b|\bpanic\b|\bocd\b|\bparkinson\w*"
            r"|\bsmoking\b|\bnausea\b|\bappetite\b|\bweight\b|\badhd\b|\bhot flashes\b|\bhot flushes\b"
            r"|\bptsd\b|\bnightmares\b"
            # other conditions a low-dose medicine is given for: mood disorders other than depression,
            # psychosis, the skin, the bladder and the gut
            r"|\bbipolar\b|\bmania\b|\bmanic\b|\bpsychos[ie]s\b|\bpsychotic\b|\bvoices\b|\bschizo\w*"
            r"|\bitch\w*|\bhives\b|\brash\b|\beczema\b|\ballerg\w*|\bbed ?wetting\b|\bbladder\b"
            r"|\bibs\b|\birritable bowel\b|\bstomach\b|\bagitation\b|\btinnitus\b"
        ),
    ),
)


def read_purpose(text: str) -> Any:
    """ "Depression", "for sleep", "my back pain", "Something else": depression wins when named
    (a medicine taken for mood and sleep was a depression treatment)."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    found = [(m.start(), purpose) for purpose, pattern in _PURPOSE_WORDS for m in [pattern.search(t)] if m]
    if not found:
        return UNKNOWN if unknownish(text) else INVALID
    if any(purpose == "depression" for _, purpose in found):
        return "depression"
    return min(found)[1]


# --- when an illness came back: still taking it? ----------------------------------------------------

_STOPPED_OR_LOWERED = re.compile(
    r"\bstopped\b(?! (?:working|helping|doing))"
    r"|\blowered\b|\breduced\b|\bcame off\b|\bcut (?:it )?down\b|\btapered\b|\bafter (?:i )?stop"
    r"|\bhad stopped\b|\bwas off\b|\bquit\b|\bweaned\b|\bdecreased\b|\bdropped\b|\blower dose\b|\bless\b"
    r"|\boff it\b|\bnot taking\b|\bno longer\b|\bgot off\b|\bgave (?:it )?up\b"
    r"|\btaper\w*|\bcoming off\b|\bweaning\b|\bhalf\b|\bsmaller dose\b|\bwent off\b"
    r"|\b(?:ran|run|running) out\b|\bout of (?:my )?(?:meds|pills|tablets|rx|prescription)\b"
    r"|\bcouldnt (?:afford|get)\b"
)
_STILL_ON = re.compile(
    r"\bstill (?:taking|on)\b|\bsame dose\b|\bwhile (?:i was )?(?:on|taking)\b|\bwas (?:still )?on it\b"
    r"|\bwas taking it\b|\bstill on it\b|\bon the same\b|\bdidnt change\b|\bnothing changed\b"
    r"|\bthe whole time\b|\ball along\b|\bthe entire time\b|\bstill taking\b"
)


# "never missed a day", "didn't stop": said to say it was still being taken
_NOT_STOPPED = re.compile(
    r"\b(?:never|didnt|did not|hadnt|had not|without|not once)\s+(?:really\s+)?"
    r"(?:stopped|stop|stopping|missed|missing|miss|lowered|reduced|changed|cut down)\b"
)
# taken on some days only: whether "still taking it" holds is not clear (asked again)
_PARTLY_TAKEN = re.compile(
    r"\b(?:forget|forgetting|forgot|missed|missing|skipped|skipping)\b|\bon and off\b|\boff and on\b"
    r"|\bnot every day\b|\bnot regularly\b|\byes and no\b|\bsort of\b|\bkind of\b|\bpartly\b"
)


def read_relapse_while_taking(text: str) -> Any:
    """True: it came back while still on the medicine at the same dose; False: after stopping or
    lowering it ("No, I'd stopped or lowered it"); UNKNOWN when it was taken only on some days."""
    if is_unknown(text):
        return UNKNOWN
    t = _NOT_STOPPED.sub(" still taking ", strip_filler(text))
    if _PARTLY_TAKEN.search(t):
        return UNKNOWN
    if _STOPPED_OR_LOWERED.search(t):
        return False
    if _STILL_ON.search(t):
        return True
    parsed = parse_yes_no(text)
    if parsed is INVALID and unknownish(text):
        return UNKNOWN
    return parsed


# --- added on top of another medicine? --------------------------------------------------------------

_INSTEAD = re.compile(
    r"\binstead(?: of)?\b|\breplaced\b|\bswitched\b|\bswapped\b|\bafter (?:i )?stopp?(?:ed|ing)\b"
    r"|\bchanged (?:over )?from\b|\bin place of\b|\bmoved (?:over )?from\b"
    r"|\b(?:stopped|came off|come off|quit|dropped)\b.*\b(?:started|start|went on|put on|moved to)\b"
)
# "later they added X": X was added to this one, not the other way round
_ADDED_AFTER = re.compile(r"\badded\s*$")
_ALONE = re.compile(
    r"^(?:on its own|its own|own|alone|by itself|on it s own|just that|just that one|only that|only that one"
    r"|no|nope|not added|it wasnt added|it was not added|no on its own|no it was on its own|separately"
    r"|on its own i think|just on its own|alone i think|no just that|nothing else|single|by its self)$"
    r"|\bon its own\b|\bby itself\b|\bwasnt added\b|\bnot added\b|\bno other medicine\b|\balone\b"
)
_ADDED_BARE = re.compile(
    r"^(?:yes|yeah|yep|added|it was added|yes added|yes it was|on top|yes on top|added to another)$"
)


def read_added_to(
    text: str, message: Optional[Mapping[str, Any]] = None, lexicon: Optional[Lexicon] = None
) -> Any:
    """The medicines named as the one it was added to: {"added_to": [names]}, [] for "on its own"
    (or "it replaced X": a switch, not an addition); a bare "yes" is asked which one."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if _INSTEAD.search(t):
        return {"added_to": []}
    later = {
        item.mention.generic or item.mention.said
        for item in locate_medicines(text, message, lexicon)
        if _ADDED_AFTER.search(normalise_answer(item.before))
    }
    mentions = [m for m in find_medicines(text, message, lexicon) if (m.generic or m.said) not in later]
    known = [m.generic for m in mentions if m.generic]
    if not known and _ALONE.search(t):
        return {"added_to": []}  # "alone", "by itself" (never a name of its own)
    names = [m.generic or m.said.lower()[:MAX_NAME_CHARS] for m in mentions]
    if names:
        return {"added_to": names}
    if later:
        return INVALID  # only what was added to it later: was this one added to anything?
    if _ADDED_BARE.match(t) or parse_yes_no(text) is True:
        return INVALID  # added, but to which? asked again
    if parse_yes_no(text) is False:
        return {"added_to": []}
    return UNKNOWN if unknownish(text) else INVALID


def is_added_to_value(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("added_to"), list)
        and all(isinstance(n, str) for n in value["added_to"])
    )


# --- the order they were tried in -------------------------------------------------------------------

_AS_NAMED = re.compile(
    r"^(?:(?:yes\s+)?(?:in\s+)?(?:the\s+)?order i (?:named|said|gave|listed|told you|wrote)(?: them)?"
    r"|(?:yes\s+)?(?:in\s+)?(?:the\s+)?same order|as i said|as i named them|in that order|that order"
    r"|yes that order|yes in that order|the order i named them|like i said|as listed|as i listed them"
    r"|yes|yes thats right|thats right|correct|thats the order|yes thats the order)$"
)
_TOGETHER = re.compile(r"\b(?:same time|together|all at once|at once|overlapp?ed|overlapping)\b")
# "the order you listed them", "same order as I wrote"
_AS_NAMED_SAID = re.compile(
    r"\border (?:you|u|i|they were|theyre) (?:listed|wrote|named|said|gave|put|typed|have)\b|\bsame order\b"
    r"|\bas (?:you|u|i) (?:listed|wrote|named|said|put) (?:them|it)\b|\b(?:in|like) that order\b"
)
# a medicine's place said beside it: "X first", "Y was the most recent", "in 2019"
_FIRST_MARK = re.compile(r"\b(?:first|1st|started (?:with|w|on)|to start|initially|originally|earliest)\b")
_LAST_MARK = re.compile(
    r"\b(?:last|most recent(?:ly)?|latest|recent one|current(?:ly)?|my current|now|these days"
    r"|after (?:the other|both|all|them|those))\b"
)
_YEAR = re.compile(r"\b(?:19[5-9]\d|20[0-4]\d)\b")


def read_trial_order(
    text: str, message: Optional[Mapping[str, Any]] = None, lexicon: Optional[Lexicon] = None
) -> Any:
    """ "In the order I named them" -> {"as_named": True}; "prozac, then zoloft, then lexapro" ->
    {"order": [mentions]} (earliest first, as :func:`find_medicines` orders them)."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if _AS_NAMED.match(t) or _AS_NAMED_SAID.search(t) and not re.search(r"\bnot\b|\bdifferent\b", t):
        return {"as_named": True}
    if _TOGETHER.search(t) or unknownish(text):
        return UNKNOWN  # taken together, or part of it not known: no order to record
    mentions = find_medicines(text, message, lexicon)
    if mentions:
        return {"order": [m.as_dict() for m in _by_marks(text, mentions, message, lexicon)]}
    return INVALID


def _by_marks(
    text: str, mentions: List[Mention], message: Optional[Mapping[str, Any]], lexicon: Optional[Lexicon]
) -> List[Mention]:
    """The medicines in the order the words put them, then moved by what is said beside each: a
    year beside every one sorts them; "first" goes to the front, "last", "now" to the end."""
    beside: Dict[str, str] = {}
    for item in locate_medicines(text, message, lexicon):
        key = item.mention.generic or item.mention.said
        beside.setdefault(key, normalise_answer(f"{item.before} {item.after}"))
    words = [beside.get(m.generic or m.said, "") for m in mentions]
    years = [_YEAR.findall(w) for w in words]
    if len(mentions) > 1 and all(len(y) == 1 for y in years):
        dated = zip((int(y[0]) for y in years), mentions, strict=True)
        return [m for _, m in sorted(dated, key=lambda pair: pair[0])]
    marks = [
        (m, bool(_FIRST_MARK.search(w)), bool(_LAST_MARK.search(w)))
        for m, w in zip(mentions, words, strict=True)
    ]
    first = [m for m, is_first, is_last in marks if is_first and not is_last]
    last = [m for m, is_first, is_last in marks if is_last and not is_first]
    if len(first) > 1 or len(last) > 1:
        return list(mentions)
    middle = [m for m in mentions if m not in first and m not in last]
    return first + middle + last


def is_order_value(value: Any) -> bool:
    if not isinstance(value, Mapping):
        return False
    if value.get("as_named") is True:
        return True
    order = value.get("order")
    return isinstance(order, list) and all(isinstance(m, Mapping) for m in order)
