"""Category and urgency of a post, from the term lists in app/data/terms/."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from .datafiles import load, supported
from .terms import Doc, TermList
from .text import strip_noise

CATEGORIES = ("delivery", "billing", "outage", "product", "service", "account", "praise",
              "question", "other")
#: Categories a complaint can have (everything but praise and question).
COMPLAINT_CATEGORIES = ("delivery", "billing", "outage", "product", "service", "account",
                        "other")
URGENCY_REASONS = ("cancel", "anger", "reach", "repeat")


@dataclass(frozen=True)
class Classification:
    category: str
    urgency_reasons: list[str] = field(default_factory=list)
    urgency: int = 0


@dataclass(frozen=True)
class _Lexicon:
    """Everything classification needs for one language, built once."""
    categories: dict[str, TermList]
    praise: TermList
    negative: TermList
    cancel: TermList
    swear: TermList
    interrogatives: frozenset[str]
    pronouns: frozenset[str]
    question_openers: TermList
    not_questions: TermList
    no_mark_needed: frozenset[str]
    not_typos: TermList
    negators: frozenset[str]
    normal_weight: int
    strong_weight: int


@lru_cache(maxsize=None)
def _lexicon(language: str) -> _Lexicon:
    common, own = load("terms", "common"), load("terms", language)
    weights = common["weights"]

    def merged(*path: str) -> TermList:
        sections = []
        for data in (common, own):
            node = data
            for key in path:
                node = node.get(key, {})
            sections.append(node)
        return TermList.from_data(sections, weights)

    q = own["question"]
    return _Lexicon(
        categories={name: merged("categories", name) for name in own["categories"]},
        praise=merged("praise"),
        negative=merged("negative"),
        cancel=merged("urgency", "cancel"),
        swear=merged("urgency", "swear"),
        interrogatives=frozenset(q["interrogatives"]),
        pronouns=frozenset(q["pronouns"]),
        question_openers=TermList.from_data([{"strong": q["openers"]}], weights),
        not_questions=TermList.from_data([{"strong": q["not_questions"]}], weights),
        no_mark_needed=frozenset(q["no_mark_needed"]),
        not_typos=TermList.from_data([{"strong": own["fuzzy"]["not_typos"]}], weights),
        negators=frozenset(own["negation"]["negators"]),
        normal_weight=weights["normal"],
        strong_weight=weights["strong"],
    )


def classify(
    text: str,
    language: str,
    *,
    followers: int | None = None,
    reach_threshold: int | None = None,
    repeat: bool = False,
) -> Classification:
    """Category (one of CATEGORIES) and urgency of a post.

    `followers`/`reach_threshold` give the `reach` reason; `repeat` is the caller's knowledge
    that the same author wrote in before (within 7 days). Unknown languages use English."""
    lex = _lexicon(supported(language))
    doc = Doc.of(text, not_typos=lex.not_typos)
    reasons = _urgency_reasons(text, doc, lex, followers, reach_threshold, repeat)
    weights = load("terms", "common")["urgency"]["weights"]
    return Classification(_category(doc, lex), reasons, sum(weights[r] for r in reasons))


def _category(doc: Doc, lex: _Lexicon) -> str:
    found = {name: terms.hits(doc) for name, terms in lex.categories.items()}
    scores = {name: _score(hits, lex.normal_weight) for name, hits in found.items()}
    best = max(scores, key=lambda name: scores[name])   # ties: first in the data file
    praise, negated_praise = _praise_score(doc, lex)
    negative = sum(lex.negative.hits(doc).values()) + negated_praise

    # Praise beats complaint words unless sarcasm/complaint cues say otherwise.
    if praise and (praise > scores[best] + negative or (not negative and praise >= scores[best])):
        return "praise"
    # A question may name a topic ("is there a discount on broadband?") but no strong
    # complaint term ("is er een storing?") and no complaint cue.
    strong = any(w >= lex.strong_weight for hits in found.values() for w in hits.values())
    if not strong and not negative and _is_question(doc, lex):
        return "question"
    return best if scores[best] > 0 else "other"


def _score(hits: dict[str, int], decisive_weight: int) -> int:
    """Topic words (weight "weak") appear in questions and praise too: a score needs at least
    one term of `decisive_weight` or more, then all terms found count."""
    return sum(hits.values()) if any(w >= decisive_weight for w in hits.values()) else 0


def _praise_score(doc: Doc, lex: _Lexicon) -> tuple[int, int]:
    """(praise, negated praise): "not impressed" / "niet blij" turn praise into a complaint
    cue."""
    masked = tuple("" if any(t in lex.negators for t in doc.tokens[max(0, i - 2):i]) else tok
                   for i, tok in enumerate(doc.tokens))
    all_hits = lex.praise.hits(doc)
    plain_hits = lex.praise.hits(replace(doc, tokens=masked))
    return _score(plain_hits, lex.normal_weight), sum(all_hits.values()) - sum(plain_hits.values())


def _is_question(doc: Doc, lex: _Lexicon) -> bool:
    """A question mark and a question's opening (interrogative, or verb + pronoun), a
    wh-word opening, or an opener like "vraagje:"; "waarom …?" is left to the complaints."""
    if not doc.tokens or lex.not_questions.hits(_head(doc)):
        return False
    if lex.question_openers.hits(_head(doc)):
        return True
    first, second = doc.tokens[0], doc.tokens[1] if len(doc.tokens) > 1 else ""
    if first in lex.no_mark_needed:   # "what time does the store open" needs no "?"
        return True
    opens_like_question = first in lex.interrogatives or second in lex.pronouns
    return opens_like_question and "?" in doc.raw


def _head(doc: Doc) -> Doc:
    """The first three words, for openers that only count at the start."""
    return Doc(doc.tokens[:3], (), frozenset(), " ".join(doc.tokens[:3]))


def _urgency_reasons(text: str, doc: Doc, lex: _Lexicon, followers: int | None,
                     reach_threshold: int | None, repeat: bool) -> list[str]:
    reasons = []
    if lex.cancel.hits(doc):
        reasons.append("cancel")
    if lex.swear.hits(doc) or _sounds_angry(text):
        reasons.append("anger")
    if followers is not None and reach_threshold is not None and followers >= reach_threshold:
        reasons.append("reach")
    if repeat:
        reasons.append("repeat")
    return reasons


def _sounds_angry(text: str) -> bool:
    """Angry emoji, "!!" or shouting in capitals (URLs, @handles and #tags excluded)."""
    anger = load("terms", "common")["anger"]
    if any(e in text for e in anger["emoji"]) or re.search(anger["exclamations"], text):
        return True
    plain = strip_noise(text)
    shouted = [w for w in re.findall(r"[^\W\d_]+", plain)
               if len(w) >= anger["caps_word_letters"] and w.isupper()]
    if len(shouted) >= anger["caps_min_words"]:
        return True
    letters = [ch for ch in plain if ch.isalpha()]
    return (len(letters) >= anger["caps_min_letters"]
            and sum(ch.isupper() for ch in letters) / len(letters) >= anger["caps_ratio"])
