"""The learned category model: a linear model over hashed features (app/craft/features.py).

Trained offline by tools/train_classifier.py (scikit-learn, the `[train]` extra) on the
labelled posts under tests/craft/data/, and shipped as app/craft/data/classifier.bin.gz:

    one line of JSON (categories, buckets, scale, bias, what it was trained on), "\\n",
    then int8 weights, class-major: weight of class k for bucket b at k * buckets + b.

Serving needs only the standard library: hash each feature (CRC-32, stable across
processes, unlike hash()), sum the weights per class, and divide by the square root of the
number of features as in training. The file is read on the first classification, not at
import, so a process that never classifies never holds it (3 MB: the weights, packed as rows)."""
from __future__ import annotations

import gzip
import json
import math
import threading
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from app.craft.features import post_features, token_features

MODEL_FILE = "classifier.bin.gz"


#: Bits per category in a packed row (see Model.packed): room for 2^24 features in one post.
_FIELD = 32
_MASK = (1 << _FIELD) - 1
#: An int8 weight's byte → weight + 128 as an unsigned byte (flipping the sign bit does it).
_PLUS_128 = bytes(b ^ 0x80 for b in range(256))


@dataclass(frozen=True)
class Model:
    categories: tuple[str, ...]
    buckets: int
    scale: float                    # weight = int8 * scale
    bias: tuple[float, ...]
    weights: tuple[array, ...]      # one int8 array of `buckets` per category
    meta: dict[str, Any]
    #: Per bucket, every category's weight + 128 in its own 32-bit little-endian field: one
    #: int.from_bytes gives a bucket's row as one int, and summing a post's rows is then one
    #: sum() over ints instead of one per category.
    packed: bytes = field(init=False, repr=False, compare=False)
    token_rows: Callable[[str], tuple[int, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        width, step = _FIELD // 8, _FIELD // 8 * len(self.weights)
        packed = bytearray(self.buckets * step)
        for k, w in enumerate(self.weights):
            packed[k * width::step] = w.tobytes().translate(_PLUS_128)
        object.__setattr__(self, "packed", bytes(packed))
        # A token's rows summed once: a post then adds one int per token, not one per n-gram.
        object.__setattr__(self, "token_rows", lru_cache(maxsize=16384)(self._token_rows))

    def scores(self, total: int, n: int) -> list[float]:
        """Per category: bias + the weights of `n` features whose packed rows sum to `total`,
        divided by sqrt(n) as in training (every feature counts 1, a repeated one again)."""
        if not n:
            return list(self.bias)
        offset, factor = 128 * n, self.scale / math.sqrt(n)
        return [bias + factor * (((total >> (_FIELD * k)) & _MASK) - offset)
                for k, bias in enumerate(self.bias)]

    def predict(self, text: str, language: str, evidence: Sequence[str]) -> str:
        whole, tokens = post_features(text, language, evidence)
        row, buckets = self.row, self.buckets
        total, n = sum(row(bucket(f, buckets)) for f in whole), len(whole)
        for token in tokens:
            rows, count = self.token_rows(token)
            total += rows
            n += count
        scores = self.scores(total, n)
        return self.categories[max(range(len(scores)), key=scores.__getitem__)]

    def row(self, b: int) -> int:
        step = _FIELD // 8 * len(self.weights)
        return int.from_bytes(self.packed[b * step:(b + 1) * step], "little")

    def _token_rows(self, token: str) -> tuple[int, int]:
        feats = token_features(token)
        return sum(self.row(bucket(f, self.buckets)) for f in feats), len(feats)


def bucket(feature: str, buckets: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) % buckets


def bucket_counts(feats: Iterable[str], buckets: int) -> Counter[int]:
    """Bucket → how often a feature fell in it: what training builds its matrix from (each
    count divided by sqrt(number of features), as Model.scores does)."""
    return Counter(bucket(f, buckets) for f in feats)


def dumps(model: Model) -> bytes:
    header = {"categories": list(model.categories), "buckets": model.buckets,
              "scale": model.scale, "bias": list(model.bias), "meta": model.meta}
    body = b"".join(w.tobytes() for w in model.weights)
    raw = json.dumps(header, sort_keys=True).encode() + b"\n" + body
    return gzip.compress(raw, compresslevel=9, mtime=0)   # mtime 0: same bytes every build


def loads(data: bytes) -> Model:
    raw = gzip.decompress(data)
    head, _, body = raw.partition(b"\n")
    header = json.loads(head)
    n, k = header["buckets"], len(header["categories"])
    if len(body) != n * k:
        raise ValueError(f"{MODEL_FILE}: {len(body)} weight bytes, expected {n * k}")
    weights = tuple(array("b", body[i * n:(i + 1) * n]) for i in range(k))
    return Model(tuple(header["categories"]), n, header["scale"], tuple(header["bias"]),
                 weights, header["meta"])


_model: Model | None = None
_lock = threading.Lock()


def model() -> Model:
    """The shipped model, read once per process on first use."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                path = resources.files("app.craft").joinpath("data", MODEL_FILE)
                _model = loads(path.read_bytes())
    return _model
