"""Display helpers of the pages."""
from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup

from app.web.rendering import build_templates, local_time


def test_dates_carry_the_year_only_when_it_is_not_this_year():
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert local_time("2026-03-01T10:00:00+00:00", "Europe/Amsterdam", now=now) == "01-03 11:00"
    assert local_time("2025-12-31T23:30:00+00:00", "Europe/Amsterdam", now=now) == "01-01 00:30"  # team time
    assert local_time("2024-12-31T10:00:00+00:00", "Europe/Amsterdam", now=now) == "31-12-2024 11:00"
    assert local_time(None, "Europe/Amsterdam") == ""


def test_a_link_out_escapes_the_url_and_a_plain_label_but_not_a_translated_one():
    link = build_templates().env.globals["external_link"]
    hostile = 'https://x.example/p?a=1&b="><script>alert(1)</script>'
    html = link(hostile, "<b>post</b>")
    assert html == ('<a href="https://x.example/p?a=1&amp;b=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" '
                    'target="_blank" rel="noopener noreferrer nofollow">&lt;b&gt;post&lt;/b&gt;</a>')
    assert isinstance(html, Markup)
    assert link("https://x.example/1", Markup("Bekijk &amp; reageer")).endswith(">Bekijk &amp; reageer</a>")
    assert link(None, "post") == "" and link("", "post") == ""
