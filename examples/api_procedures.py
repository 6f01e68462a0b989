"""User-defined RPC procedures for the demo (blog) schema, served as ``/rpc/{name}``.

Serve them with ``datatier serve --demo`` and, in datatier.toml::

    [server]
    procedures = "examples.api_procedures"

or pass ``procedures`` to ``create_app(client, procedures=procedures)``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from datatier.api import ProcedureContext, Procedures

procedures = Procedures()


class PublishInput(BaseModel):
    """Which post to publish, and optionally a new title."""

    post_id: int = Field(gt=0)
    title: str | None = Field(default=None, min_length=1, max_length=200)


class PostSummary(BaseModel):
    id: int
    title: str
    status: str


@procedures.register
async def publish_post(ctx: ProcedureContext, args: PublishInput) -> PostSummary:
    """Publish a draft post (one transaction: read it, then update it)."""
    data: dict[str, object] = {"status": "PUBLISHED"}
    if args.title is not None:
        data["title"] = args.title
    post = await ctx.db.post.update(where={"id": args.post_id}, data=data)
    return PostSummary(id=post["id"], title=post["title"], status=post["status"])


class TopAuthorsInput(TypedDict):
    limit: int


class AuthorStat(TypedDict):
    email: str
    posts: int


@procedures.register(read_only=True)
async def top_authors(ctx: ProcedureContext, args: TopAuthorsInput) -> list[AuthorStat]:
    """The users with the most posts (read-only: also GET /rpc/top_authors?q=...)."""
    users = await ctx.db.user.find_many(
        select={"email": True, "_count": {"select": {"posts": True}}},
        order_by={"posts": {"_count": "desc"}},
        take=max(1, min(args["limit"], 100)),
    )
    return [{"email": u["email"], "posts": u["_count"]["posts"]} for u in users]
