"""Chart geometry for server-side SVG: the templates draw what these functions measure.

No JavaScript and no chart library: each function returns plain numbers (coordinates in a
fixed viewBox) and the figures behind them, so the SVG scales with the page and a screen
reader gets the same figures from the tables next to it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from app.reports.figures import Figures
from app.sla import DAY_KEYS

WIDTH, HEIGHT = 600, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 40, 10, 10, 30
HISTOGRAM_BINS_PER_TARGET = 6  # 10-minute bins for a 60-minute target
HISTOGRAM_TARGETS = 2  # bins up to twice the target, then one "longer" bin


@dataclass(frozen=True)
class Plot:
    """The drawing area inside the viewBox."""

    left: float = PAD_LEFT
    top: float = PAD_TOP
    width: float = WIDTH - PAD_LEFT - PAD_RIGHT
    height: float = HEIGHT - PAD_TOP - PAD_BOTTOM

    @property
    def bottom(self) -> float:
        return self.top + self.height


PLOT = Plot()


def _r(value: float) -> float:
    return round(value, 1)


def line_chart(days: list[date], by_day: dict[str, Figures]) -> dict:
    """% within target per local day; a day with nothing decided is a gap, not a zero."""
    step = PLOT.width / max(len(days) - 1, 1)
    points, segments, current = [], [], []
    for i, day in enumerate(days):
        figures = by_day.get(day.isoformat())
        pct = figures.pct_within_target if figures else None
        x = _r(PLOT.left + i * step) if len(days) > 1 else _r(PLOT.left + PLOT.width / 2)
        label = day.strftime("%d-%m")
        if pct is None:
            if current:
                segments.append(current)
            current = []
            points.append({"x": x, "y": None, "pct": None, "label": label, "day": day.isoformat()})
            continue
        y = _r(PLOT.bottom - PLOT.height * pct / 100)
        current.append(f"{x},{y}")
        points.append({"x": x, "y": y, "pct": pct, "label": label, "day": day.isoformat()})
    if current:
        segments.append(current)
    label_every = max(1, len(days) // 10)
    return {"width": WIDTH, "height": HEIGHT, "plot": PLOT, "points": points,
            "polylines": [" ".join(s) for s in segments], "label_every": label_every,
            "gridlines": [{"pct": p, "y": _r(PLOT.bottom - PLOT.height * p / 100)} for p in (0, 50, 100)]}


def histogram(response_times: Counter, target_seconds: int) -> dict:
    """First-response times in bins of target/6, the last bin holding everything from twice
    the target; a vertical line marks the target."""
    bin_seconds = max(1, target_seconds // HISTOGRAM_BINS_PER_TARGET)
    last = HISTOGRAM_BINS_PER_TARGET * HISTOGRAM_TARGETS
    counts = [0] * (last + 1)
    for seconds, n in response_times.items():
        counts[min(seconds // bin_seconds, last)] += n
    tallest = max(counts) or 1
    bar_width = PLOT.width / len(counts)
    bars = []
    for i, n in enumerate(counts):
        h = PLOT.height * n / tallest
        bars.append({"x": _r(PLOT.left + i * bar_width + 1), "y": _r(PLOT.bottom - h), "w": _r(bar_width - 2),
                     "h": _r(h), "count": n, "from_minutes": i * bin_seconds // 60,
                     "to_minutes": None if i == last else (i + 1) * bin_seconds // 60,
                     "late": i * bin_seconds >= target_seconds})
    target_x = _r(PLOT.left + bar_width * target_seconds / bin_seconds)
    return {"width": WIDTH, "height": HEIGHT, "plot": PLOT, "bars": bars, "target_x": target_x,
            "tallest": max(counts), "label_every": 2}


def heat_map(by_cell: dict[str, Figures]) -> dict:
    """Mentions per weekday × hour (cell strength) and the share that missed the target
    (cell colour, from green to red)."""
    cell_w, cell_h, left, top = 22, 22, 40, 20
    busiest = max((f.mentions for f in by_cell.values()), default=0) or 1
    rows = []
    for weekday, day_key in enumerate(DAY_KEYS):
        cells = []
        for hour in range(24):
            figures = by_cell.get(f"{day_key}-{hour:02d}")
            mentions = figures.mentions if figures else 0
            share = figures.pct_breached if figures and figures.pct_breached is not None else 0.0
            cells.append({"x": left + hour * cell_w, "y": top + weekday * cell_h, "hour": hour,
                          "mentions": mentions, "pct_breached": share if mentions else None,
                          "opacity": _r(0.15 + 0.85 * mentions / busiest) if mentions else 0,
                          "hue": round(120 * (1 - share / 100))})  # 120 green … 0 red
        rows.append({"day": day_key, "y": top + weekday * cell_h, "cells": cells})
    return {"width": left + 24 * cell_w, "height": top + 7 * cell_h, "cell_w": cell_w - 2, "cell_h": cell_h - 2,
            "left": left, "top": top, "rows": rows, "hours": list(range(0, 24, 3))}
