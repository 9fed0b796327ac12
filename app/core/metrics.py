"""What this process counts for `/metrics` (Prometheus, through prometheus_client).

Counters and histograms live in the process that does the work: a web process times its
requests and feeds its event streams, whoever runs the worker polls and delivers alerts. Each
process exposes its own; with `PROMETHEUS_MULTIPROC_DIR` set (a folder shared by the
processes of one machine, emptied before they start) prometheus_client keeps them in files and
any process's `/metrics` answers for all of them. Figures that live in the database (the open
queue, the outbox) are read at scrape time instead: see app/reports/ops_figures.py.
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_SECONDS = Histogram(
    "webcare_http_request_duration_seconds", "Time to answer a request, per route template.",
    ["method", "route", "status"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10), registry=REGISTRY)
EVENTS_DELIVERED = Counter(
    "webcare_events_delivered", "Change events handed to open event streams (one per stream).", registry=REGISTRY)
SSE_CLIENTS = Gauge("webcare_sse_clients", "Open event streams.", multiprocess_mode="livesum", registry=REGISTRY)
POLL_SECONDS = Histogram(
    "webcare_poll_duration_seconds", "Time a source's poll took, pages and re-checks included.", ["source"],
    buckets=(.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120), registry=REGISTRY)
POLL_FAILURES = Counter("webcare_poll_failures", "Failed polls per source and kind of failure.",
                        ["source", "kind"], registry=REGISTRY)
INTAKE_SECONDS = Histogram(
    "webcare_intake_latency_seconds", "From a mention's posting to its storing (backfill left out).", ["source"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600), registry=REGISTRY)
ALERT_DELIVERIES = Counter("webcare_alert_deliveries", "Chat messages tried per sink and outcome.",
                           ["sink", "outcome"], registry=REGISTRY)


def observe_intake(source: str, waits: Iterable[float]) -> None:
    histogram = INTAKE_SECONDS.labels(source)
    for seconds in waits:
        histogram.observe(max(seconds, 0.0))


def exposition() -> bytes:
    """This process's metrics (every process's, in multiprocess mode) as exposition text."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
