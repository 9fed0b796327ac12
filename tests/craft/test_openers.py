"""The shipped opener library: coverage, personalisation, and every opener passes the tone check."""
import grapheme
import pytest

from app.craft import COMPLAINT_CATEGORIES, openers_for, validate_opener
from app.craft.datafiles import load
from app.craft.openers import DM, FACTS, NEUTRAL, TONES, _facts, all_openers, facts_in, fitting

LANGUAGES = ("nl", "en")
#: Bluesky allows 300 graphemes; leave room for a long name and a signature.
MAX_GRAPHEMES = 280


def shipped():
    for language in LANGUAGES:
        for (category, tone), openers in all_openers(language).items():
            for opener in openers:
                yield language, category, tone, opener


@pytest.mark.parametrize(("language", "category", "tone", "opener"), list(shipped()),
                         ids=lambda v: getattr(v, "id", None))
def test_every_shipped_opener_passes_the_tone_check(language, category, tone, opener):
    assert validate_opener(opener.text, language, category=category) == []
    for filled in openers_for(language, category, tone, customer_name=None, signature="^AB"):
        if filled.id == opener.id:
            assert "{" not in filled.text
            assert grapheme.length(filled.text) <= MAX_GRAPHEMES


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("tone", TONES)
def test_library_covers_every_category(language, tone):
    library = all_openers(language)
    for category in COMPLAINT_CATEGORIES:
        assert len(library[(category, tone)]) >= 3, category
    for category in ("question", "praise", DM):
        assert library[(category, tone)], category


def test_tones_use_u_and_je():
    formal = " ".join(o.text for o in all_openers("nl")[("delivery", "formal")])
    informal = " ".join(o.text for o in all_openers("nl")[("delivery", "informal")])
    assert " u " in formal and " je " not in formal
    assert " je " in informal and " u " not in informal


def test_name_and_signature_are_filled_in():
    (first, *_) = openers_for("nl", "delivery", "informal", customer_name="Sanne", signature="^AB")
    assert first.text.startswith("Hoi Sanne, ")
    assert first.text.endswith(" ^AB")
    assert first.id == "nl.delivery.informal.waiting"


@pytest.mark.parametrize("language", LANGUAGES)
def test_unknown_name_leaves_no_artefacts(language):
    for category in (*COMPLAINT_CATEGORIES, "question", "praise"):
        for tone in TONES:
            for opener in openers_for(language, category, tone, customer_name=None, signature=None):
                text = opener.text
                assert not text.startswith((",", " ")) and text[0].isupper(), text
                assert " ," not in text and "  " not in text and "{name}" not in text, text


def test_name_dropping_examples():
    (hallo, wat, _) = openers_for("nl", "delivery", "formal", customer_name="  ", signature=None)
    assert hallo.text.startswith("Hallo, ik kan me")
    assert wat.text.startswith("Wat vervelend dat u")


def test_unknown_language_gets_english_and_unknown_category_other():
    english = openers_for("pt", "billing", "formal", customer_name="Ana", signature=None)
    assert next(o.id for o in english).startswith("en.billing.formal.")
    other = openers_for("nl", "weather", "formal", customer_name=None, signature=None)
    assert all(o.id.startswith("nl.other.formal.") for o in other)


def test_private_post_leads_with_move_to_dm():
    openers = openers_for("en", "account", "informal", customer_name="Sam", signature="^JS", private=True)
    assert openers[0].id == "en.dm.informal.private"
    assert "DM" in openers[0].text
    assert len(openers) == 1 + len(all_openers("en")[("account", "informal")])


def test_unknown_tone_is_refused():
    with pytest.raises(ValueError, match="tone must be one of"):
        openers_for("nl", "delivery", "casual", customer_name=None, signature=None)


def test_validate_opener_flags_tone_mistakes_and_unknown_placeholders():
    text = "Hoi {voornaam}, we komen erop terug."
    findings = validate_opener(text, "nl")
    assert {f.rule for f in findings} == {"unknown_placeholder", "vague_promise", "no_empathy"}
    placeholder = next(f for f in findings if f.rule == "unknown_placeholder")
    assert text[placeholder.start:placeholder.end] == "{voornaam}"
    vague = next(f for f in findings if f.rule == "vague_promise")
    assert text[vague.start:vague.end] == "we komen erop terug"


def test_validate_opener_offsets_refer_to_the_opener_as_written():
    text = "{name}, onze expeditie heeft er een zooitje van gemaakt, sorry!"
    (finding,) = validate_opener(text, "nl")
    assert finding.rule == "blame_others"
    assert text[finding.start:finding.end].startswith("onze expeditie")


def test_praise_opener_needs_no_apology():
    assert validate_opener("Dank je wel, {name}! We geven het door.", "nl", category="praise") == []


# --- Openers that fit the post: nothing taken for granted that the post does not say. ---


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_assumed_fact_is_defined_and_each_category_has_openers_that_assume_nothing(language):
    terms, _ = _facts(language)
    assert FACTS not in {category for category, _tone in all_openers(language)}
    for (category, tone), openers in all_openers(language).items():
        for opener in openers:
            assert set(opener.assumes) <= set(terms), opener.id
        if category in COMPLAINT_CATEGORIES:
            assert [o for o in openers if not o.assumes], (category, tone)
    assert set(load("openers", language)[FACTS]["terms"]) == set(terms)


@pytest.mark.parametrize(("language", "post", "facts"), [
    ("en", "My account has been blocked since yesterday!", {"account_blocked"}),
    ("en", "How do I change my e-mail address?", set()),
    ("en", "I looked at my account settings", set()),
    ("en", "Charged twice for one order, £12.99 each", {"money_taken", "amount_named"}),
    ("nl", "Mijn account is geblokkeerd, ik kan niet inloggen", {"account_blocked", "cannot_log_in"}),
    ("nl", "Waar blijft mijn pakket? Nog steeds niet bezorgd", {"not_arrived"}),
    ("nl", "Hoe wijzig ik mijn e-mailadres?", set()),
])
def test_facts_come_from_what_the_post_says(language, post, facts):
    assert facts_in(post, language) == facts


@pytest.mark.parametrize(("language", "post"), [
    ("en", "I can't change my email address in the app, it keeps failing"),
    ("nl", "Ik kan mijn e-mailadres niet aanpassen in de app, het mislukt steeds"),
])
def test_an_account_post_without_a_block_never_hears_it_is_blocked(language, post):
    for tone in TONES:
        suggested = fitting(language, "account", tone, post)
        assert suggested and not [o for o in suggested if "account_blocked" in o.assumes]
        texts = " ".join(o.text for o in suggested).lower()
        assert "blocked" not in texts and "geblokkeerd" not in texts


def test_a_post_that_states_the_fact_gets_the_opener_built_on_it_first():
    (first, *_) = openers_for("en", "account", "formal", customer_name="Sam", signature=None,
                              post="Why is my account blocked?? I paid everything")
    assert first.id == "en.account.formal.blocked" and first.assumes == ("account_blocked",)
    (waiting, *_) = openers_for("nl", "delivery", "informal", customer_name=None, signature=None,
                                post="Mijn pakket is nog steeds niet bezorgd")
    assert waiting.id == "nl.delivery.informal.waiting"
    missed = openers_for("nl", "delivery", "informal", customer_name=None, signature=None,
                         post="Mijn pakket is nog steeds niet bezorgd")
    assert "nl.delivery.informal.missed" not in [o.id for o in missed]  # nobody said they waited in


@pytest.mark.parametrize(("language", "category", "post"), [
    ("en", "other", "your app is rubbish"),
    ("en", "outage", "What a day, honestly."),   # a guess: no term names an outage
    ("nl", "billing", "Kan iemand mij even bellen?"),
])
def test_when_the_category_is_a_guess_the_openers_are_neutral(language, category, post):
    for tone in TONES:
        suggested = fitting(language, category, tone, post)
        assert suggested and all(o.id.startswith(f"{language}.{NEUTRAL}.{tone}.") for o in suggested)
        assert all(not o.assumes for o in suggested)
