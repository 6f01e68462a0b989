"""datatier's API server: REST, RPC and GraphQL over one schema, as an ASGI app.

``create_app(client)`` gives a Starlette app; mount it in another app or run it with
``datatier serve``.
"""

from __future__ import annotations

from datatier.api._app import create_app
from datatier.api._auth import ApiKey, AuthSettings, Identity, hash_api_key
from datatier.api._compression import CompressionSettings
from datatier.api._cors import CorsSettings
from datatier.api._problems import HttpProblem, problem_for
from datatier.api._procedures import Procedure, ProcedureContext, Procedures, procedure
from datatier.api._ratelimit import Rate, RateLimitSettings, parse_rate
from datatier.api._responsecache import ResponseCacheSettings
from datatier.api._settings import ApiSettings

__all__ = [
    "ApiKey",
    "ApiSettings",
    "AuthSettings",
    "CompressionSettings",
    "CorsSettings",
    "HttpProblem",
    "Identity",
    "Procedure",
    "ProcedureContext",
    "Procedures",
    "Rate",
    "RateLimitSettings",
    "ResponseCacheSettings",
    "create_app",
    "hash_api_key",
    "parse_rate",
    "problem_for",
    "procedure",
]
