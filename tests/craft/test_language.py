"""Language detection: the channel's tag first, py3langid on cleaned text otherwise."""
import pytest

from app.craft import detect_language
from app.craft import language as language_module

from .labelled import load_posts


def test_language_accuracy_on_labelled_posts():
    posts = load_posts("labelled_posts.jsonl") + load_posts("heldout_posts.jsonl")
    wrong = [(p["language"], detect_language(p["text"], tag=None), p["text"]) for p in posts
             if detect_language(p["text"], tag=None) != p["language"]]
    accuracy = 1 - len(wrong) / len(posts)
    print(f"\nlanguage accuracy: {accuracy:.1%} of {len(posts)} posts; wrong: {wrong}")
    assert accuracy >= 0.95


@pytest.mark.parametrize(("tag", "expected"), [("nl", "nl"), ("nl-BE", "nl"), ("EN_gb", "en"),
                                               ("de", "de")])
def test_allowed_channel_tag_wins(tag, expected):
    assert detect_language("This text is clearly English, isn't it?", tag=tag) == expected


@pytest.mark.parametrize("tag", ["es", "und", "", None])
def test_unusable_tag_falls_back_to_detection(tag):
    assert detect_language("Mijn pakket is nog steeds niet bezorgd", tag=tag) == "nl"


def test_hashtags_mentions_urls_and_emoji_do_not_decide():
    text = "@KPN_Webcare @support waarom is mijn internet weer traag 😡😡 https://t.co/abcdef #fail #help #service"
    assert detect_language(text, tag=None) == "nl"


def test_detection_is_restricted_to_allowed_languages():
    spanish = "¿Por qué mi paquete todavía no ha llegado a casa?"
    assert detect_language(spanish, tag=None, allowed=("nl", "en")) in ("nl", "en")
    assert detect_language("Warum ist mein Paket immer noch nicht da?", tag=None) == "de"
    assert detect_language("Pourquoi mon colis n'est toujours pas arrivé ?", tag=None) == "fr"


def test_short_posts_fall_back_to_the_teams_language():
    assert detect_language("@bol 😡😡 #fail", tag=None) == "nl"
    assert detect_language("ok?", tag=None, allowed=("en", "nl")) == "en"
    assert detect_language("👍", tag=None, default="en") == "en"


def test_one_model_opened_lazily_once():
    detect_language("Dit is een Nederlandse zin over een factuur.", tag=None)
    first = language_module._model
    detect_language("This is an English sentence about a bill.", tag=None, allowed=("en", "fr"))
    assert first is not None and language_module._model is first


def test_empty_allowed_is_refused():
    with pytest.raises(ValueError, match="at least one language"):
        detect_language("hallo", tag=None, allowed=())
