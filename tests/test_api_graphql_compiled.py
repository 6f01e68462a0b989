"""Repeated GraphQL queries run from the compiled-query cache: the same answers as the first
run, variables part of the key, and the role rules still checked on every run."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from functools import partial

import httpx
import jwt
import orjson
import pytest_asyncio

from datatier import Client
from datatier.api import ApiSettings, AuthSettings, create_app
from datatier.api._graphql_settings import GraphqlSettings
from datatier.migrate._push import push
from datatier.query._compile import JsonText
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


async def test_limits_still_hold_for_a_cached_query(db: Client) -> None:
    """A query that ran (and so is cached) with small variables is refused, before any SQL,
    with variables that put it over a limit."""
    settings = ApiSettings(graphql=GraphqlSettings(max_complexity=50))
    transport = httpx.ASGITransport(app=create_app(db, settings))
    query = "query($n: Int) { posts(take: $n) { id comments(take: 10) { id } } }"
    statements: list[str] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        for _ in range(2):
            small = await http.post("/graphql", json={"query": query, "variables": {"n": 2}})
            assert "errors" not in small.json() and len(small.json()["data"]["posts"]) == 2
        db.on_statement(lambda event: statements.append(event.sql))
        big = await http.post("/graphql", json={"query": query, "variables": {"n": 40}})
        assert big.json()["errors"][0]["extensions"]["code"] == "limit_exceeded"
        assert statements == []


async def test_nested_records_reshaped_from_database_json(db: Client) -> None:
    """Relations come back as the database's JSON text; where the response needs another
    shape (an alias, __typename inside the relation) it is rebuilt."""
    transport = httpx.ASGITransport(app=create_app(db, ApiSettings()))
    plain = "{ users(orderBy: {email: asc}) { email posts(orderBy: {id: asc}) { id title } } }"
    shaped = (
        "{ users(orderBy: {email: asc}) { email posts(orderBy: {id: asc})"
        " { key: id title __typename } } }"
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        got_plain = (await http.post("/graphql", json={"query": plain})).json()["data"]["users"]
        got_shaped = (await http.post("/graphql", json={"query": shaped})).json()["data"]["users"]
    users = await db.user.find_many(
        order_by={"email": "asc"}, include={"posts": {"orderBy": {"id": "asc"}}}
    )
    assert got_plain == [
        {"email": u["email"], "posts": [{"id": p["id"], "title": p["title"]} for p in u["posts"]]}
        for u in users
    ]
    assert any(u["posts"] for u in got_shaped)
    for user, got in zip(users, got_shaped, strict=True):
        assert got["posts"] == [
            {"key": p["id"], "title": p["title"], "__typename": "Post"} for p in user["posts"]
        ]
    # the API reads them as wire rows: the relation is the database's text, unparsed
    document = {"orderBy": {"email": "asc"}, "select": {"posts": {"select": {"id": True}}}}
    wire = await db.read(partial(db.engine.find_many, wire=True), "User", document)
    assert all(isinstance(row["posts"], JsonText) for row in wire)
    assert [orjson.loads(row["posts"].text) for row in wire] == [
        row["posts"] for row in await db.user.find_many(**document)
    ]
