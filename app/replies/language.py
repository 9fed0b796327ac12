"""Language of a post: the channel's own tag when we can use it, else py3langid."""
from __future__ import annotations

import threading
from collections.abc import Sequence

from .text import strip_noise

DEFAULT_ALLOWED = ("nl", "en", "de", "fr")
#: Below this many letters a statistical guess is noise: fall back to the team's language.
MIN_LETTERS = 8

_identifier = None
_lock = threading.Lock()


def _get_identifier():
    """One identifier for the process, loaded on first use (the model is ~10 MB)."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    return _identifier


def normalise_tag(tag: str | None) -> str | None:
    """"nl-BE" / "NL_be" → "nl"; empty or "und" → None."""
    base = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return base if base and base != "und" else None


def detect_language(
    text: str,
    *,
    tag: str | None,
    allowed: Sequence[str] = DEFAULT_ALLOWED,
    default: str | None = None,
) -> str:
    """ISO 639-1 code of `text`, always one of `allowed`.

    The channel's tag wins when it is one of `allowed`. Otherwise URLs, @mentions, emoji and
    hashtags are stripped and py3langid picks the likeliest allowed language (we
    rank all languages rather than restricting the shared model, so callers with different
    `allowed` never interfere). Posts with almost no letters get `default` (else the first
    allowed language: the team's main language)."""
    if not allowed:
        raise ValueError("allowed must name at least one language")
    allowed = [a.lower() for a in allowed]
    fallback = normalise_tag(default) if default else allowed[0]
    if fallback not in allowed:
        fallback = allowed[0]

    tagged = normalise_tag(tag)
    if tagged in allowed:
        return tagged

    cleaned = strip_noise(text, keep_hashtags=False)
    if sum(ch.isalpha() for ch in cleaned) < MIN_LETTERS:
        return fallback
    for language, _score in _get_identifier().rank(cleaned):
        if language in allowed:
            return language
    return fallback
