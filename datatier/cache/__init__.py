"""datatier's cache: memory and Redis tiers in front of the engine, kept fresh by change
events (see docs/cache.md).

``Client(cache=...)`` turns it on; ``db.cache`` is the ``Cache``. ``cache_identity`` is
part of every key (the API sets the caller's role and user id); ``cache_status`` collects
``HIT``/``MISS``/``STALE`` per request for the ``X-Cache`` header.
"""

from datatier.cache._cache import Cache
from datatier.cache._context import cache_identity, cache_status
from datatier.cache._settings import CacheSettings, ModelSettings, WarmQuery
from datatier.cache._versions import Versions

__all__ = [
    "Cache",
    "CacheSettings",
    "ModelSettings",
    "Versions",
    "WarmQuery",
    "cache_identity",
    "cache_status",
]
