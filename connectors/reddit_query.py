"""A Reddit search query applied to a comment we read ourselves.

Reddit's search filters posts for us, but the new-comments listing of a subreddit brings
every comment; those must match the same query. Syntax as https://www.reddit.com/wiki/search
describes it: words and "quoted phrases" (all must occur unless joined by OR), AND, OR, NOT
(and a leading -), parentheses, and `field:value` (value may be quoted). Of the fields,
`author:` and `subreddit:`/`reddit:` are checked, `title:`/`selftext:`/`text:` search the
comment's text, and the rest (site:, url:, flair:, nsfw:, self:, …) say nothing about a
comment and are left out of the query.

A word matches at the start of a word, case-insensitively: "pakket" finds "pakketten",
"acme" finds "#acme" and "u/acme_care" but not "bacme".
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Comment:
    text: str
    author: str = ""
    subreddit: str = ""


Test = Callable[[Comment], bool]
_TOKEN = re.compile(r"""\(|\)|-?(?:[\w.-]+:)?(?:"[^"]*"?|'[^']*'?)|[^\s()"']+""")
_TEXT_FIELDS = {"title", "selftext", "text", "body"}


def _words(phrase: str) -> Test | None:
    words = [re.escape(w) for w in phrase.split()]
    if not words:
        return None
    pattern = re.compile(r"(?<!\w)" + r"\W+".join(words), re.IGNORECASE)
    return lambda c: pattern.search(c.text) is not None


def _term(token: str) -> Test | None:
    field, sep, value = token.partition(":")
    if not sep or not value or not field.isalpha():
        return _words(token.strip("\"'"))
    field, value = field.lower(), value.strip("\"'").lower()
    if field == "author":
        return lambda c: c.author.lower() == value
    if field in ("subreddit", "reddit"):
        return lambda c: c.subreddit.lower() == value
    return _words(value) if field in _TEXT_FIELDS else None


def _joined(tests: list[Test | None], join: Callable[..., bool]) -> Test | None:
    """`join` (all or any) over the parts a comment can be checked against; the rest is left out."""
    kept = [t for t in tests if t is not None]
    return None if not kept else kept[0] if len(kept) == 1 else (lambda c: join(t(c) for t in kept))


class _Parser:
    """Recursive descent: query = all (OR all)*; all = unary (AND? unary)*; unary = NOT unary
    | -term | ( query ) | term. Unbalanced parentheses are forgiven, as Reddit does."""

    def __init__(self, query: str):
        self.tokens = _TOKEN.findall(query)
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def query(self, depth: int = 0) -> Test | None:
        options = [self._all(depth)]
        while self._peek() == "OR":
            self.pos += 1
            options.append(self._all(depth))
        return _joined(options, any)

    def _all(self, depth: int) -> Test | None:
        parts: list[Test | None] = []
        while (token := self._peek()) is not None and token != "OR" and not (token == ")" and depth):
            self.pos += 1
            if token in ("AND", ")"):
                continue
            parts.append(self._unary(token, depth))
        return _joined(parts, all)

    def _unary(self, token: str, depth: int) -> Test | None:
        if token == "NOT":
            following = self._peek()
            if following is None:
                return None
            self.pos += 1
            inner = self._unary(following, depth)
        elif token.startswith("-") and len(token) > 1:
            inner = _term(token[1:])
        elif token == "(":
            inner = self.query(depth + 1)
            if self._peek() == ")":
                self.pos += 1
            return inner
        else:
            return _term(token)
        return None if inner is None else (lambda c: not inner(c))


def compile_query(query: str) -> Test:
    """A test for comments; a query with nothing a comment can be checked against lets every
    comment through."""
    return _Parser(query).query() or (lambda c: True)
