"""A tour of the Python client on the demo schema: run `python examples/client_tour.py [URL]`.

Without a URL it uses a fresh SQLite file in a temporary folder. The second half generates
the schema's typed client (what `datatier generate` writes) and reads through select classes.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import tempfile
from pathlib import Path

from typing_extensions import TypedDict

from datatier import Client, UniqueViolation
from datatier.codegen import generate_client
from datatier.migrate._push import push
from datatier.schema import load_schema

SCHEMA = Path(__file__).resolve().parents[1] / "datatier" / "demo" / "schema.prisma"


# Select classes: what a typed read returns (closed TypedDicts, defined at module level).
class PostTitle(TypedDict, closed=True):
    title: str
    views: int


class AuthorCard(TypedDict, closed=True):
    email: str
    name: str | None
    posts: list[PostTitle]


async def tour(url: str) -> None:
    db = Client(SCHEMA, url)
    push(db.schema, url)  # an empty database gets the schema's tables
    async with db:
        ann = await db.user.create(
            data={
                "email": "ann@example.com",
                "name": "Ann",
                "posts": {
                    "create": [
                        {
                            "title": "Hello",
                            "content": "First",
                            "tags": {"create": [{"name": "intro", "slug": "intro"}]},
                        },
                        {"title": "Again", "content": "Second", "views": 10},
                    ]
                },
            }
        )
        print("created", ann["email"])

        feed = await db.user.find_many(
            order_by={"email": "asc"},
            select={
                "email": True,
                "posts": {
                    "orderBy": {"views": "desc"},
                    "take": 10,
                    "select": {"title": True, "tags": {"select": {"slug": True}}},
                },
                "_count": {"select": {"posts": True}},
            },
        )
        print("feed", feed)

        await db.post.update_many(
            where={"author": {"email": "ann@example.com"}}, data={"views": {"increment": 1}}
        )
        print("views", await db.post.aggregate(_sum={"views": True}, _avg={"views": True}))

        try:
            await db.user.create(data={"email": "ann@example.com"})
        except UniqueViolation as error:
            print("refused:", error.code, error.fields)

        async with db.tx() as tx:
            await tx.tag.create(data={"name": "news", "slug": "news"})
            print("tags in the transaction", await tx.tag.count())


async def typed_tour(url: str, folder: Path) -> None:
    """The typed client: in a project, `datatier generate` writes it and you import it."""
    generate_client(load_schema(SCHEMA), SCHEMA, folder / "blog_client")
    sys.path.insert(0, str(folder))
    blog = importlib.import_module("blog_client")
    async with blog.Client(url=url) as db:
        cards: list[AuthorCard] = await db.user.find_many(select=AuthorCard)
        print("typed cards", cards)
        stats = await db.post.aggregate(_count=True, _max={"views": True})
        print("typed stats", stats.get("_count"), stats.get("_max", {}).get("views"))
        groups = await db.post.group_by(by="authorId", _sum={"views": True})
        print("typed groups", [g.get("_sum") for g in groups])


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[1] if len(sys.argv) > 1 else f"file:{Path(folder) / 'tour.db'}"
        asyncio.run(tour(url))
        asyncio.run(typed_tour(url, Path(folder)))


if __name__ == "__main__":
    main()
