"""Classification at ingest: language, category and urgency, stored with the mention."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Enrichment:
    language: str | None
    category: str | None
    urgency: int = 0
    urgency_reasons: tuple[str, ...] = ()


def enrich_default(*, text: str, language_tag: str | None, followers: int | None) -> Enrichment:
    return Enrichment(language=(language_tag or "").split("-")[0].lower() or None, category=None)
