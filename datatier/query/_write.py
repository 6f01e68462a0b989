"""Writes: create, createMany, update and delete of records (relation parts of a document
are ``_write_nested``'s).

A single-record write with a plain result is one statement (``INSERT``/``UPDATE``/
``DELETE ... RETURNING``); several records created together share multi-row ``INSERT``s.
Nested writes run several statements; the client wraps each write call in a transaction,
so a failure anywhere leaves nothing behind. Values are converted by the same codecs as
reads, and SQL is compiled once per statement shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from datatier.errors import ValidationError
from datatier.query._changes import pending_changes
from datatier.query._links import Link
from datatier.query._model_info import ModelInfo
from datatier.query._plan import unknown_field
from datatier.query._write_base import (
    _NUMBER_OPS,
    MAX_PARAMS,
    MAX_ROWS,
    Key,
    Path,
    _assignments,
    _columns_for_fields,
    _returning,
)
from datatier.query._write_nested import NestedWrites

if TYPE_CHECKING:
    from datatier.drivers._protocol import Connection

__all__ = ["Writer"]


class Writer(NestedWrites):
    """Runs write documents for one engine (same schema, codecs, compiler and caches)."""

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
                return _returning(statement, info, table, fields)

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

    # -- update and delete -----------------------------------------------------------

    def _update_sets(
        self, info: ModelInfo, data: Any, path: Path
    ) -> tuple[list[tuple[str, str]], list[Any], list[tuple[Link, Any, Path]]]:
        """Update ``data`` as column assignments ((field, operation) with their database
        values, ``@updatedAt`` included when anything changes) and relation writes."""
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
                    if op == "push":
                        if not field.is_list:
                            raise ValidationError(
                                "`push` applies to scalar list fields", (*field_path, op)
                            )
                        # One value or a list of values, appended in order.
                        value = value if isinstance(value, list) else [value]
                        if any(item is None for item in value):
                            raise ValidationError(
                                "`push` takes values, not null", (*field_path, op)
                            )
                    elif op != "set" and (
                        field.is_list or field.type not in ("Int", "BigInt", "Float", "Decimal")
                    ):
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
        return sets, values, relations

    async def upsert_on_conflict(
        self,
        conn: Connection,
        model: str,
        conflict: tuple[str, ...],
        create: Any,
        update: Any,
        returning: tuple[str, ...],
    ) -> Sequence[Any]:
        """An upsert as one ``INSERT ... ON CONFLICT (conflict) DO UPDATE ... RETURNING``: for
        ``create``/``update`` documents of scalar fields only, whose ``create`` holds the
        unique ``conflict`` fields the upsert's where names, and an ``update`` that changes
        something. Returns the record's ``returning`` fields."""
        info = self.engine.info.keyed_model(model)
        values, after = await self._prepare(conn, info, create, ("create",))
        sets, set_values, relations = self._update_sets(info, update, ("update",))
        assert not after and not relations and sets
        columns = tuple(values)
        ops = tuple(sets)
        table = self._table(info)
        width = len(columns)
        fields = (*info.key_fields, *returning)
        insert = sqlite_insert if self.engine.provider == "sqlite" else pg_insert

        def build() -> Any:
            statement = insert(table).values(
                {info.scalars[c].db_name: sa.bindparam(f"p{i}") for i, c in enumerate(columns)}
            )
            statement = statement.on_conflict_do_update(
                index_elements=[table.c[c] for c in _columns_for_fields(info, conflict)],
                set_=_assignments(info, table, ops, width),
            )
            return _returning(statement, info, table, fields)

        rows = await self._run(
            conn,
            ("upsertOnConflict", model, columns, ops, conflict, returning),
            build,
            [*values.values(), *set_values],
            rows=True,
        )
        row: Sequence[Any] = rows[0]
        return row[len(info.key_fields) :]

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
        sets, values, relations = self._update_sets(info, data, path)
        cond, params = self.engine.planner.where(model, where)
        count = 0
        recording = pending_changes.get() is not None and bool(info.key_fields)
        want_keys = bool(relations) or keys_out is not None or recording or rows_out is not None
        extra = returning if rows_out is not None else ()
        width = len(info.key_fields)
        rows: list[Sequence[Any]] = []  # each record's key fields, then `extra` (want_keys)
        if recording and sets and any(name in info.key_fields for name, _ in sets):
            # The update changes keys: the old ones name rows that no longer exist.
            old = await self._keys_where(conn, info, cond, params)
            self._changed(info, "update", old)
        if sets:
            fields = (*info.key_fields, *extra) if want_keys else None
            result = await self._update_rows(conn, info, cond, params, tuple(sets), values, fields)
            count = self._written(info, "update", result, returned=want_keys)
            if want_keys:
                rows = result
        elif want_keys:
            rows = await self._keys_where(conn, info, cond, params, extra)
        keys = [dict(zip(info.key_fields, row[:width], strict=True)) for row in rows]
        if rows_out is not None:
            rows_out.extend(row[width:] for row in rows)
        for key in keys if relations else ():
            for link, value, field_path in relations:
                await self._update_relation(conn, info, key, link, value, field_path)
        if relations:
            count = max(count, len(keys))
        if keys_out is not None:
            keys_out.extend(keys)
        return count

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
        # Deleted rows come back for change events and for ``rows_out`` (keyed models only).
        returns_rows = (pending_changes.get() is not None or rows_out is not None) and bool(
            info.key_fields
        )
        width = len(info.key_fields)
        fields = (*info.key_fields, *extra) if returns_rows else ()

        def build() -> Any:
            statement = self._filtered(sa.delete(table), info, table, cond)
            return _returning(statement, info, table, fields)

        result = await self._run(
            conn, ("delete", model, cond, returns_rows, extra), build, params, rows=returns_rows
        )
        if returns_rows and rows_out is not None:
            rows_out.extend(row[width:] for row in result)
        return self._written(info, "delete", result, returned=returns_rows)
