"""What differs per database: column types, defaults and DDL details, one class per database."""

from __future__ import annotations

from datatier.dialects._base import Dialect
from datatier.dialects.postgres import PostgresDialect
from datatier.dialects.sqlite import SqliteDialect

__all__ = ["Dialect", "PostgresDialect", "SqliteDialect", "get_dialect"]

_DIALECTS: dict[str, type[Dialect]] = {
    "postgresql": PostgresDialect,
    "postgres": PostgresDialect,
    "sqlite": SqliteDialect,
}


def get_dialect(provider: str) -> Dialect:
    """The dialect for a datasource provider (``postgresql``/``postgres`` or ``sqlite``)."""
    try:
        return _DIALECTS[provider]()
    except KeyError:
        raise ValueError(f"unsupported provider {provider!r}: use postgresql or sqlite") from None
