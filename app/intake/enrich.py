"""Classification at ingest: language, category and urgency, stored with the mention."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.craft.classify import classify
from app.craft.language import LANGUAGES, detect_language

# Followers from which a complaint counts as "large reach" (an urgency reason).
REACH_THRESHOLD = 10_000


@dataclass(frozen=True)
class Enrichment:
    language: str | None
    category: str | None
    urgency: int = 0
    urgency_reasons: tuple[str, ...] = ()


def enrich_default(*, text: str, language_tag: str | None, followers: int | None, repeat: bool = False,
                   languages: Sequence[str] = LANGUAGES) -> Enrichment:
    language = detect_language(text, tag=language_tag, allowed=languages)
    found = classify(text, language, followers=followers, reach_threshold=REACH_THRESHOLD, repeat=repeat)
    return Enrichment(language=language, category=found.category, urgency=found.urgency,
                      urgency_reasons=tuple(found.urgency_reasons))
