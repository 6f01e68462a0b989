"""Delivery lag of change events: from the writer's transaction start to applied here."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["LagStats", "LagSummary"]


@dataclass(frozen=True, slots=True)
class LagSummary:
    """Lag quantiles in seconds over the kept samples, and how many events were measured."""

    count: int
    p50: float
    p99: float
    max: float


class LagStats:
    """A bounded window of lag samples (seconds); ``summary()`` gives p50/p99/max.

    Adding a sample is an append to a deque (the write path adds one per applied event);
    quantiles are computed only when asked for (metrics scrape, reports).
    """

    def __init__(self, window: int = 100_000) -> None:
        self._samples: deque[float] = deque(maxlen=window)
        self.count = 0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        """Record one event's lag (negative values, from clock skew, count as 0)."""
        seconds = max(0.0, seconds)
        self._samples.append(seconds)
        self.count += 1
        if seconds > self.max:
            self.max = seconds

    def summary(self) -> LagSummary:
        """p50 and p99 of the kept samples, the max of all samples since start."""
        if not self._samples:
            return LagSummary(self.count, 0.0, 0.0, self.max)
        ordered = sorted(self._samples)
        last = len(ordered) - 1
        return LagSummary(
            self.count, ordered[round(last * 0.5)], ordered[round(last * 0.99)], self.max
        )

    def clear(self) -> None:
        """Forget every sample (a load test measures one phase)."""
        self._samples.clear()
        self.count = 0
        self.max = 0.0
