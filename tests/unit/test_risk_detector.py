"""The risk detector and the assessment that combines it with the lexicon's floor.

What the committed detector reads on the blind sets is measured by scripts/eval_risk.py
(not here: a unit test must not pass or fail on a borderline reading). These tests pin
the contract: the files load only when they are the ones described, the tiers follow
the thresholds, the lexicon is a floor the detector cannot lower, a plain denial stays
ordinary, and the recent turns can raise a message to a question, never to the block.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import pytest

from trd.safety import detector as det
from trd.safety.assessment import RiskAssessor
from trd.safety.risk import RiskEngine


def _probs(**given: float) -> Dict[str, float]:
    p = {label: 0.0 for label in det.LABELS}
    p.update(given)
    p["none"] = max(0.0, 1.0 - sum(v for k, v in p.items() if k != "none"))
    return p


THRESHOLDS = det.Thresholds(clear=0.9, possible=0.6, third_party=0.7, harm_to_others=0.5)


@pytest.mark.parametrize(
    "probabilities, tier",
    [
        (_probs(clear=0.95), "clear"),
        (_probs(clear=0.5, possible=0.2), "possible"),  # 0.7 of risk to the person, below "clear"
        (_probs(possible=0.59), "none"),
        (_probs(harm_to_others=0.6), "harm_to_others"),
        (_probs(third_party=0.8), "third_party"),
        (_probs(third_party=0.69, possible=0.1), "none"),
    ],
)
def test_tiers_follow_the_thresholds(probabilities: Dict[str, float], tier: str) -> None:
    assert THRESHOLDS.tier(probabilities) == tier


def test_the_committed_detector_loads_and_reads_a_text() -> None:
    reading = det.RiskDetector.from_file().read("how do I kill a frozen app on my phone")
    assert set(reading.probabilities) == set(det.LABELS)
    assert abs(sum(reading.probabilities.values()) - 1.0) < 1e-5
    assert reading.tier in det.LABELS


def test_the_sidecar_describes_the_weights(tmp_path: Path) -> None:
    about = json.loads(det.DETECTOR_FILE.read_text(encoding="utf-8"))
    assert about["labels"] == list(det.LABELS)
    assert about["training_examples"]["clear"] >= 900 and about["training_examples"]["none"] >= 2500
    copy = tmp_path / "risk_detector.json"
    shutil.copy(det.DETECTOR_FILE, copy)
    weights = np.load(det.DETECTOR_FILE.with_suffix(".npz"))
    np.savez(tmp_path / "risk_detector.npz", w1=weights["w1"] * 1.01, b1=weights["b1"], w2=weights["w2"],
             b2=weights["b2"])
    with pytest.raises(det.DetectorUnavailable, match="not the file"):
        det.RiskDetector.from_file(copy)


def test_a_missing_detector_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(det.DetectorUnavailable, match="make generate"):
        det.RiskDetector.from_file(tmp_path / "risk_detector.json")


def test_training_is_deterministic() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, det.SentenceEncoder.dimension)).astype(np.float32)
    y = np.arange(60) % len(det.LABELS)
    a = det.fit_mlp(x, y, len(det.LABELS), hidden=8, epochs=3)
    b = det.fit_mlp(x, y, len(det.LABELS), hidden=8, epochs=3)
    assert np.array_equal(a.w1, b.w1) and np.array_equal(a.w2, b.w2)


class _Fixed:
    """A detector stand-in whose reading depends only on a word in the text."""

    def __init__(self, by_word: Dict[str, str]) -> None:
        self.by_word = by_word
        self.seen: List[str] = []

    def read(self, text: str) -> det.Reading:
        self.seen.append(text)
        tier = next((t for w, t in self.by_word.items() if w in text), "none")
        probabilities = {label: 1.0 if label == tier else 0.0 for label in det.LABELS}
        return det.Reading(probabilities=probabilities, tier=tier)

    read_whole = read


@pytest.fixture(scope="module")
def engine() -> RiskEngine:
    return RiskEngine.from_file()


def _assess(engine: RiskEngine, fake: _Fixed, messages: Sequence[str]) -> str:
    return RiskAssessor(engine, fake).assess(list(messages)).tier  # type: ignore[arg-type]


def test_the_lexicon_is_a_floor_the_detector_cannot_lower(engine: RiskEngine) -> None:
    assert _assess(engine, _Fixed({}), ["I want to kill myself"]) == "clear"


def test_the_detector_catches_what_the_lexicon_does_not_list(engine: RiskEngine) -> None:
    text = "sorting out who gets the cat, writing everyone a letter, zzfinal"
    assert _assess(engine, _Fixed({"zzfinal": "clear"}), [text]) == "clear"
    assert _assess(engine, _Fixed({"zzfinal": "possible"}), [text]) == "possible"


def test_a_plain_denial_stays_an_ordinary_message(engine: RiskEngine) -> None:
    text = "I am not suicidal, I am just worn out"
    assert engine.assess(text).is_crisis  # the lexicon alone fires on a denial (safety first)
    assert _assess(engine, _Fixed({}), [text]) == "none"
    # beside something the detector reads as risk, a denial is asked about, not blocked
    assert _assess(engine, _Fixed({"worn out": "clear"}), [text]) == "possible"


def test_risk_building_over_turns_is_asked_about_never_blocked(engine: RiskEngine) -> None:
    turns = ["been on duloxetine a year", "i stopped seeing my friends", "zzfade out of everyone's life"]
    fake = _Fixed({"friends zzfade": "clear"})  # only the turns together read as risk
    assert _assess(engine, fake, turns) == "possible"
    assert fake.seen[-1] == " ".join(turns)
    assert _assess(engine, _Fixed({"friends zzfade": "clear"}), turns[-1:]) == "none"  # one turn alone


def test_short_form_answers_are_never_read_in_context(engine: RiskEngine) -> None:
    # "Several days", "1", "go back": answers to the form's questions, not words about oneself
    fake = _Fixed({"days": "clear"})
    assert _assess(engine, fake, ["Several days", "Nearly every day", "sometimes"]) == "none"
    assert _assess(engine, fake, ["i sleep all day most days", "no energy for days now", "1"]) == "none"
    assert all(len(text.split()) >= 4 for text in fake.seen if " " in text and text.count(" ") > 3)


def test_a_question_answered_no_is_a_plain_denial(engine: RiskEngine) -> None:
    assert _assess(engine, _Fixed({}), ["do I think about suicide? no. just tired of being tired"]) == "none"


def test_a_question_someone_else_asked_is_asked_about_not_blocked(engine: RiskEngine) -> None:
    text = "My therapist asked me if I'd ever want to kill myself and it threw me"
    assert _assess(engine, _Fixed({}), [text]) == "possible"
    assert _assess(engine, _Fixed({}), ["the nurse asked if I want to kill myself and I said yes"]) == "clear"


def test_said_to_be_safe_in_so_many_words_is_not_asked_on_the_detectors_word(engine: RiskEngine) -> None:
    text = "im not in danger or anything, i just feel invisible"
    # a reading of possible risk short of certain (MASKED_RISK) is not asked about
    assert _assess(engine, _Sure(0.9, "possible"), [text]) == "none"
    assert _assess(engine, _Fixed({"invisible": "clear"}), [text]) == "possible"  # asked, never blocked


def test_grief_and_someone_safe_now_are_not_read_as_someone_at_risk(engine: RiskEngine) -> None:
    # the detector's third-party reading is what the look-alike explains
    grief = "we lost my cousin last year, she took her own life in march"
    assert _assess(engine, _Fixed({"brother": "third_party"}), [grief]) == "none"
    safe = "My brother attempted to kill himself two years ago. He's doing well now"
    assert _assess(engine, _Fixed({"brother": "third_party"}), [safe]) == "none"


class _Sure(_Fixed):
    """A stand-in that reads every message as one tier, with a given certainty (the rest none)."""

    def __init__(self, p: float, tier: str = "third_party") -> None:
        super().__init__({})
        self.p, self.tier = p, tier

    def read(self, text: str) -> det.Reading:
        probabilities = {label: 0.0 for label in det.LABELS}
        probabilities.update({self.tier: self.p, "none": 1.0 - self.p})
        return det.Reading(probabilities=probabilities, tier=self.tier)

    read_whole = read


def test_someone_said_to_be_safe_explains_only_an_uncertain_reading_of_them(engine: RiskEngine) -> None:
    text = "worried about my sister, she's been really down but she's seeing a therapist and says she's ok"
    assert not engine.assess(text).hits and "third_party_safe" in engine.assess(text).explained_by
    assert _assess(engine, _Sure(0.6), [text]) == "none"
    # the detector is sure: what she said does not explain it away
    assert _assess(engine, _Sure(0.95), [text]) == "third_party"
    # ... nor the person's own risk beside it
    own = "they are fine now. it's me who can't see the point of any of it zzown"
    assert "third_party_safe" in engine.assess(own).explained_by
    assert _assess(engine, _Fixed({"zzown": "possible"}), [own]) == "possible"
    # what someone said never explains risk words told as going on now
    now = "my brother has been cutting himself again and says he is fine"
    assert engine.assess(now).is_risk and "third_party_safe" not in engine.assess(now).explained_by
    assert _assess(engine, _Sure(0.6), [now]) == "third_party"
    # ... as it does risk told as history
    past = "My brother attempted to kill himself two years ago. He's doing well now"
    assert not engine.assess(past).is_risk


class _Table(det.RiskDetector):
    """A detector whose probabilities for each text (whole or sentence) are given."""

    def __init__(self, table: Dict[str, Dict[str, float]]) -> None:
        self.table = table
        self.texts = list(table)
        self.thresholds = THRESHOLDS
        self.labels = det.LABELS
        self._encoder = self  # type: ignore[assignment]

    def encode(self, text: str) -> np.ndarray:
        return np.array([float(self.texts.index(text))])

    def encode_many(self, texts: Sequence[str]) -> np.ndarray:  # a message and its sentences
        return np.vstack([self.encode(t) for t in texts])

    def probability_rows(self, embeddings: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(embeddings)[:, 0].astype(int)
        out = np.array([[self.table[self.texts[i]][label] for label in det.LABELS] for i in rows])
        return out if np.ndim(embeddings) == 2 else out[0]


WHOLE = "sertraline 100 for 3 months, no effect. keeping the rest to take all at once."
FIRST, SECOND = "sertraline 100 for 3 months, no effect.", "keeping the rest to take all at once."


@pytest.mark.parametrize(
    ("whole", "sentence", "tier"),
    [
        (_probs(clear=0.5), _probs(clear=0.99), "clear"),  # the whole message leans that way too
        (_probs(clear=0.1), _probs(clear=0.99), "possible"),  # only the sentence: asked, not blocked
        (_probs(), _probs(possible=0.8), "possible"),
        (_probs(), _probs(third_party=0.99), "none"),  # a sentence alone never raises someone else's risk
        (_probs(), _probs(), "none"),
    ],
)
def test_a_sentence_read_alone_raises_a_long_message(
    whole: Dict[str, float], sentence: Dict[str, float], tier: str
) -> None:
    reader = _Table({WHOLE: whole, FIRST: _probs(), SECOND: sentence})
    assert det.pieces_of(WHOLE) == [FIRST, SECOND]
    assert reader.read(WHOLE).tier == tier
    assert reader.read_whole(WHOLE).tier == THRESHOLDS.tier(whole)


def test_a_very_long_message_is_read_in_a_bounded_number_of_pieces() -> None:
    text = " ".join(f"This is sentence number {i} of the message." for i in range(40))
    assert len(det.pieces_of(text)) <= det.MAX_PIECES
    assert det.pieces_of("one short sentence only, nothing else") == []


def test_character_features_read_spelling_not_layout() -> None:
    idx, val = det.char_features("Wnt 2  die")
    again_idx, again_val = det.char_features("  wnt 2 die ")
    assert np.array_equal(idx, again_idx) and np.allclose(val, again_val)  # case and spacing
    assert abs(float(np.linalg.norm(val)) - 1.0) < 1e-9
    assert idx.max() < 1 << det.CHAR_BITS
    empty_idx, _ = det.char_features("")
    assert empty_idx.size == 0


def test_the_character_model_is_mixed_in_by_its_share() -> None:
    labels = len(det.LABELS)
    coef = np.zeros((labels, 1 << det.CHAR_BITS), dtype=np.float32)
    chars = det.CharModel(coef=coef, intercept=np.log(np.array([0.9, 0.025, 0.025, 0.025, 0.025])))
    assert np.allclose(chars.probabilities("anything at all"), [0.9, 0.025, 0.025, 0.025, 0.025])
    reader = _Table({"anything at all": _probs()})
    reader.chars, reader.char_weight = chars, 0.5
    assert abs(reader.read_whole("anything at all").probabilities["clear"] - 0.45) < 1e-9


def test_the_word_suicide_alone_is_a_mention_the_detector_reads(engine: RiskEngine) -> None:
    title = "is the word suicidal in that song title"
    assert _assess(engine, _Fixed({}), [title]) == "possible"  # at least asked
    assert _assess(engine, _Fixed({"title": "clear"}), [title]) == "clear"
    assert _assess(engine, _Fixed({}), ["I feel suicidal again"]) == "clear"  # the person's own state
    # people in general, not a particular person at risk
    assert _assess(engine, _Fixed({}), ["how many people die by suicide in a year in this country"]) == "none"


def test_someone_elses_risk_told_as_history_is_the_detectors_to_read(engine: RiskEngine) -> None:
    past = "my roommate was suicidal in college"
    assert _assess(engine, _Fixed({}), [past]) == "none"
    assert _assess(engine, _Fixed({"roommate": "third_party"}), [past]) == "third_party"
    # now: the lexicon's floor
    assert _assess(engine, _Fixed({}), ["my brother is suicidal"]) == "third_party"
    in_hospital = "my sister attempted suicide last week and is still in hospital"
    assert _assess(engine, _Fixed({}), [in_hospital]) == "third_party"


class _Split(_Fixed):
    """Reads a sentence alone as risk, the whole message as none (like a denial beside it)."""

    def read(self, text: str) -> det.Reading:
        self.seen.append(text)
        probabilities = {label: 1.0 if label == "possible" else 0.0 for label in det.LABELS}
        return det.Reading(probabilities=probabilities, tier="possible")

    def read_whole(self, text: str) -> det.Reading:
        self.seen.append(text)
        return det.Reading(probabilities={label: 1.0 if label == "none" else 0.0 for label in det.LABELS},
                           tier="none")


def test_a_denial_is_read_whole_not_sentence_by_sentence(engine: RiskEngine) -> None:
    # "I'm just worn out" alone has lost the "I'm not suicidal" beside it
    assert _assess(engine, _Split({}), ["I am not suicidal. I am just worn out."]) == "none"
    assert _assess(engine, _Split({}), ["I am so worn out. Nothing helps."]) == "possible"


class _ReadOnly:
    """A detector stand-in that cannot read a message whole (a channel's lexicon-only check)."""

    def read(self, text: str) -> det.Reading:
        return det.Reading(probabilities={label: 1.0 if label == "none" else 0.0 for label in det.LABELS},
                           tier="none")


@pytest.mark.parametrize(
    "text",
    [
        "what happened to that singer? i know it was suicide but was it an accident",
        "been self harm free since 2019 and i don't miss it, today was just a normal crap day",
        "my cousin tried to drown herself in 2015. she still talks about it with us",
    ],
)
def test_a_lexicon_phrase_in_a_question_or_told_as_past_is_asked_about_when_the_detector_is_sure(
    engine: RiskEngine, text: str
) -> None:
    assert engine.assess(text).is_crisis
    assert _assess(engine, _Fixed({}), [text]) == "possible"
    # the detector reads risk: the lexicon's block stands
    assert _assess(engine, _Fixed({"i": "clear", "my": "clear"}), [text]) in ("clear", "third_party")
    # no detector that reads whole (the channels' lexicon-only check): the block stands
    assert RiskAssessor(engine, _ReadOnly()).assess([text]).tier in ("clear", "third_party")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "i tried to hang myself in 2019 and tonight i will do it again",
        "my brother is suicidal",
        "cut myself in year 9 and again last night",
        # a question about method or lethality is never the detector's to doubt
        "what's a deadly amount of lithium",
        "how many mg of bupropion to od",
    ],
)
def test_the_present_keeps_the_lexicons_block_whatever_the_detector_reads(
    engine: RiskEngine, text: str
) -> None:
    assert _assess(engine, _Fixed({}), [text]) in ("clear", "third_party")


def test_safe_words_masking_a_sure_reading_of_risk_are_asked_about(engine: RiskEngine) -> None:
    text = "i'm ok. just lying here wondering why i bother"
    assert engine.assess(text).safe_affirmation and not engine.assess(text).hits
    assert _assess(engine, _Sure(0.97, "possible"), [text]) == "possible"
    # an unsure reading of someone who says they are ok is an ordinary message
    assert _assess(engine, _Sure(0.6, "possible"), [text]) == "none"
