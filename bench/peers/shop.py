"""Subjects of the shop workload: one order with its customer and its line items' products.

datatier's ``find_unique`` with nested ``select``s against the floor (raw asyncpg, one
prepared statement on one connection: the order, its customer, and its items folded by
``json_agg``, Decimal values carried as text so none is rounded) and the same SQL
through an asyncpg pool.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import orjson

from datatier import Client

ORDER_SELECT: dict[str, Any] = {
    "id": True,
    "status": True,
    "total": True,
    "createdAt": True,
    "customer": {"select": {"email": True, "name": True}},
    "items": {
        "orderBy": {"id": "asc"},
        "select": {
            "quantity": True,
            "price": True,
            "product": {"select": {"sku": True, "name": True}},
        },
    },
}
ORDER_SQL = """
SELECT o."id", o."status", o."total", o."createdAt", c."email", c."name",
       (SELECT coalesce(json_agg(json_build_object(
                  'quantity', i."quantity", 'price', i."price"::text,
                  'sku', p."sku", 'name', p."name") ORDER BY i."id"), '[]'::json)
        FROM "OrderItem" AS i JOIN "Product" AS p ON p."id" = i."productId"
        WHERE i."orderId" = o."id") AS items
FROM "Order" AS o JOIN "Customer" AS c ON c."id" = o."customerId"
WHERE o."id" = $1
"""


class ShopSubject(Protocol):
    """A subject of the shop workload: ``order(id)`` returns the order in datatier's shape."""

    subject: str
    operation: str

    async def order(self, order_id: int) -> object: ...

    async def close(self) -> None: ...


def _order(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    created: dt.datetime = row["createdAt"]
    return {
        "id": row["id"],
        "status": row["status"],
        "total": row["total"],
        "createdAt": created.replace(tzinfo=dt.UTC),
        "customer": {"email": row["email"], "name": row["name"]},
        "items": [
            {
                "quantity": item["quantity"],
                "price": Decimal(item["price"]),
                "product": {"sku": item["sku"], "name": item["name"]},
            }
            for item in orjson.loads(row["items"])
        ],
    }


class ShopDatatier:
    """``db.order.find_unique(where={"id": i}, select=ORDER_SELECT)``."""

    subject = "datatier"
    operation = "Client"

    def __init__(self, db: Client) -> None:
        self._db = db

    @classmethod
    async def open(cls, schema: Path, url: str) -> ShopDatatier:
        db = Client(schema, url)
        await db.connect()
        return cls(db)

    async def order(self, order_id: int) -> object:
        return await self._db.order.find_unique(where={"id": order_id}, select=ORDER_SELECT)

    async def close(self) -> None:
        await self._db.close()


class ShopPrepared:
    """The floor: one connection, ``ORDER_SQL`` prepared once, the row shaped like datatier's."""

    subject = "asyncpg"
    operation = "prepared, one connection"

    def __init__(self, conn: asyncpg.Connection, statement: Any) -> None:
        self._conn = conn
        self._statement = statement

    @classmethod
    async def open(cls, url: str) -> ShopPrepared:
        conn = await asyncpg.connect(url)
        return cls(conn, await conn.prepare(ORDER_SQL))

    async def order(self, order_id: int) -> object:
        return _order(await self._statement.fetchrow(order_id))

    async def close(self) -> None:
        await self._conn.close()


class ShopPool:
    """``ORDER_SQL`` through ``asyncpg.create_pool`` (its statement cache)."""

    subject = "asyncpg"
    operation = "pool"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> ShopPool:
        return cls(await asyncpg.create_pool(url, min_size=1, max_size=10))

    async def order(self, order_id: int) -> object:
        async with self._pool.acquire() as conn:
            return _order(await conn.fetchrow(ORDER_SQL, order_id))

    async def close(self) -> None:
        await self._pool.close()
