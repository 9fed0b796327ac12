"""Text helpers shared by language detection, classification and the tone check.

`fold` keeps every character in place (same length as the input), so a regex matched on the
folded text gives offsets that are valid in the original reply."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MENTION_RE = re.compile(r"(?<!\w)@[\w.\-]+(?:@[\w.\-]+)?")  # @brand and @user@server
HASHTAG_RE = re.compile(r"(?<!\w)#(\w+)")
EMOJI_RE = re.compile(
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\U000E0020-\U000E007F]+"
)
WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")  # letters/digits; keeps "e-mail", "it's"
SENTENCE_RE = re.compile(r"[^.!?\n]+[.!?]*", re.UNICODE)
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_ACRONYM_END_RE = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")   # "DHLParcel": "DHL" + "Parcel"
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if len(base) == 1 else ch


class _FoldTable(dict):
    """str.translate table filled on demand: code point → its folded character."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = self[code] = _fold_char(ch.translate(_QUOTES))
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Drop accents ("vóór" → "voor") and straighten quotes, one character for one."""
    if text.isascii():   # ASCII characters fold to themselves
        return text
    return text.translate(_FOLD_TABLE)


def split_hashtag(tag: str) -> str:
    """"#ZiggoStoring" → "Ziggo Storing"; an all-lowercase tag stays one word."""
    return _CAMEL_RE.sub(" ", tag).replace("_", " ")


def split_handle(handle: str) -> str:
    """"DHLParcel_UK" → "DHL Parcel UK": a handle's words are only matched whole, so an
    acronym glued to a word is split off too (a hashtag is also searched inside)."""
    return split_hashtag(_ACRONYM_END_RE.sub(" ", handle))


def strip_noise(text: str, *, keep_hashtags: bool = True) -> str:
    """Text without URLs, @mentions and emoji; hashtags become their (split) words, or go
    too (`keep_hashtags=False`: "#fail" says nothing about the language of a Dutch post)."""
    # Each pattern needs a character the text may lack; skipping it then changes nothing.
    if "://" in text or "www." in text.lower():
        text = URL_RE.sub(" ", text)
    if "@" in text:
        text = MENTION_RE.sub(" ", text)
    if "#" in text:
        text = HASHTAG_RE.sub(lambda m: " " + split_hashtag(m.group(1)) + " " if keep_hashtags
                              else " ", text)
    if not text.isascii():
        text = EMOJI_RE.sub(" ", text)
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """Folded, lowercased word tokens."""
    return WORD_RE.findall(fold(text).lower())


_CLAUSE_BREAK_RE = re.compile(r"[,.!?;:\n]")


def clause_numbers(text: str) -> list[int]:
    """For each token of `words(text)`, the clause it is in: a comma, full stop, "!", "?",
    ";", ":" or line break between two tokens starts a new one."""
    folded = fold(text).lower()
    numbers, clause, last_end = [], 0, 0
    for match in WORD_RE.finditer(folded):
        if _CLAUSE_BREAK_RE.search(folded, last_end, match.start()):
            clause += 1
        numbers.append(clause)
        last_end = match.end()
    return numbers


#: Where a clause ends: a comma or full stop (not one inside "14.30" or "€19,98"), "!", "?",
#: ";", a dash or a line break.
_CLAUSE_END = r"[!?;\n—–]|[.,](?!\d)|\s-\s"
_CLAUSE_END_RE = re.compile(_CLAUSE_END)
#: … and where a clause's parts end: "and" / "but" join two statements ("the money is back
#: within 3 days and I'll call you tomorrow").
_PART_END_RE = re.compile(_CLAUSE_END + r"|\b(?:and|but|en|maar)\b", re.IGNORECASE)


def clause_around(text: str, start: int, end: int, *, parts: bool = False) -> str:
    """The clause holding text[start:end] (stretched to whole clauses when the span crosses
    one); with `parts`, only the part of it between "and"s and "but"s."""
    ends = _PART_END_RE if parts else _CLAUSE_END_RE
    left = max((m.end() for m in ends.finditer(text, 0, start)), default=0)
    right = ends.search(text, end)
    return text[left:right.start() if right else len(text)]


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence(s) holding text[start:end]."""
    spans = [(a, b) for a, b in sentences(text) if a < end and b > start]
    return text[spans[0][0]:spans[-1][1]] if spans else text[start:end]


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in `text`, leading blanks excluded."""
    spans = []
    for m in SENTENCE_RE.finditer(text):
        start = m.start() + (len(m.group()) - len(m.group().lstrip()))
        if m.group().strip():
            spans.append((start, m.end()))
    return spans
