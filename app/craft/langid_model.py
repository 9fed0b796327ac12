"""py3langid's model, scored in plain Python over its tables kept on disk.

Loaded the usual way the model costs every process ~80 MB (the 28 MB feature table, 100,053
features × 142 languages, the 39 MB tokenizer automaton, their decompression) and py3langid
imports NumPy, another ~15 MiB. Here neither is loaded: the model's tables are unpacked once
into .npy files and

- the automaton is walked a state at a time with `os.pread`, through the page cache every
  process on the machine shares (a post of 200 bytes: 200 small reads, well under a
  millisecond; memory-mapping was measured instead: the kernel maps the page cache's large
  folios whole, and one post faulted in 18 MB);
- a scorer for the few languages a team answers in copies just their columns of the feature
  table (0.4 MB per language), and scores a post as py3langid does: naive Bayes over the
  log1p of each feature's count, plus the language's prior. Sums are in double precision, so
  a score may differ from py3langid's float32 one in the last bits, never in rank outside a
  tie closer than that.

Unpacking streams xz → a temporary .npz → one .npy per table, so it never holds a whole table
in memory; it runs in a child process all the same (`python -m app.craft.langid_model FOLDER`),
as the xz decoder alone briefly takes ~9 MB. Each model version gets its own folder, renamed
into place when complete, so a process either finds a whole cache or makes one (when two race,
one rename wins).
"""
from __future__ import annotations

import ast
import importlib.util
import lzma
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from array import array
from pathlib import Path

TABLES = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
#: Bytes of the feature table read at a time when copying a few of its columns.
CHUNK_BYTES = 1 << 20
#: .npy element types the model uses → struct's code for one element.
STRUCT_CODES = {"<f2": "e", "<f4": "f", "<u2": "H", "<u4": "I", "<i4": "i"}


def model_file() -> Path:
    """py3langid's packed model, found without importing py3langid (which imports NumPy)."""
    spec = importlib.util.find_spec("py3langid")
    if spec is None or not spec.submodule_search_locations:
        raise OSError("py3langid is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "model.npz.xz"


def cache_folder(cache_root: Path) -> Path:
    """Where this model's tables go: named by the model file's size and time, so an upgraded
    py3langid unpacks afresh."""
    stat = model_file().stat()
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
            with lzma.open(model_file()) as source:
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


def unpacked(cache_root: Path) -> Path:
    """The folder holding the model's tables, unpacked first by a child process if needed."""
    target = cache_folder(cache_root)
    if not target.is_dir():
        done = subprocess.run([sys.executable, "-m", "app.craft.langid_model", str(cache_root)],
                              capture_output=True, text=True, check=False)
        if done.returncode or not target.is_dir():
            raise OSError(f"unpacking the language model failed: {done.stderr.strip()[-500:]}")
    return target


class Table:
    """A C-ordered .npy table read with `os.pread`; only what a caller asks for is read."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            magic = f.read(8)
            if magic[:6] != b"\x93NUMPY":
                raise ValueError(f"{path}: not a .npy file")
            length = int.from_bytes(f.read(2 if magic[6] == 1 else 4), "little")
            header = ast.literal_eval(f.read(length).decode("latin-1"))
            self.offset = f.tell()
        if header["fortran_order"]:
            raise ValueError(f"{path}: expected a C-ordered table")
        self.path, self.descr, self.shape = path, header["descr"], tuple(header["shape"])
        # '<f2' is 2 bytes; '<U3' is 3 characters of UTF-32, 12 bytes
        self.itemsize = int(self.descr[2:]) * (4 if self.descr[1] == "U" else 1)
        self.row_items = math.prod(self.shape[1:])
        self.row_bytes = self.row_items * self.itemsize
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    def __len__(self) -> int:
        return int(self.shape[0])

    def _read(self, start: int, size: int) -> bytes:
        data = os.pread(self._fd, size, self.offset + start)
        if len(data) != size:
            raise ValueError(f"{self.path}: truncated")
        return data

    def values(self) -> array:
        """The whole (small) table as a stdlib array of numbers."""
        code = STRUCT_CODES[self.descr]
        data = self._read(0, len(self) * self.row_bytes)
        if code == "e":   # array has no half floats: widen them
            return array("f", struct.unpack(f"<{len(data) // 2}e", data))
        values = array(code, data)
        if sys.byteorder == "big":   # the tables are little-endian ('<' in their descr)
            values.byteswap()
        return values

    def strings(self) -> list[str]:
        """A table of fixed-width unicode strings ('<U3': UTF-32, padded with NULs)."""
        data = self._read(0, len(self) * self.row_bytes)
        return [data[i:i + self.row_bytes].decode("utf-32-le").rstrip("\0")
                for i in range(0, len(data), self.row_bytes)]

    def item(self, index: int) -> int:
        """Element `index` of a 1-D unsigned table: one automaton step, kept lean."""
        return int.from_bytes(os.pread(self._fd, self.itemsize, self.offset + index * self.itemsize), "little")

    def columns(self, indices: list[int], chunk_bytes: int = CHUNK_BYTES) -> list[array]:
        """`table[:, i]` for each of `indices` as float arrays, read a chunk of rows at a time:
        each column's bytes are a strided slice of the chunk, so no row is unpacked whole."""
        size = self.itemsize
        # lanes[n][b]: byte b of every element of column n (an element's bytes are not adjacent
        # in a strided slice, so each byte position is gathered apart and interleaved after)
        lanes = [[bytearray() for _ in range(size)] for _ in indices]
        rows_per_chunk = max(1, chunk_bytes // self.row_bytes)
        for first in range(0, len(self), rows_per_chunk):
            rows = min(rows_per_chunk, len(self) - first)
            data = self._read(first * self.row_bytes, rows * self.row_bytes)
            for column_lanes, index in zip(lanes, indices, strict=True):
                for byte, lane in enumerate(column_lanes):
                    lane.extend(data[index * size + byte::self.row_bytes])
        out = []
        for column_lanes in lanes:
            packed = bytearray(len(self) * size)
            for byte, lane in enumerate(column_lanes):
                packed[byte::size] = lane
            out.append(array("f", struct.unpack(f"<{len(self)}{STRUCT_CODES[self.descr]}", packed)))
        return out


def encode(text: str) -> bytes:
    """The bytes py3langid walks: all-caps text lowered, NFC, UTF-8."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf-8", errors="surrogatepass")


class Scorer:
    """Naive Bayes scores of a few languages; a language the model holds twice (a script
    alias, e.g. Serbian) scores the better of its two columns, as py3langid does."""

    def __init__(self, model: DiskModel, columns: dict[str, list[tuple[float, array]]]) -> None:
        self._model = model
        self._columns = columns

    def rank(self, text: str) -> list[tuple[str, float]]:
        """The languages by score, best first; empty when the text has no feature at all."""
        weights = self._model.feature_weights(text)
        if not weights:
            return []
        scores = {language: max(prior + sum(w * column[f] for f, w in weights) for prior, column in pairs)
                  for language, pairs in self._columns.items()}
        return sorted(scores.items(), key=lambda item: item[1], reverse=True)


class DiskModel:
    """The model's automaton and small tables; the feature table stays in its file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.classes = Table(folder / "classes.npy").strings()
        self._priors = Table(folder / "pc.npy").values()
        self._features = Table(folder / "ptc.npy")
        self._nextmove = Table(folder / "nextmove.npy")
        self._output = Table(folder / "out_feat.npy").values()
        # row offsets of the automaton's states, pre-shifted by a byte's 256 moves
        self._rowbase = array("I", (row << 8 for row in Table(folder / "nextmove_row.npy").values()))
        if (self._output.typecode != "i" or self._nextmove.descr not in ("<u2", "<u4")
                or self._features.shape[1:] != (len(self.classes),)):
            raise ValueError(f"{folder}: unexpected py3langid model layout")

    def feature_weights(self, text: str) -> list[tuple[int, float]]:
        """(feature, log1p(its count)) for each feature the automaton meets in `text`."""
        step, rowbase, output = self._nextmove.item, self._rowbase, self._output
        counts: dict[int, int] = {}
        state = 0
        for byte in encode(text):
            state = step(rowbase[state] + byte)
            feature = output[state]
            if feature >= 0:
                counts[feature] = counts.get(feature, 0) + 1
        return [(feature, math.log1p(count)) for feature, count in counts.items()]

    def scorer(self, languages: tuple[str, ...]) -> Scorer | None:
        """A scorer of those of `languages` the model knows (None when it knows none)."""
        indices = [i for i, c in enumerate(self.classes) if c in languages]
        if not indices:
            return None
        columns: dict[str, list[tuple[float, array]]] = {}
        for index, column in zip(indices, self._features.columns(indices), strict=True):
            columns.setdefault(self.classes[index], []).append((self._priors[index], column))
        return Scorer(self, columns)


if __name__ == "__main__":
    unpack(Path(sys.argv[1]))
