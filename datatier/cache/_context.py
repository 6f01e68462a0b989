"""Per-request context the HTTP layer hands the cache: where to report hits and whose read it is.

``cache_status`` is a fresh list per request (None outside one); each cached read appends
``"HIT"``, ``"MISS"`` or ``"STALE"``, and the API turns the list into an ``X-Cache`` header.
``cache_identity`` is the caller's role and user id (``""`` for anonymous), part of every
cache key so one identity's answers are never served to another.
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["cache_identity", "cache_status"]

cache_status: ContextVar[list[str] | None] = ContextVar("datatier_cache_status", default=None)
cache_identity: ContextVar[str] = ContextVar("datatier_cache_identity", default="")
