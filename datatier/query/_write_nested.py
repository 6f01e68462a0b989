"""Nested writes: the relation parts of a create or update document (to-one owners, to-many
and many-to-many create/connect/disconnect/set/update/upsert/delete), batched where
several records can share one statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from datatier.errors import NotFound, RequiredRelationViolation, ValidationError
from datatier.query._changes import pending_changes
from datatier.query._links import JoinThrough, Link
from datatier.query._model_info import ModelInfo
from datatier.query._plan import DbValue
from datatier.query._write_base import (
    _TO_MANY_OPS,
    _TO_ONE_OPS,
    MAX_ROWS,
    Key,
    Path,
    WriterBase,
    _back_field,
    _fields_for_columns,
    _parent_filter,
    _through_filter,
)

if TYPE_CHECKING:
    from datatier.drivers._protocol import Connection
    from datatier.query._write import Writer

__all__ = ["NestedWrites"]


class NestedWrites(WriterBase):
    """Relation writes; the record writes they call are the ``Writer``'s."""

    @property
    def _writer(self) -> Writer:
        """This object typed as the ``Writer`` it always is (``Writer`` subclasses this class),
        whose record writes (create, update, delete) relation writes run."""
        return cast("Writer", self)

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
            target_key = await self._writer.create(conn, target.name, arg, (*path, "create"))
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
        key = await self._writer.create(conn, target.name, arg["create"], (*path, "create"))
        return await self._columns_of(conn, target, key, columns)

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
            if op == "create":
                if isinstance(arg, list) and len(arg) > 1:
                    await self._create_related_list(conn, link, target, own, arg, op_path)
                    continue
                for item, item_path in _each(arg, op_path):
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
                    await self._writer.create_many(
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
                for item, item_path in _each(arg, op_path):
                    await self._connect_related(conn, link, target, own, item, item_path)
            elif op == "connectOrCreate":
                for item, item_path in _each(arg, op_path):
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
            if not isinstance(data, Mapping):
                raise ValidationError("expected an object of field values", path)
            fields = _fields_for_columns(target, link.target_columns)
            record = _child_record(data, _back_field(target, link), fields, own)
            await self._writer.create(conn, target.name, record, path)
            return
        key = await self._writer.create(conn, target.name, data, path)
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
            await self._writer._insert_runs(conn, target, prepared, returning=keys, rows_out=rows)
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
            record = (
                dict(item) if link.through is not None else _child_record(item, back, fields, own)
            )
            values, after = await self._writer._prepare(conn, target, record, item_path, found)
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
        through, table = self._join_table(link)
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
        sets = tuple((f, "set") for f in _fields_for_columns(target, link.target_columns))
        values = list(own) if own is not None else [None] * len(sets)
        recording = pending_changes.get() is not None and bool(target.key_fields)
        returning = target.key_fields if recording else None
        result = await self._update_rows(conn, target, cond, params, sets, values, returning)
        return self._written(target, "update", result, returned=recording)

    def _join_table(self, link: Link) -> tuple[JoinThrough, sa.Table]:
        """The join table of an implicit many-to-many ``link``: its columns and its table."""
        through = link.through
        assert through is not None
        return through, self._named_table(through.schema, through.table)

    async def _link_through(
        self, conn: Connection, link: Link, own: Sequence[Any], other: Sequence[Any]
    ) -> None:
        through, table = self._join_table(link)

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
        through, table = self._join_table(link)
        target_table = self._table(target)
        cond, params = self.engine.planner.where(target.name, where)
        base = len(params)
        recording = pending_changes.get() is not None

        def build() -> Any:
            chosen = self._select_where(target, target_table, link.target_columns[:1], cond)
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
        if op == "set":
            await self._set_related(conn, link, target, own, arg, path)
            return
        if op == "disconnect" and link.through is not None:
            for item in _as_list(arg):
                await self._unlink_through(conn, link, own, target, item, path)
            return
        if op == "disconnect":
            if _key_required(target, link):
                raise RequiredRelationViolation(
                    f"cannot disconnect `{target.name}` records: their "
                    f"`{_fields_for_columns(target, link.target_columns)[0]}` is required"
                )
            mine = _parent_filter(link, target)(own)
            for item in _as_list(arg):
                where = {"AND": [mine, item]} if item is not True else mine
                await self._set_foreign_key(conn, target, link, where, None, path)
            return
        parent = self.engine.info.model(link.model)
        scope_filter = (
            _parent_filter(link, target)(own)
            if link.through is None
            else _through_filter(link, target, parent, own)
        )
        if op in ("delete", "deleteMany"):
            for item in _as_list(arg):
                where = scope_filter if item is True else {"AND": [scope_filter, item]}
                count = await self._writer.delete_where(conn, target.name, where)
                if op == "delete" and count == 0:
                    raise NotFound(f"no related `{target.name}` record to delete matches {item!r}")
            return
        if op in ("update", "updateMany"):
            for item in _as_list(arg):
                if link.is_list or op == "updateMany":
                    if not isinstance(item, Mapping) or set(item) != {"where", "data"}:
                        raise ValidationError(f"`{op}` takes `where` and `data`", path)
                    where = {"AND": [scope_filter, item["where"]]}
                    data = item["data"]
                else:
                    where = scope_filter
                    data = item["data"] if isinstance(item, Mapping) and "data" in item else item
                count = await self._writer.update_where(conn, target.name, where, data, path)
                if op == "update" and count == 0:
                    raise NotFound(f"no related `{target.name}` record to update")
            return
        # upsert
        for item in _as_list(arg):
            if not isinstance(item, Mapping):
                raise ValidationError("`upsert` takes `where` (lists), `create` and `update`", path)
            where = {"AND": [scope_filter, item["where"]]} if "where" in item else scope_filter
            count = await self._writer.update_where(
                conn, target.name, where, item.get("update", {}), path
            )
            if count == 0:
                await self._create_related(
                    conn, link, target, own, item.get("create"), (*path, "create")
                )

    async def _set_related(
        self,
        conn: Connection,
        link: Link,
        target: ModelInfo,
        own: Sequence[Any],
        arg: Any,
        path: Path,
    ) -> None:
        """Nested ``set``: unlink every record the parent has, then connect those ``arg``
        names."""
        if link.through is None:
            if _key_required(target, link):
                raise RequiredRelationViolation(
                    f"`set` would leave `{target.name}` records without their required `{link.field}` relation"
                )
            mine = {"AND": [_parent_filter(link, target)(own)]}
            await self._set_foreign_key(conn, target, link, mine, None, path)
        else:
            await self._unlink_through(conn, link, own, target, {}, path)
        for i, item in enumerate(_as_list(arg)):
            await self._connect_related(conn, link, target, own, item, (*path, i))

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
                    await self._writer.delete_where(conn, target.name, target_where)
                elif op == "upsert":
                    await self._writer.update_where(
                        conn, target.name, target_where, arg.get("update", {}), op_path
                    )
                else:
                    data = arg.get("data", arg) if isinstance(arg, Mapping) else arg
                    await self._writer.update_where(conn, target.name, target_where, data, op_path)

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


def _each(arg: Any, path: Path) -> list[tuple[Any, Path]]:
    """The items of an argument that takes one item or a list, each with its path."""
    if isinstance(arg, list):
        return [(item, (*path, i)) for i, item in enumerate(arg)]
    return [(arg, path)]


def _as_list(arg: Any) -> list[Any]:
    return arg if isinstance(arg, list) else [arg]


def _child_record(
    data: Mapping[str, Any], back: str | None, fields: tuple[str, ...], own: Sequence[Any]
) -> dict[str, Any]:
    """A record to create under the parent: ``data`` without the relation ``back`` to the
    parent, its foreign key ``fields`` set to the parent's ``own`` values."""
    record = {k: v for k, v in data.items() if k != back}
    record.update({f: DbValue(v) for f, v in zip(fields, own, strict=True)})
    return record


def _key_required(target: ModelInfo, link: Link) -> bool:
    """Whether the foreign key by which ``target`` records point at the parent is required
    (so they cannot be unlinked from it)."""
    fields = _fields_for_columns(target, link.target_columns)
    return any(target.scalars[f].is_required for f in fields)
