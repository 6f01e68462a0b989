"""The resolved schema: frozen dataclasses built once by the validator and never changed after.

Everything a later layer needs is spelled out here (database names, resolved
relations, effective referential actions), so no layer re-derives Prisma's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Literal

from datatier.errors import Diagnostic, Span

__all__ = [
    "CompositeType",
    "Datasource",
    "DefaultValue",
    "Enum",
    "EnumValue",
    "Extension",
    "Field",
    "FieldKind",
    "ForeignKey",
    "Generator",
    "Index",
    "IndexField",
    "JoinTable",
    "Model",
    "NativeType",
    "PrimaryKey",
    "ReferentialAction",
    "Relation",
    "ScalarType",
    "Schema",
    "UrlSource",
]


class ScalarType(StrEnum):
    STRING = "String"
    BOOLEAN = "Boolean"
    INT = "Int"
    BIGINT = "BigInt"
    FLOAT = "Float"
    DECIMAL = "Decimal"
    DATETIME = "DateTime"
    JSON = "Json"
    BYTES = "Bytes"


class ReferentialAction(StrEnum):
    CASCADE = "Cascade"
    RESTRICT = "Restrict"
    NO_ACTION = "NoAction"
    SET_NULL = "SetNull"
    SET_DEFAULT = "SetDefault"


FieldKind = Literal["scalar", "enum", "object", "composite", "unsupported"]
DefaultKind = Literal["literal", "function", "list"]
LiteralValue = str | int | float | bool


@dataclass(frozen=True, slots=True)
class NativeType:
    """``@db.VarChar(255)`` as ``NativeType("VarChar", ("255",))``."""

    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DefaultValue:
    """A field default.

    ``kind="function"``: ``name`` is one of autoincrement, uuid, cuid, nanoid, ulid,
    now, dbgenerated, sequence, auto; ``args`` hold its literal arguments.
    ``kind="literal"``: ``value`` is the literal (an enum default is its value name).
    ``kind="list"``: ``values`` is the list literal.
    """

    kind: DefaultKind
    name: str | None = None
    args: tuple[LiteralValue, ...] = ()
    value: LiteralValue | None = None
    values: tuple[LiteralValue, ...] = ()
    map: str | None = None


@dataclass(frozen=True, slots=True)
class Field:
    """A field of a model, view or composite type.

    ``type`` is the scalar type name, the enum name, the related model name, the
    composite type name or, for ``Unsupported("x")``, the text ``x``.
    """

    name: str
    db_name: str
    kind: FieldKind
    type: str
    is_required: bool
    is_list: bool
    is_id: bool = False
    is_unique: bool = False
    is_updated_at: bool = False
    is_ignored: bool = False
    default: DefaultValue | None = None
    native_type: NativeType | None = None
    documentation: str | None = None
    relation_name: str | None = None
    relation_from_fields: tuple[str, ...] = ()
    relation_to_fields: tuple[str, ...] = ()
    relation_on_delete: ReferentialAction | None = (
        None  # as written; effective ones are on Relation
    )
    relation_on_update: ReferentialAction | None = None
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def is_relation(self) -> bool:
        return self.kind == "object"

    @property
    def scalar(self) -> ScalarType | None:
        return ScalarType(self.type) if self.kind == "scalar" else None

    @property
    def is_autoincrement(self) -> bool:
        return (
            self.default is not None
            and self.default.kind == "function"
            and self.default.name == "autoincrement"
        )


@dataclass(frozen=True, slots=True)
class IndexField:
    """One column of an index or key, with the options written for it."""

    name: str  # field name
    column: str  # database column name
    sort: Literal["Asc", "Desc"] | None = None
    length: int | None = None
    ops: str | None = None


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    """``@id`` or ``@@id``: ``name`` is the client-side name of a compound id (None for ``@id``)."""

    fields: tuple[IndexField, ...]
    db_name: str | None  # None on SQLite, where primary keys have no name
    name: str | None = None
    clustered: bool | None = None


@dataclass(frozen=True, slots=True)
class Index:
    """``@unique``/``@@unique`` (``kind="unique"``), ``@@index`` (``"normal"``) or ``@@fulltext``."""

    kind: Literal["unique", "normal", "fulltext"]
    fields: tuple[IndexField, ...]
    db_name: str
    name: str | None = None  # client-side name of a compound unique
    algorithm: str | None = None  # BTree, Hash, Gin, Gist, Brin, SpGist
    clustered: bool | None = None
    from_field_attribute: bool = False  # written as @unique on a field
    where: str | None = None  # SQL predicate of a partial index


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """The constraint a relation makes on the side that holds the scalar fields."""

    db_name: str
    columns: tuple[str, ...]  # column names on this table
    referenced_table: str
    referenced_columns: tuple[str, ...]
    on_delete: ReferentialAction
    on_update: ReferentialAction


@dataclass(frozen=True)
class Model:
    """A model (or view): its fields in written order and its keys, indexes and constraints."""

    name: str
    db_name: str
    fields: tuple[Field, ...]
    primary_key: PrimaryKey | None
    indexes: tuple[Index, ...]
    foreign_keys: tuple[ForeignKey, ...]
    documentation: str | None = None
    is_view: bool = False
    is_ignored: bool = False
    schema: str | None = None
    span: Span | None = field(default=None, compare=False, repr=False)

    @cached_property
    def _fields_by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> Field:
        """The field called ``name``; KeyError if there is none."""
        return self._fields_by_name[name]

    @property
    def scalar_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.kind in ("scalar", "enum", "unsupported"))

    @property
    def relation_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.kind == "object")


@dataclass(frozen=True, slots=True)
class EnumValue:
    name: str
    db_name: str
    documentation: str | None = None


@dataclass(frozen=True, slots=True)
class Enum:
    name: str
    db_name: str
    values: tuple[EnumValue, ...]
    documentation: str | None = None
    schema: str | None = None


@dataclass(frozen=True, slots=True)
class CompositeType:
    """A ``type`` block (MongoDB only in Prisma; kept so such schemas parse)."""

    name: str
    fields: tuple[Field, ...]
    documentation: str | None = None


@dataclass(frozen=True, slots=True)
class JoinTable:
    """The table behind an implicit many-to-many relation: ``_{name}`` with columns ``A`` and ``B``.

    ``A`` references the model whose name sorts first, ``B`` the other one.
    """

    table: str
    relation_name: str
    model_a: str
    model_b: str
    schema: str | None = None


@dataclass(frozen=True, slots=True)
class Relation:
    """Both sides of a relation, linked.

    For 1:1 and 1:n, ``referencing`` is the side with ``fields:``/``references:``
    (the foreign key's table) and ``referenced`` the other. For an implicit m:n,
    both sides are lists and ``join_table`` is set.
    """

    name: str
    kind: Literal["one_to_one", "one_to_many", "many_to_many"]
    referencing_model: str
    referencing_field: str
    referenced_model: str
    referenced_field: str | None  # None when the back relation field is missing (only with @ignore)
    fields: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    on_delete: ReferentialAction | None = None  # effective action (None for m:n)
    on_update: ReferentialAction | None = None
    join_table: JoinTable | None = None

    @property
    def is_self_relation(self) -> bool:
        return self.referencing_model == self.referenced_model


@dataclass(frozen=True, slots=True)
class UrlSource:
    """Where a datasource URL comes from: a literal, or ``env("NAME")``."""

    value: str | None = None
    env: str | None = None


@dataclass(frozen=True, slots=True)
class Extension:
    """A PostgreSQL extension the datasource lists: ``uuidOssp(map: "uuid-ossp", schema: "x")``."""

    name: str
    db_name: str
    schema: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Datasource:
    name: str
    provider: (
        str  # normalized: "postgresql", "sqlite", "mysql", "sqlserver", "mongodb", "cockroachdb"
    )
    url: UrlSource | None = None
    direct_url: UrlSource | None = None
    shadow_database_url: UrlSource | None = None
    relation_mode: Literal["foreignKeys", "prisma"] = "foreignKeys"
    extensions: tuple[Extension, ...] = ()
    schemas: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Generator:
    name: str
    provider: str
    output: str | None = None
    preview_features: tuple[str, ...] = ()
    config: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Schema:
    """A whole resolved schema. ``path`` is the file (or folder) it was loaded from."""

    datasource: Datasource | None
    generators: tuple[Generator, ...]
    models: tuple[Model, ...]
    enums: tuple[Enum, ...]
    composite_types: tuple[CompositeType, ...]
    relations: tuple[Relation, ...]
    warnings: tuple[Diagnostic, ...] = ()
    path: str | None = None

    @cached_property
    def _models_by_name(self) -> dict[str, Model]:
        return {m.name: m for m in self.models}

    @cached_property
    def _enums_by_name(self) -> dict[str, Enum]:
        return {e.name: e for e in self.enums}

    def model(self, name: str) -> Model:
        """The model called ``name``; KeyError if there is none."""
        return self._models_by_name[name]

    def enum(self, name: str) -> Enum:
        return self._enums_by_name[name]

    @property
    def provider(self) -> str | None:
        return self.datasource.provider if self.datasource is not None else None

    @property
    def is_portable(self) -> bool:
        """True when nothing provider-specific is used (no native types, no scalar lists)."""
        for model in self.models:
            for f in model.fields:
                if f.native_type is not None or (f.is_list and f.kind in ("scalar", "enum")):
                    return False
                if f.kind == "unsupported":
                    return False
        return True

    @property
    def join_tables(self) -> tuple[JoinTable, ...]:
        return tuple(r.join_table for r in self.relations if r.join_table is not None)
