"""The API's cache hooks with the real cache: ``X-Cache`` from the per-request status list,
the caller's identity in the cache key, ``X-Datatier-Change-Seq`` on reads (not on writes),
the cache's metrics on ``/metrics``; and none of it when the client has no cache."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import jwt
import pytest_asyncio

from datatier import Client
from datatier.api import ApiSettings, AuthSettings, Identity, create_app
from datatier.api._cachehooks import identity_text, x_cache
from datatier.cache import cache_status
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.test_api_rest import SCHEMA, seed

SECRET = "s" * 32


@pytest_asyncio.fixture
async def db(sql_backend: Backend) -> AsyncIterator[Client]:
    client = Client(SCHEMA, sql_backend.url)
    push(client.schema, sql_backend.url)
    async with client:
        await seed(client)
        yield client


@pytest_asyncio.fixture
async def cached(db: Client) -> AsyncIterator[Client]:
    async with Client(SCHEMA, db.url, cache=True) as client:
        yield client


def http_for(db: Client, settings: ApiSettings | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(db, settings))
    return httpx.AsyncClient(transport=transport, base_url="http://api")


def reader_auth() -> AuthSettings:
    """JWT auth whose role ``reader`` (also the anonymous role) may read every model."""
    return AuthSettings(
        jwt_secret=SECRET, rules={"reader": {"*": ["read"]}}, anonymous_role="reader"
    )


def bearer(sub: str) -> dict[str, str]:
    """The header of a ``reader`` token for subject ``sub``."""
    claims = {"sub": sub, "role": "reader", "exp": int(time.time()) + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


def test_x_cache_value() -> None:
    assert x_cache([]) is None
    assert x_cache(["HIT", "HIT"]) == "HIT"
    assert x_cache(["HIT", "MISS", "STALE"]) == "MISS"
    assert x_cache(["HIT", "STALE"]) == "STALE"


def test_identity_text() -> None:
    assert identity_text(None) == ""
    assert identity_text(Identity(None, "guest", {}, "anonymous")) == ""
    assert identity_text(Identity("9", "admin", {}, "api_key")) == "admin:9"


async def test_no_cache_no_headers(db: Client) -> None:
    async with http_for(db) as http:
        response = await http.get("/rest/user")
    assert response.status_code == 200
    assert "x-cache" not in response.headers
    assert "x-datatier-change-seq" not in response.headers
    assert cache_status.get() is None


async def test_headers_and_metrics_with_a_cache(cached: Client) -> None:
    user = await cached.user.find_first_or_raise(where={"email": "ann@example.com"}, cache=False)
    path = f"/rest/user/{quote(user['id'], safe='')}"
    async with http_for(cached) as http:
        first = await http.get(path)
        assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
        seq = int(first.headers["x-datatier-change-seq"])
        second = await http.get(path)
        assert second.headers["x-cache"] == "HIT"
        assert second.json() == first.json()
        rpc = await http.get("/rpc/user/findMany", params={"q": "{}"})
        assert rpc.headers["x-cache"] == "MISS"
        assert (await http.get("/rpc/user/findMany", params={"q": "{}"})).headers[
            "x-cache"
        ] == "HIT"
        # a write: no seq header (its own write came after the seq was read) ...
        changed = await http.patch(path, json={"name": "Ann B."})
        assert changed.status_code == 200 and "x-datatier-change-seq" not in changed.headers
        # ... and the next read is fresh, with a later seq
        after = await http.get(path)
        assert after.headers["x-cache"] == "MISS" and after.json()["name"] == "Ann B."
        assert int(after.headers["x-datatier-change-seq"]) > seq
        health = await http.get("/healthz")
        assert "x-cache" not in health.headers  # no cached read at all
        metrics = await http.get("/metrics")
    assert "datatier_cache_" in metrics.text
    assert cache_status.get() is None  # reset after each request


async def test_identities_do_not_share_entries(cached: Client) -> None:
    async with http_for(cached, ApiSettings(auth=reader_auth())) as http:
        one = await http.get("/rest/tag", headers=bearer("u1"))
        assert one.headers["x-cache"] == "MISS"
        assert (await http.get("/rest/tag", headers=bearer("u1"))).headers["x-cache"] == "HIT"
        assert (await http.get("/rest/tag", headers=bearer("u2"))).headers["x-cache"] == "MISS"
        assert (await http.get("/rest/tag")).headers["x-cache"] == "MISS"  # anonymous
