"""``create_app``: the ASGI app serving one client's schema over REST, RPC and GraphQL.

Errors of every route become ``application/problem+json``; ``/healthz`` says the process
is up, ``/readyz`` that the database answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from datatier.api._accesslog import AccessLogMiddleware
from datatier.api._auth import AuthMiddleware
from datatier.api._bodylimit import BodyLimitMiddleware
from datatier.api._cachehooks import CacheHeadersMiddleware, cache_of
from datatier.api._compression import CompressionMiddleware
from datatier.api._graphql import graphql_routes
from datatier.api._json import dumps
from datatier.api._metrics import MetricsMiddleware, metrics_routes
from datatier.api._openapi import openapi_routes
from datatier.api._pipeline import READ_OPERATIONS
from datatier.api._problems import HttpProblem, problem_response
from datatier.api._procedures import Procedure, Procedures
from datatier.api._ratelimit import RateLimitMiddleware
from datatier.api._rest import rest_routes
from datatier.api._rpc import rpc_routes
from datatier.api._settings import ApiSettings
from datatier.client import Client
from datatier.errors import DatatierError

__all__ = ["create_app"]


def create_app(
    client: Client,
    settings: ApiSettings | None = None,
    *,
    procedures: Procedures | Iterable[Procedure | Callable[..., Awaitable[Any]]] | None = None,
    close_client: bool = False,
) -> Starlette:
    """An ASGI app for ``client``'s schema and database; ``procedures`` (a ``Procedures``
    registry, or a list of ``procedure(...)``s / typed async functions) are served under
    ``/rpc/{name}``; ``close_client`` closes the client's pool when the app shuts down (the
    app does not own a client passed in otherwise)."""
    settings = settings or ApiSettings()
    registry = Procedures.of(procedures)
    models = client.engine.info.models
    registry.check_names(name[:1].lower() + name[1:] for name in models)
    if settings.auth is not None:  # a misspelt model in the role rules is a startup error
        settings.auth.check_models(models, (p.name for p in registry))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await client.connect()
        try:
            yield
        finally:
            if close_client:
                await client.close()

    routes: list[BaseRoute] = [
        *rest_routes(),  # first: the router tries routes in order, and these are the hot ones
        *rpc_routes(),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *openapi_routes(),
    ]
    routes.extend(graphql_routes(settings))
    if settings.metrics:
        routes.extend(metrics_routes(client))
    app = Starlette(
        debug=False,
        routes=routes,
        middleware=_middleware(client, settings),
        exception_handlers={
            HttpProblem: _on_error,
            DatatierError: _on_error,
            HTTPException: _on_http_error,
            Exception: _on_error,
        },
        lifespan=lifespan,
    )
    app.state.client = client
    app.state.settings = settings
    app.state.procedures = registry
    return app


def _middleware(client: Client, settings: ApiSettings) -> list[Middleware]:
    """Outermost first: CORS (a preflight needs no credentials), the access log (sees refused
    requests too), metrics, compression (of every answer, refusals included),
    authentication, rate limiting (per identity), the body size limit, the cache headers
    and response cache (only with a cache; inside auth and rate limiting: the cache key
    needs the identity, and a hit still counts against the limits)."""
    stack: list[Middleware] = []
    if settings.cors is not None:
        stack.append(settings.cors.middleware())
    if settings.access_log:
        stack.append(Middleware(AccessLogMiddleware))
    if settings.metrics:
        stack.append(Middleware(MetricsMiddleware, client=client))
    if settings.compression is not None:
        stack.append(Middleware(CompressionMiddleware, settings=settings.compression))
    if settings.auth is not None:
        stack.append(Middleware(AuthMiddleware, settings=settings))
    if settings.rate_limit is not None:
        stack.append(Middleware(RateLimitMiddleware, settings=settings))
    if settings.max_body_size is not None:
        stack.append(Middleware(BodyLimitMiddleware, limit=settings.max_body_size))
    if cache_of(client) is not None:
        stack.append(
            Middleware(CacheHeadersMiddleware, client=client, responses=settings.response_cache)
        )
    return stack


async def _on_error(request: Request, error: Exception) -> Response:
    settings: ApiSettings = request.app.state.settings
    return problem_response(error, debug=settings.debug)


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "route_not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    detail = (
        f"no route {request.method} {request.url.path}; see /openapi.json"
        if error.status_code == 404
        else f"{request.method} is not allowed on {request.url.path}"
        if error.status_code == 405
        else str(error.detail)
    )
    headers = dict(error.headers or {})
    operation = request.path_params.get("operation")
    if error.status_code == 405 and operation is not None and operation not in READ_OPERATIONS:
        headers["Allow"] = "POST"  # RPC writes: POST only, as /openapi.json says
    return problem_response(HttpProblem(error.status_code, code, detail), headers=headers)


async def healthz(request: Request) -> Response:
    return Response(dumps({"status": "ok"}), media_type="application/json")


async def readyz(request: Request) -> Response:
    client: Client = request.app.state.client
    try:
        await client.query_raw("SELECT 1")
    except Exception as error:
        settings: ApiSettings = request.app.state.settings
        detail = (
            f"the database does not answer: {error}"
            if settings.debug
            else ("the database does not answer")
        )
        return problem_response(HttpProblem(503, "not_ready", detail, title="Not ready"))
    checks: dict[str, Any] = {"database": "ok"}
    return Response(dumps({"status": "ok", "checks": checks}), media_type="application/json")
