"""JSON reads (``datatier.query._json_read``) against the usual read, on PostgreSQL: for every
demo model, with includes, selects, counts, pages and cursors, the text PostgreSQL writes
is byte for byte what the API's encoder writes for the decoded records; values it cannot
write the same way fall back to the usual read; REST answers the same bytes either way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from datatier import Client
from datatier.api import ApiSettings, _pipeline, create_app
from datatier.api._json import dumps
from datatier.migrate._push import push
from datatier.query._json_read import JsonReads, json_reads
from datatier.schema import load_schema
from tests.harness.golden import REPO
from tests.test_api_rest import seed

SCHEMA = REPO / "datatier" / "demo" / "schema.prisma"
# Text that JSON escapes: quotes, backslash, control characters, non-ASCII, U+2028.
AWKWARD = 'q"uote \\ back\tslash\nline\r\x01\x08\x0c\x1f\x7f é 字 🙂 \u2028 </script>'

TYPES_SCHEMA = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

enum Mood {
  HAPPY @map("happy")
  SAD
}

enum Size {
  S
  L
}

model Thing {
  id     Int       @id @default(autoincrement())
  big    BigInt?
  flag   Boolean?
  raw    Bytes?
  at     DateTime?
  atz    DateTime? @db.Timestamptz(6)
  day    DateTime? @db.Date
  price  Decimal?
  ratio  Float?
  doc    Json?
  mood   Mood?
  size   Size?
  tags   String[]
  nums   Int[]
  moods  Mood[]
  sizes  Size[]
  uid    String?   @db.Uuid
  parts  Part[]
}

model Part {
  id      Int    @id @default(autoincrement())
  thingId Int
  thing   Thing  @relation(fields: [thingId], references: [id])
  name    String
}
"""
# Fields PostgreSQL writes as the API does, and those read the usual way.
WRITTEN = {
    *("id", "big", "flag", "raw", "at", "atz", "price", "mood", "size", "tags", "nums", "sizes"),
    "uid",
}
FALLBACK = {"day", "ratio", "doc", "moods"}
# str(Decimal) turns scientific below 10^-6; every digit of the scale is kept
PRICES = ["0.0000001", "-0.00000012300", "0.000001", "0", "0E-9", "-12.50", "1E+3", "NaN"]


async def both(db: Client, model: str, document: dict[str, Any]) -> tuple[bytes, bytes | None]:
    """(the usual read encoded by the API, the JSON read's text or None when it has none)."""
    usual = dumps(await db.read(db.engine.find_many, model, document))
    reads = json_reads(db.engine)
    assert isinstance(reads, JsonReads)
    prepared = reads.prepare(model, document)
    if prepared is None:
        return usual, None
    statement, params = prepared
    rows = await db.read(lambda conn, _m, _d: statement.fetch(conn, params), model, document)
    return usual, b"[" + ",".join(rows.texts).encode() + b"]"


@pytest_asyncio.fixture
async def demo(pg_url: str) -> AsyncIterator[Client]:
    client = Client(SCHEMA, pg_url)
    push(client.schema, pg_url)
    async with client:
        await seed(client)
        users = await client.user.find_many()
        await client.user.update(where={"id": users[2]["id"]}, data={"name": AWKWARD})
        post = await client.post.find_first(order_by={"id": "asc"})
        assert post is not None
        # whole seconds (no fraction in the text) and milliseconds
        await client.post.update(
            where={"id": post["id"]},
            data={"publishedAt": "2024-02-29T23:59:59Z", "content": AWKWARD},
        )
        await client.post.update(
            where={"id": post["id"] + 1}, data={"publishedAt": "1999-12-31T00:00:00.007Z"}
        )
        await client.userProfile.create(
            data={"user": {"connect": {"id": users[0]["id"]}}, "bio": AWKWARD}
        )
        parent = await client.category.create(data={"name": AWKWARD, "slug": "root"})
        await client.category.create(
            data={"name": "child", "slug": "child", "parent": {"connect": {"id": parent["id"]}}}
        )
        await client.tag.create(
            data={"name": "sql", "slug": "sql", "posts": {"connect": [{"id": post["id"]}]}}
        )
        yield client


def documents(db: Client, model: str) -> list[dict[str, Any]]:
    """Reads of ``model``: plain, every relation included (nested once more), a select of
    some scalars with relations and counts, pages backwards, filters inside includes."""
    info = db.engine.info.model(model)
    relations = info.relations
    nested = {
        name: (
            {"include": {n: True for n in db.engine.info.model(link.target).relations}}
            if not link.is_list
            else {
                "include": {n: True for n in db.engine.info.model(link.target).relations},
                "take": 2,
                "orderBy": {db.engine.info.model(link.target).key_fields[0]: "desc"},
            }
        )
        for name, link in relations.items()
    }
    scalars = list(info.scalars)
    to_many = [name for name, link in relations.items() if link.is_list]
    return [
        {},
        {"include": {name: True for name in relations}},
        {"include": nested, "orderBy": {scalars[-1]: "desc"}},
        {
            "select": {
                **{name: True for name in scalars[::2]},
                **{name: True for name in relations},
                "_count": True,
            }
        },
        {"include": {"_count": {"select": {name: True for name in to_many}}}},
        {"take": -2, "orderBy": {info.key_fields[0]: "asc"}, "skip": 1},
        {"select": {info.key_fields[0]: True}, "where": {info.key_fields[0]: {"not": None}}},
    ]


@pytest.mark.parametrize(
    "model", ["User", "UserProfile", "UserSession", "Category", "Tag", "Post", "Comment"]
)
async def test_demo_models_read_the_same_bytes(demo: Client, model: str) -> None:
    for document in documents(demo, model):
        usual, written = await both(demo, model, document)
        shape, _ = demo.engine.planner.read(model, document)
        if selects_json(shape):
            assert written is None, document  # UserProfile.preferences: Json
        else:
            assert written == usual, document


def selects_json(shape: Any) -> bool:
    """Whether a read shape selects the demo's one Json field, at any depth."""
    return any(
        item == ("s", "preferences") or (item[0] == "r" and selects_json(item[2]))
        for item in shape[3]
    )


async def test_posts_with_filtered_paged_includes(demo: Client) -> None:
    post = await demo.post.find_first(order_by={"id": "asc"})
    assert post is not None
    cases: list[dict[str, Any]] = [
        {
            "where": {"title": {"contains": "o", "mode": "insensitive"}},
            "orderBy": [{"views": "desc"}],
            "include": {
                "comments": {"where": {"content": {"startsWith": "c"}}, "take": -1},
                "author": {"select": {"email": True, "_count": True}},
                "tags": {"select": {"name": True}},
                "category": True,
            },
        },
        {"cursor": {"id": post["id"] + 1}, "take": 2, "orderBy": {"publishedAt": "desc"}},
        {"cursor": {"id": post["id"]}, "skip": 1, "orderBy": {"createdAt": "desc"}},
        {
            "include": {
                "comments": {"distinct": ["authorId"], "orderBy": {"id": "desc"}},
                "author": {"include": {"posts": {"select": {"title": True}}}},
            }
        },
        {"where": {"id": -1}},
    ]
    for document in cases:
        usual, written = await both(demo, "Post", document)
        assert written == usual, document


async def test_unique_read_and_top_level_distinct(demo: Client) -> None:
    reads = json_reads(demo.engine)
    assert reads is not None
    # a top-level distinct is read the usual way
    assert reads.prepare("Post", {"distinct": ["authorId"]}) is None
    post = await demo.post.find_first(order_by={"id": "asc"}, include={"author": True})
    assert post is not None
    prepared = reads.prepare(
        "Post", {"where": {"id": post["id"]}, "include": {"author": True}}, unique=True
    )
    assert prepared is not None
    statement, params = prepared
    rows = await demo.read(lambda conn, _m, _d: statement.fetch(conn, params), "Post", {})
    assert reads.one(rows, "Post").encode() == dumps(post)
    assert rows.key(0) == {"id": post["id"]}
    missing = reads.prepare("Post", {"where": {"id": -5}}, unique=True)
    assert missing is not None
    statement, params = missing
    empty = await demo.read(lambda conn, _m, _d: statement.fetch(conn, params), "Post", {})
    with pytest.raises(Exception, match="no `Post` record matches the query"):
        reads.one(empty, "Post")


@pytest_asyncio.fixture
async def types(pg_url: str, tmp_path: Any) -> AsyncIterator[Client]:
    path = tmp_path / "schema.prisma"
    path.write_text(TYPES_SCHEMA)
    client = Client(load_schema(path), pg_url)
    push(client.schema, pg_url)
    async with client:
        await client.thing.create(data={})  # every optional value NULL, lists empty
        for index, (moment, raw) in enumerate(
            [
                ("2024-01-02T03:04:05Z", b""),
                ("0999-06-30T12:00:00.001Z", bytes(range(256)) * 3),  # base64 past 76 chars
                ("2262-04-11T23:47:16.854Z", b"\x00\xff"),
            ]
        ):
            thing = await client.thing.create(
                data={
                    "big": -(2**63),
                    "flag": False,
                    "raw": raw,
                    "at": moment,
                    "atz": moment,
                    "day": moment,
                    "price": PRICES[index],
                    "ratio": 100.0,
                    "doc": {"b": [1, 2.5, None], "a": AWKWARD},
                    "mood": "HAPPY",
                    "size": "L",
                    "tags": [AWKWARD, ""],
                    "nums": [2**31 - 1, -1],
                    "moods": ["HAPPY", "SAD"],
                    "sizes": ["S"],
                    "uid": "0b8e4c7a-1b2c-4d5e-8f90-a1b2c3d4e5f6",
                }
            )
            await client.part.create(data={"thingId": thing["id"], "name": AWKWARD})
        for price in PRICES[3:]:
            await client.execute_raw(
                'INSERT INTO "Thing" ("price") VALUES ($1::text::numeric)',
                price.replace("E+3", "000"),
            )
        # microseconds that are not whole milliseconds, written around the client
        await client.execute_raw(
            """UPDATE "Thing" SET "atz" = '2024-05-06 07:08:09.123456+02' WHERE "id" = 2"""
        )
        yield client


async def test_each_type_is_written_alike_or_read_the_usual_way(types: Client) -> None:
    info = types.engine.info.model("Thing")
    assert set(info.scalars) == WRITTEN | FALLBACK
    for name in info.scalars:
        document = {"select": {name: True}, "orderBy": {"id": "asc"}}
        usual, written = await both(types, "Thing", document)
        if name in FALLBACK:
            assert written is None, name
        else:
            assert written == usual, name
    document = {
        "select": {name: True for name in WRITTEN}
        | {"parts": {"include": {"thing": {"select": {"at": True, "raw": True}}}}},
        "orderBy": {"id": "desc"},
    }
    usual, written = await both(types, "Thing", document)
    assert written == usual
    # a fallback field anywhere in the tree, even nested, reads the whole tree the usual way
    assert (await both(types, "Part", {"include": {"thing": True}}))[1] is None


# -- REST -----------------------------------------------------------------------------------


async def rest_bytes(db: Client, paths: list[str]) -> list[tuple[int, bytes, str]]:
    """(status, body, Link and ETag headers) of GETs through the app."""
    app = create_app(db, ApiSettings(etag=True))
    answers = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as http:
        for path in paths:
            response = await http.get(path)
            headers = f"{response.headers.get('link')} {response.headers.get('etag')}"
            answers.append((response.status_code, response.content, headers))
    return answers


async def test_rest_answers_the_same_bytes_without_json_reads(
    demo: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = await demo.post.find_first(order_by={"id": "asc"})
    assert post is not None
    paths = [
        "/rest/post?take=2&orderBy=-createdAt",
        "/rest/post?take=2&orderBy=-createdAt&count=true&include=author,comments.author",
        f"/rest/post?take=1&cursor={post['id']}&select=title,tags",
        "/rest/user?take=2&orderBy=email&include=profile",
        "/rest/post?take=0",
        "/rest/post?take=50&status=PUBLISHED",
        f"/rest/post/{post['id']}",
        f"/rest/post/{post['id']}?include=comments,author&select=title",
        f"/rest/post/{post['id']}?select=id,content",
        "/rest/post/999999",
    ]
    written = await rest_bytes(demo, paths)
    monkeypatch.setattr(_pipeline, "json_reads", lambda engine: None)
    usual = await rest_bytes(demo, paths)
    assert written == usual
    assert written[0][2].startswith("<http://api/rest/post?take=2&orderBy=-createdAt&cursor=")
    assert written[9][0] == 404
