"""The language model read from disk (app/craft/langid_model.py) decides exactly as the model
loaded into memory, and costs a process a fraction of its memory."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from app.craft import langid_model, language

ROOT = Path(__file__).resolve().parents[2]
README_LINES = [line.strip() for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
                if len(line) > 30][:300]
TEXTS = [
    "Mijn pakket is nog steeds niet bezorgd, wat is er aan de hand?",
    "My invoice was charged twice and nobody answers the phone",
    "Warum ist die Bestellung immer noch nicht angekommen?",
    "Ma commande est arrivée cassée, je voudrais un remboursement",
    "ok", "😡😡😡 #fail", "Thx!! 👍", "Storing? App doet het niet sinds vanochtend",
    "Sehr gut, dank je wel for the quick help", "¿Dónde está mi paquete?", "Где моя посылка?",
    *README_LINES,
]


@pytest.fixture(scope="module")
def in_memory() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE)


@pytest.fixture(scope="module")
def on_disk(tmp_path_factory) -> LanguageIdentifier:
    return langid_model.disk_identifier(tmp_path_factory.mktemp("cache"))


def test_full_ranking_is_identical(in_memory, on_disk):
    for text in TEXTS:
        assert on_disk.rank(text) == in_memory.rank(text), text


def test_restricted_detection_is_identical(tmp_path, monkeypatch):
    def detect_all() -> list[str]:
        language._restricted.cache_clear()
        return [language.detect_language(text, tag=None, allowed=allowed)
                for allowed in (("nl", "en", "de", "fr"), ("en", "nl"), ("fr",), ("xx", "de")) for text in TEXTS]

    monkeypatch.setattr(language, "_identifier", None)
    monkeypatch.setattr(language, "_cache_root", None)
    expected = detect_all()
    monkeypatch.setattr(language, "_identifier", None)
    language.use_model_cache(tmp_path)
    assert detect_all() == expected
    assert isinstance(language._get_identifier().nb_ptc, langid_model._OnDisk)
    language._restricted.cache_clear()


def test_columns_read_from_disk_equal_numpy_indexing(in_memory, on_disk):
    indices = [3, 17, 50, 141]
    assert (langid_model.columns(on_disk.nb_ptc, indices) == in_memory.nb_ptc[:, indices]).all()
    assert (on_disk.nb_ptc.columns(indices, chunk_rows=7) == in_memory.nb_ptc[:, indices]).all()


def test_unpacks_once_and_leaves_no_partial_folder(tmp_path):
    first = langid_model.unpack(tmp_path)
    stamp = (first / "ptc.npy").stat().st_mtime_ns
    assert langid_model.unpack(tmp_path) == first
    assert (first / "ptc.npy").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]
    assert sorted(p.stem for p in first.iterdir()) == sorted(langid_model.TABLES)


def test_a_racing_unpack_that_loses_the_rename_still_answers(tmp_path, monkeypatch):
    winner = langid_model.unpack(tmp_path / "other")
    real_rename = langid_model.os.rename

    def lose(src, dst):   # another process renamed its copy into place first
        real_rename(winner, dst)
        raise OSError("Directory not empty")

    monkeypatch.setattr(langid_model.os, "rename", lose)
    folder = langid_model.unpack(tmp_path)
    assert folder.is_dir() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unusable_cache_falls_back_to_memory(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(language, "_identifier", None)
    monkeypatch.setattr(language, "_cache_root", blocker / "cache")
    language._restricted.cache_clear()
    assert language.detect_language(TEXTS[0], tag=None) == "nl"
    assert "cannot use the cache" in caplog.text
    monkeypatch.setattr(language, "_identifier", None)
    language._restricted.cache_clear()


def test_a_process_detecting_languages_from_disk_stays_small(tmp_path):
    """The point of it all: memory that detecting languages adds to a fresh process (resident
    now, not the peak, which compiling .pyc files on a first import may set)."""
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        import app.main
        from app.craft import language
        def resident(): return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        before = resident()
        if sys.argv[1] == "disk":
            language.use_model_cache(Path({str(tmp_path)!r}))
        for text in {TEXTS[:50]!r}:
            language.detect_language(text, tag=None)
        print((resident() - before) / 2**20)
    """)
    langid_model.unpack(tmp_path)  # a first start's unpacking is measured by bench/memory.py

    def added(mode: str) -> float:
        done = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, cwd=ROOT,
                              check=True)
        return float(done.stdout.split()[-1])

    disk, memory = added("disk"), added("memory")
    assert disk < 25, f"detecting from disk added {disk:.1f} MiB"
    assert memory > 3 * disk, (disk, memory)
