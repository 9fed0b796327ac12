"""AI draft test helpers: the [assist] table pointing at the fake model server, its knowledge
file, and a good and a bad draft as the tone check sees them."""
from __future__ import annotations

from tests.support.app import DEFAULT_TOML
from tests.support.fake_openai import MODEL

KNOWLEDGE = "Onze klantenservice is bereikbaar van 8:00 tot 22:00. Storingen: status.acme.example."
GOOD = "Wat vervelend dat uw pakket nog niet is bezorgd, sorry! Ik zoek het uit en laat het u vóór 16:00 weten. ^A"
BAD = "U bent de eerste die hierover klaagt. Wij komen erop terug."


def assist_toml(base_url: str, knowledge_file: str, *, timeout: float = 2.0) -> str:
    return DEFAULT_TOML + f"""
[assist]
base_url = "{base_url}/v1"
model = "{MODEL}"
timeout_seconds = {timeout}
knowledge_file = "{knowledge_file}"
allow_private_networks = true
"""
