"""The tone check on the blind replies (tests/craft/tone_sets.py): false alarms on good replies
and recall per rule on bad ones, per language.

The held-out part is never read while tuning: only the figures this test prints are looked at,
and each look is counted in tests/craft/data/README.md. For Dutch it is the fresh blind set
(data/tone_fresh_nl.jsonl) from the day it arrived; the older Dutch replies, whose held-out
part had been looked at ten times, became tuning data. The dev part and our own paraphrases
(tests/craft/tone_paraphrases.py), which the rules are tuned on, guard against regressions."""
from collections import Counter
from dataclasses import dataclass, field

import pytest

from app.craft import RULE_IDS, check_reply

from .tone_sets import fresh_file, replies

LANGUAGES = ("nl", "en")
#: The issue's bar, per language, on the held-out part.
TARGET_FALSE_ALARMS = 0.03
TARGET_RECALL = 0.90
#: What the rules reach on each held-out set, where it is short of the bar: a floor (recall) or
#: ceiling (false alarms), not a goal, since tuning on held-out replies would spoil them as a
#: measure. Keyed by language and held-out set: "fresh" (data/tone_fresh_<lang>.jsonl) or "hash"
#: (60 % of data/tone_replies_<lang>.jsonl, for a language without a fresh set).
#: hash, measured 2026-12-05 after the second tuning: nl 61/69 = 88.4 %, en 59/65 = 90.8 %
#: (false alarms nl 1/81, en 1/86); the Dutch hash part has been tuning data since then.
#: fresh nl, third and last look 2026-12-05 (tests/craft/data/README.md): false alarms 1/93 =
#: 1.1 %, recall 141/155 = 91.0 %: the bar is met, so no floor is needed.
REACHED_RECALL = {("nl", "hash"): 61 / 69, ("en", "hash"): 59 / 65}
REACHED_FALSE_ALARMS: dict[tuple[str, str], float] = {}


@dataclass
class Figures:
    good: int = 0
    false_alarms: int = 0
    alarms: Counter = field(default_factory=Counter)   # rule → good replies it flagged
    caught: Counter = field(default_factory=Counter)   # rule → bad replies it flagged
    bad: Counter = field(default_factory=Counter)      # rule → bad replies that break it

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.good

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / sum(self.bad.values())


def measure(part: str, language: str) -> Figures:
    figures = Figures()
    for reply in replies(part):
        if reply.language != language:
            continue
        # the reply's context is what the customer wrote: complaint, praise or question
        found = {f.rule for f in check_reply(reply.text, language, is_complaint=reply.context == "complaint")}
        if reply.is_good:
            figures.good += 1
            figures.false_alarms += bool(found)
            figures.alarms.update(found)
        else:
            (rule,) = reply.expect
            figures.bad[rule] += 1
            figures.caught[rule] += rule in found
    return figures


def report(part: str, language: str, figures: Figures) -> None:
    recall = ", ".join(f"{rule} {figures.caught[rule]}/{n}" for rule, n in sorted(figures.bad.items()))
    alarms = ", ".join(f"{rule} {n}" for rule, n in sorted(figures.alarms.items())) or "none"
    print(f"\n{part} {language}: false alarms {figures.false_alarm_rate:.1%} "
          f"({figures.false_alarms}/{figures.good} good replies; by rule: {alarms}); "
          f"recall {figures.recall:.1%} ({sum(figures.caught.values())}/{sum(figures.bad.values())}); "
          f"recall per rule: {recall}")


def heldout_set(language: str) -> str:
    return "fresh" if fresh_file(language).exists() else "hash"


@pytest.mark.parametrize("language", LANGUAGES)
def test_heldout_replies_are_measured_against_the_bar(language):
    """Prints the figures and whether they meet the issue's bar; asserts the bar, or what is
    reached where it is not met (never tuned on these replies)."""
    figures = measure("heldout", language)
    which = heldout_set(language)
    report(f"held-out ({which})", language, figures)
    met = (figures.false_alarm_rate <= TARGET_FALSE_ALARMS, figures.recall >= TARGET_RECALL)
    print(f"held-out ({which}) {language}: false alarms <= {TARGET_FALSE_ALARMS:.0%}: "
          f"{'met' if met[0] else 'NOT met'}; recall >= {TARGET_RECALL:.0%}: {'met' if met[1] else 'NOT met'}")
    key = (language, which)
    assert figures.false_alarm_rate <= max(TARGET_FALSE_ALARMS, REACHED_FALSE_ALARMS.get(key, 0.0)) + 1e-9
    assert figures.recall >= min(TARGET_RECALL, REACHED_RECALL.get(key, TARGET_RECALL)) - 1e-9


@pytest.mark.parametrize("language", LANGUAGES)
def test_dev_replies_do_not_regress(language):
    figures = measure("dev", language)
    report("dev", language, figures)
    assert figures.false_alarms == 0
    assert figures.recall >= 0.95


@pytest.mark.parametrize("language", LANGUAGES)
def test_blind_sets_are_complete_and_well_formed(language):
    rows = [r for r in replies() if r.language == language]
    good = [r for r in rows if r.is_good]
    per_rule = Counter(r.expect[0] for r in rows if not r.is_good)
    assert len(good) >= 130
    assert {r.context for r in good} == {"complaint", "praise", "question"}
    assert all(len(r.expect) == 1 and r.context == "complaint" for r in rows if not r.is_good)
    assert set(per_rule) == set(RULE_IDS) - {"too_long"}
    assert min(per_rule.values()) >= 12
    # both parts hold every kind of reply
    assert {r.part for r in rows} == {"dev", "heldout"}


# Only the languages that have one (English is split by hash): no skipped test under CI.
@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if fresh_file(lang).exists()])
def test_a_fresh_heldout_set_is_well_formed_and_apart_from_the_tuning_replies(language):
    # counts only: a failure must not print the blind texts
    heldout = [r for r in replies("heldout") if r.language == language]
    dev_texts = {r.text for r in replies("dev")}
    good, bad = sum(r.is_good for r in heldout), sum(not r.is_good for r in heldout)
    malformed = sum(not r.is_good and (len(r.expect) != 1 or r.context != "complaint") for r in heldout)
    unknown_rules = sum(not r.is_good and r.expect[0] not in RULE_IDS for r in heldout)
    also_tuning = sum(r.text in dev_texts for r in heldout)
    assert (good > 0, bad > 0, malformed, unknown_rules, also_tuning) == (True, True, 0, 0, 0)
