"""py3langid's model with its two big tables read from disk instead of held in memory.

The model ships as one xz-compressed .npz (4.5 MB). Loaded the usual way it costs every process
~80 MB beyond NumPy: the 28 MB feature table (100,053 features × 142 languages), the 39 MB
tokenizer automaton and their decompression. Here both stay in files and are read a row or a
state at a time with `os.pread`, through the page cache that every process on the machine
shares: a post of 200 bytes costs 200 small reads of the automaton (well under a millisecond),
and the full feature table is only read for the rare near-tie (see language.py), one row per
feature of the post. Memory-mapping the files instead was measured: the kernel maps the page
cache's large folios whole, and one post faulted in 18 MB.

Unpacking streams xz → a temporary .npz → one .npy per table, so it never holds a whole table
in memory; it runs in a child process all the same (`python -m app.craft.langid_model FOLDER`),
as the xz decoder alone briefly takes ~9 MB. Each model version gets its own folder, renamed
into place when complete, so a process either finds a whole cache or makes one (when two race,
one rename wins).
"""
from __future__ import annotations

import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from array import array
from pathlib import Path
from typing import Any

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

TABLES = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
#: Rows of the feature table read at a time when copying a few of its columns.
CHUNK_ROWS = 4096


def _model_path() -> Path:
    return Path(MODEL_DIR) / MODEL_FILE


def cache_folder(cache_root: Path) -> Path:
    """Where this model's tables go: named by the model file's size and time, so an upgraded
    py3langid unpacks afresh."""
    stat = _model_path().stat()
    return cache_root / f"py3langid-{stat.st_size}-{int(stat.st_mtime)}"


def unpack(cache_root: Path) -> Path:
    """The folder holding the model's tables as .npy files, unpacked first if needed."""
    target = cache_folder(cache_root)
    if target.is_dir():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=cache_root))
    try:
        with tempfile.TemporaryFile(dir=work) as npz:
            with lzma.open(_model_path()) as source:
                shutil.copyfileobj(source, npz, length=1 << 20)
            npz.seek(0)
            with zipfile.ZipFile(npz) as archive:
                for name in TABLES:
                    with archive.open(f"{name}.npy") as member, open(work / f"{name}.npy", "wb") as out:
                        shutil.copyfileobj(member, out, length=1 << 20)
        try:
            os.rename(work, target)
        except OSError:
            if not target.is_dir():   # not a lost race: a real failure
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


class _OnDisk:
    """A 2-D .npy table read with `os.pread`: `table[i]` is the i-th value of a 1-D table (an
    int, as the automaton walk expects); `table[rows]` for an index array, those rows."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            self.shape, fortran, self.dtype = read_header(f)
            self.offset = f.tell()
        if fortran:
            raise ValueError(f"{path}: expected a C-ordered table")
        self.path = path
        self.row_items = int(np.prod(self.shape[1:], dtype=np.int64))
        self.row_bytes = self.row_items * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self._from_bytes = int.from_bytes

    def __len__(self) -> int:
        return int(self.shape[0])

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int):   # one automaton step: keep it lean
            return self._from_bytes(os.pread(self._fd, self.row_bytes, self.offset + index * self.row_bytes),
                                    "little")
        rows = np.asarray(index, dtype=np.intp)
        out = np.empty((len(rows), self.row_items), dtype=self.dtype)
        for n, row in enumerate(rows.tolist()):
            out[n] = np.frombuffer(os.pread(self._fd, self.row_bytes, self.offset + row * self.row_bytes),
                                   dtype=self.dtype)
        return out

    def columns(self, indices: list[int], chunk_rows: int = CHUNK_ROWS) -> Any:
        """`table[:, indices]` as an ordinary array, read a chunk of rows at a time."""
        out = np.empty((len(self), len(indices)), dtype=self.dtype)
        for start in range(0, len(self), chunk_rows):
            rows = min(chunk_rows, len(self) - start)
            data = os.pread(self._fd, rows * self.row_bytes, self.offset + start * self.row_bytes)
            out[start:start + rows] = np.frombuffer(data, dtype=self.dtype).reshape(rows, -1)[:, indices]
        return out


def unpacked(cache_root: Path) -> Path:
    """The folder holding the model's tables, unpacked first by a child process if needed."""
    target = cache_folder(cache_root)
    if not target.is_dir():
        done = subprocess.run([sys.executable, "-m", "app.craft.langid_model", str(cache_root)],
                              capture_output=True, text=True, check=False)
        if done.returncode or not target.is_dir():
            raise OSError(f"unpacking the language model failed: {done.stderr.strip()[-500:]}")
    return target


def _load(folder: Path, name: str) -> Any:
    return np.load(folder / f"{name}.npy", allow_pickle=False)


def disk_identifier(cache_root: Path) -> LanguageIdentifier:
    """The full identifier, its feature table and automaton read from the unpacked files; the
    small tables in memory (compact stdlib arrays, indexed as plain ints like py3langid's)."""
    folder = unpacked(cache_root)
    out_feat = _load(folder, "out_feat")
    if out_feat.dtype != np.int32 or _OnDisk(folder / "nextmove.npy").dtype.kind != "u":
        raise ValueError(f"{folder}: unexpected py3langid model layout")
    identifier = LanguageIdentifier(
        _OnDisk(folder / "ptc.npy"), _load(folder, "pc"), _load(folder, "classes").tolist(),
        _OnDisk(folder / "nextmove.npy"), array("i", out_feat.tobytes()), tk_row=array("I"))
    compact_rows(identifier, _load(folder, "nextmove_row"))
    return identifier


def compact_rows(identifier: LanguageIdentifier, rows: Any) -> None:
    """Give `identifier` its automaton's row table, and the row offsets py3langid derives from
    it, as stdlib arrays: 0.8 MB where its lists of ints take 8 MB (indexing either yields an
    int, which is all the walk over a text's bytes does with them)."""
    identifier.tk_row = array("I", np.asarray(rows, dtype=np.uint32).tobytes())
    identifier._rowbase = array("I", (np.asarray(rows, dtype=np.uint32) << 8).tobytes())


def share_rows(identifier: LanguageIdentifier, base: LanguageIdentifier) -> LanguageIdentifier:
    """A restricted identifier walks the same automaton as its full one: one copy of the rows."""
    identifier.tk_row, identifier._rowbase = base.tk_row, base._rowbase
    return identifier


def columns(table: Any, indices: list[int]) -> Any:
    """`table[:, indices]` as an ordinary array, without reading a table on disk into memory
    whole."""
    return table.columns(indices) if isinstance(table, _OnDisk) else table[:, indices]


if __name__ == "__main__":
    unpack(Path(sys.argv[1]))
