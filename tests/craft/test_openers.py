"""The shipped opener library: coverage, personalisation, and every opener passes the tone check."""
import grapheme
import pytest

from app.craft import COMPLAINT_CATEGORIES, openers_for, validate_opener
from app.craft.openers import DM, TONES, all_openers

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
