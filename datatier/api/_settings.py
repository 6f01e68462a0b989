"""``ApiSettings``: the API server's limits and switches, one frozen value that checks itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datatier.api._compression import CompressionSettings
from datatier.api._cors import CorsSettings
from datatier.api._graphql_settings import GraphqlSettings
from datatier.api._responsecache import ResponseCacheSettings

__all__ = ["ApiSettings"]


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Limits and switches of one API app.

    ``default_page`` rows come back from a REST list without ``take``; no request may ask
    for more than ``max_page`` rows (``take``, nested ``take``, an RPC ``findMany`` without
    ``take`` is capped at it) nor nest includes deeper than ``max_include_depth``;
    ``max_batch`` calls at most in one ``/rpc/$batch``. ``debug`` lets error bodies carry
    the internal detail (exception text) that is otherwise withheld. ``auth`` and
    ``rate_limit`` switch those middlewares on (``AuthSettings`` / ``RateLimitSettings``).
    ``graphql`` holds the limits of ``/graphql`` (``GraphqlSettings``).
    ``metrics`` serves ``/metrics`` and counts requests (``_metrics.py``); ``access_log``
    logs one JSON line per request on the ``datatier.access`` logger (``_accesslog.py``).
    ``cors`` (``CorsSettings``) lets browsers on other origins call the API; ``compression``
    (``CompressionSettings``, None: off) gzip/br-encodes responses; a request body over
    ``max_body_size`` bytes (None: no limit) is refused with 413. ``etag`` puts an ETag on
    reads and answers ``If-None-Match`` with 304 (``If-Match`` on writes works either way).
    ``response_cache`` (``ResponseCacheSettings``, None: off) keeps whole answers of REST and
    RPC reads whose every read hit the client's cache (docs/cache.md).
    """

    default_page: int = 100
    max_page: int = 1000
    max_include_depth: int = 5
    max_batch: int = 100
    debug: bool = False
    auth: Any = None
    rate_limit: Any = None
    metrics: bool = True
    access_log: bool = False
    graphql: GraphqlSettings = field(default_factory=GraphqlSettings)
    cors: CorsSettings | None = None
    compression: CompressionSettings | None = field(default_factory=CompressionSettings)
    max_body_size: int | None = 10 * 1024 * 1024
    etag: bool = True
    response_cache: ResponseCacheSettings | None = field(default_factory=ResponseCacheSettings)

    def __post_init__(self) -> None:
        for name in ("default_page", "max_page", "max_include_depth", "max_batch"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"ApiSettings.{name} must be a positive integer, not {value!r}")
        size = self.max_body_size
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            raise ValueError(f"ApiSettings.max_body_size must be a positive integer, not {size!r}")
        if self.default_page > self.max_page:
            raise ValueError(
                f"ApiSettings.default_page ({self.default_page}) exceeds max_page "
                f"({self.max_page}); raise max_page or lower default_page"
            )
