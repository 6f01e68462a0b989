"""The results of a run: what every workload measured, as plain data ready for JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bench._timing import Stats

FORMAT_VERSION = 3  # 2: calls_per_s, ratio targets, checks and error; 3: rounds, CPU, statements


@dataclass(frozen=True)
class Spread:
    """The median of a value over a workload's rounds, with the lowest and highest."""

    median: float
    min: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        """The spread of ``values`` (at least one)."""
        ordered = sorted(values)
        n = len(ordered)
        mid = n // 2
        median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        return cls(median, ordered[0], ordered[-1])


@dataclass(frozen=True)
class Measurement:
    """One subject (datatier or a peer) doing one operation; ``stats`` is None when skipped."""

    subject: str
    operation: str
    stats: Stats | None = None
    peak_memory_bytes: int | None = None
    skipped: str | None = None
    calls_per_s: float | None = None  # set by per-call workloads, whose stats are per call
    # Set by the rounds of bench._rounds (each a median over the rounds, None where not measured):
    throughput: Spread | None = None  # operations per second, over the rounds
    client_cpu_us: float | None = None  # CPU time of the client process per operation
    server_cpu_us: float | None = None  # CPU time of the server's backends per operation
    statements_per_op: float | None = None  # SQL statements (pg_stat_statements), not BEGIN/SET...
    utility_per_op: float | None = None  # transaction control and session commands per operation
    rounds: int | None = None
    concurrency: int | None = None
    note: str | None = None  # how this subject does the operation, when worth saying


@dataclass(frozen=True)
class Ratio:
    """datatier's median over a peer's median for comparable operations (below 1: datatier faster)."""

    datatier: str
    peer: str
    value: float
    target: float | None = None  # the most the ratio may be, where the project set a target
    kind: str | None = None  # "floor", "best peer" or "limit" for the headline ratios

    @property
    def meets_target(self) -> bool | None:
        """Whether the ratio is within its target (None without one)."""
        return None if self.target is None else self.value <= self.target


@dataclass(frozen=True)
class Check:
    """Something a workload verified before timing, such as equal results of datatier and a peer."""

    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class WorkloadResult:
    """Everything one workload measured, with the inputs it used."""

    name: str
    description: str
    params: dict[str, Any]
    measurements: list[Measurement]
    ratios: list[Ratio] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    error: str | None = None  # why the workload failed; the rest of the run goes on

    def find(self, subject: str, operation: str) -> Measurement | None:
        """The measurement of ``operation`` by ``subject``, if there is one."""
        return next(
            (m for m in self.measurements if (m.subject, m.operation) == (subject, operation)),
            None,
        )


@dataclass(frozen=True)
class RunResult:
    """A whole run: when, where, in which mode, and every workload's result."""

    created_at: str
    mode: str
    environment: dict[str, Any]
    workloads: list[WorkloadResult]

    def to_json(self) -> dict[str, Any]:
        """The run as JSON-ready data (``format_version`` changes when the layout does)."""
        return {"format_version": FORMAT_VERSION, **asdict(self)}


def ratio(
    result_measurements: list[Measurement],
    datatier: str,
    peer: str,
    target: float | None = None,
    kind: str | None = None,
) -> Ratio | None:
    """datatier's time per operation over the peer's, when both were measured.

    The time is the median latency, except under concurrency (``concurrency`` > 1),
    where it is the inverse of the median throughput.
    """
    by_key = {f"{m.subject} {m.operation}": m for m in result_measurements}
    ours, theirs = by_key.get(datatier), by_key.get(peer)
    if ours is None or theirs is None or ours.stats is None or theirs.stats is None:
        return None
    return Ratio(datatier, peer, time_per_op(ours) / time_per_op(theirs), target, kind)


def time_per_op(m: Measurement) -> float:
    """Seconds per operation: the median latency, or 1/throughput when calls ran concurrently."""
    if m.concurrency is not None and m.concurrency > 1 and m.throughput is not None:
        return 1 / m.throughput.median
    assert m.stats is not None
    return m.stats.median_ms / 1e3
