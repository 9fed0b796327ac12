"""Weighted term lists (`TermList`) and several of them searched in one pass (`TermLists`).

What a term is and how it matches: app/craft/termsyntax.py; how a list finds its terms in a
post with one look-up per token: app/craft/termindex.py."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.craft.termindex import TermIndex
from app.craft.termsyntax import (
    COMPOUND_MIN_LETTERS,
    FUZZY_MIN_LETTERS,
    GAP,
    MAX_GAP_WORDS,
    Doc,
    Heads,
    Term,
    within_one_edit,
)

__all__ = ["COMPOUND_MIN_LETTERS", "FUZZY_MIN_LETTERS", "GAP", "MAX_GAP_WORDS", "Doc", "Heads", "Term", "TermList",
           "TermLists", "within_one_edit"]


@dataclass(frozen=True, eq=False)
class TermList:
    """Terms with weights; `score(doc)` sums the weights of the distinct terms found.

    The terms are indexed once (see `TermIndex`): finding them in a post costs a dictionary
    look-up per token, not a comparison per term and token."""
    terms: tuple[tuple[Term, int], ...]
    heads: Heads | None = None   # match single-word terms as compound heads too
    _index: TermIndex = field(init=False, repr=False)   # built from `terms` once

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", TermIndex((self.terms,), self.heads))

    @classmethod
    def from_data(cls, sections: Iterable[Mapping[str, list[str]]],
                  weights: Mapping[str, int], heads: Heads | None = None) -> TermList:
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
        return cls(tuple(terms.values()), heads)

    def hits(self, doc: Doc) -> dict[str, int]:
        """The terms found in `doc` with their weights (in the order of the list)."""
        found = self._index.found(doc)
        if not found:
            return {}
        terms = self.terms
        return {terms[i][0].text: terms[i][1] for i in sorted(found)}

    def score(self, doc: Doc, *, min_weight: int = 0) -> int:
        return sum(w for w in self.hits(doc).values() if w >= min_weight)

    def matches_exactly(self, token: str) -> bool:
        """Whether a single-word term matches `token` without typo tolerance."""
        return bool(self._index.token_entry(token, False)[0])


class TermLists:
    """Several term lists searched in one pass: `hits(doc)` gives, per list, what that list's
    own `hits(doc)` gives, at the cost of one look-up per token for all lists together."""

    def __init__(self, lists: Iterable[TermList]) -> None:
        self.lists = tuple(lists)
        heads = {tl.heads for tl in self.lists}
        if len(heads) > 1:
            raise ValueError("term lists searched together must agree on compound heads")
        self._index = TermIndex(tuple(tl.terms for tl in self.lists), heads.pop() if heads else None)
        self._owner = [n for n, tl in enumerate(self.lists) for _ in tl.terms]
        self._text = [term.text for tl in self.lists for term, _ in tl.terms]
        self._weight = [weight for tl in self.lists for _, weight in tl.terms]

    def hits(self, doc: Doc) -> list[dict[str, int]]:
        found: list[dict[str, int]] = [{} for _ in self.lists]
        owner, text, weight = self._owner, self._text, self._weight
        for g in sorted(self._index.found(doc)):
            found[owner[g]][text[g]] = weight[g]
        return found
