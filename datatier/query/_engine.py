"""The engine: one query document in, one result out, on a connection the caller provides.

Each call plans the document (names and values checked, values converted), looks up the
SQL compiled for its shape, or compiles it once, runs it and decodes the rows. REST,
GraphQL, RPC and the Python client all end here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from datatier.dialects import get_dialect
from datatier.drivers._protocol import Connection
from datatier.errors import NotFound, ValidationError
from datatier.migrate._ddl import to_metadata
from datatier.query._compile import Compiled, Compiler, FieldCodec
from datatier.query._dialect import QueryDialect, query_dialect
from datatier.query._model_info import SchemaInfo
from datatier.query._plan import Codec, Planner, Shape
from datatier.schema._ir import Field, Schema

__all__ = ["CodecFactory", "Engine"]

CodecFactory = Callable[[str, Field, Schema], Any]


class Engine:
    """Runs query documents for one schema on one kind of database."""

    def __init__(
        self, schema: Schema, provider: str, codec_factory: CodecFactory | None = None
    ) -> None:
        if codec_factory is None:
            from datatier.query._codecs import codec_for

            codec_factory = codec_for
        self.schema = schema
        self.provider = provider
        self.info = SchemaInfo(schema)
        self.dialect: QueryDialect = query_dialect(provider)
        metadata = to_metadata(schema, get_dialect(provider))
        tables: dict[str, sa.Table] = dict(metadata.tables)
        codecs: dict[tuple[str, str], Any] = {}
        for model in self.info.models.values():
            for field in model.scalars.values():
                codecs[(model.name, field.name)] = codec_factory(provider, field, schema)

        def codec(model: str, field: str) -> Any:
            return codecs[(model, field)]

        self._codec: Callable[[str, str], Any] = codec
        self.planner = Planner(self.info, self._planner_codec, self.dialect)
        self.compiler = Compiler(self.info, tables, self.dialect, self._compiler_codec)
        self._reads: dict[Shape, Compiled] = {}
        self._counts: dict[Shape | None, tuple[str, tuple[tuple[int | None, Any], ...]]] = {}

    def _planner_codec(self, model: str, field: str) -> Codec:
        codec: Codec = self._codec(model, field)
        return codec

    def _compiler_codec(self, model: str, field: str) -> FieldCodec:
        codec: FieldCodec = self._codec(model, field)
        return codec

    def model_name(self, accessor: str) -> str:
        """``User`` for ``user``: the model a client accessor stands for."""
        for name in self.info.models:
            if name[:1].lower() + name[1:] == accessor:
                return name
        raise ValidationError(f"unknown model accessor `{accessor}`")

    # -- reads -----------------------------------------------------------------------

    async def find_many(
        self, conn: Connection, model: str, args: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        shape, params = self.planner.read(model, args)
        return await self._read(conn, shape, params)

    async def find_first(
        self,
        conn: Connection,
        model: str,
        args: Mapping[str, Any],
        *,
        raise_if_missing: bool = False,
    ) -> dict[str, Any] | None:
        shape, params = self.planner.read(model, args, first=True)
        rows = await self._read(conn, shape, params)
        return _one(rows, model, raise_if_missing)

    async def find_unique(
        self,
        conn: Connection,
        model: str,
        args: Mapping[str, Any],
        *,
        raise_if_missing: bool = False,
    ) -> dict[str, Any] | None:
        shape, params = self.planner.read(model, args, unique=True)
        rows = await self._read(conn, shape, params)
        return _one(rows, model, raise_if_missing)

    async def count(self, conn: Connection, model: str, args: Mapping[str, Any]) -> int:
        unknown = set(args) - {"where"}
        if unknown:
            raise ValidationError(
                f"count takes `where` (paging counts come later), not `{sorted(unknown)[0]}`",
                (sorted(unknown)[0],),
            )
        where, params = self.planner.where(model, args.get("where"))
        key: Shape = (model, where)
        compiled = self._counts.get(key)
        if compiled is None:
            compiled = self._counts[key] = self.compiler.compile_count(model, where)
        sql, order = compiled
        row = await conn.fetch_one(sql, [params[s] if s is not None else v for s, v in order])
        assert row is not None
        return int(row[0])

    async def _read(
        self, conn: Connection, shape: Shape, params: list[Any]
    ) -> list[dict[str, Any]]:
        compiled = self._reads.get(shape)
        if compiled is None:
            compiled = self._reads[shape] = self.compiler.compile_read(shape)
        rows = await conn.fetch(compiled.sql, compiled.arguments(params))
        return compiled.decode_rows(rows)


def _one(rows: list[dict[str, Any]], model: str, raise_if_missing: bool) -> dict[str, Any] | None:
    if rows:
        return rows[0]
    if raise_if_missing:
        raise NotFound(f"no `{model}` record matches the query")
    return None
