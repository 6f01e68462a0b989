"""The database a schema describes, as SQLAlchemy metadata and as Prisma's DDL statements.

``to_metadata`` builds the tables, keys, indexes and foreign keys Prisma's
migration engine would create; ``render_ddl`` compiles them in Prisma's order
(schemas, enums, tables, indexes, then foreign keys where they are added
separately). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.ddl import (
    AddConstraint,
    CreateIndex,
    CreateSchema,
    CreateTable,
    ExecutableDDLElement,
)

from datatier.dialects import Dialect, get_dialect
from datatier.schema._ir import JoinTable, Model, ReferentialAction, Schema

__all__ = ["create_elements", "in_schema_order", "render_ddl", "to_metadata"]

_Item = TypeVar("_Item", sa.Index, sa.ForeignKeyConstraint)


def to_metadata(schema: Schema, dialect: Dialect) -> sa.MetaData:
    """The tables of ``schema`` on ``dialect``: models (views left out) and implicit m:n join tables.

    ``metadata.info["enums"]`` holds the enum types to create (empty where the
    database has no enum types), ``info["extensions"]`` the datasource's
    extensions as written; indexes carry a partial index's predicate in
    ``info["where"]``, and indexes and foreign keys carry their position
    in ``info["position"]`` so they are created in the schema's order.
    """
    metadata = sa.MetaData()
    metadata.info["enums"] = (
        [dialect.enum_type(e) for e in schema.enums] if dialect.supports_enums else []
    )
    metadata.info["extensions"] = schema.datasource.extensions if schema.datasource else ()
    models = [m for m in schema.models if not m.is_view]
    tables = {m.name: _model_table(metadata, m, schema, dialect) for m in models}
    by_db_name = {m.db_name: tables[m.name] for m in models}
    with_fks = schema.datasource is None or schema.datasource.relation_mode == "foreignKeys"
    position = 0
    for model in models:
        table = tables[model.name]
        for fk in model.foreign_keys if with_fks else ():
            remote = by_db_name[fk.referenced_table]
            table.append_constraint(
                sa.ForeignKeyConstraint(
                    list(fk.columns),
                    [remote.c[c] for c in fk.referenced_columns],
                    name=fk.db_name,
                    ondelete=dialect.referential_action(fk.on_delete),
                    onupdate=dialect.referential_action(fk.on_update),
                    info={"position": (position := position + 1)},
                )
            )
    for join in schema.join_tables:
        table = _join_table(metadata, join, schema, dialect)
        if not with_fks:
            continue
        for column, model_name in (("A", join.model_a), ("B", join.model_b)):
            remote = tables[model_name]
            table.append_constraint(
                sa.ForeignKeyConstraint(
                    [column],
                    [remote.c[_id_field(schema.model(model_name)).db_name]],
                    name=f"{join.table}_{column}_fkey",
                    ondelete=dialect.referential_action(ReferentialAction.CASCADE),
                    onupdate=dialect.referential_action(ReferentialAction.CASCADE),
                    info={"position": (position := position + 1)},
                )
            )
    return metadata


def _model_table(metadata: sa.MetaData, model: Model, schema: Schema, dialect: Dialect) -> sa.Table:
    columns: list[sa.Column[Any]] = []
    for field in model.scalar_fields:
        type_ = dialect.column_type(field, schema)
        default = dialect.default_sql(field, schema, type_)
        if field.is_autoincrement:
            type_ = dialect.autoincrement_type(type_)
        columns.append(
            sa.Column(
                field.db_name,
                type_,
                # Prisma never writes NOT NULL on a scalar list column.
                nullable=not field.is_required or field.is_list,
                server_default=sa.literal_column(default) if default is not None else None,
                autoincrement=False,
            )
        )
    table = sa.Table(model.db_name, metadata, *columns, schema=model.schema)
    if model.primary_key is not None:
        table.append_constraint(
            sa.PrimaryKeyConstraint(
                *(f.column for f in model.primary_key.fields), name=model.primary_key.db_name
            )
        )
    for position, index in enumerate(model.indexes):
        if index.kind == "fulltext":
            raise ValueError(f"@@fulltext on {model.name} is not supported on {dialect.name}")
        expressions: list[Any] = []
        for f in index.fields:
            column = table.c[f.column]
            expressions.append(
                column.desc() if f.sort == "Desc" else column.asc() if f.sort == "Asc" else column
            )
        sa.Index(
            index.db_name,
            *expressions,
            unique=index.kind == "unique",
            info={"position": position, "where": index.where},
            **dialect.index_options(index),
        )
    return table


def _id_field(model: Model) -> Any:
    if model.primary_key is None or len(model.primary_key.fields) != 1:
        raise ValueError(f"implicit many-to-many relations need a single-field @id on {model.name}")
    return model.field(model.primary_key.fields[0].name)


def _join_table(
    metadata: sa.MetaData, join: JoinTable, schema: Schema, dialect: Dialect
) -> sa.Table:
    """``_AToB(A, B)``: each column typed like the id it references, keyed per dialect."""
    columns = [
        sa.Column(name, dialect.column_type(_id_field(schema.model(model)), schema), nullable=False)
        for name, model in (("A", join.model_a), ("B", join.model_b))
    ]
    table = sa.Table(join.table, metadata, *columns, schema=join.schema)
    dialect.add_join_table_keys(table, join.table)
    sa.Index(f"{join.table}_B_index", table.c.B, info={"position": 1})
    return table


def create_elements(metadata: sa.MetaData, dialect: Dialect) -> list[ExecutableDDLElement]:
    """The DDL that creates ``metadata`` from nothing, in Prisma's order."""
    tables = list(metadata.tables.values())
    elements: list[ExecutableDDLElement] = [
        CreateSchema(name, if_not_exists=True)
        for name in sorted({t.schema for t in tables if t.schema is not None})
    ]
    elements.extend(dialect.create_extension_elements(metadata.info.get("extensions", ())))
    elements.extend(dialect.create_enum_elements(metadata.info.get("enums", [])))
    for table in tables:
        fks = in_schema_order(table.foreign_key_constraints) if dialect.inline_foreign_keys else []
        elements.append(CreateTable(table, include_foreign_key_constraints=fks))
    elements.extend(CreateIndex(i) for t in tables for i in in_schema_order(t.indexes))
    if not dialect.inline_foreign_keys:
        elements.extend(
            AddConstraint(fk) for t in tables for fk in in_schema_order(t.foreign_key_constraints)
        )
    return elements


def in_schema_order(items: Iterable[_Item]) -> list[_Item]:
    """Indexes or foreign keys in the order the schema declares them (SQLAlchemy keeps sets)."""
    return sorted(items, key=lambda item: int(item.info.get("position", 0)))


def render_ddl(schema: Schema, provider: str | None = None) -> list[str]:
    """The SQL statements (without ``;``) that create ``schema``'s database on ``provider``.

    ``provider`` defaults to the schema's datasource provider.
    """
    dialect = get_dialect(provider or schema.provider or "")
    metadata = to_metadata(schema, dialect)
    return [dialect.compile(e) for e in create_elements(metadata, dialect)]
