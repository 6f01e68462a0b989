"""Write-back: updates of opted-in counter/timestamp fields acknowledged from Redis.

An accepted update (``where`` = the full primary key, ``data`` only sets or increments the
model's write-back fields, no relations selected) is acknowledged once the ``WRITE`` script
has, in one atomic step, appended it to the stream ``{ns}:wb:stream`` and applied it to the
row's hash ``{ns}:wb:{model}:{key}`` of absolute pending values. The flusher
(``_writeback_flusher``) later applies the stream to the database, coalescing per row.
Reads of top-level rows get the pending values through ``overlay``; nested includes of a
write-back model show the flushed values only. Durability is Redis's: it needs AOF with
``appendfsync always`` (checked at start; see docs/cache-write-back.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from datatier.cache._writeback_flusher import Flusher, Hook, Keys
from datatier.cache._writeback_lua import WRITE
from datatier.cache._writeback_values import (
    FieldOp,
    decoded_hash,
    int_bounds,
    is_numeric,
    supported,
    to_text,
)
from datatier.errors import ConfigError, NotFound, QueryError, ValidationError
from datatier.query._changes import key_text
from datatier.query._model_info import ModelInfo

if TYPE_CHECKING:
    import redis.asyncio

    from datatier.drivers._protocol import Driver
    from datatier.query._engine import Engine

__all__ = ["WriteBack", "WriteBackModel", "WriteBackSpec"]

MAX_ATTEMPTS = 50  # base reads retried when flushes keep racing them (each retry is rare)
log = logging.getLogger("datatier.cache.writeback")


class WriteBackModel(Protocol):
    """A model's write-back opt-in: the fields whose updates may be written back
    (``ModelSettings`` of ``[cache.models.<Model>]`` with ``write = "back"`` fits)."""

    @property
    def fields(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class WriteBackSpec:
    """A plain ``WriteBackModel``: ``WriteBackSpec(fields=("views", "lastSeenAt"))``."""

    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Model:
    info: ModelInfo
    fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Update:
    """An accepted update, checked: the row's key values and text, the operations, the
    scalar fields to return (None: all)."""

    model: _Model
    key: tuple[Any, ...]
    key_text: str
    ops: tuple[FieldOp, ...]
    select: tuple[str, ...] | None


class WriteBack:
    """Write-back for the ``models`` that opt in (see the module docstring).

    ``after_commit`` (the change bus's) runs after each flush commits, so caches drop the
    rows' old entries before the pending hashes go; ``flusher=False`` makes a process that
    writes but never flushes (another process flushes).
    """

    def __init__(
        self,
        *,
        engine: Engine,
        driver: Driver,
        redis: redis.asyncio.Redis,
        namespace: str,
        models: Mapping[str, WriteBackModel],
        flush_interval: float = 0.1,
        batch_size: int = 500,
        after_commit: Callable[[], Awaitable[None]] | None = None,
        flusher: bool = True,
    ) -> None:
        self.engine = engine
        self.driver = driver
        self.redis = redis
        self.keys = Keys(namespace)
        self.models = {name: _checked(engine, name, spec) for name, spec in models.items()}
        self.flusher = Flusher(
            engine=engine,
            driver=driver,
            redis=redis,
            keys=self.keys,
            batch_size=batch_size,
            interval=flush_interval,
            after_commit=after_commit,
        )
        self._run_flusher = flusher
        self._task: asyncio.Task[None] | None = None
        self._script = redis.register_script(WRITE)
        # test hook: awaited with "base read" after a write read its base row from the database
        self.hook: Hook | None = None
        self.durable: bool | None = None  # whether Redis was seen to run AOF appendfsync always

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Check Redis's persistence, recover the flusher's position and start flushing."""
        self.durable = await check_durability(self.redis)
        await self.flusher.recover()
        if self._run_flusher and self._task is None:
            self._task = asyncio.create_task(self.flusher.run(), name="datatier-writeback-flusher")

    async def drain(self) -> None:
        """Flush until everything acknowledged before the call is in the database."""
        end = await self.flusher.pending_end()
        while _id(self.flusher.applied) < _id(end):
            if await self.flusher.flush_once() == 0:
                # Nothing to read after our position: another flusher applied (and trimmed)
                # it, or is applying it now. Catch up with the database's position.
                await self.flusher.refresh()
                if _id(self.flusher.applied) < _id(end):
                    await asyncio.sleep(0.01)

    async def close(self) -> None:
        """Stop flushing (pending entries stay in Redis for the next start) and let another
        process take the lock at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            await self.flusher.release()

    # -- writes --------------------------------------------------------------------------

    def accepts(self, model: str, operation: str, document: Mapping[str, Any]) -> bool:
        """Whether this call is written back: an ``update`` whose ``where`` is exactly the
        full primary key and whose ``data`` only sets write-back fields or increments/
        decrements numeric ones, selecting no relation. Anything else is written through."""
        spec = self.models.get(model)
        if spec is None or operation != "update":
            return False
        try:
            return self._parse(spec, document, check_values=False) is not None
        except ValidationError:
            return False

    async def write(self, model: str, document: Mapping[str, Any]) -> dict[str, Any]:
        """Acknowledge an accepted update once it is in the stream; the record with every
        pending value applied. ``ValidationError`` (nothing written) for bad values,
        ``NotFound`` when no row has the key."""
        spec = self.models[model]
        update = self._parse(spec, document, check_values=True)
        if update is None:
            raise ValidationError(f"this `{model}` update cannot be written back")
        row_key = self.keys.row(model, update.key_text)
        generation_key = self.keys.generation(model, update.key_text)
        entry = orjson.dumps(
            {
                "m": model,
                "k": [
                    to_text(spec.info.scalars[name], value)
                    for name, value in zip(spec.info.key_fields, update.key, strict=True)
                ],
                "o": [
                    [op.field, op.kind, to_text(spec.info.scalars[op.field], op.value)]
                    for op in update.ops
                ],
            }
        ).decode()
        op_args: list[Any] = []
        for op in update.ops:
            field = spec.info.scalars[op.field]
            bounds = int_bounds(field) if op.kind == "int" else None
            low, high = bounds if bounds is not None else ("", "")
            op_args += [op.field, op.kind, to_text(field, op.value), low, high]
        # a fresh name per call: a resent script finds it and does not apply the write twice
        done_key = self.keys.done(secrets.token_hex(12))
        keys = [self.keys.stream, row_key, generation_key, done_key]
        # Fields beyond the key and written ones need the database row; else try Redis alone.
        row: dict[str, Any] | None = None
        generation = "0"
        if update.select is None or not set(update.select) <= {
            *spec.info.key_fields,
            *(op.field for op in update.ops),
        }:
            generation = _text(await self.redis.get(generation_key) or b"0")
            row = await self._read_row(update)
        for _ in range(MAX_ATTEMPTS):
            base: list[Any] = []
            if row is not None:
                for name in spec.fields:
                    base += [name, to_text(spec.info.scalars[name], row[name])]
            mode = "base" if row is not None else "try"
            args = [mode, generation, entry, len(update.ops), *op_args, len(base) // 2, *base]
            result = await self._script(keys=keys, args=args)
            status = _text(result[0])
            if status == "ok":
                return _record(spec.info, update, row, result[2])
            if status == "range":
                name = _text(result[1])
                raise ValidationError(
                    f"this update would take `{name}` out of its type's range", ("data", name)
                )
            # "base" or "retry": read the row after the generation this answer saw.
            generation = _text(result[1])
            row = await self._read_row(update)
        raise QueryError(f"write-back of `{model}` kept racing flushes; try again")

    async def _read_row(self, update: _Update) -> dict[str, Any]:
        info = update.model.info
        where = dict(zip(info.key_fields, update.key, strict=True))
        row = await self.driver.run(self.engine.find_unique, info.name, {"where": where})
        if row is None:
            raise NotFound(f"no `{info.name}` record to update matches the `where`")
        if self.hook is not None:
            await self.hook("base read")
        return row

    async def before_write(self, model: str, operation: str, document: Mapping[str, Any]) -> None:
        """Before a normal (written-through) write to a write-back model: drain the stream
        when the write may touch a row with pending entries, so the database holds every
        acknowledged update before the write changes or removes the row."""
        spec = self.models.get(model)
        if spec is None or operation in ("create", "create_many"):
            return
        where = document.get("where")
        key = _key_of(spec.info, where) if isinstance(where, Mapping) else None
        if key is not None:
            try:  # the key as reads decode it, so the hash's name matches the write's
                key = tuple(
                    self._value(spec.info, name, value, "set", "where")
                    for name, value in zip(spec.info.key_fields, key, strict=True)
                )
            except ValidationError:
                return  # the write itself reports the bad key and changes nothing
            pending = await self.redis.exists(self.keys.row(model, key_text(key)))
        else:
            pending = await self.redis.xlen(self.keys.stream)
        if pending:
            await self.drain()

    # -- reads ---------------------------------------------------------------------------

    async def overlay(self, model: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``rows`` (top-level records of ``model``) with the pending values applied, in one
        pipelined round trip. Rows without their key fields (a ``select`` leaving them out)
        are returned as they are."""
        spec = self.models.get(model)
        if spec is None or not rows:
            return rows
        keys = spec.info.key_fields
        wanted = [i for i, row in enumerate(rows) if all(k in row for k in keys)]
        if not wanted:
            return rows
        async with self.redis.pipeline(transaction=False) as pipe:
            for i in wanted:
                pipe.hgetall(self.keys.row(model, key_text([rows[i][k] for k in keys])))
            found = await pipe.execute()
        result = list(rows)
        for i, raw in zip(wanted, found, strict=True):
            if raw:
                pending = decoded_hash(spec.info.scalars, raw)
                row = dict(rows[i])
                row.update({name: value for name, value in pending.items() if name in row})
                result[i] = row
        return result

    # -- parsing -------------------------------------------------------------------------

    def _parse(
        self, spec: _Model, document: Mapping[str, Any], *, check_values: bool
    ) -> _Update | None:
        """The update ``document`` describes, or None when it is not a write-back update."""
        info = spec.info
        if not set(document) <= {"where", "data", "select", "include"} or document.get("include"):
            return None
        where, data = document.get("where"), document.get("data")
        if not isinstance(where, Mapping) or not isinstance(data, Mapping) or not data:
            return None
        key = _key_of(info, where)
        if key is None:
            return None
        select = _selection(info, document.get("select"))
        if isinstance(select, bool):
            return None
        ops: list[FieldOp] = []
        for name, value in data.items():
            if name not in spec.fields:
                return None
            field = info.scalars[name]
            kind, op = "set", "set"
            if isinstance(value, Mapping):
                if len(value) != 1:
                    return None
                ((op, value),) = value.items()
                if op in ("increment", "decrement") and is_numeric(field):
                    kind = "float" if field.type == "Float" else "int"
                elif op != "set":
                    return None
            if check_values:
                value = self._value(info, name, value, kind, "data")
                if op == "decrement":
                    value = -value
            ops.append(FieldOp(name, kind, value))  # type: ignore[arg-type]
        if check_values:
            key = tuple(
                self._value(info, name, value, "set", "where")
                for name, value in zip(info.key_fields, key, strict=True)
            )
        return _Update(spec, key, key_text(key), tuple(ops), select)

    def _value(self, info: ModelInfo, name: str, value: Any, kind: str, part: str) -> Any:
        """``value`` checked by the field's codec and decoded as reads return it; errors are
        placed at ``part.name`` (``data.views``, ``where.id``)."""
        path = (part, name)
        field = info.scalars[name]
        if value is None:
            if kind != "set" or field.is_required:
                raise ValidationError(f"`{name}` cannot be null here", path)
            return None
        codec = self.engine._codec(info.name, name)
        try:
            stored = codec.to_db(value)
        except ValidationError as error:
            raise ValidationError(error.message, path) from None
        return codec.from_db(stored) if codec.from_db is not None else stored


async def check_durability(redis: redis.asyncio.Redis) -> bool:
    """Whether Redis runs AOF with ``appendfsync always``; logs a warning naming what is lost
    otherwise (or when it cannot tell)."""
    try:
        config = await redis.config_get("append*")
    except Exception:  # CONFIG is often disabled on managed Redis
        log.warning(
            "write-back: cannot read Redis's persistence settings (CONFIG GET refused); "
            "acknowledged write-back updates survive a Redis crash only with "
            "appendonly yes and appendfsync always"
        )
        return False
    values = {_text(k): _text(v) for k, v in config.items()}
    appendonly, appendfsync = values.get("appendonly", "no"), values.get("appendfsync", "")
    if appendonly == "yes" and appendfsync == "always":
        return True
    if appendonly != "yes":
        lost = "every write-back update acknowledged since Redis's last RDB snapshot"
    else:
        lost = "up to about a second of acknowledged write-back updates"
    log.warning(
        "write-back: Redis runs with appendonly=%s appendfsync=%s; if Redis crashes, %s is "
        "lost. Run Redis with appendonly yes and appendfsync always for durable write-back.",
        appendonly,
        appendfsync or "-",
        lost,
    )
    return False


def _checked(engine: Engine, name: str, spec: WriteBackModel) -> _Model:
    """``spec`` checked against the schema: a keyed model, existing write-back-able fields."""
    where = f"cache.models.{name}"
    if name not in engine.info.models:
        raise ConfigError(f"{where}: the schema has no model `{name}`")
    info = engine.info.models[name]
    if not info.key_fields:
        raise ConfigError(
            f"{where}: write-back needs a model with an @id, @@id or required @unique"
        )
    for key in info.key_fields:
        if not supported(info.scalars[key]):
            raise ConfigError(
                f"{where}: write-back cannot key rows by `{key}` ({info.scalars[key].type})"
            )
    if not spec.fields:
        raise ConfigError(
            f'{where}.fields: write = "back" needs the fields to write back, e.g. ["views"]'
        )
    for field in spec.fields:
        scalar = info.scalars.get(field)
        if scalar is None:
            raise ConfigError(f"{where}.fields: `{name}` has no scalar field `{field}`")
        if field in info.key_fields or not supported(scalar):
            raise ConfigError(
                f"{where}.fields: `{field}` cannot be written back (key fields, lists, Json and "
                "Bytes are written through)"
            )
    return _Model(info, frozenset(spec.fields))


def _key_of(info: ModelInfo, where: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The primary key values ``where`` names exactly (plain values), else None."""
    keys = info.key_fields
    values: Mapping[str, Any] = where
    if len(keys) > 1 and len(where) == 1:
        ((name, inner),) = where.items()
        if info.compound_uniques.get(name) is not None and isinstance(inner, Mapping):
            values = inner
    if set(values) != set(keys):
        return None
    found = tuple(values[k] for k in keys)
    if any(isinstance(v, Mapping | list) or v is None for v in found):
        return None
    return found


def _selection(info: ModelInfo, select: Any) -> tuple[str, ...] | bool | None:
    """The scalar fields ``select`` picks (None: no select), or False when it selects
    relations, counts or anything else that is not a plain scalar field."""
    if select is None:
        return None
    if not isinstance(select, Mapping):
        return False
    chosen = []
    for name, on in select.items():
        if name not in info.scalars or not isinstance(on, bool):
            return False
        if on:
            chosen.append(name)
    return tuple(chosen)


def _record(
    info: ModelInfo, update: _Update, row: dict[str, Any] | None, flat: list[Any]
) -> dict[str, Any]:
    """The record a write returns: the database row (or just the key) with the row's
    pending values from the hash (``flat``: HGETALL's list) applied, as selected."""
    record = dict(row) if row is not None else dict(zip(info.key_fields, update.key, strict=True))
    record.update(decoded_hash(info.scalars, _pairs(flat)))
    if update.select is not None:
        record = {name: record[name] for name in update.select}
    return record


def _pairs(flat: list[Any]) -> dict[Any, Any]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _id(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)
