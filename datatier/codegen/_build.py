"""Schema -> ``ClientPackage``: the types of ``_types`` plus one typed accessor per model."""

from __future__ import annotations

import os
from pathlib import Path

from datatier.codegen._ir import ClientPackage, Method, ModelAccessor, Param
from datatier.codegen._types import TypeBuilder, client_models
from datatier.schema import Schema
from datatier.schema._ir import Model

__all__ = ["build_package"]


def build_package(schema: Schema, schema_path: Path, output: Path) -> ClientPackage:
    """Describe the client package for ``schema`` (read from ``schema_path``) written to ``output``."""
    types = TypeBuilder(schema)
    accessors = tuple(_accessor(types, model) for model in client_models(schema))
    relative = os.path.relpath(schema_path.absolute(), output.absolute())
    return ClientPackage(
        schema_path=Path(relative).as_posix(),
        aliases=types.aliases(),
        typed_dicts=types.types,
        accessors=accessors,
    )


def _optional(name: str, type_: str) -> Param:
    return Param(name, f"{type_} | None", "None")


def _accessor(types: TypeBuilder, model: Model) -> ModelAccessor:
    row = types.row(model)
    where = types.where(model)
    unique = types.where_unique(model)
    order_by = types.order_by(model)
    selection = [_optional("select", types.select(model))]
    include = types.include(model)
    if include is not None:
        selection.append(_optional("include", include))
    shape = tuple(selection)
    window = (
        _optional("order_by", f"{order_by} | list[{order_by}]"),
        _optional("cursor", unique),
        _optional("take", "int"),
        _optional("skip", "int"),
        _optional("distinct", f"{model.name}ScalarFieldEnum | list[{model.name}ScalarFieldEnum]"),
    )
    find_unique = (Param("where", unique), *shape)
    find_first = (_optional("where", where), *window, *shape)
    create = types.create_data(model)
    update = types.update_data(model)
    create_many = types.create_many(model)
    methods = (
        Method("find_unique", find_unique, f"{row} | None"),
        Method("find_unique_or_raise", find_unique, row),
        Method("find_first", find_first, f"{row} | None"),
        Method("find_first_or_raise", find_first, row),
        Method("find_many", find_first, f"list[{row}]"),
        Method("count", (_optional("where", where), *window[:4]), "int"),
        Method("create", (Param("data", create), *shape), row),
        Method(
            "create_many",
            (
                Param("data", f"list[{create_many}] | {create_many}"),
                _optional("skip_duplicates", "bool"),
            ),
            "int",
        ),
        Method("update", (Param("where", unique), Param("data", update), *shape), row),
        Method(
            "update_many",
            (Param("data", types.update_many(model)), _optional("where", where)),
            "int",
        ),
        Method(
            "upsert",
            (Param("where", unique), Param("create", create), Param("update", update), *shape),
            row,
        ),
        Method("delete", (Param("where", unique), *shape), row),
        Method("delete_many", (_optional("where", where),), "int"),
    )
    accessor = model.name[:1].lower() + model.name[1:]
    return ModelAccessor(model.name, accessor, methods, model.documentation)
