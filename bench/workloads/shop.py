"""Workload ``shop.order``: one order of the shop dataset with its customer and line items' products.

The shop schema (``bench/data/shop.prisma``) on its own database of the run's server
(``bench.datagen.shop_gen``: 10,000 products in 100 nested categories, 10,000
customers, 50,000 orders with ~150,000 line items). datatier against the floor and an
asyncpg pool, measured like the client workloads (``bench._rounds``).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any
from urllib.parse import unquote, urlsplit

from bench._probe import ServerProbe
from bench._results import Check, Measurement, WorkloadResult
from bench._rounds import peak_memory_async, run_rounds, summarize
from bench._server import PostgresServer, ServerUnavailable, postgres_server
from bench.datagen.shop_gen import SCHEMA_PATH, ShopDatabase, ShopSize, shop_database
from bench.peers.shop import ShopDatatier, ShopPool, ShopPrepared, ShopSubject
from bench.workloads import RunConfig
from bench.workloads.client import ROUNDS, first_difference, headline_ratios

NAME = "shop.order"
DESCRIPTION = (
    "One order by id with its customer (email, name) and its line items (quantity, price) "
    "with each item's product (sku, name)."
)
CALLS = 1_000
TARGET = 1.3
FLOOR = "asyncpg prepared, one connection"


async def _measure(
    server: PostgresServer, shop: ShopDatabase, calls: int, config: RunConfig
) -> tuple[list[Measurement], list[Check], str | None]:
    subjects: list[ShopSubject] = [
        await ShopDatatier.open(SCHEMA_PATH, shop.url),
        await ShopPrepared.open(shop.url),
        await ShopPool.open(shop.url),
    ]
    probe = await ServerProbe.open(
        server.url, unquote(urlsplit(shop.url).path.lstrip("/")),
        statements=server.counts_statements, cpu=server.local_backends,
    )  # fmt: skip
    try:
        rng = random.Random(f"{NAME} {shop.size}")
        args = [rng.randint(1, shop.size.orders) for _ in range(calls)]
        check_args = [*args[:5], shop.size.orders + 1]
        ours, *others = subjects
        expected = [await ours.order(a) for a in check_args]
        checks = []
        for peer in others:
            key = f"{peer.subject} {peer.operation}"
            difference = first_difference(expected, [await peer.order(a) for a in check_args])
            checks.append(Check(f"same results as {key}", difference is None, difference or ""))
            if difference is not None:
                return [], checks, f"datatier's results differ from {key}'s: {difference}"
        calls_ = [peer.order for peer in subjects]
        runs = await run_rounds(
            calls_, args, rounds=3 if config.quick else ROUNDS,
            warmup=2 if config.quick else 100, probe=probe,
        )  # fmt: skip
        measurements = [
            summarize(peer.subject, peer.operation, run,
                      peak_memory_bytes=await peak_memory_async(call, args[0]))
            for peer, call, run in zip(subjects, calls_, runs, strict=True)
        ]  # fmt: skip
        return measurements, checks, None
    finally:
        await probe.close()
        for subject in subjects:
            await subject.close()


def run(config: RunConfig) -> WorkloadResult:
    """The order read on the shop database (loaded unless reusable)."""
    size = ShopSize.for_mode(config.quick)
    calls = max(8, CALLS // 50) if config.quick else CALLS
    params: dict[str, Any] = {
        "calls": calls,
        "rounds": 3 if config.quick else ROUNDS,
        "rows": {"customers": size.customers, "products": size.products, "orders": size.orders},
    }
    try:
        server = config.resources.get("postgres", postgres_server)
    except ServerUnavailable as exc:
        skipped = [Measurement("datatier", "Client", skipped=str(exc))]
        return WorkloadResult(NAME, DESCRIPTION, params, skipped)
    shop = shop_database(size, server.url)
    params["server"] = server.describe()
    measurements, checks, error = asyncio.run(_measure(server, shop, calls, config))
    ratios = headline_ratios(measurements, TARGET, floor=FLOOR)
    return WorkloadResult(NAME, DESCRIPTION, params, measurements, ratios, checks, error)


WORKLOADS = {NAME: run}
__all__ = ["NAME", "WORKLOADS", "run"]
