"""The blind tone-check replies and their fixed dev/held-out split, per language.

A language with a fresh blind set (data/tone_fresh_<lang>.jsonl) is measured on that file alone:
it is its held-out part, and every reply in data/tone_replies_<lang>.jsonl is dev (tuning data;
the older held-out part had been looked at too often to stay an honest estimate). A language
without one splits tone_replies_<lang>.jsonl by a hash of each text, so the split never changes
when replies are added or reordered: 40 % dev (the rules may be tuned on it), 60 % held-out
(only measured)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"
DEV_SHARE = 40   # percent


@dataclass(frozen=True)
class Reply:
    text: str
    language: str
    context: str            # what the customer wrote: complaint | praise | question
    expect: tuple[str, ...]  # the rule a bad reply breaks; () for a good reply
    part: str               # dev | heldout

    @property
    def is_good(self) -> bool:
        return not self.expect


def fresh_file(language: str) -> Path:
    return DATA / f"tone_fresh_{language}.jsonl"


def hash_part(text: str) -> str:
    digest = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    return "dev" if digest % 100 < DEV_SHARE else "heldout"


def _read(path: Path, part_of: Callable[[str], str]) -> list[Reply]:
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return [Reply(row["text"], row["language"], row["context"], tuple(row["expect"]), part_of(row["text"]))
            for row in rows]


def replies(part: str | None = None) -> list[Reply]:
    rows = []
    for path in sorted(DATA.glob("tone_replies_*.jsonl")):
        fresh = fresh_file(path.stem.removeprefix("tone_replies_"))
        if fresh.exists():
            rows += _read(path, lambda _text: "dev") + _read(fresh, lambda _text: "heldout")
        else:
            rows += _read(path, hash_part)
    return [r for r in rows if part is None or r.part == part]
