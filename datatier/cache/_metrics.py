"""Cache metrics: plain counters on the hot path, Prometheus metric families on demand.

Counting is one dict increment (``counts[("hits", "memory", "Post")] += 1``); ``families``
turns the counters into ``datatier_cache_*`` metric families for a custom collector, so
the cache adds nothing to a request but the increment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

__all__ = ["COUNTERS", "CacheMetrics"]

# name -> help text; every counter is labelled by tier and model
COUNTERS = {
    "hits": "Cached reads answered from a tier",
    "misses": "Cached reads no tier could answer (the database was read)",
    "fills": "Values stored into a tier",
    "stale": "Stale values served while a refresh ran (stale-while-revalidate)",
    "evictions": "Entries evicted to keep the memory tier within its bounds",
    "bypass": "Reads sent to the database because the cache could not vouch for freshness",
    "errors": "Redis commands that failed (the read went on without Redis)",
}


class CacheMetrics:
    """Counters keyed by ``(name, tier, model)``."""

    def __init__(self) -> None:
        self.counts: defaultdict[tuple[str, str, str], int] = defaultdict(int)

    def get(self, name: str, tier: str = "", model: str | None = None) -> int:
        """A counter's value; ``model=None`` sums over models (``tier=""`` over tiers too)."""
        return sum(
            value
            for (n, t, m), value in self.counts.items()
            if n == name and (not tier or t == tier) and (model is None or m == model)
        )

    def families(
        self, invalidations: Mapping[str, int], memory_bytes: int, memory_entries: int
    ) -> Iterator[Metric]:
        """Prometheus families of every counter, plus the events applied per model and the
        memory tier's size."""
        for name, help_text in COUNTERS.items():
            family = CounterMetricFamily(
                f"datatier_cache_{name}", help_text, labels=("tier", "model")
            )
            for (n, tier, model), value in sorted(self.counts.items()):
                if n == name:
                    family.add_metric((tier, model), value)
            yield family
        applied = CounterMetricFamily(
            "datatier_cache_invalidations",
            "Change events applied (each makes older keys of its model unreachable)",
            labels=("model",),
        )
        for model, value in sorted(invalidations.items()):
            applied.add_metric((model,), value)
        yield applied
        yield _gauge("datatier_cache_bytes", "Bytes held by the memory tier", memory_bytes)
        yield _gauge("datatier_cache_entries", "Entries held by the memory tier", memory_entries)


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=("tier",))
    family.add_metric(("memory",), value)
    return family
