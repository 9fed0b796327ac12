"""The blind tone-check replies (data/tone_replies_*.jsonl) and their fixed dev/held-out split.

The split is a hash of each text, so it never changes when replies are added or reordered:
40 % dev (the rules may be tuned on it), 60 % held-out (only measured)."""
from __future__ import annotations

import hashlib
import json
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

    @property
    def is_good(self) -> bool:
        return not self.expect

    @property
    def part(self) -> str:
        digest = int(hashlib.sha256(self.text.encode()).hexdigest(), 16)
        return "dev" if digest % 100 < DEV_SHARE else "heldout"


def replies(part: str | None = None) -> list[Reply]:
    rows = []
    for path in sorted(DATA.glob("tone_replies_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows.append(Reply(row["text"], row["language"], row["context"], tuple(row["expect"])))
    return [r for r in rows if part is None or r.part == part]
