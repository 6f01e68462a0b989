"""datatier's API server as an HTTP peer: ``create_app`` on the blog schema, served like the other Python peers.

``python -m bench.http.datatier_app --port P --url URL`` runs one uvicorn process (uvloop,
httptools, no access log) whose app is ``datatier.api.create_app`` over a ``Client`` of
``datatier/demo/schema.prisma`` with the bench's pool size. The baseline switches
everything optional off (metrics, access log, auth, rate limits, ETags, compression: the
hand-written peers have none of them; datatier's defaults have metrics, ETags and
compression on); ``$BENCH_DATATIER_FEATURE`` switches one on, for ``http.features``:

| feature | what is on |
|---|---|
| ``auth`` | ``AuthSettings`` with an HS256 secret; requests carry ``Authorization: Bearer <JWT>`` (``bench_token``) |
| ``ratelimit-memory`` | a per-IP rate limit in process memory, high enough never to refuse |
| ``ratelimit-redis`` | the same limit kept in Redis (``$BENCH_DATATIER_REDIS_URL``) |
| ``metrics`` | ``ApiSettings(metrics=True)``: request counters and histograms, ``/metrics`` |
| ``access-log`` | ``ApiSettings(access_log=True)``, one JSON line per request into a log file |
| ``etag`` | ``ApiSettings(etag=True)``: every read hashes its body into an ETag |
| ``compression`` | ``ApiSettings(compression=CompressionSettings(br=False))``; requests accept gzip |
| ``cache`` | the client's cache, memory tier only (``Client(cache={"memory": True})``): repeated reads are hits |
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from bench._environment import REPO_ROOT
from bench.http.serve import pool_size, serve

FEATURE_ENV = "BENCH_DATATIER_FEATURE"
REDIS_ENV = "BENCH_DATATIER_REDIS_URL"
ACCESS_LOG_ENV = "BENCH_DATATIER_ACCESS_LOG"
SCHEMA = REPO_ROOT / "datatier" / "demo" / "schema.prisma"
JWT_SECRET = "datatier-bench-secret-" + "x" * 32  # the bench's own; guards nothing
FEATURES = (
    "auth",
    "ratelimit-memory",
    "ratelimit-redis",
    "metrics",
    "etag",
    "access-log",
    "compression",
    "cache",
)
_NEVER_REFUSED = "100000000/second"


def bench_token() -> str:
    """A JWT the ``auth`` feature's server accepts: role ``bench``, valid for a day."""
    import jwt

    now = dt.datetime.now(dt.UTC)
    claims = {"sub": "bench", "role": "bench", "iat": now, "exp": now + dt.timedelta(days=1)}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def settings_for(feature: str | None, env: dict[str, str]) -> Any:
    """The ``ApiSettings`` of the baseline (None) or of one feature switched on."""
    from datatier.api import ApiSettings, AuthSettings, RateLimitSettings, parse_rate
    from datatier.api._compression import CompressionSettings

    if feature not in (None, *FEATURES):
        raise ValueError(f"{FEATURE_ENV}={feature!r}: known features are {', '.join(FEATURES)}")
    values: dict[str, Any] = {
        "metrics": feature == "metrics",
        "access_log": False,
        "etag": feature == "etag",
        "compression": CompressionSettings(br=False) if feature == "compression" else None,
    }
    if feature == "auth":
        values["auth"] = AuthSettings(jwt_secret=JWT_SECRET, rules={"bench": {"*": "*"}})
    elif feature in ("ratelimit-memory", "ratelimit-redis"):
        redis_url = env.get(REDIS_ENV, "redis://127.0.0.1:6379") if "redis" in feature else None
        rate = parse_rate(_NEVER_REFUSED)
        values["rate_limit"] = RateLimitSettings(per_ip=rate, redis_url=redis_url)
    elif feature == "access-log":
        values["access_log"] = True
        # Written to a file, as a server would: a logger without a handler costs less.
        handler = logging.FileHandler(env.get(ACCESS_LOG_ENV, os.devnull))
        access = logging.getLogger("datatier.access")
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    return ApiSettings(**values)


def make_app(url: str) -> Any:
    """The ASGI app for the blog database at ``url``, with ``$BENCH_DATATIER_FEATURE`` on."""
    from datatier import Client
    from datatier.api import create_app

    feature = os.environ.get(FEATURE_ENV) or None
    settings = settings_for(feature, dict(os.environ))
    if feature == "cache":
        client = Client(SCHEMA, url, pool_size=pool_size(), cache={"memory": True})
    else:
        client = Client(SCHEMA, url, pool_size=pool_size())
    app = create_app(client, settings, close_client=True)
    return app


if __name__ == "__main__":
    serve(make_app)
