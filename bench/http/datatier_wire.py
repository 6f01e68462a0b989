"""The REST contract's requests as datatier's API takes them (REST, RPC or GraphQL), and its answers back.

datatier serves every model under ``/rest/{model}``, ``/rpc/{model}/{operation}`` and
``/graphql`` rather than the contract's hand-made paths (``bench.http.contract``), so each
contract request is translated the way a datatier user would write it:

| contract | REST | RPC | GraphQL |
|---|---|---|---|
| ``GET /posts/{id}`` | ``GET /rest/post/{id}`` | ``GET /rpc/post/findUnique?q=`` | ``post(where: {id})`` |
| ``GET /posts?take=N`` | ``GET /rest/post?take=N&orderBy=-createdAt`` | ``findMany`` | ``posts(take, orderBy)`` |
| ``GET /posts/page?...`` | field filters, ``orderBy``, ``cursor=ID`` | ``cursor: {id}, skip: 1`` | the same arguments |
| ``GET /users/nested`` | ``GET /rest/user?select=<json>`` | ``findMany`` with ``select`` | ``users { posts { _count } }`` |
| ``POST /posts`` | ``POST /rest/post?select=id`` (nested ``connect``/``create``) | ``create`` | ``createPost`` |
| ``PATCH /posts/{id}`` | ``PATCH /rest/post/{id}?select=id,title`` | ``update`` | ``updatePost`` |
| ``PUT /categories/{slug}`` | (REST's PUT is keyed by id: not expressible) | ``upsert`` by slug | ``upsertCategory`` |
| ``POST /posts/{id}/views`` | ``PATCH`` with ``{"views": {"increment": 1}}`` | ``update`` | ``updatePost`` with ``views: {increment: 1}`` |

Every translation asks for exactly the contract's fields, so answers compare as they are
(``from_datatier`` only unwraps ``data`` and turns "no record" into 404).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from bench.http.contract import NESTED_POSTS, NESTED_USERS, POST_FIELDS, Request

TRANSPORTS = ("rest", "rpc", "graphql")
REST_NO_UPSERT = (
    "datatier's REST PUT upserts by primary key (/rest/category/{id}); an upsert by the "
    "unique slug is an RPC or GraphQL call (measured there)"
)

_BY_ID = re.compile(r"^/posts/(\d+)$")
_VIEWS = re.compile(r"^/posts/(\d+)/views$")
_CATEGORY = re.compile(r"^/categories/([^/]+)$")
_POST_SELECT = {name: True for name in POST_FIELDS}
_NESTED: dict[str, Any] = {
    "take": NESTED_USERS,
    "orderBy": {"email": "asc"},
    "select": {
        "id": True,
        "email": True,
        "posts": {
            "take": NESTED_POSTS,
            "orderBy": {"createdAt": "desc"},
            "select": {"id": True, "title": True, "_count": {"select": {"comments": True}}},
        },
    },
}
_GQL_POST = " ".join(POST_FIELDS)
GQL_BY_ID = f"query($id: Int!) {{ post(where: {{id: $id}}) {{ {_GQL_POST} }} }}"
GQL_LATEST = (
    f"query($n: Int!) {{ posts(take: $n, orderBy: [{{createdAt: desc}}]) {{ {_GQL_POST} }} }}"
)
GQL_PAGE = (
    "query($status: PostStatus!, $category: Int!, $n: Int!, $cursor: Int!) {"
    " posts(where: {status: {equals: $status}, categoryId: {equals: $category}},"
    " orderBy: [{createdAt: desc}], cursor: {id: $cursor}, skip: 1, take: $n)"
    f" {{ {_GQL_POST} }} }}"
)
GQL_NESTED = (
    f"{{ users(take: {NESTED_USERS}, orderBy: [{{email: asc}}]) {{ id email"
    f" posts(take: {NESTED_POSTS}, orderBy: [{{createdAt: desc}}])"
    " { id title _count { comments } } } }"
)
GQL_CREATE = "mutation($data: PostCreateInput!) { createPost(data: $data) { id } }"
GQL_UPDATE = (
    "mutation($id: Int!, $title: String!) {"
    " updatePost(where: {id: $id}, data: {title: $title}) { id title } }"
)
GQL_INCREMENT = (
    "mutation($id: Int!) {"
    " updatePost(where: {id: $id}, data: {views: {increment: 1}}) { id views } }"
)
GQL_UPSERT = (
    "mutation($slug: String!, $name: String!) { upsertCategory(where: {slug: $slug},"
    " create: {slug: $slug, name: $name}, update: {name: $name}) { id slug name } }"
)


def create_data(body: dict[str, Any]) -> dict[str, Any]:
    """The contract's create body as Prisma's ``data``: author, tags and comments nested."""
    return {
        "title": body["title"],
        "content": body["content"],
        "author": {"connect": {"id": body["authorId"]}},
        "tags": {"connect": [{"id": tag} for tag in body["tagIds"]]},
        "comments": {
            "create": [
                {"content": c["content"], "author": {"connect": {"id": c["authorId"]}}}
                for c in body["comments"]
            ]
        },
    }


def _q(document: dict[str, Any]) -> str:
    return quote(json.dumps(document, separators=(",", ":")), safe="")


def _rpc_read(operation: str, document: dict[str, Any], model: str = "post") -> Request:
    return Request("GET", f"/rpc/{model}/{operation}?q={_q(document)}")


def _rpc_write(operation: str, document: dict[str, Any], model: str = "post") -> Request:
    return Request("POST", f"/rpc/{model}/{operation}", document)


def _graphql(query: str, variables: dict[str, Any] | None = None) -> Request:
    return Request("POST", "/graphql", {"query": query, "variables": variables or {}})


def to_datatier(transport: str, request: Request) -> Request:
    """``request`` (of the REST contract) as datatier's ``transport`` takes it."""
    parts = urlsplit(request.path)
    path, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
    method, body = request.method, request.body
    translated: Request | None = None
    if method == "GET" and (match := _BY_ID.match(path)):
        translated = _by_id(transport, int(match[1]))
    elif method == "GET" and path == "/posts":
        translated = _latest(transport, int(query.get("take", "50")))
    elif method == "GET" and path == "/posts/page":
        translated = _page(transport, query)
    elif method == "GET" and path == "/users/nested":
        translated = _nested(transport)
    elif method == "POST" and path == "/posts":
        translated = _create(transport, body)
    elif method == "PATCH" and (match := _BY_ID.match(path)):
        translated = _update(transport, int(match[1]), {"title": body["title"]}, "id,title")
    elif method == "PUT" and (match := _CATEGORY.match(path)) and transport != "rest":
        translated = _upsert(transport, match[1], body["name"])
    elif method == "POST" and (match := _VIEWS.match(path)):
        translated = _update(transport, int(match[1]), {"views": {"increment": 1}}, "id,views")
    if translated is None:
        raise ValueError(f"no datatier {transport} form for {method} {request.path}")
    return Request(translated.method, translated.path, translated.body, request.headers)


def _by_id(transport: str, post_id: int) -> Request:
    if transport == "rest":
        return Request("GET", f"/rest/post/{post_id}")
    if transport == "rpc":
        return _rpc_read("findUnique", {"where": {"id": post_id}})
    return _graphql(GQL_BY_ID, {"id": post_id})


def _latest(transport: str, take: int) -> Request:
    if transport == "rest":
        return Request("GET", f"/rest/post?take={take}&orderBy=-createdAt")
    if transport == "rpc":
        return _rpc_read("findMany", {"take": take, "orderBy": {"createdAt": "desc"}})
    return _graphql(GQL_LATEST, {"n": take})


def _page(transport: str, query: dict[str, str]) -> Request:
    status, category, take = query["status"], int(query["categoryId"]), int(query["take"])
    cursor = int(query["cursor"])
    if transport == "rest":
        return Request(
            "GET",
            f"/rest/post?status={status}&categoryId={category}&orderBy=-createdAt"
            f"&take={take}&cursor={cursor}",
        )
    if transport == "rpc":
        document = {
            "where": {"status": status, "categoryId": category},
            "orderBy": {"createdAt": "desc"},
            "cursor": {"id": cursor},
            "skip": 1,
            "take": take,
        }
        return _rpc_read("findMany", document)
    variables = {"status": status, "category": category, "n": take, "cursor": cursor}
    return _graphql(GQL_PAGE, variables)


def _nested(transport: str) -> Request:
    if transport == "rest":
        select = _q(_NESTED["select"])
        return Request("GET", f"/rest/user?take={NESTED_USERS}&orderBy=email&select={select}")
    if transport == "rpc":
        return _rpc_read("findMany", _NESTED, model="user")
    return _graphql(GQL_NESTED)


def _create(transport: str, body: dict[str, Any]) -> Request:
    data = create_data(body)
    if transport == "rest":
        return Request("POST", "/rest/post?select=id", data)
    if transport == "rpc":
        return _rpc_write("create", {"data": data, "select": {"id": True}})
    return _graphql(GQL_CREATE, {"data": data})


def _update(transport: str, post_id: int, data: dict[str, Any], fields: str) -> Request:
    if transport == "rest":
        return Request("PATCH", f"/rest/post/{post_id}?select={fields}", data)
    if transport == "rpc":
        select = {name: True for name in fields.split(",")}
        return _rpc_write("update", {"where": {"id": post_id}, "data": data, "select": select})
    if "views" in data:
        return _graphql(GQL_INCREMENT, {"id": post_id})
    return _graphql(GQL_UPDATE, {"id": post_id, "title": data["title"]})


def _upsert(transport: str, slug: str, name: str) -> Request:
    if transport == "rpc":
        document = {
            "where": {"slug": slug},
            "create": {"slug": slug, "name": name},
            "update": {"name": name},
            "select": {"id": True, "slug": True, "name": True},
        }
        return _rpc_write("upsert", document, model="category")
    return _graphql(GQL_UPSERT, {"slug": slug, "name": name})


def from_datatier(transport: str, request: Request, status: int, answer: Any) -> tuple[int, Any]:
    """datatier's ``status`` and ``answer`` to ``to_datatier(transport, request)`` in the contract's shape."""
    if transport == "graphql":
        if status != 200 or not isinstance(answer, dict):
            return status, answer
        errors = answer.get("errors") or []
        if any((e.get("extensions") or {}).get("code") == "not_found" for e in errors):
            return 404, None
        data = answer.get("data")
        if errors or not isinstance(data, dict) or len(data) != 1:
            return 500, answer
        answer, status = next(iter(data.values())), 200
        if answer is None:
            return 404, None
        return (201 if request.method == "POST" and request.path == "/posts" else 200), answer
    if status >= 400 or not isinstance(answer, dict):
        return status, answer
    if transport == "rpc":
        answer = answer.get("data")
        if answer is None:
            return 404, None
        if request.method == "POST" and request.path == "/posts":
            return 201, answer
        return 200, answer
    if request.method == "GET" and "data" in answer:  # a REST list: {"data": [...], ...}
        return status, answer["data"]
    if request.method == "POST" and urlsplit(request.path).path.endswith("/views"):
        return 200, answer  # the increment is a PATCH: 200 as the contract's POST answers
    return status, answer
