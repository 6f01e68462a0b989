"""The writer's groundwork: compiled write statements, change events, value conversion and
record lookups that creates, updates, deletes and nested writes share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from datatier.errors import ValidationError
from datatier.query._changes import key_text, pending_changes
from datatier.query._ids import generator_for
from datatier.query._links import Link
from datatier.query._model_info import ModelInfo
from datatier.query._plan import DbValue, Shape

if TYPE_CHECKING:
    from datatier.drivers._protocol import Connection
    from datatier.query._engine import Engine

__all__ = ["WriterBase"]

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


class WriterBase:
    """Statements, events and lookups for one engine (same schema, codecs and compiler)."""

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

    def _filtered(
        self, statement: Any, info: ModelInfo, table: sa.Table, cond: Shape | None
    ) -> Any:
        """``statement`` limited to the rows of ``info``'s ``table`` that ``cond`` selects (all
        of them when None)."""
        if cond is None:
            return statement
        return statement.where(self.engine.compiler._condition(info, table, cond, _scope()))

    def _select_where(
        self, info: ModelInfo, table: sa.Table, columns: tuple[str, ...], cond: Shape | None
    ) -> Any:
        """A ``SELECT`` of ``columns`` (database names) of the rows ``cond`` selects."""
        statement = sa.select(*(table.c[c] for c in columns)).select_from(table)
        return self._filtered(statement, info, table, cond)

    async def _update_rows(
        self,
        conn: Connection,
        info: ModelInfo,
        cond: Shape | None,
        params: Sequence[Any],
        sets: tuple[tuple[str, str], ...],
        values: Sequence[Any],
        returning: tuple[str, ...] | None,
    ) -> Any:
        """``UPDATE`` the rows ``cond`` selects: each (field, operation) of ``sets`` with its
        value in ``values``. With ``returning`` the statement returns those fields of each row
        it changed and the rows come back; without, how many rows changed."""
        table = self._table(info)
        base = len(params)

        def build() -> Any:
            statement = sa.update(table).values(_assignments(info, table, sets, base))
            statement = self._filtered(statement, info, table, cond)
            return _returning(statement, info, table, returning or ())

        return await self._run(
            conn,
            ("update", info.name, sets, cond, base, returning),
            build,
            [*params, *values],
            rows=returning is not None,
        )

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

    def _written(self, info: ModelInfo, op: str, result: Any, *, returned: bool) -> int:
        """How many rows a statement wrote, recording ``op`` on each: ``result`` is its rows
        (key fields first) when it ``returned`` them, else its row count."""
        if returned:
            width = len(info.key_fields)
            self._changed(info, op, (row[:width] for row in result))
            return len(result)
        count = int(result)
        self._changed_keyless(info, op, count)
        return count

    def _table(self, info: ModelInfo) -> sa.Table:
        return self._named_table(info.model.schema, info.model.db_name)

    def _named_table(self, schema: str | None, name: str) -> sa.Table:
        return self.engine.compiler.tables[f"{schema}.{name}" if schema else name]

    def _codec(self, info: ModelInfo, field: str) -> Any:
        return self.engine._codec(info.name, field)

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

    async def _find_columns(
        self, conn: Connection, info: ModelInfo, where: Any, columns: tuple[str, ...], path: Path
    ) -> Sequence[Any] | None:
        """``columns`` of the record a unique ``where`` names, or None."""
        self.engine.planner._check_unique_where(info, where, path)
        cond, params = self.engine.planner.where(info.name, where)
        table = self._table(info)

        def build() -> Any:
            return self._select_where(info, table, columns, cond).limit(1)

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
        columns = _columns_for_fields(info, fields)

        def build() -> Any:
            return self._select_where(info, table, columns, cond)

        rows: list[Sequence[Any]] = await self._run(
            conn, ("keys", info.name, cond, fields), build, params, rows=True
        )
        return rows


def _columns_for_fields(info: ModelInfo, fields: Iterable[str]) -> tuple[str, ...]:
    return tuple(info.scalars[f].db_name for f in fields)


def _returning(statement: Any, info: ModelInfo, table: sa.Table, fields: tuple[str, ...]) -> Any:
    """``statement`` returning ``fields`` of each row it writes (as it is, with none)."""
    if not fields:
        return statement
    return statement.returning(*(table.c[c] for c in _columns_for_fields(info, fields)))


def _assignments(
    info: ModelInfo, table: sa.Table, sets: tuple[tuple[str, str], ...], first: int
) -> dict[str, Any]:
    """The ``SET`` of an update, column name -> new value, for each (field, operation) of
    ``sets``; their values bind as ``p{first}`` onwards."""
    assignments: dict[str, Any] = {}
    for i, (name, op) in enumerate(sets):
        column = table.c[info.scalars[name].db_name]
        assignments[column.name] = _assignment(column, op, sa.bindparam(f"p{first + i}"))
    return assignments


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
    if op == "push":  # a NULL list takes the pushed values as its first ones, as in Prisma
        return sa.func.array_cat(sa.func.coalesce(column, sa.literal_column("'{}'")), param)
    if op == "divide":
        return column / param
    raise AssertionError(f"unknown update operation {op}")


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
