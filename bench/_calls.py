"""Per-call timing of async calls, several subjects interleaved in blocks so machine noise hits all alike."""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable, Sequence

Call = Callable[[int], Awaitable[object]]


async def time_interleaved(
    calls: Sequence[Call], args: Sequence[int], *, warmup: int, block: int
) -> list[list[int]]:
    """Each call awaited once per ``args`` item, timed one by one (ns); the samples per call.

    Every call first runs ``warmup`` times untimed. Then the arguments are taken in
    blocks of ``block``: each subject runs the whole block in turn, the first subject
    of a block rotating, with garbage collected before each subject's block (not inside).
    """
    for call in calls:
        for j in range(warmup):
            await call(args[j % len(args)])
    samples: list[list[int]] = [[] for _ in calls]
    clock = time.perf_counter_ns
    for number, start in enumerate(range(0, len(args), block)):
        chunk = args[start : start + block]
        for turn in range(len(calls)):
            index = (number + turn) % len(calls)
            call, out = calls[index], samples[index]
            gc.collect()
            for arg in chunk:
                begin = clock()
                await call(arg)
                out.append(clock() - begin)
    return samples


def calls_per_second(samples: Sequence[int]) -> float:
    """Calls per second of back-to-back calls taking ``samples`` ns each."""
    return len(samples) * 1e9 / sum(samples)
