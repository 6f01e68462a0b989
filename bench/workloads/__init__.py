"""The workloads the suite knows, by name; each takes a ``RunConfig`` and returns a ``WorkloadResult``."""

from __future__ import annotations

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


def all_workloads() -> dict[str, Workload]:
    """Every workload by its dotted name, in the order they run."""
    from bench.workloads import client, schema

    return {schema.NAME: schema.run, **client.WORKLOADS}


def select(only: list[str] | None) -> dict[str, Workload]:
    """The workloads whose name equals, or starts with ``<name>.``, one of ``only`` (all if None)."""
    workloads = all_workloads()
    if not only:
        return workloads
    chosen = {
        name: run
        for name, run in workloads.items()
        if any(name == want or name.startswith(want + ".") for want in only)
    }
    if not chosen:
        raise KeyError(f"no workload matches {', '.join(only)}; known: {', '.join(workloads)}")
    return chosen
