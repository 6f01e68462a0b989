"""The engine: one query document in, one result out, on a connection the caller provides.

Each call plans the document (names and values checked, values converted), looks up the
SQL compiled for its shape, or compiles it once, runs it and decodes the rows. REST,
GraphQL, RPC and the Python client all end here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from datatier.dialects import get_dialect
from datatier.drivers._protocol import Connection
from datatier.errors import NotFound, ValidationError
from datatier.migrate._ddl import to_metadata
from datatier.query._changes import pending_changes, record_changes
from datatier.query._compile import Compiled, Compiler, FieldCodec, _row_decoder
from datatier.query._dialect import QueryDialect, query_dialect
from datatier.query._model_info import SchemaInfo
from datatier.query._plan import Codec, DbValue, Planner, Shape
from datatier.query._write import Writer
from datatier.schema._ir import Field, Schema

__all__ = ["CodecFactory", "Engine"]

T = TypeVar("T")
CodecFactory = Callable[[str, Field, Schema], Any]
MAX_SHAPES = 10_000  # compiled statements kept per engine


class Engine:
    """Runs query documents for one schema on one kind of database.

    With ``record_changes`` (settable at any time) every write call also inserts one change
    event per row it created, updated, deleted or (many-to-many) linked into the outbox table
    ``_datatier_changes``, with one extra statement in the write's own transaction; the
    table must exist (``datatier.query._changes.ensure_outbox``).
    """

    def __init__(
        self,
        schema: Schema,
        provider: str,
        codec_factory: CodecFactory | None = None,
        *,
        record_changes: bool = False,
    ) -> None:
        if codec_factory is None:
            from datatier.query._codecs import codec_for

            codec_factory = codec_for
        self.schema = schema
        self.provider = provider
        self.record_changes = record_changes
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
        self._raw_fields: dict[str, dict[str, tuple[str, Any]]] = {}
        self._write_decoders: dict[
            tuple[str, tuple[str, ...]], Callable[[Any], dict[str, Any]]
        ] = {}
        self.writer = Writer(self)

    def decode_raw(self, model: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Raw SQL rows as ``model``'s records: columns named like a field (or its database
        column) renamed to the field and decoded; other columns kept as they are."""
        fields = self._raw_fields.get(model)
        if fields is None:
            info = self.info.model(model)
            fields = {}
            for field in info.scalars.values():
                decode = self._codec(model, field.name).from_db
                fields[field.db_name] = fields[field.name] = (field.name, decode)
            self._raw_fields[model] = fields
        decoded = []
        for row in rows:
            record: dict[str, Any] = {}
            for column, value in row.items():
                name, decode = fields.get(column, (column, None))
                record[name] = decode(value) if decode is not None and value is not None else value
            decoded.append(record)
        return decoded

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
    # ``wire=True``: the records are wire rows (``Compiled``), for a caller that only
    # encodes them with orjson.

    async def find_many(
        self, conn: Connection, model: str, args: Mapping[str, Any], *, wire: bool = False
    ) -> list[dict[str, Any]]:
        shape, params = self.planner.read(model, args)
        return await self._run(conn, shape, params, self.compiler.compile_read, wire)

    async def find_first(
        self,
        conn: Connection,
        model: str,
        args: Mapping[str, Any],
        *,
        raise_if_missing: bool = False,
        wire: bool = False,
    ) -> dict[str, Any] | None:
        shape, params = self.planner.read(model, args, first=True)
        rows = await self._run(conn, shape, params, self.compiler.compile_read, wire)
        return _one(rows, model, raise_if_missing)

    async def find_unique(
        self,
        conn: Connection,
        model: str,
        args: Mapping[str, Any],
        *,
        raise_if_missing: bool = False,
        wire: bool = False,
    ) -> dict[str, Any] | None:
        shape, params = self.planner.read(model, args, unique=True)
        rows = await self._run(conn, shape, params, self.compiler.compile_read, wire)
        return _one(rows, model, raise_if_missing)

    async def find_unique_or_raise(
        self, conn: Connection, model: str, args: Mapping[str, Any], *, wire: bool = False
    ) -> dict[str, Any]:
        found = await self.find_unique(conn, model, args, raise_if_missing=True, wire=wire)
        assert found is not None
        return found

    async def find_first_or_raise(
        self, conn: Connection, model: str, args: Mapping[str, Any], *, wire: bool = False
    ) -> dict[str, Any]:
        found = await self.find_first(conn, model, args, raise_if_missing=True, wire=wire)
        assert found is not None
        return found

    async def count(self, conn: Connection, model: str, args: Mapping[str, Any]) -> Any:
        """The number of records (``select``: per-field non-null counts, as an object)."""
        select = args.get("select")
        document = {k: v for k, v in args.items() if k != "select"}
        if select is None:
            document["_count"] = True
        elif isinstance(select, Mapping):
            document["_count"] = select  # {_all: true, name: true}: non-null counts per field
        else:
            raise ValidationError(
                "count's `select` takes the fields to count, e.g. {_all: true, name: true}",
                ("select",),
            )
        result = await self.aggregate(conn, model, document)
        return result["_count"]

    async def aggregate(
        self, conn: Connection, model: str, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        shape, params = self.planner.aggregate(model, args)
        rows = await self._run(conn, shape, params, self.compiler.compile_aggregate)
        return rows[0]

    async def group_by(
        self, conn: Connection, model: str, args: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        shape, params = self.planner.group_by(model, args)
        return await self._run(conn, shape, params, self.compiler.compile_group_by)

    async def _run(
        self,
        conn: Connection,
        shape: Shape,
        params: list[Any],
        compile_shape: Callable[[Shape], Compiled],
        wire: bool = False,
    ) -> list[dict[str, Any]]:
        compiled = self._reads.get(shape)
        if compiled is None:
            compiled = self._remember(shape, compile_shape(shape))
        rows = await conn.fetch(compiled.sql, compiled.arguments(params))
        if wire and compiled.decode_wire is not None:
            return compiled.decode_wire(rows)
        return compiled.decode_rows(rows)

    def _remember(self, shape: Shape, compiled: Compiled) -> Compiled:
        """Cache ``compiled`` for ``shape``; past ``MAX_SHAPES`` the oldest entry goes, so a
        client sending endless new shapes cannot grow memory without bound."""
        if len(self._reads) >= MAX_SHAPES:
            del self._reads[next(iter(self._reads))]
        self._reads[shape] = compiled
        return compiled

    # -- writes (the caller runs each in a transaction) --------------------------------

    async def create(self, conn: Connection, model: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Insert one record (and its nested writes); the record as ``select``/``include`` ask."""
        return await self._recorded(conn, self._create(conn, model, args))

    async def create_many(self, conn: Connection, model: str, args: Mapping[str, Any]) -> int:
        """Insert records of scalar fields; how many were inserted."""
        return await self._recorded(conn, self._create_many(conn, model, args))

    async def update(self, conn: Connection, model: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Update the record a unique ``where`` names (NotFound if none); the record after."""
        return await self._recorded(conn, self._update(conn, model, args))

    async def update_many(self, conn: Connection, model: str, args: Mapping[str, Any]) -> int:
        """Update the records ``where`` selects; how many changed."""
        return await self._recorded(conn, self._update_many(conn, model, args))

    async def upsert(self, conn: Connection, model: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Update the record a unique ``where`` names, or create it; the record after."""
        return await self._recorded(conn, self._upsert(conn, model, args))

    async def delete(self, conn: Connection, model: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Delete the record a unique ``where`` names (NotFound if none); the record before."""
        return await self._recorded(conn, self._delete(conn, model, args))

    async def delete_many(self, conn: Connection, model: str, args: Mapping[str, Any]) -> int:
        """Delete the records ``where`` selects; how many went."""
        return await self._recorded(conn, self._delete_many(conn, model, args))

    async def _recorded(self, conn: Connection, write: Awaitable[T]) -> T:
        """Await ``write``; when recording changes, collect its events meanwhile and insert
        them after it (a write that raises records nothing: its transaction rolls back)."""
        if not self.record_changes:
            return await write
        events: list[tuple[str, str, str]] = []
        token = pending_changes.set(events)
        try:
            result = await write
        finally:
            pending_changes.reset(token)
        await record_changes(conn, self.provider, events)
        return result

    async def _create(
        self,
        conn: Connection,
        model: str,
        args: Mapping[str, Any],
        path: tuple[str, ...] = ("data",),
    ) -> dict[str, Any]:
        _only(args, ("data", "select", "include"), "create")
        fields = self._scalar_selection(model, args)
        if fields is None:
            key = await self.writer.create(conn, model, args.get("data"), path)
            return await self._read_key(conn, model, key, args)
        # No relation to read: the INSERT returns the record (what it nests never changes it).
        rows: list[Sequence[Any]] = []
        await self.writer.create(
            conn, model, args.get("data"), path, returning=fields, row_out=rows
        )
        return self._decoder(model, fields)(rows[0])

    async def _create_many(self, conn: Connection, model: str, args: Mapping[str, Any]) -> int:
        _only(args, ("data", "skipDuplicates"), "createMany")
        return await self.writer.create_many(
            conn, model, args.get("data"), bool(args.get("skipDuplicates", False))
        )

    async def _update(
        self, conn: Connection, model: str, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        _only(args, ("where", "data", "select", "include"), "update")
        where = self._checked_unique(model, args.get("where"))
        record = await self._update_unique(conn, model, where, args.get("data"), ("data",), args)
        if record is None:
            raise NotFound(f"no `{model}` record to update matches the `where`")
        return record

    async def _update_unique(
        self,
        conn: Connection,
        model: str,
        where: Any,
        data: Any,
        path: tuple[str, ...],
        args: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        """Update the record a (checked) unique ``where`` names; the record after, as ``args``
        select it, or None when no record matches.

        Without relations to read, and without nested writes that could change the record's
        own columns afterwards, the ``UPDATE`` returns the record: one statement. Otherwise
        it returns the key (which the update may change) and the record is read by it.
        """
        fields = self._scalar_selection(model, args)
        if fields is not None and not self._own_row_final(model, data):
            fields = None
        keys: list[dict[str, Any]] = []
        rows: list[Sequence[Any]] = []
        await self.writer.update_where(
            conn,
            model,
            where,
            data,
            path,
            keys_out=keys,
            returning=fields or (),
            rows_out=rows if fields is not None else None,
        )
        if not keys:
            return None
        if fields is not None and rows:
            return self._decoder(model, fields)(rows[0])
        return await self._read_key(conn, model, keys[0], args)

    async def _update_many(self, conn: Connection, model: str, args: Mapping[str, Any]) -> int:
        _only(args, ("where", "data"), "updateMany")
        return await self.writer.update_where(conn, model, args.get("where"), args.get("data"))

    async def _upsert(
        self, conn: Connection, model: str, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        _only(args, ("where", "create", "update", "select", "include"), "upsert")
        for required in ("where", "create", "update"):
            if required not in args:
                raise ValidationError(f"upsert needs `{required}`", (required,))
        where = self._checked_unique(model, args["where"])
        conflict = self._on_conflict_fields(model, args)
        fields = self._scalar_selection(model, args) if conflict is not None else None
        if conflict is not None and fields is not None:
            row = await self.writer.upsert_on_conflict(
                conn, model, conflict, args["create"], args["update"], fields
            )
            return self._decoder(model, fields)(row)
        # UPDATE first: when it finds the record the upsert is done, else INSERT.
        record = await self._update_unique(conn, model, where, args["update"], ("update",), args)
        if record is not None:
            return record
        return await self._create(
            conn, model, {"data": args["create"], **_read_args(args)}, ("create",)
        )

    async def _delete(
        self, conn: Connection, model: str, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        _only(args, ("where", "select", "include"), "delete")
        where = self._checked_unique(model, args.get("where"))
        fields = self._scalar_selection(model, args)
        if fields is not None:
            # No relation to read: the DELETE returns the record.
            rows: list[Sequence[Any]] = []
            await self.writer.delete_where(conn, model, where, returning=fields, rows_out=rows)
            if not rows:
                raise NotFound(f"no `{model}` record to delete matches the `where`")
            return self._decoder(model, fields)(rows[0])
        # Relations are read before the record (and what cascades from it) goes.
        shape, params = self.planner.read(model, {**_read_args(args), "where": where})
        found = await self._read(conn, shape, params)
        if not found:
            raise NotFound(f"no `{model}` record to delete matches the `where`")
        await self.writer.delete_where(conn, model, where)
        return found[0]

    async def _delete_many(self, conn: Connection, model: str, args: Mapping[str, Any]) -> int:
        _only(args, ("where",), "deleteMany")
        return await self.writer.delete_where(conn, model, args.get("where"))

    def _on_conflict_fields(self, model: str, args: Mapping[str, Any]) -> tuple[str, ...] | None:
        """The unique fields an upsert can run on as one ``INSERT ... ON CONFLICT``, as
        Prisma runs it natively: the where is exactly one unique criterion with plain
        non-null values, ``create`` sets those same values, neither ``create`` nor ``update``
        writes relations, and ``update`` changes something. None otherwise (and while
        recording changes, whose events tell a create from an update)."""
        if self.record_changes:
            return None
        info = self.info.model(model)
        where, create, update = args["where"], args["create"], args["update"]
        if not (
            isinstance(where, Mapping)
            and len(where) == 1
            and isinstance(create, Mapping)
            and isinstance(update, Mapping)
            and update
        ):
            return None
        if any(name in info.relations for name in (*create, *update)):
            return None
        if any(
            field.is_required and not field.is_list and field.default is None and name not in create
            for name, field in info.scalars.items()
            if not field.is_updated_at
        ):
            # An incomplete create is judged only if the record is missing, after the UPDATE.
            return None
        ((name, value),) = where.items()
        fields = dict(info.uniques).get(name)
        if fields is None:
            return None
        wanted = (
            {name: value} if len(fields) == 1 else value if isinstance(value, Mapping) else None
        )
        if wanted is None or set(wanted) != set(fields):
            return None
        for field, expected in wanted.items():
            given = create.get(field)
            if expected is None or isinstance(expected, Mapping) or given != expected:
                return None
            if type(given) is not type(expected):
                return None
        return fields

    def _checked_unique(self, model: str, where: Any) -> Any:
        """``where``, once checked to name one record by a unique criterion."""
        info = self.info.keyed_model(model)
        self.planner._check_unique_where(info, where, ("where",))
        return where

    def runs_alone(self, operation: str, model: str, args: Mapping[str, Any]) -> bool:
        """Whether write ``operation`` (a method name: ``update``, ``create_many``, ...) with
        ``args`` is one statement, which the database applies atomically without a
        transaction around it: no change events to record, no relation written and, for
        the calls that return a record, none read. When in doubt (a document the engine
        will reject, say), False: the call then runs in a transaction as every write does.
        """
        if self.record_changes:
            return False
        info = self.info.models.get(model)
        if info is None or not isinstance(args, Mapping):
            return False
        try:
            if operation in ("create", "update"):
                data = args.get("data")
                return (
                    isinstance(data, Mapping)
                    and all(name in info.scalars for name in data)
                    and self._scalar_selection(model, args) is not None
                )
            if operation == "upsert":
                return (
                    all(key in args for key in ("where", "create", "update"))
                    and self._on_conflict_fields(model, args) is not None
                    and self._scalar_selection(model, args) is not None
                )
            if operation == "delete":
                return self._scalar_selection(model, args) is not None
            if operation == "update_many":
                data = args.get("data")
                return isinstance(data, Mapping) and all(name in info.scalars for name in data)
            # createMany inserts one statement per run of records that set the same fields.
            return operation == "delete_many"
        except ValidationError:
            return False

    def _scalar_selection(self, model: str, args: Mapping[str, Any]) -> tuple[str, ...] | None:
        """The scalar fields a write's result holds, or None when it reads relations or
        counts (then the record is read back by key after the write)."""
        if args.get("select") is None and args.get("include") is None:
            return self.info.model(model).default_selection
        shape, _ = self.planner.read(model, _read_args(args))
        selection: tuple[tuple[Any, ...], ...] = shape[3]
        if any(item[0] != "s" for item in selection):
            return None
        return tuple(item[1] for item in selection)

    def _own_row_final(self, model: str, data: Any) -> bool:
        """Whether nested writes in update ``data`` leave the record's own columns as the
        ``UPDATE`` set them: none sets a foreign key this model holds, none is a
        self-relation (which could reach the record itself)."""
        if not isinstance(data, Mapping):
            return True  # the writer rejects it
        info = self.info.model(model)
        for name in data:
            link = info.relations.get(name)
            if link is not None and (link.holds_foreign_key or link.target == model):
                return False
        return True

    def _decoder(self, model: str, fields: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
        """Turns a row of ``fields`` columns (as a write returns them) into a record, decoded
        as reads decode."""
        found = self._write_decoders.get((model, fields))
        if found is None:
            info = self.info.model(model)
            found = _row_decoder(
                list(fields),
                [self._codec(model, name).from_db for name in fields],
                [info.scalars[name].is_list for name in fields],
            )
            if len(self._write_decoders) >= MAX_SHAPES:
                del self._write_decoders[next(iter(self._write_decoders))]
            self._write_decoders[(model, fields)] = found
        return found

    async def _read_key(
        self, conn: Connection, model: str, key: dict[str, Any], args: Mapping[str, Any]
    ) -> dict[str, Any]:
        read = _read_args(args)
        read["where"] = _key_where(key)
        shape, params = self.planner.read(model, read)
        rows = await self._read(conn, shape, params)
        return rows[0]

    async def _read(
        self, conn: Connection, shape: Shape, params: list[Any]
    ) -> list[dict[str, Any]]:
        return await self._run(conn, shape, params, self.compiler.compile_read)


def _read_args(args: Mapping[str, Any]) -> dict[str, Any]:
    return {k: args[k] for k in ("select", "include") if args.get(k) is not None}


def _key_where(key: Mapping[str, Any]) -> dict[str, Any]:
    return {name: DbValue(value) for name, value in key.items()}


def _only(args: Mapping[str, Any], allowed: tuple[str, ...], operation: str) -> None:
    for key in args:
        if key not in allowed:
            raise ValidationError(f"{operation} takes {', '.join(allowed)}; not `{key}`", (key,))


def _one(rows: list[dict[str, Any]], model: str, raise_if_missing: bool) -> dict[str, Any] | None:
    if rows:
        return rows[0]
    if raise_if_missing:
        raise NotFound(f"no `{model}` record matches the query")
    return None
