"""What a spike is about: one of the categories, or a term from the mention text.

The same `Topic` names the spike in its dedupe key and chat thread (`subject`), links to the
queue filtered to it (`queue_filter`), and picks the mentions a public statement answers
(`covers`), so the alert, the queue and the statement always mean the same mentions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from app.alerts.spikes.terms import text_words
from app.craft.text import WORD_RE

TERM_PREFIX = "term:"


@dataclass(frozen=True, slots=True)
class Topic:
    kind: Literal["category", "term"]
    name: str

    @classmethod
    def category(cls, name: str) -> Topic:
        return cls("category", name)

    @classmethod
    def term(cls, name: str) -> Topic:
        return cls("term", name.lower())

    @classmethod
    def given(cls, category: str | None, term: str | None) -> Topic:
        """The topic a person names (API, form): exactly one of a category or a single word."""
        if bool(category) == bool(term):
            raise ValueError("give either a category or a term")
        if category:
            return cls.category(category)
        if not WORD_RE.fullmatch(term.lower()):
            raise ValueError("a term is one word")
        return cls.term(term)

    @classmethod
    def from_subject(cls, subject: str) -> Topic:
        if subject.startswith(TERM_PREFIX):
            return cls.term(subject.removeprefix(TERM_PREFIX))
        return cls.category(subject)

    @property
    def subject(self) -> str:
        """`delivery` or `term:storing`: categories keep their bare name (the keys stay short)."""
        return self.name if self.kind == "category" else TERM_PREFIX + self.name

    @property
    def label(self) -> str:
        return self.name if self.kind == "category" else f"“{self.name}”"

    @property
    def queue_filter(self) -> dict[str, str]:
        """The dashboard's filter showing this topic's mentions (`/?category=` or `/?q=`)."""
        return {"category": self.name} if self.kind == "category" else {"q": self.name}

    @property
    def queue_query(self) -> str:
        return urlencode(self.queue_filter)

    def covers(self, category: str | None, text: str) -> bool:
        """Whether a mention with this category and text belongs to the topic. A term must be
        a whole word: the queue's text filter (a substring) is only the SQL pre-selection."""
        if self.kind == "category":
            return category == self.name
        return self.name in text_words(text)
