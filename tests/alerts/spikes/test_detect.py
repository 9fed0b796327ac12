"""Spike detection: robust to noisy, flat, missing and incident-polluted baselines."""
from __future__ import annotations

from app.alerts.spikes.detect import Spike, Thresholds, detect_spikes

WEEKS = [2, 3, 1, 2, 4, 2, 3, 2]


def test_a_clear_jump_is_a_spike_with_examples():
    [spike] = detect_spikes({"outage": 14, "billing": 3}, {"outage": WEEKS, "billing": WEEKS},
                            examples={"outage": ["m1", "m2", "m3", "m4"]})
    assert spike.key == "outage" and spike.count == 14 and spike.expected == 2
    assert spike.examples == ("m1", "m2", "m3") and spike.z is not None and spike.z >= 3


def test_a_busy_quarter_hour_is_not_a_spike():
    assert detect_spikes({"delivery": 5}, {"delivery": WEEKS}) == []          # 2.5x, under factor
    assert detect_spikes({"delivery": 4}, {"delivery": [0, 0, 0, 0]}) == []     # under min_count


def test_a_flat_zero_history_needs_more_than_one_extra_mention():
    assert detect_spikes({"product": 2}, {"product": [0] * 8}, Thresholds(min_count=1)) == []
    assert [s.key for s in detect_spikes({"product": 5}, {"product": [0] * 8})] == ["product"]


def test_a_past_incident_in_the_baseline_does_not_hide_todays():
    history = [2, 3, 2, 40, 2, 3, 2, 2]             # one incident week: the median ignores it
    [spike] = detect_spikes({"outage": 12}, {"outage": history})
    assert spike.expected == 2


def test_noisy_keys_need_a_bigger_jump():
    noisy = [1, 9, 2, 10, 1, 8, 3, 9]
    assert detect_spikes({"question": 16}, {"question": noisy}) == []
    assert detect_spikes({"question": 30}, {"question": noisy}) != []


def test_new_topic_without_history_needs_the_higher_absolute_bar():
    assert detect_spikes({"storing": 9}, {}) == []
    assert detect_spikes({"storing": 9}, {"storing": [0, 1]}) == []             # too little history
    [spike] = detect_spikes({"storing": 10}, {})
    assert spike == Spike("storing", 10, 0.0, (), None)


def test_spikes_are_ordered_most_unusual_first():
    found = detect_spikes({"a": 12, "b": 30, "c": 12}, {"a": [1] * 8, "b": [4] * 8, "c": [2] * 8})
    assert [s.key for s in found] == ["a", "b", "c"]
