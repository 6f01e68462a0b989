"""Workloads ``embedded.*``: datatier's client on SQLite (the embedded default) against raw ``sqlite3``.

The blog dataset in a SQLite file (``bench.datagen.blog_db.blog_sqlite``, kept beside
the private cluster and reused while its marker matches). Reads only, so the file
stays as loaded: by id, the 50 latest posts, and the nested read. Both subjects run
on one event loop in this process; there is no server, so no server CPU or
statement counts.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any

from bench._results import Check, Measurement, WorkloadResult
from bench._rounds import peak_memory_async, run_rounds, summarize
from bench._server import PGDATA_ENV, default_pgdata
from bench.datagen.blog_db import SCHEMA_PATH, blog_sqlite
from bench.datagen.blog_gen import BlogSize
from bench.peers.blog import FIND_MANY_50, FIND_UNIQUE, NESTED, BlogPeer
from bench.peers.datatier_client import DatatierPeer
from bench.peers.sqlite_raw import SqlitePeer
from bench.workloads import RunConfig, Workload
from bench.workloads.client import ROUNDS, ClientWorkload, first_difference, headline_ratios

DATATIER = "datatier Client"
FLOOR = "sqlite3 one connection"
WORKLOADS_LIST = (
    ClientWorkload("embedded.find_unique", FIND_UNIQUE,
                   "One post by its int id on SQLite, every scalar field.", 2_000, 1.3),
    ClientWorkload("embedded.find_many_50", FIND_MANY_50,
                   "The 50 latest posts on SQLite, every scalar field.", 150, 1.5),
    ClientWorkload("embedded.nested", NESTED,
                   "20 users by email, each with their 10 latest posts and each post's comment "
                   "count, on SQLite.", 300, 1.3),
)  # fmt: skip


def data_folder() -> Path:
    """Where the SQLite copy lives: beside the private cluster's data directory."""
    pgdata = Path(os.environ.get(PGDATA_ENV) or default_pgdata())
    return pgdata.parent


async def _measure(
    workload: ClientWorkload, path: Path, config: RunConfig
) -> tuple[list[Measurement], list[Check], str | None]:
    ours: BlogPeer = await DatatierPeer.open(SCHEMA_PATH, f"file:{path}")
    floor: BlogPeer = await SqlitePeer.open(path)
    try:
        size = BlogSize.for_mode(config.quick)
        rng = random.Random(f"{workload.name} {size}")
        calls = workload.calls_for(config.quick)
        args = [rng.randint(1, size.posts) for _ in range(calls)]
        check_args = [*args[:5], size.posts + 1] if workload.op == FIND_UNIQUE else [0]
        op = workload.op
        expected = [ours.plain(op, await getattr(ours, op)(a)) for a in check_args]
        got = [floor.plain(op, await getattr(floor, op)(a)) for a in check_args]
        difference = first_difference(expected, got)
        checks = [Check(f"same results as {FLOOR}", difference is None, difference or "")]
        if difference is not None:
            return [], checks, f"datatier's results differ from {FLOOR}'s: {difference}"
        subjects = [ours, floor]
        calls_ = [getattr(peer, op) for peer in subjects]
        runs = await run_rounds(
            calls_, args, rounds=3 if config.quick else ROUNDS,
            warmup=2 if config.quick else max(20, calls // 10),
        )  # fmt: skip
        measurements = [
            summarize(peer.subject, peer.operation, run,
                      peak_memory_bytes=await peak_memory_async(call, args[0]))
            for peer, call, run in zip(subjects, calls_, runs, strict=True)
        ]  # fmt: skip
        return measurements, checks, None
    finally:
        await ours.close()
        await floor.close()


def _run(workload: ClientWorkload, config: RunConfig) -> WorkloadResult:
    size = BlogSize.for_mode(config.quick)
    path = config.resources.get("blog sqlite", partial(_sqlite_file, size))
    params: dict[str, Any] = {
        "calls": workload.calls_for(config.quick),
        "rounds": 3 if config.quick else ROUNDS,
        "rows": {"users": size.users, "posts": size.posts, "comments": size.comments},
        "database": f"SQLite {sqlite3.sqlite_version}, WAL, one file",
    }
    measurements, checks, error = asyncio.run(_measure(workload, path, config))
    ratios = headline_ratios(measurements, workload.target, floor=FLOOR)
    return WorkloadResult(
        workload.name, workload.description, params, measurements, ratios, checks, error
    )


def _sqlite_file(size: BlogSize) -> AbstractContextManager[Path]:
    """The SQLite dataset, loaded unless reusable (nothing to clean up: the file is kept)."""
    return nullcontext(blog_sqlite(size, data_folder()))


WORKLOADS: dict[str, Workload] = {w.name: partial(_run, w) for w in WORKLOADS_LIST}
