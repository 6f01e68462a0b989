"""Cache: the read-through path in front of the engine, and the hooks the write path calls.

A cacheable read (cache on, model on, not in a transaction, the bus vouching for
freshness) computes its key text BEFORE touching any tier: operation, model, canonical
document, identity, and the version tokens of what it depends on. Then memory tier ->
Redis tier -> one database read per key per process (single flight), with a short Redis
lease so one process fills while the others wait briefly -> fill both tiers. Since the
key embeds versions computed before the read, a fill can never make a stale value
reachable: once a newer event is applied, the same read computes a different key.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import redis.asyncio as aioredis
from prometheus_client.core import Metric

from datatier.cache._codec import CodecError, pack, unpack
from datatier.cache._context import cache_identity, cache_status
from datatier.cache._deps import Dependencies
from datatier.cache._flight import SingleFlight
from datatier.cache._keys import SEP, document_text, redis_key, schema_hash
from datatier.cache._memory import MemoryTier
from datatier.cache._metrics import CacheMetrics
from datatier.cache._redis import RedisTier
from datatier.cache._settings import CacheSettings, ModelSettings, call_options
from datatier.cache._versions import Versions
from datatier.errors import ConfigError

if TYPE_CHECKING:
    from datatier.cache._bus import ChangeBus
    from datatier.cache._writeback import WriteBack
    from datatier.drivers._protocol import Driver
    from datatier.query._engine import Engine

__all__ = ["Cache"]

logger = logging.getLogger("datatier.cache")
MAX_PLANS = 20_000
_POLL = 0.005  # seconds between looks at Redis while another process fills a key


class _Plan(NamedTuple):
    """What a read shape needs, worked out once per (operation, model, document)."""

    model: str
    row: str | None
    models: tuple[str, ...]
    settings: ModelSettings
    hit_memory: tuple[str, str, str]


# The plan of a read that is not cached (model off, or it reads a model that is off).
_UNCACHED = _Plan("", None, (), ModelSettings(enabled=False), ("", "", ""))


class _Filled(NamedTuple):
    """A load's packed value (None: not storable), the result objects of a database read,
    and how it was answered: ``HIT`` (Redis), ``STALE`` (Redis, past its TTL) or ``MISS``."""

    packed: bytes | None
    result: Any
    outcome: str = "MISS"


class Cache:
    """The cache of one client (``db.cache``): tiers, versions, bus and metrics.

    ``engine`` and ``settings`` are fixed at construction; ``start(driver)`` opens Redis,
    starts the change bus and runs the warm-up reads. ``_before_fill`` (tests only) is
    awaited after a database read and before its value is stored.
    """

    def __init__(self, engine: Engine, settings: CacheSettings, provider: str) -> None:
        self.engine = engine
        self.settings = settings
        self.provider = provider
        info = engine.info
        unknown = sorted(set(settings.models) - set(info.models))
        if unknown:
            raise ConfigError(
                f"cache.models names {', '.join(unknown)}, not a model of the schema "
                f"(models: {', '.join(sorted(info.models))})"
            )
        self._backs = sorted(n for n, model in settings.models.items() if model.write == "back")
        if self._backs and settings.redis is None:
            raise ConfigError(
                f'cache.models.{self._backs[0]}.write = "back" needs cache.redis: write-back '
                "acknowledges writes once Redis holds them (docs/cache-write-back.md)"
            )
        self.versions = Versions(info, settings.max_rows)
        self.metrics = CacheMetrics()
        self.memory: MemoryTier | None = (
            MemoryTier(settings.max_entries, settings.max_bytes, self._evicted)
            if settings.memory
            else None
        )
        self.redis_client: aioredis.Redis | None = None
        self.redis: RedisTier | None = None
        self.bus: ChangeBus | None = None
        self.writeback: WriteBack | None = None
        self.driver: Driver | None = None
        self.schema_hash = schema_hash(engine.schema)
        self._prefix = f"{settings.namespace}:{self.schema_hash}:"
        self._deps = Dependencies(info)
        self._plans: dict[str, _Plan] = {}
        self._counts = self.metrics.counts
        self._flight: SingleFlight[_Filled] = SingleFlight()
        self._background: set[asyncio.Task[Any]] = set()
        self._before_fill: Callable[[str], Awaitable[None]] | None = None
        self._started = False
        if self.memory is not None:
            memory = self.memory
            self.versions.on_resume(memory.clear)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, driver: Driver) -> None:
        """Open Redis (if configured), start the change bus (catching up from the outbox)
        and run the ``warm`` reads. The engine records change events from now on."""
        from datatier.cache._bus import ChangeBus

        self.driver = driver
        settings = self.settings
        if settings.redis is not None:
            # The bus and write-back: a blocking pool, so a burst waits for a connection
            # instead of failing. The tier's reads and fills have their own client, which
            # bounds itself without the blocking pool's cost per command (_redis.py).
            pool = aioredis.BlockingConnectionPool.from_url(
                settings.redis,
                max_connections=64,
                timeout=settings.redis_timeout,
                socket_timeout=settings.redis_timeout,
                socket_connect_timeout=settings.redis_timeout,
            )
            self.redis_client = aioredis.Redis(connection_pool=pool)
            self.redis = RedisTier.from_url(settings.redis, timeout=settings.redis_timeout)
        self.bus = ChangeBus(
            provider=self.provider,
            driver=driver,
            versions=self.versions,
            redis=self.redis_client,
            namespace=settings.namespace,
            poll_interval=settings.poll_interval,
        )
        await self.bus.start()
        # Triggers installed by `migrate --cache-triggers` record every write, datatier's too.
        self.engine.record_changes = not self.bus.external_triggers
        if self._backs:
            from datatier.cache._writeback import WriteBack

            assert self.redis_client is not None
            self.writeback = WriteBack(
                engine=self.engine,
                driver=driver,
                redis=self.redis_client,
                namespace=settings.namespace,
                models={name: settings.models[name] for name in self._backs},
                flush_interval=settings.flush_interval,
                batch_size=settings.batch_size,
                after_commit=self.bus.after_commit,
            )
            await self.writeback.start()
        self._started = True
        from datatier.cache._warm import warm

        await warm(self, settings.warm)

    async def close(self) -> None:
        """Stop background refreshes and the bus, close Redis."""
        self._started = False
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self.writeback is not None:
            await self.writeback.close()
            self.writeback = None
        if self.bus is not None:
            await self.bus.close()
            self.bus = None
        if self.redis is not None:
            await self.redis.redis.aclose()
            self.redis = None
        if self.redis_client is not None:
            await self.redis_client.aclose()
            self.redis_client = None

    async def after_write(self) -> None:
        """Write-through: make the committed write's events applied here before returning."""
        if self.bus is not None:
            await self.bus.after_commit()

    async def overlay(self, op: Callable[..., Any], model: str, result: Any) -> Any:
        """``result`` of a read of a write-back model with the values still pending in
        Redis applied (top-level records of ``find_*`` reads; others as they are)."""
        writeback = self.writeback
        if writeback is None or result is None or not op.__name__.startswith("find_"):
            return result
        if isinstance(result, list):
            return await writeback.overlay(model, result)
        return (await writeback.overlay(model, [result]))[0]

    # -- reads -----------------------------------------------------------------------

    async def read(
        self,
        op: Callable[[Any, str, Mapping[str, Any]], Awaitable[Any]],
        model: str,
        document: Mapping[str, Any],
        option: Any = None,
    ) -> Any:
        """``op(conn, model, document)`` answered from the cache when it can be.
        ``option`` is the call's ``cache=``: None/True (model settings), False (bypass)
        or a mapping of ``ttl``/``swr``/``negative_ttl``."""
        versions = self.versions
        if option is False or not versions.vouched or not self._started:
            return await self._bypass(op, model, document, versions.vouched)
        name = op.__name__
        try:
            shape = name + SEP + model + SEP + document_text(document)
        except TypeError:  # a value JSON cannot name: the engine will judge the document
            return await self._bypass(op, model, document, True)
        plan = self._plans.get(shape) or self._plan(shape, name, model, document)
        if plan is _UNCACHED:
            return await self._bypass(op, model, document, True)
        if plan.row is not None:
            token = versions.row_token(model, plan.row)
        else:
            token = versions.models_token(plan.models)
        key = shape + SEP + cache_identity.get() + SEP + token
        memory = self.memory
        if memory is not None:
            now = time.monotonic()
            entry = memory.get(key, now)
            if entry is not None:
                status = cache_status.get()
                if now < entry.fresh_until:
                    self._counts[plan.hit_memory] += 1
                    if status is not None:
                        status.append("HIT")
                    return unpack(entry.value)
                self._stale(plan, key, op, document, option, status)
                return unpack(entry.value)
        return await self._miss(plan, key, op, document, option)

    def _plan(self, shape: str, name: str, model: str, document: Mapping[str, Any]) -> _Plan:
        info = self.engine.info.models.get(model)
        settings = self.settings.model(model)
        if info is None or not settings.enabled:
            plan = _UNCACHED
        else:
            deps = self._deps.of(name, model, document)
            if any(not self.settings.model(m).enabled for m in deps.models):
                plan = _UNCACHED  # a read that includes an uncached model is not cached either
            else:
                plan = _Plan(model, deps.row, deps.models, settings, ("hits", "memory", model))
        if len(self._plans) >= MAX_PLANS:
            self._plans.clear()  # many one-off shapes (ids in the document): start over
        self._plans[shape] = plan
        return plan

    async def _bypass(
        self,
        op: Callable[..., Awaitable[Any]],
        model: str,
        document: Mapping[str, Any],
        vouched: bool,
    ) -> Any:
        if not vouched:
            self._counts[("bypass", "", model)] += 1
        if self.driver is None:
            raise RuntimeError("the cache is not started")
        return await self.driver.run(op, model, document)

    def _freshness(self, plan: _Plan, option: Any) -> tuple[float, float, float]:
        settings = plan.settings
        if option is None or option is True:
            return settings.ttl, settings.swr, settings.negative_ttl
        given = call_options(option)
        return (
            settings.ttl if given.ttl is None else given.ttl,
            settings.swr if given.swr is None else given.swr,
            settings.negative_ttl if given.negative_ttl is None else given.negative_ttl,
        )

    async def _miss(
        self,
        plan: _Plan,
        key: str,
        op: Callable[..., Awaitable[Any]],
        document: Mapping[str, Any],
        option: Any,
    ) -> Any:
        """Not in memory: one caller per key looks in Redis, then reads the database; the
        others await its outcome (so a herd costs one Redis GET and one query)."""
        filled, led = await self._flight.run(
            key, lambda: self._load(plan, key, op, document, option)
        )
        model = plan.model
        outcome = filled.outcome
        if outcome == "HIT":
            self._counts[("hits", "redis", model)] += 1
        else:
            self._counts[("stale" if outcome == "STALE" else "misses", "", model)] += 1
        status = cache_status.get()
        if status is not None:
            status.append(outcome)
        if (led and outcome == "MISS") or filled.packed is None:
            return filled.result
        return unpack(filled.packed)  # every waiter gets its own objects

    async def _load(
        self,
        plan: _Plan,
        key: str,
        op: Callable[..., Awaitable[Any]],
        document: Mapping[str, Any],
        option: Any,
    ) -> _Filled:
        rkey = ""
        if self.redis is not None:
            rkey = redis_key(self._prefix, key)
            found = await self.redis.get(rkey)
            if found is not None:
                value, fresh_until = found
                left = fresh_until - time.time()
                if self.memory is not None:
                    _, swr, _ = self._freshness(plan, option)
                    now = time.monotonic()
                    self.memory.set(key, value, now + left, now + left + swr, plan.model)
                if left > 0:
                    return _Filled(value, None, "HIT")
                self._refresh(plan, key, op, document, option)
                return _Filled(value, None, "STALE")
        return await self._fill(plan, key, rkey, op, document, option, background=False)

    def _stale(
        self,
        plan: _Plan,
        key: str,
        op: Callable[..., Awaitable[Any]],
        document: Mapping[str, Any],
        option: Any,
        status: list[str] | None,
    ) -> None:
        """Count a stale serve from memory and refresh ``key`` in the background."""
        self._counts[("stale", "", plan.model)] += 1
        if status is not None:
            status.append("STALE")
        self._refresh(plan, key, op, document, option)

    def _refresh(
        self,
        plan: _Plan,
        key: str,
        op: Callable[..., Awaitable[Any]],
        document: Mapping[str, Any],
        option: Any,
    ) -> None:
        """Refresh ``key`` from the database in a background task (one at a time per key)."""
        refresh = "refresh" + SEP + key
        if refresh in self._flight or self.driver is None:
            return
        rkey = redis_key(self._prefix, key) if self.redis is not None else ""

        async def run() -> None:
            try:
                await self._flight.run(
                    refresh,
                    lambda: self._fill(plan, key, rkey, op, document, option, background=True),
                )
            except Exception as error:  # a failed refresh leaves the stale value to age out
                logger.warning("cache: refreshing a %s read failed: %s", plan.model, error)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _fill(
        self,
        plan: _Plan,
        key: str,
        rkey: str,
        op: Callable[..., Awaitable[Any]],
        document: Mapping[str, Any],
        option: Any,
        *,
        background: bool,
    ) -> _Filled:
        """Read the database and store the value in both tiers. With Redis, take the lease
        first; if another process holds it, wait up to ``wait_ms`` for its value."""
        assert self.driver is not None
        ttl, swr, negative_ttl = self._freshness(plan, option)
        leased: bool | None = None
        if self.redis is not None:
            leased = await self.redis.lease(rkey, self.settings.lease_ms)
            if leased is False:
                if background:
                    return _Filled(None, None)  # another process refreshes it
                found = await self._await_other(rkey)
                if found is not None:
                    value, fresh_until = found
                    if self.memory is not None:
                        now = time.monotonic()
                        left = fresh_until - time.time()
                        self.memory.set(key, value, now + left, now + left + swr, plan.model)
                    return _Filled(value, None, "HIT")
        try:
            result = await self.driver.run(op, plan.model, document)
            if self._before_fill is not None:
                await self._before_fill(key)
            keep = negative_ttl if result is None else ttl
            try:
                packed = pack(result)
            except CodecError as error:
                logger.warning("cache: a %s read is not cached: %s", plan.model, error)
                return _Filled(None, result)
            if keep > 0:
                self._store(plan.model, key, packed, keep, swr)
                if self.redis is not None:
                    await self.redis.set(rkey, packed, keep, swr)
                    self._counts[("fills", "redis", plan.model)] += 1
            return _Filled(packed, result)
        finally:
            if leased and self.redis is not None:
                await self.redis.release(rkey)

    def _store(self, model: str, key: str, packed: bytes, ttl: float, swr: float) -> None:
        if self.memory is not None:
            now = time.monotonic()
            self.memory.set(key, packed, now + ttl, now + ttl + swr, model)
            self._counts[("fills", "memory", model)] += 1

    async def _await_other(self, rkey: str) -> tuple[bytes, float] | None:
        """The value another process is filling at ``rkey``, polled until ``wait_ms``."""
        assert self.redis is not None
        deadline = time.monotonic() + self.settings.wait_ms / 1000
        while time.monotonic() < deadline:
            await asyncio.sleep(_POLL)
            found = await self.redis.get(rkey)
            if found is not None:
                return found
        return None

    def _evicted(self, model: str, size: int) -> None:
        self._counts[("evictions", "memory", model)] += 1

    # -- metrics ---------------------------------------------------------------------

    def collect(self) -> Iterable[Metric]:
        """Prometheus metric families of this cache (a custom collector's ``collect``)."""
        if self.redis is not None:
            self._counts[("errors", "redis", "")] = self.redis.errors
        memory = self.memory
        yield from self.metrics.families(
            self.versions.events_by_model,
            memory.bytes if memory is not None else 0,
            len(memory) if memory is not None else 0,
        )
        if self.bus is not None:
            yield from self.bus.collect()
