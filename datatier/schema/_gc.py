"""The cyclic garbage collector held off while the front end builds its trees.

Parsing and validating a large schema allocates hundreds of thousands of objects
that all stay alive until the end (tokens, spans, syntax nodes, drafts, the IR).
Every few hundred allocations CPython's collector runs, and as the survivors pile
up it keeps traversing all of them, plus everything else the process holds: on the
300-model benchmark schema that was over a third of the time, and more the more
modules the process had imported. None of these objects can be freed early, so the
collector is paused and left to run once afterwards, on its usual schedule.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable automatic garbage collection for the block; re-enable it only if it was on.

    Nested uses are free: the inner one finds the collector off and leaves it to the outer.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
