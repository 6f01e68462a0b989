"""The API's cache hooks: ``X-Cache`` from the per-request status list, the identity handed to
the cache, ``X-Datatier-Change-Seq`` on reads, the cache's metrics on ``/metrics``; and none of
it when the client has no cache.

The cache itself is built elsewhere; here a small stand-in with the same surface
(``versions.applied``, ``collect()``) and a statement listener that reports through the same
ContextVars the cache uses stand for it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import httpx
import jwt
import pytest_asyncio
from prometheus_client.core import CounterMetricFamily, Metric

from datatier import Client
from datatier.api import ApiSettings, AuthSettings, create_app
from datatier.api._cachehooks import identity_text, x_cache
from datatier.cache._context import cache_identity, cache_status
from datatier.drivers import StatementEvent
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.test_api_rest import SCHEMA, seed


@dataclass
class Versions:
    applied: int = 0


@dataclass
class StandInCache:
    versions: Versions = field(default_factory=Versions)
    outcome: str = "MISS"
    identities: list[str] = field(default_factory=list)

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily("datatier_cache_hits", "stand-in", labels=["tier"])
        family.add_metric(["memory"], 7)
        yield family

    def observe(self, event: StatementEvent) -> None:
        # runs inside the request's context, as the cache's read path does
        status = cache_status.get()
        if status is not None:
            status.append(self.outcome)
            self.identities.append(cache_identity.get())


@pytest_asyncio.fixture
async def db(sql_backend: Backend) -> AsyncIterator[Client]:
    client = Client(SCHEMA, sql_backend.url)
    push(client.schema, sql_backend.url)
    async with client:
        await seed(client)
        yield client


def http_for(db: Client, settings: ApiSettings | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(db, settings))
    return httpx.AsyncClient(transport=transport, base_url="http://api")


def test_x_cache_value() -> None:
    assert x_cache([]) is None
    assert x_cache(["HIT", "HIT"]) == "HIT"
    assert x_cache(["HIT", "MISS", "STALE"]) == "MISS"
    assert x_cache(["HIT", "STALE"]) == "STALE"


async def test_no_cache_no_headers(db: Client) -> None:
    async with http_for(db) as http:
        response = await http.get("/rest/user")
    assert response.status_code == 200
    assert "x-cache" not in response.headers
    assert "x-datatier-change-seq" not in response.headers
    assert cache_status.get() is None


async def test_headers_and_metrics_with_a_cache(db: Client) -> None:
    cache = StandInCache(versions=Versions(applied=41))
    db.cache = cache  # type: ignore[attr-defined]
    db.on_statement(cache.observe)
    async with http_for(db) as http:
        listed = await http.get("/rest/user")
        assert listed.headers["x-cache"] == "MISS"
        assert listed.headers["x-datatier-change-seq"] == "41"
        cache.outcome = "HIT"
        cache.versions.applied = 42
        one = await http.get("/rpc/user/findMany", params={"q": "{}"})
        assert one.headers["x-cache"] == "HIT"
        assert one.headers["x-datatier-change-seq"] == "42"
        cache.outcome = "STALE"
        graph = await http.post("/graphql", json={"query": "{ users { id } }"})
        assert graph.headers["x-cache"] == "STALE"
        # a write: no seq header (the request's own write came after the seq was read)
        created = await http.post("/rest/tag", json={"name": "t", "slug": "t"})
        assert created.status_code == 201
        assert "x-datatier-change-seq" not in created.headers
        # no cached read at all: no X-Cache, still the seq
        health = await http.get("/healthz")
        assert "x-cache" not in health.headers
        assert health.headers["x-datatier-change-seq"] == "42"
        metrics = await http.get("/metrics")
    assert 'datatier_cache_hits_total{tier="memory"} 7.0' in metrics.text
    assert set(cache.identities) == {""}  # auth off: anonymous
    assert cache_status.get() is None  # reset after each request


async def test_identity_reaches_the_cache(db: Client) -> None:
    cache = StandInCache()
    db.cache = cache  # type: ignore[attr-defined]
    db.on_statement(cache.observe)
    auth = AuthSettings(
        jwt_secret="s" * 32,
        rules={"reader": {"*": ["read"]}},
        anonymous_role="reader",
    )
    claims = {"sub": "u7", "role": "reader", "exp": int(time.time()) + 600}
    token = jwt.encode(claims, "s" * 32, algorithm="HS256")
    async with http_for(db, ApiSettings(auth=auth)) as http:
        signed = await http.get("/rest/user", headers={"Authorization": f"Bearer {token}"})
        anonymous = await http.get("/rest/user")
    assert signed.status_code == anonymous.status_code == 200
    assert cache.identities[0] == "reader:u7"
    assert cache.identities[-1] == ""


def test_identity_text() -> None:
    from datatier.api import Identity

    assert identity_text(None) == ""
    assert identity_text(Identity(None, "guest", {}, "anonymous")) == ""
    assert identity_text(Identity("9", "admin", {}, "api_key")) == "admin:9"
