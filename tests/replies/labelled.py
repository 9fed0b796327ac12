"""Loading the labelled post sets under tests/replies/data/."""
import json
from pathlib import Path

DATA = Path(__file__).parent / "data"


def load_posts(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
