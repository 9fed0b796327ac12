"""Which words of a mention can be the topic of a spike ("storing", "inlog", "pinautomaat").

A *term* is a word of the mention text, lowercased as written (not accent-folded, so the
queue's text filter finds it again in the stored text), that
- has at least MIN_LETTERS characters and at least one letter (order numbers are no topic);
- is not a Dutch or English stopword (app/alerts/spikes/stopwords/: function words, greetings and the
  everyday words of every complaint);
- is not one of the `ignored` words: the brand's name and accounts, the sources' search
  queries and hashtags (every mention found by a query contains it, so it rises with any busy
  quarter-hour) and `[spikes].ignore_terms`.
Hashtags count by their words ("#ZiggoStoring" counts for "ziggo" and "storing"); URLs and
@handles are not words. Each mention counts once per term, however often it repeats it.

Pure and cheap: a regex pass per mention. Terms only ever contain letters, digits and inner
hyphens or apostrophes, so a term shown in chat cannot carry markup or a ping.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from app.craft.text import WORD_RE, strip_noise

MIN_LETTERS = 3
_LETTER = re.compile(r"[^\W\d_]")
STOPWORD_LANGUAGES = ("nl", "en")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    words: set[str] = set()
    for language in STOPWORD_LANGUAGES:
        text = resources.files("app.alerts.spikes").joinpath("stopwords", f"{language}.txt").read_text(encoding="utf-8")
        for line in text.splitlines():
            if not line.startswith("#"):
                words.update(line.lower().split())
    return frozenset(words)


def text_words(text: str) -> set[str]:
    """Every distinct lowercased word of `text` (hashtags split, URLs and @handles left out)."""
    return set(WORD_RE.findall(strip_noise(text).lower()))


@lru_cache(maxsize=65_536)
def is_term(word: str) -> bool:
    # Cached: a team's vocabulary repeats, and this runs for every word of every sampled post.
    return len(word) >= MIN_LETTERS and _LETTER.search(word) is not None and word not in stopwords()


def mention_terms(text: str, ignored: frozenset[str] = frozenset()) -> set[str]:
    """The distinct terms of one mention's text (see the module docstring)."""
    return {w for w in text_words(text) if is_term(w) and w not in ignored}


def ignored_words(phrases: Iterable[str]) -> frozenset[str]:
    """The words of brand names, accounts, queries and hashtags, as `mention_terms` sees them.

    Handles and URLs are split into their parts ("acme@mastodon.social" → acme, mastodon,
    social), because a post names the brand in many ways."""
    words: set[str] = set()
    for phrase in phrases:
        words.update(WORD_RE.findall(phrase.replace("#", " ").replace("@", " ").lower()))
    return frozenset(words)
