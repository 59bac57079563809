"""The spaCy pipeline that finds medicine names in what people type.

Built from the drug lexicon (``data/knowledge/drugs.yml``, read and checked by
the navigator's loader, ``trd/navigator/loader.py``) into a folder that
Rasa's ``SpacyNLP`` loads (``model: build/nlu/spacy_drugs``)::

    python -m bot.nlu.drug_pipeline build --out build/nlu/spacy_drugs
    python -m bot.nlu.drug_pipeline parse "I took zolft then lexapro xr"

The pipeline is ``spacy.blank("en")`` (no model download) with

1. a tokenizer that also splits ``zoloft+abilify``, ``prozac&zoloft``,
   ``lexapro->zoloft``, ``zoloft(50`` and ``sertraline100`` (letters then
   digits), so names glued to other text are still tokens of their own;
2. an ``entity_ruler`` whose patterns are every generic, brand, alias and
   listed misspelling, matched on the LOWER attribute, with an optional
   release suffix ("wellbutrin xl", "effexor-xr", "desvenlafaxine er"). The
   pattern ``id`` is the generic, so ``ent.ent_id_`` is the normalised value;
3. ``drug_fuzzy_matcher`` (registered below with ``@Language.factory``): a
   token the ruler did not claim is matched against the single-word names by
   edit distance (optimal string alignment, so a swap of two letters is one
   edit), on the raw spelling and on a sound-alike skeleton (ph->f, y->i,
   soft c->s, doubled letters once). Guards: only alphabetic tokens of at
   least ``min_length`` letters; at most 1 edit up to 8 letters, 2 up to 12,
   3 from 13; never a spaCy English stop word or a word of the stoplist
   (``bot/nlu/drug_stoplist.txt``: ordinary English words within reach of a
   drug name, e.g. "concert" ~ Concerta, "panel" ~ paxel); and when the
   closest names belong to two different generics the token is left alone
   (the form asks rather than guesses). Two adjacent words that together
   make a name, or one edit from one, are matched too ("well butrin"; exact
   only when the first is a stop word, never when the second is one).

The saved folder is self-contained: the fuzzy matcher writes its names and
stoplist next to the ruler's patterns, so running the assistant never reads
the lexicon file again. Loading it needs this module imported first (it
registers the factory); ``bot/nlu/drug_normaliser.py`` imports it, and Rasa
imports every component class of a model before creating any of them, so the
import happens before ``SpacyNLP`` calls ``spacy.load``.
"""

# No `from __future__ import annotations`: spaCy reads the factory signature at run time.

import argparse
import json
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
import spacy
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex

from trd.paths import KNOWLEDGE_DIR, REPO_ROOT

if TYPE_CHECKING:  # the lexicon is read only when building, never by the running assistant
    from trd.navigator.lexicon import DrugEntry

LABEL = "drug"
FACTORY = "drug_fuzzy_matcher"
ROOT = REPO_ROOT
DEFAULT_LEXICON = KNOWLEDGE_DIR / "drugs.yml"
DEFAULT_OUT = ROOT / "build" / "nlu" / "spacy_drugs"
DEFAULT_STOPLIST = Path(__file__).resolve().with_name("drug_stoplist.txt")
PIPELINE_NAME = "trd_drugs"

# Release and formulation suffixes that may follow a name: "wellbutrin xl",
# "effexor xr", "desvenlafaxine er", "seroquel-xr", "remeron odt".
RELEASE_SUFFIXES: Tuple[str, ...] = (
    "xl", "xr", "sr", "er", "cr", "la", "cd", "ir", "mr", "dr", "ec", "odt",
)
MULTI_WORD_SUFFIXES: Tuple[Tuple[str, ...], ...] = (
    ("extended", "release"),
    ("extended", "-", "release"),
    ("slow", "release"),
    ("modified", "release"),
    ("sustained", "release"),
)
# What may join the two halves of a combination name ("olanzapine-fluoxetine").
NAME_JOINERS: Tuple[str, ...] = ("-", "/", "+", "&")

# Extra tokenizer infixes (see the module docstring, point 1).
EXTRA_INFIXES: Tuple[str, ...] = (
    r"(?<=[A-Za-z])(?:->|=>|[+&])(?=[A-Za-z])",
    r"(?<=[A-Za-z])[(\[](?=[0-9A-Za-z])",
    r"(?<=[A-Za-z]{3})(?=[0-9])",
)


# ------------------------------------------------------------------ fuzzy core
def max_edits(length: int) -> int:
    """How many edits a token of this length may be from a name and still match."""
    if length < 9:
        return 1
    if length < 13:
        return 2
    return 3


_SKELETON_RULES: Tuple[Tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ph"), "f"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"y"), "i"),
    (re.compile(r"(.)\1+"), r"\1"),
)


def skeleton(word: str) -> str:
    """A sound-alike spelling: symbalta and cymbalta, fenelzine and phenelzine come out alike."""
    s = word.lower()
    for pattern, repl in _SKELETON_RULES:
        s = pattern.sub(repl, s)
    return s


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between a and b, or limit + 1 once it exceeds limit."""
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    if a == b:
        return 0
    prev2: List[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        row_min = i
        ai = a[i - 1]
        for j in range(1, lb + 1):
            cost = 0 if ai == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            if v < row_min:
                row_min = v
        if row_min > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[lb] if prev[lb] <= limit else limit + 1


def _letter_counts(word: str) -> List[int]:
    counts = [0] * 27
    for ch in word:
        counts[ord(ch) - 97 if "a" <= ch <= "z" else 26] += 1
    return counts


@dataclass(frozen=True)
class FuzzyHit:
    generic: str
    name: str
    distance: int


class FuzzyIndex:
    """Single-word lexicon names, searchable by edit distance with the guards above."""

    def __init__(self, names: Dict[str, str], stoplist: Iterable[str], min_length: int = 5) -> None:
        self.names: Dict[str, str] = {n: g for n, g in names.items() if n.isalpha()}
        self.stoplist: FrozenSet[str] = frozenset(w.lower() for w in stoplist)
        self.min_length = min_length
        # Candidates: names long enough to be matched fuzzily, with letter counts for a cheap
        # lower bound (one edit changes the letter counts by at most 2) before the exact distance.
        self._cands: List[Tuple[str, str, str]] = sorted(
            (n, skeleton(n), g) for n, g in self.names.items() if len(n) >= min_length
        )
        self._raw_len = np.array([len(c[0]) for c in self._cands], dtype=np.int32)
        self._sk_len = np.array([len(c[1]) for c in self._cands], dtype=np.int32)
        self._raw_counts = np.array([_letter_counts(c[0]) for c in self._cands], np.int32).reshape(-1, 27)
        self._sk_counts = np.array([_letter_counts(c[1]) for c in self._cands], np.int32).reshape(-1, 27)
        self._cached = lru_cache(maxsize=4096)(self._lookup)

    def eligible(self, word: str) -> bool:
        w = word.lower()
        return (
            len(w) >= self.min_length
            and w.isalpha()
            and w.isascii()
            and w not in STOP_WORDS
            and w not in self.stoplist
        )

    def lookup(self, word: str) -> Optional[FuzzyHit]:
        """The generic a word stands for, exactly or within the allowed edits; None when unsure."""
        return self._cached(word)

    def _lookup(self, word: str) -> Optional[FuzzyHit]:
        w = word.lower()
        exact = self.names.get(w)
        if exact is not None:
            return FuzzyHit(exact, w, 0)
        if not self.eligible(w):
            return None
        limit = max_edits(len(w))
        sk = skeleton(w)
        # Rank by (distance, raw-spelling distance): the sound-alike skeleton widens the net,
        # the raw spelling breaks its ties ("escitolopram" is escitalopram, not citalopram).
        best: Optional[Tuple[int, int]] = None
        hits: List[Tuple[str, str]] = []
        if not self._cands:
            return None
        near = (np.abs(self._raw_len - len(w)) <= limit) & (
            np.abs(self._raw_counts - _letter_counts(w)).sum(axis=1) <= 2 * limit
        )
        near |= (np.abs(self._sk_len - len(sk)) <= limit) & (
            np.abs(self._sk_counts - _letter_counts(sk)).sum(axis=1) <= 2 * limit
        )
        for k in np.flatnonzero(near):
            name, name_sk, generic = self._cands[int(k)]
            raw = osa_distance(w, name, limit)
            rank = (min(raw, osa_distance(sk, name_sk, limit)), raw)
            if rank[0] > limit:
                continue
            if best is None or rank < best:
                best, hits = rank, [(generic, name)]
            elif rank == best:
                hits.append((generic, name))
        if best is None:
            return None
        generics = {g for g, _ in hits}
        if len(generics) != 1:
            return None  # two medicines are equally close: do not guess
        generic, name = min(hits, key=lambda h: h[1])
        return FuzzyHit(generic, name, best[0])


# ------------------------------------------------------------ spaCy component
class DrugFuzzyMatcher:
    """Adds `drug` entities for near-misses of lexicon names the entity ruler did not match."""

    def __init__(self, nlp: Language, name: str, label: str, min_length: int) -> None:
        self.name = name
        self.label = label
        self.min_length = min_length
        self.index = FuzzyIndex({}, (), min_length)

    def set_data(self, names: Dict[str, str], stoplist: Iterable[str]) -> None:
        self.index = FuzzyIndex(names, stoplist, self.min_length)

    def __call__(self, doc: Doc) -> Doc:
        if not self.index.names:
            return doc
        taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
        new: List[Span] = []
        i = 0
        while i < len(doc):
            token = doc[i]
            if i in taken:
                i += 1
                continue
            hit = self.index.lookup(token.lower_)
            if hit is None:
                i += 1
                continue
            end = i + 1
            if end < len(doc) and end not in taken and doc[end].lower_ in RELEASE_SUFFIXES:
                end += 1
            new.append(Span(doc, i, end, label=self.label, span_id=hit.generic))
            i = end
        # A name split in two by a space ("well butrin", "lex apro"): the two tokens joined must be a
        # name, or one edit from a name, and each alone is no name.
        taken.update(i for span in new for i in range(span.start, span.end))
        for i in range(len(doc) - 1):
            a, b = doc[i], doc[i + 1]
            if i in taken or i + 1 in taken or not (a.is_alpha and b.is_alpha) or a.whitespace_ != " ":
                continue
            if b.lower_ in STOP_WORDS:
                continue  # "for five" is not Forfivo
            joined = a.lower_ + b.lower_
            if len(joined) < 7:
                continue
            hit = self.index.lookup(joined)
            if hit is not None and hit.distance <= (0 if a.lower_ in STOP_WORDS else 1):
                new.append(Span(doc, i, i + 2, label=self.label, span_id=hit.generic))
                taken.update((i, i + 1))
        if new:
            doc.set_ents(sorted([*doc.ents, *new], key=lambda span: span.start))
        return doc

    def to_disk(self, path: Union[str, Path], *, exclude: Sequence[str] = ()) -> None:
        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        data = {"names": dict(sorted(self.index.names.items())), "stoplist": sorted(self.index.stoplist)}
        (p / "fuzzy.json").write_text(json.dumps(data, indent=0, sort_keys=True), encoding="utf-8")

    def from_disk(self, path: Union[str, Path], *, exclude: Sequence[str] = ()) -> "DrugFuzzyMatcher":
        data = json.loads((Path(path) / "fuzzy.json").read_text(encoding="utf-8"))
        self.set_data(data["names"], data["stoplist"])
        return self


@Language.factory(FACTORY, default_config={"label": LABEL, "min_length": 5})
def make_drug_fuzzy_matcher(nlp: Language, name: str, label: str, min_length: int) -> DrugFuzzyMatcher:
    return DrugFuzzyMatcher(nlp, name, label, min_length)


# ------------------------------------------------------------------- building
def load_stoplist(path: Union[str, Path] = DEFAULT_STOPLIST) -> Set[str]:
    """One word a line; '#' starts a comment."""
    words: Set[str] = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        w = line.split("#", 1)[0].strip().lower()
        if w:
            words.add(w)
    return words


def customise_tokenizer(nlp: Language) -> None:
    infixes = list(nlp.Defaults.infixes or ()) + list(EXTRA_INFIXES)
    tokenizer: Any = nlp.tokenizer
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer


def entry_names(entry: "DrugEntry") -> List[str]:
    """Every name of a lexicon entry, lower case with single spaces, without repeats."""
    seen: Dict[str, None] = {}
    for name in entry.names():
        key = " ".join(name.lower().split())
        if key:
            seen.setdefault(key, None)
    return list(seen)


def _name_token_variants(tokens: List[str]) -> List[List[Dict[str, Any]]]:
    """Token patterns for one name: as written, and with its joiner swapped or dropped."""
    base: List[Dict[str, Any]] = [{"LOWER": t} for t in tokens]
    variants = [base]
    if len(tokens) >= 3 and any(t in NAME_JOINERS for t in tokens[1:-1]):
        joined: List[Dict[str, Any]] = []
        for t in tokens:
            if t in NAME_JOINERS:
                joined.append({"LOWER": {"IN": list(NAME_JOINERS)}, "OP": "?"})
            else:
                joined.append({"LOWER": t})
        variants.append(joined)
    return variants


def ruler_patterns(nlp: Language, entries: Sequence["DrugEntry"]) -> List[Dict[str, Any]]:
    """Entity-ruler patterns: every name, alone and with a release suffix; id = generic."""
    patterns: List[Dict[str, Any]] = []
    seen: Set[str] = set()
    for entry in entries:
        for name in entry_names(entry):
            tokens = [t.lower_ for t in nlp.make_doc(name) if not t.is_space]
            if not tokens:
                continue
            for variant in _name_token_variants(tokens):
                tails: List[List[Dict[str, Any]]] = [
                    [],
                    [{"LOWER": {"IN": list(RELEASE_SUFFIXES)}}],
                    [{"ORTH": "-"}, {"LOWER": {"IN": list(RELEASE_SUFFIXES)}}],
                ]
                tails += [[{"LOWER": w} for w in words] for words in MULTI_WORD_SUFFIXES]
                for tail in tails:
                    pattern = variant + tail
                    key = json.dumps(pattern, sort_keys=True)
                    if key in seen:
                        continue
                    seen.add(key)
                    patterns.append({"label": LABEL, "pattern": pattern, "id": entry.generic})
    return patterns


def fuzzy_names(entries: Sequence["DrugEntry"]) -> Dict[str, str]:
    """Single-word alphabetic names -> generic: what the fuzzy matcher compares tokens with."""
    return {name: e.generic for e in entries for name in entry_names(e) if name.isalpha()}


def build_pipeline(entries: Sequence["DrugEntry"], stoplist: Iterable[str]) -> Language:
    nlp = spacy.blank("en")
    customise_tokenizer(nlp)
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Medicine names from data/knowledge/drugs.yml (bot/nlu/drug_pipeline.py)"
    ruler = nlp.add_pipe("entity_ruler", config={"validate": True, "overwrite_ents": False})
    ruler.add_patterns(ruler_patterns(nlp, entries))  # type: ignore[attr-defined]
    fuzzy = nlp.add_pipe(FACTORY)
    assert isinstance(fuzzy, DrugFuzzyMatcher)
    known = set(fuzzy_names(entries))
    fuzzy.set_data(fuzzy_names(entries), [w for w in stoplist if w not in known])
    return nlp


def build(
    out: Union[str, Path] = DEFAULT_OUT,
    lexicon: Union[str, Path] = DEFAULT_LEXICON,
    stoplist: Union[str, Path] = DEFAULT_STOPLIST,
) -> Path:
    """Build the pipeline and replace ``out`` with it in one step (a half-written folder is never left)."""
    from trd.navigator.loader import load_lexicon  # checks drugs.yml as the navigator does

    nlp = build_pipeline(load_lexicon(lexicon).entries, load_stoplist(stoplist))
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".spacy_drugs.", dir=out_path.parent))
    try:
        nlp.to_disk(tmp / "pipeline")
        old = out_path.with_name(out_path.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        if out_path.exists():
            out_path.rename(old)
        (tmp / "pipeline").rename(out_path)
        if old.exists():
            shutil.rmtree(old)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_path


def load(path: Union[str, Path] = DEFAULT_OUT) -> Language:
    """Load a built pipeline (the same call Rasa's SpacyNLP makes)."""
    return spacy.load(path)


def drug_mentions(nlp: Language, text: str) -> List[Tuple[str, str]]:
    """(text as typed, generic) for each drug the pipeline finds, in order."""
    return [(ent.text, ent.ent_id_) for ent in nlp(text).ents if ent.label_ == LABEL]


# ------------------------------------------------------------------------ CLI
def _stoplist_candidates(words_file: Path, lexicon: Path, current: Set[str]) -> List[str]:
    """Dictionary words the fuzzy matcher would take for a drug, and are not yet in the stoplist."""
    from trd.navigator.loader import load_lexicon

    names = fuzzy_names(load_lexicon(lexicon).entries)
    index = FuzzyIndex(names, current)
    found = set()
    for line in words_file.read_text(encoding="utf-8", errors="replace").splitlines():
        w = line.strip().lower()
        if w.endswith("'s"):
            w = w[:-2]
        if w in names or not index.eligible(w):
            continue
        if index.lookup(w) is not None:
            found.add(w)
    return sorted(found)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.nlu.drug_pipeline", description="The drug pipeline.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the spaCy pipeline folder from the lexicon")
    b.add_argument("--out", default=str(DEFAULT_OUT))
    b.add_argument("--lexicon", default=str(DEFAULT_LEXICON))
    b.add_argument("--stoplist", default=str(DEFAULT_STOPLIST))
    p = sub.add_parser("parse", help="print the drugs found in each TEXT")
    p.add_argument("--model", default=str(DEFAULT_OUT))
    p.add_argument("text", nargs="+")
    s = sub.add_parser("stoplist-candidates", help="dictionary words the fuzzy matcher would take for drugs")
    s.add_argument("--words", default="/usr/share/dict/words")
    s.add_argument("--lexicon", default=str(DEFAULT_LEXICON))
    s.add_argument("--stoplist", default=str(DEFAULT_STOPLIST))
    args = parser.parse_args(argv)

    if args.command == "build":
        out = build(args.out, args.lexicon, args.stoplist)
        nlp = load(out)
        ruler = nlp.get_pipe("entity_ruler")
        print(f"built {out}: {len(ruler)} patterns")  # type: ignore[arg-type]
    elif args.command == "parse":
        nlp = load(args.model)
        for text in args.text:
            print(json.dumps({"text": text, "drugs": drug_mentions(nlp, text)}))
    else:
        for w in _stoplist_candidates(Path(args.words), Path(args.lexicon), load_stoplist(args.stoplist)):
            print(w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
