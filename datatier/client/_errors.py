"""Database errors in the schema's terms: which model and which fields a constraint guards."""

from __future__ import annotations

from datatier.errors import ConstraintViolation, ForeignKeyViolation, QueryError, UniqueViolation
from datatier.query._engine import Engine
from datatier.schema._ir import Model

__all__ = ["explain_database_error"]


def explain_database_error(error: QueryError, engine: Engine) -> QueryError:
    """``error`` with ``model`` and ``fields`` filled in from the table, constraint or columns."""
    if not isinstance(error, ConstraintViolation) or error.fields:
        return error
    model = _model_for_table(engine, error.table)
    if model is None:
        return error
    fields = _fields_for(
        model, error.constraint, error.columns, unique=isinstance(error, UniqueViolation)
    )
    if not fields:
        return error
    shown = ", ".join(f"`{f}`" for f in fields)
    if isinstance(error, UniqueViolation):
        explained: QueryError = UniqueViolation(
            f"a `{model.name}` record with the same {shown} already exists",
            model=model.name,
            fields=fields,
            constraint=error.constraint,
            table=error.table,
            columns=error.columns,
        )
    else:
        explained = ForeignKeyViolation(
            f"`{model.name}` {shown} must point at an existing record (and records still "
            "pointing at a record keep it from being deleted)",
            model=model.name,
            fields=fields,
            constraint=error.constraint,
            table=error.table,
            columns=error.columns,
        )
    return explained


def _model_for_table(engine: Engine, table: str | None) -> Model | None:
    if table is None:
        return None
    for info in engine.info.models.values():
        if info.model.db_name == table:
            return info.model
    return None


def _fields_for(
    model: Model, constraint: str | None, columns: tuple[str, ...], *, unique: bool
) -> tuple[str, ...]:
    by_column = {f.db_name: f.name for f in model.fields if f.kind != "object"}
    if columns:
        return tuple(by_column.get(c, c) for c in columns)
    if constraint is None:
        return ()
    if unique:
        if model.primary_key is not None and model.primary_key.db_name == constraint:
            return tuple(f.name for f in model.primary_key.fields)
        for index in model.indexes:
            if index.db_name == constraint:
                return tuple(f.name for f in index.fields)
        return ()
    for fk in model.foreign_keys:
        if fk.db_name == constraint:
            return tuple(by_column.get(c, c) for c in fk.columns)
    return ()
