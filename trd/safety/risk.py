"""The deterministic risk engine behind the safety guard.

Pure Python (no Rasa import) so the NLU component, the SMS channel and the
tests share one implementation. The words live in a data file a clinician can
review (``data/knowledge/risk_lexicon.yml``); this module only knows how to
read text the way people type it and how to apply the lexicon's rules.

How a message is assessed
1. ``normalize``: lower case, accents and look-alike characters folded,
   contractions expanded ("don't" -> "do not", "im" -> "i am"), SMS spelling
   ("wnt 2 die" -> "want to die", "2nite" -> "tonight"), leet and masked
   spellings ("k!ll", "su1c1de", "s*icide", "s u i c i d e"), repeated letters
   ("dieeee") and common misspellings ("sucide", "kil myself"). Sentence ends
   become " . " and clause breaks " , " so no rule reaches across them.
2. Look-alike rules (idioms, treatment words, news, negated history) are
   matched. A risk match lying wholly inside a look-alike span is dropped
   ("killed myself laughing"); a risk match that reaches outside it stands
   ("I want to die for real" is not the idiom "to die for").
3. Risk rules are matched. A rule may carry ``unless`` (the rule does not
   apply when the sentence matches it) and ``subject: third`` (the rule only
   applies to a sentence about someone else). Each match is then checked for:
   - negation, in its own clause only: a negator ("not", "never", "no",
     "deny") must come before the match with only scope-keeping words in
     between ("I am not going to kill myself", "I have never been suicidal").
     "I don't know why I want to die" is not negated ("know" breaks scope).
     The negation is cancelled (the match counts) when it is hedged
     ("probably not", "not sure", "not today", "not yet", "for now", "unless"),
     doubled ("I can't say I'm not suicidal"), or followed by a contrast that
     carries a soft risk cue ("I'm not suicidal but lately I think about it").
     Rules whose wording is itself negative ("I don't want to live anymore",
     "no reason to live", "not sure I want to be alive") are marked
     ``negatable: false`` and always count.
   - subject: a match about a third person ("my son said he wants to die",
     "she is cutting herself") is put in the third_party category.
   - time: a danger-now match about the past ("I overdosed two years ago") is
     a disclosure (suicidal_ideation), not an emergency now.
   - retraction: "I was joking when I said I wanted to die" is recorded
     (``retracted``) but still counts; the dialogue asks once more.
4. The result names the intent (crisis_danger_now > crisis > sos), the primary
   category, every category found, the negated mentions and the look-alike
   kinds seen; ``explained_by`` lists the look-alikes that account for risky
   words in the message (the guard may use those to overrule a classifier
   false alarm).

Decisions on negation (safety first; documented in the lexicon too):
- Negated HISTORY is the only negation that silences a match: "I've never been
  suicidal", "I haven't self-harmed in years", "no history of attempts", "I
  didn't try to overdose". It is reported as the look-alike negated_history.
- A first-person denial of present or future risk still fires: "I'm not going
  to kill myself", "I'm not suicidal", "I would never hurt myself". The person
  raised killing themselves; the crisis reply gives resources and asks, which
  is safe to ask anyone, and an answer of "I'm safe" closes it. The hit is
  kept (note "denial") and also listed in ``denials``.
  Exception: the denial comes with an explicit statement of safety and no
  other risk ("I'm safe, I'm not going to hurt myself"): that answers the
  check question, so it does not fire (``safe_affirmation``).
- A denial about someone else, or about harming others ("my son isn't
  suicidal", "I don't want to hurt anyone") does not fire; it is listed in
  ``denials`` and never counts as a look-alike.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Pattern, Sequence, Set, Tuple

from trd.knowledge import KnowledgeError
from trd.knowledge.risk_lexicon import LOOKALIKE_KINDS as _LOOKALIKE_KINDS
from trd.knowledge.risk_lexicon import read_risk_lexicon
from trd.paths import KNOWLEDGE_DIR, REPO_ROOT  # noqa: F401  (REPO_ROOT: part of this module's API)
from trd.safety.contract import (  # noqa: F401  (re-exported: the engine's names for the contract)
    CATEGORY_PRIORITY,
    INTENT_CRISIS,
    INTENT_DANGER_NOW,
    INTENT_SOS,
    LEXICON_CATEGORIES,
    LEXICON_CRISIS_CATEGORIES,
    SOS_CATEGORY,
)
from trd.text_guard import remove_invisible

DEFAULT_LEXICON_PATH = KNOWLEDGE_DIR / "risk_lexicon.yml"
LEXICON_ENV_VAR = "TRD_RISK_LEXICON"

# The contract with the rest of the assistant (trd/safety/contract.py).
CRISIS_CATEGORIES: Tuple[str, ...] = LEXICON_CRISIS_CATEGORIES
ALL_CATEGORIES: Tuple[str, ...] = LEXICON_CATEGORIES
LOOKALIKE_KINDS: Tuple[str, ...] = _LOOKALIKE_KINDS

# Primary category when several are found: the most urgent first.
_PRIORITY: Tuple[str, ...] = CATEGORY_PRIORITY

SENTENCE = "."
CLAUSE = ","


class LexiconError(ValueError):
    """The risk lexicon file is missing a part or has a rule that does not compile."""


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_CHAR_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": " - ", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
    # Cyrillic and Greek letters that look like Latin ones.
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0443": "y",
    "\u0445": "x", "\u0456": "i", "\u0455": "s", "\u03bf": "o", "\u03b9": "i", "\u03b1": "a",
}

_EMOJI_WORDS = {
    "\U0001f48a": " pills ",  # pill
    "\U0001f52b": " gun ",
    "\U0001f52a": " knife ",
    "\U0001faa2": " rope ",
    "\u26b0": " coffin ",
    "\U0001faa6": " grave ",
    "\U0001f309": " bridge ",
    "\U0001fa78": " blood ",
    # laughing and eye-rolling faces: the tone of a joke, read like "lol"
    "\U0001f602": " lol ", "\U0001f923": " lol ", "\U0001f644": " lol ",
}

# Contractions, applied to the lower-cased text before tokenising. Order matters.
_CONTRACTIONS: Tuple[Tuple[Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        # "od'd"; "odd" only as "odd on ..." ("i odd on my meds"): "20 odd years" is odd
        (r"\bod'd\b|\bodd(?= on\b)", "overdosed"),
        (r"\bod'?ing\b", "overdosing"),
        (r"\bod'?ed\b", "overdosed"),
        (r"\bcan'?t\b", "can not"),
        (r"\bcannot\b", "can not"),
        (r"\bwon'?t\b", "will not"),
        (r"\bain'?t\b", "am not"),
        (r"\bshan'?t\b", "shall not"),
        (r"\b([a-z]+)n't\b", r"\1 not"),
        (r"\b(do|does|did|is|was|are|were|has|have|had|would|could|should|must|need|might)nt\b", r"\1 not"),
        (r"\bi'?m\b", "i am"),
        (r"\bi'?ma\b", "i am going to"),
        (r"\bi'?mma\b", "i am going to"),
        (r"\b(i|you|we|they|who|would|could|should|might|must)'ve\b", r"\1 have"),
        (r"\b(would|could|should|might|must)(ve|of)\b", r"\1 have"),
        (r"\bive\b", "i have"),
        (r"\b([a-z]+)'ll\b", r"\1 will"),
        (r"\b([a-z]+)'d\b", r"\1 would"),
        (r"\bid (rather|like|love|never|be|do|kill|just|prefer|sooner)\b", r"i would \1"),
        (r"\b([a-z]+)'re\b", r"\1 are"),
        (r"\blet's\b", "let us"),
        (
            r"\b(he|she|it|that|what|there|here|who|where|how|everything|nothing|life|this|someone|"
            r"somebody|everyone|nobody|no one)'s\b",
            r"\1 is",
        ),
        (r"'s\b", ""),
        (r"s'(?=\s|$)", "s"),
    )
)


# Whole-token SMS abbreviations and slang. Values may be several words.
_SMS: Dict[str, str] = {
    "u": "you", "ya": "you", "yu": "you", "ur": "your", "yr": "your", "r": "are", "im": "i am",
    "wanna": "want to", "wana": "want to", "wnna": "want to", "wna": "want to", "wan": "want",
    "wnt": "want", "wont": "will not", "wnt2": "want to",
    "gonna": "going to", "gona": "going to", "gunna": "going to", "gna": "going to",
    "finna": "going to", "imma": "i am going to", "ima": "i am going to",
    "gotta": "got to", "hafta": "have to", "tryna": "trying to", "lemme": "let me",
    "dunno": "do not know", "idk": "i do not know", "idc": "i do not care", "idgaf": "i do not care",
    "ngl": "honestly", "tbh": "honestly", "tbf": "honestly", "fr": "for real", "frfr": "for real",
    "istg": "i swear", "rn": "right now", "atm": "at the moment", "tn": "tonight",
    "2nite": "tonight", "2night": "tonight", "tonite": "tonight", "2nyt": "tonight", "2nt": "tonight",
    "2day": "today", "2moro": "tomorrow", "2morrow": "tomorrow", "2mrw": "tomorrow", "2mro": "tomorrow",
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow", "tomoz": "tomorrow", "tmrrw": "tomorrow",
    "b4": "before", "b": "be", "4ever": "forever", "4eva": "forever", "forevr": "forever", "4evr": "forever",
    "bc": "because", "bcuz": "because", "bcos": "because", "bcz": "because", "cuz": "because",
    "coz": "because", "cos": "because", "becuz": "because", "becos": "because",
    "abt": "about", "bout": "about", "pls": "please", "plz": "please", "plez": "please",
    "pleez": "please", "ppl": "people", "sum1": "someone", "some1": "someone", "smn": "someone",
    "any1": "anyone", "ne1": "anyone", "no1": "no one", "noone": "no one", "every1": "everyone",
    "evry1": "everyone", "wat": "what", "wut": "what", "wht": "what", "wot": "what", "nd": "and",
    "tho": "though", "thru": "through", "luv": "love", "l8r": "later", "gr8": "great", "kk": "ok",
    "txt": "text", "msg": "message", "msgs": "messages", "bf": "boyfriend", "gf": "girlfriend",
    "bff": "best friend", "hubby": "husband", "wifey": "wife", "ded": "dead", "slf": "self",
    "selfharm": "self harm", "selfharming": "self harming", "selfharmed": "self harmed",
    "myslf": "myself", "myslef": "myself", "mysef": "myself", "mself": "myself", "meself": "myself",
    "mysel": "myself", "myselff": "myself", "mysefl": "myself", "myseld": "myself", "myselg": "myself",
    "kil": "kill", "kll": "kill", "kiil": "kill", "kilk": "kill", "kiled": "killed", "kilin": "killing",
    "killin": "killing", "kilng": "killing", "kiling": "killing", "dieing": "dying", "dyin": "dying",
    "livin": "living", "wantin": "wanting", "thinkin": "thinking", "cuttin": "cutting",
    "sucide": "suicide", "suicde": "suicide", "suiside": "suicide", "suicid": "suicide",
    "suecide": "suicide", "sucicide": "suicide", "suacide": "suicide", "suisede": "suicide",
    "suiced": "suicide", "sucidal": "suicidal", "suicdal": "suicidal",
    "suisidal": "suicidal", "sucidial": "suicidal", "suicidial": "suicidal", "suacidal": "suicidal",
    "suicidel": "suicidal", "suicidle": "suicidal", "sucidle": "suicidal", "suicial": "suicidal",
    "sui": "suicidal", "suicidl": "suicidal",
    "od": "overdose", "oding": "overdosing", "oded": "overdosed", "ovrdose": "overdose",
    "overdoes": "overdose", "ovrdosed": "overdosed", "unalve": "unalive", "unalived": "unalived",
    "tabs": "tablets", "meds": "meds", "pils": "pills", "pillz": "pills",
    "jus": "just", "juss": "just", "jst": "just", "rly": "really", "rlly": "really", "srsly": "seriously",
    "evry": "every", "evrything": "everything", "nthing": "nothing", "nuthin": "nothing",
    "nothin": "nothing", "somethin": "something", "anymore": "anymore", "nemore": "anymore",
    "anymor": "anymore", "alive": "alive", "sry": "sorry", "soz": "sorry", "ok": "ok", "okay": "ok",
    "cya": "see you", "bye": "bye", "gbye": "goodbye", "goodby": "goodbye", "gudbye": "goodbye",
    "bcoz": "because", "thats": "that is", "whats": "what is", "theres": "there is",
    "heres": "here is", "hes": "he is", "shes": "she is", "wheres": "where is",
    "everythings": "everything is", "nothings": "nothing is", "lifes": "life is",
    "youre": "you are", "theyre": "they are", "dont": "do not", "doesnt": "does not",
    "didnt": "did not", "isnt": "is not", "wasnt": "was not", "arent": "are not",
    "werent": "were not", "havent": "have not", "hasnt": "has not", "hadnt": "had not",
    "wouldnt": "would not", "couldnt": "could not", "shouldnt": "should not", "cant": "can not",
    "aint": "am not", "wouldve": "would have", "couldve": "could have", "shouldve": "should have",
}
# Ordinary words with a double letter that the stretch reading would shorten into another
# word ("odd" is not a stretched "od", "scarred" not "scared", "deed" not "dead", "denny"
# not "deny"): found by reading every double-letter word of the encoder's vocabulary.
_REAL_DOUBLES = {
    "odd", "deed", "deeds", "steep", "scarred", "scrapped", "starring", "starred", "proof", "mass",
    "noon", "butt", "inn", "bee", "thee", "wee", "hopped", "hopping", "moore", "ann", "finnish",
    "watt", "hiss", "kidd", "carr", "barr", "mann", "denny", "manny", "gunn", "dee", "nee", "doo",
    "goo", "herr", "starr", "haas", "hess", "somme", "homme", "dogg", "wwe", "uss", "bbc",
}
# Tokens that stay as they are even though they contain digits or look odd.
_KEEP = {"kms", "kys", "ctb", "sh", "sos", "911", "988", "741741", "838255"}

# "2" means "to" before these verbs ("wnt 2 die"), and stays a number otherwise ("took 2 pills").
_TO_VERBS = {
    "die", "kill", "end", "live", "be", "go", "do", "hurt", "cut", "sleep", "jump", "take", "wake",
    "stop", "talk", "see", "get", "overdose", "make", "hang", "leave", "keep", "exist", "disappear",
    "harm", "burn", "unalive", "feel", "say", "give", "write", "finish", "help", "call", "text",
    "myself", "death", "dying", "the", "a",
}

# "4" means "for" before these ("saving them 4 when i'm ready"), and stays a number otherwise.
_FOR_NEXT = {
    "when", "the", "a", "my", "you", "me", "ever", "good", "real", "now", "tonight", "them", "him", "her",
    "it", "sure", "later", "what", "all", "everyone", "u", "after", "once",
}

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"}
_UNIT = re.compile(r"^(\d+(?:\.\d+)?)(mg|g|ml|mcg|ug|x|s|th|st|nd|rd|pm|am|k|yo|yrs?|mins?|hrs?|h|pcs|kms?)$")
_WORD_CHUNK = re.compile(r"[a-z0-9@$*!#_|.'\-]+|[^\sa-z0-9@$*!#_|.'\-]")
_STRIP_EDGES = "!?.,'\"-_*#|"
_SENTENCE_PUNCT = set(".!?;")
_CLAUSE_PUNCT = set(",:()[]{}\"/")

# Words that appear in the lexicon's rules; built when a lexicon is loaded. The
# normaliser uses them to pick the reading of a masked or stretched word.
_EXTRA_VOCAB = {
    "i", "a", "so", "please", "help", "now", "no", "not", "ok", "die", "dead", "kill", "myself",
    "suicide", "suicidal", "overdose", "overdosed", "overdosing", "unalive", "self", "harm", "cut",
    "cutting", "want", "wanna", "going", "to", "end", "it", "all", "life", "live", "living", "pills",
    "tonight", "sos", "really", "just", "need", "very", "too", "good", "bye", "goodbye",
}

_FUZZY_TARGETS = ("suicide", "suicidal", "myself", "overdose", "overdosed", "overdosing", "unalive",
                  "himself", "herself", "themselves", "suicidally")
_FUZZY_STOP = {"overdone", "overdue", "overdosa", "suicides", "myselfs", "herselfs", "unalike", "unlive"}


def _fold(text: str) -> str:
    out: List[str] = []
    for ch in text:
        if ch in _EMOJI_WORDS:
            out.append(_EMOJI_WORDS[ch])
        elif ch in _CHAR_FOLD:
            out.append(_CHAR_FOLD[ch])
        else:
            out.append(ch)
    folded = unicodedata.normalize("NFKD", "".join(out))
    # keep ASCII letters/digits/punctuation; drop combining marks and other symbols (emoji)
    kept: List[str] = []
    for ch in folded:
        if unicodedata.combining(ch):
            continue
        if ord(ch) < 128:
            kept.append(ch)
        elif unicodedata.category(ch).startswith("Z"):
            kept.append(" ")
        else:
            kept.append(" ")
    return "".join(kept)


def _damerau1(a: str, b: str) -> bool:
    """True if a and b differ by exactly one edit (insert, delete, substitute, swap)."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            i = diff[0]
            return a[i] == b[i + 1] and a[i + 1] == b[i]
        return False
    if la > lb:
        a, b = b, a
    for i in range(len(b)):
        if a == b[:i] + b[i + 1:]:
            return True
    return False


class Normalizer:
    """Turns raw user text into the token string the lexicon's rules are written against."""

    def __init__(self, vocabulary: Iterable[str] = (), sms: Optional[Mapping[str, str]] = None) -> None:
        self.vocabulary: Set[str] = set(_EXTRA_VOCAB) | {w for w in vocabulary if w}
        self.sms: Dict[str, str] = dict(_SMS)
        if sms:
            self.sms.update(sms)

    # -- single tokens ---------------------------------------------------------------------
    def _known(self, word: str) -> bool:
        return word in self.vocabulary or word in self.sms

    def _destretch(self, word: str) -> str:
        if not re.search(r"([a-z])\1", word):
            return word
        if self._known(word) or word in _REAL_DOUBLES:
            return word
        two = re.sub(r"([a-z])\1{2,}", r"\1\1", word)
        one = re.sub(r"([a-z])\1{2,}", r"\1", word)
        single = re.sub(r"([a-z])\1+", r"\1", word)
        for cand in (two, one, single):
            if self._known(cand):
                return cand
        # try collapsing each doubled run separately ("killl" -> "kill", "diee" -> "die")
        runs = [m for m in re.finditer(r"([a-z])\1+", word)]
        for m in runs:
            for keep in (2, 1):
                cand = word[: m.start()] + m.group(1) * keep + word[m.end():]
                cand = re.sub(r"([a-z])\1{2,}", r"\1\1", cand)
                if self._known(cand):
                    return cand
        return two

    def _fuzzy(self, word: str) -> str:
        if len(word) < 6 or word in _FUZZY_STOP or self._known(word):
            return word
        for target in _FUZZY_TARGETS:
            if _damerau1(word, target):
                return target
        return word

    def _unmask(self, word: str) -> str:
        """Readings of a word with symbols in it: 'k!ll', 'su1c1de', 's*icide', '$uicide'."""
        if not re.search(r"[^a-z]", word):
            return word
        if word in _KEEP or word in self.sms:
            return word
        if re.fullmatch(r"[\d.,:/]+", word):
            return word
        # wildcard characters hide one or a few letters ("s*icide", "k**l"), or were inserted ("sui*cide")
        if re.search(r"[*#_]", word):
            base = "".join(_LEET.get(c, c) for c in word)
            parts = re.split(r"([*#_]+)", base)
            rx_src = "".join(
                f"[a-z]{{1,{len(part) + 1}}}" if part and part[0] in "*#_" else re.escape(part)
                for part in parts
            )
            rx = re.compile("^" + rx_src + "$")
            for cand in sorted(self.vocabulary, key=lambda w: (len(w), w)):
                if rx.match(cand):
                    return cand
            stripped = re.sub(r"[^a-z]", "", base)
            return stripped
        if re.search(r"[a-z]", word) or re.search(r"[@$!|]", word):
            # leet: try "1" as i and as l
            cands = [
                "".join(_LEET.get(c, c) for c in word),
                "".join({"1": "l"}.get(c, _LEET.get(c, c)) for c in word),
            ]
            for cand in cands:
                cand = re.sub(r"[^a-z]", "", cand)
                if self._known(self._destretch(cand)):
                    return self._destretch(cand)
            return re.sub(r"[^a-z]", "", cands[0])
        return word

    # -- whole text ------------------------------------------------------------------------
    def tokens(self, text: str) -> List[str]:
        t = _fold(text).lower()
        t = re.sub(r"[\r\n]+", " . ", t)
        for rx, rep in _CONTRACTIONS:
            t = rx.sub(rep, t)
        raw: List[str] = []
        for chunk in _WORD_CHUNK.findall(t):
            if len(chunk) == 1 and not re.match(r"[a-z0-9@$]", chunk):
                raw.append(self._punct(chunk))
                continue
            lead = ""
            trail = ""
            core = chunk
            while core and core[0] in _STRIP_EDGES and not (core[0] in "$@" and len(core) > 1):
                lead += core[0]
                core = core[1:]
            while core and core[-1] in _STRIP_EDGES:
                trail = core[-1] + trail
                core = core[:-1]
            if lead.strip("'\"*_#-"):
                raw.append(self._punct(lead))
            if core:
                raw.extend(self._split_core(core))
            if trail:
                if trail.count("!") >= 2:
                    raw.append("!!")
                raw.append(self._punct(trail))
        return self._post(raw)

    @staticmethod
    def _punct(p: str) -> str:
        if any(c in _SENTENCE_PUNCT for c in p):
            return SENTENCE
        if any(c in _CLAUSE_PUNCT for c in p):
            return CLAUSE
        if p.strip("-") == "" and len(p) >= 1:
            return CLAUSE
        return ""

    def _split_core(self, core: str) -> List[str]:
        if core in _KEEP or core in self.sms:
            return [core]
        m = _UNIT.match(core)
        if m:
            return [m.group(1), m.group(2)]
        # s.u.i.c.i.d.e / s-u-i-c-i-d-e
        if re.fullmatch(r"(?:[a-z0-9@$!][.\-])+[a-z0-9@$!][.\-]?", core):
            return [self._unmask(re.sub(r"[.\-]", "", core))]
        parts: List[str] = []
        for piece in re.split(r"[.\-']+", core):
            if not piece:
                continue
            if piece in _KEEP or piece in self.sms:
                parts.append(piece)
                continue
            mm = _UNIT.match(piece)
            if mm:
                parts.extend([mm.group(1), mm.group(2)])
                continue
            parts.append(self._unmask(piece))
        return parts

    def _post(self, raw: List[str]) -> List[str]:
        # spaced-out letters first ("s u i c i d e", "k i l l myself"), then SMS expansion,
        # stretching and fuzzy spelling, one token at a time
        raw = self._join_spaced([t for t in raw if t != ""])
        words: List[str] = []
        for tok in raw:
            if tok == "":
                continue
            if tok in (SENTENCE, CLAUSE, "!!"):
                words.append(tok)
                continue
            if tok in _KEEP or re.fullmatch(r"\d+(?:\.\d+)?", tok):
                words.append(tok)
                continue
            w = tok
            if w not in self.sms:
                w = self._destretch(w)
            if w in self.sms:
                words.extend(self.sms[w].split())
                continue
            # dropped g: "savin", "cuttin", "thinkin"
            if len(w) >= 4 and w.endswith("in") and not self._known(w) and (w + "g") in self.vocabulary:
                w = w + "g"
            words.append(self._fuzzy(w))
        # "wnt 2 die": a bare 2 before a verb means "to"; "4 when" means "for when"
        for i, w in enumerate(words):
            if w == "2" and i + 1 < len(words) and words[i + 1] in _TO_VERBS:
                words[i] = "to"
            elif w == "4" and i + 1 < len(words) and words[i + 1] in _FOR_NEXT:
                words[i] = "for"
        # tidy boundaries
        out: List[str] = []
        for w in words:
            if w in (SENTENCE, CLAUSE):
                if not out:
                    continue
                if out[-1] in (SENTENCE, CLAUSE):
                    if w == SENTENCE:
                        out[-1] = SENTENCE
                    continue
            out.append(w)
        while out and out[-1] in (SENTENCE, CLAUSE):
            out.pop()
        return out

    def _join_spaced(self, words: List[str]) -> List[str]:
        out: List[str] = []
        i = 0
        n = len(words)
        while i < n:
            if len(words[i]) == 1 and words[i].isalpha():
                j = i
                while j < n and len(words[j]) == 1 and words[j].isalpha():
                    j += 1
                if j - i >= 3:
                    run = words[i:j]
                    joined = None
                    for start in range(0, len(run) - 2):
                        cand = "".join(run[start:])
                        cand = self._fuzzy(self._destretch(cand))
                        if cand in self.vocabulary:
                            joined = (start, cand)
                            break
                    if joined is not None:
                        out.extend(run[: joined[0]])
                        out.append(joined[1])
                        i = j
                        continue
                out.extend(words[i:j])
                i = j
                continue
            out.append(words[i])
            i += 1
        return out

    def normalize(self, text: str) -> str:
        return " ".join(self.tokens(text))


# --------------------------------------------------------------------------------------------
# The lexicon
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    id: str
    category: str  # a risk category, or a look-alike kind
    regex: Pattern[str]
    negatable: bool = True
    requires: Optional[Pattern[str]] = None
    subject: str = "any"  # any | third  (look-alikes about another person only)
    examples: Tuple[str, ...] = ()
    not_examples: Tuple[str, ...] = ()
    source: str = ""
    unless: Optional[Pattern[str]] = None
    # the word names the topic ("suicide"): alone, without the person's own state around it
    # ("how many people die by suicide a year"), it is a mention, not a disclosure
    mention: bool = False


@dataclass(frozen=True)
class Lexicon:
    version: str
    risk_rules: Tuple[Rule, ...]
    lookalike_rules: Tuple[Rule, ...]
    retraction: Optional[Pattern[str]]
    reported_speech: Optional[Pattern[str]]
    negators: frozenset
    history_negators: Optional[Pattern[str]]
    scope_words: frozenset
    scope_breakers: frozenset
    hedges: Optional[Pattern[str]]
    soft_cues: Optional[Pattern[str]]
    first_person: frozenset
    third_person: frozenset
    relation_nouns: frozenset
    third_party_categories: frozenset
    normalizer: Normalizer
    safe_affirmation: Optional[Pattern[str]] = None
    danger_now_past: Optional[Pattern[str]] = None
    explains: Optional[Pattern[str]] = None
    answers: Optional[Pattern[str]] = None
    question_cues: Optional[Pattern[str]] = None
    third_party_safe: Optional[Pattern[str]] = None
    own_state: Optional[Pattern[str]] = None
    after_history: Optional[Pattern[str]] = None
    third_party_reassured: Optional[Pattern[str]] = None
    third_party_present: Optional[Pattern[str]] = None
    third_party_protective: Optional[Pattern[str]] = None


_MACRO_REF = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _expand(pattern: str, macros: Mapping[str, str], where: str) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in macros:
            raise LexiconError(f"{where}: unknown macro {{{name}}}")
        return macros[name]

    for _ in range(5):  # macros may use macros
        new = _MACRO_REF.sub(repl, pattern)
        if new == pattern:
            break
        pattern = new
    return pattern


def _compile(pattern: str, where: str) -> Pattern[str]:
    try:
        return re.compile(r"(?<![\w])(?:" + pattern + r")(?![\w])")
    except re.error as exc:
        raise LexiconError(f"{where}: rule does not compile: {exc}") from exc


def _words_of(pattern: str) -> Set[str]:
    cleaned = re.sub(r"\\[a-zA-Z]", " ", pattern)
    cleaned = re.sub(r"\(\?[:!=<]+", " ", cleaned)
    return set(re.findall(r"[a-z]{2,}", cleaned))


def _alternation(items: Sequence[str]) -> str:
    return "(?:" + "|".join(sorted((str(i) for i in items), key=len, reverse=True)) + ")"


def load_lexicon(path: Optional[os.PathLike[str] | str] = None) -> Lexicon:
    """Read and compile the risk lexicon. Raises LexiconError with a clear message when it is wrong."""
    p = Path(path) if path is not None else lexicon_path()
    if not p.is_file():
        raise LexiconError(f"risk lexicon not found: {p}")
    try:  # the file's one loader: strict YAML, schema-checked (trd/knowledge/risk_lexicon.py)
        data = read_risk_lexicon(p)
    except KnowledgeError as exc:
        raise LexiconError(f"risk lexicon {exc}") from exc
    return build_lexicon(data, str(p), base_dir=p.parent)


def _drug_names(spec: Any, base_dir: Optional[Path], where: str) -> Tuple[str, List[str]]:
    """(macro name, normalised names) for the lexicon's ``drug_names`` section."""
    if not isinstance(spec, Mapping):
        raise LexiconError(f"{where}: drug_names must be a mapping with 'macro' and 'file' and/or 'extra'")
    macro = str(spec.get("macro") or "drug")
    names: List[str] = [str(x) for x in spec.get("extra") or []]
    if spec.get("file"):
        f = Path(str(spec["file"]))
        if not f.is_absolute():
            f = (base_dir or DEFAULT_LEXICON_PATH.parent) / f
        # The drug file's one loader (trd.navigator.loader): the names the navigator knows.
        from trd.navigator.lexicon import KnowledgeError as DrugFileError
        from trd.navigator.loader import load_lexicon as load_drug_lexicon

        try:
            drugs = load_drug_lexicon(f)
        except (DrugFileError, KeyError, TypeError) as exc:
            raise LexiconError(f"{where}: drug_names file {f} cannot be read: {exc}") from exc
        for entry in drugs.entries:
            names.append(entry.generic)
            names.extend(entry.brands + entry.aliases + entry.misspellings)
    plain = Normalizer()
    out: Set[str] = set()
    for name in names:
        norm = " ".join(t for t in plain.tokens(name) if t not in (SENTENCE, CLAUSE))
        if len(norm) >= 3:
            out.add(norm)
    return macro, sorted(out)


def build_lexicon(
    data: Mapping[str, Any], where: str = "risk lexicon", base_dir: Optional[Path] = None
) -> Lexicon:
    for key in ("macros", "risk", "lookalikes", "negation", "subjects"):
        if key not in data:
            raise LexiconError(f"{where}: missing section '{key}'")
    macros: Dict[str, str] = {}
    raw_macros = data["macros"] or {}
    if not isinstance(raw_macros, Mapping):
        raise LexiconError(f"{where}: macros must be a mapping")
    for name, value in raw_macros.items():
        if isinstance(value, list):
            macros[name] = _alternation(value)
        else:
            macros[name] = "(?:" + str(value) + ")"
    if data.get("drug_names"):
        macro, drug_names = _drug_names(data["drug_names"], base_dir, where)
        if macro in macros:
            raise LexiconError(f"{where}: macro '{macro}' is defined twice (macros and drug_names)")
        macros[macro] = _alternation([re.escape(n) for n in drug_names]) if drug_names else "(?!x)x"

    vocab: Set[str] = set()

    def rules_of(section: Mapping[str, Any], allowed: Sequence[str], kind: str) -> List[Rule]:
        rules: List[Rule] = []
        if not isinstance(section, Mapping):
            raise LexiconError(f"{where}: the {kind} section must be a mapping of categories")
        for cat, body in section.items():
            if cat not in allowed:
                raise LexiconError(
                    f"{where}: unknown {kind} category '{cat}' (allowed: {', '.join(allowed)})"
                )
            for i, entry in enumerate((body or {}).get("rules", []) or []):
                rid = str(entry.get("id") or f"{cat}_{i}")
                here = f"{where}: {kind} rule {cat}/{rid}"
                if "match" not in entry:
                    raise LexiconError(f"{here}: missing 'match'")
                expanded = _expand(str(entry["match"]), macros, here)
                vocab.update(_words_of(expanded))
                requires = None
                if entry.get("requires"):
                    req = _expand(str(entry["requires"]), macros, here)
                    vocab.update(_words_of(req))
                    requires = _compile(req, here + " (requires)")
                unless = None
                if entry.get("unless"):
                    unl = _expand(str(entry["unless"]), macros, here)
                    try:
                        unless = re.compile(unl)
                    except re.error as exc:
                        raise LexiconError(f"{here} (unless): does not compile: {exc}") from exc
                subject = str(entry.get("subject", "any"))
                if subject not in ("any", "third"):
                    raise LexiconError(f"{here}: subject must be any or third")
                rules.append(
                    Rule(
                        id=rid,
                        category=cat,
                        regex=_compile(expanded, here),
                        negatable=bool(entry.get("negatable", True)),
                        requires=requires,
                        subject=subject,
                        examples=tuple(str(x) for x in entry.get("examples", []) or []),
                        not_examples=tuple(str(x) for x in entry.get("not_examples", []) or []),
                        source=str(entry["match"]),
                        unless=unless,
                        mention=bool(entry.get("mention", False)),
                    )
                )
        return rules

    risk_rules = rules_of(data["risk"], ALL_CATEGORIES, "risk")
    lookalike_rules = rules_of(data["lookalikes"], LOOKALIKE_KINDS, "look-alike")
    ids = [r.id for r in risk_rules + lookalike_rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise LexiconError(f"{where}: duplicate rule ids: {', '.join(dupes)}")
    if not risk_rules:
        raise LexiconError(f"{where}: the lexicon has no risk rules")

    neg = data["negation"] or {}
    subj = data["subjects"] or {}

    def opt_regex(value: Any, here: str) -> Optional[Pattern[str]]:
        if not value:
            return None
        items = value if isinstance(value, list) else [value]
        expanded = [_expand(str(v), macros, here) for v in items]
        for e in expanded:
            vocab.update(_words_of(e))
        return _compile("|".join(expanded), here)

    def opt_full_regex(value: Any, here: str) -> Optional[Pattern[str]]:
        """Like opt_regex, but the pattern must match a whole clause (anchored at both ends)."""
        if not value:
            return None
        items = value if isinstance(value, list) else [value]
        expanded = [_expand(str(v), macros, here) for v in items]
        for e in expanded:
            vocab.update(_words_of(e))
        try:
            return re.compile(r"^(?:" + "|".join(expanded) + r")$")
        except re.error as exc:
            raise LexiconError(f"{here}: does not compile: {exc}") from exc

    def wordset(value: Any, here: str = where) -> frozenset:
        out: Set[str] = set()
        if isinstance(value, str):
            value = value.split()
        for v in value or []:
            if not isinstance(v, str):
                # YAML reads bare no/yes/on/off as booleans: a silent hole in a word list
                raise LexiconError(f"{here}: word lists need strings, got {v!r} (quote it)")
            out.update(v.split())
        return frozenset(out)

    unknown_tp = set(str(c) for c in subj.get("third_party_applies_to", []) or []) - set(CRISIS_CATEGORIES)
    if unknown_tp:
        raise LexiconError(
            f"{where}: subjects.third_party_applies_to has unknown categories: {sorted(unknown_tp)}"
        )

    lex = Lexicon(
        version=str(data.get("version", "0")),
        risk_rules=tuple(risk_rules),
        lookalike_rules=tuple(lookalike_rules),
        retraction=opt_regex(neg.get("retraction"), f"{where}: negation.retraction"),
        reported_speech=opt_regex(neg.get("reported_speech"), f"{where}: negation.reported_speech"),
        negators=wordset(neg.get("negators")),
        history_negators=opt_regex(neg.get("history"), f"{where}: negation.history"),
        scope_words=wordset(neg.get("scope_words")),
        scope_breakers=wordset(neg.get("scope_breakers")),
        hedges=opt_regex(neg.get("hedges"), f"{where}: negation.hedges"),
        soft_cues=opt_regex(neg.get("soft_cues"), f"{where}: negation.soft_cues"),
        first_person=wordset(subj.get("first_person")),
        third_person=wordset(subj.get("third_person")),
        relation_nouns=wordset(subj.get("relation_nouns")),
        third_party_categories=frozenset(str(c) for c in subj.get("third_party_applies_to", []) or []),
        normalizer=Normalizer(vocab | wordset(subj.get("relation_nouns")),
                              sms={str(k): str(v) for k, v in (data.get("sms") or {}).items()}),
        safe_affirmation=opt_regex(neg.get("safe_affirmation"), f"{where}: negation.safe_affirmation"),
        danger_now_past=opt_regex(data.get("danger_now_past"), f"{where}: danger_now_past"),
        explains=opt_regex(data.get("explains"), f"{where}: explains"),
        answers=opt_full_regex(neg.get("answers"), f"{where}: negation.answers"),
        question_cues=opt_regex(neg.get("question_cues"), f"{where}: negation.question_cues"),
        third_party_safe=opt_regex(neg.get("third_party_safe"), f"{where}: negation.third_party_safe"),
        own_state=opt_regex(subj.get("own_state"), f"{where}: subjects.own_state"),
        after_history=opt_regex(neg.get("after_history"), f"{where}: negation.after_history"),
        third_party_reassured=opt_regex(
            neg.get("third_party_reassured"), f"{where}: negation.third_party_reassured"
        ),
        third_party_present=opt_regex(
            neg.get("third_party_present"), f"{where}: negation.third_party_present"
        ),
        third_party_protective=opt_regex(
            neg.get("third_party_protective"), f"{where}: negation.third_party_protective"
        ),
    )
    return lex


def lexicon_path() -> Path:
    env = os.environ.get(LEXICON_ENV_VAR)
    return Path(env) if env else DEFAULT_LEXICON_PATH


# --------------------------------------------------------------------------------------------
# Assessment
# --------------------------------------------------------------------------------------------

_THIRD_INSIDE = frozenset({"himself", "herself", "themselves", "themself", "his", "their", "her", "him",
                           "them", "he", "she", "they"})
_INTERJECTIONS = frozenset({"no", "nope", "nah"})
_COORDINATORS = frozenset({"or", "nor"})
_POSSESSIVES = frozenset({"my", "his", "her", "their", "our", "your"})
# Spanish "he" before a participle is "I have" ("nunca he intentado...", "he pensado en..."),
# not the English "he": no English word after "he" ends so
_SPANISH_HAVE_PARTICIPLE = re.compile(r"[a-z]{2,}(?:ado|ido)")
# a contrast after someone else's safe statement ("she says she's fine but ...")
_CONTRAST = re.compile(r"(?<![\w])(?:but|though|although|however|except|yet)(?![\w])")
# thoughts and self-harm can be said to be over after the words ("... haven't come back");
# an act, a plan or a method cannot ("I took the pills, they're gone" is not history)
_AFTER_HISTORY_CATEGORIES = frozenset({"suicidal_ideation", "self_harm"})
_AFTER_HISTORY_REACH = 3  # words between the match and the words that say it is over
_AFTER_HISTORY_TAIL = 4  # words after those, in the same clause ("... since march last year")
_AROUND = 3  # words either side of someone else's risk read for its time (_told_as_now)
_COORDINATION_REACH = 8
_OTHERS_DIRECTED = frozenset({"harm_to_others", "third_party"})
# "do I think about suicide? no": a question about risk, answered at once with a no
_QUESTION_AUX = frozenset({"do", "does", "did", "am", "is", "are", "was", "were", "have", "has", "had",
                           "would", "will", "could", "can", "should", "any", "ever"})
_SUBJECT_PRONOUNS = frozenset({"i", "you", "he", "she", "they", "we"})
_FRAGMENT_WORDS = 8  # "suicidal? no", "thoughts of being better off dead or hurting myself - not at all"
_QUESTION_MARKS = re.compile(r"[?:\-\u2013\u2014]")  # a question or a form's "label: answer"
_OWN_PRONOUNS = frozenset({"i", "me", "myself", "im"})
_GENERIC_PEOPLE = frozenset({"people", "someone", "somebody", "anyone", "anybody", "everyone", "everybody",
                             "person", "who", "men", "women", "teens", "teenagers", "kids", "veterans"})
_SOMEONE_CLOSE = re.compile(r"(?:i know|i love|close to me|in my|at my|from my|i work|i live|i care)")
_NOW = re.compile(
    r"(?<![\w])(?:now|again|still|tonight|today|currently|lately|recently|this week|right now)(?![\w])"
)
_OWN_BEFORE = frozenset({"my", "feel", "feeling", "felt", "feels", "so", "very", "really", "super", "getting",
                         "get", "got", "been", "being", "am", "too", "quite", "pretty", "bit"})
_ANSWERED_YES = re.compile(
    r"(?<![\w])(?:yes|yeah|yep|yup|yea|i do|i am|i have|i did|the truth|honestly|i could not say no)(?![\w])"
)
_ANSWER_WORDS = 10  # an answer is short: "no", "not at all", "the answer was always no and it still is"


@dataclass(frozen=True)
class Hit:
    rule_id: str
    category: str
    text: str
    start: int  # character offsets in the normalised text
    end: int
    third_party: bool = False
    negated: bool = False
    history: bool = False  # negated as history ("never been", "haven't ... in years")
    note: str = ""
    retracted: bool = False
    mention: bool = False  # a topic word with nothing about the person's own state (Rule.mention)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "mention": self.mention,
            "rule": self.rule_id,
            "category": self.category,
            "text": self.text,
            "third_party": self.third_party,
            "negated": self.negated,
            "history": self.history,
            "note": self.note,
            "retracted": self.retracted,
        }


@dataclass(frozen=True)
class RiskResult:
    text: str
    normalized: str
    intent: Optional[str]
    category: Optional[str]
    categories: Tuple[str, ...]
    hits: Tuple[Hit, ...]
    denials: Tuple[Hit, ...]
    negated_history: Tuple[Hit, ...]
    suppressed: Tuple[Hit, ...]
    lookalikes: Tuple[str, ...]
    lookalike_rules: Tuple[str, ...] = field(default=())
    retracted: bool = False
    explained_by: Tuple[str, ...] = field(default=())
    safe_affirmation: bool = False
    # every hit is inside a question someone else asked the person ("my therapist asked me if
    # I'd ever want to kill myself"), left unanswered: the topic is raised, not disclosed
    reported_question: bool = False

    @property
    def is_risk(self) -> bool:
        return self.intent is not None

    @property
    def is_crisis(self) -> bool:
        return self.intent in (INTENT_CRISIS, INTENT_DANGER_NOW)

    @property
    def mention_only(self) -> bool:
        """Every hit is a mention of the topic (Rule.mention): about no one in particular, or
        someone else's risk told as history."""
        return bool(self.hits) and all(h.mention for h in self.hits)

    @property
    def about_someone_else(self) -> bool:
        return bool(self.hits) and all(h.third_party for h in self.hits)

    @property
    def has_risk_signal(self) -> bool:
        """Any risk match that was not explained away (hits, or denials of any kind)."""
        return bool(self.hits or self.denials)

    def as_dict(self) -> Dict[str, Any]:
        """JSON-safe summary (the guard puts a short form of it into the NLU output)."""
        return {
            "is_risk": self.is_risk,
            "intent": self.intent,
            "category": self.category,
            "categories": list(self.categories),
            "hits": [h.as_dict() for h in self.hits],
            "denials": [h.as_dict() for h in self.denials],
            "negated_history": [h.as_dict() for h in self.negated_history],
            "suppressed": [h.as_dict() for h in self.suppressed],
            "lookalikes": list(self.lookalikes),
            "lookalike_rules": list(self.lookalike_rules),
            "explained_by": list(self.explained_by),
            "retracted": self.retracted,
            "safe_affirmation": self.safe_affirmation,
            "normalized": self.normalized,
        }


class RiskEngine:
    """Applies a Lexicon to messages. Stateless and thread-safe."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    @classmethod
    def from_file(cls, path: Optional[os.PathLike[str] | str] = None) -> RiskEngine:
        return cls(load_lexicon(path))

    def normalize(self, text: str) -> str:
        return self.lexicon.normalizer.normalize(text)

    # -- helpers over the token string ------------------------------------------------------
    @staticmethod
    def _token_index(norm: str) -> List[int]:
        starts: List[int] = []
        pos = 0
        for tok in norm.split(" "):
            starts.append(pos)
            pos += len(tok) + 1
        return starts

    @staticmethod
    def _tok_at(starts: List[int], offset: int) -> int:
        lo, hi = 0, len(starts) - 1
        ans = 0
        while lo <= hi:
            mid = (lo + hi) // 2
            if starts[mid] <= offset:
                ans = mid
                lo = mid + 1
            else:
                hi = mid - 1
        return ans

    def _clause_start(self, toks: List[str], i: int) -> int:
        lex = self.lexicon
        j = i - 1
        while j >= 0:
            if toks[j] in (SENTENCE, CLAUSE) or toks[j] in lex.scope_breakers:
                return j + 1
            j -= 1
        return 0

    @staticmethod
    def _clause_end(toks: List[str], i: int) -> int:
        e = i
        while e < len(toks) and toks[e] not in (SENTENCE, CLAUSE):
            e += 1
        return e

    @staticmethod
    def _sentence_bounds(toks: List[str], i: int) -> Tuple[int, int]:
        s = i
        while s > 0 and toks[s - 1] != SENTENCE:
            s -= 1
        e = i
        while e < len(toks) and toks[e] != SENTENCE:
            e += 1
        return s, e

    def _sentence(self, toks: List[str], i: int) -> str:
        s, e = self._sentence_bounds(toks, i)
        return " ".join(toks[s:e])

    def _subject_is_third(self, toks: List[str], first: int, last: int) -> bool:
        """Whether a match spanning toks[first:last] is about someone else."""
        lex = self.lexicon
        inside = toks[first:last]
        if any(t in lex.first_person for t in inside):
            return False
        if any(t in _THIRD_INSIDE for t in inside):
            return True
        # the nearest subject before the match, in this sentence or the one before
        j = first - 1
        sentences_back = 0
        while j >= 0:
            t = toks[j]
            if t == SENTENCE:
                sentences_back += 1
                if sentences_back > 1:
                    break
            elif t in lex.first_person:
                return False
            elif t in lex.third_person:
                if t == "he" and j + 1 < len(toks) and _SPANISH_HAVE_PARTICIPLE.fullmatch(toks[j + 1]):
                    j -= 1  # Spanish "I have": no subject the lexicon knows; look further back
                    continue
                return True
            elif t in lex.relation_nouns and (sentences_back == 0 or (j > 0 and toks[j - 1] in _POSSESSIVES)):
                # in the sentence before, only someone's own relation ("my brother. been cutting
                # again"), not any noun ("then a DBT skills group. still cutting most nights")
                return True
            j -= 1
        # nothing known: the speaker (safety first: it still fires)
        return False

    def _negation(self, toks: List[str], first: int, last: int) -> Tuple[bool, bool, str]:
        """(negated, history, note) for a match spanning toks[first:last]."""
        lex = self.lexicon
        cstart = self._clause_start(toks, first)
        prefix = toks[cstart:first]
        cue = -1
        for k in range(len(prefix) - 1, -1, -1):
            if prefix[k] in lex.negators:
                cue = k
                break
            if prefix[k] in _COORDINATORS:
                # "never been in hospital or been suicidal": the negation of the first
                # conjunct reaches the second; look back a few words for it
                cue = next((j for j in range(k - 1, max(-1, k - 1 - _COORDINATION_REACH), -1)
                            if prefix[j] in lex.negators), -1)
                break
            if prefix[k] not in lex.scope_words:
                break
        if cue < 0:
            return False, False, ""
        # doubled: "I can't say I'm not suicidal" (a leading "no," or "nope" is an interjection)
        earlier = [t for k, t in enumerate(prefix[:cue]) if not (k == 0 and t in _INTERJECTIONS)]
        if any(t in lex.negators for t in earlier):
            return False, False, "double negation"
        before_cue = " ".join(prefix[:cue])
        if lex.hedges is not None:
            sentence = self._sentence(toks, first)
            _, end = self._sentence_bounds(toks, first)
            following = ""
            if end + 1 < len(toks):
                following = " ".join(toks[end + 1:self._sentence_bounds(toks, end + 1)[1]])
            # "I'm not suicidal. I mean, not today.": the hedge may come in the next sentence
            if lex.hedges.search(before_cue) or lex.hedges.search(sentence) or lex.hedges.search(following):
                return False, False, "hedged negation"
        # a later contrast with a soft cue: "I'm not suicidal but lately I think about it"
        if lex.soft_cues is not None:
            rest = " ".join(toks[first:])  # from the match on: the contrast may be part of it
            if lex.soft_cues.search(rest):
                return False, False, "negation followed by a risk cue"
        clause_text = " ".join(toks[cstart:self._clause_end(toks, last)])
        history = bool(lex.history_negators and lex.history_negators.search(clause_text))
        return True, history, "negated history" if history else "denial"

    def _answered_no(self, toks: List[str], first: int, last: int, marked: bool) -> Tuple[bool, bool, str]:
        """(negated, history, note) for a match asked as a question and answered no at once.

        "suicidal? no.", "do I think about suicide? no", "thoughts of being better off dead -
        not at all", "my psychiatrist asked if I'd ever tried to overdose, I haven't": the match
        is in a question (a clause that begins with an auxiliary and a subject, a fragment of a
        few words without a subject, or a reported question), and the very next clause is
        nothing but a no (``negation.answers``, matched whole). Unless the question is reported,
        the message must be marked as question and answer (``marked``: a "?", a ":" or a dash;
        "been cutting again. nope, not telling anyone" is not). A hedge or a risk cue after it
        ("no. not yet", "no, but lately...") cancels it, as for any negation.
        """
        lex = self.lexicon
        if lex.answers is None:
            return False, False, ""
        start = first
        while start > 0 and toks[start - 1] not in (SENTENCE, CLAUSE):
            start -= 1
        end = self._clause_end(toks, last)
        if end >= len(toks):
            return False, False, ""
        prefix = toks[start:first]
        sentence_start, _ = self._sentence_bounds(toks, first)
        asked = (len(prefix) >= 2 and prefix[0] in _QUESTION_AUX and prefix[1] in _SUBJECT_PRONOUNS) or (
            len(prefix) <= _FRAGMENT_WORDS and not any(t in _SUBJECT_PRONOUNS for t in prefix)
        )
        question = (marked and asked) or bool(
            lex.question_cues and lex.question_cues.search(" ".join(toks[sentence_start:first]))
        )
        if not question:
            return False, False, ""
        answer_end = self._clause_end(toks, end + 1)
        answer = toks[end + 1:answer_end]
        if not answer or len(answer) > _ANSWER_WORDS or not lex.answers.match(" ".join(answer)):
            return False, False, ""
        if self._hedged(" ".join(toks[last:])):
            return False, False, "hedged answer"
        history = bool(lex.history_negators and lex.history_negators.search(" ".join(answer)))
        return True, history, "answered no (history)" if history else "denial: answered no"

    def _hedged(self, text: str, cues: bool = True) -> bool:
        """A hedge ("for now", "not yet") in the text, or (with ``cues``) a contrast carrying a
        risk cue ("but lately...")."""
        lex = self.lexicon
        return bool(lex.hedges is not None and lex.hedges.search(text)) or bool(
            cues and lex.soft_cues is not None and lex.soft_cues.search(text)
        )

    def _protective(self, text: str) -> bool:
        """The words after a contrast are, whole, the other person's reason to live or their
        care ("but he wants to see the grandkids grow up", "but she's seeing a therapist")."""
        pattern = self.lexicon.third_party_protective
        if pattern is None or _CONTRAST.search(text) or pattern.match(text.strip()) is None:
            return False
        return not self._hedged(text, cues=False)

    def _told_as_now(self, norm: str, hit: Hit) -> bool:
        """Someone else's risk told as going on now, in the words around it ("he has been
        cutting himself again", "she is suicidal"): what they say of themselves does not make
        it safe (``negation.third_party_present``)."""
        present = self.lexicon.third_party_present
        if present is None:
            return False
        around = norm[:hit.start].split()[-_AROUND:] + [hit.text] + norm[hit.end:].split()[:_AROUND]
        return bool(present.search(" ".join(around)))

    def _history_after(self, toks: List[str], last: int) -> Tuple[bool, bool, str]:
        """(negated, history, note) for thoughts or self-harm said, after the words, to be over.

        "the thoughts about dying haven't come back", "the urge to cut has not been there since
        march", "suicidal thoughts, not for years": the words right after the match (in the same
        clause, or the clause after a comma; a few words before and after them) are one of
        ``negation.after_history``. A hedge or a risk cue after it cancels it ("haven't come
        back until last night", "gone for now", "gone, but lately...").
        """
        lex = self.lexicon
        if lex.after_history is None:
            return False, False, ""
        rest = toks[last:]
        if rest[:1] == [CLAUSE]:
            rest = rest[1:]
        end = next((k for k, t in enumerate(rest) if t in (SENTENCE, CLAUSE)), len(rest))
        clause = " ".join(rest[:end])
        m = lex.after_history.search(clause)
        if (
            m is None
            or len(clause[:m.start()].split()) > _AFTER_HISTORY_REACH
            or len(clause[m.end():].split()) > _AFTER_HISTORY_TAIL
        ):
            return False, False, ""
        if self._hedged(" ".join(toks[last:])):
            return False, False, "hedged history"
        return True, True, "negated history (after the words)"

    def _is_mention(self, toks: List[str], first: int, last: int) -> bool:
        """A topic word with nothing around it about the person's own state.

        Own state: "I", "me" or "myself" in the clause before the word, "my", "feel", "so",
        "been"... right before it ("my suicidal thoughts", "feeling suicidal"), or a present
        marker in the sentence (``subjects.own_state``: "again", "tonight", "lately"...).
        """
        lex = self.lexicon
        start = first
        while start > 0 and toks[start - 1] not in (SENTENCE, CLAUSE):
            start -= 1
        if any(t in _OWN_PRONOUNS for t in toks[start:last]):
            return False
        if first > 0 and toks[first - 1] in _OWN_BEFORE:
            return False
        return not (lex.own_state is not None and lex.own_state.search(self._sentence(toks, first)))

    def _generic_subject(self, toks: List[str], first: int) -> bool:
        """The word is about people in general ("how many people die by suicide a year"), not a
        particular person ("someone I know", "my friend")."""
        s, _ = self._sentence_bounds(toks, first)
        before = toks[s:first]
        for j in range(len(before) - 1, -1, -1):
            t = before[j]
            if t in self.lexicon.relation_nouns or t in self.lexicon.first_person:
                return False
            if t in _GENERIC_PEOPLE:
                return not _SOMEONE_CLOSE.match(" ".join(before[j + 1:]))
            if t in self.lexicon.third_person:
                return False
        return False

    def _past_third_party(self, toks: List[str], first: int) -> bool:
        """Someone else's risk told as history ("my roommate was suicidal in college", "a guy
        I worked with attempted suicide years ago"): a mention, not someone at risk now."""
        lex = self.lexicon
        sentence = self._sentence(toks, first)
        if lex.danger_now_past is None or not lex.danger_now_past.search(sentence):
            return False
        return not (lex.own_state is not None and _NOW.search(sentence))

    def _asked_by_someone_else(self, toks: List[str], first: int) -> bool:
        """The match is inside a question another person asked ("the nurse asked if I ...")."""
        lex = self.lexicon
        if lex.question_cues is None:
            return False
        sentence_start, _ = self._sentence_bounds(toks, first)
        prefix = toks[sentence_start:first]
        m = lex.question_cues.search(" ".join(prefix))
        if m is None:
            return False
        before = " ".join(prefix)[:m.start()].split()
        # "I asked my doctor if 40 pills would kill me" is the person's own question
        if before and before[-1] in ("i", "we"):
            return False
        # "... and I said yes", "... I told her the truth": answered, and not with a no
        return not _ANSWERED_YES.search(" ".join(toks[first:]))

    def _says_safe(self, norm: str) -> bool:
        """An explicit statement of safety ("I'm safe", "I'm OK right now"), never its negation
        ("I'm not safe", "I don't feel safe", "I'm no longer OK")."""
        lex = self.lexicon
        if lex.safe_affirmation is None:
            return False
        for m in lex.safe_affirmation.finditer(norm):
            inside = m.group(0).split()
            before = norm[:m.start()].split()[-3:]
            danger_denied = m.group(0).startswith("not in")  # "not in danger": the safe form
            if not (danger_denied or not any(t in lex.negators or t == "longer" for t in inside + before)):
                continue
            # "I'm not in danger now, but I don't trust future me": a contrast takes it back
            if re.search(r"(?<![\w])(?:but|though|although|however|yet)(?![\w])", norm[m.end():]):
                continue
            return True
        return False

    def _third_party_safe(self, toks: List[str], norm: str, reassured: bool = False) -> bool:
        """The message says the other person is safe now ("he's doing well now", "she said no");
        with ``reassured``, also what they said of themselves (``third_party_reassured``)."""
        lex = self.lexicon
        patterns = [lex.third_party_safe] + ([lex.third_party_reassured] if reassured else [])
        for m in (m for pat in patterns if pat is not None for m in pat.finditer(norm)):
            # "she says she's fine but she gave her things away": a contrast or a hedge after it,
            # unless what follows the contrast is a reason to live ("he said no, he's sad but he
            # wants to see the grandkids grow up": ``negation.third_party_protective``)
            after = norm[m.end():]
            contrast = _CONTRAST.search(after)
            if contrast and not self._protective(after[contrast.end():]):
                continue
            if lex.hedges is not None and lex.hedges.search(norm[m.start():]):
                continue
            return True
        return False

    def _retracted(self, toks: List[str], first: int, norm: str) -> bool:
        lex = self.lexicon
        if lex.retraction is None or lex.reported_speech is None:
            return False
        if not lex.retraction.search(norm):
            return False
        s, _ = self._sentence_bounds(toks, first)
        prefix = " ".join(toks[s:first])
        if lex.reported_speech.search(prefix):
            return True
        return bool(lex.retraction.search(self._sentence(toks, first)))

    def _span_tokens(self, starts: List[int], s: int, e: int) -> Tuple[int, int]:
        return self._tok_at(starts, s), self._tok_at(starts, max(s, e - 1)) + 1

    # -- main entry ------------------------------------------------------------------------
    def assess(self, text: Optional[str]) -> RiskResult:
        raw = text if isinstance(text, str) else ""
        lex = self.lexicon
        # invisible characters (soft hyphens, zero-width, bidi controls) would split words
        norm = lex.normalizer.normalize(remove_invisible(raw))
        toks = norm.split(" ") if norm else []
        starts = self._token_index(norm) if norm else []

        marked = bool(_QUESTION_MARKS.search(raw))  # for _answered_no
        # 1. look-alikes
        la_spans: List[Tuple[int, int, str, str]] = []
        for rule in lex.lookalike_rules:
            if rule.requires is not None and not rule.requires.search(norm):
                continue
            for m in rule.regex.finditer(norm):
                if m.end() <= m.start():
                    continue
                f, la = self._span_tokens(starts, m.start(), m.end())
                if rule.subject == "third" and not self._subject_is_third(toks, f, la):
                    continue
                if rule.unless is not None and rule.unless.search(self._sentence(toks, f)):
                    continue
                la_spans.append((m.start(), m.end(), rule.category, rule.id))

        # 2. risk rules
        hits: List[Hit] = []
        denials: List[Hit] = []
        history: List[Hit] = []
        suppressed: List[Hit] = []
        for rule in lex.risk_rules:
            if rule.requires is not None and not rule.requires.search(norm):
                continue
            for m in rule.regex.finditer(norm):
                s, e = m.start(), m.end()
                if e <= s:
                    continue
                first, last = self._span_tokens(starts, s, e)
                inside = next((sp for sp in la_spans if sp[0] <= s and e <= sp[1]), None)
                if inside is not None:
                    note = f"look-alike {inside[3]}"
                    suppressed.append(Hit(rule.id, rule.category, m.group(0), s, e, note=note))
                    continue
                sentence = self._sentence(toks, first)
                if rule.unless is not None and rule.unless.search(sentence):
                    suppressed.append(Hit(rule.id, rule.category, m.group(0), s, e, note="unless"))
                    continue
                third = self._subject_is_third(toks, first, last)
                if rule.subject == "third" and not third:
                    continue
                category = rule.category
                note = ""
                if (
                    category == "danger_now"
                    and lex.danger_now_past is not None
                    and lex.danger_now_past.search(sentence)
                ):
                    category, note = "suicidal_ideation", "danger-now wording about the past"
                third = category == "third_party" or (third and category in lex.third_party_categories)
                if rule.negatable:
                    negated, hist, neg_note = self._negation(toks, first, last)
                    if not negated and not neg_note:
                        negated, hist, neg_note = self._answered_no(toks, first, last, marked)
                    if not negated and not neg_note and category in _AFTER_HISTORY_CATEGORIES:
                        negated, hist, neg_note = self._history_after(toks, last)
                else:
                    negated, hist, neg_note = False, False, "not negatable"
                hit = Hit(
                    rule.id, category, m.group(0), s, e, third, negated, hist,
                    "; ".join(n for n in (note, neg_note) if n), self._retracted(toks, first, norm),
                    mention=rule.mention and (
                        (self._past_third_party(toks, first) or self._generic_subject(toks, first))
                        if third else self._is_mention(toks, first, last)
                    ),
                )
                if negated and hist:
                    history.append(hit)
                elif negated:
                    denials.append(hit)
                else:
                    hits.append(hit)

        # 2b. someone else's risk, with the message saying they are safe now ("my brother
        #     attempted two years ago; he's well now"): an ordinary message about them, unless
        #     anything is about the person themselves or happening now
        third_safe = False
        if (
            hits
            and all(h.third_party or h.category == "third_party" for h in hits)
            and not any(h.category == "danger_now" for h in hits)
            and not any(self._told_as_now(norm, h) for h in hits)
            and self._third_party_safe(toks, norm)
        ):
            third_safe = True
            suppressed.extend(Hit(h.rule_id, h.category, h.text, h.start, h.end, h.third_party,
                                  note="third party safe now") for h in hits)
            hits = []
        elif not hits and not history and self._third_party_safe(toks, norm, reassured=True):
            # no risk words, and the message says the other person is safe now ("worried about
            # my sister, she's seeing a therapist and says she's ok"): a look-alike that
            # explains a reading of someone else at risk (trd/safety/assessment.py)
            third_safe = True

        # 3. denials: a first-person denial of risk to oneself still fires, unless the message
        #    also says plainly that the person is safe and nothing else was found
        safe_aff = self._says_safe(norm)
        other_risk = bool(hits)
        for d in denials:
            if d.third_party or d.category in _OTHERS_DIRECTED:
                continue
            if safe_aff and not other_risk:
                continue
            hits.append(Hit(d.rule_id, d.category, d.text, d.start, d.end, d.third_party, True, False,
                            "denial (fires: safety first)", d.retracted, d.mention))

        # 4. outcome
        cats: List[str] = []
        for h in hits:
            for c in ((("third_party",) if h.third_party else ()) + (h.category,)):
                if c not in cats:
                    cats.append(c)
        intent: Optional[str] = None
        category_out: Optional[str] = None
        if hits:
            crisis_hits = [h for h in hits if h.category != SOS_CATEGORY]
            if any(h.category == "danger_now" for h in hits):
                intent = INTENT_DANGER_NOW
            elif crisis_hits:
                intent = INTENT_CRISIS
            else:
                intent = INTENT_SOS
            own = [h for h in crisis_hits if not h.third_party]
            if own:
                category_out = min((h.category for h in own), key=_PRIORITY.index)
            elif crisis_hits:
                category_out = "third_party"
            else:
                category_out = SOS_CATEGORY
            cats.sort(key=lambda c: (c != category_out, _PRIORITY.index(c)))
        kinds: List[str] = []
        for sp in la_spans:
            if sp[2] not in kinds:
                kinds.append(sp[2])
        if history and "negated_history" not in kinds:
            kinds.append("negated_history")
        if third_safe:
            kinds.append("third_party_safe")
        # which look-alikes account for risky words in the message
        explained: List[str] = []
        for h in suppressed:
            kind = next((sp[2] for sp in la_spans if sp[0] <= h.start and h.end <= sp[1]), None)
            if kind and kind not in explained:
                explained.append(kind)
        if history and "negated_history" not in explained:
            explained.append("negated_history")
        if third_safe:
            explained.append("third_party_safe")
        if lex.explains is not None:
            for sp in la_spans:
                if sp[2] not in explained and lex.explains.search(norm[sp[0]:sp[1]]):
                    explained.append(sp[2])
        return RiskResult(
            text=raw,
            normalized=norm,
            intent=intent,
            category=category_out,
            categories=tuple(cats),
            hits=tuple(hits),
            denials=tuple(denials),
            negated_history=tuple(history),
            suppressed=tuple(suppressed),
            lookalikes=tuple(kinds),
            lookalike_rules=tuple(dict.fromkeys(sp[3] for sp in la_spans)),
            retracted=any(h.retracted for h in hits),
            explained_by=tuple(explained),
            safe_affirmation=safe_aff,
            reported_question=bool(hits) and all(
                self._asked_by_someone_else(toks, self._tok_at(starts, h.start)) for h in hits
            ),
        )


@functools.lru_cache(maxsize=4)
def _cached_engine(path: str, mtime_ns: int) -> RiskEngine:
    return RiskEngine.from_file(path)


def default_engine(path: Optional[os.PathLike[str] | str] = None) -> RiskEngine:
    """The engine for the lexicon file (reloaded if the file changes). Raises LexiconError."""
    p = Path(path) if path is not None else lexicon_path()
    try:
        mtime = p.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise LexiconError(f"risk lexicon not found: {p}") from exc
    return _cached_engine(str(p), mtime)


def assess(text: Optional[str]) -> RiskResult:
    """Assess one message with the default lexicon."""
    return default_engine().assess(text)
