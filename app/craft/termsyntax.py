"""The term syntax and the words it is matched against (documented in app/craft/data/terms/common.toml).

Matching works on folded, lowercased words, so "Vóór" and "voor" are the same word. Typos are
tolerated where it is cheap: words of FUZZY_MIN_LETTERS or more match at one edit
(substitution, insertion, deletion or swap of neighbours) that keeps the first letter (typos
there are rare, and "flights"/"lights", "worden"/"borden" are real words), stems on their
leading letters. Real words one edit away from a term ("shopping" vs "shipping") are listed
per language as `not_typos` and only ever match exactly: no typo, no compound head.

Compounds: hashtag bodies and @handles are matched as words (without typo tolerance) and
searched for terms of COMPOUND_MIN_LETTERS or more inside them. Languages that glue words
together (Dutch: "sorteercentrum", "activatiecode", "pakketbezorger") can also switch on
`Heads`: a single-word term then matches the last part of a longer word too (see `Heads`)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from app.craft.text import HASHTAG_RE, MENTION_RE, fold, split_handle, strip_noise, words

if TYPE_CHECKING:
    from app.craft.termlists import TermList

GAP = "..."
MAX_GAP_WORDS = 6
FUZZY_MIN_LETTERS = 6
COMPOUND_MIN_LETTERS = 4


def within_one_edit(a: str, b: str) -> bool:
    """True when `a` and `b` differ by at most one edit (Damerau: a swap counts as one)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


@dataclass(frozen=True)
class Heads:
    """Compound heads: a plain term of `min_head` or more letters also matches a word that ends
    with it after at least `min_modifier` other characters ("code" → "activatiecode",
    "sms-code"); a stem (`stem*`) also matches from such a position on ("bezorg*" →
    "pakketbezorging"). What comes before the head must not be one of `not_modifiers`: verb
    prefixes and adverbs make other words ("ver|wacht", "nie|mand", "van|morgen"). Only for
    single-word terms, never with typo tolerance, never for `not_typos` words."""
    min_head: int = 4
    min_modifier: int = 3
    not_modifiers: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "not_modifiers", frozenset(self.not_modifiers))

    def matches(self, word: Word, token: str) -> bool:
        core = word.core
        if word.any_start or len(core) < self.min_head:
            return False   # "*head" and "*part*" match endings and insides already
        if word.any_end:
            return any(token[at:].startswith(core) and token[:at] not in self.not_modifiers
                       for at in range(self.min_modifier, len(token)))
        modifier = token[:len(token) - len(core)]
        return (len(modifier) >= self.min_modifier and token.endswith(core)
                and modifier not in self.not_modifiers)


@dataclass(frozen=True)
class Word:
    """One word of a term: `core` with optional wildcards before and/or after."""
    core: str
    any_start: bool = False
    any_end: bool = False

    @classmethod
    def parse(cls, piece: str) -> Word:
        return cls(piece.strip("*"), piece.startswith("*"), piece.endswith("*"))

    def matches(self, token: str, *, fuzzy: bool = False) -> bool:
        core = self.core
        if self.any_start and self.any_end:
            return core in token
        if self.any_start:
            return token.endswith(core)
        if self.any_end:
            if token.startswith(core):
                return True
            # typo in a stem: compare the token's first letters, allowing one edit
            n = len(core)
            return fuzzy and n >= FUZZY_MIN_LETTERS and token[:1] == core[:1] and any(
                len(token) >= k and within_one_edit(token[:k], core) for k in (n - 1, n, n + 1))
        if token == core:
            return True
        return (fuzzy and min(len(core), len(token)) >= FUZZY_MIN_LETTERS
                and token[:1] == core[:1] and within_one_edit(token, core))


@dataclass(frozen=True)
class Term:
    """A parsed term: a symbol, a hashtag, a pattern, or a sequence of words with optional
    gaps."""
    text: str
    words: tuple[Word, ...] = ()
    gaps: tuple[bool, ...] = ()      # gaps[i]: up to MAX_GAP_WORDS words may precede words[i]
    symbol: str | None = None        # no letters: matched as-is in the raw text
    hashtag: str | None = None
    pattern: re.Pattern | None = None   # "/regex/": searched in the folded, lowercased text

    @classmethod
    def parse(cls, raw: str) -> Term:
        stripped = raw.strip()
        if len(stripped) > 2 and stripped.startswith("/") and stripped.endswith("/"):
            return cls(stripped, pattern=re.compile(stripped[1:-1]))
        text = fold(raw).lower().strip()
        if text.startswith("#"):
            return cls(text, hashtag=text[1:])
        if not any(ch.isalnum() for ch in text):
            return cls(text, symbol=text)
        parsed, gaps, gap_next = [], [], False
        for piece in text.split():
            if piece == GAP:
                gap_next = True
                continue
            parsed.append(Word.parse(piece))
            gaps.append(gap_next)
            gap_next = False
        return cls(text, tuple(parsed), tuple(gaps))

    @property
    def single(self) -> Word | None:
        return self.words[0] if len(self.words) == 1 else None


@dataclass(frozen=True)
class Doc:
    """A post prepared once for matching against any number of term lists."""
    tokens: tuple[str, ...]
    compounds: tuple[str, ...]   # hashtag bodies: terms of 4+ letters are found inside them
    hashtags: frozenset[str]
    raw: str
    exact_only: frozenset[str] = frozenset()   # tokens that are real words, not typos
    #: @handles' words and each handle as one word, matched as whole words without typos: a
    #: handle is a name ("super" in "@JumboSupermarkt" is no praise, "mast" in "@Ticketmaster"
    #: no outage)
    handles: tuple[str, ...] = ()
    plain: str = ""   # strip_noise(text): `tokens` are its words

    @classmethod
    def of(cls, text: str, *, not_typos: TermList | None = None) -> Doc:
        return cls.build(text, strip_noise(text), not_typos=not_typos)

    @classmethod
    def build(cls, text: str, plain: str, *, not_typos: TermList | None = None) -> Doc:
        """`Doc.of(text)` for a caller that already has `plain` = strip_noise(text)."""
        tags = [fold(t).lower() for t in HASHTAG_RE.findall(text)] if "#" in text else []
        handles = tuple(w for m in MENTION_RE.finditer(text) for w in _handle_words(m.group())) if "@" in text else ()
        tokens = tuple(words(plain))
        exact: frozenset[str]
        if not_typos is None:
            exact = frozenset()
        else:
            cache = not_typos._index.exact_cache
            exact = frozenset(t for t in tokens
                              if (cache.get(t) or not_typos._index.token_entry(t, False))[0])
        return cls(tokens, tuple(tags), frozenset(tags), fold(text).lower(), exact, handles, plain)


@lru_cache(maxsize=4096)
def _handle_words(mention: str) -> tuple[str, ...]:
    """"@DHLParcel_NL" / "@user@server" → the handle's words ("dhl", "parcel", "nl") and, when
    there are several, the handle as one word ("dhlparcelnl": "@PostNL" is "postnl")."""
    parts = words(split_handle(mention.lstrip("@").split("@")[0]))
    return (*parts, "".join(parts)) if len(parts) > 1 else tuple(parts)
