"""Role rules reach relations: a role that may not read a model cannot include, select or
count it through another model (REST, RPC and GraphQL alike, 403 problem+json naming the
relation); and ``field=null`` in REST query parameters."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest_asyncio

from datatier import Client
from datatier.api import ApiSettings, AuthSettings, create_app
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.test_api_rest import SCHEMA, seed

SECRET = "r" * 32
PROBLEM = "application/problem+json"
RULES = {"reader": {"post": "read", "user": "read"}, "admin": {"*": "*"}}


@pytest_asyncio.fixture
async def db(sql_backend: Backend) -> AsyncIterator[Client]:
    client = Client(SCHEMA, sql_backend.url)
    push(client.schema, sql_backend.url)
    async with client:
        await seed(client)
        yield client


def bearer(role: str) -> dict[str, str]:
    claims = {"sub": "7", "role": role, "exp": int(time.time()) + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


def http_for(db: Client) -> httpx.AsyncClient:
    settings = ApiSettings(auth=AuthSettings(jwt_secret=SECRET, rules=RULES))
    transport = httpx.ASGITransport(app=create_app(db, settings))
    return httpx.AsyncClient(transport=transport, base_url="http://api")


def assert_forbidden(response: httpx.Response, path: list[Any]) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "forbidden" and body["path"] == path
    assert "Comment" in body["detail"]


async def test_includes_need_read_on_their_model(db: Client) -> None:
    reader = bearer("reader")
    async with http_for(db) as http:
        ok = await http.get("/rest/post", params={"include": "author"}, headers=reader)
        assert ok.status_code == 200
        assert_forbidden(
            await http.get("/rest/post", params={"include": "comments"}, headers=reader),
            ["include", "comments"],
        )
        assert_forbidden(
            await http.get("/rest/user", params={"include": "posts.comments"}, headers=reader),
            ["include", "posts", "include", "comments"],
        )
        assert_forbidden(
            await http.get("/rest/post", params={"select": "id,comments"}, headers=reader),
            ["select", "comments"],
        )
        counted = await http.post(
            "/rpc/post/findMany",
            json={"select": {"id": True, "_count": {"select": {"comments": True}}}},
            headers=reader,
        )
        assert_forbidden(counted, ["select", "_count", "comments"])
        everything = await http.post(
            "/rpc/post/findMany", json={"include": {"_count": True}}, headers=reader
        )
        assert everything.status_code == 403
        graph = await http.post(
            "/graphql",
            json={"query": "{ posts { id comments { id } } }"},
            headers=reader,
        )
        assert graph.json()["errors"][0]["extensions"]["code"] == "forbidden"
        admin = await http.get(
            "/rest/post", params={"include": "comments"}, headers=bearer("admin")
        )
        assert admin.status_code == 200


async def test_null_in_query_parameters(db: Client) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(db)), base_url="http://api"
    ) as http:
        nameless = await http.get("/rest/user", params={"name": "null"})
        assert [u["email"] for u in nameless.json()["data"]] == ["cy@example.com"]
        named = await http.get("/rest/user", params={"name[not]": "null", "orderBy": "email"})
        assert [u["email"] for u in named.json()["data"]] == ["ann@example.com", "bob@example.com"]
        # a required field is never null: `null` is just a value there (text, or a type error)
        assert (await http.get("/rest/post", params={"title": "null"})).json()["data"] == []
        bad = await http.get("/rest/post", params={"views": "null"})
        assert bad.status_code == 400 and bad.json()["path"] == ["views"]
        # an uncategorised post: categoryId is optional
        loose = await http.get("/rest/post", params={"categoryId": "null"})
        assert len(loose.json()["data"]) == 2
