"""What ``db pull`` writes, before it is text: models, fields and join tables being built."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from datatier.migrate._catalog import Table
from datatier.migrate._introspect_names import NameScope
from datatier.migrate._introspect_types import string_literal
from datatier.schema._names import constraint_name

__all__ = ["PulledField", "PulledJoin", "PulledModel", "attribute", "constraint_map"]


@dataclass
class PulledField:
    """A field as it will be written: name, type text, attributes, documentation."""

    name: str
    type: str
    attributes: list[str] = field(default_factory=list)
    documentation: str | None = None


@dataclass(eq=False)  # identity: models are dictionary keys while names change
class PulledModel:
    """A model being written: its table, fields and block attributes, and the names taken in it."""

    name: str
    table: Table
    schema: str
    fields: list[PulledField] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # column -> field name
    block_attributes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the schema cannot say
    ignored: bool = False
    scope: NameScope = field(default_factory=NameScope)


@dataclass(frozen=True)
class PulledJoin:
    """An implicit m:n join table and the models of its ``A`` and ``B`` columns."""

    table: Table
    relation: str
    model_a: PulledModel
    model_b: PulledModel


def attribute(name: str, args: Sequence[str]) -> str:
    """``@unique`` or ``@unique(map: "x")``: the arguments in parentheses when there are any."""
    return f"{name}({', '.join(args)})" if args else name


def constraint_map(
    provider: str, name: str | None, table: Table, columns: Sequence[str], suffix: str
) -> list[str]:
    """``[map: "name"]`` when ``name`` is not Prisma's default for the constraint, else ``[]``.

    SQLite keeps no primary key names, so a key's name is never mapped there.
    """
    if name is None or (suffix == "pkey" and provider == "sqlite"):
        return []
    if name == constraint_name(provider, table.name, columns, suffix):
        return []
    return [f"map: {string_literal(name)}"]
