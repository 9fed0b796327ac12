"""Language of a post: the channel's own tag when we can use it, else py3langid."""
from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from app.craft.text import strip_noise

#: Languages the team answers in (config `[app] languages` narrows them); mentions in any
#: other language are stored with the closest of these or none.
LANGUAGES = ("nl", "en", "de", "fr")
#: Below this many letters a statistical guess is noise: fall back to the team's language.
MIN_LETTERS = 8

log = logging.getLogger(__name__)
_identifier = None
_lock = threading.Lock()
_cache_root: Path | None = None


def use_model_cache(folder: Path) -> None:
    """Read the model's big tables from files in `folder` (see langid_model), unpacked there on
    first use. Servers and workers call this; without it the model loads into memory."""
    global _cache_root
    _cache_root = folder


def _get_identifier():
    """One identifier for the process, loaded on first use: NumPy and the model cost ~95 MB
    when loaded into the process, ~25 MB when its big tables stay on disk."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                _identifier = _load_identifier()
    return _identifier


def _load_identifier():
    if _cache_root is not None:
        from app.craft.langid_model import disk_identifier

        try:
            return disk_identifier(_cache_root)
        except OSError as exc:   # a read-only or full data folder: slower to start, not broken
            log.warning("language model: cannot use the cache in %s (%s); loading it into memory",
                        _cache_root, exc)
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


#: Restricted and full scores are the same float32 sums, but sums of a different shape can
#: differ in the last bits (at most ~n·6e-8 of the score for n features, n ≤ the text's bytes).
#: When the two best allowed languages are closer than TIE_MARGIN per byte (at least 1000
#: bytes) of the score, the full ranking decides, exactly as without restriction.
TIE_MARGIN = 1e-6


@lru_cache(maxsize=16)
def _restricted(allowed: tuple[str, ...]):
    """An identifier that only scores the languages of `allowed` py3langid knows (None when
    it knows none of them), sharing the shared model's tables."""
    from py3langid.langid import LanguageIdentifier

    from app.craft.langid_model import columns, share_rows

    base = _get_identifier()   # never restricted itself: its tables are the full model
    known = set(allowed)
    indices = [i for i, c in enumerate(base.nb_classes) if c in known]
    if not indices:
        return None
    # What py3langid's set_languages does, with the columns copied without mapping in the
    # whole table (`columns`).
    return share_rows(LanguageIdentifier(columns(base.nb_ptc, indices), base.nb_pc[indices],
                                         [base.nb_classes[i] for i in indices],
                                         base.tk_nextmove, base.tk_output, tk_row=()), base)


def _likeliest(cleaned: str, allowed: list[str]) -> str | None:
    """The allowed language ranked first by py3langid over all languages, or None."""
    identifier = _restricted(tuple(allowed))
    if identifier is None:
        return None
    ranked = identifier.rank(cleaned)
    if len(ranked) < 2:
        return ranked[0][0]
    (best, score), (_, runner_up) = ranked[0], ranked[1]
    margin = TIE_MARGIN * max(1000, 4 * len(cleaned)) * max(1.0, abs(score))
    if score - runner_up > margin:
        return best
    # (near) tie: rank all languages, as the full model orders them
    for language, _score in _get_identifier().rank(cleaned):
        if language in allowed:
            return language
    return None


_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _letters(text: str) -> int:
    """sum(ch.isalpha() for ch in text), counting the ASCII part in bulk."""
    data = text.encode("ascii", "ignore")
    count = len(data) - len(data.translate(None, _ASCII_LETTERS))
    if len(data) != len(text):
        count += sum(ch.isalpha() for ch in text if not ch.isascii())
    return count


def normalise_tag(tag: str | None) -> str | None:
    """"nl-BE" / "NL_be" → "nl"; empty or "und" → None."""
    base = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return base if base and base != "und" else None


def detect_language(
    text: str,
    *,
    tag: str | None,
    allowed: Sequence[str] = LANGUAGES,
    default: str | None = None,
) -> str:
    """ISO 639-1 code of `text`, always one of `allowed`.

    The channel's tag wins when it is one of `allowed`. Otherwise URLs, @mentions, emoji and
    hashtags are stripped and py3langid picks the likeliest allowed language (one restricted
    identifier per `allowed`, sharing the model's tables, so callers with different `allowed`
    never interfere). Posts with almost no letters get `default` (else the first
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
    if _letters(cleaned) < MIN_LETTERS:
        return fallback
    return _likeliest(cleaned, allowed) or fallback
