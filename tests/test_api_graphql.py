"""GraphQL at /graphql over the demo (blog) schema, on SQLite and PostgreSQL: the same records
as the Python client (nested relations, _count, filters), every mutation, one SQL statement
per root field (counted by the database), limits rejected before any SQL, errors with the
contract's codes, introspection off, GraphiQL, and a real server process."""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import GraphQLInputObjectType

from datatier import Client
from datatier.api import ApiSettings, create_app
from datatier.api._auth import AuthSettings
from datatier.api._graphql import build_schema
from datatier.api._graphql._names import plural, plural_field
from datatier.api._graphql_settings import GraphqlSettings
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.harness.golden import REPO
from tests.harness.statements import StatementCounter

SCHEMA = REPO / "datatier" / "demo" / "schema.prisma"
DOCS = REPO / "docs" / "graphql.md"


async def seed(db: Client) -> dict[str, Any]:
    """Three users, four posts (tags, a category), comments: small and fixed."""
    ann = await db.user.create(data={"email": "ann@example.com", "name": "Ann", "role": "ADMIN"})
    bob = await db.user.create(data={"email": "bob@example.com", "name": "Bob"})
    await db.user.create(data={"email": "cy@example.com", "profile": {"create": {"bio": "hi"}}})
    await db.category.create(data={"name": "News", "slug": "news"})
    rows = [
        (ann, "Hello SQL", 10, "PUBLISHED"),
        (ann, "Second post", 25, "PUBLISHED"),
        (bob, "Bob writes", 3, "DRAFT"),
        (bob, "Another sql note", 40, "ARCHIVED"),
    ]
    for i, (author, title, views, status) in enumerate(rows):
        await db.post.create(
            data={
                "title": title,
                "content": f"content {i}",
                "views": views,
                "status": status,
                "author": {"connect": {"id": author["id"]}},
                "tags": {"create": [{"name": f"tag{i}", "slug": f"t{i}"}]},
                **({"category": {"connect": {"slug": "news"}}} if i % 2 == 0 else {}),
                "comments": {
                    "create": [
                        {"content": f"c{i}.{j}", "author": {"connect": {"id": bob["id"]}}}
                        for j in range(i)
                    ]
                },
            }
        )
    return {"ann": ann, "bob": bob}


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


async def gql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, status: int = 200
) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def data_of(http: httpx.AsyncClient, query: str, variables: Any = None) -> dict[str, Any]:
    body = await gql(http, query, variables)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def as_json(value: Any) -> Any:
    """A client result as GraphQL returns it: DateTime as ISO-8601 UTC with milliseconds."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


# -- reads equal the Python client's -----------------------------------------------------

USERS_QUERY = """
query Users($email: String!) {
  users(where: {OR: [{email: {equals: $email}}, {posts: {some: {views: {gte: 20}}}}]},
        orderBy: [{email: asc}]) {
    id
    email
    name
    role
    createdAt
    profile { bio }
    posts(where: {title: {contains: "o"}}, orderBy: {views: desc}, take: 2) {
      title
      views
      status
      tags { slug }
      comments(orderBy: [{content: asc}]) { content author { email } }
      _count { comments }
    }
    _count { posts comments }
  }
}
"""

USERS_DOCUMENT: dict[str, Any] = {
    "where": {
        "OR": [
            {"email": {"equals": "ann@example.com"}},
            {"posts": {"some": {"views": {"gte": 20}}}},
        ]
    },
    "order_by": [{"email": "asc"}],
    "select": {
        "id": True,
        "email": True,
        "name": True,
        "role": True,
        "createdAt": True,
        "profile": {"select": {"bio": True}},
        "posts": {
            "where": {"title": {"contains": "o"}},
            "orderBy": {"views": "desc"},
            "take": 2,
            "select": {
                "title": True,
                "views": True,
                "status": True,
                "tags": {"select": {"slug": True}},
                "comments": {
                    "orderBy": [{"content": "asc"}],
                    "select": {"content": True, "author": {"select": {"email": True}}},
                },
                "_count": {"select": {"comments": True}},
            },
        },
        "_count": {"select": {"posts": True, "comments": True}},
    },
}


async def test_nested_query_equals_the_client(db: Client, http: httpx.AsyncClient) -> None:
    data = await data_of(http, USERS_QUERY, {"email": "ann@example.com"})
    expected = await db.user.find_many(**USERS_DOCUMENT)
    assert len(expected) == 2  # ann by email, bob by a post with 40 views
    assert data == {"users": as_json(expected)}
    assert data["users"][1]["posts"][0]["comments"]  # the comparison covers nested lists


async def test_unique_count_and_aggregate_equal_the_client(
    db: Client, http: httpx.AsyncClient
) -> None:
    data = await data_of(
        http,
        """{
          user(where: {email: "bob@example.com"}) { name posts(orderBy: {id: asc}) { title } }
          nobody: user(where: {email: "none@example.com"}) { id }
          usersCount(where: {name: {not: {equals: "Bob"}}})
          postsAggregate(where: {status: {in: [PUBLISHED, ARCHIVED]}}) {
            _count { _all title }
            _sum { views }
            _avg { views }
            _min { views title }
            _max { views createdAt }
          }
          posts(where: {author: {is: {name: {equals: "Ann"}}}, category: null}) { title }
        }""",
    )
    bob = await db.user.find_unique(
        where={"email": "bob@example.com"},
        select={"name": True, "posts": {"orderBy": {"id": "asc"}, "select": {"title": True}}},
    )
    assert data["user"] == bob
    assert data["nobody"] is None
    assert data["usersCount"] == await db.user.count(where={"name": {"not": {"equals": "Bob"}}})
    aggregate = await db.post.aggregate(
        where={"status": {"in": ["PUBLISHED", "ARCHIVED"]}},
        _count={"_all": True, "title": True},
        _sum={"views": True},
        _avg={"views": True},
        _min={"views": True, "title": True},
        _max={"views": True, "createdAt": True},
    )
    assert data["postsAggregate"] == as_json(aggregate)
    assert data["postsAggregate"]["_sum"] == {"views": 75}
    assert data["posts"] == [{"title": "Second post"}]


async def test_filtered_counts_and_json_filters(db: Client, http: httpx.AsyncClient) -> None:
    data = await data_of(
        http,
        """{
          users(orderBy: {email: asc}) {
            email
            _count { comments(where: {content: {startsWith: "c3"}}) posts }
          }
          userProfiles(where: {preferences: {equals: {}}}) { bio }
          none: userProfiles(where: {preferences: {equals: {theme: "dark"}}}) { bio }
        }""",
    )
    expected = await db.user.find_many(
        order_by={"email": "asc"},
        select={
            "email": True,
            "_count": {
                "select": {"comments": {"where": {"content": {"startsWith": "c3"}}}, "posts": True}
            },
        },
    )
    assert data["users"] == expected
    assert [u["_count"]["comments"] for u in data["users"]] == [0, 3, 0]
    assert data["userProfiles"] == [{"bio": "hi"}]
    assert data["none"] == []


async def test_fragments_aliases_directives_and_variables(http: httpx.AsyncClient) -> None:
    data = await data_of(
        http,
        """
        fragment PostBits on Post { title views }
        query($take: Int!, $withViews: Boolean!) {
          top: posts(orderBy: {views: desc}, take: $take) {
            ...PostBits
            heading: title
            ... on Post { author { email } }
            views @include(if: $withViews)
            author { name }
            __typename
          }
          all: postsCount
        }
        """,
        {"take": 2, "withViews": False},
    )
    assert data["all"] == 4
    assert data["top"] == [
        {
            "title": "Another sql note",
            "views": 40,
            "heading": "Another sql note",
            "author": {"email": "bob@example.com", "name": "Bob"},
            "__typename": "Post",
        },
        {
            "title": "Second post",
            "views": 25,
            "heading": "Second post",
            "author": {"email": "ann@example.com", "name": "Ann"},
            "__typename": "Post",
        },
    ]


async def test_a_relation_under_two_aliases_with_different_arguments_is_refused(
    http: httpx.AsyncClient,
) -> None:
    body = await gql(
        http,
        "{ users { a: posts(take: 1) { title } b: posts(take: 2) { title } } }",
    )
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "validation_error"
    assert "different arguments" in error["message"]
    # the same arguments under two aliases read once and answer both
    data = await data_of(
        http,
        '{ user(where: {email: "ann@example.com"}) { a: posts(take: 1) { title } '
        "b: posts(take: 1) { views } } }",
    )
    assert data["user"]["a"][0].keys() == {"title"} and data["user"]["b"][0].keys() == {"views"}


async def test_cursor_skip_distinct_and_enum_filters(db: Client, http: httpx.AsyncClient) -> None:
    first = await db.post.find_first(order_by={"id": "asc"})
    assert first is not None
    data = await data_of(
        http,
        """query($cursor: Int!) {
          page: posts(cursor: {id: $cursor}, skip: 1, take: 2, orderBy: {id: asc}) { id }
          authors: posts(distinct: [authorId], orderBy: {id: asc}) { authorId }
          drafts: posts(where: {status: {notIn: [PUBLISHED, ARCHIVED]}}) { title }
          admins: users(where: {role: {equals: ADMIN}}) { email role }
        }""",
        {"cursor": first["id"]},
    )
    expected = await db.post.find_many(
        cursor={"id": first["id"]}, skip=1, take=2, order_by={"id": "asc"}, select={"id": True}
    )
    assert data["page"] == expected and len(expected) == 2
    assert len(data["authors"]) == 2
    assert data["drafts"] == [{"title": "Bob writes"}]
    assert data["admins"] == [{"email": "ann@example.com", "role": "ADMIN"}]


# -- every mutation ------------------------------------------------------------------------


async def test_every_mutation(db: Client, http: httpx.AsyncClient) -> None:
    created = (
        await data_of(
            http,
            """mutation($data: UserCreateInput!) {
              createUser(data: $data) {
                email role
                profile { bio preferences }
                posts(orderBy: {title: asc}) {
                  title tags(orderBy: {slug: asc}) { slug } category { slug }
                }
                _count { posts }
              }
            }""",
            {
                "data": {
                    "email": "dee@example.com",
                    "role": "EDITOR",
                    "profile": {"create": {"bio": "writer", "preferences": {"theme": "dark"}}},
                    "posts": {
                        "create": [
                            {
                                "title": "A",
                                "content": "a",
                                "tags": {
                                    "connectOrCreate": [
                                        {
                                            "where": {"slug": "t0"},
                                            "create": {"name": "-", "slug": "t0"},
                                        },
                                        {
                                            "where": {"slug": "t9"},
                                            "create": {"name": "nine", "slug": "t9"},
                                        },
                                    ]
                                },
                                "category": {"connect": {"slug": "news"}},
                            },
                            {"title": "B", "content": "b"},
                        ]
                    },
                }
            },
        )
    )["createUser"]
    assert created == {
        "email": "dee@example.com",
        "role": "EDITOR",
        "profile": {"bio": "writer", "preferences": {"theme": "dark"}},
        "posts": [
            {"title": "A", "tags": [{"slug": "t0"}, {"slug": "t9"}], "category": {"slug": "news"}},
            {"title": "B", "tags": [], "category": None},
        ],
        "_count": {"posts": 2},
    }

    t0 = await db.tag.find_unique_or_raise(where={"slug": "t0"})
    assert t0["name"] == "tag0"  # connectOrCreate connected the tag that was there

    many = await data_of(
        http,
        'mutation { createManyTag(data: [{name: "x", slug: "x"}, {name: "tag0", slug: "t0"}], '
        "skipDuplicates: true) { count } }",
    )
    assert many == {"createManyTag": {"count": 1}}

    updated = await data_of(
        http,
        """mutation {
          updateUser(where: {email: "dee@example.com"},
                     data: {name: "Dee", posts: {updateMany: [{where: {title: {equals: "B"}},
                                                               data: {views: {set: 7}}}],
                                                 create: {title: "C", content: "c"}}}) {
            name posts(orderBy: {title: asc}) { title views }
          }
        }""",
    )
    assert updated["updateUser"] == {
        "name": "Dee",
        "posts": [
            {"title": "A", "views": 0},
            {"title": "B", "views": 7},
            {"title": "C", "views": 0},
        ],
    }

    bulk = await data_of(
        http,
        'mutation { updateManyPost(where: {author: {is: {email: {equals: "dee@example.com"}}}}, '
        "data: {status: PUBLISHED}) { count } }",
    )
    assert bulk == {"updateManyPost": {"count": 3}}
    assert await db.post.count(where={"status": "PUBLISHED"}) == 5

    upsert = 'mutation($name: String!) { upsertTag(where: {slug: "new"}, create: {name: $name, slug: "new"}, update: {name: $name}) { name slug } }'
    assert await data_of(http, upsert, {"name": "first"}) == {
        "upsertTag": {"name": "first", "slug": "new"}
    }
    assert await data_of(http, upsert, {"name": "second"}) == {
        "upsertTag": {"name": "second", "slug": "new"}
    }
    assert await db.tag.count(where={"slug": "new"}) == 1

    note = await db.post.find_first_or_raise(where={"title": "Another sql note"})
    deleted = await data_of(
        http,
        'mutation { deleteManyComment(where: {content: {startsWith: "c3."}}) { count } '
        "deletePost(where: {id: $id}) { title _count { comments } } }".replace(
            "$id", str(note["id"])
        ),
    )
    assert deleted == {
        "deleteManyComment": {"count": 3},
        "deletePost": {"title": "Another sql note", "_count": {"comments": 0}},
    }
    assert await db.post.find_first(where={"title": "Another sql note"}) is None

    gone = await data_of(
        http, 'mutation { deleteUser(where: {email: "cy@example.com"}) { email profile { bio } } }'
    )
    assert gone == {"deleteUser": {"email": "cy@example.com", "profile": {"bio": "hi"}}}
    assert await db.user.find_unique(where={"email": "cy@example.com"}) is None
    assert await db.userProfile.count(where={"bio": {"equals": "hi"}}) == 0  # onDelete: Cascade


async def test_nested_writes_in_updates(db: Client, http: httpx.AsyncClient) -> None:
    post = await db.post.find_first_or_raise(
        where={"title": "Bob writes"}, include={"comments": {"orderBy": {"id": "asc"}}}
    )
    first_comment = post["comments"][0]["id"]
    data = await data_of(
        http,
        """mutation($post: Int!, $comment: Int!, $bob: String!) {
          updatePost(where: {id: $post}, data: {
            title: "Bob rewrites"
            tags: {connect: [{slug: "t1"}], disconnect: [{slug: "t2"}]}
            category: {disconnect: true}
            comments: {update: [{where: {id: $comment}, data: {content: "edited"}}],
                       deleteMany: [{content: {equals: "c2.1"}}],
                       createMany: {data: [{content: "bulk", authorId: $bob}]}}
            author: {update: {name: "Robert"}}
          }) {
            title tags { slug } category { slug }
            comments(orderBy: {content: asc}) { content } author { name }
          }
        }""",
        {"post": post["id"], "comment": first_comment, "bob": post["authorId"]},
    )
    assert data["updatePost"] == {
        "title": "Bob rewrites",
        "tags": [{"slug": "t1"}],
        "category": None,
        "comments": [{"content": "bulk"}, {"content": "edited"}],
        "author": {"name": "Robert"},
    }
    upsert = """mutation($bio: String!) {
      updateUser(where: {email: "ann@example.com"},
                 data: {profile: {upsert: {create: {bio: $bio}, update: {bio: $bio}}}}) {
        profile { bio }
      }
    }"""
    assert await data_of(http, upsert, {"bio": "new"}) == {
        "updateUser": {"profile": {"bio": "new"}}
    }
    assert await data_of(http, upsert, {"bio": "changed"}) == {
        "updateUser": {"profile": {"bio": "changed"}}
    }
    assert await db.userProfile.count() == 2


async def test_numbers_take_atomic_update_operations(db: Client, http: httpx.AsyncClient) -> None:
    post = await db.post.find_first_or_raise(where={"title": "Hello SQL"})  # 10 views
    changed = await data_of(
        http,
        """mutation($id: Int!, $views: IntFieldUpdateOperationsInput) {
          a: updatePost(where: {id: $id}, data: {views: {increment: 5}}) { views }
          b: updatePost(where: {id: $id}, data: {views: {multiply: 3}}) { views }
          c: updatePost(where: {id: $id}, data: {views: {decrement: 1}}) { views }
          d: updatePost(where: {id: $id}, data: {views: {divide: 4}}) { views }
          e: updatePost(where: {id: $id}, data: {views: $views}) { views }
        }""",
        {"id": post["id"], "views": {"increment": 100}},
    )
    assert changed == {
        "a": {"views": 15},
        "b": {"views": 45},
        "c": {"views": 44},
        "d": {"views": 11},
        "e": {"views": 111},
    }
    nested = await data_of(
        http,
        """mutation {
          updateUser(where: {email: "bob@example.com"},
                     data: {posts: {updateMany: [{where: {}, data: {views: {increment: 1}}}]}}) {
            posts(orderBy: {title: asc}) { title views }
          }
          updateManyPost(where: {title: {equals: "Second post"}}, data: {views: {set: 0}}) {
            count
          }
        }""",
    )
    assert nested["updateUser"]["posts"] == [
        {"title": "Another sql note", "views": 41},
        {"title": "Bob writes", "views": 4},
    ]
    assert (await db.post.find_first_or_raise(where={"title": "Second post"}))["views"] == 0

    # a plain number is refused where an operation is expected (GraphQL has no input unions)
    body = await gql(
        http,
        f"mutation {{ updatePost(where: {{id: {post['id']}}}, data: {{views: 7}}) {{ id }} }}",
        status=400,
    )
    assert body["errors"][0]["extensions"]["code"] == "graphql_validation_failed"
    assert "IntFieldUpdateOperationsInput" in body["errors"][0]["message"]
    for operations in ("{increment: 1, decrement: 2}", "{}"):
        body = await gql(
            http,
            f"mutation {{ updatePost(where: {{id: {post['id']}}}, data: {{views: {operations}}}) "
            "{ id } }",
        )
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "validation_error", error
        assert error["extensions"]["path"] == ["data", "views"]
    assert (await db.post.find_unique_or_raise(where={"id": post["id"]}))["views"] == 111


async def test_write_errors_carry_codes_and_write_nothing(
    db: Client, http: httpx.AsyncClient
) -> None:
    body = await gql(http, 'mutation { createUser(data: {email: "ann@example.com"}) { id } }')
    (error,) = body["errors"]
    assert body["data"] is None
    assert error["path"] == ["createUser"]
    assert error["extensions"]["code"] == "unique_violation"
    assert error["extensions"]["prisma_code"] == "P2002"
    assert error["extensions"]["fields"] == ["email"]

    body = await gql(
        http, 'mutation { updateUser(where: {email: "zed@example.com"}, data: {name: "Z"}) { id } }'
    )
    assert body["errors"][0]["extensions"]["code"] == "not_found"
    assert body["errors"][0]["extensions"]["prisma_code"] == "P2025"

    before = await db.post.count()
    body = await gql(
        http,
        'mutation { createPost(data: {title: "t", content: "c", '
        'author: {connect: {email: "nobody@example.com"}}}) { id } }',
    )
    assert body["errors"][0]["extensions"]["code"] == "not_found"
    assert await db.post.count() == before


async def test_role_rules_apply_to_each_root_field(db: Client) -> None:
    auth = AuthSettings(anonymous_role="reader", rules={"reader": {"post": ["read"]}})
    async with http_for(db, ApiSettings(auth=auth)) as http:
        body = await gql(http, '{ postsCount user(where: {email: "ann@example.com"}) { name } }')
        assert body["data"] == {"postsCount": 4, "user": None}
        (error,) = body["errors"]
        assert error["path"] == ["user"]
        assert error["extensions"]["code"] == "forbidden"
        body = await gql(http, 'mutation { createTag(data: {name: "n", slug: "n"}) { id } }')
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "forbidden"
    assert await db.tag.count(where={"slug": "n"}) == 0


# -- one statement per root field ----------------------------------------------------------

DEEP = """{
  users(orderBy: {email: asc}, take: 20) {
    email
    profile { bio }
    posts(take: 10, orderBy: {createdAt: desc}) {
      title
      tags { slug }
      comments { content author { email } }
      _count { comments }
    }
    _count { posts }
  }
  postsCount(where: {tags: {some: {slug: {startsWith: "t"}}}})
  postsAggregate { _max { views } }
  user(where: {email: "ann@example.com"}) { posts { category { parent { slug } } } }
}"""


async def _one_statement_per_root_field(url: str, counter: StatementCounter) -> None:
    async with Client(SCHEMA, url) as db:
        await seed(db)
        async with http_for(db) as http:
            await data_of(http, DEEP)  # warm up: compile the shapes
            counter.reset()
            data = await data_of(http, DEEP)
            executed = counter.statements()
    assert len(data["users"]) == 3 and data["postsCount"] == 4
    assert len(executed) == 4, executed  # four root fields, four statements


async def test_sqlite_one_statement_per_root_field(
    tmp_path: Path, server_statements: Callable[[str], StatementCounter]
) -> None:
    url = f"file:{tmp_path / 'one.db'}"
    push(Client(SCHEMA, url).schema, url)
    await _one_statement_per_root_field(url, server_statements(url))


async def test_postgres_one_statement_per_root_field(
    counted_pg_url: str, server_statements: Callable[[str], StatementCounter]
) -> None:
    push(Client(SCHEMA, counted_pg_url).schema, counted_pg_url)
    await _one_statement_per_root_field(counted_pg_url, server_statements(counted_pg_url))


# -- limits: rejected before any SQL -------------------------------------------------------

TIGHT = ApiSettings(
    graphql=GraphqlSettings(
        max_depth=4,
        max_aliases=2,
        max_root_fields=3,
        max_batch=2,
        max_complexity=500,
        max_fields=12,
    )
)
# fragments that double at every level: 2**30 fields once spread, if anything spread them all
EXPONENTIAL = "\n".join(
    [
        "fragment F0 on User { email }",
        *(f"fragment F{i} on User {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 31)),
        "{ users(take: 1) { ...F30 } }",
    ]
)
OVER_LIMITS = [
    ("depth", "{ users(take: 1) { posts(take: 1) { author { posts(take: 1) { title } } } } }"),
    ("aliases", "{ a: usersCount b: usersCount c: usersCount }"),
    ("root_fields", "{ usersCount postsCount tagsCount commentsCount }"),
    ("complexity", "{ users(take: 10) { posts(take: 100) { title } } }"),
    ("complexity", "query($n: Int) { users(take: $n) { email } }"),
    (
        "root_fields",
        "fragment F on Query { usersCount postsCount } { ...F ...F tagsCount commentsCount }",
    ),
    ("fields", "{ users(take: 1) { " + "id " * 13 + "} }"),
    ("fields", EXPONENTIAL),
    (
        "fields",
        "fragment A on User { ...B email } fragment B on User { ...A id } "
        "{ users(take: 1) { ...A " + "name " * 12 + "} }",
    ),
]


@pytest.mark.parametrize(("limit", "query"), OVER_LIMITS)
async def test_limits_reject_before_any_sql(
    limit: str,
    query: str,
    tmp_path: Path,
    server_statements: Callable[[str], StatementCounter],
) -> None:
    url = f"file:{tmp_path / 'limits.db'}"
    push(Client(SCHEMA, url).schema, url)
    counter = server_statements(url)
    async with Client(SCHEMA, url) as db, http_for(db, TIGHT) as http:
        await db.user.count()  # the pool is open: any statement from here on is counted
        counter.reset()
        body = await gql(http, query, {"n": 501}, status=400)
        assert counter.count() == 0, counter.statements()
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "limit_exceeded"
        assert error["extensions"]["limit"] == limit
        assert "data" not in body
        # under the limit, the same kind of request runs
        assert await data_of(http, "{ users(take: 2) { email } }") == {"users": []}
        assert counter.count() == 1


async def test_batches_run_in_order_and_are_limited(http: httpx.AsyncClient, db: Client) -> None:
    response = await http.post(
        "/graphql",
        json=[{"query": "{ usersCount }"}, {"query": "{ tagsCount }"}],
    )
    assert response.status_code == 200
    assert response.json() == [{"data": {"usersCount": 3}}, {"data": {"tagsCount": 4}}]
    async with http_for(db, TIGHT) as tight:
        response = await tight.post("/graphql", json=[{"query": "{ usersCount }"}] * 3)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["limit"] == "batch"


async def test_page_size_over_the_maximum_is_refused(http: httpx.AsyncClient) -> None:
    body = await gql(http, "{ users(take: 5000) { email } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "limit_exceeded"
    body = await gql(http, "{ users(take: 1) { posts(take: 1001) { title } } }")
    assert body["errors"][0]["extensions"]["code"] == "limit_exceeded"
    assert body["errors"][0]["path"] == ["users"]


# -- bad requests --------------------------------------------------------------------------


async def test_bad_queries_get_errors_with_codes(db: Client, http: httpx.AsyncClient) -> None:
    cases = [
        ("{ users { ", 400, "graphql_parse_failed"),
        ("{ users { password } }", 400, "graphql_validation_failed"),
        ("{ user { id } }", 400, "graphql_validation_failed"),  # where is required
        ('{ posts(where: {views: {gt: "many"}}) { id } }', 400, "graphql_validation_failed"),
        (
            '{ posts(where: {createdAt: {gt: "yesterday"}}) { id } }',
            400,
            "graphql_validation_failed",
        ),
        ("query Q { usersCount } query R { postsCount }", 400, "bad_request"),
        (
            "fragment A on User { ...B } fragment B on User { ...A } { users(take: 1) { ...A } }",
            400,
            "graphql_validation_failed",
        ),
        ('{ users(take: 1) { posts(take: "x") { id } } }', 400, "graphql_validation_failed"),
    ]
    for query, status, code in cases:
        body = await gql(http, query, status=status)
        assert body["errors"][0]["extensions"]["code"] == code, (query, body)
        assert body["errors"][0]["message"]
    body = await gql(http, "query($t: Int) { users(take: $t) { id } }", {"t": "x"})
    assert body["errors"][0]["extensions"]["code"] == "validation_error"
    assert "$t" in body["errors"][0]["message"]
    body = await gql(
        http,
        '{ users(where: {email: {mode: insensitive, equals: "ANN@example.com"}}) { name } }',
        status=400 if db.provider == "sqlite" else 200,
    )
    if db.provider == "sqlite":  # as in Prisma's schema for SQLite, StringFilter has no `mode`
        assert body["errors"][0]["extensions"]["code"] == "graphql_validation_failed"
        assert "mode" in body["errors"][0]["message"]
    else:
        assert body == {"data": {"users": [{"name": "Ann"}]}}
    body = await gql(http, "{ usersCount user(where: {}) { id } }")  # the engine's own check
    assert body["data"] == {"usersCount": 3, "user": None}
    assert body["errors"][0]["path"] == ["user"]
    assert body["errors"][0]["extensions"]["code"] == "validation_error"
    assert body["errors"][0]["extensions"]["prisma_code"] == "P2009"
    assert body["errors"][0]["extensions"]["path"] == ["where"]

    response = await http.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    response = await http.post("/graphql", json={"variables": {}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "bad_request"
    response = await http.post("/graphql", content=b"x", headers={"content-type": "text/plain"})
    assert response.status_code == 415


async def test_internal_errors_say_nothing_unless_debug(
    db: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: Any) -> Any:
        raise RuntimeError("SELECT secret FROM internals")

    monkeypatch.setattr(db.engine, "count", broken)  # a fault, injected past the database
    for debug in (False, True):
        async with http_for(db, ApiSettings(debug=debug)) as http:
            body = await gql(http, "{ usersCount tagsAggregate { _count { _all } } }")
        assert body["data"] is None  # usersCount is non-null: its failure nulls the data
        (error,) = body["errors"]
        assert error["path"] == ["usersCount"]
        assert error["extensions"]["code"] == "internal_error"
        assert ("secret" in error["message"]) is debug


async def test_get_runs_queries_but_not_mutations(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "{ usersCount }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"usersCount": 3}}
    response = await http.get(
        "/graphql",
        params={
            "query": "query($e: String!) { user(where: {email: $e}) { name } }",
            "variables": '{"e": "ann@example.com"}',
        },
    )
    assert response.json() == {"data": {"user": {"name": "Ann"}}}
    response = await http.get("/graphql", params={"query": "mutation { deleteManyTag { count } }"})
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "method_not_allowed"
    response = await http.post(
        "/graphql", content=b"{ tagsCount }", headers={"content-type": "application/graphql"}
    )
    assert response.json() == {"data": {"tagsCount": 4}}


async def test_root_fields_have_the_contract_names(http: httpx.AsyncClient) -> None:
    data = await data_of(
        http, "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }"
    )
    queries = {f["name"] for f in data["__schema"]["queryType"]["fields"]}
    mutations = {f["name"] for f in data["__schema"]["mutationType"]["fields"]}
    assert {"user", "users", "usersCount", "usersAggregate"} <= queries
    assert {"category", "categories", "categoriesCount", "userProfiles"} <= queries
    assert {
        "createUser",
        "createManyUser",
        "updateUser",
        "updateManyUser",
        "upsertUser",
        "deleteUser",
        "deleteManyUser",
        "createManyCategory",
    } <= mutations
    assert len(queries) == 7 * 4 and len(mutations) == 7 * 7


async def test_introspection_can_be_switched_off(db: Client, http: httpx.AsyncClient) -> None:
    query = '{ __schema { queryType { name } } __type(name: "User") { fields { name } } }'
    data = await data_of(http, query)
    assert data["__schema"] == {"queryType": {"name": "Query"}}
    assert {"email", "posts", "_count"} <= {f["name"] for f in data["__type"]["fields"]}
    closed = ApiSettings(graphql=GraphqlSettings(introspection=False, graphiql=False))
    async with http_for(db, closed) as http_closed:
        body = await gql(http_closed, query, status=400)
        assert {e["extensions"]["code"] for e in body["errors"]} == {"introspection_disabled"}
        assert await data_of(http_closed, "{ usersCount }") == {"usersCount": 3}
        page = await http_closed.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 400
    page = await http.get("/graphql", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql.min.js" in page.text


# -- names, scalars, settings ------------------------------------------------------------------


def test_plural_names_follow_english() -> None:
    assert [plural(w) for w in ("User", "Category", "Box", "Match", "Day", "Person", "OrderItem")] == [
        "Users", "Categories", "Boxes", "Matches", "Days", "People", "OrderItems",
    ]  # fmt: skip
    assert plural_field("News") == "newsList"
    assert plural_field("Sheep") == "sheepList"
    assert plural_field("UserProfile") == "userProfiles"


NAMES_SCHEMA = """
datasource db {
  provider = "sqlite"
  url      = "file:./names.db"
}

model News {
  id     Int    @id
  title  String
}

model Person {
  first String
  last  String
  @@id([first, last])
}
"""


def test_schema_names_and_input_shapes(tmp_path: Path) -> None:
    blog = Client(SCHEMA, "file:unused.db").engine
    schema = build_schema(blog.info, "sqlite")
    nested = schema.type_map["PostCreateWithoutAuthorInput"]
    assert isinstance(nested, GraphQLInputObjectType)
    assert "author" not in nested.fields and "authorId" not in nested.fields
    assert str(nested.fields["title"].type) == "String!"
    create = schema.type_map["UserCreateInput"]
    assert isinstance(create, GraphQLInputObjectType)
    assert str(create.fields["email"].type) == "String!"
    assert str(create.fields["id"].type) == "String"  # it has a default
    assert str(create.fields["posts"].type) == "PostCreateNestedManyWithoutAuthorInput"
    post = schema.type_map["PostCreateInput"]
    assert isinstance(post, GraphQLInputObjectType)
    assert str(post.fields["authorId"].type) == "String"  # or given through `author`
    update = schema.type_map["PostUpdateInput"]
    assert isinstance(update, GraphQLInputObjectType)
    assert str(update.fields["views"].type) == "IntFieldUpdateOperationsInput"
    assert str(update.fields["title"].type) == "String"  # only numbers and lists take operations
    many = schema.type_map["PostUpdateManyMutationInput"]
    assert isinstance(many, GraphQLInputObjectType)
    assert str(many.fields["views"].type) == "IntFieldUpdateOperationsInput"
    operations = schema.type_map["IntFieldUpdateOperationsInput"]
    assert isinstance(operations, GraphQLInputObjectType)
    assert {name: str(f.type) for name, f in operations.fields.items()} == {
        op: "Int" for op in ("set", "increment", "decrement", "multiply", "divide")
    }
    on_sqlite = schema.type_map["StringFilter"]
    on_postgres = build_schema(blog.info, "postgresql").type_map["StringFilter"]
    assert isinstance(on_sqlite, GraphQLInputObjectType)
    assert isinstance(on_postgres, GraphQLInputObjectType)
    assert "mode" not in on_sqlite.fields and "mode" in on_postgres.fields

    path = tmp_path / "schema.prisma"
    path.write_text(NAMES_SCHEMA)
    other = Client(path, f"file:{tmp_path / 'names.db'}").engine
    names = build_schema(other.info, "sqlite")
    assert names.query_type is not None and names.mutation_type is not None
    assert {"news", "newsList", "newsListCount", "person", "people", "peopleCount"} <= set(
        names.query_type.fields
    )
    unique = names.type_map["PersonWhereUniqueInput"]
    assert isinstance(unique, GraphQLInputObjectType)
    assert str(unique.fields["first_last"].type) == "PersonFirstLastCompoundUniqueInput"


def test_settings_check_themselves() -> None:
    with pytest.raises(ValueError, match="max_depth must be a positive integer"):
        GraphqlSettings(max_depth=0)
    with pytest.raises(ValueError, match="introspection must be true or false"):
        GraphqlSettings(introspection="no")  # type: ignore[arg-type]


SCALARS_SCHEMA = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Sample {
  id      Int      @id @default(autoincrement())
  big     BigInt
  price   Decimal
  blob    Bytes
  at      DateTime
  doc     Json
  ratio   Float
  flag    Boolean
  label   String?
}
"""


async def test_custom_scalars_round_trip(sql_backend: Backend, tmp_path: Path) -> None:
    schema = tmp_path / "schema.prisma"
    schema.write_text(SCALARS_SCHEMA)
    async with Client(schema, sql_backend.url) as db:
        push(db.schema, sql_backend.url)
        async with http_for(db) as http:
            data = await data_of(
                http,
                """mutation($data: SampleCreateInput!) {
                  createSample(data: $data) { big price blob at doc ratio flag label }
                }""",
                {
                    "data": {
                        "big": "9007199254740993",
                        "price": "12.50",
                        "blob": base64.b64encode(b"\x00\xffdata").decode(),
                        "at": "2024-05-01T14:00:00+02:00",
                        "doc": {"a": [1, 2, {"b": None}]},
                        "ratio": 0.25,
                        "flag": True,
                    }
                },
            )
            assert data["createSample"] == {
                "big": "9007199254740993",
                "price": "12.5",
                "blob": base64.b64encode(b"\x00\xffdata").decode(),
                "at": "2024-05-01T12:00:00.000Z",
                "doc": {"a": [1, 2, {"b": None}]},
                "ratio": 0.25,
                "flag": True,
                "label": None,
            }
            row = await db.sample.find_first_or_raise()
            assert row["big"] == 9007199254740993 and row["price"] == Decimal("12.5")
            found = await data_of(
                http,
                """{ samples(where: {big: {gt: "9007199254740992"}, at: {lt: "2024-06-01T00:00:00Z"},
                                     price: {gte: "12.5"}}) { id }
                    samplesAggregate { _sum { big price } _max { at } } }""",
            )
            assert found["samples"] == [{"id": row["id"]}]
            assert found["samplesAggregate"]["_sum"]["big"] == "9007199254740993"
            assert Decimal(found["samplesAggregate"]["_sum"]["price"]) == Decimal("12.5")
            assert found["samplesAggregate"]["_max"]["at"] == "2024-05-01T12:00:00.000Z"
            body = await gql(
                http,
                'mutation { createSample(data: {big: "x", price: "1", blob: "", '
                'at: "2024-01-01T00:00:00Z", doc: 1, ratio: 1, flag: false}) { id } }',
                status=400,
            )
            assert "BigInt takes an integer" in body["errors"][0]["message"]
            changed = await data_of(
                http,
                """mutation($id: Int!, $big: BigIntFieldUpdateOperationsInput) {
                  updateSample(where: {id: $id}, data: {big: $big, price: {multiply: "2.5"},
                                                         ratio: {divide: 2}}) { big price ratio }
                }""",
                {"id": row["id"], "big": {"increment": "2"}},
            )
            assert changed["updateSample"] == {
                "big": "9007199254740995",
                "price": "31.25",
                "ratio": 0.125,
            }


LISTS_SCHEMA = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

enum Color {
  RED
  BLUE
}

model Item {
  id     Int      @id @default(autoincrement())
  tags   String[]
  colors Color[]
  note   String?  @db.VarChar(20)
}
"""


async def test_scalar_lists_on_postgres(pg_url: str, tmp_path: Path) -> None:
    schema = tmp_path / "schema.prisma"
    schema.write_text(LISTS_SCHEMA)
    async with Client(schema, pg_url) as db:
        push(db.schema, pg_url)
        async with http_for(db) as http:
            created = await data_of(
                http,
                'mutation { a: createItem(data: {tags: ["x", "y"], colors: [RED]}) { tags colors } '
                'b: createItem(data: {tags: [], colors: [BLUE, RED], note: "b"}) { id } }',
            )
            assert created["a"] == {"tags": ["x", "y"], "colors": ["RED"]}
            found = await data_of(
                http,
                """{
                  has: items(where: {tags: {has: "x"}}) { tags }
                  some: items(where: {colors: {hasSome: [BLUE]}}) { note }
                  empty: items(where: {tags: {isEmpty: true}}) { colors }
                }""",
            )
            assert found == {
                "has": [{"tags": ["x", "y"]}],
                "some": [{"note": "b"}],
                "empty": [{"colors": ["BLUE", "RED"]}],
            }
            pushed = await data_of(
                http,
                """mutation($more: [String!]) {
                  one: updateManyItem(where: {note: {equals: "b"}},
                                      data: {tags: {push: "solo"}, colors: {set: [BLUE]}}) { count }
                  many: updateManyItem(where: {tags: {has: "x"}}, data: {tags: {push: $more}}) {
                    count
                  }
                }""",
                {"more": ["z", "x"]},
            )
            assert pushed == {"one": {"count": 1}, "many": {"count": 1}}
            after = await data_of(http, "{ items(orderBy: {id: asc}) { tags colors } }")
            assert after["items"] == [
                {"tags": ["x", "y", "z", "x"], "colors": ["RED"]},
                {"tags": ["solo"], "colors": ["BLUE"]},
            ]
            body = await gql(
                http, 'mutation { updateManyItem(data: {tags: ["a"]}) { count } }', status=400
            )
            assert body["errors"][0]["extensions"]["code"] == "graphql_validation_failed"


# -- the documented example and a real server ---------------------------------------------------


def _documented_query() -> str:
    text = DOCS.read_text()
    match = re.search(r"<!-- tested -->\s*```graphql\n(.*?)```", text, re.DOTALL)
    assert match, "docs/graphql.md has a ```graphql block after <!-- tested -->"
    return match.group(1)


async def test_the_documented_example_runs(http: httpx.AsyncClient) -> None:
    data = await data_of(http, _documented_query())
    assert len(data["users"]) == 3
    assert data["users"][0]["_count"]["posts"] == 2
    assert data["users"][0]["posts"][0]["title"] == "Second post"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


SERVER = """
import sys, uvicorn
from datatier import Client
from datatier.api import create_app
uvicorn.run(create_app(Client(sys.argv[1], sys.argv[2]), close_client=True),
            host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""


async def test_through_a_real_server_process(sql_backend: Backend) -> None:
    async with Client(SCHEMA, sql_backend.url) as db:
        push(db.schema, sql_backend.url)
        await seed(db)
        expected = await db.user.find_many(**USERS_DOCUMENT)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(SCHEMA), sql_backend.url, str(port)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not start in 30 s"
                time.sleep(0.1)
            data = await data_of(http, USERS_QUERY, {"email": "ann@example.com"})
            assert data == {"users": as_json(expected)}
            created = await data_of(
                http, 'mutation { createTag(data: {name: "live", slug: "live"}) { slug } }'
            )
            assert created == {"createTag": {"slug": "live"}}
    finally:
        process.terminate()
        process.wait(timeout=10)
