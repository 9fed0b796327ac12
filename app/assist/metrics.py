"""AI draft figures for `/metrics`: drafts by outcome, tokens, model latency. Counted in the
process that served the draft (Prometheus scrapes each process; the counters start at zero)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, Metric, SummaryMetricFamily


@dataclass
class AssistStats:
    drafts: Counter[str] = field(default_factory=Counter)   # by outcome: ok, timeout, rate_limited, ...
    revisions: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0    # the time of every draft, its revision included
    model_calls: int = 0

    def record(self, outcome: str, *, seconds: float, calls: int, revised: bool,
               prompt_tokens: int, completion_tokens: int) -> None:
        self.drafts[outcome] += 1
        self.revisions += int(revised)
        self.model_seconds += seconds
        self.model_calls += calls
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens


class AssistCollector:
    """`stats` as Prometheus metrics, read at scrape time (prometheus_client's custom collector)."""

    def __init__(self, stats: AssistStats):
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        stats = self.stats
        drafts = CounterMetricFamily("webcare_assist_drafts", "AI drafts asked for, by outcome.", labels=["outcome"])
        for outcome, n in sorted(stats.drafts.items()):
            drafts.add_metric([outcome], n)
        yield drafts
        yield CounterMetricFamily("webcare_assist_revisions", "AI drafts revised once after the tone check.",
                                  value=stats.revisions)
        tokens = CounterMetricFamily("webcare_assist_tokens", "Tokens the model server counted, by kind.",
                                     labels=["kind"])
        tokens.add_metric(["prompt"], stats.prompt_tokens)
        tokens.add_metric(["completion"], stats.completion_tokens)
        yield tokens
        yield CounterMetricFamily("webcare_assist_model_requests",
                                  "Requests to the model server (a revision is a second).", value=stats.model_calls)
        yield SummaryMetricFamily("webcare_assist_draft_seconds",
                                  "Time from asking the model to the last word, per draft.",
                                  count_value=sum(stats.drafts.values()), sum_value=stats.model_seconds)
