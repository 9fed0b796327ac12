"""The indexed matcher, the one-pass classifier and the restricted language identifier give
exactly what the straightforward implementation gives.

The reference below is the algorithm written out plainly, kept unindexed and uncached on
purpose: every term compared with every token (typos by `within_one_edit`, compound heads by
trying every split), every list searched on its own, py3langid ranking all languages. Only
term parsing (`Term.parse`, which also compiles /regex/ terms), the lexicon data (including
the `Heads` settings) and the regexes of app/replies/text.py are shared, so a speed-up can
never change results silently. When the classification rules change, this reference changes
with them: it is the specification the fast path is held to.
"""
from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import cache

import pytest

from app.craft import classify, detect_language
from app.craft.classify import _lexicon, rule_evidence
from app.craft.datafiles import load
from app.craft.language import MIN_LETTERS, normalise_tag
from app.craft.termlists import COMPOUND_MIN_LETTERS, FUZZY_MIN_LETTERS, GAP, MAX_GAP_WORDS, Doc, Heads, Term, TermList
from app.craft.text import HASHTAG_RE, MENTION_RE, WORD_RE, split_handle, strip_noise

from .labelled import load_posts

POSTS = (load_posts("labelled_posts.jsonl") + load_posts("heldout_posts.jsonl")
         + load_posts("blind_posts.jsonl") + load_posts("indirect_posts.jsonl")
         + load_posts("unseen_posts.jsonl") + load_posts("unseen_heldout_posts.jsonl")
         + load_posts("dev_posts.jsonl"))


# -- reference: text and terms ---------------------------------------------------------------

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def ref_fold(text: str) -> str:
    def one(ch: str) -> str:
        base = "".join(c for c in unicodedata.normalize("NFKD", ch)
                       if not unicodedata.combining(c))
        return base if len(base) == 1 else ch
    return "".join(one(ch) for ch in text.translate(_QUOTES))


def ref_words(text: str) -> list[str]:
    return WORD_RE.findall(ref_fold(text).lower())


def ref_within_one_edit(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                                   and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
    if len(a) > len(b):
        a, b = b, a
    return any(b[:i] + b[i + 1:] == a for i in range(len(b)))


def ref_word_matches(word, token: str, fuzzy: bool) -> bool:
    core = word.core
    if word.any_start and word.any_end:
        return core in token
    if word.any_start:
        return token.endswith(core)
    if word.any_end:
        if token.startswith(core):
            return True
        n = len(core)
        return fuzzy and n >= FUZZY_MIN_LETTERS and token[:1] == core[:1] and any(
            len(token) >= k and ref_within_one_edit(token[:k], core) for k in (n - 1, n, n + 1))
    if token == core:
        return True
    return (fuzzy and min(len(core), len(token)) >= FUZZY_MIN_LETTERS
            and token[:1] == core[:1] and ref_within_one_edit(token, core))


def ref_head_matches(word, token: str, heads: Heads | None) -> bool:
    """`token` = modifier + head, the modifier long enough and no listed prefix, the head the
    word itself (a plain word) or starting with it (a stem)."""
    if heads is None or word.any_start or len(word.core) < heads.min_head:
        return False
    if word.core not in token:
        return False   # (a shortcut only: every head below contains the core)
    for at in range(heads.min_modifier, len(token)):
        if token[:at] in heads.not_modifiers:
            continue
        head = token[at:]
        if head == word.core or (word.any_end and head.startswith(word.core)):
            return True
    return False


@dataclass(frozen=True)
class RefDoc:
    tokens: tuple[str, ...]
    compounds: tuple[str, ...]
    hashtags: frozenset[str]
    raw: str
    exact_only: frozenset[str] = frozenset()
    handles: tuple[str, ...] = ()
    clauses: tuple[int, ...] = ()   # per token: which clause of the text it is in


def ref_doc(text: str, not_typos: RefTermList | None = None) -> RefDoc:
    tags = [ref_fold(t).lower() for t in HASHTAG_RE.findall(text)]
    handles = [m.group().lstrip("@").split("@")[0] for m in MENTION_RE.finditer(text)]
    handle_words = []
    for handle in handles:
        words = ref_words(split_handle(handle))
        handle_words += words + (["".join(words)] if len(words) > 1 else [])
    tokens = tuple(ref_words(strip_noise(text)))
    exact = frozenset(t for t in tokens if not_typos and not_typos.matches_exactly(t))
    clauses = [n for n, piece in enumerate(re.split(r"[,.!?;:\n]", strip_noise(text)))
               for _ in ref_words(piece)]
    return RefDoc(tokens, tuple(tags), frozenset(tags), ref_fold(text).lower(), exact,
                  tuple(handle_words), tuple(clauses))


def ref_phrase_in(term: Term, tokens: tuple[str, ...]) -> bool:
    first, rest = term.words[0], list(zip(term.words[1:], term.gaps[1:], strict=False))

    def follows(pos: int, k: int) -> bool:
        if k == len(rest):
            return True
        word, gap = rest[k]
        return any(ref_word_matches(word, tokens[j], False) and follows(j, k + 1)
                   for j in range(pos + 1,
                                  min(len(tokens), pos + 2 + (MAX_GAP_WORDS if gap else 0))))

    return any(ref_word_matches(first, t, False) and follows(i, 0) for i, t in enumerate(tokens))


class RefTermList:
    """Every term against every token."""

    def __init__(self, terms, heads: Heads | None = None):
        self.terms = terms.terms if isinstance(terms, TermList) else terms
        self.heads = terms.heads if isinstance(terms, TermList) else heads

    def found(self, term: Term, doc) -> bool:
        if term.pattern is not None:
            return term.pattern.search(doc.raw) is not None
        if term.symbol is not None:
            return term.symbol in doc.raw
        if term.hashtag is not None:
            return term.hashtag in doc.hashtags
        if len(term.words) == 1:
            single = term.words[0]
            for t in doc.tokens:
                loose = t not in doc.exact_only   # typos and compound heads
                if ref_word_matches(single, t, loose) or (
                        loose and ref_head_matches(single, t, self.heads)):
                    return True
            # hashtag bodies: as a word without typos, or containing the term; handle words:
            # as a word without typos
            return (any(ref_word_matches(single, c, False)
                        or (len(single.core) >= COMPOUND_MIN_LETTERS and single.core in c)
                        for c in doc.compounds)
                    or any(ref_word_matches(single, h, False) for h in doc.handles))
        return ref_phrase_in(term, doc.tokens)

    def hits(self, doc) -> dict[str, int]:
        return {term.text: weight for term, weight in self.terms if self.found(term, doc)}

    def matches_exactly(self, token: str) -> bool:
        return any(len(t.words) == 1 and ref_word_matches(t.words[0], token, False)
                   for t, _ in self.terms)


# -- reference: classification and language ---------------------------------------------------

def ref_lists(language: str) -> dict:
    lex = _lexicon(language)
    lists = {f"category:{name}": tl for name, tl in lex.categories.items()}
    lists.update(praise=lex.praise, negative=lex.negative, cancel=lex.cancel, swear=lex.swear,
                 question_openers=lex.question_openers, not_questions=lex.not_questions,
                 not_typos=lex.not_typos)
    return {name: RefTermList(tl) for name, tl in lists.items()}


def ref_classify(text: str, language: str, followers=None, reach_threshold=None, repeat=False):
    lex, ref = _lexicon(language), ref_lists(language)
    doc = ref_doc(text, ref["not_typos"])
    reasons = []
    if ref["cancel"].hits(doc):
        reasons.append("cancel")
    if ref["swear"].hits(doc) or ref_sounds_angry(text):
        reasons.append("anger")
    if followers is not None and reach_threshold is not None and followers >= reach_threshold:
        reasons.append("reach")
    if repeat:
        reasons.append("repeat")
    weights = load("terms", "common")["urgency"]["weights"]
    return ref_category(doc, lex, ref), reasons, sum(weights[r] for r in reasons)


def ref_score(hits: dict[str, int], decisive: int) -> int:
    return sum(hits.values()) if any(w >= decisive for w in hits.values()) else 0


def ref_category(doc: RefDoc, lex, ref: dict) -> str:
    found = {name: ref[f"category:{name}"].hits(doc) for name in lex.categories}
    scores = {name: ref_score(hits, lex.normal_weight) for name, hits in found.items()}
    best = max(scores, key=lambda name: scores[name])
    tokens = doc.tokens
    # praise with a negator in the two words before it, or a sarcasm marker in the two after,
    # in the same clause
    same = doc.clauses
    masked = tuple("" if any(tokens[j] in lex.negators and same[j] == same[i] for j in range(max(0, i - 2), i))
                   or any(tokens[j] in lex.sarcasm_after and same[j] == same[i]
                          for j in range(i + 1, min(len(tokens), i + 3))) else tok
                   for i, tok in enumerate(tokens))
    all_hits = ref["praise"].hits(doc)
    plain_hits = ref["praise"].hits(replace(doc, tokens=masked))
    praise = ref_score(plain_hits, lex.normal_weight)
    negative = (sum(ref["negative"].hits(doc).values())
                + sum(all_hits.values()) - sum(plain_hits.values()))
    named = {name for name, hits in found.items()
             if any(w >= lex.strong_weight for w in hits.values())}
    strong = bool(named)
    no_cue = negative < lex.normal_weight   # weak cues ("still") never decide
    if named == {"other"} and no_cue:
        return "other"
    strong_praise = any(w >= lex.strong_weight for w in all_hits.values())
    if praise and (praise > scores[best] + negative
                   or (no_cue and praise >= scores[best] and (strong_praise or not strong))):
        return "praise"
    if not strong and no_cue and ref_is_question(doc, lex, ref):
        return "question"
    if praise >= lex.strong_weight and not strong and no_cue:
        return "praise"
    if scores[best] > 0:
        return best
    if negative:
        topics = {name: sum(hits.values()) for name, hits in found.items()}
        top = max(topics, key=lambda name: topics[name])
        if topics[top]:
            return top
    return "other"


def ref_is_question(doc: RefDoc, lex, ref: dict) -> bool:
    head = RefDoc(doc.tokens[:3], (), frozenset(), " ".join(doc.tokens[:3]))
    if not doc.tokens or ref["not_questions"].hits(head):
        return False
    if ref["question_openers"].hits(head):
        return True
    tokens = list(doc.tokens)
    for _ in range(2):   # up to two lead-in words ("tot hoe laat", "hey, how")
        if len(tokens) > 1 and tokens[0] in lex.lead_ins:
            tokens.pop(0)
    first, second = tokens[0], tokens[1] if len(tokens) > 1 else ""
    if first in lex.no_mark_needed:
        return True
    return (first in lex.interrogatives or second in lex.pronouns) and "?" in doc.raw


def ref_sounds_angry(text: str) -> bool:
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


@cache
def py3langid_in_memory():
    """py3langid itself, its model in memory (the product scores it from disk, without NumPy)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


def ref_detect_language(text: str, tag=None, allowed=("nl", "en", "de", "fr")) -> str:
    allowed = [a.lower() for a in allowed]
    tagged = normalise_tag(tag)
    if tagged in allowed:
        return tagged
    cleaned = strip_noise(text, keep_hashtags=False)
    if sum(ch.isalpha() for ch in cleaned) < MIN_LETTERS:
        return allowed[0]
    for language, _score in py3langid_in_memory().rank(cleaned):
        if language in allowed:
            return language
    return allowed[0]


# -- variations that reach the typo, stem, compound and phrase paths --------------------------

def with_typos(text: str, seed: int) -> str:
    """One edit (swap, deletion, insertion, substitution) in some of the longer words."""
    rng = random.Random(seed)

    def edit(m: re.Match) -> str:
        w = m.group()
        if rng.random() < 0.5:
            return w
        i = rng.randrange(1, len(w) - 1)
        kind = rng.choice("sdiu")
        if kind == "s":
            return w[:i] + w[i + 1] + w[i] + w[i + 2:]
        if kind == "d":
            return w[:i] + w[i + 1:]
        if kind == "i":
            return w[:i] + rng.choice("aeiourst") + w[i:]
        return w[:i] + rng.choice("aeiourst") + w[i + 1:]

    return re.sub(r"[^\W\d_]{5,}", edit, text)


VARIANTS = ([(p["text"], p["language"]) for p in POSTS]
            + [(p["text"], "en" if p["language"] == "nl" else "nl") for p in POSTS]
            + [(with_typos(p["text"], n), p["language"]) for n, p in enumerate(POSTS)])


def rules_category(text: str, language: str) -> str:
    """The term lists' verdict, before the learned model (app/craft/learned.py) weighs it."""
    return rule_evidence(text, language)[0].removeprefix("rule=")


def test_reference_reproduces_the_labelled_accuracy():
    """The reference is the algorithm the term lists' accuracy figures were measured with."""
    right = sum(ref_classify(p["text"], p["language"])[0] == p["category"] for p in POSTS)
    assert right == sum(rules_category(p["text"], p["language"]) == p["category"] for p in POSTS)


@pytest.mark.parametrize("chunk", range(4))
def test_classification_equals_the_reference(chunk):
    for n, (text, language) in enumerate(VARIANTS[chunk::4]):
        kwargs = {"followers": 20_000 * (n % 2), "reach_threshold": 10_000, "repeat": n % 3 == 0}
        got = classify(text, language, **kwargs)
        assert (rules_category(text, language), got.urgency_reasons, got.urgency) == ref_classify(
            text, language, **kwargs), text


def test_every_term_list_finds_what_the_reference_finds():
    for language in ("nl", "en"):
        lists = ref_lists(language)
        lex = _lexicon(language)
        real = {f"category:{name}": tl for name, tl in lex.categories.items()}
        real.update(praise=lex.praise, negative=lex.negative, cancel=lex.cancel,
                    swear=lex.swear, question_openers=lex.question_openers,
                    not_questions=lex.not_questions, not_typos=lex.not_typos)
        for text in {text for text, lang in VARIANTS if lang == language}:
            doc = Doc.of(text, not_typos=lex.not_typos)
            expected = ref_doc(text, lists["not_typos"])
            assert (doc.tokens, doc.compounds, doc.hashtags, doc.raw, doc.exact_only,
                    doc.handles) == (expected.tokens, expected.compounds, expected.hashtags,
                                     expected.raw, expected.exact_only, expected.handles)
            for name, ref in lists.items():
                got = real[name].hits(doc)
                want = ref.hits(expected)
                assert got == want and list(got) == list(want), (name, text)
            for token in doc.tokens:
                assert lex.not_typos.matches_exactly(token) == lists[
                    "not_typos"].matches_exactly(token)


@pytest.mark.parametrize(("terms", "tokens"), [
    # every syntax, with one-edit neighbours of each core and of each stem's prefixes
    (["bezorg*", "*storing", "*kwaliteit*", "klantenservice", "pakje", "rekent ... aan",
      "geen internet", "*levering", "levering*", "geblokkeerd*", "ab", "verzend*", "code",
      "mail"],
     ["bezrging", "bezorgingen", "bezorger", "ezorging", "stroomstoring", "storin",
      "kwaliteitsproblemen", "klantenserivce", "klantenservic", "klantenservicee",
      "lkantenservice", "pakjr", "pakje", "levering", "leverign", "thuislevering",
      "gbelokkeerd", "geblokeerd", "verznding", "verzond", "ab", "ba", "a", "",
      # compound heads, and prefixes that make other words
      "activatiecode", "sms-code", "pakketbezorging", "verbezorging", "uitcode", "herstelmail",
      "mailcode", "codemail", "cod"]),
])
@pytest.mark.parametrize("heads", [None, Heads(4, 3, frozenset({"ver", "uit"}))])
def test_typo_paths_equal_the_reference(terms, tokens, heads):
    term_list = TermList.from_data([{"strong": terms}], {"strong": 3}, heads)
    ref = RefTermList(term_list)
    for token in tokens:
        for neighbour in {token, *(token[:i] + token[i + 1:] for i in range(len(token)))}:
            doc = Doc((neighbour,), (), frozenset(), neighbour)
            assert term_list.hits(doc) == ref.hits(doc), neighbour
            exact = replace(doc, exact_only=frozenset([neighbour]))
            assert term_list.hits(exact) == ref.hits(exact), neighbour


@pytest.mark.parametrize("allowed", [("nl", "en", "de", "fr"), ("nl", "en"), ("en", "fr"),
                                     ("fr",), ("xx", "en")])
def test_language_equals_the_reference(allowed):
    for text, _ in VARIANTS:
        assert detect_language(text, tag=None, allowed=allowed) == ref_detect_language(
            text, allowed=allowed), text


def test_gap_marker_is_parsed_as_before():
    assert Term.parse(f"rekent {GAP} aan").gaps == (False, True)
