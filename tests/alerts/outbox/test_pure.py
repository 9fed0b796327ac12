"""The pure parts of the outbox: where a new row starts, how rows become messages, and
which past quarter-hours a spike is compared with."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.alerts.dispatcher import SinkUnavailable, build_sink, plan_batches
from app.alerts.outbox import GROUP_WAIT, SinkRule
from app.alerts.spikes.check import history_slots, window_start
from app.core.config import AlertConfig, ConfigError
from app.core.models import AlertOutbox
from tests.support.alert_factories import NOW, alert, breach
from tests.support.app import make_config

NIGHT = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)    # 23:30 in Amsterdam


def rule(**options) -> SinkRule:
    return SinkRule.of(AlertConfig(name="chat", kind="slack", url_env="U", **options), "Europe/Amsterdam")


def row(a, *, next_attempt_at=NOW, attempts=0, group_key=None, row_id=None) -> AlertOutbox:
    payload = {"alert": a.to_dict(), **({"group_key": group_key} if group_key else {})}
    return AlertOutbox(id=row_id, sink="chat", kind=a.kind, dedupe_key=a.dedupe_key, payload=payload,
                       created_at=a.created_at, next_attempt_at=next_attempt_at, attempts=attempts)


def test_new_rows_wait_for_their_burst_unless_muted_or_deferred():
    quiet = rule(quiet_hours="22:00-07:00")
    assert rule().placement(breach(1, at=NOW), NOW) == ("pending", NOW + GROUP_WAIT)
    assert rule().placement(breach(1, at=NOW - timedelta(hours=1)), NOW) == ("pending", NOW)
    assert quiet.placement(alert("warning", at=NIGHT), NIGHT) == ("muted", NIGHT)
    assert quiet.placement(breach(1, at=NIGHT), NIGHT) == ("pending", NIGHT + GROUP_WAIT)
    assert quiet.placement(alert("follow_up_due", at=NIGHT), NIGHT) == (
        "pending", datetime(2026, 11, 24, 6, 0, tzinfo=UTC))
    assert quiet.placement(alert("test", at=NIGHT), NIGHT) == ("pending", NIGHT)


def test_sink_filters_events_channels_and_categories():
    assert not rule(events=("breached",)).wants(alert("warning"))
    assert rule(events=("breached",)).wants(alert("test"))
    assert not rule(channels=("x",)).wants(breach(1))
    assert rule(channels=("mastodon",), categories=("delivery",)).wants(breach(1))
    assert not rule(categories=("billing",)).wants(breach(1))
    assert rule(categories=("billing",)).wants(alert("source_down"))


def test_a_burst_goes_out_when_its_first_row_is_due_taking_the_rest_along():
    first, second = breach(1, at=NOW), breach(2, at=NOW + timedelta(seconds=40))
    rows = [row(first, next_attempt_at=NOW + GROUP_WAIT, row_id=1),
            row(second, next_attempt_at=NOW + timedelta(seconds=40) + GROUP_WAIT, row_id=2)]
    assert plan_batches(rows, max_per_message=10, now=NOW + timedelta(seconds=59)) == []
    [batch] = plan_batches(rows, max_per_message=10, now=NOW + GROUP_WAIT)
    assert batch.ids == [1, 2] and batch.attempt == 1


def test_a_retried_group_is_sent_as_it_was_with_its_key():
    tried = [row(breach(i), attempts=2, group_key="group:abc", row_id=i) for i in (1, 2)]
    newcomer = row(breach(3), row_id=3)
    batches = plan_batches([*tried, newcomer], max_per_message=10, now=NOW)
    assert [b.ids for b in batches] == [[1, 2], [3]] and batches[0].attempt == 3


def test_history_compares_local_wall_clock_across_a_dst_change():
    # Monday 26 October 2026, 09:00 in Amsterdam (CET); a week earlier was 09:00 CEST.
    now = datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    slots = history_slots(now, "Europe/Amsterdam", weeks=2)
    assert slots[0] == (datetime(2026, 10, 19, 6, 45, tzinfo=UTC), datetime(2026, 10, 19, 7, 0, tzinfo=UTC))
    assert slots[1][1] == datetime(2026, 10, 12, 7, 0, tzinfo=UTC)
    assert window_start(datetime(2026, 10, 26, 8, 14, 59, tzinfo=UTC)) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_config_checks_quiet_hours_and_thread_by(tmp_path):
    def load(extra: str):
        return make_config(tmp_path, f'[[alerts]]\nname = "c"\nkind = "slack"\nurl_env = "U"\n{extra}\n')

    assert load('quiet_hours = "22:00-07:00"').alerts[0].quiet_hours == "22:00-07:00"
    with pytest.raises(ConfigError, match="quiet_hours: quiet hours must look like 22:00-07:00"):
        load('quiet_hours = "late"')
    with pytest.raises(ConfigError, match="thread_by applies to kind"):
        load('thread_by = "event"')


def test_sink_is_built_from_the_environment_with_its_options():
    env = {"U": "https://chat.example/hook", "S": "whsec_" + "a" * 40}
    chat = AlertConfig(name="g", kind="googlechat", url_env="U", thread_by="event")
    sink, url = build_sink(chat, env.get)
    assert url == "https://chat.example/hook" and sink.thread_by == "event"
    webhook = AlertConfig(name="w", kind="webhook", url_env="U", secret_env="MISSING")
    with pytest.raises(SinkUnavailable, match="environment variable MISSING is not set"):
        build_sink(webhook, env.get)
