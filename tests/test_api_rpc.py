"""RPC (``/rpc/{model}/{operation}`` and ``/rpc/$batch``) over the demo schema on SQLite and
PostgreSQL: every operation answers what the Python client answers for the same document."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from datatier import Client
from tests.test_api_rest import assert_problem, db, http_for, same

__all__ = ["db"]  # the fixture, shared with the REST tests


@pytest_asyncio.fixture
async def http(db: Client) -> AsyncIterator[httpx.AsyncClient]:
    async with http_for(db) as client:
        yield client


READS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("post", "findMany", "find_many", {"where": {"views": {"gt": 5}}, "orderBy": {"id": "asc"}}),
    (
        "post",
        "findMany",
        "find_many",
        {"include": {"author": True, "_count": {"select": {"comments": True}}}, "take": 2},
    ),
    ("user", "findUnique", "find_unique", {"where": {"email": "ann@example.com"}}),
    ("user", "findUnique", "find_unique", {"where": {"email": "nobody@example.com"}}),
    ("user", "findUniqueOrThrow", "find_unique_or_raise", {"where": {"email": "bob@example.com"}}),
    ("post", "findFirst", "find_first", {"orderBy": {"views": "desc"}, "select": {"title": True}}),
    ("post", "findFirstOrThrow", "find_first_or_raise", {"where": {"status": "DRAFT"}}),
    ("post", "count", "count", {"where": {"status": "PUBLISHED"}}),
    ("post", "aggregate", "aggregate", {"_sum": {"views": True}, "_max": {"views": True}}),
    (
        "post",
        "groupBy",
        "group_by",
        {"by": ["status"], "_count": {"_all": True}, "orderBy": {"status": "asc"}},
    ),
]


@pytest.mark.parametrize(("model", "operation", "method", "args"), READS)
async def test_reads_match_client(
    db: Client,
    http: httpx.AsyncClient,
    model: str,
    operation: str,
    method: str,
    args: dict[str, Any],
) -> None:
    client_args = {("order_by" if k == "orderBy" else k): v for k, v in args.items()}
    expected = await getattr(getattr(db, model), method)(**client_args)
    by_post = await http.post(f"/rpc/{model}/{operation}", json=args)
    assert by_post.status_code == 200, by_post.text
    assert by_post.json() == {"data": same(expected)}
    by_get = await http.get(f"/rpc/{model}/{operation}", params={"q": json.dumps(args)})
    assert by_get.json() == by_post.json()


async def test_writes_match_client(db: Client, http: httpx.AsyncClient) -> None:
    async def rpc(model: str, operation: str, args: dict[str, Any]) -> Any:
        response = await http.post(f"/rpc/{model}/{operation}", json=args)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    created = await rpc(
        "user",
        "create",
        {
            "data": {
                "email": "dee@example.com",
                "posts": {"create": {"title": "D", "content": "d"}},
            },
            "include": {"posts": True},
        },
    )
    assert created == same(
        await db.user.find_unique(where={"id": created["id"]}, include={"posts": True})
    )
    assert (
        await rpc(
            "tag", "createMany", {"data": [{"name": "a", "slug": "a"}, {"name": "b", "slug": "b"}]}
        )
        == 2
    )
    updated = await rpc("post", "update", {"where": {"id": 1}, "data": {"views": {"increment": 1}}})
    assert updated["views"] == 11
    assert (
        await rpc("post", "updateMany", {"where": {"views": {"lt": 5}}, "data": {"views": 5}}) == 2
    )
    upserted = await rpc(
        "tag",
        "upsert",
        {"where": {"slug": "c"}, "create": {"name": "c", "slug": "c"}, "update": {}},
    )
    assert upserted == same(await db.tag.find_unique(where={"slug": "c"}))
    deleted = await rpc("tag", "delete", {"where": {"slug": "c"}})
    assert deleted["slug"] == "c" and await db.tag.find_unique(where={"slug": "c"}) is None
    assert await rpc("tag", "deleteMany", {"where": {"slug": {"in": ["a", "b"]}}}) == 2


async def test_writes_only_by_post(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/rpc/tag/create", params={"q": '{"data": {"name": "x", "slug": "x"}}'}
    )
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"
    assert (await http.post("/rpc/tag/count")).json() == {"data": 0}  # no body: no arguments


async def test_rpc_errors(db: Client, http: httpx.AsyncClient) -> None:
    assert_problem(await http.post("/rpc/post/findEverything", json={}), 404, "unknown_operation")
    assert_problem(await http.post("/rpc/nothing/findMany", json={}), 404, "unknown_model")
    assert_problem(
        await http.post("/rpc/user/findUniqueOrThrow", json={"where": {"email": "no@x"}}),
        404,
        "not_found",
    )
    body = assert_problem(
        await http.post("/rpc/post/findMany", json={"where": {"colour": "red"}}),
        400,
        "validation_error",
    )
    assert body["path"][:2] == ["where", "colour"]
    assert_problem(await http.get("/rpc/post/findMany?q=[1"), 400, "invalid_json", ["q"])
    assert_problem(await http.post("/rpc/post/findMany", json=[1]), 400, "validation_error")
    assert_problem(
        await http.post("/rpc/user/create", json={"data": {"email": "ann@example.com"}}),
        409,
        "unique_violation",
    )
    assert_problem(
        await http.post(
            "/rpc/post/findMany",
            json={
                "include": {
                    "comments": {
                        "include": {
                            "post": {
                                "include": {
                                    "comments": {
                                        "include": {
                                            "post": {
                                                "include": {"author": {"include": {"posts": True}}}
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        ),
        400,
        "limit_exceeded",
    )


async def test_batch_in_a_transaction(db: Client, http: httpx.AsyncClient) -> None:
    calls = [
        {"model": "tag", "operation": "create", "args": {"data": {"name": "t1", "slug": "t1"}}},
        {"model": "tag", "operation": "count", "args": {}},
        {"model": "post", "operation": "findFirst", "args": {"where": {"title": "Hello SQL"}}},
    ]
    response = await http.post("/rpc/$batch", json={"transaction": True, "calls": calls})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data[0]["slug"] == "t1" and data[1] == 1 and data[2]["title"] == "Hello SQL"

    # all or nothing: the second call fails, so the first is rolled back
    failing = [
        {"model": "tag", "operation": "create", "args": {"data": {"name": "t2", "slug": "t2"}}},
        {"model": "tag", "operation": "create", "args": {"data": {"name": "t1", "slug": "t1"}}},
    ]
    body = assert_problem(
        await http.post("/rpc/$batch", json={"transaction": True, "calls": failing}),
        409,
        "unique_violation",
    )
    assert body["path"][:2] == ["calls", 1] and body["prisma_code"] == "P2002"
    assert await db.tag.find_unique(where={"slug": "t2"}) is None


async def test_batch_without_transaction(db: Client, http: httpx.AsyncClient) -> None:
    calls = [
        {"model": "tag", "operation": "create", "args": {"data": {"name": "t3", "slug": "t3"}}},
        {"model": "tag", "operation": "create", "args": {"data": {"name": "t3", "slug": "t3"}}},
        {"model": "tag", "operation": "count"},
    ]
    response = await http.post("/rpc/$batch", json={"calls": calls})
    body = response.json()
    assert response.status_code == 200
    assert body["data"][0]["slug"] == "t3" and body["data"][1] is None and body["data"][2] == 1
    assert [(e["index"], e["code"], e["path"][:2]) for e in body["errors"]] == [
        (1, "unique_violation", ["calls", 1])
    ]


async def test_batch_errors(http: httpx.AsyncClient) -> None:
    assert_problem(await http.post("/rpc/$batch", json={"calls": "x"}), 400, "validation_error")
    assert_problem(
        await http.post("/rpc/$batch", json={"calls": [{"model": "nope", "operation": "count"}]}),
        404,
        "unknown_model",
        ["calls", 0, "nope"],
    )
    assert_problem(
        await http.post(
            "/rpc/$batch", json={"calls": [{"model": "tag", "operation": "count", "args": []}]}
        ),
        400,
        "validation_error",
        ["calls", 0, "args"],
    )
    too_many = [{"model": "tag", "operation": "count"}] * 101
    assert_problem(await http.post("/rpc/$batch", json={"calls": too_many}), 400, "limit_exceeded")
    assert_problem(
        await http.post("/rpc/$batch", json={"transaction": "yes", "calls": []}),
        400,
        "validation_error",
        ["transaction"],
    )


async def test_aggregate_shapes_checked_before_sql(db: Client, http: httpx.AsyncClient) -> None:
    """Shapes found by fuzzing that the engine would turn into bad SQL or a crash."""
    assert (await http.post("/rpc/post/aggregate", json={})).json() == {"data": {}}
    assert (await http.post("/rpc/post/aggregate", json={"_count": False})).json() == {"data": {}}
    response = await http.post(
        "/rpc/post/aggregate", json={"_count": None, "_max": {"views": True}}
    )
    assert response.json() == {"data": same(await db.post.aggregate(_max={"views": True}))}
    assert_problem(
        await http.post("/rpc/post/aggregate", json={"_count": {}}),
        400,
        "validation_error",
        ["_count"],
    )
    assert_problem(
        await http.post("/rpc/post/aggregate", json={"_sum": {"views": False}}),
        400,
        "validation_error",
        ["_sum"],
    )
    assert_problem(
        await http.post("/rpc/post/groupBy", json={"by": [{}]}), 400, "validation_error", ["by"]
    )
    assert_problem(await http.post("/rpc/post/groupBy", json={"by": []}), 400, "validation_error")
