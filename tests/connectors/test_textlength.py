"""Reply lengths as each channel counts them: graphemes, and X's weighted count (expected
values as twitter-text v3 gives them: https://docs.x.com/fundamentals/counting-characters)."""
from __future__ import annotations

import pytest

from connectors.textlength import GRAPHEMES, X_URL_WEIGHT, X_WEIGHTED, same_text


@pytest.mark.parametrize(("text", "weight"), [
    ("Sorry voor het wachten!", 23),                                   # Latin: 1 each
    ("Ελληνικά Русский עברית", 22),                                    # U+0000–U+10FF: 1 each
    ("日本語", 6), ("한국어", 6), ("中文 ok", 7),                          # CJK, Hangul: 2 each
    ("😷", 2), ("👍🏽", 2), ("👩‍👩‍👧‍👦", 2), ("🇳🇱", 2), ("1️⃣", 2), ("©", 2),  # an emoji weighs 2 as a whole
    ("ok…", 4), ("“quote” – dash", 14),                                 # … weighs 2, the punctuation ranges 1
    ("e\u0301", 1),                                                     # NFC: é
    ("https://acme.example/a/very/long/path?with=query&and=more#frag", X_URL_WEIGHT),
    ("Zie acme.nl/status.", 4 + X_URL_WEIGHT + 1),                      # bare domain, trailing dot is text
    ("(zie https://acme.nl/a).", 5 + X_URL_WEIGHT + 2),
    ("Mail jan@acme.nl of @acme.nl", 28),                               # addresses and handles are no links
    ("http://localhost:8000", 21),                                      # no top-level domain: no link
    ("Hallo 12.30 uur, v1.2", 21),
])
def test_x_weighs_links_cjk_and_emoji(text, weight):
    assert X_WEIGHTED.length(text) == weight


def test_a_long_link_fits_where_len_would_refuse():
    text = "Excuses! De actuele stand vindt u hier: https://www.acme.nl/" + "s" * 300
    assert len(text) > 280 and X_WEIGHTED.length(text) == 40 + X_URL_WEIGHT


def test_words_with_a_dot_count_as_links_on_the_safe_side():
    assert X_WEIGHTED.length("klaar.Dank") == X_URL_WEIGHT  # X: 10 ("dank" is no top-level domain)


def test_cjk_reaches_the_limit_at_half_the_characters():
    assert X_WEIGHTED.length("谢" * 140) == 280 and X_WEIGHTED.length("谢" * 141) == 282


@pytest.mark.parametrize(("text", "limit", "fits"), [
    ("abc日本", 4, 3),            # 日 would make 5
    ("abc日本", 5, 4),
    ("ab 👩‍👩‍👧‍👦 cd", 4, 3),       # the family emoji (7 code points) fits whole or not at all
    ("ab 👩‍👩‍👧‍👦 cd", 5, 10),
    ("zie https://acme.nl/x nu", 10, 4),  # a link is one unit of 23
    ("kort", 280, 4),
])
def test_x_fitting_prefix_is_a_code_point_offset(text, limit, fits):
    assert X_WEIGHTED.fitting_prefix(text, limit) == fits


def test_graphemes_count_what_people_see():
    text = "Sorry 👩🏽‍💻 ok"
    assert GRAPHEMES.length(text) == 10 and len(text) == 13
    assert GRAPHEMES.fitting_prefix(text, 7) == 10 and GRAPHEMES.fitting_prefix(text, 99) == len(text)


def test_same_text_ignores_whitespace_only():
    assert same_text("Waar is\n\nmijn  pakket?", "Waar is mijn pakket? ")
    assert not same_text("Waar is mijn pakket?", "Waar is mijn pakket!")
