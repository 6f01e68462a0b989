"""The REST contract's requests as PostGraphile GraphQL operations, and its answers in the REST shapes.

PostGraphile names a table's primary key ``rowId`` (``id`` is the global node id),
relations by their foreign key (``postsByAuthorId``, ``commentsByPostId``), and pages
by opaque cursors: base64 of ``[digest of the ordering, createdAt, rowId]``.
``cursor_for`` builds the cursor a client would have got from the previous page,
using the digest PostGraphile itself handed out (``ordering_digest``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.http.contract import NESTED_POSTS, NESTED_USERS, POST_FIELDS, Request

_POST = " ".join("rowId" if name == "id" else name for name in POST_FIELDS)
BY_ID = f"query($id: Int!) {{ postByRowId(rowId: $id) {{ {_POST} }} }}"
LATEST = (
    f"query($n: Int!) {{ allPosts(first: $n, orderBy: CREATED_AT_DESC) {{ nodes {{ {_POST} }} }} }}"
)
PAGE = (
    "query($status: PostStatus!, $category: Int!, $n: Int!, $after: Cursor) {"
    " allPosts(first: $n, after: $after, orderBy: CREATED_AT_DESC,"
    " condition: {status: $status, categoryId: $category})"
    f" {{ nodes {{ {_POST} }} }} }}"
)
PAGE_CURSORS = (
    "query($status: PostStatus!, $category: Int!) {"
    " allPosts(first: 1, orderBy: CREATED_AT_DESC, condition: {status: $status, categoryId: $category})"
    " { edges { cursor } } }"
)
NESTED = (
    f"{{ allUsers(first: {NESTED_USERS}, orderBy: EMAIL_ASC) {{ nodes {{ rowId email"
    f" postsByAuthorId(first: {NESTED_POSTS}, orderBy: CREATED_AT_DESC)"
    " { nodes { rowId title commentsByPostId { totalCount } } } } } }"
)
UPDATE = (
    "mutation($id: Int!, $title: String!, $now: Datetime!) {"
    " updatePostByRowId(input: {rowId: $id, postPatch: {title: $title, updatedAt: $now}})"
    " { post { rowId title } } }"
)

_BY_ID = re.compile(r"^/posts/(\d+)$")


def graphql_request(query: str, variables: dict[str, Any] | None = None) -> Request:
    return Request("POST", "/graphql", {"query": query, "variables": variables or {}})


def ordering_digest(first_cursor: str) -> str:
    """The digest part of a cursor PostGraphile returned for ``orderBy: CREATED_AT_DESC``."""
    digest: str = json.loads(base64.b64decode(first_cursor))[0]
    return digest


def cursor_for(digest: str, created_at: dt.datetime, row_id: int) -> str:
    """The cursor of the row (``created_at``, ``row_id``) in the ``CREATED_AT_DESC`` ordering."""
    stamp = created_at.replace(tzinfo=None).isoformat(timespec="microseconds")
    return base64.b64encode(json.dumps([digest, stamp, row_id]).encode()).decode()


def to_graphql(request: Request, cursors: dict[int, str]) -> Request:
    """``request`` (a read or an update of the REST contract) as a GraphQL request.

    ``cursors`` maps a page's cursor post id to its PostGraphile cursor.
    """
    parts = urlsplit(request.path)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if request.method == "GET" and (match := _BY_ID.match(parts.path)):
        return graphql_request(BY_ID, {"id": int(match[1])})
    if request.method == "GET" and parts.path == "/posts":
        return graphql_request(LATEST, {"n": int(query.get("take", "50"))})
    if request.method == "GET" and parts.path == "/posts/page":
        variables: dict[str, Any] = {
            "status": query["status"],
            "category": int(query["categoryId"]),
            "n": int(query.get("take", "20")),
        }
        if "cursor" in query:
            variables["after"] = cursors[int(query["cursor"])]
        return graphql_request(PAGE, variables)
    if request.method == "GET" and parts.path == "/users/nested":
        return graphql_request(NESTED)
    if request.method == "PATCH" and (match := _BY_ID.match(parts.path)):
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        variables = {"id": int(match[1]), "title": request.body["title"], "now": now}
        return graphql_request(UPDATE, variables)
    raise ValueError(f"no GraphQL form for {request.method} {request.path}")


def _post(node: dict[str, Any]) -> dict[str, Any]:
    return {("id" if key == "rowId" else key): value for key, value in node.items()}


def from_graphql(request: Request, answer: Any) -> tuple[int, Any]:
    """PostGraphile's ``answer`` to ``to_graphql(request)`` as the REST status and body."""
    if not isinstance(answer, dict) or answer.get("errors") or "data" not in answer:
        return 500, answer
    data = answer["data"]
    path = urlsplit(request.path).path
    if request.method == "PATCH":
        updated = data["updatePostByRowId"]
        post = None if updated is None else updated["post"]
        return (404, None) if post is None else (200, _post(post))
    if "postByRowId" in data:
        post = data["postByRowId"]
        return (404, None) if post is None else (200, _post(post))
    if "allPosts" in data:
        return 200, [_post(node) for node in data["allPosts"]["nodes"]]
    if path == "/users/nested":
        return 200, [
            {
                "id": user["rowId"],
                "email": user["email"],
                "posts": [
                    {
                        "id": post["rowId"],
                        "title": post["title"],
                        "_count": {"comments": post["commentsByPostId"]["totalCount"]},
                    }
                    for post in user["postsByAuthorId"]["nodes"]
                ],
            }
            for user in data["allUsers"]["nodes"]
        ]
    return 500, answer
