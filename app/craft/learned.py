"""The learned category model: a linear model over hashed features (app/craft/features.py).

Trained offline by tools/train_classifier.py (scikit-learn, the `[train]` extra) on the
labelled posts under tests/craft/data/, and shipped as app/craft/data/classifier.bin.gz:

    one line of JSON (categories, buckets, scale, bias, what it was trained on), "\\n",
    then int8 weights, class-major: weight of class k for bucket b at k * buckets + b.

Serving needs only the standard library: hash each feature (CRC-32, stable across
processes, unlike hash()), count buckets, scale to unit length as in training, and sum the
weights per class. The file is read on the first classification, not at import, so a
process that never classifies never holds it (about 0.6 MB)."""
from __future__ import annotations

import gzip
import json
import math
import threading
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from app.craft.features import features

MODEL_FILE = "classifier.bin.gz"


@dataclass(frozen=True)
class Model:
    categories: tuple[str, ...]
    buckets: int
    scale: float                    # weight = int8 * scale
    bias: tuple[float, ...]
    weights: tuple[array, ...]      # one int8 array of `buckets` per category
    meta: dict[str, Any]

    def scores(self, feats: Iterable[str]) -> list[float]:
        counts = bucket_counts(feats, self.buckets)
        if not counts:
            return list(self.bias)
        norm = math.sqrt(sum(c * c for c in counts.values()))
        # Most counts are 1: list a bucket once per occurrence and let sum(map(...)) run in C.
        index = [b for b, c in counts.items() for _ in range(c)]
        factor = self.scale / norm
        return [bias + factor * sum(map(w.__getitem__, index))
                for bias, w in zip(self.bias, self.weights, strict=True)]

    def predict(self, text: str, language: str, evidence: Sequence[str]) -> str:
        scores = self.scores(features(text, language, evidence))
        return self.categories[max(range(len(scores)), key=scores.__getitem__)]


def bucket_counts(feats: Iterable[str], buckets: int) -> Counter[int]:
    """Bucket → how often a feature fell in it; training builds its matrix with this too."""
    return Counter(zlib.crc32(f.encode("utf-8")) % buckets for f in feats)


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
