"""The risk detector: what a message means, read from its sentence embedding.

The deterministic risk engine (:mod:`trd.safety.risk`) is the floor: it never misses a
phrase its lexicon lists. The detector catches what nobody listed. It is a softmax
regression over the 384-number embedding of :mod:`trd.safety.encoder`, trained on
``data/safety/risk_training/*.yml`` (thousands of risk messages by category and hard
negatives) and on the ordinary messages of this product's NLU data, with thresholds
chosen on a validation set nobody here wrote (``tests/safety/validation/``). Its labels:

* ``clear``: risk of the person harming themselves now (the crisis answer);
* ``possible``: hopelessness, burden, wanting to disappear, isolation with despair,
  ambiguous statements about the future (a direct, warm question);
* ``third_party``: someone else may be at risk;
* ``harm_to_others``: the person may harm a particular other person;
* ``none``.

The model is an ensemble: several networks of one hidden layer over the embedding, trained
with different seeds, whose probabilities are averaged (steadier near the thresholds than
any one of them), mixed with a second kind of model that reads the spelling rather than
the meaning: a logistic regression over hashed character n-grams (3 to 5 characters), which
knows SMS spelling, typos and words in other languages the English encoder reads poorly
(:class:`CharModel`; its share, ``char_weight`` in the sidecar, was chosen on validation).
A message of several sentences is read whole and sentence by sentence,
and each risk probability is the highest of those readings, so a disclosure inside a long
intake answer ("sertraline 100 for 3 months, no effect. keeping the rest to take all at
once") is not averaged away by the rest of the message (:meth:`RiskDetector.read`);
the last few messages joined are read whole (:meth:`RiskDetector.read_whole`). Its weights are in
``data/safety/risk_detector.npz`` and what a reviewer reads (labels, thresholds, the
training data's fingerprint and size, the validation figures, the weights' sha256) in
``data/safety/risk_detector.json``; ``scripts/build_risk_detector.py`` (``make
generate``) writes both, and ``make check`` notices a detector older than its data. The
deployed detector is the evaluated one: it is committed, not retrained per machine.
NumPy only, no Rasa.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from trd.paths import DATA_DIR
from trd.safety.encoder import SentenceEncoder, shared_encoder

LABELS: Tuple[str, ...] = ("clear", "possible", "third_party", "harm_to_others", "none")
RISK_LABELS: Tuple[str, ...] = LABELS[:4]  # read sentence by sentence too (the highest counts)
DETECTOR_FILE = DATA_DIR / "safety" / "risk_detector.json"
# A message is read sentence by sentence when it has at least two sentences of at least
# PIECE_MIN_WORDS words; a very long one is read in at most MAX_PIECES runs of sentences
# (each run a few consecutive sentences), which bounds the cost of a 2,000-character message.
PIECE_MIN_WORDS = 3
MAX_PIECES = 8
# A sentence alone raises a message to the crisis block only when the whole message reads at
# least this much clear risk (else to the question): chosen on the validation sets (0.2, 0.4,
# 0.6 and never were tried: 0.4 blocked the fewest not-at-risk conversations, 9 of 47, with
# the most clear-risk messages blocked; every value missed the same clear-risk messages).
PIECE_CONFIRM = 0.4
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+|\n+")


CHAR_BITS = 18  # hashed character n-grams: 2**18 buckets
CHAR_SIZES = (3, 4, 5)
_SPACES = re.compile(r"\s+")


def char_features(text: str) -> Tuple[np.ndarray, np.ndarray]:
    """(bucket indices, values) of a text's character n-grams: 1 + log(count), unit length.

    Lower case, runs of white space made one space, a space added at both ends; each n-gram's
    bucket is its CRC-32 modulo 2**CHAR_BITS (the same in training and at serve time).
    """
    padded = " " + _SPACES.sub(" ", text.lower()).strip() + " "
    counts: Dict[int, int] = {}
    mask = (1 << CHAR_BITS) - 1
    for n in CHAR_SIZES:
        for i in range(len(padded) - n + 1):
            bucket = zlib.crc32(padded[i:i + n].encode("utf-8")) & mask
            counts[bucket] = counts.get(bucket, 0) + 1
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    val = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
    return idx, val / np.linalg.norm(val)


@dataclass(frozen=True)
class CharModel:
    """A logistic regression over :func:`char_features` (one row of weights per label)."""

    coef: np.ndarray  # (len(LABELS), 2**CHAR_BITS)
    intercept: np.ndarray  # (len(LABELS),)

    def probabilities(self, text: str) -> np.ndarray:
        idx, val = char_features(text)
        logits = self.coef[:, idx].astype(np.float64) @ val + self.intercept
        return softmax_rows(logits)


def pieces_of(text: str) -> List[str]:
    """The sentences of a message read on their own (empty for a message of one sentence)."""
    found = [p.strip() for p in _SENTENCE_BREAK.split(text) if len(p.split()) >= PIECE_MIN_WORDS]
    if len(found) < 2:
        return []
    if len(found) > MAX_PIECES:
        size = -(-len(found) // MAX_PIECES)  # ceiling division: runs of consecutive sentences
        found = [" ".join(found[i:i + size]) for i in range(0, len(found), size)]
    return found


class DetectorUnavailable(RuntimeError):
    """data/safety/risk_detector.json is missing or malformed."""


@dataclass(frozen=True)
class Reading:
    """The detector's probabilities for one text, and the tier they put it in."""

    probabilities: Mapping[str, float]
    tier: str  # "clear", "possible", "third_party", "harm_to_others" or "none"

    @property
    def risk(self) -> float:
        """Probability of any risk to the person themselves (clear + possible)."""
        return self.probabilities["clear"] + self.probabilities["possible"]


@dataclass(frozen=True)
class Thresholds:
    clear: float  # p(clear) at or above: clear risk
    possible: float  # p(clear) + p(possible) at or above (and not clear): possible risk
    third_party: float
    harm_to_others: float

    def tier(self, p: Mapping[str, float]) -> str:
        if p["clear"] >= self.clear:
            return "clear"
        if p["harm_to_others"] >= self.harm_to_others:
            return "harm_to_others"
        if p["third_party"] >= self.third_party:
            return "third_party"
        if p["clear"] + p["possible"] >= self.possible:
            return "possible"
        return "none"


# --- training (used by scripts/build_risk_detector.py) -------------------------------------------
@dataclass(frozen=True)
class MlpWeights:
    """One hidden layer (ReLU) over the embedding, then a softmax over LABELS."""

    w1: np.ndarray  # (384, hidden)
    b1: np.ndarray
    w2: np.ndarray  # (hidden, len(LABELS))
    b2: np.ndarray

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2


def fit_mlp(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    hidden: int = 128,
    epochs: int = 40,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    dropout: float = 0.2,
    batch: int = 128,
    seed: int = 0,
) -> MlpWeights:
    """Mini-batch Adam with class-balanced weights and dropout; the same seed gives the same weights."""
    rng = np.random.default_rng(seed)
    n, d = x.shape
    x = x.astype(np.float64)
    w1 = rng.normal(0.0, np.sqrt(2.0 / d), (d, hidden))
    b1 = np.zeros(hidden)
    w2 = rng.normal(0.0, np.sqrt(1.0 / hidden), (hidden, n_classes))
    b2 = np.zeros(n_classes)
    params = [w1, b1, w2, b2]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    sample_w = (counts.sum() / (n_classes * np.maximum(counts, 1.0)))[y]
    onehot = np.eye(n_classes)[y]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            xb = x[idx]
            pre = xb @ w1 + b1
            active = pre > 0
            keep = (rng.random(pre.shape) > dropout) / (1.0 - dropout)
            h = pre * active * keep
            logits = h @ w2 + b2
            prob = softmax_rows(logits)
            g = (prob - onehot[idx]) * sample_w[idx][:, None] / len(idx)
            grads = [None, None, h.T @ g + weight_decay * w2, g.sum(axis=0)]
            gh = (g @ w2.T) * active * keep
            grads[0] = xb.T @ gh + weight_decay * w1
            grads[1] = gh.sum(axis=0)
            step += 1
            for j, (param, grad) in enumerate(zip(params, grads, strict=True)):
                first[j] = 0.9 * first[j] + 0.1 * grad
                second[j] = 0.999 * second[j] + 0.001 * grad * grad
                param -= lr * (first[j] / (1 - 0.9**step)) / (np.sqrt(second[j] / (1 - 0.999**step)) + 1e-8)
    f32 = np.float32
    return MlpWeights(w1=w1.astype(f32), b1=b1.astype(f32), w2=w2.astype(f32), b2=b2.astype(f32))


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def data_fingerprint(texts_and_labels: Iterable[Tuple[str, str]], settings: Mapping[str, object]) -> str:
    digest = hashlib.sha256(json.dumps(dict(settings), sort_keys=True).encode())
    for text, label in sorted(texts_and_labels):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()[:16]


# --- serving ---------------------------------------------------------------------------------------
def save_members(path: Path, members: Sequence[MlpWeights], chars: Optional[CharModel] = None) -> None:
    """The ensemble's weights in one .npz (arrays stacked along a first axis, one per member),
    with the character model's (``char_coef`` in float16, ``char_intercept``)."""
    arrays = {"w1": np.stack([m.w1 for m in members]), "b1": np.stack([m.b1 for m in members]),
              "w2": np.stack([m.w2 for m in members]), "b2": np.stack([m.b2 for m in members])}
    if chars is not None:
        arrays["char_coef"] = chars.coef.astype(np.float16)
        arrays["char_intercept"] = chars.intercept.astype(np.float32)
    with path.open("wb") as handle:
        np.savez_compressed(handle, **arrays)


def _members_from(z: Mapping[str, np.ndarray]) -> List[MlpWeights]:
    w1, b1, w2, b2 = z["w1"], z["b1"], z["w2"], z["b2"]
    if w1.ndim == 2:  # a single network (the files before the ensemble)
        return [MlpWeights(w1=w1, b1=b1, w2=w2, b2=b2)]
    return [MlpWeights(w1=w1[i], b1=b1[i], w2=w2[i], b2=b2[i]) for i in range(w1.shape[0])]


def read_detector_files(
    about_path: Path = DETECTOR_FILE, weights_path: Optional[Path] = None
) -> Tuple[Dict[str, object], List[MlpWeights], Optional[CharModel]]:
    """The sidecar (labels, thresholds, fingerprint, validation figures), the ensemble's
    weights and the character model (None in files written before it)."""
    weights_path = weights_path or about_path.with_suffix(".npz")
    try:
        about = json.loads(about_path.read_text(encoding="utf-8"))
        with np.load(weights_path) as z:
            weights = _members_from(z)
            chars = (
                CharModel(coef=z["char_coef"], intercept=z["char_intercept"].astype(np.float64))
                if "char_coef" in z.files else None
            )
    except (OSError, ValueError, KeyError) as exc:
        raise DetectorUnavailable(
            f"{about_path}: {exc} (run `make generate` to build the risk detector)"
        ) from exc
    if weights_path.is_file():
        digest = hashlib.sha256(weights_path.read_bytes()).hexdigest()
        if about.get("weights_sha256") != digest:
            raise DetectorUnavailable(f"{weights_path} is not the file {about_path.name} describes")
    return about, weights, chars


class RiskDetector:
    """Reads texts with the sentence encoder and the trained weights."""

    chars: Optional[CharModel] = None
    char_weight: float = 0.0

    def __init__(
        self,
        weights: Union[MlpWeights, Sequence[MlpWeights]],
        thresholds: Thresholds,
        encoder: Optional[SentenceEncoder] = None,
        labels: Sequence[str] = LABELS,
        chars: Optional[CharModel] = None,
        char_weight: float = 0.0,
    ) -> None:
        members = [weights] if isinstance(weights, MlpWeights) else list(weights)
        if not members or any(
            m.w1.shape[0] != SentenceEncoder.dimension or m.w2.shape[1] != len(labels) for m in members
        ):
            raise DetectorUnavailable("the detector's weights do not fit the encoder and labels")
        self.members = members
        fits = chars is None or (chars.coef.shape == (len(labels), 1 << CHAR_BITS) and 0 <= char_weight <= 1)
        if not fits:
            raise DetectorUnavailable("the character model does not fit the labels, or its share is not 0..1")
        self.chars = chars
        self.char_weight = char_weight if chars is not None else 0.0
        self.thresholds = thresholds
        self.labels = tuple(labels)
        self._encoder = encoder

    @property
    def encoder(self) -> SentenceEncoder:
        if self._encoder is None:
            self._encoder = shared_encoder()
        return self._encoder

    @classmethod
    def from_file(cls, path: Path = DETECTOR_FILE, encoder: Optional[SentenceEncoder] = None) -> RiskDetector:
        about, weights, chars = read_detector_files(path)
        try:
            settings = about.get("settings") or {}
            assert isinstance(settings, dict)
            char_weight = float(settings.get("char_weight", 0.0))
            labels: Tuple[str, ...] = tuple(str(x) for x in about["labels"])  # type: ignore[attr-defined]
            t = about["thresholds"]
            assert isinstance(t, dict)
            thresholds = Thresholds(
                clear=float(t["clear"]),
                possible=float(t["possible"]),
                third_party=float(t["third_party"]),
                harm_to_others=float(t["harm_to_others"]),
            )
        except (KeyError, TypeError, ValueError, AssertionError) as exc:
            raise DetectorUnavailable(f"{path}: {exc!r} (run `make generate`)") from exc
        if labels != LABELS:
            raise DetectorUnavailable(f"{path}: labels {labels} are not {LABELS}")
        return cls(weights, thresholds, encoder=encoder, labels=labels, chars=chars, char_weight=char_weight)

    def probability_rows(self, embeddings: np.ndarray) -> np.ndarray:
        """The ensemble's mean probabilities, one row per embedding (or one vector for one)."""
        return np.mean([softmax_rows(m.logits(embeddings)) for m in self.members], axis=0)

    def probabilities_of(self, embedding: np.ndarray) -> Dict[str, float]:
        p = self.probability_rows(embedding)
        return {label: float(p[i]) for i, label in enumerate(self.labels)}

    def text_probabilities(self, text: str) -> np.ndarray:
        """The ensemble's reading of the text's embedding mixed with the character model's."""
        return self.texts_probabilities([text])[0]

    def texts_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """``text_probabilities`` of several texts, one row each (encoded in one batch)."""
        rows = self.probability_rows(self.encoder.encode_many(texts))
        if self.chars is None or self.char_weight == 0.0:
            return rows
        chars = np.vstack([self.chars.probabilities(t) for t in texts])
        return (1.0 - self.char_weight) * rows + self.char_weight * chars

    def _named(self, row: np.ndarray) -> Dict[str, float]:
        return {label: float(row[i]) for i, label in enumerate(self.labels)}

    def read_embedding(self, embedding: np.ndarray) -> Reading:
        p = self.probabilities_of(embedding)
        return Reading(probabilities=p, tier=self.thresholds.tier(p))

    def read_whole(self, text: str) -> Reading:
        """The text read as one (the last few messages joined are read this way)."""
        p = self._named(self.text_probabilities(text))
        return Reading(probabilities=p, tier=self.thresholds.tier(p))

    def read(self, text: str) -> Reading:
        """One message: read whole and, when it has several sentences, sentence by sentence.

        Each risk probability is the highest of those readings (``none`` is the whole's). A
        sentence read on its own has lost its context, so what only a sentence shows is less
        certain than what the whole message shows: a sentence alone raises the message to the
        possible tier (the direct question, 988 in view), and to the crisis block only when
        the whole message reads at least PIECE_CONFIRM as clear risk; it never raises the
        third-party or harm-to-others tiers (their own readings of the whole decide).
        """
        parts = pieces_of(text)
        if not parts:
            whole = self._named(self.text_probabilities(text))
            return Reading(probabilities=whole, tier=self.thresholds.tier(whole))
        # the whole and its sentences in one batch (one pass over the encoder's weights)
        everything = self.texts_probabilities([text, *parts])
        whole = self._named(everything[0])
        p = dict(whole)
        rows = everything[1:]
        for label in RISK_LABELS:
            p[label] = max(p[label], float(rows[:, self.labels.index(label)].max()))
        tier, whole_tier = self.thresholds.tier(p), self.thresholds.tier(whole)
        if tier == "clear" and whole_tier != "clear" and whole["clear"] < PIECE_CONFIRM:
            tier = "possible"
        elif tier in ("third_party", "harm_to_others") and whole_tier != tier:
            risk = p["clear"] + p["possible"] >= self.thresholds.possible
            tier = whole_tier if whole_tier != "none" else ("possible" if risk else "none")
        return Reading(probabilities=p, tier=tier)

    def read_many(self, texts: Iterable[str]) -> List[Reading]:
        return [self.read(t) for t in texts]
