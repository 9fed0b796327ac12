"""Finding a list's terms in a post with one dictionary look-up per token (see `TermIndex`)."""
from __future__ import annotations

import re

from app.craft.termsyntax import (
    COMPOUND_MIN_LETTERS,
    FUZZY_MIN_LETTERS,
    MAX_GAP_WORDS,
    Doc,
    Heads,
    Term,
    Word,
    within_one_edit,
)

_NOTHING: tuple = ((), ())
_CACHE_LIMIT = 50_000   # bounded: tokens of a long-running process


def _deletions(s: str) -> set[str]:
    """`s` and every string one deletion away from it (the symmetric-deletion keys)."""
    keys = {s[:i] + s[i + 1:] for i in range(len(s))}
    keys.add(s)
    return keys


class TermIndex:
    """The terms of one list, indexed for look-up by token.

    * plain single words: a dict of cores (exact hits);
    * `stem*` / `*head`: dicts of cores, looked up with the token's prefixes / suffixes of the
      cores' lengths; `*part*` (rare) linearly;
    * typos: cores of FUZZY_MIN_LETTERS or more are indexed under themselves and their
      1-deletions. Two words within one edit (substitution, insertion, deletion or swap of
      neighbours) always share such a key, so the candidates are a superset of the answer and
      the first letter and `within_one_edit` decide, exactly as the plain comparison would;
    * phrases: by their first word (exact for plain words, linearly for wildcards);
    * symbols: in the raw text (non-ASCII ones skipped for ASCII texts); hashtags: a dict;
    * patterns: each searched in the raw text;
    * compound heads (`heads`, with typo tolerance only): the token's endings of the plain
      cores' lengths looked up in the exact dict, and for stems the token's slices from
      `min_modifier` on;
    * compounds (hashtag bodies): looked up as a token without typo tolerance, and their
      slices of the lengths of cores of COMPOUND_MIN_LETTERS or more;
    * handle words: looked up as a token without typo tolerance.

    Per token the result (term numbers hit, phrases starting there) is cached, separately
    with and without typo tolerance; so are the terms found inside each compound."""

    def __init__(self, lists: tuple[tuple[tuple[Term, int], ...], ...],
                 heads: Heads | None = None) -> None:
        """`lists`: the terms of one or more lists; a term is numbered by its position in
        all lists together."""
        terms = [entry for one_list in lists for entry in one_list]
        self.heads = heads
        self.patterns: list[tuple[re.Pattern, int]] = []
        self.symbols: list[tuple[str, int]] = []
        self.ascii_symbols: list[tuple[str, int]] = []
        self.hashtags: dict[str, list[int]] = {}
        self.exact: dict[str, list[int]] = {}
        self.prefix: dict[str, list[int]] = {}
        self.suffix: dict[str, list[int]] = {}
        self.infix: list[tuple[str, int]] = []
        self.fuzzy_plain: dict[str, list[tuple[str, int]]] = {}
        self.fuzzy_stem: dict[str, list[tuple[str, int]]] = {}
        self.compound_cores: list[tuple[str, int]] = []
        self.phrase_first: dict[str, list[int]] = {}
        self.phrase_first_any: list[tuple[Word, int]] = []
        self.phrases: dict[int, Term] = {}
        self.phrase_rest: dict[int, tuple[str, ...] | None] = {}
        stem_lengths: set[int] = set()
        for i, (term, _weight) in enumerate(terms):
            if term.pattern is not None:
                self.patterns.append((term.pattern, i))
                continue
            if term.symbol is not None:
                self.symbols.append((term.symbol, i))
                if term.symbol.isascii():
                    self.ascii_symbols.append((term.symbol, i))
                continue
            if term.hashtag is not None:
                self.hashtags.setdefault(term.hashtag, []).append(i)
                continue
            single = term.single
            if single is None:
                self.phrases[i] = term
                plain = not any(w.any_start or w.any_end for w in term.words) and not any(term.gaps)
                # consecutive plain words: the following tokens must equal the other cores
                self.phrase_rest[i] = tuple(w.core for w in term.words[1:]) if plain else None
                first = term.words[0]
                if first.any_start or first.any_end:
                    self.phrase_first_any.append((first, i))
                else:
                    self.phrase_first.setdefault(first.core, []).append(i)
                continue
            core = single.core
            if len(core) >= COMPOUND_MIN_LETTERS:
                self.compound_cores.append((core, i))
            if single.any_start and single.any_end:
                self.infix.append((core, i))
            elif single.any_start:
                self.suffix.setdefault(core, []).append(i)
            elif single.any_end:
                self.prefix.setdefault(core, []).append(i)
                if len(core) >= FUZZY_MIN_LETTERS:
                    stem_lengths.update((len(core) - 1, len(core), len(core) + 1))
                    for key in _deletions(core):
                        self.fuzzy_stem.setdefault(key, []).append((core, i))
            else:
                self.exact.setdefault(core, []).append(i)
                if len(core) >= FUZZY_MIN_LETTERS:
                    for key in _deletions(core):
                        self.fuzzy_plain.setdefault(key, []).append((core, i))
        self.compound_index: dict[str, list[int]] = {}
        for core, i in self.compound_cores:
            self.compound_index.setdefault(core, []).append(i)
        self.compound_lengths = sorted({len(c) for c in self.compound_index})
        self.prefix_lengths = sorted({len(c) for c in self.prefix})
        self.suffix_lengths = sorted({len(c) for c in self.suffix})
        self.stem_lengths = sorted(stem_lengths)
        if heads is not None:
            self.head_lengths = sorted({len(c) for c in self.exact if len(c) >= heads.min_head})
            self.head_stem_lengths = [n for n in self.prefix_lengths if n >= heads.min_head]
        self.has_tokens = bool(self.exact or self.prefix or self.suffix or self.infix
                               or self.phrases)
        self.fuzzy_cache: dict[str, tuple] = {}
        self.exact_cache: dict[str, tuple] = {}
        self.compound_cache: dict[str, tuple[int, ...]] = {}

    # -- per token -------------------------------------------------------------------------

    def token_entry(self, token: str, fuzzy: bool) -> tuple:
        """(single-word terms matching `token`, phrases whose first word matches it).
        `fuzzy`: with typo tolerance and compound heads (words not listed as `not_typos`)."""
        cache = self.fuzzy_cache if fuzzy else self.exact_cache
        entry = cache.get(token)
        if entry is None:
            if len(cache) > _CACHE_LIMIT:
                cache.clear()
            entry = cache[token] = self._compute(token, fuzzy)
        return entry

    def _compute(self, token: str, fuzzy: bool) -> tuple:
        if not self.has_tokens:
            return _NOTHING
        found: set[int] = set()
        n = len(token)
        found.update(self.exact.get(token, ()))
        prefix = self.prefix
        for length in self.prefix_lengths:
            if length > n:
                break
            found.update(prefix.get(token[:length], ()))
        suffix = self.suffix
        for length in self.suffix_lengths:
            if length > n:
                break
            found.update(suffix.get(token[n - length:], ()))
        for core, i in self.infix:
            if core in token:
                found.add(i)
        heads = self.heads
        if fuzzy and heads is not None and n > heads.min_modifier:
            exact, start, not_modifiers = self.exact, heads.min_modifier, heads.not_modifiers
            for length in self.head_lengths:
                if n - length < start:
                    break
                if token[:n - length] not in not_modifiers:
                    found.update(exact.get(token[n - length:], ()))
            for length in self.head_stem_lengths:
                for at in range(start, n - length + 1):
                    hit = prefix.get(token[at:at + length])
                    if hit and token[:at] not in not_modifiers:
                        found.update(hit)
        if fuzzy:
            first_letter = token[:1]
            if n >= FUZZY_MIN_LETTERS and self.fuzzy_plain:
                for key in _deletions(token):
                    for core, i in self.fuzzy_plain.get(key, ()):
                        if (i not in found and core[0] == first_letter
                                and within_one_edit(token, core)):
                            found.add(i)
            if self.fuzzy_stem:
                # typo in a stem: the token's first k letters, k within one of the stem's length
                for k in self.stem_lengths:
                    if k > n:
                        break
                    head = token[:k]
                    for key in _deletions(head):
                        for core, i in self.fuzzy_stem.get(key, ()):
                            if (i not in found and core[0] == first_letter
                                    and within_one_edit(head, core)):
                                found.add(i)
        first = list(self.phrase_first.get(token, ()))
        for word, i in self.phrase_first_any:
            if word.matches(token):
                first.append(i)
        if not found and not first:
            return _NOTHING
        # phrases starting here: (number, the other cores or None, 1 + their count)
        starts = tuple((i, self.phrase_rest[i], len(self.phrases[i].words)) for i in first)
        return tuple(sorted(found)), starts

    def compound_entry(self, compound: str) -> tuple[int, ...]:
        """Single-word terms matching `compound` as a word without typos, or of
        COMPOUND_MIN_LETTERS or more letters inside it."""
        entry = self.compound_cache.get(compound)
        if entry is None:
            if len(self.compound_cache) > _CACHE_LIMIT:
                self.compound_cache.clear()
            found = set(self.token_entry(compound, False)[0])
            # `core in compound` for every core: the compound's slices of the cores' lengths
            index = self.compound_index
            size = len(compound)
            for length in self.compound_lengths:
                if length > size:
                    break
                for start in range(size - length + 1):
                    hit = index.get(compound[start:start + length])
                    if hit:
                        found.update(hit)
            entry = self.compound_cache[compound] = tuple(sorted(found))
        return entry

    # -- per document ----------------------------------------------------------------------

    def found(self, doc: Doc) -> set[int]:
        """Numbers of the terms found in `doc`."""
        found: set[int] = set()
        raw = doc.raw
        for symbol, i in (self.ascii_symbols if raw.isascii() else self.symbols):
            if symbol in raw:
                found.add(i)
        for pattern, i in self.patterns:
            if pattern.search(raw):
                found.add(i)
        if self.hashtags:
            for tag in doc.hashtags:
                found.update(self.hashtags.get(tag, ()))
        if self.has_tokens:
            tokens = doc.tokens
            self.found_in_tokens(tokens if type(tokens) is tuple else tuple(tokens),
                                 doc.exact_only, found)
        if self.has_tokens or self.compound_cores:
            for compound in doc.compounds:
                found.update(self.compound_entry(compound))
        if self.has_tokens:
            exact_cache = self.exact_cache
            for word in doc.handles:
                found.update((exact_cache.get(word) or self.token_entry(word, False))[0])
        return found

    def found_in_tokens(self, tokens: tuple[str, ...], exact_only: frozenset[str],
                        found: set[int]) -> None:
        fuzzy_cache, exact_cache = self.fuzzy_cache, self.exact_cache
        for pos, token in enumerate(tokens):
            if exact_only and token in exact_only:
                entry = exact_cache.get(token) or self.token_entry(token, False)
            else:
                entry = fuzzy_cache.get(token) or self.token_entry(token, True)
            singles, starts = entry
            if singles:
                found.update(singles)
            for i, rest, size in starts:
                if i in found:
                    continue
                if rest is not None:
                    if tokens[pos + 1:pos + size] == rest:
                        found.add(i)
                elif _phrase_from(self.phrases[i], tokens, pos):
                    found.add(i)


def _phrase_from(term: Term, tokens: tuple[str, ...], pos: int) -> bool:
    """Whether `term` (a phrase whose first word matches tokens[pos]) continues from there."""
    rest = len(term.words)
    words_, gaps, count = term.words, term.gaps, len(tokens)

    def follows(at: int, k: int) -> bool:
        if k == rest:
            return True
        word = words_[k]
        for j in range(at + 1, min(count, at + 2 + (MAX_GAP_WORDS if gaps[k] else 0))):
            if word.matches(tokens[j]) and follows(j, k + 1):
                return True
        return False

    return follows(pos, 1)
