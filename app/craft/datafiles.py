"""Read the shipped data files under app/craft/data/ (term lists, openers, tone rules, moments).

Read once per file and cached: they are part of the package, not configuration."""
from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

#: Languages with their own term, opener, tone and moment files.
SUPPORTED = ("nl", "en")
FALLBACK = "en"


@cache
def load(kind: str, name: str) -> dict[str, Any]:
    """The parsed TOML file app/craft/data/<kind>/<name>.toml."""
    path = resources.files("app.craft").joinpath("data", kind, f"{name}.toml")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def supported(language: str | None) -> str:
    """The data language to use for `language` ("nl-BE" → "nl"; unknown → English)."""
    base = (language or "").split("-")[0].split("_")[0].lower()
    return base if base in SUPPORTED else FALLBACK
