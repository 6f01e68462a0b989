"""The in-process memory tier: packed values by key text, LRU-bounded by entries and bytes.

An entry is ``(value, fresh_until, stale_until, model)`` with ``time.monotonic()`` deadlines:
fresh before ``fresh_until``, servable as stale (while a refresh runs) before
``stale_until``, gone after. Lookups are one dict access plus a move to the LRU end, so
the hit path stays a few hundred nanoseconds; the byte count is exact (value bytes plus
key characters).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["Entry", "MemoryTier"]


class Entry(NamedTuple):
    """One cached value and its deadlines (``time.monotonic()`` seconds)."""

    value: bytes
    fresh_until: float
    stale_until: float
    model: str


class MemoryTier:
    """A bounded LRU of ``Entry`` by key text; ``on_evict(model, bytes)`` hears every eviction."""

    def __init__(
        self,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        on_evict: Callable[[str, int], None] | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._data: OrderedDict[str, Entry] = OrderedDict()
        self._on_evict = on_evict

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str, now: float) -> Entry | None:
        """The entry at ``key`` if it is still servable (fresh or stale) at ``now``, else None."""
        entry = self._data.get(key)
        if entry is None:
            return None
        if now >= entry.stale_until:
            self._drop(key, entry)
            return None
        self._data.move_to_end(key)
        return entry

    def set(
        self, key: str, value: bytes, fresh_until: float, stale_until: float, model: str
    ) -> None:
        """Store ``value`` at ``key``; oldest entries go until both bounds hold again.
        A value bigger than the whole byte bound is not stored."""
        size = len(value) + len(key)
        if size > self.max_bytes:
            return
        old = self._data.pop(key, None)
        if old is not None:
            self.bytes -= len(old.value) + len(key)
        self._data[key] = Entry(value, fresh_until, stale_until, model)
        self.bytes += size
        while len(self._data) > self.max_entries or self.bytes > self.max_bytes:
            oldest, entry = next(iter(self._data.items()))
            self._drop(oldest, entry)
            if self._on_evict is not None:
                self._on_evict(entry.model, len(entry.value) + len(oldest))

    def delete(self, key: str) -> None:
        entry = self._data.get(key)
        if entry is not None:
            self._drop(key, entry)

    def clear(self) -> None:
        self._data.clear()
        self.bytes = 0

    def _drop(self, key: str, entry: Entry) -> None:
        del self._data[key]
        self.bytes -= len(entry.value) + len(key)
