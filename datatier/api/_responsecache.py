"""The API's response cache: whole answers to cacheable GETs, kept in process memory.

A hit of the client's cache still parses the request, checks it, decodes the cached value
and encodes JSON. ``ResponseCache`` keeps the bytes instead (status 200, the headers the
app gave, the body), keyed by path, query string, scheme, host and the caller's identity,
and serves them before any of that runs. Authentication and rate limits run before it
(it sits innermost); authorization depends only on the role, which is part of the key.

Only an answer whose every read was a fresh HIT of the client's memory tier is kept, with
each read's version token (computed before the read, by the same rules the client's cache
keys use) and the earliest moment one of those entries stops being fresh. A later request
is served from it only while every token is still current and that moment has not come:
a change event that touches what the answer read (from this process or, through the
change bus, from another) changes a token, so the next request runs the app again; a
write applied while the answer was being made already makes it unservable.

The client's cache has no per-read hook, so ``ResponseCache`` wraps the cache's ``read``
once (``_RecordedReads``); outside a recording request the wrapper costs one ContextVar
lookup per read.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from starlette.types import Message, Scope, Send

from datatier.cache._context import cache_identity
from datatier.cache._deps import Dependencies
from datatier.cache._keys import SEP, document_text

if TYPE_CHECKING:
    from datatier.cache._cache import Cache

__all__ = [
    "Capture",
    "Read",
    "ResponseCache",
    "ResponseCacheSettings",
    "etag_matches",
    "recorded_reads",
    "send_stored",
]

# Paths of reads that run only the pipeline: REST, and RPC model operations
# (``/rpc/{model}/{operation}``); a procedure (``/rpc/{name}``) may compute anything.
_REST = "/rest/"
_RPC = "/rpc/"


@dataclass(frozen=True, slots=True)
class ResponseCacheSettings:
    """At most ``max_entries`` answers and ``max_bytes`` bytes (bodies, headers, keys);
    the least recently used go first."""

    max_entries: int = 10_000
    max_bytes: int = 32 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_entries", "max_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"response_cache.{name} must be a positive integer, not {value!r}")


class Read(NamedTuple):
    """One read of a request: its model, what it depends on (``row`` or ``models``), the
    version token it was read at (None: not a fresh memory hit, so the answer is not kept)
    and when its cache entry stops being fresh (``time.monotonic()``)."""

    model: str
    row: str | None
    models: tuple[str, ...]
    token: str | None
    fresh_until: float


class Request(NamedTuple):
    """A cacheable request: its key and its ``If-None-Match`` (None: not given)."""

    key: tuple[Any, ...]
    if_none_match: bytes | None


class Stored(NamedTuple):
    """One kept answer (status 200) and what decides whether it may still be served."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes | None
    reads: tuple[Read, ...]
    fresh_until: float
    model: str
    route: Any
    size: int


# The reads of the request being recorded (None: not recording); the middleware sets it.
recorded_reads: ContextVar[list[Read] | None] = ContextVar("datatier_response_reads", default=None)


class Capture:
    """What the app sent for one request: status, headers and a body sent in one piece."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: bytes | None = None
        self._parts = 0

    def see(self, message: Message) -> None:
        """Note one ``send`` message (a streamed body leaves ``body`` None: not kept)."""
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", ()))
        elif message["type"] == "http.response.body":
            self._parts += 1
            whole = self._parts == 1 and not message.get("more_body", False)
            self.body = message.get("body", b"") if whole else None


def etag_matches(header: bytes, etag: bytes) -> bool:
    """Whether ``If-None-Match`` ``header`` names ``etag`` (compared weakly, ``*`` matches)."""
    tags = [tag.strip().removeprefix(b"W/") for tag in header.split(b",")]
    return b"*" in tags or etag.removeprefix(b"W/") in tags


class ResponseCache:
    """Kept answers of one app's cacheable GETs (see the module docstring)."""

    def __init__(self, cache: Cache, settings: ResponseCacheSettings) -> None:
        self.cache = cache
        self.settings = settings
        self.bytes = 0
        self._entries: OrderedDict[tuple[Any, ...], Stored] = OrderedDict()
        self._counts = cache.metrics.counts
        if not isinstance(cache.read, _RecordedReads):
            # an instance attribute in front of the method: the client calls it as before
            cache.read = _RecordedReads(cache)  # type: ignore[method-assign]
        cache.versions.on_resume(self.clear)

    def __len__(self) -> int:
        return len(self._entries)

    def request(self, scope: Scope, identity: str) -> Request | None:
        """The key of a cacheable request (a GET of a REST or RPC model read), else None."""
        path: str = scope["path"]
        if scope["method"] != "GET" or not (
            path.startswith(_REST) or (path.startswith(_RPC) and path.count("/") == 3)
        ):
            return None
        host = b""
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"if-none-match":
                if_none_match = value
        raw_path = scope.get("raw_path") or path
        key = (raw_path, scope["query_string"], identity, scope.get("scheme"), host)
        return Request(key, if_none_match)

    def get(self, key: tuple[Any, ...]) -> Stored | None:
        """The answer kept at ``key`` if it may still be served (counted as a hit)."""
        stored = self._entries.get(key)
        if stored is None:
            return None
        if not self._current(stored):
            self._drop(key, stored)
            return None
        self._entries.move_to_end(key)
        self._counts[("hits", "response", stored.model)] += 1
        return stored

    def _current(self, stored: Stored) -> bool:
        versions = self.cache.versions
        if time.monotonic() >= stored.fresh_until or not versions.vouched:
            return False
        for read in stored.reads:
            if read.row is not None:
                token = versions.row_token(read.model, read.row)
            else:
                token = versions.models_token(read.models)
            if token != read.token:
                return False
        return True

    def put(
        self,
        key: tuple[Any, ...],
        capture: Capture,
        status: list[str],
        reads: list[Read],
        route: Any,
    ) -> None:
        """Count a request the cache did not answer, and keep its answer if every read was a
        fresh memory hit (``status``: the outcomes the client's cache reported)."""
        model = reads[0].model if reads else ""
        self._counts[("misses", "response", model)] += 1
        body = capture.body
        if (
            capture.status != 200
            or body is None
            or not status
            or len(status) != len(reads)
            or any(outcome != "HIT" for outcome in status)
            or any(read.token is None for read in reads)
        ):
            return
        etag = None
        for name, value in capture.headers:
            if name == b"set-cookie":
                return  # an answer that sets a cookie is its caller's alone
            if name == b"etag":
                etag = value
        size = len(body) + sum(len(n) + len(v) for n, v in capture.headers) + len(repr(key))
        if size > self.settings.max_bytes:
            return
        fresh_until = min(read.fresh_until for read in reads)
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old.size
        self._entries[key] = Stored(
            capture.headers, body, etag, tuple(reads), fresh_until, model, route, size
        )
        self.bytes += size
        self._counts[("fills", "response", model)] += 1
        settings = self.settings
        while len(self._entries) > settings.max_entries or self.bytes > settings.max_bytes:
            oldest, stored = next(iter(self._entries.items()))
            self._drop(oldest, stored)
            self._counts[("evictions", "response", stored.model)] += 1

    def clear(self) -> None:
        """Forget every answer (the client's cache resumed: its versions start over)."""
        self._entries.clear()
        self.bytes = 0

    def _drop(self, key: tuple[Any, ...], stored: Stored) -> None:
        del self._entries[key]
        self.bytes -= stored.size


async def send_stored(
    send: Send, stored: Stored, if_none_match: bytes | None, extra: list[tuple[bytes, bytes]]
) -> None:
    """Answer with ``stored`` (304 when ``If-None-Match`` names its ETag), plus ``extra``
    headers."""
    etag = stored.etag
    if etag is not None and if_none_match is not None and etag_matches(if_none_match, etag):
        headers = [(b"etag", etag), *extra]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [*stored.headers, *extra]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})


class _RecordedReads:
    """The cache's ``read``, recording each read of a recording request as a ``Read``."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.read = cache.read
        self.deps = Dependencies(cache.engine.info)

    async def __call__(
        self,
        op: Callable[[Any, str, Mapping[str, Any]], Awaitable[Any]],
        model: str,
        document: Mapping[str, Any],
        option: Any = None,
    ) -> Any:
        reads = recorded_reads.get()
        if reads is None:
            return await self.read(op, model, document, option)
        index = len(reads)
        reads.append(Read(model, None, (), None, 0.0))  # stays unusable if the read raises
        # No await between working out the key here and the cache doing the same.
        planned = self._plan(op.__name__, model, document, option)
        result = await self.read(op, model, document, option)
        if planned is not None:
            reads[index] = self._seen(*planned)
        return result

    def _plan(
        self, name: str, model: str, document: Mapping[str, Any], option: Any
    ) -> tuple[Read, str] | None:
        """The read as the cache keys it, and its memory-tier key; None when the cache would
        not keep it (bypassed, a model off, a write-back model, a document JSON cannot name)."""
        cache = self.cache
        if option is False or cache.memory is None or not cache.versions.vouched:
            return None
        if model not in cache.engine.info.models:
            return None
        deps = self.deps.of(name, model, document)
        settings = cache.settings
        writeback = cache.writeback
        for other in {model, *deps.models}:
            if not settings.model(other).enabled:
                return None
            if writeback is not None and other in writeback.models:
                return None  # its pending values come from Redis, not from versioned entries
        try:
            shape = name + SEP + model + SEP + document_text(document)
        except TypeError:
            return None
        versions = cache.versions
        if deps.row is not None:
            token = versions.row_token(model, deps.row)
        else:
            token = versions.models_token(deps.models)
        key = shape + SEP + cache_identity.get() + SEP + token
        return Read(model, deps.row, deps.models, token, 0.0), key

    def _seen(self, read: Read, key: str) -> Read:
        """``read`` with its entry's freshness, or unusable when no fresh entry holds it."""
        memory = self.cache.memory
        now = time.monotonic()
        entry = memory.get(key, now) if memory is not None else None
        if entry is None or now >= entry.fresh_until:
            return read._replace(token=None)
        return read._replace(fresh_until=entry.fresh_until)
