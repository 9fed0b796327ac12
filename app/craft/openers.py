"""The shipped opener library (app/craft/data/openers/<lang>.toml) and checks for added openers."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from app.craft.classify import COMPLAINT_CATEGORIES
from app.craft.datafiles import load, supported
from app.craft.tonecheck import Finding, check_reply

TONES = ("formal", "informal")
DM = "dm"   # the "let's continue in a private message" openers
PLACEHOLDERS = frozenset({"name"})
SAMPLE_NAME = "Alexis"
assert len(SAMPLE_NAME) == len("{name}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Opener:
    id: str
    text: str


@cache
def _library(language: str) -> dict[tuple[str, str], tuple[Opener, ...]]:
    """(category, tone) → openers, with ids like "nl.delivery.formal.waiting"."""
    library = {}
    for category, tones in load("openers", language).items():
        for tone, entries in tones.items():
            library[(category, tone)] = tuple(
                Opener(f"{language}.{category}.{tone}.{key}", text)
                for key, text in entries.items())
    return library


def openers_for(language: str, category: str, tone: str, *, customer_name: str | None,
                signature: str | None, private: bool = False) -> list[Opener]:
    """Ready-to-use openers: `{name}` filled in (or left out gracefully), signature appended.

    Unknown languages get English, unknown categories the "other" openers. `private` puts the
    move-to-DM opener first (for direct/private posts)."""
    if tone not in TONES:
        raise ValueError(f"tone must be one of {TONES}, not {tone!r}")
    library = _library(supported(language))
    chosen = list(library.get((category, tone)) or library[("other", tone)])
    if private:
        chosen = list(library[(DM, tone)]) + chosen
    return [Opener(o.id, personalise(o.text, customer_name, signature)) for o in chosen]


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
