"""A deterministic generator and loader for the shop schema (``/work/shared/schemas/shop.prisma``, copied
to ``bench/data/shop.prisma``): a nested catalogue, collections, customers, orders with line items.

``generate_shop(size)`` returns the same rows on every run (fixed seed), tuples in
column order ready for COPY; ``shop_database(size, admin)`` loads them into
``datatier_bench_shop_<orders>`` once and reuses that database while the marker
(generator version, seed, size, schema hash) matches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass
from decimal import Decimal

from bench._environment import REPO_ROOT
from bench.datagen._load import ensure_database
from bench.datagen.blog_gen import Row, Table

SEED = 20_250_302
GENERATOR_VERSION = 1
SCHEMA_PATH = REPO_ROOT / "bench" / "data" / "shop.prisma"
_EPOCH = dt.datetime(2024, 1, 1)
_STATUSES = ("PAID",) * 5 + ("SHIPPED",) * 3 + ("PENDING", "CANCELLED")
_NOUNS = ("lamp", "chair", "desk", "mug", "pen", "shelf", "rug", "clock", "kettle", "vase")
_ADJECTIVES = ("oak", "steel", "blue", "small", "large", "matte", "glass", "linen", "red")


@dataclass(frozen=True)
class ShopSize:
    """How many rows of each kind to make."""

    customers: int
    products: int
    orders: int
    categories: int = 100
    collections: int = 50

    @classmethod
    def for_mode(cls, quick: bool) -> ShopSize:
        """10,000 customers and products, 50,000 orders (~150,000 items); ``quick``: 200, 500, 1,000."""
        return cls(200, 500, 1_000, 20, 5) if quick else cls(10_000, 10_000, 50_000)


@dataclass(frozen=True)
class ShopData:
    """Every table's rows in an order that satisfies the foreign keys."""

    size: ShopSize
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        """The table called ``name``."""
        return next(t for t in self.tables if t.name == name)


def generate_shop(size: ShopSize, seed: int = SEED) -> ShopData:
    """All rows for ``size``, the same for the same ``size`` and ``seed``."""
    rng = random.Random(seed)
    top = max(1, size.categories // 5)
    categories: list[Row] = [
        (i, f"Department {i}" if i <= top else f"Aisle {i}", f"cat-{i}",
         None if i <= top else rng.randint(1, top))
        for i in range(1, size.categories + 1)
    ]  # fmt: skip
    products: list[Row] = []
    prices: list[Decimal] = []
    for i in range(1, size.products + 1):
        price = Decimal(rng.randrange(199, 99_999)) / 100
        prices.append(price)
        created = _EPOCH + dt.timedelta(minutes=rng.randrange(60 * 24 * 90))
        name = f"{rng.choice(_ADJECTIVES).title()} {rng.choice(_NOUNS)} {i}"
        attributes = json.dumps({"colour": rng.choice(_ADJECTIVES), "weight": rng.randint(1, 50)})
        products.append(
            (i, f"SKU-{i:06d}", name, None if rng.random() < 0.2 else f"The {name}.", price,
             rng.randrange(500), attributes, rng.randint(1, size.categories), created, created)
        )  # fmt: skip
    collections: list[Row] = [(i, f"Collection {i}") for i in range(1, size.collections + 1)]
    links: list[Row] = []
    for collection in range(1, size.collections + 1):
        chosen = rng.sample(range(1, size.products + 1), min(20, size.products))
        links += [(product, collection, position) for position, product in enumerate(chosen)]
    customers: list[Row] = [
        (i, f"customer{i}@example.com", f"Customer {i}",
         _EPOCH + dt.timedelta(minutes=rng.randrange(60 * 24 * 90)))
        for i in range(1, size.customers + 1)
    ]  # fmt: skip
    orders: list[Row] = []
    items: list[Row] = []
    for order_id in range(1, size.orders + 1):
        chosen = rng.sample(range(1, size.products + 1), rng.randint(1, 5))
        lines = [(product, rng.randint(1, 4)) for product in chosen]
        total = sum((prices[p - 1] * q for p, q in lines), Decimal(0))
        created = _EPOCH + dt.timedelta(days=90, seconds=order_id * 60 + rng.randrange(60))
        orders.append(
            (order_id, rng.randint(1, size.customers), rng.choice(_STATUSES), total, created)
        )
        items += [
            (len(items) + 1 + n, order_id, product, quantity, prices[product - 1])
            for n, (product, quantity) in enumerate(lines)
        ]
    return ShopData(
        size,
        (
            Table("Category", ("id", "name", "slug", "parentId"), categories),
            Table(
                "Product",
                (
                    "id",
                    "sku",
                    "name",
                    "description",
                    "price",
                    "stock",
                    "attributes",
                    "categoryId",
                    "createdAt",
                    "updatedAt",
                ),
                products,
            ),
            Table("Collection", ("id", "title"), collections),
            Table("ProductCollection", ("productId", "collectionId", "position"), links),
            Table("Customer", ("id", "email", "name", "createdAt"), customers),
            Table("Order", ("id", "customerId", "status", "total", "createdAt"), orders),
            Table("OrderItem", ("id", "orderId", "productId", "quantity", "price"), items),
        ),
    )


@dataclass(frozen=True)
class ShopDatabase:
    """The loaded shop database: its URL, its size, whether it was reused."""

    url: str
    size: ShopSize
    reused: bool


def shop_database(size: ShopSize, admin: str) -> ShopDatabase:
    """The shop database of ``size`` on the server ``admin`` points at, loaded unless reusable."""
    started = time.perf_counter()
    want = {
        "generator_version": str(GENERATOR_VERSION),
        "seed": str(SEED),
        "size": json.dumps(
            [size.customers, size.products, size.orders, size.categories, size.collections]
        ),
        "schema_sha256": hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest(),
    }
    name = f"datatier_bench_shop_{size.orders}"
    url, reused = ensure_database(
        admin, name, SCHEMA_PATH, want, lambda: generate_shop(size).tables
    )
    how = "reused" if reused else "loaded"
    print(f"  {how} {name} in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return ShopDatabase(url, size, reused)
