"""Timing and memory measurement shared by every workload."""

from __future__ import annotations

import gc
import math
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Stats:
    """Summary of repeated timings, in milliseconds."""

    reps: int
    min_ms: float
    median_ms: float
    p95_ms: float
    max_ms: float
    p99_ms: float | None = None  # None in results written before it existed

    @classmethod
    def from_ns(cls, samples: Sequence[int]) -> Stats:
        """Summarise wall-clock samples given in nanoseconds (p95 and p99 by nearest rank)."""
        if not samples:
            raise ValueError("no samples to summarise")
        ordered = sorted(samples)
        n = len(ordered)
        mid = n // 2
        median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        p95 = ordered[max(0, math.ceil(0.95 * n) - 1)]
        p99 = ordered[max(0, math.ceil(0.99 * n) - 1)]
        return cls(n, ordered[0] / 1e6, median / 1e6, p95 / 1e6, ordered[-1] / 1e6, p99 / 1e6)


def time_calls(fn: Callable[[], object], *, warmup: int, reps: int) -> Stats:
    """Call ``fn`` ``warmup`` times untimed, then ``reps`` times timed, collecting garbage between."""
    for _ in range(warmup):
        fn()
    samples: list[int] = []
    for _ in range(reps):
        gc.collect()
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    return Stats.from_ns(samples)


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak bytes allocated by Python (tracemalloc) during one call of ``fn``."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
