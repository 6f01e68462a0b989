"""The only code that talks to a database: opening connections (and, later, pools)."""

from __future__ import annotations

from datatier.drivers._sync import SyncConnection, connect_sync, postgres_schema

__all__ = ["SyncConnection", "connect_sync", "postgres_schema"]
