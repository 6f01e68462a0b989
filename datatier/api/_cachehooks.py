"""The API's side of the cache: report hits in ``X-Cache``, tell readers how fresh they are.

``CacheHeadersMiddleware`` is installed only when the client has a cache, so an app without
one pays nothing. Per request it gives the cache a fresh ``cache_status`` list and the
caller's ``cache_identity``, reads ``cache.versions.applied`` BEFORE the request runs (every
change with a seq up to it is reflected in what the request reads), and on the response sets

- ``X-Cache: HIT`` when every cached read hit, ``MISS`` when any missed, else ``STALE``
  (no header when the request made no cached read);
- ``X-Datatier-Change-Seq: <n>`` on requests that only read (``mark_write`` clears it).

With ``ApiSettings.response_cache`` (and the client's memory tier) it also answers
cacheable GETs from the ``ResponseCache`` (``_responsecache.py``) before the app runs, and
offers every other answer of one to it; a hit carries ``X-Cache: HIT`` and the seq applied
when it is served (nothing it read has changed since).
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datatier.api._responsecache import (
    Capture,
    Read,
    ResponseCache,
    ResponseCacheSettings,
    recorded_reads,
    send_stored,
)
from datatier.cache._context import cache_identity, cache_status

__all__ = ["WROTE", "CacheHeadersMiddleware", "cache_of", "identity_text", "x_cache"]

# scope["state"] key the pipeline sets when the request wrote: its seq header would mislead.
WROTE = "datatier.wrote"


def cache_of(client: Any) -> Any:
    """The client's cache, or None (no cache configured, or a build without the cache)."""
    return getattr(client, "cache", None)


def identity_text(identity: Any) -> str:
    """``role:user_id`` of an ``Identity`` for cache keys; ``""`` for none or anonymous."""
    if identity is None or identity.method == "anonymous":
        return ""
    return f"{identity.role}:{identity.user_id or ''}"


def x_cache(status: list[str]) -> str | None:
    """The ``X-Cache`` value for the outcomes of a request's cached reads (None: no header)."""
    if not status:
        return None
    if all(outcome == "HIT" for outcome in status):
        return "HIT"
    return "MISS" if "MISS" in status else "STALE"


class CacheHeadersMiddleware:
    """ASGI middleware (inside auth, so the identity is known) adding the cache headers and
    answering from the response cache (``responses``: its settings; None: off)."""

    def __init__(
        self, app: ASGIApp, client: Any, responses: ResponseCacheSettings | None = None
    ) -> None:
        self.app = app
        self.client = client
        cache = cache_of(client)
        self.responses = (
            ResponseCache(cache, responses)
            if responses is not None and cache is not None and cache.memory is not None
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache = cache_of(self.client)
        if scope["type"] != "http" or cache is None:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        identity = identity_text(state.get("identity"))
        responses = self.responses
        request = None
        if responses is not None:
            request = responses.request(scope, identity)
            stored = responses.get(request.key) if request is not None else None
            if request is not None and stored is not None:
                scope["route"] = stored.route  # request metrics name the route as on a miss
                seq = str(int(cache.versions.applied)).encode()
                extra = [(b"x-cache", b"HIT"), (b"x-datatier-change-seq", seq)]
                await send_stored(send, stored, request.if_none_match, extra)
                return
        status: list[str] = []
        reads: list[Read] = []
        capture = Capture()
        applied = int(getattr(getattr(cache, "versions", None), "applied", 0))
        status_token = cache_status.set(status)
        identity_token = cache_identity.set(identity)
        reads_token = recorded_reads.set(reads if request is not None else None)

        async def send_with_headers(message: Message) -> None:
            if request is not None:
                capture.see(message)
            if message["type"] == "http.response.start":
                extra: list[tuple[bytes, bytes]] = []
                outcome = x_cache(status)
                if outcome is not None:
                    extra.append((b"x-cache", outcome.encode()))
                if not state.get(WROTE):
                    extra.append((b"x-datatier-change-seq", str(applied).encode()))
                if extra:
                    message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            cache_status.reset(status_token)
            cache_identity.reset(identity_token)
            recorded_reads.reset(reads_token)
        if responses is not None and request is not None and not state.get(WROTE):
            responses.put(request.key, capture, status, reads, scope.get("route"))
