"""The hand-written peer: Starlette routes over an asyncpg pool, the best Python can do by hand.

Reads are one statement each and PostgreSQL builds the JSON (``json_agg``), so the
text goes to the socket without being decoded in Python; writes are plain SQL in a
transaction. Run as ``python -m bench.http.starlette_app --port P --url URL``
(uvicorn with uvloop and httptools, one process).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bench.http.contract import MAX_TAKE, NESTED_POSTS, NESTED_USERS, POST_FIELDS
from bench.http.serve import pool_size, serve

_COLUMNS = ", ".join(f'p."{name}"' for name in POST_FIELDS)
BY_ID = f'SELECT row_to_json(p) FROM (SELECT {_COLUMNS} FROM "Post" AS p WHERE p."id" = $1) AS p'
LATEST = f"""
SELECT coalesce(json_agg(p ORDER BY p."createdAt" DESC), '[]'::json)
FROM (SELECT {_COLUMNS} FROM "Post" AS p ORDER BY p."createdAt" DESC LIMIT $1) AS p
"""
PAGE = f"""
SELECT coalesce(json_agg(p ORDER BY p."createdAt" DESC), '[]'::json)
FROM (
    SELECT {_COLUMNS} FROM "Post" AS p
    WHERE p."status" = $1::"PostStatus" AND p."categoryId" = $2
      AND p."createdAt" < (SELECT c."createdAt" FROM "Post" AS c WHERE c."id" = $3)
    ORDER BY p."createdAt" DESC
    LIMIT $4
) AS p
"""
PAGE_FIRST = PAGE.replace(
    'AND p."createdAt" < (SELECT c."createdAt" FROM "Post" AS c WHERE c."id" = $3)',
    "AND $3::int IS NULL",
)
NESTED = f"""
SELECT coalesce(json_agg(json_build_object('id', u."id", 'email', u."email", 'posts', p.posts)
                         ORDER BY u."email"), '[]'::json)
FROM (SELECT "id", "email" FROM "users" ORDER BY "email" LIMIT {NESTED_USERS}) AS u
CROSS JOIN LATERAL (
    SELECT coalesce(json_agg(json_build_object('id', p."id", 'title', p."title",
                                               '_count', json_build_object('comments', p.comments))
                             ORDER BY p."createdAt" DESC), '[]'::json) AS posts
    FROM (
        SELECT p."id", p."title", p."createdAt",
               (SELECT count(*) FROM "Comment" AS c WHERE c."postId" = p."id") AS comments
        FROM "Post" AS p
        WHERE p."authorId" = u."id"
        ORDER BY p."createdAt" DESC
        LIMIT {NESTED_POSTS}
    ) AS p
) AS p
"""
CREATE_POST = """
INSERT INTO "Post" ("authorId", "title", "content", "updatedAt")
VALUES ($1, $2, $3, CURRENT_TIMESTAMP) RETURNING "id"
"""
LINK_TAGS = 'INSERT INTO "_PostToTag" ("A", "B") SELECT $1, unnest($2::int[])'
ADD_COMMENTS = """
INSERT INTO "Comment" ("postId", "authorId", "content")
SELECT $1, a, c FROM unnest($2::text[], $3::text[]) AS t(a, c)
"""
UPDATE = """
UPDATE "Post" SET "title" = $2, "updatedAt" = CURRENT_TIMESTAMP WHERE "id" = $1
RETURNING "id", "title"
"""
UPSERT = """
INSERT INTO "Category" ("slug", "name") VALUES ($1, $2)
ON CONFLICT ("slug") DO UPDATE SET "name" = excluded."name"
RETURNING "id", "slug", "name"
"""
INCREMENT = 'UPDATE "Post" SET "views" = "views" + 1 WHERE "id" = $1 RETURNING "id", "views"'

NOT_FOUND = Response(b'{"error":"not found"}', 404, media_type="application/json")


class JSONText(Response):
    """A response whose body PostgreSQL already wrote as JSON text."""

    media_type = "application/json"


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def post_by_id(request: Request) -> Response:
    text = await _pool(request).fetchval(BY_ID, int(request.path_params["id"]))
    return NOT_FOUND if text is None else JSONText(text)


async def latest(request: Request) -> Response:
    take = min(int(request.query_params.get("take", "50")), MAX_TAKE)
    return JSONText(await _pool(request).fetchval(LATEST, take))


async def page(request: Request) -> Response:
    q = request.query_params
    cursor = q.get("cursor")
    sql = PAGE if cursor is not None else PAGE_FIRST
    args = (q["status"], int(q["categoryId"]), None if cursor is None else int(cursor))
    take = min(int(q.get("take", "20")), MAX_TAKE)
    return JSONText(await _pool(request).fetchval(sql, *args, take))


async def nested(request: Request) -> Response:
    return JSONText(await _pool(request).fetchval(NESTED))


async def create_post(request: Request) -> Response:
    body = orjson.loads(await request.body())
    async with _pool(request).acquire() as conn, conn.transaction():
        post_id = await conn.fetchval(CREATE_POST, body["authorId"], body["title"], body["content"])
        await conn.execute(LINK_TAGS, post_id, body["tagIds"])
        comments = body["comments"]
        await conn.execute(
            ADD_COMMENTS,
            post_id,
            [c["authorId"] for c in comments],
            [c["content"] for c in comments],
        )
    return ORJSONResponse({"id": post_id}, 201)


async def update_post(request: Request) -> Response:
    body = orjson.loads(await request.body())
    row = await _pool(request).fetchrow(UPDATE, int(request.path_params["id"]), body["title"])
    return NOT_FOUND if row is None else ORJSONResponse(dict(row))


async def upsert_category(request: Request) -> Response:
    body = orjson.loads(await request.body())
    row = await _pool(request).fetchrow(UPSERT, request.path_params["slug"], body["name"])
    assert row is not None  # INSERT ... ON CONFLICT DO UPDATE always returns its row
    return ORJSONResponse(dict(row))


async def increment_views(request: Request) -> Response:
    row = await _pool(request).fetchrow(INCREMENT, int(request.path_params["id"]))
    return NOT_FOUND if row is None else ORJSONResponse(dict(row))


async def _keep_session(conn: asyncpg.Connection) -> None:
    """No reset query on release: these handlers never change session state (saves a round trip)."""


def make_app(url: str, size: int) -> Starlette:
    """The app; its pool opens at start-up and closes at shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            url, min_size=size, max_size=size, reset=_keep_session
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    routes = [
        Route("/healthz", healthz),
        Route("/posts/page", page),
        Route("/posts/{id:int}", post_by_id),
        Route("/posts/{id:int}", update_post, methods=["PATCH"]),
        Route("/posts", latest),
        Route("/posts", create_post, methods=["POST"]),
        Route("/users/nested", nested),
        Route("/categories/{slug}", upsert_category, methods=["PUT"]),
        Route("/posts/{id:int}/views", increment_views, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


if __name__ == "__main__":
    serve(lambda url: make_app(url, pool_size()))
