"""The features the learned classifier sees in a post (app/craft/learned.py).

Training (tools/train_classifier.py) and serving call the same function, so what the model
learned is what it is given. Features are strings; the model hashes them into buckets."""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

from app.craft.text import EMOJI_RE, HASHTAG_RE, MENTION_RE, URL_RE, fold, split_hashtag

_TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[!?€$£]")
_REPEAT_RE = re.compile(r"(\w)\1{2,}")   # "sooooo" → "soo": stretched words look alike
#: Character n-grams of these lengths, taken inside each word padded with spaces: they catch
#: stems, compounds ("pakketbezorger"), typos and inflections that whole words miss.
CHAR_NGRAMS = (3, 4, 5)


def features(text: str, language: str, evidence: Sequence[str]) -> list[str]:
    """Word unigrams and bigrams, character n-grams, emoji, a few marks of form, the language,
    and what the term lists found (`evidence`: app/craft/classify.py's rule_evidence)."""
    whole, tokens = post_features(text, language, evidence)
    return whole + [f for token in tokens for f in token_features(token)]


def post_features(text: str, language: str, evidence: Sequence[str]) -> tuple[list[str], list[str]]:
    """The features of the post as a whole, and its tokens: what each token adds
    (token_features) is the same in every post, so serving caches it per token."""
    plain = text
    if "://" in plain or "www." in plain.lower():
        plain = URL_RE.sub(" ", plain)
    mentions = MENTION_RE.findall(plain) if "@" in plain else []
    if mentions:
        plain = MENTION_RE.sub(" ", plain)
    if "#" in plain:
        plain = HASHTAG_RE.sub(lambda m: " " + split_hashtag(m.group(1)) + " ", plain)
    emoji = EMOJI_RE.findall(plain) if not plain.isascii() else []
    if emoji:
        plain = EMOJI_RE.sub(" ", plain)
    tokens = _TOKEN_RE.findall(_REPEAT_RE.sub(r"\1\1", fold(plain).lower()))

    out = [f"lang={language}", *evidence, *(f"{e}|{language}" for e in evidence if e.startswith("rule="))]
    if mentions:
        out.append("has_mention")
    if _shouting(plain):
        out.append("shouting")
    if not tokens:
        out.append("no_words")
    out.append(f"len={min(len(tokens) // 5, 8)}")
    if tokens:
        out.append(f"first={tokens[0]}")
        out.append(f"last={tokens[-1]}")
    for e in emoji:
        out.extend(f"e={ch}" for ch in e if ch not in "\ufe0f\u200d")
    out.extend(f"b={a} {b}" for a, b in pairwise(tokens))
    return out, tokens


@lru_cache(maxsize=16384)
def token_features(token: str) -> tuple[str, ...]:
    """The word itself and, for words of three letters or more, its character n-grams."""
    if len(token) < 3 or not token.isalpha():
        return (f"w={token}",)
    padded = f" {token} "
    return (f"w={token}", *(f"c={padded[i:i + n]}" for n in CHAR_NGRAMS
                            for i in range(len(padded) - n + 1)))


def _shouting(plain: str) -> bool:
    """Mostly capitals, over a dozen letters or more."""
    letters = sum(map(str.isalpha, plain))
    return letters >= 12 and sum(map(str.isupper, plain)) / letters > 0.6
