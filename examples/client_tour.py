"""A tour of the Python client on the demo schema: run `python examples/client_tour.py [URL]`.

Without a URL it uses a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from datatier import Client, UniqueViolation
from datatier.migrate._push import push

SCHEMA = Path(__file__).resolve().parents[1] / "datatier" / "demo" / "schema.prisma"


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


def main() -> None:
    if len(sys.argv) > 1:
        asyncio.run(tour(sys.argv[1]))
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(tour(f"file:{Path(folder) / 'tour.db'}"))


if __name__ == "__main__":
    main()
