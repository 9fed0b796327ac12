"""Category and urgency of a post, from the term lists in app/data/terms/."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .datafiles import load, supported
from .terms import Doc, TermList

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
    normal_weight: int


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
        normal_weight=weights["normal"],
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
    doc = Doc.of(text)
    reasons = _urgency_reasons(text, doc, lex, followers, reach_threshold, repeat)
    weights = load("terms", "common")["urgency"]["weights"]
    return Classification(_category(doc, lex), reasons, sum(weights[r] for r in reasons))


def _category(doc: Doc, lex: _Lexicon) -> str:
    scores = {name: terms.score(doc) for name, terms in lex.categories.items()}
    best = max(scores, key=lambda name: scores[name])   # ties: first in the data file
    negative = lex.negative.score(doc)
    # Only real complaint signals count: topic words (weak) appear in questions and praise too.
    complaint = negative + max(terms.score(doc, min_weight=lex.normal_weight)
                               for terms in lex.categories.values())

    praise = lex.praise.score(doc)
    if praise and praise > scores[best] + negative:
        return "praise"
    if complaint == 0 and _is_question(doc, lex):
        return "question"
    return best if scores[best] > 0 else "other"


def _is_question(doc: Doc, lex: _Lexicon) -> bool:
    """A question mark and a question's opening (interrogative, or verb + pronoun), or an
    opener like "vraagje:"; "waarom …?" is left to the complaint categories."""
    if not doc.tokens or lex.not_questions.hits(_head(doc)):
        return False
    if lex.question_openers.hits(_head(doc)):
        return True
    first, second = doc.tokens[0], doc.tokens[1] if len(doc.tokens) > 1 else ""
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
    from .text import strip_noise   # local: only needed on this path
    plain = strip_noise(text)
    shouted = [w for w in re.findall(r"[^\W\d_]+", plain)
               if len(w) >= anger["caps_word_letters"] and w.isupper()]
    if len(shouted) >= anger["caps_min_words"]:
        return True
    letters = [ch for ch in plain if ch.isalpha()]
    return (len(letters) >= anger["caps_min_letters"]
            and sum(ch.isupper() for ch in letters) / len(letters) >= anger["caps_ratio"])
