"""Database triggers that record change events for writes made outside datatier (PostgreSQL).

Installed on request (``datatier db push --cache-triggers``, ``datatier migrate dev|deploy
--cache-triggers``); every function and trigger is named ``_datatier_*`` so drift checks,
``db pull`` and catalog comparisons ignore them. When they are installed, the engine must
not record events itself (every write would be recorded twice).
"""

from __future__ import annotations

from datatier.drivers import Connection

__all__ = ["triggers_installed"]

_FUNCTION_PREFIX = "_datatier_change_"


async def triggers_installed(conn: Connection, provider: str) -> bool:
    """Whether change-event triggers are installed in the connection's schema."""
    if provider != "postgresql":
        return False
    row = await conn.fetch_one(
        "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
        " AND t.tgname LIKE $1 LIMIT 1",
        [_FUNCTION_PREFIX.replace("_", r"\_") + "%"],
    )
    return row is not None
