"""Language of a post: the channel's own tag when we can use it, else py3langid's model."""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from app.craft import langid_model
from app.craft.langid_model import DiskModel, Scorer
from app.craft.text import strip_noise

#: Languages the team answers in (config `[app] languages` narrows them); mentions in any
#: other language are stored with the closest of these or none.
LANGUAGES = ("nl", "en", "de", "fr")
#: Below this many letters a statistical guess is noise: fall back to the team's language.
MIN_LETTERS = 8

log = logging.getLogger(__name__)
_model: DiskModel | None = None
_lock = threading.Lock()
_cache_root: Path | None = None


def use_model_cache(folder: Path) -> None:
    """Keep the model's tables (see langid_model) in `folder`, unpacked there on first use.
    Servers and workers use their data folder; other callers the user's cache folder."""
    global _cache_root
    _cache_root = folder


def _user_cache() -> Path | None:
    try:
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "webcare"
    except RuntimeError:   # no home folder to be found
        return None


def _get_model() -> DiskModel:
    """One model for the process, opened on first use."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = _open_model()
    return _model


def _open_model() -> DiskModel:
    """The model from the configured cache; a read-only or full data folder only costs an
    unpacking elsewhere (the user's cache, else a temporary folder), never detection."""
    for root in (_cache_root, _user_cache()):
        if root is None:
            continue
        try:
            return DiskModel(langid_model.unpacked(root))
        except OSError as exc:
            log.warning("language model: cannot use the cache in %s (%s)", root, exc)
    scratch = Path(tempfile.mkdtemp(prefix="webcare-language-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    return DiskModel(langid_model.unpacked(scratch))


@lru_cache(maxsize=16)
def _scorer(allowed: tuple[str, ...]) -> Scorer | None:
    """A scorer of the languages of `allowed` the model knows (None when it knows none), one
    per set of languages, so callers with different languages never interfere."""
    return _get_model().scorer(allowed)


def _likeliest(cleaned: str, allowed: list[str]) -> str | None:
    """The allowed language the model ranks first, or None."""
    scorer = _scorer(tuple(allowed))
    ranked = scorer.rank(cleaned) if scorer else []
    return ranked[0][0] if ranked else None


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
    hashtags are stripped and py3langid's model picks the likeliest allowed language. Posts
    with almost no letters get `default` (else the first allowed language: the team's main
    language)."""
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
