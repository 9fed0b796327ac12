"""How long a text is in a channel's own counting, for reply limits.

Most channels count what people see as characters: grapheme clusters (an emoji made of
several code points is one). X counts by weight instead (twitter-text v3, the counting
behind its 280 limit; https://docs.x.com/fundamentals/counting-characters):
- every URL weighs 23 (t.co shortens it), however long it is;
- code points U+0000–U+10FF (Latin, Greek, Cyrillic, Hebrew, Arabic, …) and a few general
  punctuation ranges weigh 1, everything else (CJK, Hangul, most symbols) 2;
- an emoji weighs 2 as a whole, sequences included (👍🏽, 👩‍👩‍👧, 🇳🇱, 1️⃣);
- the text is NFC-normalised first (e + combining accent is one é).
URL detection here is simpler than twitter-text's, which knows every top-level domain: a
scheme URL or a bare `name.tld` counts as a link whenever the tld is letters. A typo like
"klaar.Dank" or "file.txt" therefore counts 23 here (10 and 8 on X): on the safe side. Only a
link to a top-level domain that does not exist (acme.example) counts more on X than here.

Both counters also give `fitting_prefix`: the code-point offset where a text stops fitting,
so the tone check can mark the overflowing part.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Protocol

import grapheme
from grapheme.grapheme_property_group import GraphemePropertyGroup, get_group


class TextCounter(Protocol):
    name: str

    def length(self, text: str) -> int: ...

    def fitting_prefix(self, text: str, limit: int) -> int:
        """Code points of the longest start of `text` within `limit` (len(text): all fits)."""
        ...


class GraphemeCounter:
    """What users see as characters (Mastodon, Bluesky, Reddit)."""

    name = "graphemes"

    def length(self, text: str) -> int:
        return grapheme.length(text)

    def fitting_prefix(self, text: str, limit: int) -> int:
        return len(grapheme.slice(text, 0, limit))


# --- X -------------------------------------------------------------------------------------------

X_URL_WEIGHT = 23
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_EMOJI_GROUPS = (GraphemePropertyGroup.EXTENDED_PICTOGRAPHIC, GraphemePropertyGroup.REGIONAL_INDICATOR)
_KEYCAP = "\u20e3"
_URL = re.compile(
    r"(?<![\w@/.:-])"                  # not inside a word, an address (jan@acme.nl) or a path
    r"(?:https?://)?"
    r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+"  # domain labels
    r"[a-z]{2,63}(?![\w-])"            # a top-level domain of letters
    r"(?::\d{1,5})?"
    r"(?:[/?#]\S*)?",
    re.IGNORECASE)
_TRAILING = ".,:;!?'\"*"  # sentence punctuation after a link is not part of it


def _url_spans(text: str) -> Iterator[tuple[int, int]]:
    for match in _URL.finditer(text):
        url = match.group()
        while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count(")") > url.count("("))):
            url = url[:-1]
        yield match.start(), match.start() + len(url)


def _cluster_weight(cluster: str) -> int:
    if _KEYCAP in cluster or any(get_group(ch) in _EMOJI_GROUPS for ch in cluster):
        return 2
    normal = unicodedata.normalize("NFC", cluster.replace("\r\n", "\n"))
    return sum(1 if any(lo <= ord(ch) <= hi for lo, hi in _LIGHT_RANGES) else 2 for ch in normal)


class XWeightedCounter:
    """X's weighted length (280 for a post)."""

    name = "x-weighted"

    def _units(self, text: str) -> Iterator[tuple[int, int]]:
        """(end offset, weight) of each counted unit: a URL or a grapheme cluster."""
        position = 0
        for start, end in [*_url_spans(text), (len(text), len(text))]:
            for cluster in grapheme.graphemes(text[position:start]):
                position += len(cluster)
                yield position, _cluster_weight(cluster)
            if end > start:
                position = end
                yield end, X_URL_WEIGHT

    def length(self, text: str) -> int:
        return sum(weight for _, weight in self._units(text))

    def fitting_prefix(self, text: str, limit: int) -> int:
        total, fits = 0, 0
        for end, weight in self._units(text):
            total += weight
            if total > limit:
                break
            fits = end
        return fits


GRAPHEMES = GraphemeCounter()
X_WEIGHTED = XWeightedCounter()


def same_text(a: str, b: str) -> bool:
    """Equal up to whitespace, which channels and our storage tidy differently."""
    return " ".join(a.split()) == " ".join(b.split())
