"""The syntax tree of the Prisma schema language: what was written, where, comments included.

The tree keeps everything the formatter needs (comments, documentation, the line
each member starts on), and nothing is resolved yet: names are plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from datatier.errors import Span

__all__ = [
    "Argument",
    "ArrayExpr",
    "Attribute",
    "Block",
    "BlockKind",
    "Comment",
    "ConstantExpr",
    "EnumValueDecl",
    "Expr",
    "FieldDecl",
    "FieldType",
    "FunctionCall",
    "Member",
    "NumberExpr",
    "ObjectExpr",
    "Property",
    "SchemaFile",
    "StringExpr",
    "TopLevel",
]

BlockKind = Literal["datasource", "generator", "model", "view", "type", "enum"]


@dataclass(frozen=True, slots=True)
class StringExpr:
    """A string literal; ``value`` has its escapes resolved, ``raw`` is the text between the quotes."""

    value: str
    raw: str
    span: Span


@dataclass(frozen=True, slots=True)
class NumberExpr:
    """A numeric literal, kept as written (``-1``, ``3.14``)."""

    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class ConstantExpr:
    """A bare identifier used as a value: ``true``, ``Cascade``, ``Desc``, an enum value."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class ArrayExpr:
    """``[a, b, c]``."""

    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """``name(args)``: ``env("X")``, ``uuid(7)``, ``createdAt(sort: Desc)`` inside an index list."""

    name: str
    args: tuple[Argument, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ObjectExpr:
    """``{ key: value, ... }`` (the ``where:`` of a partial index)."""

    entries: tuple[Argument, ...]
    span: Span


Expr = StringExpr | NumberExpr | ConstantExpr | ArrayExpr | FunctionCall | ObjectExpr


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument of an attribute or call; ``name`` is None when positional."""

    name: str | None
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Attribute:
    """``@name(args)`` on a field or ``@@name(args)`` on a block; ``name`` may be dotted (``db.VarChar``)."""

    name: str
    args: tuple[Argument, ...]
    has_parens: bool
    is_block: bool
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class FieldType:
    """A field's type as written: ``String``, ``Post[]``, ``Int?``, ``Unsupported("point")``."""

    name: str
    optional: bool
    is_list: bool
    unsupported: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Comment:
    """A ``//`` comment on a line of its own (``text`` without the slashes)."""

    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class FieldDecl:
    """A field of a model, view or composite type."""

    name: str
    type: FieldType | None  # None when the type is missing (an error the validator reports)
    attributes: tuple[Attribute, ...]
    documentation: tuple[str, ...]
    trailing_comment: str | None
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class EnumValueDecl:
    """A value of an enum."""

    name: str
    attributes: tuple[Attribute, ...]
    documentation: tuple[str, ...]
    trailing_comment: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Property:
    """``key = value`` inside a datasource or generator block."""

    name: str
    value: Expr
    documentation: tuple[str, ...]
    trailing_comment: str | None
    span: Span


Member = FieldDecl | EnumValueDecl | Property | Attribute | Comment


@dataclass(frozen=True, slots=True)
class Block:
    """``model User { ... }`` and its siblings; ``members`` keep their written order."""

    kind: BlockKind
    name: str
    members: tuple[Member, ...]
    documentation: tuple[str, ...]
    span: Span
    name_span: Span


TopLevel = Block | Comment


@dataclass(frozen=True, slots=True)
class SchemaFile:
    """One parsed ``.prisma`` file."""

    path: str
    text: str
    items: tuple[TopLevel, ...]

    @property
    def blocks(self) -> tuple[Block, ...]:
        return tuple(item for item in self.items if isinstance(item, Block))
