"""Cache warming: the configured reads run once at start-up so the first users hit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from datatier.cache._settings import WarmQuery
from datatier.errors import DatatierError

if TYPE_CHECKING:
    from datatier.cache._cache import Cache

__all__ = ["warm"]

logger = logging.getLogger("datatier.cache")


async def warm(cache: Cache, queries: Iterable[WarmQuery]) -> int:
    """Run each of ``queries`` through ``cache``; the number that ran. A query that fails
    (a model renamed since the config was written) is logged and skipped: warming is an
    optimisation and must not stop the client from starting."""
    done = 0
    for query in queries:
        op = getattr(cache.engine, query.operation)
        try:
            await cache.read(op, query.model, dict(query.args))
        except DatatierError as error:
            logger.warning("cache: warming %s.%s failed: %s", query.model, query.operation, error)
            continue
        done += 1
    return done
