"""Rounds of interleaved blocks: every subject makes the same calls once per round, the order rotating.

``run_rounds`` warms every subject up, then for each round lets every subject run
the whole argument list as one block (sequentially, or from ``concurrency`` tasks
sharing the list), the first subject of a round rotating so machine noise hits all
alike. Each call is timed on its own; around each block it records the wall time,
the CPU time of this process and what the server did (``bench._probe``).
``summarize`` turns a subject's blocks into a ``Measurement``: latencies pooled over
the rounds, throughput / CPU / statements per operation as medians over the rounds
with the throughput's min-max spread.
"""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bench._probe import ServerProbe, ServerUsage
from bench._results import Measurement, Spread
from bench._timing import Stats

Call = Callable[[int], Awaitable[object]]


@dataclass(frozen=True)
class Block:
    """One subject's block in one round."""

    ops: int
    wall_s: float
    client_cpu_s: float
    server: ServerUsage | None


@dataclass
class SubjectRun:
    """Everything measured of one subject: per-call samples (ns) and its blocks."""

    samples_ns: list[int] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


async def run_rounds(
    calls: Sequence[Call],
    args: Sequence[int],
    *,
    rounds: int,
    warmup: int,
    concurrency: int = 1,
    probe: ServerProbe | None = None,
) -> list[SubjectRun]:
    """Run every call over ``args`` once per round (see the module docstring); one run per call."""
    if not args:
        raise ValueError("no arguments to call with")
    for call in calls:
        await _block(call, [args[j % len(args)] for j in range(warmup)], concurrency)
    # What exists now (modules, pools, caches) lives through the run: frozen out of the
    # collector, so the collection before each block scans only what the calls made.
    gc.collect()
    gc.freeze()
    try:
        return await _rounds(calls, args, rounds, concurrency, probe)
    finally:
        gc.unfreeze()


async def _rounds(
    calls: Sequence[Call],
    args: Sequence[int],
    rounds: int,
    concurrency: int,
    probe: ServerProbe | None,
) -> list[SubjectRun]:
    runs = [SubjectRun() for _ in calls]
    for number in range(rounds):
        for turn in range(len(calls)):
            index = (number + turn) % len(calls)
            gc.collect()
            before = await probe.sample() if probe is not None else None
            cpu = time.process_time()
            wall = time.perf_counter_ns()
            samples = await _block(calls[index], args, concurrency)
            wall = time.perf_counter_ns() - wall
            cpu = time.process_time() - cpu
            usage = None
            if probe is not None and before is not None:
                usage = ServerProbe.usage(before, await probe.sample())
            runs[index].samples_ns += samples
            runs[index].blocks.append(Block(len(args), wall / 1e9, cpu, usage))
    return runs


async def _block(call: Call, args: Sequence[int], concurrency: int) -> list[int]:
    clock = time.perf_counter_ns
    samples: list[int] = []
    if concurrency <= 1:
        for arg in args:
            begin = clock()
            await call(arg)
            samples.append(clock() - begin)
        return samples
    position = 0

    async def worker() -> None:
        nonlocal position
        while position < len(args):
            arg = args[position]
            position += 1
            begin = clock()
            await call(arg)
            samples.append(clock() - begin)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples


async def peak_memory_async(call: Call, arg: int) -> int:
    """Peak bytes allocated by Python (tracemalloc) during one awaited call."""
    gc.collect()
    tracemalloc.start()
    try:
        await call(arg)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _median(values: list[float]) -> float | None:
    return Spread.of(values).median if values else None


def summarize(
    subject: str,
    operation: str,
    run: SubjectRun,
    *,
    concurrency: int = 1,
    peak_memory_bytes: int | None = None,
    note: str | None = None,
) -> Measurement:
    """``run`` as a measurement: pooled latencies, medians over the rounds, the throughput's spread."""
    blocks = run.blocks
    throughput = Spread.of([b.ops / b.wall_s for b in blocks])
    server = [(b.ops, b.server) for b in blocks if b.server is not None]
    return Measurement(
        subject,
        operation,
        Stats.from_ns(run.samples_ns),
        peak_memory_bytes=peak_memory_bytes,
        calls_per_s=throughput.median,
        throughput=throughput,
        client_cpu_us=_median([b.client_cpu_s / b.ops * 1e6 for b in blocks]),
        server_cpu_us=_median([s.cpu_s / n * 1e6 for n, s in server if s.cpu_s is not None]),
        statements_per_op=_median(
            [s.statements / n for n, s in server if s.statements is not None]
        ),
        utility_per_op=_median([s.utility / n for n, s in server if s.utility is not None]),
        rounds=len(blocks),
        concurrency=concurrency,
        note=note,
    )
