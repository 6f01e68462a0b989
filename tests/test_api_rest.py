"""REST over the demo (blog) schema, in process, on SQLite and PostgreSQL: the same rows as
the Python client, filters from query parameters, includes, cursor pages, ETags, every
error class as problem+json, and the limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
from openapi_spec_validator import validate

from datatier import Client
from datatier.api import ApiSettings, create_app
from datatier.api._json import dumps
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.harness.golden import REPO

SCHEMA = REPO / "datatier" / "demo" / "schema.prisma"
PROBLEM = "application/problem+json"


async def seed(db: Client) -> None:
    """Three users, four posts (two in a category, tags), comments: small and fixed."""
    ann = await db.user.create(data={"email": "ann@example.com", "name": "Ann", "role": "ADMIN"})
    bob = await db.user.create(data={"email": "bob@example.com", "name": "Bob"})
    await db.user.create(data={"email": "cy@example.com"})
    await db.category.create(data={"name": "News", "slug": "news"})
    for i, (author, title, views, status) in enumerate(
        [
            (ann, "Hello SQL", 10, "PUBLISHED"),
            (ann, "Second post", 25, "PUBLISHED"),
            (bob, "Bob writes", 3, "DRAFT"),
            (bob, "Another sql note", 40, "ARCHIVED"),
        ]
    ):
        await db.post.create(
            data={
                "title": title,
                "content": f"content {i}",
                "views": views,
                "status": status,
                "author": {"connect": {"id": author["id"]}},
                **({"category": {"connect": {"slug": "news"}}} if i % 2 == 0 else {}),
                "comments": {
                    "create": [
                        {"content": f"c{i}.{j}", "author": {"connect": {"id": bob["id"]}}}
                        for j in range(i)
                    ]
                },
            }
        )


@pytest_asyncio.fixture
async def db(sql_backend: Backend) -> AsyncIterator[Client]:
    client = Client(SCHEMA, sql_backend.url)
    push(client.schema, sql_backend.url)
    async with client:
        await seed(client)
        yield client


def http_for(db: Client, settings: ApiSettings | None = None) -> httpx.AsyncClient:
    app = create_app(db, settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


@pytest_asyncio.fixture
async def http(db: Client) -> AsyncIterator[httpx.AsyncClient]:
    async with http_for(db) as client:
        yield client


def same(value: Any) -> Any:
    """``value`` as it reads after a JSON round trip through the API's encoder."""
    import orjson

    return orjson.loads(dumps(value))


def assert_problem(
    response: httpx.Response, status: int, code: str, path: list[Any] | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"].endswith(code) and body["title"] and body["detail"]
    if path is not None:
        assert body.get("path") == path, body
    return body


# -- reads ------------------------------------------------------------------------------


async def test_list_matches_client(db: Client, http: httpx.AsyncClient) -> None:
    response = await http.get("/rest/post", params={"orderBy": "-views"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    expected = await db.post.find_many(order_by=[{"views": "desc"}, {"id": "asc"}])
    assert response.json() == {"data": same(expected)}
    assert len(expected) == 4
    # DateTime as ISO 8601 with Z
    assert response.json()["data"][0]["createdAt"].endswith("Z")


async def test_filters_by_parameters(db: Client, http: httpx.AsyncClient) -> None:
    async def titles(**params: str) -> list[str]:
        response = await http.get("/rest/post", params={**params, "orderBy": "title"})
        assert response.status_code == 200, response.text
        return [row["title"] for row in response.json()["data"]]

    assert await titles(status="PUBLISHED") == ["Hello SQL", "Second post"]
    assert await titles(**{"views[gte]": "10", "views[lt]": "40"}) == ["Hello SQL", "Second post"]
    assert await titles(**{"views[in]": "3,40"}) == ["Another sql note", "Bob writes"]
    assert await titles(**{"title[startsWith]": "Se"}) == ["Second post"]
    # SQLite's LIKE ignores ASCII case already; PostgreSQL needs mode=insensitive
    insensitive = {"title[mode]": "insensitive"} if db.provider == "postgresql" else {}
    assert await titles(**{"title[contains]": "sql", **insensitive}) == [
        "Another sql note",
        "Hello SQL",
    ]
    assert await titles(**{"status[not]": "DRAFT", "views[gt]": "20"}) == [
        "Another sql note",
        "Second post",
    ]
    assert await titles(where='{"author": {"email": "bob@example.com"}}') == [
        "Another sql note",
        "Bob writes",
    ]
    # where= and field parameters together: both hold
    assert await titles(where='{"author": {"email": "bob@example.com"}}', views="3") == [
        "Bob writes"
    ]
    future = "2999-01-01T00:00:00Z"
    assert len(await titles(**{"createdAt[lt]": future})) == 4
    assert await titles(**{"createdAt[gt]": future}) == []


async def test_include_select_and_count(db: Client, http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/rest/post", params={"include": "author,comments.author", "orderBy": "id"}
    )
    assert response.status_code == 200, response.text
    expected = await db.post.find_many(
        include={"author": True, "comments": {"include": {"author": True}}},
        order_by={"id": "asc"},
    )
    assert response.json()["data"] == same(expected)
    assert response.json()["data"][3]["comments"][0]["author"]["email"] == "bob@example.com"

    response = await http.get(
        "/rest/post", params={"select": "title,author", "views[gt]": "20", "count": "true"}
    )
    body = response.json()
    assert body["count"] == 2
    # the key is always selected: the next page's cursor needs it
    assert {frozenset(row) for row in body["data"]} == {frozenset({"id", "title", "author"})}

    response = await http.get(
        "/rest/user",
        params={"include": '{"posts": {"where": {"views": {"gt": 20}}, "take": 1}}'},
    )
    assert response.status_code == 200
    ann = next(u for u in response.json()["data"] if u["email"] == "ann@example.com")
    assert [p["title"] for p in ann["posts"]] == ["Second post"]


async def test_pages_with_next_cursor_and_link(db: Client, http: httpx.AsyncClient) -> None:
    seen: list[str] = []
    url = "/rest/post?take=3&orderBy=-views"
    pages = 0
    while url:
        response = await http.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        seen.extend(row["title"] for row in body["data"])
        pages += 1
        link = response.headers.get("link")
        if "nextCursor" in body:
            assert link is not None and link.endswith('>; rel="next"')
            url = link[1 : link.index(">")]
            assert "cursor=" in url and "take=3" in url
        else:
            assert link is None
            url = ""
    assert pages == 2
    expected = await db.post.find_many(order_by={"views": "desc"})
    assert seen == [row["title"] for row in expected]
    # take=4 on 4 rows: exactly one page, no cursor
    response = await http.get("/rest/post", params={"take": "4"})
    assert "nextCursor" not in response.json() and len(response.json()["data"]) == 4
    # the next link drops skip and the old cursor (however the key is written) and keeps
    # every other parameter as the client wrote it
    first = await http.get("/rest/post?take=1&orderBy=-views")
    cursor = first.json()["nextCursor"]
    where = "where=%7B%22views%22%3A%7B%22gte%22%3A0%7D%7D"
    response = await http.get(f"/rest/post?{where}&sk%69p=1&take=1&cursor={cursor}&orderBy=-views")
    link = response.headers["link"]
    after = (await http.get(f"/rest/post?take=1&orderBy=-views&skip=1&cursor={cursor}")).json()
    assert link == (
        f"<http://api/rest/post?{where}&take=1&orderBy=-views"
        f"&cursor={after['nextCursor']}>; rel=\"next\""
    )


async def test_default_and_maximum_page(db: Client) -> None:
    settings = ApiSettings(default_page=2, max_page=3, max_include_depth=1)
    async with http_for(db, settings) as http:
        response = await http.get("/rest/post")
        assert len(response.json()["data"]) == 2 and "nextCursor" in response.json()
        assert_problem(await http.get("/rest/post?take=4"), 400, "limit_exceeded", ["take"])
        # take = max_page is a full page (the look-ahead row for nextCursor is not counted)
        full = await http.get("/rest/post?take=3")
        assert full.status_code == 200 and len(full.json()["data"]) == 3
        assert_problem(
            await http.post("/rpc/post/findMany", json={"take": 4}), 400, "limit_exceeded"
        )
        # include depth: one level passes, two are refused before any SQL
        assert (await http.get("/rest/post?include=author")).status_code == 200
        body = assert_problem(
            await http.get("/rest/post?include=comments.author"), 400, "limit_exceeded"
        )
        assert body["path"] == ["include", "comments", "include", "author"]
        # RPC: the same limits
        assert_problem(
            await http.post("/rpc/post/findMany", json={"take": 5}), 400, "limit_exceeded"
        )
        response = await http.post("/rpc/post/findMany", json={})
        assert len(response.json()["data"]) == 3  # capped at max_page
    with pytest.raises(ValueError, match="default_page"):
        ApiSettings(default_page=5, max_page=2)
    with pytest.raises(ValueError, match="max_include_depth"):
        ApiSettings(max_include_depth=0)


async def test_one_record_and_composite_free_key(db: Client, http: httpx.AsyncClient) -> None:
    post = await db.post.find_first_or_raise(where={"title": "Hello SQL"}, include={"author": True})
    response = await http.get(f"/rest/post/{post['id']}?include=author")
    assert response.status_code == 200 and response.json() == same(post)
    user = post["author"]
    response = await http.get(f"/rest/user/{quote(user['id'], safe='')}")
    assert response.json()["email"] == "ann@example.com"
    assert_problem(await http.get("/rest/post/999999"), 404, "not_found")
    assert_problem(await http.get("/rest/post/abc"), 400, "validation_error", ["id"])
    assert_problem(await http.get("/rest/post/1,2"), 400, "validation_error", ["id"])


async def test_etag_and_if_none_match(http: httpx.AsyncClient) -> None:
    first = await http.get("/rest/post?orderBy=id", headers={"Accept-Encoding": "identity"})
    etag = first.headers["etag"]
    assert etag.startswith('"')  # strong; weak (W/) when the response is compressed
    again = await http.get("/rest/post?orderBy=id", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = await http.get("/rest/post?orderBy=-id", headers={"If-None-Match": etag})
    assert other.status_code == 200
    one = await http.get("/rest/post/1")
    assert (
        await http.get("/rest/post/1", headers={"If-None-Match": f"W/{one.headers['etag']}"})
    ).status_code == 304


# -- writes -----------------------------------------------------------------------------


async def test_create_with_nested_writes_update_delete(db: Client, http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/rest/user?include=posts",
        json={
            "email": "dee@example.com",
            "name": "Dee",
            "posts": {"create": [{"title": "T1", "content": "x", "views": 7}]},
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["posts"][0]["title"] == "T1"
    assert response.headers["location"] == f"/rest/user/{created['id']}"
    assert await db.user.find_unique(where={"email": "dee@example.com"}) is not None

    post_id = created["posts"][0]["id"]
    response = await http.patch(f"/rest/post/{post_id}", json={"views": {"increment": 5}})
    assert response.status_code == 200 and response.json()["views"] == 12
    stored = await db.post.find_unique_or_raise(where={"id": post_id})
    assert response.json() == same(stored)

    response = await http.put(f"/rest/post/{post_id}", json={"title": "T1 again", "content": "y"})
    assert response.json()["title"] == "T1 again"

    response = await http.delete(f"/rest/post/{post_id}")
    assert response.status_code == 200 and response.json()["id"] == post_id
    assert await db.post.find_unique(where={"id": post_id}) is None
    assert_problem(await http.delete(f"/rest/post/{post_id}"), 404, "not_found")


async def test_put_creates_when_missing(db: Client, http: httpx.AsyncClient) -> None:
    response = await http.put("/rest/category/500", json={"name": "Five", "slug": "five"})
    assert response.status_code == 200, response.text
    assert response.json() == same(await db.category.find_unique_or_raise(where={"id": 500}))


async def test_bulk_create_update_delete(db: Client, http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/rest/category", json=[{"name": f"cat{i}", "slug": f"c{i}"} for i in range(3)]
    )
    assert response.status_code == 201 and response.json() == {"count": 3}
    response = await http.patch("/rest/category?slug[in]=c0,c1", json={"name": "renamed"})
    assert response.json() == {"count": 2}
    assert await db.category.count(where={"name": "renamed"}) == 2
    # never every row by accident: a filter is required
    assert_problem(await http.delete("/rest/category"), 400, "validation_error", ["where"])
    assert_problem(await http.patch("/rest/category", json={"name": "x"}), 400, "validation_error")
    assert await db.category.count() == 4
    response = await http.delete("/rest/category", params={"where": '{"name": "renamed"}'})
    assert response.json() == {"count": 2}
    response = await http.delete("/rest/category", params={"where": "{}"})  # said on purpose
    assert response.json() == {"count": 2}
    assert await db.category.count() == 0


async def test_if_match(db: Client, http: httpx.AsyncClient) -> None:
    read = await http.get("/rest/post/1")
    etag = read.headers["etag"]
    response = await http.patch("/rest/post/1", json={"views": 99}, headers={"If-Match": etag})
    assert response.status_code == 200, response.text
    # the ETag it was read with is stale now: 412, and nothing written
    stale = await http.patch("/rest/post/1", json={"views": 1}, headers={"If-Match": etag})
    assert_problem(stale, 412, "precondition_failed")
    assert (await db.post.find_unique_or_raise(where={"id": 1}))["views"] == 99
    assert_problem(
        await http.delete("/rest/post/1", headers={"If-Match": etag}), 412, "precondition_failed"
    )
    fresh = response.headers["etag"]
    assert fresh == (await http.get("/rest/post/1")).headers["etag"]
    deleted = await http.delete("/rest/post/1", headers={"If-Match": fresh})
    assert deleted.status_code == 200


# -- errors -----------------------------------------------------------------------------


async def test_error_classes(db: Client, http: httpx.AsyncClient) -> None:
    body = assert_problem(
        await http.post("/rest/user", json={"email": "ann@example.com"}), 409, "unique_violation"
    )
    assert body["prisma_code"] == "P2002" and body["fields"] == ["email"]
    body = assert_problem(
        await http.post(
            "/rest/post",
            json={"title": "x", "content": "y", "authorId": "no-such-user"},
        ),
        409,
        "foreign_key_violation",
    )
    assert body["prisma_code"] == "P2003"
    body = assert_problem(
        await http.post("/rest/post", json={"title": 5, "content": "y"}), 400, "validation_error"
    )
    assert body["prisma_code"] == "P2009" and body["path"][0] == "data"
    assert_problem(
        await http.post(
            "/rest/user", content=b'{"email": ', headers={"content-type": "application/json"}
        ),
        400,
        "invalid_json",
        ["body"],
    )
    assert_problem(await http.get("/rest/post?where={oops"), 400, "invalid_json", ["where"])
    assert_problem(await http.get("/rest/nothing"), 404, "unknown_model", ["nothing"])
    assert_problem(await http.get("/rest/post?colour=red"), 400, "validation_error", ["colour"])
    assert_problem(await http.get("/rest/post?views=ten"), 400, "validation_error", ["views"])
    assert_problem(await http.get("/rest/post?status=GONE"), 400, "validation_error", ["status"])
    assert_problem(
        await http.get("/rest/post?views[near]=1"), 400, "validation_error", ["views[near]"]
    )
    assert_problem(
        await http.get("/rest/post?views[contains]=1"), 400, "validation_error", ["views[contains]"]
    )
    assert_problem(await http.get("/rest/post?author=x"), 400, "validation_error", ["author"])
    assert_problem(await http.get("/rest/post?orderBy=nope"), 400, "validation_error", ["orderBy"])
    assert_problem(await http.get("/rest/post?include=title"), 400, "validation_error", ["include"])
    assert_problem(await http.get("/rest/post?take=many"), 400, "validation_error", ["take"])
    assert_problem(await http.get("/rest/post?count=yes"), 400, "validation_error", ["count"])
    assert_problem(await http.get("/nowhere"), 404, "route_not_found")
    assert_problem(await http.put("/rest/post"), 405, "method_not_allowed")
    # no SQL, no stack in an error body
    for response in [await http.get("/rest/post?where={oops")]:
        assert "SELECT" not in response.text and "Traceback" not in response.text


async def test_internal_errors_hide_detail_unless_debug(sqlite_url: str) -> None:
    db = Client(SCHEMA, sqlite_url)
    for debug in (False, True):
        app = create_app(db, ApiSettings(debug=debug))
        app.state.client = None  # a broken server: every handler fails inside

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://api",
        ) as http:
            response = await http.get("/rest/post")
        body = assert_problem(response, 500, "internal_error")
        assert ("AttributeError" in body["detail"]) is debug


# -- health and OpenAPI -----------------------------------------------------------------


async def test_health(http: httpx.AsyncClient, db: Client) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}


async def test_readyz_when_database_is_gone(tmp_path: Any) -> None:
    db = Client(SCHEMA, "postgresql://postgres@127.0.0.1:1/none")
    async with http_for(db) as http:
        assert (await http.get("/healthz")).status_code == 200
        assert_problem(await http.get("/readyz"), 503, "not_ready")


async def test_openapi_document_validates(sqlite_url: str) -> None:
    # one backend is enough: the document depends on the schema only (validating takes ~5 s)
    async with http_for(Client(SCHEMA, sqlite_url)) as http:
        response = await http.get("/openapi.json")
        docs = await http.get("/docs")
    document = response.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    schemas = document["components"]["schemas"]
    assert schemas["Post"]["properties"]["views"] == {"type": "integer", "format": "int32"}
    assert schemas["Post"]["properties"]["status"] == {"$ref": "#/components/schemas/PostStatus"}
    assert schemas["PostStatus"]["enum"] == ["DRAFT", "PUBLISHED", "ARCHIVED"]
    paths = document["paths"]
    for accessor in ("user", "userProfile", "userSession", "category", "tag", "post", "comment"):
        assert set(paths[f"/rest/{accessor}"]) == {"get", "post", "patch", "delete"}
        assert {"get", "patch", "put", "delete"} <= set(paths[f"/rest/{accessor}/{{id}}"])
        assert set(paths[f"/rpc/{accessor}/findMany"]) == {"get", "post"}
        assert set(paths[f"/rpc/{accessor}/createMany"]) == {"post"}
    names = {p["name"] for p in paths["/rest/post"]["get"]["parameters"]}
    assert {"where", "orderBy", "take", "skip", "cursor", "include", "select", "count"} <= names
    assert {"title", "views", "status", "createdAt"} <= names
    assert docs.status_code == 200 and "openapi.json" in docs.text


def test_api_exports_are_complete() -> None:
    import datatier.api

    mine = {"ApiSettings", "HttpProblem", "create_app", "problem_for"}
    assert mine <= set(datatier.api.__all__)
    assert all(hasattr(datatier.api, name) for name in datatier.api.__all__)


COMPOSITE = """
datasource db {
  provider = "sqlite"
  url      = "file:./x.db"
}

model Membership {
  team   String
  userId Int
  role   String

  @@id([team, userId])
}
"""


async def test_composite_ids_and_mounting(tmp_path: Any) -> None:
    """A key of two fields, one value holding `,` and `/`; the app mounted under a prefix."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    schema = tmp_path / "schema.prisma"
    schema.write_text(COMPOSITE)
    url = f"file:{tmp_path / 'x.db'}"
    db = Client(schema, url)
    push(db.schema, url)
    outer = Starlette(routes=[Mount("/data", app=create_app(db))])
    async with (
        db,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=outer), base_url="http://x") as http,
    ):
        created = await http.post(
            "/data/rest/membership", json={"team": "a,b/c", "userId": 7, "role": "dev"}
        )
        assert created.status_code == 201, created.text
        assert created.headers["location"] == "/data/rest/membership/a%2Cb%2Fc,7"
        response = await http.get(created.headers["location"])
        assert response.status_code == 200 and response.json()["role"] == "dev"
        response = await http.patch("/data/rest/membership/a%2Cb%2Fc,7", json={"role": "lead"})
        assert response.json() == {"team": "a,b/c", "userId": 7, "role": "lead"}
        assert_problem(await http.get("/data/rest/membership/a%2Cb%2Fc"), 400, "validation_error")
        assert_problem(await http.get("/data/rest/membership/a,x"), 400, "validation_error", ["id"])
        assert_problem(await http.get("/data/rest/membership/zz,7"), 404, "not_found")
        await http.post(
            "/data/rest/membership",
            json=[{"team": "t", "userId": i, "role": "r"} for i in range(3)],
        )
        page = await http.get("/data/rest/membership", params={"take": "2", "orderBy": "team"})
        cursor = page.json()["nextCursor"]
        assert page.headers["link"].startswith("<http://x/data/rest/membership?")
        rest = await http.get(
            "/data/rest/membership", params={"take": "2", "orderBy": "team", "cursor": cursor}
        )
        keys = [(r["team"], r["userId"]) for r in page.json()["data"] + rest.json()["data"]]
        assert keys == [("a,b/c", 7), ("t", 0), ("t", 1), ("t", 2)]
        deleted = await http.delete("/data/rest/membership/t,1")
        assert deleted.status_code == 200
        assert await db.membership.count() == 3
