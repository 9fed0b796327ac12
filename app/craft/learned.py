"""The learned category model: a linear model over hashed features (app/craft/features.py).

Trained offline by tools/train_classifier.py (scikit-learn, the `[train]` extra) on the
labelled posts under tests/craft/data/, and shipped as app/craft/data/classifier.bin.gz:

    one line of JSON (categories, buckets, scale, bias, what it was trained on), "\\n",
    then int8 weights, class-major: weight of class k for bucket b at k * buckets + b.

Serving needs only the standard library: hash each feature (CRC-32, stable across
processes, unlike hash()), count buckets, scale to unit length as in training, and sum the
weights per class. The file is read on the first classification, not at import, so a
process that never classifies never holds it (0.6 MB, and up to 9 MB once every row is packed)."""
from __future__ import annotations

import gzip
import json
import math
import threading
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from app.craft.features import post_features, token_features

MODEL_FILE = "classifier.bin.gz"


#: Bits per category in a packed row (see Model.packed): room for 2^24 features in one post.
_FIELD = 32
_MASK = (1 << _FIELD) - 1


@dataclass(frozen=True)
class Model:
    categories: tuple[str, ...]
    buckets: int
    scale: float                    # weight = int8 * scale
    bias: tuple[float, ...]
    weights: tuple[array, ...]      # one int8 array of `buckets` per category
    meta: dict[str, Any]
    #: Per bucket, every category's weight + 128 in its own 32-bit field of one int: summing
    #: a post's rows is then one sum() over ints, in C, instead of one per category. Rows are
    #: packed on first use, so loading costs nothing and only buckets seen take memory.
    packed: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "packed", _PackedRows(self.weights))

    def scores(self, index: list[int]) -> list[float]:
        """Per category: bias + the weights of the buckets in `index` (a bucket once per
        feature in it), scaled as in training (counts divided by their Euclidean length)."""
        if not index:
            return list(self.bias)
        norm = math.sqrt(sum(c * c for c in Counter(index).values()))
        total, offset, factor = sum(map(self.packed.__getitem__, index)), 128 * len(index), self.scale / norm
        return [bias + factor * (((total >> (_FIELD * k)) & _MASK) - offset)
                for k, bias in enumerate(self.bias)]

    def predict(self, text: str, language: str, evidence: Sequence[str]) -> str:
        whole, tokens = post_features(text, language, evidence)
        index = [bucket(f, self.buckets) for f in whole]
        for token in tokens:
            index.extend(_token_buckets(token, self.buckets))
        scores = self.scores(index)
        return self.categories[max(range(len(scores)), key=scores.__getitem__)]


class _PackedRows(dict[int, int]):
    def __init__(self, weights: tuple[array, ...]) -> None:
        super().__init__()
        self.weights = weights

    def __missing__(self, b: int) -> int:
        row = self[b] = sum((w[b] + 128) << (_FIELD * k) for k, w in enumerate(self.weights))
        return row


def bucket(feature: str, buckets: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) % buckets


@lru_cache(maxsize=16384)
def _token_buckets(token: str, buckets: int) -> tuple[int, ...]:
    return tuple(bucket(f, buckets) for f in token_features(token))


def bucket_counts(feats: Iterable[str], buckets: int) -> Counter[int]:
    """Bucket → how often a feature fell in it: what training builds its matrix from."""
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
