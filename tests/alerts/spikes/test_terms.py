"""What counts as a term for spikes, and the `[spikes]` config that tunes detection."""
from __future__ import annotations

import re

import pytest

from app.alerts.spikes.check import ignored_terms
from app.alerts.spikes.detect import Thresholds
from app.alerts.spikes.terms import mention_terms
from app.alerts.spikes.topic import Topic
from app.core.config import ConfigError, load_config
from tests.support.alert_factories import HOSTILE


def test_terms_are_the_content_words_of_a_mention():
    text = ("Al 2 uur GEEN internet!! #ZiggoStoring @acme@social.example https://status.example/x "
            "bestelling 123456 is er nog niet, het is echt een storing")
    assert mention_terms(text) == {"internet", "ziggo", "storing", "bestelling"}


def test_terms_from_hostile_text_carry_no_markup():
    terms = mention_terms(HOSTILE + " <!channel> @everyone [klik](http://evil.example) <at>x</at> __vet__ ~~weg~~")
    assert terms and all(re.fullmatch(r"[^\W_]+(?:['’-][^\W_]+)*", t) for t in terms)
    assert not any("evil" in t or "@" in t for t in terms)


def test_a_term_topic_covers_whole_words_only():
    storing = Topic.term("Storing")
    assert storing.subject == "term:storing" and storing.queue_filter == {"q": "storing"}
    assert storing.covers(None, "Weer een STORING! #storing")
    assert storing.covers(None, "#ZiggoStoring sinds vanochtend")        # hashtags count by their words
    assert not storing.covers(None, "Verstoring van de nachtrust")
    assert Topic.from_subject("term:storing") == storing and Topic.from_subject("outage") == Topic.category("outage")
    with pytest.raises(ValueError, match="either a category or a term"):
        Topic.given("outage", "storing")
    with pytest.raises(ValueError, match="a term is one word"):
        Topic.given(None, "geen internet")


def write(tmp_path, text: str):
    path = tmp_path / "webcare.toml"
    path.write_text(text)
    return load_config(path)


def test_ignored_words_are_the_brand_its_accounts_source_queries_and_configured_words(tmp_path):
    config = write(tmp_path, """
[brand]
name = "Acme Bank"
own_accounts = ["acmebank@mastodon.social"]
[spikes]
ignore_terms = ["Superfoon"]
[[sources]]
name = "masto"
kind = "mastodon"
hashtags = ["acmestoring"]
[[sources]]
name = "x"
kind = "x"
query = "acme OR \\"acme bank\\" -is:retweet"
bearer_token_env = "X_TOKEN"
""")
    ignored = ignored_terms(config)
    assert {"acme", "bank", "acmebank", "mastodon", "superfoon", "acmestoring", "retweet"} <= ignored
    assert mention_terms("@AcmeBank Acme Bank superfoon #acmestoring kapot", ignored) == {"kapot"}


def test_spike_thresholds_default_and_configurable(tmp_path):
    assert write(tmp_path, "").spikes.thresholds == Thresholds()
    config = write(tmp_path, "[spikes]\nmin_count = 3\nfactor = 2.5\nmin_z = 2\nnew_topic_count = 6\nterms = false\n")
    assert config.spikes.thresholds == Thresholds(min_count=3, factor=2.5, min_z=2.0, new_topic_count=6)
    assert config.spikes.terms is False


@pytest.mark.parametrize(("text", "expected"), [
    ("[spikes]\nmin_cout = 3\n", "[spikes].min_cout: unknown key"),
    ("[spikes]\nfactor = 0.5\n", "[spikes].factor: Input should be greater than or equal to 1"),
    ("[spikes]\nmin_count = 0\n", "[spikes].min_count: Input should be greater than or equal to 1"),
    ("[spikes]\nmin_count = 8\nnew_topic_count = 5\n", "new_topic_count (5) must be at least min_count (8)"),
    ("[spikes]\nignore_terms = \"acme\"\n", "[spikes].ignore_terms"),
])
def test_bad_spike_settings_name_the_key_and_the_problem(tmp_path, text, expected):
    with pytest.raises(ConfigError) as err:
        write(tmp_path, text)
    assert expected in str(err.value)
