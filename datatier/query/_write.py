"""Writes: create, update, delete (single and many), upsert and nested writes.

A single-record write with a plain result is one statement (``INSERT``/``UPDATE``/
``DELETE ... RETURNING``). Nested writes run several statements; the client wraps each
write call in a transaction, so a failure anywhere leaves nothing behind. Values are
converted by the same codecs as reads, and SQL is compiled once per statement shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from datatier.errors import NotFound, RequiredRelationViolation, ValidationError
from datatier.query._changes import key_text, pending_changes
from datatier.query._ids import generator_for
from datatier.query._links import Link
from datatier.query._model_info import ModelInfo
from datatier.query._plan import DbValue, Shape, unknown_field

if TYPE_CHECKING:
    from datatier.drivers._protocol import Connection
    from datatier.query._engine import Engine

__all__ = ["Writer"]

MAX_SHAPES = 10_000  # compiled write statements kept per engine
MAX_PARAMS = 30_000  # bound values per statement: under PostgreSQL's and SQLite's limits
MAX_ROWS = 500  # rows per multi-row INSERT (each row count is a statement shape of its own)

Path = tuple[str | int, ...]
Key = dict[str, Any]  # primary key field name -> database value
_NUMBER_OPS = ("set", "increment", "decrement", "multiply", "divide")
_TO_ONE_OPS = frozenset(
    ("create", "connect", "connectOrCreate", "disconnect", "delete", "update", "upsert")
)
_TO_MANY_OPS = frozenset(
    (
        "create",
        "createMany",
        "connect",
        "connectOrCreate",
        "disconnect",
        "set",
        "update",
        "updateMany",
        "upsert",
        "delete",
        "deleteMany",
    )
)


class Writer:
    """Runs write documents for one engine (same schema, codecs, compiler and caches)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sql: dict[Shape, tuple[str, tuple[tuple[int | None, Any], ...]]] = {}

    # -- statements ------------------------------------------------------------------

    def _compiled(
        self, key: Shape, build: Callable[[], Any]
    ) -> tuple[str, tuple[tuple[int | None, Any], ...]]:
        found = self._sql.get(key)
        if found is None:
            if len(self._sql) >= MAX_SHAPES:
                del self._sql[next(iter(self._sql))]
            found = self._sql[key] = self.engine.compiler._text(build())
        return found

    async def _run(
        self,
        conn: Connection,
        key: Shape,
        build: Callable[[], Any],
        params: Sequence[Any],
        *,
        rows: bool,
    ) -> Any:
        sql, order = self._compiled(key, build)
        args = [params[slot] if slot is not None else value for slot, value in order]
        if rows:
            return await conn.fetch(sql, args)
        return await conn.execute(sql, args)

    def _changed(self, info: ModelInfo, op: str, keys: Iterable[Sequence[Any]]) -> None:
        """Record ``op`` on each row whose key (database values, in key-field order) is in
        ``keys``, when the running write call records changes."""
        events = pending_changes.get()
        if events is None:
            return
        decode = [self._codec(info, name).from_db for name in info.key_fields]
        for key in keys:
            values = [
                value if conv is None or value is None else conv(value)
                for conv, value in zip(decode, key, strict=True)
            ]
            events.append((info.name, op, key_text(values)))

    def _changed_keyless(self, info: ModelInfo, op: str, count: int) -> None:
        # A model without a key that finds a row again: one event per row, each keyed "[]".
        if count and pending_changes.get() is not None:
            self._changed(info, op, [()] * count)

    def _table(self, info: ModelInfo) -> sa.Table:
        model = info.model
        return self.engine.compiler.tables[
            f"{model.schema}.{model.db_name}" if model.schema else model.db_name
        ]

    def _codec(self, info: ModelInfo, field: str) -> Any:
        return self.engine._codec(info.name, field)

    # -- create ----------------------------------------------------------------------

    async def create(
        self,
        conn: Connection,
        model: str,
        data: Any,
        path: Path = ("data",),
        *,
        returning: tuple[str, ...] = (),
        row_out: list[Sequence[Any]] | None = None,
    ) -> Key:
        """Insert one record (and what ``data`` nests); returns its primary key values.

        ``returning`` names fields whose stored values the ``INSERT`` returns into
        ``row_out`` (nested writes that follow never change the record's own columns).
        """
        info = self.engine.info.keyed_model(model)
        values, after = await self._prepare(conn, info, data, path)
        _, rows = await self._insert_rows(
            conn, info, tuple(values), [list(values.values())], returning=returning
        )
        width = len(info.key_fields)
        key = dict(zip(info.key_fields, rows[0][:width], strict=True))
        if row_out is not None:
            row_out.append(rows[0][width:])
        for link, value, field_path in after:
            await self._nested_many(conn, info, key, link, value, field_path, creating=True)
        return key

    async def _prepare(
        self,
        conn: Connection,
        info: ModelInfo,
        data: Any,
        path: Path,
        found: dict[str, Sequence[Any]] | None = None,
    ) -> tuple[dict[str, Any], list[tuple[Link, Any, Path]]]:
        """The column values of a record to create (foreign keys of to-one relations it
        creates or connects resolved, defaults filled) and the nested writes that need its
        key, to run after the ``INSERT``."""
        if not isinstance(data, Mapping):
            raise ValidationError("`data` takes an object of field values", path)
        values: dict[str, Any] = {}
        after: list[tuple[Link, Any, Path]] = []
        for name, value in data.items():
            field_path = (*path, name)
            if name in info.scalars:
                values[name] = self._scalar_value(info, name, value, field_path)
            elif name in info.relations:
                link = info.relations[name]
                if link.holds_foreign_key:
                    values.update(
                        await self._to_one_owner(conn, info, link, value, field_path, found)
                    )
                else:
                    after.append((link, value, field_path))
            else:
                raise ValidationError(unknown_field(info, name), field_path)
        self._fill_defaults(info, values)
        self._check_required(info, values, path)
        return values, after

    async def _insert_rows(
        self,
        conn: Connection,
        info: ModelInfo,
        columns: tuple[str, ...],
        records: Sequence[Sequence[Any]],
        *,
        skip_duplicates: bool = False,
        returning: tuple[str, ...] | None = None,
    ) -> tuple[int, list[Sequence[Any]]]:
        """``INSERT`` ``records`` (values in ``columns`` order) as multi-row statements, as
        few as the parameter limit allows; records the created rows.

        With ``returning`` (or while recording changes) the statements return the key fields
        followed by the ``returning`` fields; returns (rows inserted, those rows).
        """
        recording = pending_changes.get() is not None and bool(info.key_fields)
        fields: tuple[str, ...] = ()
        if returning is not None or recording:
            fields = (*info.key_fields, *(returning or ()))
        table = self._table(info)
        width = len(columns)
        per = min(MAX_ROWS, MAX_PARAMS // width) if width else 1  # DEFAULT VALUES: one row
        count = 0
        out: list[Sequence[Any]] = []
        for start in range(0, len(records), per):
            chunk = records[start : start + per]
            size = len(chunk)

            def build(size: int = size) -> Any:
                rows: list[dict[str, Any]] = [
                    {
                        info.scalars[c].db_name: sa.bindparam(f"p{r * width + i}")
                        for i, c in enumerate(columns)
                    }
                    for r in range(size)
                ]
                values: Any = rows[0] if size == 1 else rows
                if skip_duplicates:
                    statement = self.engine.dialect.insert_skipping_duplicates(table, values)
                else:
                    statement = sa.insert(table).values(values)
                if fields:
                    statement = statement.returning(
                        *(table.c[info.scalars[f].db_name] for f in fields)
                    )
                return statement

            params = [value for record in chunk for value in record]
            result = await self._run(
                conn,
                ("insert", info.name, columns, size, skip_duplicates, fields),
                build,
                params,
                rows=bool(fields),
            )
            if fields:
                out.extend(result)
                count += len(result)
            else:
                count += int(result)
        if recording:
            width_key = len(info.key_fields)
            self._changed(info, "create", (row[:width_key] for row in out))
        else:
            self._changed_keyless(info, "create", count)
        return count, out

    async def create_many(
        self,
        conn: Connection,
        model: str,
        data: Any,
        skip_duplicates: bool,
        path: Path = ("data",),
        fixed: Mapping[str, Any] | None = None,
    ) -> int:
        """Insert records of scalar fields (plus the ``fixed`` database values, e.g. a parent's
        key) in as few statements as possible; returns how many were inserted."""
        info = self.engine.info.model(model)
        if not isinstance(data, list):
            raise ValidationError("`data` takes a list of records", path)
        prepared: list[dict[str, Any]] = []
        for index, record in enumerate(data):
            if not isinstance(record, Mapping):
                raise ValidationError("each record is an object of field values", (*path, index))
            values: dict[str, Any] = {}
            for name, value in record.items():
                if name not in info.scalars:
                    raise ValidationError(
                        f"createMany takes scalar fields only (set foreign keys directly); "
                        f"`{name}` is not one",
                        (*path, index, name),
                    )
                values[name] = self._scalar_value(info, name, value, (*path, index, name))
            if fixed:
                values.update(fixed)
            self._fill_defaults(info, values)
            self._check_required(info, values, (*path, index))
            prepared.append(values)
        return await self._insert_runs(conn, info, prepared, skip_duplicates=skip_duplicates)

    async def _insert_runs(
        self,
        conn: Connection,
        info: ModelInfo,
        prepared: Sequence[Mapping[str, Any]],
        *,
        skip_duplicates: bool = False,
        returning: tuple[str, ...] | None = None,
        rows_out: list[Sequence[Any]] | None = None,
    ) -> int:
        """Insert prepared records in order, one multi-row ``INSERT`` per run of consecutive
        records that set the same columns."""
        count = 0
        start = 0
        while start < len(prepared):
            columns = tuple(prepared[start])
            end = start + 1
            while end < len(prepared) and tuple(prepared[end]) == columns:
                end += 1
            records = [list(values.values()) for values in prepared[start:end]]
            inserted, rows = await self._insert_rows(
                conn, info, columns, records, skip_duplicates=skip_duplicates, returning=returning
            )
            count += inserted
            if rows_out is not None:
                rows_out.extend(rows)
            start = end
        return count

    def _scalar_value(self, info: ModelInfo, name: str, value: Any, path: Path) -> Any:
        field = info.scalars[name]
        if type(value) is DbValue:
            return value.value
        if value is None:
            if field.is_required and not field.is_list:
                raise ValidationError(f"`{name}` is required and cannot be null", path)
            return None
        if isinstance(value, Mapping) and field.is_list and set(value) == {"set"}:
            value = value["set"]
        try:
            return self._codec(info, name).to_db(value)
        except ValidationError as error:
            raise ValidationError(error.message, path) from None

    def _fill_defaults(self, info: ModelInfo, values: dict[str, Any]) -> None:
        """Fill what Prisma fills in its engine: uuid(), cuid(), nanoid(), ulid(), now(), @updatedAt."""
        now: datetime | None = None
        for name, field in info.scalars.items():
            if name in values:
                continue
            default = field.default
            if field.is_updated_at or (
                default is not None and default.kind == "function" and default.name == "now"
            ):
                now = now or datetime.now(UTC)
                values[name] = self._codec(info, name).to_db(now)
            elif default is not None and default.kind == "function" and default.name is not None:
                make = generator_for(default.name, default.args)
                if make is not None:
                    values[name] = self._codec(info, name).to_db(make())

    def _check_required(self, info: ModelInfo, values: Mapping[str, Any], path: Path) -> None:
        for name, field in info.scalars.items():
            if (
                field.is_required
                and not field.is_list
                and field.default is None
                and name not in values
            ):
                relation = next(
                    (
                        link.field
                        for link in info.relations.values()
                        if link.holds_foreign_key and field.db_name in link.own_columns
                    ),
                    None,
                )
                hint = f" (or connect `{relation}`)" if relation else ""
                raise ValidationError(f"missing required field `{name}`{hint}", path)

    # -- relations while creating -----------------------------------------------------

    async def _to_one_owner(
        self,
        conn: Connection,
        info: ModelInfo,
        link: Link,
        value: Any,
        path: Path,
        found: dict[str, Sequence[Any]] | None = None,
    ) -> dict[str, Any]:
        """Foreign key values for a to-one relation whose key this model holds. ``found``
        remembers connected records across calls that no write separates."""
        if (
            not isinstance(value, Mapping)
            or not value
            or set(value) - {"create", "connect", "connectOrCreate"}
        ):
            raise ValidationError(
                "a to-one relation takes `create`, `connect` or `connectOrCreate` here", path
            )
        if len(value) > 1:
            raise ValidationError("give one of `create`, `connect` or `connectOrCreate`", path)
        target = self.engine.info.model(link.target)
        ((op, arg),) = value.items()
        row: Sequence[Any] | None
        if op == "create":
            target_key = await self.create(conn, target.name, arg, (*path, "create"))
            row = await self._columns_of(conn, target, target_key, link.target_columns)
        elif op == "connect":
            remembered = f"{target.name}:{link.target_columns}:{arg!r}"
            row = found.get(remembered) if found is not None else None
            if row is None:
                row = await self._find_columns(
                    conn, target, arg, link.target_columns, (*path, "connect")
                )
                if row is None:
                    raise NotFound(f"no `{target.name}` record to connect matches {dict(arg)!r}")
                if found is not None:
                    found[remembered] = row
        else:
            row = await self._connect_or_create(conn, target, arg, link.target_columns, (*path, op))
        fields = _fields_for_columns(info, link.own_columns)
        return dict(zip(fields, row, strict=True))

    async def _connect_or_create(
        self, conn: Connection, target: ModelInfo, arg: Any, columns: tuple[str, ...], path: Path
    ) -> Sequence[Any]:
        if not isinstance(arg, Mapping) or set(arg) != {"where", "create"}:
            raise ValidationError("`connectOrCreate` takes `where` and `create`", path)
        row = await self._find_columns(conn, target, arg["where"], columns, (*path, "where"))
        if row is not None:
            return row
        key = await self.create(conn, target.name, arg["create"], (*path, "create"))
        return await self._columns_of(conn, target, key, columns)

    async def _find_columns(
        self, conn: Connection, info: ModelInfo, where: Any, columns: tuple[str, ...], path: Path
    ) -> Sequence[Any] | None:
        """``columns`` of the record a unique ``where`` names, or None."""
        self.engine.planner._check_unique_where(info, where, path)
        cond, params = self.engine.planner.where(info.name, where)
        table = self._table(info)

        def build() -> Any:
            statement = sa.select(*(table.c[c] for c in columns)).select_from(table)
            if cond is not None:
                statement = statement.where(
                    self.engine.compiler._condition(info, table, cond, _scope())
                )
            return statement.limit(1)

        rows = await self._run(conn, ("find", info.name, cond, columns), build, params, rows=True)
        return rows[0] if rows else None

    async def _columns_of(
        self, conn: Connection, info: ModelInfo, key: Key, columns: tuple[str, ...]
    ) -> Sequence[Any]:
        if tuple(info.scalars[k].db_name for k in key) == columns:
            return tuple(key.values())
        row = await self._find_by_key(conn, info, key, columns)
        assert row is not None
        return row

    async def _find_by_key(
        self, conn: Connection, info: ModelInfo, key: Key, columns: tuple[str, ...]
    ) -> Sequence[Any] | None:
        table = self._table(info)
        names = tuple(key)

        def build() -> Any:
            return sa.select(*(table.c[c] for c in columns)).where(
                *(
                    table.c[info.scalars[n].db_name] == sa.bindparam(f"p{i}")
                    for i, n in enumerate(names)
                )
            )

        rows = await self._run(
            conn, ("byKey", info.name, names, columns), build, list(key.values()), rows=True
        )
        return rows[0] if rows else None

    async def _nested_many(
        self,
        conn: Connection,
        info: ModelInfo,
        key: Key,
        link: Link,
        value: Any,
        path: Path,
        *,
        creating: bool,
    ) -> None:
        """Nested writes on a relation whose other side holds the key (or an m:n)."""
        allowed = _TO_MANY_OPS if link.is_list else _TO_ONE_OPS
        if creating:
            allowed = frozenset(("create", "createMany", "connect", "connectOrCreate")) & allowed
        if not isinstance(value, Mapping) or not value or set(value) - allowed:
            raise ValidationError(
                f"`{link.field}` takes " + ", ".join(f"`{op}`" for op in sorted(allowed)), path
            )
        target = self.engine.info.model(link.target)
        own = await self._columns_of(conn, info, key, link.own_columns)
        for op, arg in value.items():
            op_path = (*path, op)
            items = arg if isinstance(arg, list) and op not in ("createMany",) else [arg]
            if op == "create":
                if isinstance(arg, list) and len(arg) > 1:
                    await self._create_related_list(conn, link, target, own, arg, op_path)
                    continue
                for i, item in enumerate(items):
                    item_path = (*op_path, i) if isinstance(arg, list) else op_path
                    await self._create_related(conn, link, target, own, item, item_path)
            elif op == "createMany":
                if (
                    not isinstance(arg, Mapping)
                    or "data" not in arg
                    or set(arg) - {"data", "skipDuplicates"}
                ):
                    raise ValidationError("`createMany` takes `data` and `skipDuplicates`", op_path)
                if link.through is None:
                    fixed = dict(
                        zip(_fields_for_columns(target, link.target_columns), own, strict=True)
                    )
                    await self.create_many(
                        conn,
                        target.name,
                        arg["data"],
                        bool(arg.get("skipDuplicates", False)),
                        (*op_path, "data"),
                        fixed,
                    )
                    continue
                for i, item in enumerate(arg["data"]):
                    await self._create_related(conn, link, target, own, item, (*op_path, "data", i))
            elif op == "connect":
                if (
                    link.through is not None
                    and isinstance(arg, list)
                    and len(arg) > 1
                    and await self._connect_many_through(conn, link, target, own, arg, op_path)
                ):
                    continue
                for i, item in enumerate(items):
                    item_path = (*op_path, i) if isinstance(arg, list) else op_path
                    await self._connect_related(conn, link, target, own, item, item_path)
            elif op == "connectOrCreate":
                for i, item in enumerate(items):
                    item_path = (*op_path, i) if isinstance(arg, list) else op_path
                    if not isinstance(item, Mapping) or set(item) != {"where", "create"}:
                        raise ValidationError(
                            "`connectOrCreate` takes `where` and `create`", item_path
                        )
                    found = await self._find_columns(
                        conn,
                        target,
                        item["where"],
                        target.key_columns,
                        (*item_path, "where"),
                    )
                    if found is None:
                        await self._create_related(
                            conn, link, target, own, item["create"], (*item_path, "create")
                        )
                    else:
                        await self._connect_related(
                            conn, link, target, own, item["where"], item_path
                        )
            elif op in (
                "disconnect",
                "set",
                "delete",
                "deleteMany",
                "update",
                "updateMany",
                "upsert",
            ):
                await self._update_related(conn, link, target, own, op, arg, op_path)

    async def _create_related(
        self,
        conn: Connection,
        link: Link,
        target: ModelInfo,
        own: Sequence[Any],
        data: Any,
        path: Path,
    ) -> None:
        if link.through is None:
            fields = _fields_for_columns(target, link.target_columns)
            if not isinstance(data, Mapping):
                raise ValidationError("expected an object of field values", path)
            back = _back_field(target, link)
            record = {k: v for k, v in data.items() if k != back}
            record.update({f: DbValue(v) for f, v in zip(fields, own, strict=True)})
            await self.create(conn, target.name, record, path)
            return
        key = await self.create(conn, target.name, data, path)
        await self._link_through(
            conn, link, own, await self._columns_of(conn, target, key, link.target_columns)
        )

    async def _create_related_list(
        self,
        conn: Connection,
        link: Link,
        target: ModelInfo,
        own: Sequence[Any],
        items: list[Any],
        path: Path,
    ) -> None:
        """Nested ``create: [...]``: records that set only scalars (and connect to-one
        relations of other models) go in together, one multi-row ``INSERT`` (and, for an
        m:n, one of join rows); others one by one, in order."""
        target = self.engine.info.keyed_model(target.name)
        fields = _fields_for_columns(target, link.target_columns)
        back = _back_field(target, link)
        prepared: list[dict[str, Any]] = []
        # Records connected by the items (say, every comment's author), looked up once: only
        # lookups run between two flushes, so what they found stays true.
        found: dict[str, Sequence[Any]] = {}

        async def flush() -> None:
            found.clear()
            if not prepared:
                return
            rows: list[Sequence[Any]] = []
            keys = () if link.through is not None else None  # an m:n links the new keys
            await self._insert_runs(conn, target, prepared, returning=keys, rows_out=rows)
            prepared.clear()
            if link.through is not None:
                await self._link_many(conn, link, own, rows)

        for i, item in enumerate(items):
            item_path = (*path, i)
            if not isinstance(item, Mapping):
                raise ValidationError("expected an object of field values", item_path)
            if not self._insertable_together(target, item, back):
                await flush()
                await self._create_related(conn, link, target, own, item, item_path)
                continue
            if link.through is None:
                record = {k: v for k, v in item.items() if k != back}
                record.update({f: DbValue(v) for f, v in zip(fields, own, strict=True)})
            else:
                record = dict(item)
            values, after = await self._prepare(conn, target, record, item_path, found)
            assert not after
            prepared.append(values)
        await flush()

    async def _connect_many_through(
        self,
        conn: Connection,
        link: Link,
        target: ModelInfo,
        own: Sequence[Any],
        items: list[Any],
        path: Path,
    ) -> bool:
        """Connect an m:n to several records with one lookup and one ``INSERT`` of join rows.
        False (nothing written) when the lookup finds fewer records than ``items`` name:
        then one by one, which names the missing record."""
        for i, item in enumerate(items):
            self.engine.planner._check_unique_where(target, item, (*path, i))
        cond, params = self.engine.planner.where(target.name, {"OR": items})
        rows = await self._keys_where(conn, target, cond, params)
        if len(rows) < len(items):
            return False
        await self._link_many(conn, link, own, rows)
        return True

    def _insertable_together(
        self, info: ModelInfo, data: Mapping[str, Any], back: str | None
    ) -> bool:
        """Whether a record to create can share a multi-row ``INSERT``: it nests nothing
        that needs its key, and its to-one relations only connect records of other models
        (which this list cannot be creating)."""
        for name, value in data.items():
            if name in info.scalars or name == back:
                continue
            link = info.relations.get(name)
            if (
                link is None
                or not link.holds_foreign_key
                or link.target == info.name
                or not isinstance(value, Mapping)
                or set(value) != {"connect"}
            ):
                return False
        return True

    async def _link_many(
        self, conn: Connection, link: Link, own: Sequence[Any], others: Sequence[Sequence[Any]]
    ) -> None:
        """Link the parent to each of ``others`` (target key rows) through the m:n join
        table, with one multi-row ``INSERT`` that skips existing links."""
        through = link.through
        assert through is not None
        table = self.engine.compiler.tables[
            f"{through.schema}.{through.table}" if through.schema else through.table
        ]
        if len(others) > MAX_ROWS:
            for start in range(0, len(others), MAX_ROWS):
                await self._link_many(conn, link, own, others[start : start + MAX_ROWS])
            return
        recording = pending_changes.get() is not None
        size = len(others)

        def build() -> Any:
            rows: list[dict[str, Any]] = [
                {
                    through.own: sa.bindparam(f"p{2 * r}"),
                    through.other: sa.bindparam(f"p{2 * r + 1}"),
                }
                for r in range(size)
            ]
            values: Any = rows[0] if size == 1 else rows
            statement = self.engine.dialect.insert_skipping_duplicates(table, values)
            if recording:
                statement = statement.returning(table.c[through.other])
            return statement

        params = [value for other in others for value in (own[0], other[0])]
        result = await self._run(
            conn,
            ("linkMany", through.table, through.own, size, recording),
            build,
            params,
            rows=recording,
        )
        if recording:
            self._linked(link, own, result)

    async def _connect_related(
        self,
        conn: Connection,
        link: Link,
        target: ModelInfo,
        own: Sequence[Any],
        where: Any,
        path: Path,
    ) -> None:
        if link.through is not None:
            row = await self._find_columns(conn, target, where, link.target_columns, path)
            if row is None:
                raise NotFound(f"no `{target.name}` record to connect matches {dict(where)!r}")
            await self._link_through(conn, link, own, row)
            return
        changed = await self._set_foreign_key(conn, target, link, where, own, path)
        if changed == 0:
            raise NotFound(f"no `{target.name}` record to connect matches {dict(where)!r}")

    async def _set_foreign_key(
        self,
        conn: Connection,
        target: ModelInfo,
        link: Link,
        where: Any,
        own: Sequence[Any] | None,
        path: Path,
    ) -> int:
        """Point (or, with ``own=None``, unpoint) the records ``where`` selects at the parent."""
        cond, params = self.engine.planner.where(target.name, where)
        table = self._table(target)
        base = len(params)
        values = list(own) if own is not None else [None] * len(link.target_columns)
        recording = pending_changes.get() is not None and bool(target.key_fields)

        def build() -> Any:
            statement = sa.update(table).values(
                {c: sa.bindparam(f"p{base + i}") for i, c in enumerate(link.target_columns)}
            )
            if cond is not None:
                statement = statement.where(
                    self.engine.compiler._condition(target, table, cond, _scope())
                )
            if recording:
                statement = statement.returning(
                    *(table.c[target.scalars[k].db_name] for k in target.key_fields)
                )
            return statement

        result = await self._run(
            conn,
            ("setFk", target.name, link.field, cond, base, recording),
            build,
            [*params, *values],
            rows=recording,
        )
        if recording:
            self._changed(target, "update", result)
            return len(result)
        self._changed_keyless(target, "update", int(result))
        return int(result)

    async def _link_through(
        self, conn: Connection, link: Link, own: Sequence[Any], other: Sequence[Any]
    ) -> None:
        through = link.through
        assert through is not None
        table = self.engine.compiler.tables[
            f"{through.schema}.{through.table}" if through.schema else through.table
        ]

        def build() -> Any:
            values: dict[str, Any] = {
                through.own: sa.bindparam("p0"),
                through.other: sa.bindparam("p1"),
            }
            return self.engine.dialect.insert_skipping_duplicates(table, values)

        linked = await self._run(
            conn, ("link", through.table, through.own), build, [own[0], other[0]], rows=False
        )
        if linked:
            self._linked(link, own, [other])

    async def _unlink_through(
        self,
        conn: Connection,
        link: Link,
        own: Sequence[Any],
        target: ModelInfo,
        where: Any,
        path: Path,
    ) -> int:
        through = link.through
        assert through is not None
        table = self.engine.compiler.tables[
            f"{through.schema}.{through.table}" if through.schema else through.table
        ]
        target_table = self._table(target)
        cond, params = self.engine.planner.where(target.name, where)
        base = len(params)
        recording = pending_changes.get() is not None

        def build() -> Any:
            chosen = sa.select(target_table.c[link.target_columns[0]]).select_from(target_table)
            if cond is not None:
                chosen = chosen.where(
                    self.engine.compiler._condition(target, target_table, cond, _scope())
                )
            statement: Any = sa.delete(table).where(
                table.c[through.own] == sa.bindparam(f"p{base}"), table.c[through.other].in_(chosen)
            )
            if recording:
                statement = statement.returning(table.c[through.other])
            return statement

        result = await self._run(
            conn,
            ("unlink", through.table, through.own, cond, base, recording),
            build,
            [*params, own[0]],
            rows=recording,
        )
        if recording:
            self._linked(link, own, result)
            return len(result)
        return int(result)

    def _linked(self, link: Link, own: Sequence[Any], others: Sequence[Sequence[Any]]) -> None:
        """Record ``link`` on the parent row and on each row of ``others`` (target keys) that
        an implicit many-to-many link was added to or removed from."""
        if not others or pending_changes.get() is None:
            return
        self._changed(self.engine.info.model(link.model), "link", [own])
        self._changed(self.engine.info.model(link.target), "link", others)

    async def _update_related(
        self,
        conn: Connection,
        link: Link,
        target: ModelInfo,
        own: Sequence[Any],
        op: str,
        arg: Any,
        path: Path,
    ) -> None:
        parent_filter = _parent_filter(link, target)
        if op in ("disconnect", "set") and link.through is None:
            if op == "set":
                fields = _fields_for_columns(target, link.target_columns)
                if any(target.scalars[f].is_required for f in fields):
                    raise RequiredRelationViolation(
                        f"`set` would leave `{target.name}` records without their required `{link.field}` relation"
                    )
                await self._set_foreign_key(
                    conn, target, link, {"AND": [parent_filter(own)]}, None, path
                )
                arg = arg if isinstance(arg, list) else [arg]
                for i, item in enumerate(arg):
                    await self._connect_related(conn, link, target, own, item, (*path, i))
                return
            items = arg if isinstance(arg, list) else [arg]
            fields = _fields_for_columns(target, link.target_columns)
            if any(target.scalars[f].is_required for f in fields):
                raise RequiredRelationViolation(
                    f"cannot disconnect `{target.name}` records: their `{fields[0]}` is required"
                )
            for item in items:
                where = (
                    {"AND": [parent_filter(own), item]} if item is not True else parent_filter(own)
                )
                await self._set_foreign_key(conn, target, link, where, None, path)
            return
        if op in ("disconnect", "set"):
            if op == "set":
                await self._unlink_through(conn, link, own, target, {}, path)
                arg = arg if isinstance(arg, list) else [arg]
                for i, item in enumerate(arg):
                    await self._connect_related(conn, link, target, own, item, (*path, i))
                return
            for item in arg if isinstance(arg, list) else [arg]:
                await self._unlink_through(conn, link, own, target, item, path)
            return
        parent = self.engine.info.model(link.model)
        scope_filter = (
            parent_filter(own)
            if link.through is None
            else _through_filter(link, target, parent, own)
        )
        if op in ("delete", "deleteMany"):
            items = arg if isinstance(arg, list) else [arg]
            for item in items:
                where = scope_filter if item is True else {"AND": [scope_filter, item]}
                count = await self.delete_where(conn, target.name, where)
                if op == "delete" and count == 0:
                    raise NotFound(f"no related `{target.name}` record to delete matches {item!r}")
            return
        if op in ("update", "updateMany"):
            items = arg if isinstance(arg, list) else [arg]
            for item in items:
                if link.is_list or op == "updateMany":
                    if not isinstance(item, Mapping) or set(item) != {"where", "data"}:
                        raise ValidationError(f"`{op}` takes `where` and `data`", path)
                    where = {"AND": [scope_filter, item["where"]]}
                    data = item["data"]
                else:
                    where = scope_filter
                    data = item["data"] if isinstance(item, Mapping) and "data" in item else item
                count = await self.update_where(conn, target.name, where, data, path)
                if op == "update" and count == 0:
                    raise NotFound(f"no related `{target.name}` record to update")
            return
        # upsert
        items = arg if isinstance(arg, list) else [arg]
        for item in items:
            if not isinstance(item, Mapping):
                raise ValidationError("`upsert` takes `where` (lists), `create` and `update`", path)
            where = {"AND": [scope_filter, item["where"]]} if "where" in item else scope_filter
            count = await self.update_where(conn, target.name, where, item.get("update", {}), path)
            if count == 0:
                await self._create_related(
                    conn, link, target, own, item.get("create"), (*path, "create")
                )

    # -- update and delete -----------------------------------------------------------

    async def update_where(
        self,
        conn: Connection,
        model: str,
        where: Any,
        data: Any,
        path: Path = ("data",),
        *,
        keys_out: list[Key] | None = None,
        returning: tuple[str, ...] = (),
        rows_out: list[Sequence[Any]] | None = None,
    ) -> int:
        """``UPDATE`` the records ``where`` selects with scalar changes; returns how many changed.

        Relation changes in ``data`` are applied per record afterwards, found by the keys the
        ``UPDATE`` returns (a change may have set the key itself); ``keys_out`` receives them.
        ``rows_out`` receives each record's ``returning`` fields as the ``UPDATE`` left them
        (as they are, when ``data`` changes no column).
        """
        info = self.engine.info.model(model)
        if not isinstance(data, Mapping):
            raise ValidationError("`data` takes an object of field values", path)
        sets: list[tuple[str, str]] = []  # (field, operation)
        values: list[Any] = []
        relations: list[tuple[Link, Any, Path]] = []
        for name, value in data.items():
            field_path = (*path, name)
            if name in info.scalars:
                field = info.scalars[name]
                op = "set"
                if isinstance(value, Mapping) and not (
                    field.type == "Json" and field.kind == "scalar"
                ):
                    if len(value) != 1 or next(iter(value)) not in (*_NUMBER_OPS, "push"):
                        raise ValidationError(
                            "an update takes a value or one of " + ", ".join(_NUMBER_OPS),
                            field_path,
                        )
                    ((op, value),) = value.items()
                    if op != "set" and field.type not in ("Int", "BigInt", "Float", "Decimal"):
                        raise ValidationError(f"`{op}` applies to number fields", (*field_path, op))
                converted = self._scalar_value(info, name, value, field_path)
                if op in ("increment", "decrement", "multiply", "divide") and converted is None:
                    raise ValidationError(f"`{op}` takes a number", (*field_path, op))
                sets.append((name, op))
                values.append(converted)
            elif name in info.relations:
                relations.append((info.relations[name], value, field_path))
            else:
                raise ValidationError(unknown_field(info, name), field_path)
        touched = {name for name, _ in sets}
        for name, field in info.scalars.items():
            if field.is_updated_at and name not in touched and (sets or relations):
                sets.append((name, "set"))
                values.append(self._codec(info, name).to_db(datetime.now(UTC)))
        cond, params = self.engine.planner.where(model, where)
        count = 0
        recording = pending_changes.get() is not None and bool(info.key_fields)
        want_keys = bool(relations) or keys_out is not None or recording or rows_out is not None
        extra = returning if rows_out is not None else ()
        width = len(info.key_fields)
        keys: list[Key] = []
        if recording and sets and any(name in info.key_fields for name, _ in sets):
            # The update changes keys: the old ones name rows that no longer exist.
            old = await self._keys_where(conn, info, cond, params)
            self._changed(info, "update", old)
        if sets:
            base = len(params)
            table = self._table(info)
            ops = tuple(sets)

            def build() -> Any:
                assignments: dict[str, Any] = {}
                for i, (name, op) in enumerate(ops):
                    column = table.c[info.scalars[name].db_name]
                    param: Any = sa.bindparam(f"p{base + i}")
                    assignments[column.name] = _assignment(column, op, param)
                statement = sa.update(table).values(assignments)
                if cond is not None:
                    statement = statement.where(
                        self.engine.compiler._condition(info, table, cond, _scope())
                    )
                if want_keys:
                    statement = statement.returning(
                        *(table.c[info.scalars[k].db_name] for k in (*info.key_fields, *extra))
                    )
                return statement

            result = await self._run(
                conn,
                ("update", model, ops, cond, base, want_keys, extra),
                build,
                [*params, *values],
                rows=want_keys,
            )
            if want_keys:
                keys = [dict(zip(info.key_fields, row[:width], strict=True)) for row in result]
                count = len(keys)
                self._changed(info, "update", (row[:width] for row in result))
                if rows_out is not None:
                    rows_out.extend(row[width:] for row in result)
            else:
                count = int(result)
                self._changed_keyless(info, "update", count)
        elif want_keys:
            found = await self._keys_where(conn, info, cond, params, extra)
            keys = [dict(zip(info.key_fields, row[:width], strict=True)) for row in found]
            if rows_out is not None:
                rows_out.extend(row[width:] for row in found)
        for key in keys if relations else ():
            for link, value, field_path in relations:
                await self._update_relation(conn, info, key, link, value, field_path)
        if relations:
            count = max(count, len(keys))
        if keys_out is not None:
            keys_out.extend(keys)
        return count

    async def _keys_where(
        self,
        conn: Connection,
        info: ModelInfo,
        cond: Shape | None,
        params: list[Any],
        returning: tuple[str, ...] = (),
    ) -> list[Sequence[Any]]:
        """The key fields, then the ``returning`` fields, of each record ``cond`` selects."""
        table = self._table(info)
        fields = (*info.key_fields, *returning)

        def build() -> Any:
            statement = sa.select(*(table.c[info.scalars[k].db_name] for k in fields)).select_from(
                table
            )
            if cond is not None:
                statement = statement.where(
                    self.engine.compiler._condition(info, table, cond, _scope())
                )
            return statement

        rows: list[Sequence[Any]] = await self._run(
            conn, ("keys", info.name, cond, fields), build, params, rows=True
        )
        return rows

    async def _update_relation(
        self, conn: Connection, info: ModelInfo, key: Key, link: Link, value: Any, path: Path
    ) -> None:
        if not link.holds_foreign_key:
            await self._nested_many(conn, info, key, link, value, path, creating=False)
            return
        allowed = _TO_ONE_OPS
        if not isinstance(value, Mapping) or not value or set(value) - allowed:
            raise ValidationError("a to-one relation takes " + ", ".join(sorted(allowed)), path)
        target = self.engine.info.model(link.target)
        fields = _fields_for_columns(info, link.own_columns)
        for op, arg in value.items():
            op_path = (*path, op)
            if op in ("create", "connect", "connectOrCreate"):
                fk = await self._to_one_owner(conn, info, link, {op: arg}, path)
                await self._set_own(conn, info, key, fk)
            elif op == "disconnect":
                if any(info.scalars[f].is_required for f in fields):
                    raise RequiredRelationViolation(
                        f"`{link.field}` is required and cannot be disconnected"
                    )
                if arg is not False:
                    await self._set_own(conn, info, key, dict.fromkeys(fields))
            else:
                current = await self._find_by_key(conn, info, key, link.own_columns)
                if current is None or all(v is None for v in current):
                    if op == "upsert":
                        fk = await self._to_one_owner(
                            conn, info, link, {"create": arg.get("create")}, op_path
                        )
                        await self._set_own(conn, info, key, fk)
                        continue
                    raise NotFound(f"`{info.name}.{link.field}` has no related record")
                target_where = {
                    f: DbValue(v)
                    for f, v in zip(
                        _fields_for_columns(target, link.target_columns), current, strict=True
                    )
                }
                if op == "delete":
                    if any(info.scalars[f].is_required for f in fields):
                        raise RequiredRelationViolation(
                            f"`{link.field}` is required and cannot be deleted"
                        )
                    await self._set_own(conn, info, key, dict.fromkeys(fields))
                    await self.delete_where(conn, target.name, target_where)
                elif op == "upsert":
                    await self.update_where(
                        conn, target.name, target_where, arg.get("update", {}), op_path
                    )
                else:
                    data = arg.get("data", arg) if isinstance(arg, Mapping) else arg
                    await self.update_where(conn, target.name, target_where, data, op_path)

    async def _set_own(
        self, conn: Connection, info: ModelInfo, key: Key, raw: dict[str, Any]
    ) -> None:
        table = self._table(info)
        names = tuple(raw)
        key_names = tuple(key)

        def build() -> Any:
            return (
                sa.update(table)
                .values(
                    {info.scalars[n].db_name: sa.bindparam(f"p{i}") for i, n in enumerate(names)}
                )
                .where(
                    *(
                        table.c[info.scalars[k].db_name] == sa.bindparam(f"p{len(names) + i}")
                        for i, k in enumerate(key_names)
                    )
                )
            )

        await self._run(
            conn,
            ("setOwn", info.name, names, key_names),
            build,
            [*raw.values(), *key.values()],
            rows=False,
        )
        self._changed(info, "update", [tuple(key.values())])

    async def delete_where(
        self,
        conn: Connection,
        model: str,
        where: Any,
        *,
        returning: tuple[str, ...] = (),
        rows_out: list[Sequence[Any]] | None = None,
    ) -> int:
        """``DELETE`` the records ``where`` selects; returns how many went. ``rows_out``
        receives each deleted record's ``returning`` fields."""
        info = self.engine.info.model(model)
        cond, params = self.engine.planner.where(model, where)
        table = self._table(info)
        extra = returning if rows_out is not None else ()
        recording = (pending_changes.get() is not None or rows_out is not None) and bool(
            info.key_fields
        )
        width = len(info.key_fields)

        def build() -> Any:
            statement: Any = sa.delete(table)
            if cond is not None:
                statement = statement.where(
                    self.engine.compiler._condition(info, table, cond, _scope())
                )
            if recording:
                statement = statement.returning(
                    *(table.c[info.scalars[k].db_name] for k in (*info.key_fields, *extra))
                )
            return statement

        result = await self._run(
            conn, ("delete", model, cond, recording, extra), build, params, rows=recording
        )
        if recording:
            self._changed(info, "delete", (row[:width] for row in result))
            if rows_out is not None:
                rows_out.extend(row[width:] for row in result)
            return len(result)
        self._changed_keyless(info, "delete", int(result))
        return int(result)


def _assignment(column: Any, op: str, param: Any) -> Any:
    """The new value of ``column`` for an update operation (``set``, ``increment``, ...)."""
    if op == "set":
        return param
    if op == "increment":
        return column + param
    if op == "decrement":
        return column - param
    if op == "multiply":
        return column * param
    return column / param


def _fields_for_columns(info: ModelInfo, columns: tuple[str, ...]) -> tuple[str, ...]:
    by_column = {field.db_name: name for name, field in info.scalars.items()}
    return tuple(by_column[c] for c in columns)


def _back_field(target: ModelInfo, link: Link) -> str | None:
    for name, other in target.relations.items():
        if other.relation is link.relation and name != link.field:
            return name
    return None


def _parent_filter(link: Link, target: ModelInfo) -> Callable[[Sequence[Any]], Any]:
    """A where document on ``target`` selecting the records that point at the parent."""
    fields = _fields_for_columns(target, link.target_columns)

    def make(own: Sequence[Any]) -> Any:
        return {f: DbValue(v) for f, v in zip(fields, own, strict=True)}

    return make


def _through_filter(link: Link, target: ModelInfo, parent: ModelInfo, own: Sequence[Any]) -> Any:
    """A where document on ``target`` selecting the records an m:n links to the parent."""
    back = _back_field(target, link)
    assert back is not None
    keys = _fields_for_columns(parent, link.own_columns)
    return {back: {"some": {k: DbValue(v) for k, v in zip(keys, own, strict=True)}}}


def _scope() -> Any:
    from datatier.query._compile import _Scope

    return _Scope()
