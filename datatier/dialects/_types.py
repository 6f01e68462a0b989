"""SQLAlchemy column types Prisma uses that SQLAlchemy does not spell the way Prisma does.

Each is a real SQLAlchemy type (bind and result processing come from its base),
with its own ``__visit_name__`` so the dialects' type compilers can render it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import UserDefinedType

__all__ = ["BIGSERIAL", "JSONB", "SERIAL", "SMALLSERIAL", "VARBIT", "XML", "Unsupported"]


class SERIAL(sa.INTEGER):
    """``INTEGER`` filled from an owned sequence: ``Int @default(autoincrement())`` on PostgreSQL."""

    __visit_name__ = "SERIAL"


class BIGSERIAL(sa.BIGINT):
    __visit_name__ = "BIGSERIAL"


class SMALLSERIAL(sa.SMALLINT):
    __visit_name__ = "SMALLSERIAL"


class VARBIT(sa.String):
    """PostgreSQL ``VARBIT(n)`` (``@db.VarBit``), held as a string of 0 and 1."""

    __visit_name__ = "VARBIT"


class XML(sa.Text):
    """PostgreSQL ``XML`` (``@db.Xml``), held as text."""

    __visit_name__ = "XML"


class JSONB(sa.JSON):
    """SQLite ``JSONB``: Prisma's declared type for ``Json``; SQLite stores it as text."""

    __visit_name__ = "JSONB"


class Unsupported(UserDefinedType[Any]):
    """``Unsupported("circle")``: the database type written verbatim."""

    cache_ok = True

    def __init__(self, sql: str) -> None:
        self.sql = sql

    def get_col_spec(self, **kw: Any) -> str:
        return self.sql
