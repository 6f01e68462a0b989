"""The description of a generated client package: frozen dataclasses, built once from a schema.

Type expressions are kept as text in the generated modules' namespace (``"list[Post]"``,
``"str | StringFilter"``); the emitters only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Alias",
    "ClientPackage",
    "FieldSpec",
    "Key",
    "Method",
    "ModelAccessor",
    "Param",
    "Signature",
    "TypeVarSpec",
    "TypedDictType",
]


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a ``TypedDict``: ``required`` None follows the dict's totality."""

    name: str
    type: str
    required: bool | None = None


@dataclass(frozen=True, slots=True)
class TypedDictType:
    """A ``TypedDict``; ``group`` is the model it belongs to ("" for shared types).

    ``closed`` forbids keys beyond ``keys`` (PEP 728), ``read_only`` marks every key
    ``ReadOnly`` (PEP 705), ``params`` are the type variables of a generic ``TypedDict``.
    """

    name: str
    keys: tuple[Key, ...]
    total: bool = False
    group: str = ""
    doc: str | None = None
    closed: bool = False
    read_only: bool = False
    params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TypeVarSpec:
    """``name = TypeVar("name", bound=bound)`` in a generated module."""

    name: str
    bound: str | None = None


@dataclass(frozen=True, slots=True)
class Alias:
    """``name: TypeAlias = type`` (enums as ``Literal[...]``, ``JsonValue``, ``SortOrder``)."""

    name: str
    type: str
    doc: str | None = None


@dataclass(frozen=True, slots=True)
class Param:
    """A keyword-only parameter; ``default`` None makes it required."""

    name: str
    type: str
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Signature:
    """One typed variant of an overloaded method."""

    params: tuple[Param, ...]
    returns: str


@dataclass(frozen=True, slots=True)
class Method:
    """One model operation: typed parameters, passed through to the runtime method of that name.

    ``overloads`` (when not empty) are typed variants declared before the plain one
    (``params``/``returns``, then an overload too); the implementation only routes the call,
    turning a ``select`` given as a class into the select document it describes.
    """

    name: str
    params: tuple[Param, ...]
    returns: str
    overloads: tuple[Signature, ...] = ()


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What a select class may say about one field: its related model ("" for a scalar
    field), whether it is a list and whether it is optional."""

    name: str
    target: str
    is_list: bool
    is_optional: bool


@dataclass(frozen=True, slots=True)
class ModelAccessor:
    """``db.user``: the typed class for one model and the methods it offers."""

    model: str
    accessor: str
    methods: tuple[Method, ...]
    doc: str | None = None
    fields: tuple[FieldSpec, ...] = ()
    select_var: TypeVarSpec | None = None

    @property
    def class_name(self) -> str:
        return f"{self.model}Client"

    @property
    def sync_class_name(self) -> str:
        return f"Sync{self.model}Client"


@dataclass(frozen=True, slots=True)
class ClientPackage:
    """Everything one generated package holds.

    ``schema_path`` is the schema's path relative to the package folder (POSIX separators),
    so the package finds its schema wherever the project is checked out.
    """

    schema_path: str
    aliases: tuple[Alias, ...]
    typed_dicts: tuple[TypedDictType, ...]
    accessors: tuple[ModelAccessor, ...]
