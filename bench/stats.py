"""Percentiles and medians for the benchmark's figures."""

from __future__ import annotations

import asyncio
import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_ms(latencies: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 and max of latencies given in seconds, in milliseconds."""
    return {
        "p50": percentile(latencies, 50) * 1000,
        "p95": percentile(latencies, 95) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "max": (max(latencies) * 1000) if latencies else math.nan,
        "n": len(latencies),
    }


def median(values: Iterable[float]) -> float:
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(kept) if kept else math.nan


def median_of_runs(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Field by field median of same-shaped nested dicts of numbers (one per run)."""
    first = runs[0]
    merged: dict[str, Any] = {}
    for key, value in first.items():
        if isinstance(value, dict):
            merged[key] = median_of_runs([run[key] for run in runs if key in run])
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            merged[key] = value
        else:
            merged[key] = median(run.get(key, math.nan) for run in runs)
    return merged


def ratio(a: float, b: float) -> float:
    if b == 0 or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b


async def sleep_until(loop_time: float) -> None:
    loop = asyncio.get_running_loop()
    delay = loop_time - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)
