"""Tone check for a reply: the classic webcare mistakes, as findings with exact spans.

Rules and their wording live in app/craft/data/tone/<lang>.toml; offsets are Python string indices
(Unicode code points) into the reply as given."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from app.craft.datafiles import load, supported
from app.craft.moments import MINUTES_PER_DAY, Moment, find_moments
from app.craft.text import clause_around, fold, sentence_around, sentences
from connectors.textlength import GRAPHEMES, TextCounter

RULE_IDS = ("first_to_complain", "fine_print", "management_decision", "website_brushoff",
            "blame_others", "doubt_customer", "slow_response_time", "vague_promise", "no_empathy",
            "too_long")
#: Rules found by their patterns alone.
PATTERN_RULES = ("first_to_complain", "fine_print", "management_decision", "website_brushoff",
                 "blame_others", "doubt_customer")


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    suggestion: str
    start: int
    end: int


def _compiled(sources: list[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in sources)


@dataclass(frozen=True)
class _Rule:
    id: str
    message: str
    suggestion: str
    patterns: tuple[re.Pattern[str], ...]
    requires: tuple[re.Pattern[str], ...] = ()   # the match's part of its clause says one of these
    unless: tuple[re.Pattern[str], ...] = ()     # … and its clause none of these
    cleared_by: tuple[re.Pattern[str], ...] = ()  # … and the whole reply (or its sentence) none of these
    cleared_in_sentence: bool = False
    complaints_only: bool = False                # a mistake only in answer to a complaint

    def finding(self, start: int, end: int) -> Finding:
        return Finding(self.id, self.message, self.suggestion, start, end)

    def applies(self, folded: str, start: int, end: int) -> bool:
        """Whether a match at folded[start:end] counts, judged by the clause around it
        ("binnen 3 werkdagen" is slow for an answer, not for money on the account) and by
        the whole reply or sentence (a page named beside a fix we made informs)."""
        if self.requires:
            part = clause_around(folded, start, end, parts=True)
            if not any(p.search(part) for p in self.requires):
                return False
        if self.unless:
            clause = clause_around(folded, start, end)
            if any(p.search(clause) for p in self.unless):
                return False
        scope = sentence_around(folded, start, end) if self.cleared_in_sentence else folded
        return not any(p.search(scope) for p in self.cleared_by)

    def findings(self, folded: str) -> list[Finding]:
        return [self.finding(m.start(), m.end()) for p in self.patterns for m in p.finditer(folded)
                if self.applies(folded, m.start(), m.end())]


@cache
def _rules(language: str) -> dict[str, _Rule]:
    """The language's rules, patterns compiled once."""
    rules = {}
    tone = load("tone", language)
    our_fix = _compiled(tone.get("our_fix", []))
    for rule_id in RULE_IDS:
        data = tone["rules"][rule_id]
        rules[rule_id] = _Rule(rule_id, data["message"], data["suggestion"],
                               _compiled(data.get("patterns", []) + data.get("markers", [])),
                               _compiled(data.get("requires", [])),
                               _compiled(data.get("unless", [])),
                               our_fix if data.get("cleared_by_our_fix") else (),
                               data.get("cleared_by_our_fix") == "sentence",
                               data.get("complaints_only", False))
    return rules


def check_reply(text: str, language: str, *, is_complaint: bool = True,
                char_limit: int | None = None, counter: TextCounter = GRAPHEMES) -> list[Finding]:
    """Findings for `text`, ordered by position. Unknown languages are checked as English.

    `is_complaint`: the reply answers a complaint (the caller decides from the post's category:
    praise and plain questions are not), so it needs a sign of empathy and is checked for the
    complaints-only rules too (doubting the customer, blaming others, "you are the first", and
    pointing at the terms or the website or promising without a moment, which can be a fine
    answer to a plain question).
    `char_limit`: the channel's limit, measured by `counter` (graphemes, what users see as
    characters; X weighs links, CJK and emoji)."""
    rules = _rules(supported(language))
    folded = fold(text)   # same length as text: spans carry over
    moments = find_moments(text, language)

    findings = [f for rule_id in PATTERN_RULES if is_complaint or not rules[rule_id].complaints_only
                for f in rules[rule_id].findings(folded)]
    slow_rule = rules["slow_response_time"]
    slow_phrases = [m for p in slow_rule.patterns for m in p.finditer(folded)]
    findings += [slow_rule.finding(m.start(), m.end()) for m in slow_phrases
                 if slow_rule.applies(folded, m.start(), m.end())]
    findings += _slow_moments(slow_rule, moments, folded)
    vague_rule = rules["vague_promise"]
    # a promise with a moment, even a late one, is not vague
    if (is_complaint or not vague_rule.complaints_only) and not moments and not slow_phrases:
        findings += vague_rule.findings(folded)
    if is_complaint:
        findings += _no_empathy(rules["no_empathy"], text, folded)
    if char_limit is not None:
        findings += _too_long(rules["too_long"], text, char_limit, counter)
    return sorted(_merge_overlaps(findings), key=lambda f: (f.start, f.end, f.rule))


def _slow_moments(rule: _Rule, moments: list[Moment], folded: str) -> list[Finding]:
    return [rule.finding(m.start, m.end) for m in moments
            if m.delay_minutes is not None and m.delay_minutes > MINUTES_PER_DAY
            and rule.applies(folded, m.start, m.end)]


def _no_empathy(rule: _Rule, text: str, folded: str) -> list[Finding]:
    if not text.strip() or any(p.search(folded) for p in rule.patterns):
        return []
    # the first sentence, or the whole text when it has none ("!!!")
    start, end = (sentences(text) or [(0, len(text))])[0]
    return [rule.finding(start, len(text[:end].rstrip()))]


def _too_long(rule: _Rule, text: str, char_limit: int, counter: TextCounter) -> list[Finding]:
    # code-point offset where the text stops fitting (an emoji may be several code points)
    fits = counter.fitting_prefix(text, char_limit)
    return [] if fits == len(text) else [rule.finding(fits, len(text))]


def _merge_overlaps(findings: list[Finding]) -> list[Finding]:
    """One finding per rule per stretch of text: overlapping spans of a rule are joined."""
    merged: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.rule, f.start, -f.end)):
        last = merged[-1] if merged else None
        if last and last.rule == f.rule and f.start < last.end:
            if f.end > last.end:
                merged[-1] = Finding(last.rule, last.message, last.suggestion, last.start, f.end)
            continue
        merged.append(f)
    return merged
