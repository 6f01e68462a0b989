"""The workloads the suite knows, by name; each takes a ``RunConfig`` and returns a ``WorkloadResult``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from bench._resources import Resources
from bench._results import WorkloadResult


@dataclass(frozen=True)
class RunConfig:
    """How hard to measure (untimed warm-up calls and timed repetitions per operation), and
    what the run's workloads share (``resources``, closed by whoever made the config)."""

    warmup: int
    reps: int
    quick: bool = False
    resources: Resources = field(default_factory=Resources, compare=False, repr=False)

    @classmethod
    def for_mode(cls, quick: bool) -> RunConfig:
        """Full runs take 30 repetitions; ``--quick`` takes 3, enough to see that it works."""
        return cls(warmup=1, reps=3, quick=True) if quick else cls(warmup=3, reps=30)


Workload = Callable[[RunConfig], WorkloadResult]


# Workload families by name prefix, imported only when one of their workloads is asked for,
# so a family whose peers cannot be imported does not stop the others.
FAMILIES = {
    "schema": "bench.workloads.schema",
    # Before the client workloads, whose subjects keep their pools open until the run ends.
    "shop": "bench.workloads.shop",
    "client": "bench.workloads.client",
    "embedded": "bench.workloads.embedded",
    "limits": "bench.workloads.limits",
    "cache": "bench.workloads.cache",
    "http": "bench.workloads.http",
}


def _family(module_name: str) -> dict[str, Workload]:
    module = importlib.import_module(module_name)
    if hasattr(module, "WORKLOADS"):
        workloads: dict[str, Workload] = module.WORKLOADS
        return workloads
    return {module.NAME: module.run}


def all_workloads(families: list[str] | None = None) -> dict[str, Workload]:
    """Every workload (of ``families``, default all) by its dotted name, in the order they run."""
    chosen = FAMILIES if families is None else {k: v for k, v in FAMILIES.items() if k in families}
    return {name: run for module in chosen.values() for name, run in _family(module).items()}


def select(only: list[str] | None) -> dict[str, Workload]:
    """The workloads whose name equals, or starts with ``<name>.``, one of ``only`` (all if None)."""
    if not only:
        return all_workloads()
    prefixes = {want.split(".")[0] for want in only}
    workloads = all_workloads(list(prefixes)) if prefixes <= FAMILIES.keys() else all_workloads()
    chosen = {
        name: run
        for name, run in workloads.items()
        if any(name == want or name.startswith(want + ".") for want in only)
    }
    if not chosen:
        raise KeyError(f"no workload matches {', '.join(only)}; known: {', '.join(workloads)}")
    return chosen
