"""The term syntax of app/craft/data/terms/ (documented in common.toml)."""
import re

import pytest

from app.craft.termlists import Doc, Heads, Term, TermList, within_one_edit

WEIGHTS = {"strong": 3, "normal": 2, "weak": 1}
DUTCH_HEADS = Heads(min_head=4, min_modifier=3, not_modifiers=frozenset({"ver", "nie"}))


def hits(terms: list[str], text: str, not_typos: list[str] = (), heads: Heads | None = None
         ) -> set[str]:
    term_list = TermList.from_data([{"strong": terms}], WEIGHTS, heads)
    guard = TermList.from_data([{"strong": list(not_typos)}], WEIGHTS)
    return set(term_list.hits(Doc.of(text, not_typos=guard)))


@pytest.mark.parametrize(("term", "text", "found"), [
    ("factuur", "Mijn factuur klopt niet", True),
    ("factuur", "Mijn facturen kloppen niet", False),
    ("bezorg*", "De bezorger was te laat", True),
    ("*storing", "Weer een stroomstoring", True),
    ("*kwaliteit*", "kwaliteitsproblemen", True),
    ("geen internet", "Al uren geen internet hier", True),
    ("geen internet", "internet geen probleem", False),
    ("rekent ... aan", "Proximus rekent mij nog altijd die optie aan", True),
    ("#not", "Super service #not", True),
    ("#not", "Nottingham is not my city", False),
    ("😡", "Belachelijk 😡", True),
    ("voor", "vóór vandaag", True),            # accents are folded away
    ("klantendienst", "De KLANTENDIENST belt niet", True),
    ("/[0-9],[0-9][0-9](?![0-9])/", "twee keer 49,99 betaald", True),      # a pattern
    ("/[0-9],[0-9][0-9](?![0-9])/", "om 14:30 thuis", False),
    ("/after (?:[0-9]+|one|two) weeks?/", "Snapped AFTER 2 weeks", True),  # lowercased text
])
def test_syntax(term, text, found):
    assert bool(hits([term], text)) is found


def test_words_inside_hashtags_and_handles():
    assert hits(["bestelling*"], "Nog niks #waarblijftmijnbestelling") == {"bestelling*"}
    assert hits(["storing*"], "Weer dit #ZiggoStoring") == {"storing*"}   # camelCase split
    assert hits(["parcel*"], "@DHLParcel_UK where is it") == {"parcel*"}
    assert hits(["ups"], "@GroupsNL help") == set()   # 3-letter terms only match whole words
    assert hits(["dhl"], "the @DHL guy") == {"dhl"}     # … which a handle's word can be
    assert hits(["postnl"], "@PostNL waar is het") == {"postnl"}   # the handle as one word
    assert hits(["dhl"], "@DHLL help") == set()          # no typos inside handles
    assert hits(["super"], "@JumboSupermarkt open?") == set()   # nothing inside a handle's words
    assert hits(["mast"], "@TicketmasterUK queue") == set()


def test_compound_heads_when_the_language_has_them():
    assert hits(["code"], "de activatiecode is verlopen", heads=DUTCH_HEADS) == {"code"}
    assert hits(["code"], "de sms-code komt niet", heads=DUTCH_HEADS) == {"code"}
    assert hits(["bezorg*"], "de pakketbezorging", heads=DUTCH_HEADS) == {"bezorg*"}
    assert hits(["code"], "de activatiecode is verlopen") == set()      # English: no heads
    assert hits(["wacht"], "had ik niet verwacht", heads=DUTCH_HEADS) == set()  # ver- prefix
    assert hits(["mand"], "niemand belt", heads=DUTCH_HEADS) == set()
    assert hits(["code"], "xcode", heads=DUTCH_HEADS) == set()          # modifier too short
    assert hits(["geld"], "netjes geregeld", heads=DUTCH_HEADS) == {"geld"}
    assert hits(["geld"], "netjes geregeld", not_typos=["geregeld"], heads=DUTCH_HEADS) == set()


@pytest.mark.parametrize(("term", "typo"), [
    ("klantenservice", "klantenserivce"),   # swapped letters
    ("geblokkeerd", "geblokeerd"),          # missing letter
    ("delivery", "delivry"),
    ("bezorg*", "bezrging"),                # typo in a stem
])
def test_one_typo_is_tolerated_on_longer_words(term, typo):
    assert hits([term], f"mijn {typo} probleem") == {term}


def test_typos_keep_the_first_letter():
    assert hits(["lights"], "no flights today") == set()
    assert hits(["borden"], "het moet anders worden") == set()
    assert hits(["scheur*"], "een cheurtje") == set()                   # stems too
    assert hits(["scheur*"], "een schuertje") == {"scheur*"}           # a typo further on


def test_a_bad_pattern_is_refused_when_the_lists_load():
    with pytest.raises(re.error, match="missing \\)"):
        Term.parse("/(unclosed/")


def test_short_words_and_listed_real_words_need_exact_matches():
    assert hits(["pakje"], "een pakjr") == set()                      # under six letters
    assert hits(["shipping"], "went shopping") == {"shipping"}        # one edit away …
    assert hits(["shipping"], "went shopping", not_typos=["shopping"]) == set()   # … unless listed


def test_within_one_edit():
    assert within_one_edit("abcdef", "abcdef")
    assert within_one_edit("abcdef", "abdcef")
    assert within_one_edit("abcdef", "abcdf")
    assert not within_one_edit("abcdef", "badcef")
    assert not within_one_edit("abc", "abcde")


def test_heaviest_weight_wins_for_a_term_listed_twice():
    term_list = TermList.from_data([{"weak": ["pakket"]}, {"strong": ["pakket"]}], WEIGHTS)
    assert term_list.score(Doc.of("mijn pakket")) == 3


def test_unknown_weight_level_is_refused():
    with pytest.raises(ValueError, match="unknown weight level"):
        TermList.from_data([{"huge": ["x"]}], WEIGHTS)
