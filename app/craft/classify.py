"""Category and urgency of a post, from the term lists in app/craft/data/terms/."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import Any

from app.craft import learned
from app.craft.datafiles import load, supported
from app.craft.termlists import Doc, Heads, TermList, TermLists
from app.craft.text import clause_numbers, strip_noise

CATEGORIES = ("delivery", "billing", "outage", "product", "service", "account", "praise",
              "question", "other")
#: Categories a complaint can have (everything but praise and question).
COMPLAINT_CATEGORIES = ("delivery", "billing", "outage", "product", "service", "account",
                        "other")


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
    lead_ins: frozenset[str]
    not_typos: TermList
    negators: frozenset[str]
    sarcasm_after: frozenset[str]
    normal_weight: int
    strong_weight: int
    #: position of "other" among the categories (None when a language has no such list)
    other_index: int | None = field(init=False, repr=False, compare=False)
    #: categories, praise, negative, cancel and swear searched in one pass per post
    matcher: TermLists = field(init=False, repr=False, compare=False)
    #: not_questions and question_openers, searched in a post's first words
    head_matcher: TermLists = field(init=False, repr=False, compare=False)
    urgency_weights: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lists = (*self.categories.values(), self.praise, self.negative, self.cancel, self.swear)
        object.__setattr__(self, "matcher", TermLists(lists))
        object.__setattr__(self, "head_matcher",
                           TermLists((self.not_questions, self.question_openers)))
        object.__setattr__(self, "urgency_weights", load("terms", "common")["urgency"]["weights"])
        names = list(self.categories)
        object.__setattr__(self, "other_index",
                           names.index("other") if "other" in names else None)


@cache
def _lexicon(language: str) -> _Lexicon:
    common, own = load("terms", "common"), load("terms", language)
    weights = common["weights"]
    heads = Heads(**own["compounds"]["heads"]) if "heads" in own.get("compounds", {}) else None

    def merged(*path: str) -> TermList:
        sections = []
        for data in (common, own):
            node = data
            for key in path:
                node = node.get(key, {})
            sections.append(node)
        return TermList.from_data(sections, weights, heads)

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
        lead_ins=frozenset(q.get("lead_ins", ())),
        not_typos=TermList.from_data([{"strong": own["fuzzy"]["not_typos"]}], weights),
        negators=frozenset(own["negation"]["negators"]),
        sarcasm_after=frozenset(own["negation"].get("sarcasm_after", ())),
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
    plain = strip_noise(text)
    doc = Doc.build(text, plain, not_typos=lex.not_typos)
    found = lex.matcher.hits(doc)
    n = len(lex.categories)
    reasons = _urgency_reasons(text, plain, found[n + 2], found[n + 3], followers,
                               reach_threshold, repeat)
    weights = lex.urgency_weights
    # The term lists' verdict and what they found are features of the learned model, which
    # has the last word (it also weighs word and character n-grams the lists do not hold).
    evidence = _evidence(doc, lex, found, _category(doc, lex, found))
    category = learned.model().predict(text, supported(language), evidence)
    return Classification(category, reasons, sum(weights[r] for r in reasons))


def rule_evidence(text: str, language: str) -> list[str]:
    """What the term lists found in a post, as the learned model's features: their verdict,
    which lists hit and how strongly, the praise and complaint cues, a question's form."""
    lex = _lexicon(supported(language))
    doc = Doc.build(text, strip_noise(text), not_typos=lex.not_typos)
    found = lex.matcher.hits(doc)
    return _evidence(doc, lex, found, _category(doc, lex, found))


def _evidence(doc: Doc, lex: _Lexicon, found: list[dict[str, int]], category: str) -> list[str]:
    n = len(lex.categories)
    out = [f"rule={category}"]
    for name, hits in zip(lex.categories, found, strict=False):
        if hits:
            out.append(f"hit={name}:{max(hits.values())}")
            out.extend(f"term={name}:{term}" for term in hits)
    praise, negated = _praise_score(doc, lex, found[n])
    if praise:
        out.append(f"praise={min(praise, 2 * lex.strong_weight)}")
        out.extend(f"term=praise:{term}" for term in found[n])
    if negated:
        out.append("negated_praise")
    if found[n + 1]:
        out.append(f"cue={min(sum(found[n + 1].values()), 2 * lex.strong_weight)}")
    if _is_question(doc, lex):
        out.append("question_form")
    return out


def names_category(text: str, language: str, category: str) -> bool:
    """Whether the post itself names `category`: a term of at least "normal" weight from its
    list. Without one the category was a guess (topic words, "other"), and replies should not
    build on it. Praise and questions are told by their form, not by such terms."""
    if category in ("praise", "question"):
        return True
    lex = _lexicon(supported(language))
    terms = lex.categories.get(category)
    if terms is None or category == "other":
        return False
    doc = Doc.build(text, strip_noise(text), not_typos=lex.not_typos)
    return any(weight >= lex.normal_weight for weight in terms.hits(doc).values())


def _category(doc: Doc, lex: _Lexicon, found: list[dict[str, int]]) -> str:
    """`found`: the hits of lex.matcher (categories in order, praise, negative, …).

    In order: a post marked as something else entirely (a strong "other" term: job ad,
    giveaway, greeting) that names no problem; praise that outweighs the complaint evidence; a
    question without a problem term or complaint cue; praise that names no problem; the best
    category with a decisive term; with a complaint cue but no decisive term, the category its
    topic words point at; else "other". A "strong" term names a problem (see en.toml), so it
    also rules out a plain question and plain praise. A weak complaint cue ("still",
    "gewoon") never decides on its own."""
    n = len(lex.categories)
    normal_weight = lex.normal_weight
    # found goes on past the categories (praise, negative, …): zip stops at the last category.
    scores = {name: _score(hits, normal_weight) for name, hits in zip(lex.categories, found, strict=False)}
    best = max(scores, key=lambda name: scores[name])   # ties: first in the data file
    praise, negated_praise = _praise_score(doc, lex, found[n])
    negative = sum(found[n + 1].values()) + negated_praise

    strong_in = [bool(hits) and max(hits.values()) >= lex.strong_weight for hits in found[:n]]
    other = lex.other_index
    strong = any(strong_in)
    no_cue = negative < lex.normal_weight
    # A job ad, giveaway or greeting is that, whatever topic words it holds ("PostNL zoekt
    # bezorgers"), unless it also names a problem.
    if other is not None and strong_in[other] and no_cue and strong_in.count(True) == 1:
        return "other"
    # Praise beats complaint words unless sarcasm/complaint cues say otherwise; a tie with a
    # named problem ("Thanks! Another outage.") is a complaint, unless the praise is as
    # strong ("Kapotte oordopjes zonder gedoe geruild. Dankjewel!": the problem is solved).
    strong_praise = any(w >= lex.strong_weight for w in found[n].values())
    if praise and (praise > scores[best] + negative
                   or (no_cue and praise >= scores[best] and (strong_praise or not strong))):
        return "praise"
    # A question may name a topic ("is there a discount on broadband?") but no strong
    # complaint term ("is er een storing?") and no complaint cue but a weak one ("still").
    if not strong and no_cue and _is_question(doc, lex):
        return "question"
    # Clear praise (a strong term, or two) that names no problem and carries no complaint
    # cue: topic words ("bezorger", "pakket", "chat") only tell what the praise is about.
    if praise >= lex.strong_weight and not strong and no_cue:
        return "praise"
    if scores[best] > 0:
        return best
    if negative:
        # A complaint cue without a decisive term ("modem blinks again"): topic words decide.
        topics = {name: sum(hits.values()) for name, hits in zip(lex.categories, found, strict=False)}
        top = max(topics, key=lambda name: topics[name])
        if topics[top]:
            return top
    return "other"


def _score(hits: dict[str, int], decisive_weight: int) -> int:
    """Topic words (weight "weak") appear in questions and praise too: a score needs at least
    one term of `decisive_weight` or more, then all terms found count."""
    if not hits:
        return 0
    weights = hits.values()
    return sum(weights) if max(weights) >= decisive_weight else 0


def _praise_score(doc: Doc, lex: _Lexicon, all_hits: dict[str, int]) -> tuple[int, int]:
    """(praise, negated praise): "not impressed" / "niet blij" (a negator in the two words
    before) and "leuk hoor" / "thanks I guess" (a sarcasm marker in the two words after), in
    the same clause ("Geen gedoe, top!" is no negated "top"), turn praise into a complaint
    cue. `all_hits`: lex.praise.hits(doc)."""
    tokens = doc.tokens
    if not all_hits or (lex.negators.isdisjoint(tokens) and lex.sarcasm_after.isdisjoint(tokens)):
        plain_hits = all_hits   # nothing to mask, or nothing a mask could remove
    else:
        negators, sarcasm = lex.negators, lex.sarcasm_after
        clause = clause_numbers(doc.plain)
        if len(clause) != len(tokens):   # a Doc built without its plain text
            clause = [0] * len(tokens)

        def marked(i: int, near: range, markers: frozenset[str]) -> bool:
            return any(tokens[j] in markers and clause[j] == clause[i] for j in near)

        masked = tuple("" if marked(i, range(max(0, i - 2), i), negators)
                       or marked(i, range(i + 1, min(len(tokens), i + 3)), sarcasm)
                       else tok for i, tok in enumerate(tokens))
        plain_hits = lex.praise.hits(replace(doc, tokens=masked))
    return _score(plain_hits, lex.normal_weight), sum(all_hits.values()) - sum(plain_hits.values())


def _is_question(doc: Doc, lex: _Lexicon) -> bool:
    """A question mark and a question's opening (interrogative, or verb + pronoun), a
    wh-word opening, or an opener like "vraagje:"; "waarom …?" is left to the complaints.
    Up to two lead-in words ("tot hoe laat …", "hey, how do I …") may come first."""
    if not doc.tokens:
        return False
    not_question, opener = lex.head_matcher.hits(_head(doc))
    if not_question:
        return False
    if opener:
        return True
    tokens = doc.tokens
    skip = 0
    while skip < 2 and skip < len(tokens) - 1 and tokens[skip] in lex.lead_ins:
        skip += 1   # "tot hoe laat …", "hey, how do I …"
    first, second = tokens[skip], tokens[skip + 1] if len(tokens) > skip + 1 else ""
    if first in lex.no_mark_needed:   # "what time does the store open" needs no "?"
        return True
    opens_like_question = first in lex.interrogatives or second in lex.pronouns
    return opens_like_question and "?" in doc.raw


def _head(doc: Doc) -> Doc:
    """The first three words, for openers that only count at the start."""
    return Doc(doc.tokens[:3], (), frozenset(), " ".join(doc.tokens[:3]))


def _urgency_reasons(text: str, plain: str, cancel: dict[str, int], swear: dict[str, int],
                     followers: int | None, reach_threshold: int | None,
                     repeat: bool) -> list[str]:
    """`plain`: strip_noise(text); `cancel`/`swear`: the hits of those lists."""
    reasons = []
    if cancel:
        reasons.append("cancel")
    if swear or _sounds_angry(text, plain):
        reasons.append("anger")
    if followers is not None and reach_threshold is not None and followers >= reach_threshold:
        reasons.append("reach")
    if repeat:
        reasons.append("repeat")
    return reasons


@lru_cache(maxsize=1)
def _anger() -> dict[str, Any]:
    anger = dict(load("terms", "common")["anger"])
    anger["exclamations_re"] = re.compile(anger["exclamations"])
    anger["ascii_emoji"] = [e for e in anger["emoji"] if e.isascii()]
    return anger


_WORD_LETTERS_RE = re.compile(r"[^\W\d_]+")
_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ASCII_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


def _sounds_angry(text: str, plain: str | None = None) -> bool:
    """Angry emoji, "!!" or shouting in capitals (URLs, @handles and #tags excluded).
    `plain`: strip_noise(text) when the caller has it."""
    anger = _anger()
    emoji = anger["ascii_emoji"] if text.isascii() else anger["emoji"]
    if any(e in text for e in emoji) or anger["exclamations_re"].search(text):
        return True
    if plain is None:
        plain = strip_noise(text)
    # Letters and capitals among them: ASCII ones counted in bulk (there, isalpha() is A-Z and
    # a-z, isupper() A-Z), the other characters one by one.
    data = plain.encode("ascii", "ignore")
    letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    upper = len(data) - len(data.translate(None, _ASCII_UPPER))
    ascii_only = len(data) == len(plain)
    if not ascii_only:
        for ch in _NON_ASCII_RE.findall(plain):
            if ch.isalpha():
                letters += 1
                upper += ch.isupper()
    # In ASCII text a shouted word is all A-Z: too few capitals rule the shouting out.
    if not ascii_only or upper >= anger["caps_min_words"] * anger["caps_word_letters"]:
        shouted = [w for w in _WORD_LETTERS_RE.findall(plain)
                   if len(w) >= anger["caps_word_letters"] and w.isupper()]
        if len(shouted) >= anger["caps_min_words"]:
            return True
    return letters >= anger["caps_min_letters"] and upper / letters >= anger["caps_ratio"]
