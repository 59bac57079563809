"""Answers about the person now (navigator.md section 10): age, pregnancy and the year after
a birth, alcohol and drugs, psychotic features, and the gentle questions about suicidal
thoughts that follow the safety check.

Pure functions from typed text to a canonical value, registered as kinds in
:mod:`trd.answers.kinds`. As everywhere in :mod:`trd.answers`: the canonical value,
:data:`UNKNOWN` ("not sure": null in the record, never "no") or :data:`INVALID` (not an
answer: asked again with a hint). Vague words are never guessed into numbers.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional, Tuple

from trd.answers.common import normalise_answer
from trd.answers.intake import is_unknown, parse_yes_no, strip_filler, unknownish
from trd.answers.numbers import read_number
from trd.answers.values import INVALID, UNKNOWN

# --- age ----------------------------------------------------------------------------------------

MIN_AGE = 10
MAX_AGE = 110
_DECADES: Dict[str, int] = {
    "teens": 10,
    "twenties": 20,
    "thirties": 30,
    "forties": 40,
    "fourties": 40,
    "fifties": 50,
    "sixties": 60,
    "seventies": 70,
    "eighties": 80,
    "nineties": 90,
}
_PART_OF_DECADE: Dict[str, Tuple[int, int]] = {
    "early": (0, 3),
    "mid": (4, 6),
    "middle": (4, 6),
    "late": (7, 9),
}
_AGE_LEAD = re.compile(
    r"^(?:(?:i am|im|age|aged|my age is|i turned|just turned|turned|about|around|roughly"
    r"|approximately|nearly|almost|i think|id say|i would say|well|um|umm|uh|er|erm|hmm|so|ok|okay|like"
    r"|somewhere|somewhere around|idk|i guess|probably|its|it is)\s+)+"
)
_MONTH_WORDS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|spring|summer|autumn|fall|winter"
)
_AGE_TAIL = re.compile(
    r"(?:\s+(?:years?|yrs?|y o|yo)(?:\s+old)?|\s+old|\s+now|\s+this year|\s+i guess|\s+i think|\s+i believe"
    r"|\s+lol|\s+haha|\s+tbh|\s+or so|\s+(?:last|this|next) (?:week|month|year|" + _MONTH_WORDS + r")"
    r"|\s+(?:in|on|this|next|last) (?:the )?(?:" + _MONTH_WORDS + r")"
    r"|\s+recently|\s+soon|\s+on \w+ \d{1,2})+$"
)
# A birthday to come: "I'll be 40 in June", "turning 33 next month" (the age now is one less).
_AGE_NEXT = re.compile(
    r"^(?:ill be|i will be|i ll be|im turning|turning|about to turn|gonna be|going to be|i turn)\s+"
)
# "twenty-something", "30 something": the decade
_DECADE_SOMETHING = re.compile(
    r"^(\d0|twenty|thirty|forty|fourty|fifty|sixty|seventy|eighty|ninety)\s*-?\s*(?:something|odd)$"
)
_DECADE = re.compile(
    r"^(?:in\s+)?(?:my|the)?\s*(?:(early|mid|middle|late)\s*-?\s*)?(\d0)\s*s$"
    r"|^(?:in\s+)?(?:my|the)?\s*(?:(early|mid|middle|late)\s*-?\s*)?(" + "|".join(_DECADES) + r")$"
)
_RANGE = re.compile(r"^(?:between\s+)?(\d{1,3})\s*(?:-|to|and|or)\s*(\d{1,3})$")
_OVER = re.compile(
    r"^(?:over|above|older than|more than)\s+(\d{1,3})$|^(\d{1,3})\s*(?:\+|plus|or over|or older|and over)$"
)
_UNDER = re.compile(r"^(?:under|below|younger than|less than)\s+(\d{1,3})$")


def _age_text(text: str) -> str:
    """Lower case, apostrophes dropped, punctuation to spaces except the range dash and the plus."""
    t = text.lower().replace("\u2019", "'").replace("'", "")
    t = t.replace("\u2013", "-").replace("\u2014", "-")
    t = re.sub(r"[^\w\s+-]", " ", t)
    t = re.sub(r"\s*-\s*", "-", t)
    t = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", t)  # "forty-five"
    return " ".join(t.split())


def _age_range(low: int, high: Optional[int]) -> Any:
    if high is not None and (high < low or high > MAX_AGE):
        return INVALID
    if low < MIN_AGE and (high is None or high < MIN_AGE):
        return INVALID
    return {"min": low, "max": high}


def read_age(text: str) -> Any:
    """ "45", "I'm 45", "forty-five", "in my 40s", "early thirties", "60-69", "over 65".

    A number: ``{"years": n}``; a range: ``{"min": a, "max": b}`` (``max`` None when open,
    ``min`` None for "under 25"). Ages outside 10-110 are asked again.
    """
    if is_unknown(text):
        return UNKNOWN
    value = _read_age(_age_text(text))
    if value is INVALID:
        # "34 or 35, I never remember": one clause is the age, the others say no number
        clauses = [c for c in re.split(r"[,;.!?]", text) if c.strip()]
        if len(clauses) > 1 and not any(re.search(r"\d", c) for c in clauses[1:]):
            first = _read_age(_age_text(clauses[0]))
            if first is not INVALID:
                return first
    if value is INVALID and unknownish(text):
        return UNKNOWN
    return value


def _read_age(t: str) -> Any:
    t = _AGE_TAIL.sub("", _AGE_LEAD.sub("", t).strip()).strip()
    t = _AGE_LEAD.sub("", t).strip()
    coming = _AGE_NEXT.match(t)
    if coming:
        value = _read_age(t[coming.end() :])
        if isinstance(value, dict) and "years" in value and value["years"] - 1 >= MIN_AGE:
            return {"years": value["years"] - 1}
        return INVALID
    something = _DECADE_SOMETHING.match(t)
    if something:
        word = something.group(1)
        base = int(word) if word.isdigit() else _DECADES[word[:-1] + "ies"]  # "forty" -> "forties"
        return _age_range(base, base + 9)
    match = _DECADE.match(t)
    if match:
        part = match.group(1) or match.group(3)
        base = int(match.group(2)) if match.group(2) else _DECADES[match.group(4)]
        if base == 10:  # "teens"
            return _age_range(13, 19)
        lo, hi = _PART_OF_DECADE.get(part or "", (0, 9))
        return _age_range(base + lo, base + hi)
    match = _RANGE.match(t)
    if match:
        return _age_range(int(match.group(1)), int(match.group(2)))
    match = _OVER.match(t)
    if match:
        return _age_range(int(match.group(1) or match.group(2)), None)
    match = _UNDER.match(t)
    if match:
        high = int(match.group(1)) - 1
        return {"min": None, "max": high} if MIN_AGE <= high <= MAX_AGE else INVALID
    number = read_number(t)
    if number is None or not MIN_AGE <= number <= MAX_AGE or not float(number).is_integer():
        return INVALID
    return {"years": int(number)}


def is_age_value(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if set(value) == {"years"}:
        years = value["years"]
        return isinstance(years, int) and not isinstance(years, bool) and MIN_AGE <= years <= MAX_AGE
    if set(value) == {"min", "max"}:
        return all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in value.values())
    return False


def age_years(value: Any) -> Tuple[Optional[int], Optional[str]]:
    """The record's age_years for an age answer, and a note saying how a range was read."""
    if not is_age_value(value):
        return None, None
    if "years" in value:
        return int(value["years"]), None
    low, high = value.get("min"), value.get("max")
    if low is not None and high is not None:
        middle = (int(low) + int(high)) // 2
        return middle, f"age_years is the midpoint of the age range given ({low}-{high})"
    if low is not None:
        return int(low), f"age_years is the lower bound of the age given ({low} or over)"
    return None, f"age given only as under {int(high) + 1}" if high is not None else None


# --- pregnancy, the year after a birth, breastfeeding, planning -----------------------------------

PERINATAL_FIELDS: Tuple[str, ...] = ("pregnant", "postpartum_within_year", "breastfeeding", "planning")
_NEGATED = re.compile(
    r"\b(?:not|no longer|never been|nor)\s+(?:currently\s+|at the moment\s+|right now\s+)?"
    r"(?:pregnant|breast ?feeding|nursing|planning(?: a| to| on)?(?: (?:get|getting|become|becoming))?"
    r"(?: pregnant| a pregnancy| a baby)?|trying(?: to get pregnant| for a baby)?|expecting)\b"
    # stopped: "I stopped nursing at six weeks", "gave up breastfeeding"
    r"|\b(?:stopped|quit|finished|gave up|done|weaned(?: off)?)\s+(?:breast ?feeding|nursing|pumping|bf\w*)\b"
    # an intention, not a state: "I plan to breastfeed once she's born"
    r"|\b(?:planning|plan|going|want|wanting|hoping|hope|intend|intending|would like)\s+(?:to|on)\s+"
    r"(?:breast ?feed\w*|nurse|nursing|pump\w*)\b"
    # someone else: "my sister is expecting", "my partner had a baby"
    r"|\b(?:my|our|his|her)\s+(?:wife|partner|girlfriend|gf|fiancee|fiance|sister|daughter|friend|mum|mom|mother"
    r"|cousin|boyfriend|husband|niece|colleague|sister in law|daughter in law)s?"
    r"\s+(?:is|was|just|has|had|s)?\s*"
    r"(?:\w+\s+)?(?:pregnant|expecting|breast ?feeding|nursing|had a baby|gave birth|having a baby)\b"
    # a pregnancy lost is none of the four (a miscarriage, a termination)
    r"|\b(?:had a |a )?(?:miscarriage|miscarried|termination|abortion|ectopic(?: pregnancy)?)\b"
    r"|\blost (?:the|my|a|our) (?:baby|pregnancy)\b"
)
# the list's items by position ("the last one"), in the question's order
_BY_POSITION = re.compile(
    r"^(?:just |only )?(?:the )?(first|1st|second|2nd|third|3rd|fourth|4th|last)(?: one)?$"
)
_POSITIONS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "last": 3,
}
# none said with a reason ("n/a, I'm a man", "past menopause so none", "..., none of those")
_NONE_SAID = re.compile(
    r"^(?:none|nope|no|n a|na|not applicable)\b(?! (?:longer|more))"
    r"|\b(?:none(?: of (?:them|those|these|that|the above))?"
    r"|so no|so nope|so none|not applicable|doesnt apply|does not apply|n a)$"
    r"|\b(?:im|i am) (?:a )?(?:man|male|guy|dude|bloke|cis man|trans man)\b"
    r"|\bmenopaus\w*|\bpost ?menopausal\b"
    r"|\btubes tied\b|\bhysterectomy\b"
)
# a baby's age said ("my 5 month old", "she's 7 weeks"): within the year after a birth, or not
_AGE_UNIT = r"(months?|mos?|m|weeks?|wks?|wk|w|days?|d)"
_BABY_AGE = re.compile(
    r"\b(\d{1,2})\s*" + _AGE_UNIT + r"\s+old\b"
    r"|\b(?:baby|son|daughter|twins|triplets|boy|girl|little one|lo|newborn|he|she|they|hes|shes|theyre)"
    r"\s+(?:is|are|s|was)?\s*(?:now\s+|just\s+)?(\d{1,2})\s*" + _AGE_UNIT + r"\b"
)
_PERINATAL_PATTERNS: Tuple[Tuple[str, re.Pattern[str]], ...] = (
    (
        "planning",
        re.compile(
            r"\bplanning\b|\bplan to\b|\btrying (?:to (?:get pregnant|conceive|have a baby)|for a baby)\b"
            r"|\bttc\b|\bivf\b|\bfertility\b|\bwant(?:ing)? (?:a baby|to (?:get pregnant|have a baby))\b"
            r"|\bhoping to (?:get pregnant|conceive|have a baby)\b"
            r"|\b(?:we|i|were|im|we are|i am|we r)\s+(?:still\s+)?trying(?:\s+again)?$"
            r"|\bthinking (?:about|of) (?:getting pregnant|a baby)\b"
        ),
    ),
    (
        "breastfeeding",
        re.compile(
            r"\bbreast ?feed(?:ing)?\b|\bnursing\b|\bbreast ?milk\b|\bchest ?feeding\b|\bpumping\b"
            r"|\bbf(?:ing|ng|in)?\b|\bebf\b"
        ),
    ),
    (
        "postpartum_within_year",
        re.compile(
            r"\bhad (?:a |my |our )?(?:little |baby |new |beautiful )?"
            r"(?:baby|son|daughter|twins|triplets|child"
            r"|boy|girl|little one)\b|\bgave birth\b"
            r"|\bbaby (?:is |who is )?\d+ ?(?:months?|weeks?|days?)(?: old)?\b|\bpost ?partum\b|\bnewborn\b"
            r"|\bnew baby\b|\bdelivered\b|\bgiven birth\b|\bbirth in the (?:past|last) year\b"
            r"|\bhad a baby in the (?:past|last) year\b|\bbaby in the (?:past|last) year\b"
        ),
    ),
    ("pregnant", re.compile(r"\bpregnant\b|\bpregnancy\b|\bexpecting\b|\bweeks along\b")),
)
_NONE_OF_THESE = re.compile(
    r"^(?:none(?: of (?:these|them|those|that|the above))?|nothing|neither|no(?:ne)?|n a|na"
    r"|(?:it )?(?:doesnt|does not|dont|do not) apply(?: to me)?|not applicable|no none of them"
    r"|im (?:a )?(?:man|male|guy)|i am (?:a )?(?:man|male)|male|man|post ?menopausal|past menopause"
    r"|not me|none apply|none of that|no to all|all no|none thanks)$"
)


def _baby_within_a_year(text: str) -> bool:
    """A baby's age said in days, weeks or months up to a year ("my 4 month old", "she is 6 wks")."""
    for match in _BABY_AGE.finditer(text):
        number, unit = match.group(1, 2) if match.group(1) else match.group(3, 4)
        value = int(number)
        if unit.startswith("m") and value <= 12 or unit.startswith("w") and value <= 52:
            return True
        if unit.startswith("d") and value <= 365:
            return True
    return False


def read_perinatal(text: str) -> Any:
    """Which of pregnant / had a baby in the past year / breastfeeding / planning apply:
    all four as booleans (the question lists them all), UNKNOWN, or INVALID (a bare "yes")."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if _NONE_OF_THESE.match(t):
        return {field: False for field in PERINATAL_FIELDS}
    position = _BY_POSITION.match(t)
    if position:
        named = PERINATAL_FIELDS[_POSITIONS[position.group(1)]]
        return {field: field == named for field in PERINATAL_FIELDS}
    rest = " ".join(_NEGATED.sub(" ", t).split())
    found = {field: bool(pattern.search(rest)) for field, pattern in _PERINATAL_PATTERNS}
    if found["planning"]:
        # "hoping to get pregnant" names a pregnancy without being pregnant
        planned = _PERINATAL_PATTERNS[0][1].sub(" ", rest)
        found["pregnant"] = bool(re.search(r"\bpregnant\b|\bexpecting\b|\bweeks along\b", planned)) and not (
            re.search(r"\b(?:get|getting|become|becoming) pregnant\b", planned)
        )
    found["postpartum_within_year"] = found["postpartum_within_year"] or _baby_within_a_year(rest)
    if found["postpartum_within_year"] and not re.search(r"\bpregnant\b|\bexpecting\b", rest):
        found["pregnant"] = False
    if any(found.values()):
        return {field: found[field] for field in PERINATAL_FIELDS}
    if rest != t or _NONE_SAID.search(t):
        # "not pregnant", "my wife is expecting", "tubes tied, none of them" (and nothing else)
        return {field: False for field in PERINATAL_FIELDS}
    parsed = parse_yes_no(text)
    if parsed is False:
        return {field: False for field in PERINATAL_FIELDS}
    if parsed is UNKNOWN or (parsed is INVALID and unknownish(text)):
        return UNKNOWN
    return INVALID  # "yes": which one?


def is_perinatal_value(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == set(PERINATAL_FIELDS)
        and all(isinstance(v, bool) for v in value.values())
    )


# --- alcohol and drugs -----------------------------------------------------------------------------

MAX_DRINKS_PER_WEEK = 500
WEEKS_PER_MONTH = 365.25 / 12 / 7
_NO_DRINKS = re.compile(
    r"^(?:none|no|nope|nothing|zero|0|never|i dont(?: drink)?(?: at all)?|i do not drink|dont drink"
    r"|not at all|teetotal|tee total|sober|im sober|i am sober|i quit(?: drinking)?|i dont drink alcohol"
    r"|no alcohol|not anymore|none at all|i never drink|rarely if ever|no drinks)$"
)
_PER_DAY = re.compile(r"\b(?:a|per|each|every) (?:day|night|evening)\b|\bdaily\b|\bnightly\b|\bevery day\b")
_PER_MONTH = re.compile(r"\b(?:a|per|each|every) month\b|\bmonthly\b")
_PER_WEEK = re.compile(r"\b(?:a|per|each|every) week\b|\bweekly\b|\bweek\b")
_NUMBER_RUN = re.compile(
    r"(\d+(?:\.\d+)?|(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)\s+)?"
    r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
    r"|sixteen|seventeen|eighteen|nineteen)|twenty|thirty|forty|fifty|sixty|a couple(?: of)?|a dozen|half a)"
)
_DRINK_RANGE = re.compile(r"(\d+(?:\.\d+)?|\w+)\s*(?:-|to|or)\s*(\d+(?:\.\d+)?|\w+)\b")


# Not drinking now, said with how long ("sober two years", "quit drinking in 2019"): none a week.
_SOBER = re.compile(
    r"^(?:im |i am |been |i have been |ive been )?(?:sober|teetotal|alcohol free|dry)\b"
    r"|^(?:i )?(?:quit|stopped|gave up) (?:drinking|alcohol|booze)\b"
)
_BUT = re.compile(r"\b(?:but|except|apart from|other than|although|though|now|only)\b")
# Nights or days of the week named: "on fridays and saturdays" is two a week, "most nights" five.
_DAY_NAMES = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?"
    r"|sun(?:day)?)s?"
)
_ONE_DAY = re.compile(r"\b(?:on|every) (?:a )?" + _DAY_NAMES + r"(?: night| evening)?\b")
_TWO_DAYS = re.compile(r"\bon " + _DAY_NAMES + r" (?:and|&|n) " + _DAY_NAMES + r"\b")
_MOST_DAYS = re.compile(r"\bmost (?:days|nights|evenings)\b")
# One drink said with "a": "a beer", "a glass of wine"; a pack of N is N drinks; a 750 ml bottle of
# wine is about 5 US standard drinks (NIAAA, "What is a standard drink?").
_ONE_DRINK = re.compile(
    r"\b(?:a|one) (?:beer|glass|pint|drink|can|shot|cocktail|bottle of beer|small glass|large glass|cider"
    r"|lager|ale|stout|seltzer|hard seltzer|whisky|whiskey|vodka|gin|rum|tequila|spirit|short|nightcap"
    r"|wine)\b"
)
_PACK = re.compile(r"\b(\d{1,2}) ?-?pack\b")
_WINE_BOTTLES = re.compile(r"\b(a|one|\d+(?:\.\d+)?) bottles? of wine\b")
WINE_BOTTLE_DRINKS = 5.0
# "3 a week, sometimes 4": the usual and the sometimes, between them
_SOMETIMES = re.compile(r"^(\d+(?:\.\d+)?)\b[^\d]*\bsometimes (\d+(?:\.\d+)?)\b[^\d]*$")


def _counted_drinks(t: str) -> Optional[float]:
    """Drinks on one occasion when said as containers ("a glass", "a 6 pack", "a bottle of wine")
    or as "N, sometimes M"; None when the amount is a plain number (read by the caller)."""
    wine = _WINE_BOTTLES.findall(t)
    if len(wine) == 1 and len(re.findall(r"\d+(?:\.\d+)?", t)) <= (0 if wine[0] in ("a", "one") else 1):
        bottles = 1.0 if wine[0] in ("a", "one") else float(wine[0])
        return bottles * WINE_BOTTLE_DRINKS
    pack = _PACK.findall(t)
    if len(pack) == 1 and len(re.findall(r"\d+", t)) == 1:
        return float(pack[0])
    sometimes = _SOMETIMES.match(t)
    if sometimes:
        low, high = sorted((float(sometimes.group(1)), float(sometimes.group(2))))
        return (low + high) / 2
    if _ONE_DRINK.search(t) and not re.search(r"\d", t) and read_number_words(t) == 0:
        # "a glass" needs how often: "every evening", "on sundays" ("at christmas" is not weekly)
        often = _PER_DAY.search(t) or _PER_WEEK.search(t) or _MOST_DAYS.search(t) or _TWO_DAYS.search(t)
        return 1.0 if often or _ONE_DAY.search(t) else None
    return None


def read_number_words(t: str) -> int:
    """How many numbers written in words stand in ``t`` ("two", "a dozen"; "a" alone is not one)."""
    return sum(1 for m in _NUMBER_RUN.finditer(t) if read_number(m.group(1)) is not None)


def read_drinks_per_week(text: str) -> Any:
    """Standard drinks in a usual week: "none", "10", "about 10 a week", "2 a day" (14),
    "2-3 a week" (2.5), "4 a month" (about 0.9), "a beer every evening" (7), "a 4-pack on
    fridays and saturdays" (8), "a bottle of wine most nights" (25). Vague amounts ("a few")
    are asked again."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if _NO_DRINKS.match(t) or _SOBER.search(t) and not _BUT.search(t):
        return 0.0
    factor = 1.0
    if _PER_DAY.search(t):
        factor = 7.0
    elif _MOST_DAYS.search(t):
        factor = 5.0
    elif _TWO_DAYS.search(t):
        factor = 2.0
    elif _PER_MONTH.search(t):
        factor = 1 / WEEKS_PER_MONTH
    counted = _counted_drinks(t)
    if counted is not None:
        weekly = round(counted * factor, 1)
        return float(weekly) if 0 <= weekly <= MAX_DRINKS_PER_WEEK else INVALID
    value: Optional[float] = None
    ranged = _DRINK_RANGE.search(_age_text(text))
    if ranged:
        low, high = read_number(ranged.group(1)), read_number(ranged.group(2))
        if low is not None and high is not None and low <= high:
            value = (low + high) / 2
    if value is None:
        found = [read_number(m.group(1)) for m in _NUMBER_RUN.finditer(t)]
        numbers = [n for n in found if n is not None]
        if len(numbers) != 1:
            return UNKNOWN if unknownish(text) else INVALID
        value = numbers[0]
    weekly = round(value * factor, 1)
    if weekly < 0 or weekly > MAX_DRINKS_PER_WEEK:
        return INVALID
    return float(weekly)


_CANNABIS = re.compile(
    r"\bcannabis\b|\bweed\b|\bmarijuana\b|\bmarihuana\b|\bpot\b|\bthc\b|\bedibles?\b|\bhash(?:ish)?\b"
    r"|\bjoints?\b|\bspliffs?\b|\bblunts?\b|\bganja\b|\bskunk\b|\bvap(?:e|ing) (?:thc|weed)\b"
    r"|\bstoned\b|\b420\b"
    r"|\bdab(?:s|bing|bed)?\b|\bdelta ?(?:8|9|10)\b|\bd8\b|\bhhc\b|\bthc carts?\b|\bcarts\b"
)
# Legal substances only ("just beer and vapes"): neither cannabis nor other drugs. CBD has no THC.
_LEGAL_ONLY = re.compile(
    r"^(?:only |just |i only |i just )?(?:(?:alcohol|booze|drink|drinks|drinking|beers?|wine|spirits"
    r"|cigarettes|cigs"
    r"|smokes|smoking|tobacco|nicotine|vapes?|vaping|coffee|caffeine|energy drinks|cbd|cbd oil|cbd gummies)"
    r"(?:\s+(?:and|or|plus)\s+|\s+)?)+$"
)
# Medicines that are also street drugs do not count when the person says they are prescribed.
_PRESCRIBED = re.compile(r"\bprescribed\b|\bprescription\b|\bmy (?:doctor|psychiatrist|gp)\b|\bclinic\b")
_NOT_PRESCRIBED = re.compile(
    r"\bnot (?:prescribed|mine)\b|\bisnt mine\b|\barent mine\b|\bsomeone elses\b"
    r"|\bwithout (?:a )?prescription\b"
    r"|\bnot (?:my|a) prescription\b|\bstreet\b|\bdealer\b"
)
_MEDICINE_DRUGS = re.compile(
    r"\bketamine\b|\bket\b|\bspravato\b|\besketamine\b|\bpills\b|\bbenzos\b|\bxanax\b|\bopioids?\b"
    r"|\bopiates?\b|\bamphetamines?\b|\badderall\b"
)
_OTHER_DRUGS = re.compile(
    r"\bother drugs?\b|\bcocaine\b|\bcoke\b|\bcrack\b|\bmeth\b|\bcrystal\b|\bspeed\b|\bmdma\b|\becstasy\b"
    r"|\bmolly\b|\bketamine\b|\bket\b|\blsd\b|\bacid\b|\bmushrooms\b|\bshrooms\b|\bpsilocybin\b"
    r"|\bheroin\b|\bfentanyl\b|\bopioids?\b|\bopiates?\b|\bpills\b|\bbenzos\b|\bxanax\b|\bghb\b"
    r"|\bpoppers\b|\bparty drugs\b|\bamphetamines?\b|\bdmt\b|\bkratom\b|\bpsychedelics?\b|\bdrugs\b"
    r"|\b(?:a|the odd|odd|few|couple of|some|do|doing|did) lines?\b|\bbumps? of\b"
)
_NEITHER = re.compile(
    r"^(?:neither|none|no|nope|nah|nothing|never|neither of them|none of them|no drugs|i dont"
    r"|i do not|not at all|no neither|none at all|not anymore|no i dont|clean|im clean"
    r"|i dont use (?:any|drugs)"
    r"|i dont use anything|nothing at all|no to both)$"
)
_PAST_ONLY = re.compile(
    r"\bused to\b|\bin the past\b|\byears ago\b|\bstopped\b|\bquit\b|\bgave (?:it |them )?up\b"
    r"|\bno longer\b|\bnot any ?more\b|\bnot anymore\b|\bwhen i was (?:young|younger|a teen)\b"
)
_BOTH = re.compile(r"^(?:both|yes both|both of them|both sometimes|a bit of both)$")
_NOT_CANNABIS = re.compile(r"\bno (?:cannabis|weed|marijuana)\b|\bnot (?:cannabis|weed|marijuana)\b")
_NOT_OTHER = re.compile(r"\bno (?:other|others|other drugs|hard drugs)\b|\bnothing else\b|\bnot other\b")


def read_recreational_drugs(text: str) -> Any:
    """Cannabis and other recreational drugs used now: {"cannabis": bool, "other": bool}."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if _NEITHER.match(t):
        return {"cannabis": False, "other": False}
    if _BOTH.match(t):
        return {"cannabis": True, "other": True}
    if _LEGAL_ONLY.match(t):
        return {"cannabis": False, "other": False}
    cannabis = bool(_CANNABIS.search(t)) and not _NOT_CANNABIS.search(t)
    others = re.sub(r"\bno other drugs\b|\bother drugs no\b", " ", t)
    prescribed_only = False
    if _PRESCRIBED.search(t) and not _NOT_PRESCRIBED.search(t):
        prescribed_only = bool(_MEDICINE_DRUGS.search(others))
        others = _MEDICINE_DRUGS.sub(" ", others)  # "my prescribed esketamine" is not a street drug
    other = bool(_OTHER_DRUGS.search(others))
    if prescribed_only and not (cannabis or other):
        return {"cannabis": False, "other": False}
    other = other and not _NOT_OTHER.search(t)
    if cannabis or other:
        if _PAST_ONLY.search(t):
            return {"cannabis": False, "other": False}
        return {"cannabis": cannabis, "other": other}
    if _NOT_CANNABIS.search(t) or _NOT_OTHER.search(t):
        return {"cannabis": False, "other": False}
    parsed = parse_yes_no(text)
    if parsed is False:
        return {"cannabis": False, "other": False}
    if parsed is UNKNOWN or (parsed is INVALID and unknownish(text)):
        return UNKNOWN
    return INVALID  # "yes": which?


def is_drugs_value(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"cannabis", "other"}
        and all(isinstance(v, bool) for v in value.values())
    )


# --- psychotic features: which kind -------------------------------------------------------------

_PERCEPTIONS = re.compile(
    r"\bhear(?:ing)?\b|\bheard\b|\bvoices?\b|\bsee(?:ing)?\b|\bsaw\b|\bvisions?\b|\bsounds?\b"
    r"|\bthings (?:others|other people) (?:dont|do not)\b|\bhallucinat"
    # smell, taste and touch too; and the words that say nobody else perceives it
    r"|\bsmell\w*|\btast(?:e|es|ing) (?:things|something|metal|poison)\b|\bcrawling\b"
    r"|\bfeel(?:s|ing)? (?:like )?(?:something|someone|bugs|insects|hands|things)"
    r" (?:touching|crawling|on me)\b"
    r"|\b(?:arent|isnt|wasnt|werent|not) (?:really )?there\b|\bnothing there\b|\bno ?ones there\b"
    r"|\bnobody else (?:can|could|does|did)\b"
)
_BELIEFS = re.compile(
    r"\bbeliefs?\b|\bbelieve\b|\bconvinced\b|\bsure that\b|\bideas?\b|\bthoughts? (?:others|people)\b"
    r"|\bparanoi|\bdelusion|\bguilt\b|\bruined\b|\bpunish"
    # the usual themes: watched or followed, messages meant for me, a special mission, controlled
    r"|\bbeing (?:watched|followed|tracked|poisoned|controlled|monitored|recorded|spied on)\b"
    r"|\b(?:watching|following|tracking|monitoring|spying on|after) me\b|\bplotting\b|\bagainst me\b"
    r"|\bsends? me (?:messages|signs|signals)\b|\b(?:messages|signs|signals) (?:meant )?for me\b"
    r"|\b(?:controlling|reading|putting thoughts in) my (?:mind|thoughts|head)\b"
    r"|\bspecial (?:powers?|mission|purpose|gift)\b|\bmeant for something\b|\bchosen one\b"
)
_PSYCHOSIS_POSITION = {
    "first": "perceptions", "1st": "perceptions", "second": "fixed_beliefs", "2nd": "fixed_beliefs",
}


def read_psychosis_kind(text: str) -> Any:
    """Which experiences, after "yes" to the question naming both: {"perceptions", "fixed_beliefs"}."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    both = re.search(r"\bboth\b", t) and not re.search(r"\bnot both\b", t)
    if both or re.match(r"^(?:each|all of them)$", t):
        return {"perceptions": True, "fixed_beliefs": True}
    position = re.match(r"^(?:just |only )?(?:the )?(first|1st|second|2nd)(?: one)?$", t)
    if position:
        named = _PSYCHOSIS_POSITION[position.group(1)]
        return {"perceptions": named == "perceptions", "fixed_beliefs": named == "fixed_beliefs"}
    perceptions, beliefs = bool(_PERCEPTIONS.search(t)), bool(_BELIEFS.search(t))
    if perceptions or beliefs:
        return {"perceptions": perceptions, "fixed_beliefs": beliefs}
    parsed = parse_yes_no(text)
    if parsed is False:
        return {"perceptions": False, "fixed_beliefs": False}  # "neither, actually"
    if re.match(r"^(?:neither|none|neither of them|no neither)$", t):
        return {"perceptions": False, "fixed_beliefs": False}
    return UNKNOWN if unknownish(text) else INVALID


def is_psychosis_value(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"perceptions", "fixed_beliefs"}
        and all(isinstance(v, bool) for v in value.values())
    )


# --- after the safety check: the thoughts, and whether to ask at all --------------------------------

THOUGHTS_NOW: Tuple[str, ...] = ("none", "passive", "active")
_ACTIVE = re.compile(
    r"^(?:more than that|more|more than passing|more than wishing|further|gone further|yes further"
    r"|active(?: thoughts)?|the second|second|the second one|worse than that|beyond that)$"
    r"|\bend(?:ing)? (?:my|it|things|my life)\b|\bkill(?:ing)? myself\b|\bhow i (?:would|could|might)\b"
    r"|\bthinking about doing it\b|\bact(?:ing)? on (?:it|them)\b|\bplan"
    # gone further: "both", "further" said first, a way or a method thought about, means put by
    r"|\bboth\b|^further\b|\b(?:gone|went|go|going|got) further\b|\bhow id\b|\bhow to do it\b"
    r"|\b(?:look|looking|looked|search|searching|searched|research|researching|researched|googl\w*)"
    r"(?: up)? (?:ways|how|methods)\b|\bways to (?:die|do it|end it|kill)\b"
    r"|\b(?:pills|tablets|meds|medication) (?:saved|stored|put by|hidden|stashed)\b"
    r"|\bsav(?:e|ed|ing) up (?:pills|tablets|meds)\b"
    r"|\bstockpil\w*|\b(?:bought|got|have) a (?:rope|gun)\b"
    r"|\b(?:driv\w*|crash\w*|steer\w*) (?:my car |the car )?(?:into|off)\b"
    r"|\bjump(?:ing)? (?:off|from|in front)\b"
    r"|\bstep(?:ping)? in front\b|\boverdos\w*|\bhang(?:ing)? myself\b|\bcut(?:ting)? my (?:wrists|throat)\b"
)
# "never a plan", "I'd never act on it": said to say it has not gone further
_NOT_FURTHER = re.compile(
    r"\b(?:never|no|not|without|wouldnt|would not|wont|will not|dont|do not|id never|i would never"
    r"|not going to)"
    r"\s+(?:(?:have|had|made|make|got)\s+)?(?:a |any |real |actual )?(?:plans?|planned|planning"
    r"|act(?:ed|ing)? on (?:it|them)"
    r"|do(?:ing)? (?:it|anything))\b"
)
# "they don't really come any more", "haven't had any lately"
_GONE_NOW = re.compile(
    r"\b(?:dont|do not|doesnt|does not)\s+(?:really\s+)?(?:come|happen|get them|have them|have any)"
    r"(?:\s+(?:much|often))?\s+(?:anymore|any more|lately|now|these days)\b"
    r"|\b(?:havent|have not|hadnt)\s+(?:really\s+)?had (?:any|them|those|one)"
    r"(?: lately| recently| in (?:a while|ages|months|weeks))\b"
)
_PASSIVE = re.compile(
    r"\bwish(?:ing|ed)?\b|\bpassive\b|\bpassing\b|\bnot (?:wanting|want) to be here\b|\bnot be here\b"
    r"|\bwasnt here\b|\bwerent here\b|\bdisappear\b|\bnot wake up\b|\bbetter off\b|\bthe first\b"
    r"|^(?:first|the first one|just that|only that|mostly that)$|\bjust thoughts\b|\bfleeting\b"
)
_NONE_NOW = re.compile(
    r"^(?:not lately|no|none|nope|not now|not right now|not at the moment|not anymore|not any more"
    r"|neither|no not lately|they(?:ve| have) gone|gone|not really|no thoughts|no not now|not recently"
    r"|none right now|none now|not these days|not lately no|no neither)$"
)


def read_thoughts_now(text: str) -> Any:
    """ "Not lately" -> none; "Wishing I wasn't here" -> passive; "More than that" -> active."""
    if is_unknown(text):
        return UNKNOWN
    t = strip_filler(text)
    if _NONE_NOW.match(t):
        return "none"
    if _ACTIVE.search(_NOT_FURTHER.sub(" ", t)):
        return "active"
    if _GONE_NOW.search(t) and not _PASSIVE.search(t):
        return "none"
    if _NOT_FURTHER.search(t) and not _PASSIVE.search(t):
        return "passive"  # "never made a plan": thoughts, not gone further (never read as none)
    if _PASSIVE.search(t):
        return "passive"
    if parse_yes_no(text) is False:
        return "none"
    return UNKNOWN if unknownish(text) else INVALID


_GO_AHEAD = re.compile(
    r"^(?:ok|okay|okey|k|yes|yeah|yep|sure|fine|thats fine|that is fine|go ahead|alright|all right|yes okay"
    r"|okay go ahead|ok go ahead|yes go ahead|you can|you may|go on|sure go ahead|i guess so|i suppose so"
    r"|yes thats okay|thats okay|that s okay|its okay|its ok|ok sure|sure thing|yes you can|please do)$"
)
_NOT_NOW = re.compile(
    r"^(?:not now|no|nope|nah|no thanks|no thank you|id rather not|i would rather not|rather not"
    r"|not today|maybe later|later|not right now|no not now|i dont want to|i do not want to|please dont"
    r"|skip|skip them|skip it|no skip)$"
)


def read_go_ahead(text: str, intent: Optional[str] = None, confidence: float = 0.0) -> Any:
    """Whether the person is happy to be asked ("Okay" / "Not now"): True / False."""
    t = strip_filler(text)
    if _NOT_NOW.match(t) or _NOT_NOW.match(normalise_answer(text)):
        return False
    if _GO_AHEAD.match(t) or _GO_AHEAD.match(normalise_answer(text)):
        return True
    parsed = parse_yes_no(text, intent, confidence)
    if parsed is UNKNOWN:
        return False  # "not sure" about being asked: we do not ask
    return parsed
