"""Prometheus metrics of one API app: requests by route and status, latency, SQL statements and their
durations (through ``client.on_statement``), and the connection pool; the ``/metrics`` route.

Each client gets its own registry (``metrics_for``), so several apps in one process (tests, mounted
apps) do not collide in prometheus-client's global one. With several worker processes each process
reports its own numbers; Prometheus' multiprocess mode is not wired in yet.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left
from collections.abc import Iterable
from time import perf_counter
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datatier.client import Client
from datatier.drivers import StatementEvent

__all__ = ["CONTENT_TYPE", "Metrics", "MetricsMiddleware", "metrics_for", "metrics_routes"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_UNMATCHED = "<unmatched>"


class _PoolCollector(Collector):
    """The client's pool at scrape time: connections in use, idle, and callers waiting."""

    def __init__(self, client: Client) -> None:
        self._client = weakref.ref(client)

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "datatier_db_pool_connections",
            "Connections of the database pool by state (in_use, idle, waiting callers, size)",
            labels=["state"],
        )
        pool = _pool_of(self._client())
        if pool is not None:
            idle = len(pool._idle)
            family.add_metric(["in_use"], pool.in_use)
            family.add_metric(["idle"], idle)
            family.add_metric(["waiting"], len(pool._waiters))
            family.add_metric(["size"], pool.size)
        yield family


class _CacheCollector(Collector):
    """The client's cache metrics (hits, misses, lag, ...) at scrape time, when it has a cache."""

    def __init__(self, client: Client) -> None:
        self._client = weakref.ref(client)

    def collect(self) -> Iterable[Metric]:
        cache = getattr(self._client(), "cache", None)
        if cache is not None:
            yield from cache.collect()


def _pool_of(client: Client | None) -> Any:
    # The pool is the driver's own; it exists only once the client has connected. Reading its
    # counters here avoids a public pool API that nothing else needs yet.
    driver = getattr(client, "_driver", None)
    return getattr(driver, "_pool", None)


class _Stats(Collector):
    """HTTP and SQL counts kept as plain ints and lists, turned into metric families only
    when scraped.

    prometheus-client's ``labels()`` lookup and per-sample locks cost about as much as a
    whole cached request; everything here is updated from the event loop's one thread, so
    plain dict and list updates are safe and a few times cheaper.
    """

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        # (method, route) -> [count per bucket..., +Inf bucket, sum of seconds]
        self.latency: dict[tuple[str, str], list[float]] = {}
        self.in_flight = 0
        self.statements = [0, 0]  # ok, error
        self.statement_latency = [0.0] * (len(_BUCKETS) + 2)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        buckets = self.latency.get((method, route))
        if buckets is None:
            buckets = self.latency[(method, route)] = [0.0] * (len(_BUCKETS) + 2)
        buckets[bisect_left(_BUCKETS, seconds)] += 1
        buckets[-1] += seconds

    def observe_statement(self, event: StatementEvent) -> None:
        self.statements[0 if event.error is None else 1] += 1
        buckets = self.statement_latency
        buckets[bisect_left(_BUCKETS, event.duration_s)] += 1
        buckets[-1] += event.duration_s

    def collect(self) -> Iterable[Metric]:
        requests = CounterMetricFamily(
            "datatier_http_requests",
            "HTTP requests answered, by method, route template and status",
            labels=["method", "route", "status"],
        )
        for (method, route, status), count in list(self.requests.items()):
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "datatier_http_request_duration_seconds",
            "Time from request to the end of the response, by method and route template",
            labels=["method", "route"],
        )
        for (method, route), buckets in list(self.latency.items()):
            latency.add_metric([method, route], _cumulative(buckets), buckets[-1])
        yield latency
        yield GaugeMetricFamily(
            "datatier_http_requests_in_flight", "Requests being answered now", self.in_flight
        )
        statements = CounterMetricFamily(
            "datatier_sql_statements",
            "SQL statements run, by outcome (ok or error)",
            labels=["outcome"],
        )
        statements.add_metric(["ok"], self.statements[0])
        statements.add_metric(["error"], self.statements[1])
        yield statements
        duration = HistogramMetricFamily(
            "datatier_sql_statement_duration_seconds", "Time the database took per statement"
        )
        buckets = self.statement_latency
        duration.add_metric([], _cumulative(buckets), buckets[-1])
        yield duration


def _cumulative(buckets: list[float]) -> list[tuple[str, float]]:
    """Per-bucket counts as Prometheus' cumulative ``le`` buckets (``+Inf`` last)."""
    total = 0.0
    out: list[tuple[str, float]] = []
    for bound, count in zip((*_BUCKETS, float("inf")), buckets, strict=False):
        total += count
        out.append(("+Inf" if bound == float("inf") else repr(bound), total))
    return out


class Metrics:
    """The metrics of one app; ``observe_statement`` is the client's statement listener."""

    def __init__(self, client: Client | None = None) -> None:
        self.registry = CollectorRegistry()
        self.stats = _Stats()
        self.registry.register(self.stats)
        self.observe_statement = self.stats.observe_statement
        if client is not None:
            self.registry.register(_PoolCollector(client))
            self.registry.register(_CacheCollector(client))
            client.on_statement(self.observe_statement)

    def render(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


_BY_CLIENT: weakref.WeakKeyDictionary[Client, Metrics] = weakref.WeakKeyDictionary()


def metrics_for(client: Client) -> Metrics:
    """The one ``Metrics`` of ``client`` (made, and subscribed to its statements, on first use)."""
    metrics = _BY_CLIENT.get(client)
    if metrics is None:
        metrics = _BY_CLIENT[client] = Metrics(client)
    return metrics


def metrics_routes(client: Client) -> list[Route]:
    """``GET /metrics``: the client's metrics in Prometheus' text format."""
    metrics = metrics_for(client)

    async def endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return [Route("/metrics", endpoint, methods=["GET"], include_in_schema=False)]


class MetricsMiddleware:
    """ASGI middleware counting every HTTP request by method, route template and status.

    The route is the matched route's path template (``/rest/{model}/{id}``), never the raw path,
    so ids do not explode the number of series; requests no route matched count as
    ``<unmatched>``.
    """

    def __init__(
        self, app: ASGIApp, client: Client | None = None, metrics: Metrics | None = None
    ) -> None:
        if metrics is None:
            if client is None:
                raise TypeError("MetricsMiddleware needs a client or a Metrics")
            metrics = metrics_for(client)
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = perf_counter()

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        stats = self.metrics.stats
        stats.in_flight += 1
        try:
            await self.app(scope, receive, record_status)
        finally:
            stats.in_flight -= 1
            route = scope.get("route")
            template = getattr(route, "path", None) or _UNMATCHED
            stats.observe_request(scope["method"], template, status, perf_counter() - started)
