"""Response compression: gzip and Brotli, chosen by the request's ``Accept-Encoding``.

``CompressionMiddleware`` compresses a response when the client accepts ``br`` or ``gzip``
(``br`` preferred at equal weight), the body is at least ``minimum_size`` bytes, and the
response is not already encoded or of a type that does not shrink (images, archives). A
whole body is compressed in one go (with ``Content-Length``); a streamed one chunk by
chunk. A compressed response carries ``Vary: Accept-Encoding`` and its ETag becomes weak
(``W/"..."``): the bytes differ from the identity encoding, the content does not, and
``If-None-Match`` compares weakly.

A request without ``Accept-Encoding`` passes through untouched (one header scan).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Protocol

import brotli
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CompressionMiddleware", "CompressionSettings", "choose_encoding"]

_SKIP_TYPES = (b"image/", b"video/", b"audio/", b"application/zip", b"application/gzip")


@dataclass(frozen=True, slots=True)
class CompressionSettings:
    """``gzip`` / ``br`` switch each encoding; responses under ``minimum_size`` bytes go out
    as they are (compressing them costs more than it saves); ``gzip_level`` (1-9) and
    ``br_quality`` (0-11) trade CPU for size (the defaults favour speed)."""

    gzip: bool = True
    br: bool = True
    minimum_size: int = 1024
    gzip_level: int = 5
    br_quality: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.minimum_size, int) or self.minimum_size < 0:
            raise ValueError(f"compression minimum_size must be >= 0, not {self.minimum_size!r}")
        if not 1 <= self.gzip_level <= 9:
            raise ValueError(f"compression gzip_level must be 1-9, not {self.gzip_level!r}")
        if not 0 <= self.br_quality <= 11:
            raise ValueError(f"compression br_quality must be 0-11, not {self.br_quality!r}")


def choose_encoding(accept: str, settings: CompressionSettings) -> str | None:
    """``"br"``, ``"gzip"`` or None for an ``Accept-Encoding`` value (q-values honoured,
    ``*`` counts for an encoding not named)."""
    weights: dict[str, float] = {}
    for part in accept.split(","):
        name, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        weights[name.strip().lower()] = weight
    best: str | None = None
    best_weight = 0.0
    for name, enabled in (("br", settings.br), ("gzip", settings.gzip)):
        if not enabled:
            continue
        weight = weights.get(name, weights.get("*", 0.0))
        if weight > best_weight:
            best, best_weight = name, weight
    return best


class _Encoder(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Brotli:
    def __init__(self, quality: int) -> None:
        self._compressor = brotli.Compressor(quality=quality)

    def compress(self, data: bytes) -> bytes:
        return bytes(self._compressor.process(data))

    def flush(self) -> bytes:
        return bytes(self._compressor.finish())


def _encoder(encoding: str, settings: CompressionSettings) -> _Encoder:
    if encoding == "br":
        return _Brotli(settings.br_quality)
    return zlib.compressobj(settings.gzip_level, zlib.DEFLATED, 31)  # 31: gzip framing


class CompressionMiddleware:
    """ASGI middleware compressing response bodies (see the module docstring)."""

    def __init__(self, app: ASGIApp, settings: CompressionSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        encoding = None
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                encoding = choose_encoding(value.decode("latin-1"), self.settings)
                break
        if encoding is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Responder(send, encoding, self.settings).send)


class _Responder:
    """The ``send`` of one compressed response: holds the start until the first body chunk
    says whether compressing is worth it."""

    def __init__(self, send: Send, encoding: str, settings: CompressionSettings) -> None:
        self._send = send
        self._encoding = encoding
        self._settings = settings
        self._start: Message | None = None
        self._encoder: _Encoder | None = None
        self._passthrough = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._start = message
            return
        if kind != "http.response.body" or self._passthrough:
            await self._send(message)
            return
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if self._encoder is not None:  # later chunks of a compressed stream
            chunk = self._encoder.compress(body)
            if not more:
                chunk += self._encoder.flush()
            await self._send({"type": "http.response.body", "body": chunk, "more_body": more})
            return
        start = self._start
        assert start is not None, "a response body before its start"
        self._start = None
        headers = list(start.get("headers", ()))
        if not self._worth_it(headers, body, more):
            self._passthrough = True
            await self._send(start)
            await self._send(message)
            return
        encoder = _encoder(self._encoding, self._settings)
        kept: list[tuple[bytes, bytes]] = []
        for name, value in headers:
            if name == b"content-length":
                continue
            if name == b"etag" and not value.startswith(b"W/"):
                value = b"W/" + value
            kept.append((name, value))
        kept.append((b"content-encoding", self._encoding.encode()))
        kept.append((b"vary", b"Accept-Encoding"))
        chunk = encoder.compress(body)
        if more:
            self._encoder = encoder
        else:
            chunk += encoder.flush()
            kept.append((b"content-length", str(len(chunk)).encode()))
        await self._send({**start, "headers": kept})
        await self._send({"type": "http.response.body", "body": chunk, "more_body": more})

    def _worth_it(self, headers: list[tuple[bytes, bytes]], body: bytes, more: bool) -> bool:
        if not more and len(body) < self._settings.minimum_size:
            return False
        for name, value in headers:
            if name == b"content-encoding":
                return False
            if name == b"content-type" and value.startswith(_SKIP_TYPES):
                return False
            if name == b"content-length" and int(value) < self._settings.minimum_size:
                return False
        return True
