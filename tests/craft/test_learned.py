"""The learned category model (app/craft/learned.py): the shipped file is what the training
script makes from the labelled sets, never from the fresh held-out set, and serving it stays
small, lazy and stable across processes."""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import math
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from app.craft import CATEGORIES, classify
from app.craft.learned import MODEL_FILE, bucket_counts, dumps, loads, model

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = resources.files("app.craft").joinpath("data", MODEL_FILE)


def training_script():
    spec = importlib.util.spec_from_file_location("train_classifier", ROOT / "tools" / "train_classifier.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_model_is_what_the_training_script_makes():
    """Retrain from scratch (fixed seed, pinned scikit-learn): the same bytes. A changed term
    list, feature or training post without a retrained model fails here."""
    assert dumps(training_script().train()) == SHIPPED.read_bytes(), (
        "retrain: .venv/bin/python tools/train_classifier.py")


def test_fresh_heldout_set_is_never_trained_on():
    script = training_script()
    assert "fresh_heldout_posts.jsonl" not in script.TRAINING_SETS
    trained = {p["text"].strip().lower() for p in script.load_posts()}
    with open(script.DATA / "fresh_heldout_posts.jsonl", encoding="utf-8") as f:
        fresh = [json.loads(line)["text"].strip().lower() for line in f if line.strip()]
    assert not trained.intersection(fresh)
    recorded = model().meta["trained_on"]
    assert recorded == {name: hashlib.sha256((script.DATA / name).read_bytes()).hexdigest()
                        for name in script.TRAINING_SETS}


def test_model_file_is_small_and_complete():
    data = SHIPPED.read_bytes()
    assert len(data) < 1_000_000
    loaded = loads(data)
    assert loaded.categories == CATEGORIES
    assert len(loaded.weights) == len(CATEGORIES)
    assert all(len(w) == loaded.buckets for w in loaded.weights)
    with pytest.raises(ValueError, match="weight bytes"):
        # a file whose weights were cut short is refused, not misread
        loads(gzip.compress(gzip.decompress(data)[:-1]))


def test_features_hash_the_same_in_every_process():
    """CRC-32, not hash(): Python salts str hashes per process (PYTHONHASHSEED)."""
    assert bucket_counts(["w=pakket", "w=pakket", "c= pak"], 1 << 16) == {44618: 2, 34104: 1}
    code = ("from app.craft import classify; "
            "print(classify('Mijn pakje is nog altijd niet toegekomen', 'nl').category)")
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             cwd=ROOT, env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"})
        assert out.stdout.strip() == "delivery"


def test_model_is_read_on_first_classification_only():
    """A process that never classifies never holds the weights; loading them costs little."""
    code = """
import resource
import app.craft, app.craft.learned as learned
assert learned._model is None
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
learned.model()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert int(out.stdout) < 10   # MB of peak memory the model adds


def test_every_packed_row_adds_up_to_the_plain_weights():
    """A packed row holds every category's weight, no field spilling into the next, for the
    lowest and highest weights too."""
    loaded = model()
    for b in (0, 1, loaded.buckets - 1, *range(0, loaded.buckets, 997)):
        # a bucket met three times: the fields add up without carrying into the next
        want = [bias + loaded.scale / math.sqrt(3) * 3 * w[b]
                for bias, w in zip(loaded.bias, loaded.weights, strict=True)]
        assert loaded.scores(3 * loaded.row(b), 3) == pytest.approx(want)
    extremes = {min(w) for w in loaded.weights} | {max(w) for w in loaded.weights}
    assert -127 in extremes or 127 in extremes   # the scale puts the largest weight at ±127


def test_empty_and_odd_posts_get_a_category():
    for text in ("", "🙂🙂", "@brand", "!!!", "https://example.org/x"):
        assert classify(text, "en").category in CATEGORIES
