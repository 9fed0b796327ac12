"""Alert values: JSON round trip for the outbox, stable keys, and refusals."""
from __future__ import annotations

from datetime import datetime

import pytest

from app.alerts import Alert, AlertGroup, dashboard_link, dedupe_key
from tests.support.alert_factories import NOW, alert, breach


def test_alert_and_group_survive_a_json_round_trip():
    group = AlertGroup([breach(1), alert("source_down", "reddit")])
    assert AlertGroup.from_dict(group.to_dict()) == group
    assert group.to_dict()["alerts"][0]["created_at"] == "2026-11-23T14:00:00+00:00"


def test_group_key_is_stable_across_order_and_the_lead_is_the_most_urgent():
    a, b = alert("warning", "1"), breach(2)
    assert AlertGroup([a, b]).dedupe_key == AlertGroup([b, a]).dedupe_key != AlertGroup([a]).dedupe_key
    assert AlertGroup([a]).dedupe_key == "warning:1"
    assert AlertGroup([a, b]).kind == "breached" and AlertGroup([a, b]).created_at == NOW


def test_dedupe_keys_for_events_and_repeats():
    assert dedupe_key("breached", 42) == "breached:42"
    assert dedupe_key("breached", 42, repeat=2) == "breached:42:r2"


def test_dashboard_links_are_absolute():
    assert dashboard_link("https://webcare.example.org/", "/mentions/42") == "https://webcare.example.org/mentions/42"
    assert dashboard_link("https://example.org/webcare", "mentions/7") == "https://example.org/webcare/mentions/7"
    with pytest.raises(ValueError, match="must be an http"):
        dashboard_link("javascript:alert(1)", "/x")


@pytest.mark.parametrize(("change", "message"), [
    ({"created_at": datetime(2026, 11, 23, 14, 0)}, "timezone-aware"),  # naive
    ({"kind": "page"}, "unknown alert kind"), ({"dedupe_key": ""}, "must not be empty"),
    ({"link": "javascript:alert(1)"}, "absolute http"), ({"link": "/relative"}, "absolute http"),
])
def test_invalid_alerts_are_refused(change, message):
    fields = {"kind": "test", "dedupe_key": "test:1", "title": "t", "summary": "s", "link": None, "created_at": NOW}
    with pytest.raises(ValueError, match=message):
        Alert(**{**fields, **change})


def test_empty_group_is_refused():
    with pytest.raises(ValueError, match="at least one alert"):
        AlertGroup([])
