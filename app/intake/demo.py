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
    _decks: dict[str, list[dict]] = field(default_factory=dict)  # what is still to come this round

    def _deal(self, kind: str) -> dict:
        """The next post text or person from a shuffled deck: everything once a round, so a few
        people and complaints come back, as on a real inbox, not one filling the screen by chance."""
        deck = self._decks.setdefault(kind, [])
        if not deck:
            deck.extend(_library()[kind])
            self.rng.shuffle(deck)
        return deck.pop()

    def _one(self, seq: int, posted_at: datetime) -> NewMention:
        sample = self._deal("mention")
        # A person always posts on their own channel with their own handle and followers.
        author = self._deal("author")
        return NewMention(
            external_id=f"demo-{seq}-{self.rng.randrange(16**8):08x}", posted_at=posted_at,
            author=author["handle"], author_name=author["name"],
            text=sample["text"].replace("{brand}", self.brand), language=sample["language"],
            channel=author["channel"], followers=author.get("followers"),
            raw={"demo": True})  # invented people: no profile links (app/mentions/profiles.py)

    def backlog(self, now: datetime) -> list[NewMention]:
        return [self._one(i, now - timedelta(minutes=m, seconds=self.rng.randrange(60)))
                for i, m in enumerate(BACKLOG_AGES)]

    def next(self, seq: int, now: datetime) -> NewMention:
        return self._one(seq, now - timedelta(seconds=self.rng.randrange(5, 90)))
