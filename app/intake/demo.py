"""The demo source: realistic Dutch and English mentions, clearly labelled "demo".

On its first run it posts a backlog whose ages show green, amber and red at once; after that
a new mention every few seconds. Everything goes through the normal ingest path. Each
invented person posts on one channel under one handle; the `demo` channel is the demo's own
network, where replies are really posted (app/intake/demo_channel.py), and simulated
colleagues keep the queue moving (app/intake/demo_team.py)."""
from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from connectors.base import NewMention

DATA_FILE = Path(__file__).parent / "data" / "demo.toml"
# Minutes ago for the first backlog: red, red, amber, amber, green...
BACKLOG_AGES = (95, 68, 52, 47, 33, 21, 12, 6, 2)


@cache
def _library() -> dict:
    return tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))


@dataclass
class DemoFeed:
    brand: str
    rng: random.Random
    _authors: list[dict] = field(default_factory=list)  # the people still to post in this round

    def _next_author(self) -> dict:
        """Everyone posts once a round, in a shuffled order: a few people coming back, as on a real
        inbox, not one person filling the screen by chance."""
        if not self._authors:
            self._authors = list(_library()["author"])
            self.rng.shuffle(self._authors)
        return self._authors.pop()

    def _one(self, seq: int, posted_at: datetime, sample: dict | None = None) -> NewMention:
        lib = _library()
        sample = sample or self.rng.choice(lib["mention"])
        # A person always posts on their own channel with their own handle and followers.
        author = self._next_author()
        return NewMention(
            external_id=f"demo-{seq}-{self.rng.randrange(16**8):08x}", posted_at=posted_at,
            author=author["handle"], author_name=author["name"],
            text=sample["text"].replace("{brand}", self.brand), language=sample["language"],
            channel=author["channel"], followers=author.get("followers"),
            raw={"demo": True})  # invented people: no profile links (app/mentions/profiles.py)

    def backlog(self, now: datetime) -> list[NewMention]:
        samples = self.rng.sample(_library()["mention"], len(BACKLOG_AGES))  # no repeats on screen
        return [self._one(i, now - timedelta(minutes=m, seconds=self.rng.randrange(60)), sample)
                for i, (m, sample) in enumerate(zip(BACKLOG_AGES, samples, strict=True))]

    def next(self, seq: int, now: datetime) -> NewMention:
        return self._one(seq, now - timedelta(seconds=self.rng.randrange(5, 90)))
