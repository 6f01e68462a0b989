"""Repeated GraphQL queries run from the compiled-query cache: the same answers as the first
run, variables part of the key, and the role rules still checked on every run."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest_asyncio

from datatier import Client
from datatier.api import ApiSettings, AuthSettings, create_app
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.test_api_rest import SCHEMA, seed

SECRET = "g" * 32
QUERY = """query Posts($take: Int, $withTitle: Boolean!) {
  posts(take: $take, orderBy: {id: asc}) { id title @include(if: $withTitle) author { email } }
}"""


@pytest_asyncio.fixture
async def db(sql_backend: Backend) -> AsyncIterator[Client]:
    client = Client(SCHEMA, sql_backend.url)
    push(client.schema, sql_backend.url)
    async with client:
        await seed(client)
        yield client


def bearer(role: str) -> dict[str, str]:
    claims = {"sub": "1", "role": role, "exp": int(time.time()) + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


async def test_repeated_queries(db: Client) -> None:
    rules = {"reader": {"*": "read"}, "postsOnly": {"post": "read"}}
    settings = ApiSettings(auth=AuthSettings(jwt_secret=SECRET, rules=rules))
    transport = httpx.ASGITransport(app=create_app(db, settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:

        async def ask(role: str, **variables: object) -> httpx.Response:
            body = {"query": QUERY, "variables": variables}
            return await http.post("/graphql", json=body, headers=bearer(role))

        first = (await ask("reader", take=2, withTitle=True)).json()
        assert first["data"]["posts"][0].keys() == {"id", "title", "author"}
        for _ in range(2):
            assert (await ask("reader", take=2, withTitle=True)).json() == first
        other = (await ask("reader", take=3, withTitle=False)).json()["data"]["posts"]
        assert len(other) == 3 and other[0].keys() == {"id", "author"}
        # the same query, cached, for a role that may not read User: still refused
        refused = (await ask("postsOnly", take=2, withTitle=True)).json()
        assert refused["data"] is None or refused["data"]["posts"] is None
        assert refused["errors"][0]["extensions"]["code"] == "forbidden"
        # and data changes show: the cache holds documents, not answers
        await db.post.update(where={"id": first["data"]["posts"][0]["id"]}, data={"title": "New"})
        again = (await ask("reader", take=2, withTitle=True)).json()
        assert again["data"]["posts"][0]["title"] == "New"
