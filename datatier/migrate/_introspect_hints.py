"""Names and attributes an existing schema gives a pulled one (Prisma's re-introspection).

A database keeps no trace of a model's or field's schema name when it equals
nothing in the database (``@@map``/``@map`` aside), of relation field names, of
``@updatedAt`` or of client-side defaults such as ``uuid()``. When a schema
already describes the database, ``db pull`` takes those from it, so pulling a
database the schema made gives the schema back. Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from datatier.schema._ir import Field, ReferentialAction, Schema

__all__ = ["Hints", "RelationHint", "hints_from_schema"]

_ACTIONS: dict[ReferentialAction | None, str] = {
    ReferentialAction.CASCADE: "CASCADE",
    ReferentialAction.RESTRICT: "RESTRICT",
    ReferentialAction.NO_ACTION: "NO ACTION",
    ReferentialAction.SET_NULL: "SET NULL",
    ReferentialAction.SET_DEFAULT: "SET DEFAULT",
}

# Defaults Prisma Client fills in; the database never sees them.
_CLIENT_DEFAULTS = ("uuid", "cuid", "nanoid", "ulid")


@dataclass(frozen=True)
class RelationHint:
    """The relation name and the fields on both sides of one foreign key (or join table)."""

    name: str
    forward: str  # on the model holding the foreign key (on model A of a join table)
    back: str | None  # on the referenced model (on model B of a join table)
    referenced_table: str = ""
    references: tuple[str, ...] = ()  # referenced columns
    on_delete: str = "NO ACTION"  # effective actions, as a catalog spells them
    on_update: str = "NO ACTION"


@dataclass
class Hints:
    """What an existing schema says that the database does not, keyed by database names."""

    relation_mode: str = "foreignKeys"  # "prisma": relations live in the schema only
    models: dict[str, str] = field(default_factory=dict)  # table -> model name
    ignored: set[str] = field(default_factory=set)  # tables of @@ignore models
    fields: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, column) -> name
    enums: dict[str, str] = field(default_factory=dict)  # enum db name -> enum name
    enum_values: dict[tuple[str, str], str] = field(default_factory=dict)
    relations: dict[tuple[str, tuple[str, ...]], RelationHint] = field(default_factory=dict)
    joins: dict[str, RelationHint] = field(default_factory=dict)  # join table -> fields
    attributes: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    no_default: set[tuple[str, str]] = field(default_factory=set)  # (table, column)
    autoincrement: set[tuple[str, str]] = field(default_factory=set)  # (table, column)
    enum_columns: dict[tuple[str, str], str] = field(default_factory=dict)  # -> enum db name
    enum_definitions: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    """Enum db name -> (enum name, {value db name: value name}), for databases without enums."""
    json_defaults: dict[tuple[str, str], str] = field(default_factory=dict)  # -> JSON text
    docs: dict[str, str] = field(default_factory=dict)  # table -> model documentation
    field_docs: dict[tuple[str, str], str] = field(default_factory=dict)
    optional_keys: set[tuple[str, str]] = field(default_factory=set)  # `Int? @id` (ignored)
    extensions: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """Extension db name -> (schema, version) as the datasource writes them."""


def hints_from_schema(schema: Schema | None) -> Hints:
    """The hints ``schema`` gives; empty for None. Tables named twice (``@@schema``) give none."""
    hints = Hints()
    if schema is None:
        return hints
    models = [m for m in schema.models if not m.is_view]
    repeated = {name for name, n in Counter(m.db_name for m in models).items() if n > 1}
    by_name = {m.name: m for m in models if m.db_name not in repeated}
    for model in by_name.values():
        hints.models[model.db_name] = model.name
        if model.is_ignored:
            hints.ignored.add(model.db_name)
        if model.documentation:
            hints.docs[model.db_name] = model.documentation
        for f in model.scalar_fields:
            hints.fields[(model.db_name, f.db_name)] = f.name
            kept = _kept_attributes(f)
            if kept:
                hints.attributes[(model.db_name, f.db_name)] = kept
            if f.default is None:
                hints.no_default.add((model.db_name, f.db_name))
            if f.documentation:
                hints.field_docs[(model.db_name, f.db_name)] = f.documentation
            if f.is_id and not f.is_required:
                hints.optional_keys.add((model.db_name, f.db_name))
            if f.is_autoincrement:
                hints.autoincrement.add((model.db_name, f.db_name))
            if f.type == "Json" and f.default is not None and f.default.kind == "literal":
                hints.json_defaults[(model.db_name, f.db_name)] = str(f.default.value)
            if f.kind == "enum":
                hints.enum_columns[(model.db_name, f.db_name)] = schema.enum(f.type).db_name
    if schema.datasource is not None:
        hints.relation_mode = schema.datasource.relation_mode
        for extension in schema.datasource.extensions:
            hints.extensions[extension.db_name] = (extension.schema, extension.version)
    for enum in schema.enums:
        hints.enums[enum.db_name] = enum.name
        for value in enum.values:
            hints.enum_values[(enum.db_name, value.db_name)] = value.name
        hints.enum_definitions[enum.db_name] = (
            enum.name,
            {value.db_name: value.name for value in enum.values},
        )
    for relation in schema.relations:
        referencing = by_name.get(relation.referencing_model)
        referenced = by_name.get(relation.referenced_model)
        if referencing is None or referenced is None:
            continue
        hint = RelationHint(relation.name, relation.referencing_field, relation.referenced_field)
        if relation.join_table is not None:
            join = relation.join_table
            if relation.referencing_model != join.model_a:
                hint = RelationHint(hint.name, hint.back or "", hint.forward)
            hints.joins[join.table] = hint
            continue
        columns = tuple(referencing.field(f).db_name for f in relation.fields)
        hints.relations[(referencing.db_name, columns)] = RelationHint(
            hint.name,
            hint.forward,
            hint.back,
            referenced.db_name,
            tuple(referenced.field(f).db_name for f in relation.references),
            _ACTIONS.get(relation.on_delete, "NO ACTION"),
            _ACTIONS.get(relation.on_update, "NO ACTION"),
        )
    return hints


def _kept_attributes(f: Field) -> list[str]:
    """``@updatedAt`` and client-side defaults: attributes that leave no trace in a database."""
    kept = ["@updatedAt"] if f.is_updated_at else []
    if f.is_ignored:
        kept.append("@ignore")
    default = f.default
    if default is not None and default.kind == "function" and default.name in _CLIENT_DEFAULTS:
        args = ", ".join(str(a) for a in default.args)
        kept.append(f"@default({default.name}({args}))")
    elif default is not None and default.name == "dbgenerated" and not default.args:
        kept.append("@default(dbgenerated())")  # "the database fills it in", by other means
    return kept
