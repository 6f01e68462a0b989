"""Per-model facts the planner looks up on every query, computed once per schema."""

from __future__ import annotations

from dataclasses import dataclass, field

from datatier.errors import QueryError
from datatier.query._links import Link, build_links
from datatier.schema._ir import Field, IndexField, Model, Schema

__all__ = ["ModelInfo", "SchemaInfo"]


@dataclass(frozen=True)
class ModelInfo:
    """One model: its fields by name and in order, relation links, unique criteria."""

    model: Model
    scalars: dict[str, Field]
    relations: dict[str, Link]
    position: dict[str, int]
    default_selection: tuple[str, ...]
    # each unique criterion: its name in a where document and the fields it covers
    uniques: tuple[tuple[str, tuple[str, ...]], ...]
    compound_uniques: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # the selection of a read without select/include: every scalar field
    default_shape: tuple[tuple[str, str], ...] = ()
    # the primary key: its fields and their columns, in key order
    key_fields: tuple[str, ...] = ()
    key_columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.model.name


class SchemaInfo:
    """All models' ``ModelInfo`` plus the accessor names (``orderItem`` for ``OrderItem``)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        links = build_links(schema)
        self.models: dict[str, ModelInfo] = {}
        for model in schema.models:
            if model.is_ignored:
                continue
            self.models[model.name] = _model_info(model, links)

    def model(self, name: str) -> ModelInfo:
        return self.models[name]

    def keyed_model(self, name: str) -> ModelInfo:
        """``model(name)``, for work that finds records again by primary key (writes)."""
        info = self.models[name]
        if not info.key_fields:
            raise QueryError(
                f"writes to `{name}` need a key that finds a record again: an @id, an @@id or "
                "a @unique/@@unique whose fields are all required"
            )
        return info


def _row_key(model: Model) -> tuple[IndexField, ...]:
    """What finds one of the model's records again: its ``@id``/``@@id`` or, for a model keyed
    only by ``@unique``/``@@unique``, the first such key whose fields are all required (NULLs
    never match, so an optional unique field cannot find a row)."""
    if model.primary_key is not None:
        return model.primary_key.fields
    required = {f.name for f in model.fields if f.is_required and not f.is_list}
    for index in model.indexes:
        if (
            index.kind == "unique"
            and index.where is None
            and all(f.name in required for f in index.fields)
        ):
            return index.fields
    return ()


def _model_info(model: Model, links: dict[tuple[str, str], Link]) -> ModelInfo:
    scalars = {f.name: f for f in model.fields if f.kind in ("scalar", "enum") and not f.is_ignored}
    relations = {
        f.name: links[(model.name, f.name)]
        for f in model.fields
        if f.kind == "object" and not f.is_ignored and (model.name, f.name) in links
    }
    uniques: list[tuple[str, tuple[str, ...]]] = []
    compound: dict[str, tuple[str, ...]] = {}
    keys = []
    if model.primary_key is not None:
        keys.append((model.primary_key.name, tuple(f.name for f in model.primary_key.fields)))
    keys.extend(
        (index.name, tuple(f.name for f in index.fields))
        for index in model.indexes
        if index.kind == "unique" and index.where is None
    )
    key = _row_key(model)
    for name, fields in keys:
        if len(fields) == 1:
            uniques.append((fields[0], fields))
        else:
            label = name or "_".join(fields)
            uniques.append((label, fields))
            compound[label] = fields
    return ModelInfo(
        model=model,
        scalars=scalars,
        relations=relations,
        position={f.name: i for i, f in enumerate(model.fields)},
        default_selection=tuple(scalars),
        default_shape=tuple(("s", name) for name in scalars),
        key_fields=tuple(f.name for f in key),
        key_columns=tuple(f.column for f in key),
        uniques=tuple(uniques),
        compound_uniques=compound,
    )
