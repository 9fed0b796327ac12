"""The shipped opener library (app/craft/data/openers/<lang>.toml) and checks for added openers."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from app.craft.classify import COMPLAINT_CATEGORIES, names_category
from app.craft.datafiles import load, supported
from app.craft.termlists import Doc, TermList
from app.craft.text import strip_noise
from app.craft.tonecheck import Finding, check_reply

TONES = ("formal", "informal")
DM = "dm"   # the "let's continue in a private message" openers
NEUTRAL = "neutral"   # acknowledge and ask: for posts whose category is a guess
FACTS = "facts"       # not openers: what openers may assume, and how a post says it
PLACEHOLDERS = frozenset({"name"})
SAMPLE_NAME = "Alexis"
assert len(SAMPLE_NAME) == len("{name}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Opener:
    id: str
    text: str
    assumes: tuple[str, ...] = ()   # facts the text takes for granted (see [facts] in the data)


@cache
def _library(language: str) -> dict[tuple[str, str], tuple[Opener, ...]]:
    """(category, tone) → openers, with ids like "nl.delivery.formal.waiting"."""
    library = {}
    for category, tones in load("openers", language).items():
        if category == FACTS:
            continue
        for tone, entries in tones.items():
            library[(category, tone)] = tuple(_opener(f"{language}.{category}.{tone}.{key}", entry)
                                              for key, entry in entries.items())
    return library


def _opener(opener_id: str, entry: str | dict) -> Opener:
    if isinstance(entry, str):
        return Opener(opener_id, entry)
    return Opener(opener_id, entry["text"], tuple(entry.get("assumes", ())))


@cache
def _facts(language: str) -> tuple[dict[str, TermList], TermList]:
    """Each fact's terms, and the real words that must never count as a typo of one."""
    data = load("openers", language)[FACTS]
    weights = load("terms", "common")["weights"]
    terms = {name: TermList.from_data([{"strong": items}], weights) for name, items in data["terms"].items()}
    return terms, TermList.from_data([{"strong": data.get("not_typos", [])}], weights)


def facts_in(text: str, language: str) -> frozenset[str]:
    """The facts a post states itself ("my account is blocked" → account_blocked)."""
    terms, not_typos = _facts(supported(language))
    doc = Doc.build(text, strip_noise(text), not_typos=not_typos)
    return frozenset(name for name, found in terms.items() if found.hits(doc))


def fitting(language: str, category: str, tone: str, post: str) -> list[Opener]:
    """The openers a post supports: when its category is a guess, the neutral ones; else its
    category's openers that assume nothing the post does not say (neutral ones if none is left)."""
    library = _library(supported(language))
    own = library.get((category, tone))
    if own is None or not names_category(post, language, category):
        return list(library[(NEUTRAL, tone)])
    facts = facts_in(post, language)
    chosen = [o for o in own if facts.issuperset(o.assumes)]
    # The ones built on what the post says are the closest fit: first.
    return sorted(chosen, key=lambda o: -len(o.assumes)) or list(library[(NEUTRAL, tone)])


def openers_for(language: str, category: str, tone: str, *, customer_name: str | None,
                signature: str | None, private: bool = False, post: str | None = None) -> list[Opener]:
    """Ready-to-use openers: `{name}` filled in (or left out gracefully), signature appended.

    With the `post` they answer, only openers it supports (see `fitting`); without one, the
    whole library of the category (unknown categories: "other"). Unknown languages get
    English. `private` puts the move-to-DM opener first (for direct/private posts)."""
    if tone not in TONES:
        raise ValueError(f"tone must be one of {TONES}, not {tone!r}")
    library = _library(supported(language))
    if post is not None:
        chosen = fitting(language, category, tone, post)
    else:
        chosen = list(library.get((category, tone)) or library[("other", tone)])
    if private:
        chosen = list(library[(DM, tone)]) + chosen
    return [Opener(o.id, personalise(o.text, customer_name, signature), o.assumes) for o in chosen]


def all_openers(language: str) -> dict[tuple[str, str], tuple[Opener, ...]]:
    """The raw library for one language (placeholders unfilled), e.g. for a settings page."""
    return dict(_library(supported(language)))


_EMPTY_NAME_FIXES = (
    (re.compile(r"\s+([,.!?;:])"), r"\1"),        # "Hallo , ik" → "Hallo, ik"
    (re.compile(r"^[\s,;:.!?]+"), ""),            # ", wat vervelend" → "wat vervelend"
    (re.compile(r"[ \t]{2,}"), " "),
)


def personalise(text: str, customer_name: str | None, signature: str | None) -> str:
    """Fill in `{name}`; without a name, drop it and tidy the punctuation around it."""
    name = " ".join((customer_name or "").split())
    if name:
        result = text.replace("{name}", name)
    else:
        result = text.replace("{name}", "")
        for pattern, replacement in _EMPTY_NAME_FIXES:
            result = pattern.sub(replacement, result)
        result = result[:1].upper() + result[1:]
    signature = (signature or "").strip()
    return f"{result.strip()} {signature}" if signature else result.strip()


def validate_opener(text: str, language: str, *, category: str | None = None) -> list[Finding]:
    """Findings for an opener a team adds: the tone check, plus placeholders other than
    `{name}` (they would be sent as-is). Without a category it is checked as a complaint reply."""
    rule = load("tone", supported(language))["opener_rules"]["unknown_placeholder"]
    findings = [Finding("unknown_placeholder", rule["message"].format(field=m.group(1)),
                        rule["suggestion"], m.start(), m.end())
                for m in _PLACEHOLDER.finditer(text) if m.group(1) not in PLACEHOLDERS]
    is_complaint = category is None or category in COMPLAINT_CATEGORIES or category == DM
    # Check the sentence as customers read it; a name as long as "{name}" keeps the offsets.
    sample = text.replace("{name}", SAMPLE_NAME)
    findings += check_reply(sample, language, is_complaint=is_complaint)
    return sorted(findings, key=lambda f: (f.start, f.end, f.rule))
