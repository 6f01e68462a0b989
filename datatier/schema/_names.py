"""Prisma's conventions for database object names (primary keys, indexes, foreign keys)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_IDENTIFIER", "constraint_name", "default_relation_name"]

# The longest identifier each provider keeps; Prisma trims generated names to fit.
MAX_IDENTIFIER = {
    "postgresql": 63,
    "cockroachdb": 63,
    "mysql": 64,
    "sqlserver": 128,
    "sqlite": 10_000,
    "mongodb": 10_000,
}


def constraint_name(provider: str, table: str, columns: Sequence[str], suffix: str) -> str:
    """``{table}_{columns}_{suffix}``, trimmed as Prisma trims it to the provider's identifier limit."""
    limit = MAX_IDENTIFIER.get(provider, 63)
    joined = "_".join((table, *columns)) if columns else table
    room = limit - len(suffix) - 1
    if len(joined) > room:
        joined = joined[:room]
    return f"{joined}_{suffix}"


def default_relation_name(model_a: str, model_b: str) -> str:
    """The name Prisma gives an unnamed relation: ``{A}To{B}`` with the model names in sorted order."""
    first, second = sorted((model_a, model_b))
    return f"{first}To{second}"
