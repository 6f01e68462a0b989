"""Schema -> ``ClientPackage``: the types of ``_types`` plus one typed accessor per model."""

from __future__ import annotations

import os
import re
from pathlib import Path

from datatier.codegen._ir import (
    ClientPackage,
    Method,
    ModelAccessor,
    Param,
    Signature,
    TypeVarSpec,
)
from datatier.codegen._result_types import ResultTypeBuilder
from datatier.codegen._types import _one_or_list, client_models
from datatier.schema import Schema
from datatier.schema._ir import Model

__all__ = ["build_package"]


def build_package(schema: Schema, schema_path: Path, output: Path) -> ClientPackage:
    """Describe the client package for ``schema`` (read from ``schema_path``) written to ``output``."""
    types = ResultTypeBuilder(schema)
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


def _narrowed(method: Method, var: str, row: str) -> Method:
    """``method`` with a first overload taking ``select`` as a class: the rows are that class."""
    params = tuple(p for p in method.params if p.name not in ("select", "include"))
    returns = re.sub(rf"\b{row}\b", var, method.returns)
    narrowed = Signature((*params, Param("select", f"type[{var}]")), returns)
    return Method(method.name, method.params, method.returns, (narrowed,))


def _aggregates(types: ResultTypeBuilder, model: Model, window: tuple[Param, ...]) -> list[Method]:
    """``count`` (a number, or counts per field with ``select``), ``aggregate``, ``group_by``."""
    where = _optional("where", types.where(model))
    inputs = types.aggregate_inputs(model)
    count_input = inputs.pop("_count")
    counts = types.count_output(model)
    count = Method(
        "count",
        (where, *window, Param("select", "None", "None")),
        "int",
        (Signature((where, *window, Param("select", count_input)), counts),),
    )
    others = tuple(_optional(op, type_) for op, type_ in inputs.items())
    result = types.aggregate_result(model)
    every = (where, *window, _optional("_count", count_input), *others)
    all_rows = (where, *window, Param("_count", "Literal[True]"), *others)
    aggregate = Method(
        "aggregate",
        every,
        f"{result}[{counts}]",
        (Signature(all_rows, f"{result}[int]"),),
    )
    row = types.group_row(model)
    group = (
        Param("by", types.by(model)),
        _optional("where", types.where(model)),
        _optional("having", types.having(model)),
        _optional("order_by", _one_or_list(types.group_order_by(model))),
        _optional("take", "int"),
        _optional("skip", "int"),
    )
    group_by = Method(
        "group_by",
        (*group, _optional("_count", count_input), *others),
        f"list[{row}[{counts}]]",
        (Signature((*group, Param("_count", "Literal[True]"), *others), f"list[{row}[int]]"),),
    )
    return [count, aggregate, group_by]


def _accessor(types: ResultTypeBuilder, model: Model) -> ModelAccessor:
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
        _optional("order_by", _one_or_list(order_by)),
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
    var = TypeVarSpec(f"_{model.name}S", types.partial(model))
    reads = [
        Method("find_unique", find_unique, f"{row} | None"),
        Method("find_unique_or_raise", find_unique, row),
        Method("find_first", find_first, f"{row} | None"),
        Method("find_first_or_raise", find_first, row),
        Method("find_many", find_first, f"list[{row}]"),
    ]
    writes = [
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
    ]
    methods = (
        *(_narrowed(m, var.name, row) for m in reads),
        *_aggregates(types, model, window[:4]),
        *(_narrowed(m, var.name, row) if m.returns == row else m for m in writes),
    )
    return ModelAccessor(
        model.name,
        types.accessor(model),
        methods,
        model.documentation,
        types.field_specs(model),
        var,
    )
