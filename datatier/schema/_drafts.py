"""Models and fields while the validator resolves them, and helpers every part of it shares."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from datatier.errors import Span
from datatier.schema._args import Reporter, describe_expr
from datatier.schema._ast import (
    Attribute,
    Block,
    Comment,
    ConstantExpr,
    Expr,
    FieldDecl,
    StringExpr,
)
from datatier.schema._ir import DefaultValue, Enum, FieldKind, Index, NativeType, PrimaryKey

__all__ = [
    "FieldDraft",
    "ModelDraft",
    "Part",
    "a_or_an",
    "did_you_mean",
    "doc_text",
    "is_comment",
    "is_int",
    "sort_order",
]


@dataclass(eq=False)
class FieldDraft:
    """A field while it is being resolved (mutable; frozen into ``ir.Field`` at the end)."""

    decl: FieldDecl
    name: str
    kind: FieldKind
    type: str
    is_required: bool
    is_list: bool
    db_name: str
    is_id: bool = False
    is_unique: bool = False
    is_updated_at: bool = False
    is_ignored: bool = False
    default: DefaultValue | None = None
    native_type: NativeType | None = None
    relation: Attribute | None = None
    relation_name: str | None = None
    relation_from_fields: tuple[str, ...] = ()
    relation_to_fields: tuple[str, ...] = ()
    relation_on_delete: str | None = None
    relation_on_update: str | None = None
    id_map: str | None = None
    id_sort: Literal["Asc", "Desc"] | None = None
    unique_map: str | None = None
    unique_sort: Literal["Asc", "Desc"] | None = None

    @property
    def span(self) -> Span:
        return self.decl.span


@dataclass(eq=False)
class ModelDraft:
    """A model while it is being resolved."""

    block: Block
    name: str
    db_name: str
    fields: list[FieldDraft] = field(default_factory=list)
    primary_key: PrimaryKey | None = None
    indexes: list[Index] = field(default_factory=list)
    is_ignored: bool = False
    schema: str | None = None
    key_attributes: list[tuple[Attribute, dict[str, Expr]]] = field(default_factory=list)

    @property
    def is_view(self) -> bool:
        return self.block.kind == "view"

    def field(self, name: str) -> FieldDraft | None:
        for draft in self.fields:
            if draft.name == name:
                return draft
        return None


class Part:
    """A piece of the validator: reports to one ``Reporter`` and knows the provider and enums."""

    def __init__(
        self,
        reporter: Reporter,
        provider: str = "postgresql",
        preview_features: set[str] | None = None,
        enums: dict[str, Enum] | None = None,
    ) -> None:
        self.reporter = reporter
        self.provider = provider
        self.preview_features = preview_features if preview_features is not None else set()
        self.enums = enums if enums is not None else {}

    def _string(self, expr: Expr | None, attribute: Attribute | None) -> str | None:
        if expr is None:
            return None
        if isinstance(expr, StringExpr):
            if not expr.value:
                self.reporter.error("the name must not be empty", expr.span)
                return None
            return expr.value
        self.reporter.error(f"expected a string, found {describe_expr(expr)}", expr.span)
        return None


def is_comment(member: object) -> bool:
    return isinstance(member, Comment)


def doc_text(lines: Sequence[str], trailing: str | None = None) -> str | None:
    """Documentation from ``///`` lines (and a trailing ``///`` or ``/* */``), each line trimmed."""
    entries = list(lines)
    if trailing is not None and trailing.startswith("/"):
        entries.append(trailing[1:])
    if not entries:
        return None
    return "\n".join(part.strip() for entry in entries for part in entry.split("\n"))


def is_int(text: str) -> bool:
    return "." not in text


def sort_order(expr: Expr | None) -> Literal["Asc", "Desc"] | None:
    if isinstance(expr, ConstantExpr) and expr.name in ("Asc", "Desc"):
        return "Asc" if expr.name == "Asc" else "Desc"
    return None


def did_you_mean(name: str, candidates: Iterable[str], spelling: str = "{}") -> str | None:
    """``did you mean `x`?`` for the candidate closest to ``name``, written as ``spelling``
    (e.g. ``"@{}"`` for an attribute, ``"{}()"`` for a function); None when none is close."""
    options = list(candidates)
    matches = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in options}
        if name.lower() in lowered:
            matches = [lowered[name.lower()]]
    return f"did you mean `{spelling.format(matches[0])}`?" if matches else None


def a_or_an(word: str) -> str:
    """``word`` with its indefinite article: ``an Int``, ``a String``, ``an enum``."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
