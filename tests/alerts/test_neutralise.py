"""Per-tool escaping of customer text."""
from __future__ import annotations

import pytest

from app.alerts import neutralise
from app.alerts.neutralise import ZWSP


@pytest.mark.parametrize("word", ["@channel", "@here", "@everyone", "@all", "@klant"])
def test_at_names_are_defused_everywhere(word):
    for escape in (neutralise.slack, neutralise.slack_plain, neutralise.markdown, neutralise.teams,
                   neutralise.html_text, neutralise.googlechat_text):
        assert word not in escape(f"hey {word}!")
        assert word[1:] in escape(f"hey {word}!")      # still readable


def test_slack_escapes_control_characters_and_tokens():
    assert neutralise.slack("a & b <!channel> <http://evil|click>") == \
        "a &amp; b &lt;!channel&gt; &lt;http://evil|click&gt;"
    assert neutralise.slack_plain("<@U123>") == f"<{ZWSP}@{ZWSP}U123>"


def test_markdown_escapes_links_and_emphasis_but_keeps_ordinary_punctuation():
    assert neutralise.markdown("[click](http://evil) *b* _i_ ~s~ `c` ||sp||") == \
        r"\[click\]\(http://evil\) \*b\* \_i\_ \~s\~ \`c\` \|\|sp\|\|"
    assert (neutralise.markdown("# kop\n- punt\n1. een\nprijs 1.50, a-b")
            == "\\# kop\n\\- punt\n1\\. een\nprijs 1.50, a-b")
    assert neutralise.markdown("<@&123>") == f"\\<{ZWSP}@&123\\>"     # the role ping needs its <


def test_html_text_escapes_tags_for_google_chat_cards():
    assert neutralise.html_text('<a href="http://evil">x</a> <users/all>') == \
        "&lt;a href=&quot;http://evil&quot;&gt;x&lt;/a&gt; &lt;users/all&gt;"


def test_google_chat_text_breaks_formatting_and_angle_links():
    out = neutralise.googlechat_text("*bold* <http://evil|x>")
    assert "*bold*" not in out and "<http" not in out and out.replace(ZWSP, "") == "*bold* <http://evil|x>"


def test_teams_defuses_at_tags():
    assert "<at>" not in neutralise.teams("<at>Bob</at>")


def test_truncate():
    assert neutralise.truncate("abcdef", 4) == "abc…"
    assert neutralise.truncate("abc", 4) == "abc"
    assert neutralise.truncate("abc", 0) == ""
