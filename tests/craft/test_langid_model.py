"""py3langid's model scored from disk in plain Python (app/craft/langid_model.py) ranks as
py3langid itself does, and a process detecting languages never imports NumPy."""
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
    "STORING BIJ DE APP, NIETS WERKT MEER", "Storing? App doet het niet sinds vanochtend",
    "Sehr gut, dank je wel for the quick help", "¿Dónde está mi paquete?", "Где моя посылка?",
    "Ово је текст на српском језику", *README_LINES,
]
LANGUAGE_SETS = (("nl", "en", "de", "fr"), ("en", "nl"), ("fr",), ("sr", "ru", "es"), ("xx", "de"))


@pytest.fixture(scope="module")
def in_memory() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE)


@pytest.fixture(scope="module")
def on_disk(tmp_path_factory) -> langid_model.DiskModel:
    return langid_model.DiskModel(langid_model.unpacked(tmp_path_factory.mktemp("cache")))


@pytest.mark.parametrize("languages", LANGUAGE_SETS)
def test_ranks_as_py3langid_does(in_memory, on_disk, languages):
    scorer = on_disk.scorer(languages)
    for text in TEXTS:
        expected = [(lang, score) for lang, score in in_memory.rank(text) if lang in languages]
        ranked = scorer.rank(text)
        assert [lang for lang, _ in ranked] == [lang for lang, _ in expected], text
        # py3langid sums in float32, we in double precision
        for (_, ours), (_, theirs) in zip(ranked, expected, strict=True):
            assert abs(ours - theirs) <= 1e-5 * abs(theirs), text


def test_a_model_without_any_of_the_languages_has_no_scorer(on_disk):
    assert on_disk.scorer(("xx", "yy")) is None


def test_a_text_without_features_is_not_ranked(on_disk):
    assert on_disk.scorer(("nl", "en")).rank("") == []


def test_columns_are_the_tables_columns(on_disk, in_memory):
    indices = [3, 17, 50, 141]
    for chunk in (1, 7 * on_disk._features.row_bytes, langid_model.CHUNK_BYTES):
        columns = on_disk._features.columns(indices, chunk_bytes=chunk)
        for column, index in zip(columns, indices, strict=True):
            assert column.tolist() == in_memory.nb_ptc[:, index].astype(float).tolist()


def test_small_tables_read_as_numpy_reads_them(on_disk, in_memory):
    assert on_disk.classes == list(in_memory.nb_classes)
    assert on_disk._priors.tolist() == in_memory.nb_pc.astype(float).tolist()


def test_a_file_that_is_no_table_is_refused(tmp_path):
    (tmp_path / "x.npy").write_bytes(b"PK\x03\x04 not a table")
    with pytest.raises(ValueError, match=r"not a \.npy file"):
        langid_model.Table(tmp_path / "x.npy")


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


def test_unusable_caches_fall_back_to_a_temporary_folder(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(language, "_model", None)
    monkeypatch.setattr(language, "_cache_root", blocker / "cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "user"))
    language._scorer.cache_clear()
    try:
        assert language.detect_language(TEXTS[0], tag=None) == "nl"
        assert caplog.text.count("cannot use the cache") == 2
        assert language._get_model().folder.parent.name.startswith("webcare-language-")
    finally:
        monkeypatch.setattr(language, "_model", None)
        language._scorer.cache_clear()


def test_a_process_detecting_languages_stays_small_and_never_imports_numpy(tmp_path):
    """The point of it all: memory that detecting languages adds to a fresh process (resident
    now, not the peak, which compiling .pyc files on a first import may set)."""
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        import app.main
        from app.craft import language
        def resident(): return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        before = resident()
        language.use_model_cache(Path({str(tmp_path)!r}))
        for text in {TEXTS[:50]!r}:
            language.detect_language(text, tag=None)
        print("numpy" in sys.modules, (resident() - before) / 2**20)
    """)
    langid_model.unpack(tmp_path)  # a first start's unpacking is measured by bench/memory.py
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    numpy_imported, added = done.stdout.split()[-2:]
    assert numpy_imported == "False"
    assert float(added) < 8, f"detecting languages added {float(added):.1f} MiB"
