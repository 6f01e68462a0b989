"""Role rules reach relations: a role that may not read a model cannot include, select,
count, filter or order by it through another model, and a nested write needs the kind of
access it uses on each model it touches (REST, RPC, $batch and GraphQL alike, 403
problem+json naming the place in the document, before any SQL); and ``field=null`` in REST
query parameters."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio

from datatier import Client
from datatier.api import ApiSettings, AuthSettings, Identity, create_app
from datatier.api._access import authorize_document
from datatier.errors import Forbidden
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.harness.statements import StatementCounter
from tests.test_api_rest import SCHEMA, seed

SECRET = "r" * 32
PROBLEM = "application/problem+json"
RULES: dict[str, dict[str, str | list[str]]] = {
    "reader": {"post": "read", "user": "read"},
    "writer": {"post": ["read", "create", "update"], "user": ["read", "update"], "tag": "read"},
    # may link posts to users only where the post rows change (it has no update on Post)
    "poster": {"post": ["read", "create"], "user": ["read", "update"]},
    "browser": {"*": "read", "post": "create"},
    "admin": {"*": "*"},
}


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


def assert_forbidden(response: httpx.Response, path: list[Any], model: str = "Comment") -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "forbidden" and body["path"] == path
    assert model in body["detail"]


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


# -- the document walk: which place in a document each rule refuses ---------------------------

POST = {"title": "t", "content": "c", "author": {"connect": {"email": "ann@example.com"}}}

# (role, model, operation, document, the refused path or None when allowed)
DOCUMENTS: list[tuple[str, str, str, dict[str, Any], list[Any] | None]] = [
    ("reader", "Post", "findMany", {"where": {"author": {"email": {"startsWith": "a"}}}}, None),
    ("reader", "Post", "findMany", {"where": {"author": None}}, None),
    ("reader", "Post", "findMany", {"where": {"comments": {"some": {}}}}, ["where", "comments"]),
    (
        "reader",
        "Post",
        "findMany",
        {"where": {"author": {"is": {"comments": {"none": {}}}}}},
        ["where", "author", "is", "comments"],
    ),
    (
        "reader",
        "Post",
        "findMany",
        {"where": {"author": {"comments": {"every": {"content": {"equals": "x"}}}}}},
        ["where", "author", "comments"],
    ),
    (
        "reader",
        "Post",
        "count",
        {"where": {"AND": [{"views": {"gt": 1}}, {"OR": [{"NOT": {"category": None}}]}]}},
        ["where", "AND", 1, "OR", 0, "NOT", "category"],
    ),
    (
        "reader",
        "User",
        "findFirst",
        {"where": {"posts": {"some": {"author": {"isNot": {"profile": {"is": {}}}}}}}},
        ["where", "posts", "some", "author", "isNot", "profile"],
    ),
    (
        "reader",
        "Post",
        "groupBy",
        {"by": ["status"], "where": {"NOT": [{"comments": {"none": {}}}]}},
        ["where", "NOT", 0, "comments"],
    ),
    (
        "reader",
        "Post",
        "findMany",
        {"orderBy": [{"views": "desc"}, {"author": {"name": "asc"}}]},
        None,
    ),
    (
        "reader",
        "Post",
        "findMany",
        {"orderBy": [{"views": "desc"}, {"category": {"name": "asc"}}]},
        ["orderBy", 1, "category"],
    ),
    (
        "reader",
        "Post",
        "findMany",
        {"orderBy": {"author": {"profile": {"bio": "asc"}}}},
        ["orderBy", "author", "profile"],
    ),
    ("reader", "User", "findMany", {"orderBy": {"posts": {"_count": "desc"}}}, None),
    (
        "reader",
        "User",
        "findMany",
        {"orderBy": {"comments": {"_count": "desc"}}},
        ["orderBy", "comments"],
    ),
    (
        "reader",
        "Post",
        "findMany",
        {"cursor": {"id": 1, "category": {"is": {}}}},
        ["cursor", "category"],
    ),
    (
        "reader",
        "User",
        "findMany",
        {"include": {"posts": {"where": {"comments": {"some": {}}}}}},
        ["include", "posts", "where", "comments"],
    ),
    (
        "reader",
        "User",
        "findMany",
        {"include": {"posts": {"orderBy": {"category": {"slug": "asc"}}}}},
        ["include", "posts", "orderBy", "category"],
    ),
    (
        "reader",
        "User",
        "findMany",
        {"select": {"_count": {"select": {"posts": {"where": {"category": {"is": None}}}}}}},
        ["select", "_count", "posts", "where", "category"],
    ),
    # nested writes
    ("writer", "Post", "create", {"data": {**POST, "tags": {"connect": [{"slug": "t"}]}}}, None),
    (
        "writer",
        "Post",
        "create",
        {"data": {**POST, "tags": {"create": [{"name": "n", "slug": "n"}]}}},
        ["data", "tags", "create"],
    ),
    (
        "writer",
        "Post",
        "create",
        {
            "data": {
                **POST,
                "comments": {"createMany": {"data": [{"content": "x", "authorId": "a"}]}},
            }
        },
        ["data", "comments", "createMany"],
    ),
    (
        "writer",
        "Post",
        "create",
        {"data": {**POST, "category": {"connectOrCreate": {"where": {"slug": "s"}}}}},
        ["data", "category", "connectOrCreate"],
    ),
    ("writer", "User", "update", {"data": {"posts": {"connect": [{"id": 1}], "set": []}}}, None),
    ("writer", "User", "update", {"data": {"posts": {"upsert": [{"where": {"id": 1}}]}}}, None),
    (
        "writer",
        "User",
        "update",
        {"data": {"comments": {"disconnect": [{"id": 1}]}}},
        ["data", "comments", "disconnect"],
    ),
    (
        "writer",
        "User",
        "update",
        {"data": {"posts": {"deleteMany": {"views": {"lt": 5}}}}},
        ["data", "posts", "deleteMany"],
    ),
    (
        "writer",
        "User",
        "update",
        {"data": {"posts": {"updateMany": {"where": {"comments": {"some": {}}}, "data": {}}}}},
        ["data", "posts", "updateMany", "where", "comments"],
    ),
    (
        "writer",
        "User",
        "update",
        {
            "data": {
                "posts": {
                    "update": [
                        {"where": {"id": 1}, "data": {"title": "x"}},
                        {"where": {"id": 2}, "data": {"category": {"connect": {"slug": "s"}}}},
                    ]
                }
            }
        },
        ["data", "posts", "update", 1, "data", "category", "connect"],
    ),
    (
        "writer",
        "User",
        "update",
        {"data": {"profile": {"upsert": {"create": {"bio": "x"}, "update": {"bio": "x"}}}}},
        ["data", "profile", "upsert"],
    ),
    ("writer", "Post", "update", {"data": {"author": {"update": {"name": "A"}}}}, None),
    (
        "writer",
        "Post",
        "update",
        {"data": {"author": {"update": {"comments": {"delete": {"id": 1}}}}}},
        ["data", "author", "update", "comments", "delete"],
    ),
    (
        "writer",
        "Post",
        "update",
        {"data": {"category": {"disconnect": True}}},
        ["data", "category", "disconnect"],
    ),
    (
        "writer",
        "Post",
        "upsert",
        {
            "where": {"id": 1},
            "create": POST,
            "update": {"author": {"connectOrCreate": {"where": {"email": "x"}}}},
        },
        ["update", "author", "connectOrCreate"],
    ),
    # connect needs update where the connected rows hold the foreign key
    ("poster", "Post", "create", {"data": POST}, None),
    (
        "poster",
        "User",
        "update",
        {"data": {"posts": {"connect": {"id": 1}}}},
        ["data", "posts", "connect"],
    ),
    # a `*` read rule lets every filter through, but not the writes it does not name
    ("browser", "Post", "findMany", {"where": {"comments": {"some": {}}}}, None),
    (
        "browser",
        "Post",
        "create",
        {"data": {**POST, "comments": {"create": {"content": "x"}}}},
        ["data", "comments", "create"],
    ),
    (
        "admin",
        "User",
        "update",
        {"data": {"profile": {"upsert": {}}, "comments": {"set": []}}},
        None,
    ),
]


@pytest.mark.parametrize(("role", "model", "operation", "document", "refused"), DOCUMENTS)
def test_documents_reach_related_models(
    role: str, model: str, operation: str, document: dict[str, Any], refused: list[Any] | None
) -> None:
    info = Client(SCHEMA, "file:unused.db").engine.info
    auth = AuthSettings(jwt_secret=SECRET, rules=RULES)
    identity = Identity("7", role)
    if refused is None:
        authorize_document(identity, info, model, operation, document, auth)
        return
    with pytest.raises(Forbidden) as caught:
        authorize_document(identity, info, model, operation, document, auth)
    assert list(caught.value.path) == refused  # type: ignore[attr-defined]
    assert caught.value.role == role


def test_a_refusal_says_which_kind_is_missing() -> None:
    info = Client(SCHEMA, "file:unused.db").engine.info
    auth = AuthSettings(jwt_secret=SECRET, rules=RULES)
    with pytest.raises(Forbidden, match=r"may not update Post, which `data.posts.connect`"):
        authorize_document(
            Identity("7", "poster"),
            info,
            "User",
            "update",
            {"data": {"posts": {"connect": {}}}},
            auth,
        )
    with pytest.raises(Forbidden, match=r"may not delete Comment") as caught:
        authorize_document(
            Identity("7", "writer"),
            info,
            "Post",
            "update",
            {"data": {"comments": {"deleteMany": {}}}},
            auth,
        )
    assert caught.value.model == "Comment" and caught.value.operation == "delete"
    with pytest.raises(Forbidden, match="role None"):
        authorize_document(None, info, "Post", "findMany", {"where": {"author": None}}, auth)


# -- through every transport, on SQLite and PostgreSQL -------------------------------------


async def graphql_code(http: httpx.AsyncClient, query: str, role: str) -> str | None:
    """The first error's code of a GraphQL request (None when it had no errors)."""
    response = await http.post("/graphql", json={"query": query}, headers=bearer(role))
    assert response.status_code == 200, response.text
    errors = response.json().get("errors")
    return errors[0]["extensions"]["code"] if errors else None


async def test_relation_filters_need_read_on_the_related_model(db: Client) -> None:
    reader = bearer("reader")
    through_comments = {"comments": {"some": {"content": {"startsWith": "c2"}}}}
    async with http_for(db) as http:
        assert_forbidden(
            await http.get(
                "/rest/post", params={"where": json.dumps(through_comments)}, headers=reader
            ),
            ["where", "comments"],
        )
        assert_forbidden(
            await http.post(
                "/rpc/user/findMany",
                json={"where": {"OR": [{"posts": {"some": through_comments}}]}},
                headers=reader,
            ),
            ["where", "OR", 0, "posts", "some", "comments"],
        )
        assert_forbidden(
            await http.post(
                "/rpc/user/findMany",
                json={"orderBy": {"comments": {"_count": "desc"}}},
                headers=reader,
            ),
            ["orderBy", "comments"],
        )
        assert_forbidden(
            await http.get(
                "/rest/user",
                params={"include": json.dumps({"posts": {"where": {"category": {"is": None}}}})},
                headers=reader,
            ),
            ["include", "posts", "where", "category"],
            "Category",
        )
        for query in (
            '{ posts(where: {comments: {some: {content: {startsWith: "c2"}}}}) { id } }',
            "{ users { posts(orderBy: {comments: {_count: desc}}) { id } } }",
            "{ users { _count { posts(where: {category: {is: null}}) } } }",
        ):
            assert await graphql_code(http, query, "reader") == "forbidden", query
            # the repeated query runs from the endpoint's cache of compiled documents: the
            # pipeline still checks each caller's role
            assert await graphql_code(http, query, "admin") is None, query
            assert await graphql_code(http, query, "reader") == "forbidden", query
        # a filter through a model the role may read runs, and filters
        allowed = await http.get(
            "/rest/post",
            params={"where": json.dumps({"author": {"email": {"startsWith": "a"}}})},
            headers=reader,
        )
        assert allowed.status_code == 200, allowed.text
        assert sorted(p["title"] for p in allowed.json()["data"]) == ["Hello SQL", "Second post"]
        admin = await http.post(
            "/rpc/post/findMany",
            json={"where": through_comments, "select": {"title": True}},
            headers=bearer("admin"),
        )
        assert admin.json() == {"data": [{"title": "Bob writes"}]}


async def test_nested_writes_need_their_kinds_and_write_nothing_when_refused(db: Client) -> None:
    writer = bearer("writer")
    before = (await db.post.count(), await db.comment.count(), await db.tag.count())
    comment = {"content": "x", "author": {"connect": {"email": "bob@example.com"}}}
    async with http_for(db) as http:
        assert_forbidden(
            await http.post(
                "/rest/post", json={**POST, "comments": {"create": [comment]}}, headers=writer
            ),
            ["data", "comments", "create"],
        )
        post = await db.post.find_first_or_raise(where={"title": "Bob writes"})
        assert_forbidden(
            await http.post(
                "/rpc/post/update",
                json={"where": {"id": post["id"]}, "data": {"comments": {"deleteMany": {}}}},
                headers=writer,
            ),
            ["data", "comments", "deleteMany"],
        )
        batch = await http.post(
            "/rpc/$batch",
            json={
                "transaction": True,
                "calls": [
                    {"model": "post", "operation": "create", "args": {"data": POST}},
                    {
                        "model": "post",
                        "operation": "create",
                        "args": {"data": {**POST, "tags": {"create": {"name": "n", "slug": "n"}}}},
                    },
                ],
            },
            headers=writer,
        )
        assert_forbidden(batch, ["calls", 1, "data", "tags", "create"], "Tag")
        loose = await http.post(
            "/rpc/$batch",
            json={
                "calls": [
                    {
                        "model": "user",
                        "operation": "update",
                        "args": {
                            "where": {"email": "ann@example.com"},
                            "data": {"profile": {"create": {"bio": "b"}}},
                        },
                    }
                ]
            },
            headers=writer,
        )
        assert loose.json()["errors"][0]["code"] == "forbidden"
        assert loose.json()["errors"][0]["path"] == ["calls", 0, "data", "profile", "create"]
        mutation = (
            'mutation { createPost(data: {title: "t", content: "c", '
            'author: {connect: {email: "ann@example.com"}}, '
            'comments: {create: [{content: "x", author: {connect: {email: "bob@example.com"}}}]}}) '
            "{ id } }"
        )
        assert await graphql_code(http, mutation, "writer") == "forbidden"
        assert (await db.post.count(), await db.comment.count(), await db.tag.count()) == before

        # what the rules allow goes through, on every transport
        created = await http.post("/rest/post", json=POST, headers=writer)
        assert created.status_code == 201, created.text
        moved = await http.post(
            "/rpc/user/update",
            json={
                "where": {"email": "bob@example.com"},
                "data": {"posts": {"connect": [{"id": created.json()["id"]}]}},
                "select": {"posts": {"select": {"title": True}, "orderBy": {"title": "asc"}}},
            },
            headers=writer,
        )
        assert moved.status_code == 200, moved.text
        assert [p["title"] for p in moved.json()["data"]["posts"]] == [
            "Another sql note",
            "Bob writes",
            "t",
        ]
        assert_forbidden(
            await http.post(
                "/rpc/user/update",
                json={
                    "where": {"email": "ann@example.com"},
                    "data": {"posts": {"connect": [{"id": created.json()["id"]}]}},
                },
                headers=bearer("poster"),
            ),
            ["data", "posts", "connect"],
            "update Post",
        )
        renamed = (
            f"mutation {{ updatePost(where: {{id: {created.json()['id']}}}, "
            'data: {author: {update: {name: "Bobby"}}}) { author { name } } }'
        )
        assert await graphql_code(http, renamed, "writer") is None
    assert (await db.user.find_unique_or_raise(where={"email": "bob@example.com"}))[
        "name"
    ] == "Bobby"


async def test_refused_documents_run_no_sql(
    tmp_path: Path, server_statements: Callable[[str], StatementCounter]
) -> None:
    url = f"file:{tmp_path / 'access.db'}"
    push(Client(SCHEMA, url).schema, url)
    counter = server_statements(url)
    async with Client(SCHEMA, url) as db:
        await seed(db)
        async with http_for(db) as http:
            await http.get("/rest/post", headers=bearer("reader"))  # warm up
            counter.reset()
            assert_forbidden(
                await http.post(
                    "/rpc/post/findMany",
                    json={"where": {"comments": {"none": {}}}},
                    headers=bearer("reader"),
                ),
                ["where", "comments"],
            )
            assert_forbidden(
                await http.post(
                    "/rest/post",
                    json={**POST, "comments": {"create": {"content": "x", "authorId": "a"}}},
                    headers=bearer("writer"),
                ),
                ["data", "comments", "create"],
            )
            query = "{ posts(where: {comments: {some: {}}}) { id } }"
            assert await graphql_code(http, query, "reader") == "forbidden"
            assert counter.statements() == []
