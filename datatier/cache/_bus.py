"""ChangeBus: gets every change event to every process, in ``seq`` order, and applies it.

Sources of events, all funnelled into one ordered ``_apply``:

- the writer's own ``after_commit`` (write-through: stamp, publish, apply before the write
  call returns, so a process always reads its own writes);
- Redis pub/sub on ``{namespace}:changes`` (batches from other processes); a batch whose
  ``prev`` is ahead of what was applied here, or a (re)subscription, first catches up from
  the outbox table (``seq > applied``), so nothing is skipped;
- the background relay loop (every ``poll_interval``): stamps events that crashed writers
  and database triggers left pending, and without Redis polls the outbox (PostgreSQL), or
  with Redis checks it now and then in case a publisher died between commit and publish.

While the Redis connection is down, ``versions.suspend()`` makes the cache bypass both tiers;
after reconnecting and catching up, ``versions.resume()``. SQLite without Redis is
in-process only; other processes on the same file are picked up by the poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import orjson
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from datatier.cache import _relay
from datatier.cache._lag import LagStats
from datatier.drivers import Connection, Driver
from datatier.query._changes import ChangeEvent, outbox_ddl

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["ChangeBus", "Retention", "VersionsLike"]

log = logging.getLogger("datatier.cache")

# Errors that mean "Redis is unreachable right now" (redis-py's own and the socket's).
_REDIS_DOWN: tuple[type[BaseException], ...]
try:
    import redis.exceptions as _redis_exceptions

    _REDIS_DOWN = (_redis_exceptions.RedisError, OSError, asyncio.TimeoutError)
except ImportError:  # pragma: no cover - redis is a dependency; keep the module importable
    _REDIS_DOWN = (OSError, asyncio.TimeoutError)


# An idle subscription is pinged this often (seconds), and dropped when nothing at all
# (not even the pong) arrived for _SILENT_LIMIT.
_PING_EVERY = 2.0
_SILENT_LIMIT = 5.0


class VersionsLike(Protocol):
    """What the bus needs of ``datatier.cache._versions.Versions``."""

    applied: int

    def apply(self, events: Iterable[ChangeEvent]) -> None: ...
    def suspend(self) -> None: ...
    def resume(self) -> None: ...
    def start_at(self, seq: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Retention:
    """How long stamped events stay in the outbox: at most ``max_age`` seconds and the newest
    ``keep`` events (whichever removes more). Catch-up after a Redis outage or a restart
    needs the events it missed, and entries cached under versions older than the oldest kept
    event cannot be told apart, so keep events longer than the longest cache TTL."""

    max_age: float = 3600.0
    keep: int = 1_000_000
    every: float = 10.0  # seconds between trims
    batch: int = 1000


def _pack(prev: int, batch: list[_relay.Stamped]) -> bytes:
    rows = [(s.event.seq, s.event.model, s.event.op, s.event.key, s.at) for s in batch]
    return orjson.dumps((prev, rows))


def _unpack(data: bytes) -> tuple[int, list[_relay.Stamped]]:
    prev, rows = orjson.loads(data)
    return int(prev), [
        _relay.Stamped(ChangeEvent(int(seq), model, op, key), float(at))
        for seq, model, op, key, at in rows
    ]


class ChangeBus:
    """Delivers change events to ``versions`` in ``seq`` order (see the module docstring).

    ``lag`` holds delivery lag samples; ``applied`` is the highest seq below which every
    event is applied here (holes included; ``versions.applied`` is the last real event).
    ``external_triggers`` tells, after ``start()``, whether database triggers record
    events (then the engine must not record them itself).
    """

    def __init__(
        self,
        *,
        provider: str,
        driver: Driver,
        versions: VersionsLike,
        redis: redis.asyncio.Redis | None,
        namespace: str,
        poll_interval: float = 0.2,
        retention: Retention | None = None,
    ) -> None:
        self.provider = provider
        self.driver = driver
        self.versions = versions
        self.redis = redis
        self.namespace = namespace
        self.poll_interval = poll_interval
        self.retention = retention or Retention()
        self.channel = f"{namespace}:changes"
        self.lag = LagStats()
        self.applied = 0
        self.external_triggers = False
        self.reconnects = 0
        self.catchups = 0
        self.publish_errors = 0
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()
        self._ever_subscribed = False
        self._closed = False
        self._last_trim = time.monotonic()  # the first trim after `every`, not at start
        self._fresh_at = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Create the outbox if missing, apply what it holds, subscribe (waiting up to 5 s
        for Redis; while it is unreachable the cache stays suspended) and start the relay."""
        await self.driver.run(self._ensure_outbox)
        from datatier.cache._triggers import triggers_installed

        self.external_triggers = await self.driver.run(triggers_installed, self.provider)
        await self._start_versions()
        self._tasks.append(asyncio.create_task(self._relay_loop(), name="datatier-relay"))
        if self.redis is not None:
            self.versions.suspend()
            self._tasks.append(asyncio.create_task(self._subscriber(), name="datatier-bus"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscribed.wait(), 5.0)
            if not self._subscribed.is_set():
                log.warning("cache: Redis unreachable at start; reading from the database")

    async def after_commit(self) -> None:
        """Stamp the events pending after a commit, publish them and apply everything up to
        them here before returning (the caller's own writes are visible to its next read)."""
        batch = await self.driver.run(_relay.stamp, self.provider)
        if batch:
            await self._publish(batch)
        async with self._lock:
            if batch and batch[0].event.seq - 1 <= self.applied:
                self._apply(batch)
            else:
                # Someone else stamped our events (or earlier ones are not applied yet).
                await self._fetch_and_apply()

    async def close(self) -> None:
        """Stop the background tasks (the outbox and Redis stay as they are)."""
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    # -- applying --------------------------------------------------------------------

    async def _ensure_outbox(self, conn: Connection) -> None:
        async with conn.transaction():
            if self.provider == "postgresql":
                # CREATE ... IF NOT EXISTS races with itself when several processes start
                # together (a unique violation in pg_type); the relay's lock serializes them.
                await conn.execute(f"SELECT pg_advisory_xact_lock({_relay.RELAY_LOCK})")
            for statement in outbox_ddl(self.provider):
                await conn.execute(statement)

    async def _start_versions(self) -> None:
        # Replaying the whole outbox gives the same versions (so the same shared Redis keys)
        # as every process that has been running; once old events are trimmed that is not
        # possible, and every version starts at the current high water instead.
        lowest, high = await self.driver.run(_relay.bounds, self.provider)
        async with self._lock:
            if high == 0 or lowest == 1:
                await self._fetch_and_apply(measure=False)
            else:
                self._start_over(high)

    def _start_over(self, high: int) -> None:
        self.versions.start_at(high)
        self.applied = high
        self._fresh_at = time.monotonic()

    def _apply(self, batch: list[_relay.Stamped], *, measure: bool = True) -> None:
        # Caller holds self._lock: events reach Versions in seq order, each once.
        fresh = [s for s in batch if s.event.seq > self.applied]
        if not fresh:
            return
        self.versions.apply([s.event for s in fresh])
        self.applied = fresh[-1].event.seq
        if measure:
            now = time.time()
            for s in fresh:
                self.lag.add(now - s.at)

    async def _fetch_and_apply(self, *, measure: bool = True) -> None:
        self._fresh_at = time.monotonic()
        while True:
            batch = await self.driver.run(_relay.fetch_after, self.provider, self.applied)
            self._apply(batch, measure=measure)
            if len(batch) < 5000:
                return

    async def _catch_up(self, *, measure: bool = True) -> None:
        """Apply every stamped event above ``applied`` from the outbox."""
        async with self._lock:
            self.catchups += 1
            r = self.retention
            lowest, high = await self.driver.run(_relay.bounds, self.provider)
            stalled = time.monotonic() - self._fresh_at > 0.9 * r.max_age
            if stalled or (lowest > self.applied + 1 and high - self.applied > 0.9 * r.keep):
                # Events this process never applied may be trimmed already.
                log.warning("cache: change events missed for too long; every version restarts")
                self._start_over(high)
                return
            await self._fetch_and_apply(measure=measure)

    async def _receive(self, prev: int, batch: list[_relay.Stamped]) -> None:
        async with self._lock:
            if prev > self.applied:
                # Missed a batch (or joined mid-stream): the outbox has everything up to
                # prev; seqs up to prev it does not hold are holes that stay empty.
                self.catchups += 1
                await self._fetch_and_apply()
                self.applied = max(self.applied, prev)
            self._apply(batch)

    # -- Redis -----------------------------------------------------------------------

    async def _publish(self, batch: list[_relay.Stamped]) -> None:
        if self.redis is None:
            return
        try:
            await self.redis.publish(self.channel, _pack(batch[0].event.seq - 1, batch))
        except _REDIS_DOWN as e:
            # The write committed; subscribers catch up from the outbox when they reconnect.
            self.publish_errors += 1
            log.warning("cache: could not publish change events: %s", e)

    async def _subscriber(self) -> None:
        assert self.redis is not None
        delay = 0.05
        while not self._closed:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                heard = pinged = time.monotonic()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    now = time.monotonic()
                    if message is None:
                        # A silent connection may be a dead one (no RST from a lost host):
                        # ping when idle, give up when not even the pong comes back.
                        if now - heard > _SILENT_LIMIT:
                            raise ConnectionError("no answer from Redis to PING")
                        if now - pinged > _PING_EVERY:
                            pinged = now
                            await pubsub.ping()
                        continue
                    heard = now
                    kind = message["type"]
                    if kind == "subscribe":
                        # First subscription or redis-py's own resubscription after a
                        # reconnect: events published meanwhile are only in the outbox.
                        await self._on_subscribed()
                        delay = 0.05
                    elif kind == "message":
                        await self._receive(*_unpack(message["data"]))
            except asyncio.CancelledError:
                raise
            except _REDIS_DOWN as e:
                if self.versions_vouched():
                    log.warning("cache: change bus lost Redis (%s); reading from the database", e)
                self._subscribed.clear()
                self.versions.suspend()
            except Exception:  # a bug must not stop invalidation silently
                log.exception("cache: change bus failed; reading from the database")
                self._subscribed.clear()
                self.versions.suspend()
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    def versions_vouched(self) -> bool:
        """Whether the cache currently trusts its versions (see ``Versions.vouched``)."""
        return bool(getattr(self.versions, "vouched", True))

    async def _on_subscribed(self) -> None:
        if self._ever_subscribed:
            self.reconnects += 1
            self.versions.suspend()
        self._ever_subscribed = True
        await self._catch_up()
        self._subscribed.set()
        self.versions.resume()

    # -- background relay ------------------------------------------------------------

    async def _relay_loop(self) -> None:
        tick = 0
        while not self._closed:
            await asyncio.sleep(self.poll_interval)
            tick += 1
            try:
                await self._relay_once(poll=self.redis is None or tick % 5 == 0)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the database may be restarting; try again next tick
                log.warning("cache: change relay failed: %s", e)

    async def _relay_once(self, *, poll: bool) -> None:
        """One relay tick: stamp what is pending (if this process wins the lock), publish
        it, apply new events (``poll``), trim old events when due."""
        if await self.driver.run(_relay.has_pending):
            batch = await self.driver.run(_stamp_nowait, self.provider)
            if batch:
                await self._publish(batch)
                async with self._lock:
                    if batch[0].event.seq - 1 <= self.applied:
                        self._apply(batch)
        if poll:
            if self.applied < await self.driver.run(_relay.high_water, self.provider):
                await self._catch_up()
            else:
                self._fresh_at = time.monotonic()
        now = time.monotonic()
        if now - self._last_trim >= self.retention.every:
            self._last_trim = now
            await self.trim()

    async def trim(self) -> int:
        """Delete events past the retention, a small batch at a time; how many."""
        r = self.retention
        total = 0
        for _ in range(20):
            deleted = await self.driver.run(_trim, self.provider, r.max_age, r.keep, r.batch)
            total += deleted
            if deleted < r.batch:
                break
        return total

    # -- metrics ---------------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        """Prometheus metrics of the bus (the Cache chains them into its own collect)."""
        summary = self.lag.summary()
        lag = GaugeMetricFamily(
            "datatier_cache_change_lag_seconds",
            "Change event delivery lag (writer's transaction start to applied here)",
            labels=["quantile"],
        )
        for quantile, value in (("0.5", summary.p50), ("0.99", summary.p99), ("1", summary.max)):
            lag.add_metric([quantile], value)
        yield lag
        yield GaugeMetricFamily(
            "datatier_cache_change_applied_seq",
            "Highest change seq applied here (every event up to it is applied)",
            value=self.applied,
        )
        for name, doc, value in (
            ("datatier_cache_change_events", "Change events applied here", summary.count),
            ("datatier_cache_bus_reconnects", "Change bus reconnects to Redis", self.reconnects),
            ("datatier_cache_bus_catchups", "Catch-ups from the outbox table", self.catchups),
            (
                "datatier_cache_bus_publish_errors",
                "Change batches not published (Redis unreachable)",
                self.publish_errors,
            ),
        ):
            yield CounterMetricFamily(name, doc, value=value)


async def _stamp_nowait(conn: Connection, provider: str) -> list[_relay.Stamped] | None:
    return await _relay.stamp(conn, provider, wait=False)


async def _trim(conn: Connection, provider: str, max_age: float, keep: int, batch: int) -> int:
    return await _relay.trim(conn, provider, max_age=max_age, keep=keep, batch=batch)
