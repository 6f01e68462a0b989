"""CORS: which browser origins may call the API (``[server.cors]``), with starlette's
``CORSMiddleware`` doing the protocol (preflight ``OPTIONS``, ``Access-Control-*``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from datatier.errors import ConfigError

__all__ = ["CorsSettings"]

# Response headers a browser script may read: the API's own, beyond the CORS-safelisted.
_EXPOSED = (
    "ETag",
    "Link",
    "Location",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "X-Request-Id",
    "X-Cache",
    "X-Datatier-Change-Seq",
)


@dataclass(frozen=True, slots=True)
class CorsSettings:
    """``origins`` allowed (``["*"]`` for any), the ``methods`` and request ``headers`` they may
    use, whether ``credentials`` (cookies, Authorization) are allowed, how long a browser may
    cache a preflight (``max_age`` seconds), and the response headers it may read."""

    origins: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE")
    headers: tuple[str, ...] = (
        "Authorization",
        "Content-Type",
        "X-API-Key",
        "If-Match",
        "If-None-Match",
        "X-Request-Id",
    )
    credentials: bool = False
    max_age: int = 600
    expose_headers: tuple[str, ...] = _EXPOSED

    def __post_init__(self) -> None:
        if self.credentials and "*" in self.origins:
            raise ConfigError(
                "[server.cors]: credentials = true with origins = ['*'] would let every site "
                "make calls with a user's credentials; list the origins"
            )
        for origin in self.origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ConfigError(
                    f"[server.cors]: origin {origin!r} must be '*' or a scheme and host "
                    "such as 'https://app.example.com'"
                )

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> CorsSettings:
        """Settings from a ``[server.cors]`` table; ``ConfigError`` on an unknown key or type."""
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key in ("origins", "methods", "headers", "expose_headers"):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"[server.cors] {key} must be a list of strings")
                values[key] = tuple(value)
            elif key == "credentials":
                if not isinstance(value, bool):
                    raise ConfigError("[server.cors] credentials must be true or false")
                values[key] = value
            elif key == "max_age":
                if type(value) is not int or value < 0:
                    raise ConfigError("[server.cors] max_age must be a number of seconds")
                values[key] = value
            else:
                raise ConfigError(
                    f"[server.cors]: unknown key `{key}`; known: origins, methods, headers, "
                    "credentials, max_age, expose_headers"
                )
        return cls(**values)

    def middleware(self) -> Middleware:
        """starlette's ``CORSMiddleware`` configured by these settings."""
        return Middleware(
            CORSMiddleware,
            allow_origins=list(self.origins),
            allow_methods=list(self.methods),
            allow_headers=list(self.headers),
            allow_credentials=self.credentials,
            expose_headers=list(self.expose_headers),
            max_age=self.max_age,
        )
