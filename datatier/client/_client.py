"""``datatier.Client``: the async Python client, on any schema, without generated code.

``db.user.find_many(where=..., include=...)``: model accessors in lower camel case,
methods in snake_case, query documents spelled as Prisma spells them. Every read is one
statement on a pooled connection; every write runs in a transaction of its own unless
it runs inside ``async with db.tx() as tx``.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from datatier.cache._cache import Cache
from datatier.cache._settings import CacheSettings, to_settings
from datatier.client._errors import explain_database_error
from datatier.config import check_provider, load_config, resolve_url
from datatier.drivers import open_driver
from datatier.drivers._protocol import Connection, Driver, IsolationLevel, StatementListener
from datatier.errors import QueryError, TransactionConflict, ValidationError
from datatier.query._engine import Engine
from datatier.schema import Schema, load_schema

__all__ = ["Client", "ModelClient", "Transaction"]

T = TypeVar("T")
_RENAMES = {"order_by": "orderBy", "skip_duplicates": "skipDuplicates"}
_PLACEHOLDER = re.compile(r"\$(\d+)")


# An engine operation: ``engine.find_many(conn, model, document)`` and its kin.
Operation = Callable[[Connection, str, Mapping[str, Any]], Awaitable[T]]


class _Runner:
    """What a model accessor runs operations on: the client (own connection per call) or a
    transaction."""

    engine: Engine

    async def read(
        self, op: Operation[T], model: str, document: Mapping[str, Any], cache: Any = None
    ) -> T:
        raise NotImplementedError

    async def write(self, op: Operation[T], model: str, document: Mapping[str, Any]) -> T:
        raise NotImplementedError

    async def query_raw(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        raise NotImplementedError


class ModelClient:
    """The operations on one model: ``db.user``. Keyword arguments are the query document."""

    def __init__(self, runner: _Runner, model: str) -> None:
        self._runner = runner
        self._model = model
        self._engine = runner.engine

    def __repr__(self) -> str:
        return f"<datatier model {self._model}>"

    # reads
    async def find_unique(self, **args: Any) -> dict[str, Any] | None:
        cache = args.pop("cache", None)
        return await self._runner.read(
            self._engine.find_unique, self._model, _document(args), cache
        )

    async def find_unique_or_raise(self, **args: Any) -> dict[str, Any]:
        cache = args.pop("cache", None)
        return await self._runner.read(
            self._engine.find_unique_or_raise, self._model, _document(args), cache
        )

    async def find_first(self, **args: Any) -> dict[str, Any] | None:
        cache = args.pop("cache", None)
        return await self._runner.read(self._engine.find_first, self._model, _document(args), cache)

    async def find_first_or_raise(self, **args: Any) -> dict[str, Any]:
        cache = args.pop("cache", None)
        return await self._runner.read(
            self._engine.find_first_or_raise, self._model, _document(args), cache
        )

    async def find_many(self, **args: Any) -> list[dict[str, Any]]:
        cache = args.pop("cache", None)
        return await self._runner.read(self._engine.find_many, self._model, _document(args), cache)

    async def count(self, **args: Any) -> Any:
        """The number of records; with ``select={"_count": {...}}`` the counts per field."""
        cache = args.pop("cache", None)
        return await self._runner.read(self._engine.count, self._model, _document(args), cache)

    async def aggregate(self, **args: Any) -> dict[str, Any]:
        cache = args.pop("cache", None)
        return await self._runner.read(self._engine.aggregate, self._model, _document(args), cache)

    async def group_by(self, **args: Any) -> list[dict[str, Any]]:
        cache = args.pop("cache", None)
        return await self._runner.read(self._engine.group_by, self._model, _document(args), cache)

    # writes
    async def create(self, **args: Any) -> dict[str, Any]:
        return await self._runner.write(self._engine.create, self._model, _document(args))

    async def create_many(self, **args: Any) -> int:
        return await self._runner.write(self._engine.create_many, self._model, _document(args))

    async def update(self, **args: Any) -> dict[str, Any]:
        return await self._runner.write(self._engine.update, self._model, _document(args))

    async def update_many(self, **args: Any) -> int:
        return await self._runner.write(self._engine.update_many, self._model, _document(args))

    async def upsert(self, **args: Any) -> dict[str, Any]:
        return await self._runner.write(self._engine.upsert, self._model, _document(args))

    async def delete(self, **args: Any) -> dict[str, Any]:
        return await self._runner.write(self._engine.delete, self._model, _document(args))

    async def delete_many(self, **args: Any) -> int:
        return await self._runner.write(self._engine.delete_many, self._model, _document(args))

    # raw SQL read as this model's records
    async def query_raw(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        """Rows of raw SQL (``$1``, ``$2``, ... bound) read as this model's records: a column
        named like one of its fields (or that field's database column) comes back under the
        field's name and decoded as every read decodes it (aware DateTimes, Decimals, Json,
        enums); other columns come back as the database returns them."""
        rows = await self._runner.query_raw(sql, *params)
        return self._engine.decode_raw(self._model, rows)


def install_accessors(owner: Any, models: Mapping[str, Any]) -> None:
    """Give ``owner`` its model accessors (``db.user``) as plain instance attributes, so the
    lookup on every call is a dict hit; a name the class already uses keeps its meaning."""
    owner._models = dict(models)
    for name, accessor in models.items():
        if not hasattr(type(owner), name):
            owner.__dict__[name] = accessor


class _Accessors:
    """``db.user`` and friends: one ``ModelClient`` per model, by its lower camel case name."""

    _models: dict[str, ModelClient]

    def __getattr__(self, name: str) -> ModelClient:
        models: dict[str, ModelClient] = self.__dict__.get("_models", {})
        try:
            return models[name]
        except KeyError:
            known = ", ".join(sorted(models))
            raise AttributeError(f"no model accessor `{name}`; the schema has: {known}") from None

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self.__dict__.get("_models", {})]


class Transaction(_Accessors, _Runner):
    """The client's surface bound to one open transaction (``async with db.tx() as tx``)."""

    def __init__(self, engine: Engine, conn: Connection) -> None:
        self.engine = engine
        self._conn = conn
        install_accessors(self, {_accessor(m): ModelClient(self, m) for m in engine.info.models})

    async def read(
        self, op: Operation[T], model: str, document: Mapping[str, Any], cache: Any = None
    ) -> T:
        # Reads inside a transaction never use the cache: they must see the transaction's writes.
        return await _translated(op(self._conn, model, document), self.engine)

    async def write(self, op: Operation[T], model: str, document: Mapping[str, Any]) -> T:
        async with self._conn.transaction():  # a savepoint: a failed call leaves the rest intact
            return await _translated(op(self._conn, model, document), self.engine)

    async def query_raw(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return await _query_raw(self._conn, self.engine, sql, params)

    async def execute_raw(self, sql: str, *params: Any) -> int:
        return await _execute_raw(self._conn, self.engine, sql, params)


class Client(_Accessors, _Runner):
    """The async client for one schema and database.

    ``schema`` is a path (file or folder) or a loaded ``Schema``; ``url`` follows the usual
    precedence when omitted (``DATABASE_URL``, config file, the datasource's ``url``).
    """

    def __init__(
        self,
        schema: str | Path | Schema | None = None,
        url: str | None = None,
        *,
        pool_size: int = 10,
        acquire_timeout: float = 10.0,
        statement_timeout: float | None = None,
        cache: bool | Mapping[str, Any] | CacheSettings | None = None,
    ) -> None:
        config = load_config(Path.cwd(), os.environ, url=url)
        if isinstance(schema, Schema):
            loaded = schema
            schema_path = Path(schema.path or Path.cwd() / "schema.prisma")
        else:
            from datatier.config import find_schema

            schema_path = Path(schema) if schema is not None else find_schema(config, Path.cwd())
            loaded = load_schema(schema_path)
        datasource_url = loaded.datasource.url if loaded.datasource is not None else None
        self.url = resolve_url(config, os.environ, datasource_url, schema_path)
        self.provider = check_provider(loaded.provider or "sqlite", loaded.is_portable, self.url)
        self.schema = loaded
        self.engine = Engine(loaded, self.provider)
        settings = to_settings(cache, config.extra.get("cache"))
        # The cache (None when off): ``[cache]`` in datatier.toml or ``cache=`` (docs/cache.md).
        self.cache: Cache | None = (
            Cache(self.engine, settings, self.provider) if settings is not None else None
        )
        self._options = {
            "pool_size": pool_size,
            "acquire_timeout": acquire_timeout,
            "statement_timeout": statement_timeout,
        }
        self._driver: Driver | None = None
        self._opening: asyncio.Lock | None = None
        self._listeners: list[StatementListener] = []
        install_accessors(
            self, {_accessor(m): ModelClient(self, m) for m in self.engine.info.models}
        )

    # -- lifecycle -------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the connection pool now (it also opens on first use)."""
        await self._get_driver()

    async def close(self) -> None:
        if self.cache is not None:
            await self.cache.close()
        if self._driver is not None:
            await self._driver.close()
            self._driver = None

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def on_statement(self, listener: StatementListener) -> None:
        """Call ``listener`` after every statement with its SQL, duration and row count."""
        self._listeners.append(listener)
        if self._driver is not None:
            self._driver.add_listener(listener)

    async def _get_driver(self) -> Driver:
        if self._driver is not None:
            return self._driver
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._driver is None:
                driver = await open_driver(self.url, **self._options)  # type: ignore[arg-type]
                for listener in self._listeners:
                    driver.add_listener(listener)
                if self.cache is not None:
                    try:
                        await self.cache.start(driver)
                    except BaseException:
                        await self.cache.close()
                        await driver.close()
                        raise
                self._driver = driver
        return self._driver

    # -- running calls ---------------------------------------------------------------

    async def read(
        self, op: Operation[T], model: str, document: Mapping[str, Any], cache: Any = None
    ) -> T:
        driver = self._driver or await self._get_driver()
        try:
            if self.cache is not None:
                result: T = await self.cache.read(op, model, document, cache)
                if self.cache.writeback is not None and model in self.cache.writeback.models:
                    result = await self.cache.overlay(op, model, result)
                return result
            return await driver.run(op, model, document)
        except QueryError as error:
            raise explain_database_error(error, self.engine) from None

    async def write(self, op: Operation[T], model: str, document: Mapping[str, Any]) -> T:
        driver = self._driver or await self._get_driver()
        writeback = self.cache.writeback if self.cache is not None else None
        if writeback is not None and model in writeback.models:
            try:
                if writeback.accepts(model, op.__name__, document):
                    # acknowledged once Redis holds it; the flusher writes the database
                    return cast(T, await writeback.write(model, document))
                await writeback.before_write(model, op.__name__, document)
            except QueryError as error:
                raise explain_database_error(error, self.engine) from None
        if self.engine.runs_alone(op.__name__, model, document):
            # One statement is atomic by itself: no BEGIN and COMMIT round trips around it.
            try:
                result = await driver.run(op, model, document)
            except QueryError as error:
                raise explain_database_error(error, self.engine) from None
        else:
            async with driver.connection() as conn, conn.transaction():
                try:
                    result = await op(conn, model, document)
                except QueryError as error:
                    raise explain_database_error(error, self.engine) from None
        if self.cache is not None:
            # write-through: this process's next read sees the write (docs/cache.md)
            await self.cache.after_write()
        return result

    @asynccontextmanager
    async def tx(
        self,
        *,
        isolation_level: IsolationLevel | None = None,
        retries: int = 0,
        timeout: float | None = None,
    ) -> AsyncIterator[Transaction]:
        """An interactive transaction: commits when the block ends, rolls back if it raises.

        ``timeout`` (seconds) bounds the whole block. ``retries`` re-runs nothing by itself
        (a block cannot be replayed); use ``run_in_transaction`` for automatic retries.
        """
        driver = await self._get_driver()
        async with driver.connection() as conn, conn.transaction(isolation_level=isolation_level):
            if timeout is None:
                yield Transaction(self.engine, conn)
            else:
                async with asyncio.timeout(timeout):
                    yield Transaction(self.engine, conn)
        if self.cache is not None:
            await self.cache.after_write()

    async def run_in_transaction(
        self,
        work: Callable[[Transaction], Awaitable[T]],
        *,
        isolation_level: IsolationLevel | None = None,
        retries: int = 3,
        timeout: float | None = None,
    ) -> T:
        """Run ``work(tx)`` in a transaction, again (up to ``retries`` times) on a
        serialization failure or deadlock."""
        attempt = 0
        while True:
            try:
                async with self.tx(isolation_level=isolation_level, timeout=timeout) as tx:
                    return await work(tx)
            except TransactionConflict:
                attempt += 1
                if attempt > retries:
                    raise
                await asyncio.sleep(0.005 * 2**attempt)

    async def batch(self, *calls: Callable[[Transaction], Awaitable[Any]]) -> list[Any]:
        """Run several calls in one transaction, in order; all or nothing."""
        async with self.tx() as tx:
            return [await call(tx) for call in calls]

    # -- raw SQL ---------------------------------------------------------------------

    async def query_raw(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        """Rows of ``sql`` as dicts; ``$1``, ``$2``, ... are bound parameters on every database."""
        driver = await self._get_driver()
        async with driver.connection() as conn:
            return await _query_raw(conn, self.engine, sql, params)

    async def execute_raw(self, sql: str, *params: Any) -> int:
        """Run ``sql``; the number of rows it changed."""
        driver = await self._get_driver()
        async with driver.connection() as conn:
            return await _execute_raw(conn, self.engine, sql, params)


def _document(args: dict[str, Any]) -> dict[str, Any]:
    """Top-level keyword arguments (snake_case) as the query document (Prisma's spelling).

    ``args`` is the call's own ``**kwargs`` dict: returned as it is when nothing needs renaming.
    """
    for key, value in args.items():
        if value is None or key in _RENAMES:
            return {_RENAMES.get(k, k): v for k, v in args.items() if v is not None}
    return args


def _accessor(model: str) -> str:
    return model[:1].lower() + model[1:]


async def _translated(awaitable: Awaitable[T], engine: Engine) -> T:
    try:
        return await awaitable
    except QueryError as error:
        raise explain_database_error(error, engine) from None


def _raw_sql(engine: Engine, sql: str) -> str:
    if engine.provider == "sqlite":
        return _PLACEHOLDER.sub(lambda m: f"?{m.group(1)}", sql)
    return sql


async def _query_raw(
    conn: Connection, engine: Engine, sql: str, params: Sequence[Any]
) -> list[dict[str, Any]]:
    if not isinstance(sql, str):
        raise ValidationError("query_raw takes SQL text and parameters")
    names, rows = await conn.fetch_named(_raw_sql(engine, sql), list(params))
    return [dict(zip(names, row, strict=True)) for row in rows]


async def _execute_raw(conn: Connection, engine: Engine, sql: str, params: Sequence[Any]) -> int:
    return await conn.execute(_raw_sql(engine, sql), list(params))
