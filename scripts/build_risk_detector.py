"""Train the risk detector and choose its thresholds: writes data/safety/risk_detector.json.

    python scripts/build_risk_detector.py          # train and write (run by `make generate`)
    python scripts/build_risk_detector.py --check  # fail if the file is older than its data

Training data (see trd/safety/detector.py for the labels):
* data/safety/risk_training/*.yml: risk messages by category and hard negatives, written
  for training by helpers who did not see the evaluation sets;
* the ordinary messages of data/nlu (greetings, intake answers, treatment questions and
  statements), labelled ``none``; the safety intents' examples are left out (their
  labels are the classifier's, not the detector's tiers).

Thresholds are chosen on tests/safety/validation/validation*.yml (written blind, never
trained on; tests/safety/test_blind_sets.py checks no line of it is in the training data)
for the detector together with the risk engine, as the safety guard combines them:
the lowest p(clear) threshold whose look-alike false alarms stay within the budget, and
the same for the possible tier. The blind test sets (tests/safety/blind/) are never read
here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trd.safety.detector import (  # noqa: E402
    CHAR_BITS,
    DETECTOR_FILE,
    LABELS,
    CharModel,
    MlpWeights,
    RiskDetector,
    Thresholds,
    char_features,
    data_fingerprint,
    fit_mlp,
    save_members,
)
from trd.safety.encoder import SentenceEncoder  # noqa: E402

TRAINING_DIR = ROOT / "data" / "safety" / "risk_training"
NLU_DIR = ROOT / "data" / "nlu"
VALIDATION_DIR = ROOT / "tests" / "safety" / "validation"
# the single-message validation sets (validation.yml, validation_more.yml), written blind
VALIDATION_FILES = sorted(VALIDATION_DIR.glob("validation*.yml"))
CACHE = ROOT / "build" / "risk" / "embeddings.npz"
# NLU intents whose examples are not plain "no risk" (their meaning is the safety path's).
SAFETY_INTENTS = {"crisis", "crisis_danger_now", "sos", "crisis_retract", "not_safe", "share_feelings"}
# The network's settings, and the false-alarm budgets the thresholds are chosen for (the
# share of the validation set's no-risk messages that may reach each tier). The third-party
# and harm-to-others tiers raise the full crisis block on the detector's word alone, and on
# the validation conversations of people not at risk they were a main source of blocks
# (someone talking about other people): half the clear tier's budget each.
# "members": networks in the ensemble (seeds seed .. seed + members - 1).
SETTINGS: Dict[str, float] = {
    "hidden": 128, "epochs": 40, "lr": 3e-3, "weight_decay": 1e-4, "dropout": 0.2, "seed": 0,
    "members": 5,
    # the character n-gram model's share of the reading, and its regularisation. Chosen on the
    # validation sets (the ensemble alone, 0.3, 0.5, 0.7 tried): 0.5 missed 5 clear-risk
    # messages of 579 where the ensemble alone missed 19 (0.3: 9, 0.7: 4), and blocked 5 of
    # 47 not-at-risk conversations instead of 9 (0.3: 7, 0.7: 7, and 2 of the 6 lonely ones),
    # with 10 look-alike blocks of 624 instead of 8
    "char_weight": 0.5, "char_c": 10.0,
    "clear_budget": 0.01, "possible_budget": 0.10, "other_budget": 0.005,
    # the clear tier's threshold is never below this. The budget above reads single messages;
    # the validation conversations of people not at risk are blocked more often when the
    # threshold falls. With the short messages added to the training data (negatives_short.yml,
    # risk_short.yml) the budget gave 0.69, which blocked 7 of the 47 not-at-risk validation
    # conversations; 0.72 blocks 5 (as the detector before did) and still blocks more of the
    # clear-risk validation messages than before (90.2% against 89.2%); 0.76 blocks 4 but
    # leaves 2% more clear-risk messages only asked about
    "clear_floor": 0.72,
}
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def training_examples() -> List[Tuple[str, str, str]]:
    """(text, label, source category) for every training example."""
    out: List[Tuple[str, str, str]] = []
    for path in sorted(TRAINING_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for ex in data["examples"]:
            if ex["label"] not in LABELS:
                raise SystemExit(f"{path}: unknown label {ex['label']!r}")
            out.append((str(ex["text"]).strip(), ex["label"], f"{path.stem}/{ex['category']}"))
    for path in sorted(NLU_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []):
            intent = block.get("intent")
            if not intent or intent in SAFETY_INTENTS:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = ANNOTATION.sub(r"\1", line[2:]).strip()
                    if text:
                        out.append((text, "none", f"nlu/{intent}"))
    seen: Dict[str, str] = {}
    unique: List[Tuple[str, str, str]] = []
    for text, label, source in out:
        if text in seen:
            if seen[text] != label:
                raise SystemExit(f"training text with two labels ({seen[text]}, {label}): {text!r}")
            continue
        seen[text] = label
        unique.append((text, label, source))
    return unique


def validation_examples() -> List[Tuple[str, str, str]]:
    found: List[Tuple[str, str, str]] = []
    for path in VALIDATION_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found += [(m["text"], m["label"], m["category"]) for m in data["messages"]]
    return found


class EmbeddingCache:
    """Embeddings by text digest, kept in build/ so a rebuild embeds only new texts.

    It stands in for the encoder when the detector reads the validation set (``encode``).
    """

    dimension = SentenceEncoder.dimension

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        self.table: Dict[str, np.ndarray] = {}
        if CACHE.exists():
            with np.load(CACHE) as z:
                self.table = {k: z[k] for k in z.files}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]

    def encode_many(self, texts: Sequence[str]) -> np.ndarray:
        """Rows for ``texts``; the ones not in the table are encoded in one batch."""
        missing = list(dict.fromkeys(t for t in texts if self.key(t) not in self.table))
        if missing:
            for text, row in zip(missing, self.encoder.encode_many(missing), strict=True):
                self.table[self.key(text)] = row
        return np.vstack([self.table[self.key(t)] for t in texts]) if texts \
            else np.zeros((0, self.dimension), dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_many(texts)

    def encode(self, text: str) -> np.ndarray:
        return self.encode_many([text])[0]

    def save(self) -> None:
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(CACHE, **self.table)


def engine_flags(texts: Sequence[str]) -> List[bool]:
    """Whether the risk engine (the lexicon's floor) answers each text with the crisis path."""
    from trd.safety.risk import RiskEngine

    engine = RiskEngine.from_file()
    return [engine.assess(text).is_crisis for text in texts]


def _lowest(score: np.ndarray, none: np.ndarray, budget: float) -> float:
    """The lowest threshold (0.05 steps of 0.01) whose rate on the no-risk messages is in budget."""
    for t in np.round(np.arange(0.05, 0.991, 0.01), 2):
        if float((score >= t)[none].mean()) <= budget:
            return float(t)
    return 0.99


def choose_thresholds(
    prob: np.ndarray,
    labels: Sequence[str],
    categories: Sequence[str],
    engine: Sequence[bool],
    read: Optional[Callable[[Thresholds], List[str]]] = None,
) -> Tuple[Thresholds, Dict[str, object]]:
    """Thresholds from the validation set's no-risk messages; figures for the sidecar (the
    tiers ``read`` gives with those thresholds, when given: the detector's own reading)."""
    idx = {label: i for i, label in enumerate(LABELS)}
    none = np.array([lab == "none" for lab in labels])
    p_clear = prob[:, idx["clear"]]
    p_risk = p_clear + prob[:, idx["possible"]]
    th = Thresholds(
        clear=max(_lowest(p_clear, none, SETTINGS["clear_budget"]), SETTINGS["clear_floor"]),
        possible=_lowest(p_risk, none, SETTINGS["possible_budget"]),
        third_party=_lowest(prob[:, idx["third_party"]], none, SETTINGS["other_budget"]),
        harm_to_others=_lowest(prob[:, idx["harm_to_others"]], none, SETTINGS["other_budget"]),
    )
    if read is not None:
        tiers = read(th)
    else:
        tiers = [th.tier({label: float(row[i]) for i, label in enumerate(LABELS)}) for row in prob]
    eng = np.array(engine)
    det_clear = np.array([t == "clear" for t in tiers])
    det_any = np.array([t != "none" for t in tiers])
    self_clear = np.array(
        [
            lab == "clear" and cat not in ("third_party", "harm_to_others")
            for lab, cat in zip(labels, categories, strict=True)
        ]
    )
    possible = np.array([lab == "possible" for lab in labels])
    report: Dict[str, object] = {
        "messages": int(len(labels)),
        "clear_recall_detector": round(float(det_clear[self_clear].mean()), 3),
        "clear_recall_with_lexicon": round(float((det_clear | eng)[self_clear].mean()), 3),
        "possible_answered_detector": round(float(det_any[possible].mean()), 3),
        "false_alarms_detector": round(float(det_clear[none].mean()), 3),
        "false_alarms_with_lexicon": round(float((det_clear | eng)[none].mean()), 3),
        "asked_no_risk_detector": round(float(np.array([t == "possible" for t in tiers])[none].mean()), 3),
    }
    return th, report


def fit_chars(texts: Sequence[str], y: np.ndarray) -> CharModel:
    """The logistic regression over hashed character n-grams (class-balanced, like the networks)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    rows: List[np.ndarray] = []
    cols: List[np.ndarray] = []
    vals: List[np.ndarray] = []
    for r, text in enumerate(texts):
        idx, val = char_features(text)
        rows.append(np.full(len(idx), r))
        cols.append(idx)
        vals.append(val)
    coords = (np.concatenate(rows), np.concatenate(cols))
    x = sparse.csr_matrix((np.concatenate(vals), coords), shape=(len(texts), 1 << CHAR_BITS))
    counts = np.bincount(y, minlength=len(LABELS)).astype(np.float64)
    weights = {i: len(y) / (len(LABELS) * max(c, 1.0)) for i, c in enumerate(counts)}
    model = LogisticRegression(C=float(SETTINGS["char_c"]), max_iter=300, class_weight=weights)
    model.fit(x, y)
    return CharModel(coef=model.coef_.astype(np.float32), intercept=model.intercept_.astype(np.float64))


def build() -> Tuple[Dict[str, object], List[MlpWeights], CharModel]:
    examples = training_examples()
    encoder = SentenceEncoder()
    cache = EmbeddingCache(encoder)
    x = cache.embed([t for t, _, _ in examples])
    y = np.array([LABELS.index(label) for _, label, _ in examples])
    counts = np.bincount(y, minlength=len(LABELS))
    members = [
        fit_mlp(
            x, y, len(LABELS), hidden=int(SETTINGS["hidden"]), epochs=int(SETTINGS["epochs"]),
            lr=SETTINGS["lr"], weight_decay=SETTINGS["weight_decay"], dropout=SETTINGS["dropout"],
            seed=int(SETTINGS["seed"]) + i,
        )
        for i in range(int(SETTINGS["members"]))
    ]
    chars = fit_chars([t for t, _, _ in examples], y)
    # the saved model is read back in float16, as the server reads it
    chars = CharModel(coef=chars.coef.astype(np.float16), intercept=chars.intercept)
    val = validation_examples()
    # the validation set is read the way the guard reads a message (whole and by sentence)
    unset = Thresholds(clear=2.0, possible=2.0, third_party=2.0, harm_to_others=2.0)
    reader = RiskDetector(members, unset, encoder=cache, chars=chars,  # type: ignore[arg-type]
                          char_weight=float(SETTINGS["char_weight"]))
    readings = [reader.read(t) for t, _, _ in val]
    cache.save()
    prob = np.array([[r.probabilities[label] for label in LABELS] for r in readings])

    def read(th: Thresholds) -> List[str]:
        reader.thresholds = th
        return [reader.read(t).tier for t, _, _ in val]

    thresholds, report = choose_thresholds(
        prob, [lab for _, lab, _ in val], [c for _, _, c in val], engine_flags([t for t, _, _ in val]), read
    )
    about: Dict[str, object] = {
        "about": "Written by scripts/build_risk_detector.py (make generate); see trd/safety/detector.py.",
        "fingerprint": fingerprint(examples),
        "labels": list(LABELS),
        "settings": SETTINGS,
        "training_examples": {label: int(c) for label, c in zip(LABELS, counts, strict=True)},
        "thresholds": thresholds.__dict__,
        "validation": report,
    }
    return about, members, chars


def fingerprint(examples: Sequence[Tuple[str, str, str]]) -> str:
    digest = hashlib.sha256()
    for path in VALIDATION_FILES:
        digest.update(path.read_bytes())
    settings = dict(SETTINGS, validation=digest.hexdigest())
    return data_fingerprint(((t, lab) for t, lab, _ in examples), settings)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        try:
            current = json.loads(DETECTOR_FILE.read_text(encoding="utf-8")).get("fingerprint")
        except (OSError, ValueError):
            current = None
        want = fingerprint(training_examples())
        if current != want:
            print(f"{DETECTOR_FILE.relative_to(ROOT)} is out of date with its training data: "
                  "run `make generate`", file=sys.stderr)
            return 1
        return 0
    about, members, chars = build()
    npz = DETECTOR_FILE.with_suffix(".npz")
    save_members(npz, members, chars)
    about["weights_sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
    DETECTOR_FILE.write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {DETECTOR_FILE.relative_to(ROOT)} and {npz.name}: thresholds {about['thresholds']}")
    print(f"validation: {about['validation']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
