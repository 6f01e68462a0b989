"""``datatier.SyncClient``: the same surface as ``Client`` for code that does not use asyncio.

The async client runs on an event loop in one background thread owned by the sync
client; each call hands its coroutine to that loop and waits for the result. So both
clients share one engine, one pool and one behaviour.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from datatier.cache._cache import Cache
from datatier.client._client import Client, ModelClient, Transaction, install_accessors
from datatier.drivers._protocol import IsolationLevel, StatementListener
from datatier.schema import Schema

__all__ = ["SyncClient", "SyncModelClient", "SyncTransaction"]

T = TypeVar("T")


class _Loop:
    """An event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="datatier-sync", daemon=True
        )
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


class SyncModelClient:
    """``db.user`` of a ``SyncClient``: the ``ModelClient`` methods, returning results directly."""

    def __init__(self, loop: _Loop, model: ModelClient) -> None:
        self._loop = loop
        self._model = model

    def _call(self, method: Callable[..., Awaitable[T]], args: dict[str, Any]) -> T:
        async def run() -> T:
            return await method(**args)

        return self._loop.run(run())

    def find_unique(self, **args: Any) -> dict[str, Any] | None:
        return self._call(self._model.find_unique, args)

    def query_raw(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return self._loop.run(self._model.query_raw(sql, *params))

    def find_unique_or_raise(self, **args: Any) -> dict[str, Any]:
        return self._call(self._model.find_unique_or_raise, args)

    def find_first(self, **args: Any) -> dict[str, Any] | None:
        return self._call(self._model.find_first, args)

    def find_first_or_raise(self, **args: Any) -> dict[str, Any]:
        return self._call(self._model.find_first_or_raise, args)

    def find_many(self, **args: Any) -> list[dict[str, Any]]:
        return self._call(self._model.find_many, args)

    def count(self, **args: Any) -> Any:
        return self._call(self._model.count, args)

    def aggregate(self, **args: Any) -> dict[str, Any]:
        return self._call(self._model.aggregate, args)

    def group_by(self, **args: Any) -> list[dict[str, Any]]:
        return self._call(self._model.group_by, args)

    def create(self, **args: Any) -> dict[str, Any]:
        return self._call(self._model.create, args)

    def create_many(self, **args: Any) -> int:
        return self._call(self._model.create_many, args)

    def update(self, **args: Any) -> dict[str, Any]:
        return self._call(self._model.update, args)

    def update_many(self, **args: Any) -> int:
        return self._call(self._model.update_many, args)

    def upsert(self, **args: Any) -> dict[str, Any]:
        return self._call(self._model.upsert, args)

    def delete(self, **args: Any) -> dict[str, Any]:
        return self._call(self._model.delete, args)

    def delete_many(self, **args: Any) -> int:
        return self._call(self._model.delete_many, args)


class _SyncAccessors:
    _models: dict[str, SyncModelClient]

    def __getattr__(self, name: str) -> SyncModelClient:
        models: dict[str, SyncModelClient] = self.__dict__.get("_models", {})
        try:
            return models[name]
        except KeyError:
            known = ", ".join(sorted(models))
            raise AttributeError(f"no model accessor `{name}`; the schema has: {known}") from None


class SyncTransaction(_SyncAccessors):
    """A ``SyncClient``'s open transaction (``with db.tx() as tx``)."""

    def __init__(self, loop: _Loop, tx: Transaction) -> None:
        self._loop = loop
        self._tx = tx
        install_accessors(
            self, {name: SyncModelClient(loop, model) for name, model in tx._models.items()}
        )

    def query_raw(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return self._loop.run(self._tx.query_raw(sql, *params))

    def execute_raw(self, sql: str, *params: Any) -> int:
        return self._loop.run(self._tx.execute_raw(sql, *params))


class SyncClient(_SyncAccessors):
    """The blocking client; takes the same arguments as ``Client``."""

    def __init__(
        self,
        schema: str | Path | Schema | None = None,
        url: str | None = None,
        **options: Any,
    ) -> None:
        self.client = Client(schema, url, **options)
        self._loop = _Loop()
        install_accessors(
            self,
            {
                name: SyncModelClient(self._loop, model)
                for name, model in self.client._models.items()
            },
        )

    @property
    def schema(self) -> Schema:
        return self.client.schema

    @property
    def cache(self) -> Cache | None:
        """The client's cache (``Client.cache``), or None when it is off."""
        return self.client.cache

    def connect(self) -> None:
        self._loop.run(self.client.connect())

    def close(self) -> None:
        self._loop.run(self.client.close())
        self._loop.stop()

    def __enter__(self) -> SyncClient:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def on_statement(self, listener: StatementListener) -> None:
        self.client.on_statement(listener)

    @contextmanager
    def tx(self, *, isolation_level: IsolationLevel | None = None) -> Iterator[SyncTransaction]:
        """A transaction: commits when the block ends, rolls back if it raises."""
        manager = self.client.tx(isolation_level=isolation_level)
        tx = self._loop.run(manager.__aenter__())
        try:
            yield SyncTransaction(self._loop, tx)
        except BaseException as error:
            if not self._loop.run(manager.__aexit__(type(error), error, error.__traceback__)):
                raise
        else:
            self._loop.run(manager.__aexit__(None, None, None))

    def query_raw(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return self._loop.run(self.client.query_raw(sql, *params))

    def execute_raw(self, sql: str, *params: Any) -> int:
        return self._loop.run(self.client.execute_raw(sql, *params))
