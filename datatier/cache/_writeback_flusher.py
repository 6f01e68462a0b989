"""The write-back flusher: applies the stream's acknowledged updates to the database.

One batch at a time: read entries after the last applied id, coalesce them per row, and in
ONE database transaction apply each row's update through the engine's normal update path
(so change events are recorded and caches invalidate) together with the new last applied id
in ``_datatier_writeback``. The id is advanced only if it still holds the id the batch
started from (a compare-and-set), so two flushers, or a replay after a crash, can never
apply an entry twice. After the commit the ``ACK`` script trims the applied entries and the
row hashes they leave with nothing pending.

A Redis lock (renewed on every round) keeps one flusher active across processes; it only
saves work, correctness rests on the compare-and-set.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from datatier.cache._writeback_lua import ACK, RELEASE, RENEW
from datatier.cache._writeback_values import FieldOp, coalesce_ops, from_text
from datatier.errors import DatatierError
from datatier.query._model_info import ModelInfo

if TYPE_CHECKING:
    import redis.asyncio

    from datatier.drivers._protocol import Connection, Driver
    from datatier.query._engine import Engine

__all__ = ["WRITEBACK_TABLE", "Flusher", "Hook", "Keys"]

WRITEBACK_TABLE = "_datatier_writeback"
GENERATION_LIFETIME = 86_400  # seconds a row's generation outlives its last flush
Hook = Callable[[str], Awaitable[None]]

log = logging.getLogger("datatier.cache.writeback")


@dataclass(frozen=True, slots=True)
class Keys:
    """The Redis names of one namespace's write-back state."""

    namespace: str

    @property
    def stream(self) -> str:
        return f"{self.namespace}:wb:stream"

    @property
    def lock(self) -> str:
        return f"{self.namespace}:wb:lock"

    @property
    def row_prefix(self) -> str:
        return f"{self.namespace}:wb:"

    @property
    def generation_prefix(self) -> str:
        return f"{self.namespace}:wb:gen:"

    def row(self, model: str, key: str) -> str:
        """The hash of pending values of ``model``'s row ``key`` (its ``key_text``)."""
        return f"{self.row_prefix}{model}:{key}"

    def done(self, token: str) -> str:
        """The marker (stream id, kept 10 minutes) of one acknowledged write call."""
        return f"{self.namespace}:wb:done:{token}"

    def generation(self, model: str, key: str) -> str:
        """The counter bumped each time the row's hash is dropped after a flush."""
        return f"{self.generation_prefix}{model}:{key}"


class _Superseded(Exception):
    """Another flusher advanced the applied id since this one read it."""


class Flusher:
    """Moves the stream's entries into the database (see the module docstring)."""

    def __init__(
        self,
        *,
        engine: Engine,
        driver: Driver,
        redis: redis.asyncio.Redis,
        keys: Keys,
        batch_size: int,
        interval: float,
        after_commit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.engine = engine
        self.driver = driver
        self.redis = redis
        self.keys = keys
        self.batch_size = batch_size
        self.interval = interval
        self.after_commit = after_commit
        # test hook: awaited with "committed" between the database commit and the ack
        self.hook: Hook | None = None
        self.applied = "0-0"
        self.flushes = 0  # batches committed by this process
        self._token = secrets.token_hex(8)
        self._lock_ms = max(5_000, int(interval * 20_000))
        self._flushing = asyncio.Lock()
        self._sql = _Statements(driver.provider)

    # -- start-up ------------------------------------------------------------------------

    async def recover(self) -> None:
        """Make the table, read the applied id and run the ack for it (a crash may have come
        between a commit and its ack); move the stream's id past it if Redis lost data."""
        async with self.driver.connection() as conn:
            for statement in self._sql.setup():
                try:
                    await conn.execute(statement, self._sql.setup_args(statement, self.keys))
                except DatatierError:
                    # Two processes creating the table at once: the loser sees it exists.
                    log.debug("write-back table setup raced; continuing", exc_info=True)
        self.applied = await self._read_applied()
        await self._ack(self.applied)
        await self._guard_ids()

    async def refresh(self) -> None:
        """Move to the database's applied id (another flusher may have gone further)."""
        applied = await self._read_applied()
        if _id_key(applied) > _id_key(self.applied):
            self.applied = applied

    async def _read_applied(self) -> str:
        async with self.driver.connection() as conn:
            row = await conn.fetch_one(self._sql.select, [self.keys.stream])
        return str(row[0]) if row is not None else "0-0"

    async def _guard_ids(self) -> None:
        """New entries must get ids above the applied one, or the flusher would skip them.
        Only a Redis that lost its data (no AOF) can be behind; say so loudly."""
        info: Any = None
        try:
            info = await self.redis.xinfo_stream(self.keys.stream)
        except Exception:  # no stream yet: redis-py raises ResponseError for a missing key
            info = None
        last = _text(info["last-generated-id"]) if info else "0-0"
        if _id_key(last) >= _id_key(self.applied):
            return
        log.warning(
            "write-back: the Redis stream %s is behind the database (last id %s, applied %s): "
            "Redis lost data, and with it any write acknowledged after its last save",
            self.keys.stream,
            last,
            self.applied,
        )
        if info is None:
            await self.redis.xadd(self.keys.stream, {"r": "", "e": ""}, id=_next_id(self.applied))
            await self._ack(_next_id(self.applied))
        else:
            command: Any = self.redis.execute_command  # untyped in redis-py
            await command("XSETID", self.keys.stream, self.applied)

    # -- the background loop -------------------------------------------------------------

    async def run(self) -> None:
        """Flush while holding the lock; runs until cancelled."""
        while True:
            try:
                flushed = 0
                if await self.redis.eval(RENEW, 1, self.keys.lock, self._token, self._lock_ms):
                    flushed = await self.flush_once()
                if flushed >= self.batch_size:
                    continue  # a backlog: go on without waiting
            except asyncio.CancelledError:
                raise
            except Exception:  # a Redis or database outage: keep trying, never die
                log.warning("write-back flush failed; retrying", exc_info=True)
            await asyncio.sleep(self.interval)

    async def release(self) -> None:
        """Give up the lock (if ours) so another process takes over at once."""
        await self.redis.eval(RELEASE, 1, self.keys.lock, self._token)

    # -- one batch -----------------------------------------------------------------------

    async def flush_once(self) -> int:
        """Apply the next batch; the number of stream entries it applied (0 when none)."""
        async with self._flushing:
            entries = await self.redis.xrange(
                self.keys.stream, min="(" + self.applied, max="+", count=self.batch_size
            )
            if not entries:
                return 0
            last = _text(entries[-1][0])
            updates = self._coalesce(entries)
            try:
                await self._apply(updates, last)
            except _Superseded:
                self.applied = await self._read_applied()
                await self._ack(self.applied)
                return 0
            self.applied = last
            self.flushes += 1
            if self.after_commit is not None:
                await self.after_commit()
            if self.hook is not None:
                await self.hook("committed")
            await self._ack(last)
            return len(entries)

    def _coalesce(self, entries: list[Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(model, where, data) per row touched by ``entries``, in first-touched order."""
        ops: dict[tuple[str, str], tuple[dict[str, Any], list[FieldOp]]] = {}
        for _, fields in entries:
            raw = fields.get(b"e", fields.get("e"))
            if not raw:
                continue  # the placeholder _guard_ids writes
            entry = orjson.loads(raw)
            model: str = entry["m"]
            info = self.engine.info.model(model)
            where = _where(info, entry["k"])
            found = ops.setdefault((model, orjson.dumps(entry["k"]).decode()), (where, []))
            for name, kind, text in entry["o"]:
                field = info.scalars[name]
                found[1].append(FieldOp(name, kind, from_text(field, text)))
        return [
            (model, where, coalesce_ops(field_ops))
            for (model, _), (where, field_ops) in ops.items()
        ]

    async def _apply(
        self, updates: list[tuple[str, dict[str, Any], dict[str, Any]]], last: str
    ) -> None:
        async with self.driver.connection() as conn, conn.transaction():
            # First, so concurrent flushers queue on this row and the loser finds it changed.
            moved = await conn.execute(self._sql.advance, [last, self.keys.stream, self.applied])
            if moved != 1:
                raise _Superseded
            for model, where, data in updates:
                changed = await _update(conn, self.engine, model, where, data)
                if changed == 0:
                    log.warning(
                        "write-back: %s %s no longer exists; its pending update is dropped",
                        model,
                        where,
                    )

    async def _ack(self, applied: str) -> None:
        keys = self.keys
        await self.redis.eval(
            ACK,
            1,
            keys.stream,
            applied,
            keys.row_prefix,
            keys.generation_prefix,
            GENERATION_LIFETIME,
        )

    async def pending_end(self) -> str:
        """The id of the stream's newest entry ("0-0" when empty)."""
        newest = await self.redis.xrevrange(self.keys.stream, count=1)
        return _text(newest[0][0]) if newest else "0-0"


async def _update(
    conn: Connection, engine: Engine, model: str, where: dict[str, Any], data: dict[str, Any]
) -> int:
    return await engine.update_many(conn, model, {"where": where, "data": data})


def _where(info: ModelInfo, key: list[str]) -> dict[str, Any]:
    return {
        name: from_text(info.scalars[name], text)
        for name, text in zip(info.key_fields, key, strict=True)
    }


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _id_key(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def _next_id(stream_id: str) -> str:
    ms, seq = _id_key(stream_id)
    return f"{ms}-{seq + 1}"


class _Statements:
    """The SQL of ``_datatier_writeback`` for one database."""

    def __init__(self, provider: str) -> None:
        table = f'"{WRITEBACK_TABLE}"'
        self.sqlite = provider == "sqlite"

        def p(n: int) -> str:
            return "?" if self.sqlite else f"${n}"

        when = "CURRENT_TIMESTAMP"
        self.create = (
            f"CREATE TABLE IF NOT EXISTS {table} ("
            ' "stream" TEXT PRIMARY KEY, "last_id" TEXT NOT NULL,'
            f' "at" TIMESTAMP NOT NULL DEFAULT {when})'
        )
        self.insert = (
            f'INSERT INTO {table} ("stream", "last_id") VALUES ({p(1)}, \'0-0\') '
            'ON CONFLICT ("stream") DO NOTHING'
        )
        self.select = f'SELECT "last_id" FROM {table} WHERE "stream" = {p(1)}'
        self.advance = (
            f'UPDATE {table} SET "last_id" = {p(1)}, "at" = {when} '
            f'WHERE "stream" = {p(2)} AND "last_id" = {p(3)}'
        )

    def setup(self) -> tuple[str, str]:
        return self.create, self.insert

    def setup_args(self, statement: str, keys: Keys) -> list[Any]:
        return [keys.stream] if statement == self.insert else []
