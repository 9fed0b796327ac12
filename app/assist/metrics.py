"""AI draft figures for `/metrics`: drafts by outcome, tokens, model latency. Counted in the
process that served the draft (Prometheus scrapes each process; the counters start at zero)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


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


def prometheus_lines(stats: AssistStats) -> list[str]:
    lines = ["# HELP webcare_assist_drafts_total AI drafts asked for, by outcome.",
             "# TYPE webcare_assist_drafts_total counter"]
    lines += [f'webcare_assist_drafts_total{{outcome="{outcome}"}} {n}' for outcome, n in sorted(stats.drafts.items())]
    lines += ["# HELP webcare_assist_revisions_total AI drafts revised once after the tone check.",
              "# TYPE webcare_assist_revisions_total counter", f"webcare_assist_revisions_total {stats.revisions}",
              "# HELP webcare_assist_tokens_total Tokens the model server counted, by kind.",
              "# TYPE webcare_assist_tokens_total counter",
              f'webcare_assist_tokens_total{{kind="prompt"}} {stats.prompt_tokens}',
              f'webcare_assist_tokens_total{{kind="completion"}} {stats.completion_tokens}',
              "# HELP webcare_assist_model_requests_total Requests to the model server (a revision is a second).",
              "# TYPE webcare_assist_model_requests_total counter",
              f"webcare_assist_model_requests_total {stats.model_calls}",
              "# HELP webcare_assist_draft_seconds Time from asking the model to the last word, per draft.",
              "# TYPE webcare_assist_draft_seconds summary",
              f"webcare_assist_draft_seconds_sum {stats.model_seconds:.3f}",
              f"webcare_assist_draft_seconds_count {sum(stats.drafts.values())}"]
    return lines
