"""Weighted term lists and a matcher for them (syntax documented in app/data/terms/common.toml).

Matching works on folded, lowercased words, so "Vóór" and "voor" are the same word. Typos are
tolerated where it is cheap: words of FUZZY_MIN_LETTERS or more match at one edit
(substitution, insertion, deletion or swap of neighbours), stems on their leading letters.
Real words one edit away from a term ("shopping" vs "shipping") are listed per language as
`not_typos` and only ever match exactly."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .text import HASHTAG_RE, MENTION_RE, fold, split_hashtag, strip_noise, words

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
            return fuzzy and n >= FUZZY_MIN_LETTERS and len(token) >= n - 1 and any(
                len(token) >= k and within_one_edit(token[:k], core) for k in (n - 1, n, n + 1))
        if token == core:
            return True
        return (fuzzy and min(len(core), len(token)) >= FUZZY_MIN_LETTERS
                and within_one_edit(token, core))


@dataclass(frozen=True)
class Term:
    """A parsed term: a symbol, a hashtag, or a sequence of words with optional gaps."""
    text: str
    words: tuple[Word, ...] = ()
    gaps: tuple[bool, ...] = ()      # gaps[i]: up to MAX_GAP_WORDS words may precede words[i]
    symbol: str | None = None        # no letters: matched as-is in the raw text
    hashtag: str | None = None

    @classmethod
    def parse(cls, raw: str) -> Term:
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
    compounds: tuple[str, ...]   # hashtag bodies and @handles, searched for terms inside them
    hashtags: frozenset[str]
    raw: str
    exact_only: frozenset[str] = frozenset()   # tokens that are real words, not typos

    @classmethod
    def of(cls, text: str, *, not_typos: TermList | None = None) -> Doc:
        tags = [fold(t).lower() for t in HASHTAG_RE.findall(text)]
        handles = [m.group().lstrip("@").split("@")[0] for m in MENTION_RE.finditer(text)]
        compounds = [w for h in handles for w in words(split_hashtag(h))] + tags
        tokens = tuple(words(strip_noise(text)))
        exact = frozenset(t for t in tokens if not_typos and not_typos.matches_exactly(t))
        return cls(tokens, tuple(compounds), frozenset(tags), fold(text).lower(), exact)


@dataclass(frozen=True, eq=False)
class TermList:
    """Terms with weights; `score(doc)` sums the weights of the distinct terms found."""
    terms: tuple[tuple[Term, int], ...]
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_data(cls, sections: Iterable[Mapping[str, list[str]]],
                  weights: Mapping[str, int]) -> TermList:
        """Merge `{"strong": [...], "normal": [...], "weak": [...]}` sections."""
        terms: dict[str, tuple[Term, int]] = {}
        for section in sections:
            for level, items in section.items():
                if level not in weights:
                    raise ValueError(f"unknown weight level {level!r}")
                for raw in items:
                    term = Term.parse(raw)
                    previous = terms.get(term.text, (term, 0))[1]
                    terms[term.text] = (term, max(weights[level], previous))
        return cls(tuple(terms.values()))

    def hits(self, doc: Doc) -> dict[str, int]:
        """The terms found in `doc` with their weights."""
        found = {}
        for term, weight in self.terms:
            if self._found(term, doc):
                found[term.text] = weight
        return found

    def score(self, doc: Doc, *, min_weight: int = 0) -> int:
        return sum(w for w in self.hits(doc).values() if w >= min_weight)

    def _found(self, term: Term, doc: Doc) -> bool:
        if term.symbol is not None:
            return term.symbol in doc.raw
        if term.hashtag is not None:
            return term.hashtag in doc.hashtags
        single = term.single
        if single is not None:
            if any(self._token_matches(single, t, fuzzy=t not in doc.exact_only)
                   for t in doc.tokens):
                return True
            return len(single.core) >= COMPOUND_MIN_LETTERS and any(
                single.core in c for c in doc.compounds)
        return _phrase_in(term, doc.tokens)

    def matches_exactly(self, token: str) -> bool:
        """Whether a single-word term matches `token` without typo tolerance."""
        return any(t.single is not None and t.single.matches(token) for t, _ in self.terms)

    def _token_matches(self, word: Word, token: str, *, fuzzy: bool) -> bool:
        if not fuzzy:
            return word.matches(token)
        key = (word, token)
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) > 50_000:   # bounded: tokens of a long-running process
                self._cache.clear()
            hit = self._cache[key] = word.matches(token, fuzzy=True)
        return hit


def _phrase_in(term: Term, tokens: tuple[str, ...]) -> bool:
    first, rest = term.words[0], list(zip(term.words[1:], term.gaps[1:]))

    def follows(pos: int, k: int) -> bool:
        if k == len(rest):
            return True
        word, gap = rest[k]
        for j in range(pos + 1, min(len(tokens), pos + 2 + (MAX_GAP_WORDS if gap else 0))):
            if word.matches(tokens[j]) and follows(j, k + 1):
                return True
        return False

    return any(first.matches(t) and follows(i, 0) for i, t in enumerate(tokens))

