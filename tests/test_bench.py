"""The benchmark suite runs end to end and its input schema stays valid and reproducible.

No timing assertions: numbers belong in the report, not in pass/fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bench import _environment, charts
from bench._probe import leading_keyword
from bench._results import RunResult
from bench._server import PGDATA_ENV, PrivateCluster, ServerUnavailable, postgres_server
from bench.datagen.blog_db import WRITE_POSTS, BlogDatabase, blog_database
from bench.datagen.blog_gen import BlogSize, generate_blog
from bench.datagen.schema_gen import DATA_FILE, render_schema, schema_stats
from bench.datagen.shop_gen import ShopSize, generate_shop
from bench.peers import pgbench
from bench.report import render_report
from bench.workloads.client import first_difference
from datatier.schema import load_schema
from tests.harness.servers import Server

ROOT = Path(__file__).resolve().parent.parent


def quick_run(out: Path, *only: str, postgres: str | None = None, timeout: float = 600) -> Any:
    """``python -m bench --quick --only ...`` writing to ``out`` (on ``postgres`` when given):
    it must succeed; its ``results.json``."""
    env = dict(os.environ)
    if postgres is not None:
        env["DATATIER_BENCH_POSTGRES_URL"] = postgres
    command = [sys.executable, "-m", "bench", "--quick", "--out", str(out)]
    for name in only:
        command += ["--only", name]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_generated_schema_matches_the_committed_file() -> None:
    assert render_schema() == DATA_FILE.read_text(encoding="utf-8")


def test_generated_schema_is_large_and_valid() -> None:
    stats = schema_stats()
    assert stats.models == 300
    assert 3_800 <= stats.fields <= 4_200
    schema = load_schema(DATA_FILE)
    assert len(schema.models) == 300
    assert sum(len(model.fields) for model in schema.models) == stats.fields


def test_quick_run_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "results"
    data = quick_run(out, "schema.parse_validate")
    assert data["mode"] == "quick"
    (workload,) = data["workloads"]
    assert workload["name"] == "schema.parse_validate"
    datatier = [m for m in workload["measurements"] if m["subject"] == "datatier"]
    assert {m["operation"] for m in datatier} == {"parse+validate+IR", "parse only"}
    for measurement in datatier:
        stats = measurement["stats"]
        assert stats["reps"] == 3
        assert 0 < stats["min_ms"] <= stats["median_ms"] <= stats["p95_ms"]
        assert measurement["peak_memory_bytes"] > 0
    # The Prisma peer is measured or skipped with a reason, never silently absent.
    prisma = [m for m in workload["measurements"] if m["subject"] == "prisma"]
    assert prisma
    assert all((m["stats"] is None) == bool(m["skipped"]) for m in prisma)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "schema.parse_validate" in report
    # The machine is shared: the load average is part of the conditions, and per workload.
    assert len(data["environment"]["load_average"]["end"]) == 3
    assert "load average (1 min) before, after" in workload["params"]
    assert "- load average (1, 5, 15 min): " in report


def test_unknown_workload_is_an_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nope", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no workload matches nope" in done.stderr


def test_blog_data_is_deterministic_and_sized() -> None:
    size = BlogSize.for_mode(quick=True)
    data = generate_blog(size)
    assert data == generate_blog(size)
    assert len(data.table("users").rows) == 200
    assert len(data.table("Post").rows) == 2_000
    assert len(data.table("Comment").rows) == 10_000
    created = [row[8] for row in data.table("Post").rows]
    assert len(set(created)) == len(created)  # "latest first" has one right answer
    assert all(value.microsecond % 1000 == 0 for value in created)  # timestamp(3)


def test_first_difference_names_the_path() -> None:
    assert first_difference([{"a": 1, "b": [1, 2]}], [{"a": 1, "b": [1, 2]}]) is None
    assert first_difference([{"a": 1, "b": [1, 2]}], [{"a": 1, "b": [1, 3]}]) == "[0].b[1]: 2 != 3"
    assert first_difference({"a": 1}, {"a": 1.0}) == ".a: 1 != 1.0"  # types count too


CLIENT_WORKLOADS = {
    "client.find_unique",
    "client.find_many_50",
    "client.find_many_1000",
    "client.filter_page",
    "client.nested",
    "client.create_post",
    "client.update",
    "client.upsert",
    "client.increment_contended",
}
FLOOR = ("asyncpg", "prepared, one connection")
SUBJECTS = {
    ("datatier", "Client"),
    FLOOR,
    ("asyncpg", "pool"),
    ("psycopg", "async pool"),
    ("sqlalchemy", "Core, async"),
    ("sqlalchemy", "ORM, AsyncSession"),
    ("tortoise", "ORM"),
    ("piccolo", "ORM"),
}


@pytest.mark.postgres
def test_quick_client_run(tmp_path: Path, counted_postgres_server: Server) -> None:
    """Every client workload runs on a server that counts statements; the numbers are well formed."""
    out = tmp_path / "results"
    data = quick_run(out, "client", "shop", postgres=counted_postgres_server.require())
    assert data["format_version"] == 3
    workloads = {w["name"]: w for w in data["workloads"]}
    assert set(workloads) == CLIENT_WORKLOADS | {"shop.order"}
    shop = workloads.pop("shop.order")
    assert shop["error"] is None and all(c["passed"] for c in shop["checks"])
    assert [m["statements_per_op"] for m in shop["measurements"]][:2] == [1.0, 1.0]
    for name, workload in workloads.items():
        assert workload["error"] is None, name
        assert workload["params"]["server"]["counts_statements"] is True
        measured = {(m["subject"], m["operation"]): m for m in workload["measurements"]}
        # Every in-process subject is measured or skipped with the reason, never silently absent.
        assert measured.keys() >= SUBJECTS, name
        assert all((m["stats"] is None) == bool(m["skipped"]) for m in measured.values())
        for key in (("datatier", "Client"), FLOOR, ("asyncpg", "pool")):
            _assert_rounds(measured[key], workload["params"])
        # The physical limit: pgbench running the floor's SQL, or skipped saying why.
        (limit,) = [m for m in workload["measurements"] if m["subject"] == "pgbench"]
        assert limit["stats"] is not None or "pgbench" in limit["skipped"]
        checks = {c["name"]: c for c in workload["checks"]}
        assert checks["same results as asyncpg prepared, one connection"]["passed"], name
        kinds = {r["kind"]: r for r in workload["ratios"] if r["kind"]}
        assert kinds["floor"]["peer"] == " ".join(FLOOR)
        assert kinds["floor"]["value"] > 0 and kinds["floor"]["target"] in (1.3, 1.5)
        assert "best peer" in kinds
    # One statement per read however deep, as pg_stat_statements counted it.
    for name in ("client.find_unique", "client.find_many_50", "client.nested"):
        datatier = next(m for m in workloads[name]["measurements"] if m["subject"] == "datatier")
        assert datatier["statements_per_op"] == 1.0, name
    report = (out / "report.md").read_text(encoding="utf-8")
    assert all(name in report for name in CLIENT_WORKLOADS)
    assert "## Headline" in report
    # Charts are drawn, or the report says why not.
    assert (out / "charts" / "summary.png").is_file() or "Charts: skipped" in report


@pytest.mark.postgres
def test_quick_cache_run(tmp_path: Path, counted_postgres_server: Server) -> None:
    """find_unique from each cache tier: right answers, no SQL on a hit, ratios to the uncached call."""
    out = tmp_path / "results"
    workloads = quick_run(out, "cache", postgres=counted_postgres_server.require(), timeout=300)[
        "workloads"
    ]
    assert [w["name"] for w in workloads] == ["cache.memory", "cache.redis"]
    for workload in workloads:
        assert workload["error"] is None
        assert all(c["passed"] for c in workload["checks"]), workload["checks"]
        names = {c["name"] for c in workload["checks"]}
        assert {"cached answer equals the database's"} <= names  # right answers
        assert any(name.endswith("tier hits run no SQL") for name in names)
        if workload["name"] == "cache.redis":  # the raw GET is the fast one a user gets
            assert "the raw GET parses with hiredis" in names
        cached, uncached, floor = workload["measurements"]
        assert (cached["subject"], uncached["subject"]) == (
            "datatier Client",
            "datatier Client, no cache",
        )
        assert cached["statements_per_op"] < 0.05 and uncached[
            "statements_per_op"
        ] == pytest.approx(1.0, abs=0.05)
        assert floor["subject"] in (
            "asyncpg prepared, one connection",
            "redis-py GET (asyncio, hiredis)",
        )
        assert all(m["throughput"]["median"] > 0 for m in workload["measurements"])
        assert [r["peer"].split(" ")[0] for r in workload["ratios"]] == [
            "datatier",
            floor["subject"].split(" ")[0],
        ]


def _assert_rounds(measurement: dict[str, Any], params: dict[str, Any]) -> None:
    stats = measurement["stats"]
    assert stats["reps"] == params["calls"] * params["rounds"]
    assert 0 < stats["min_ms"] <= stats["median_ms"] <= stats["p99_ms"] <= stats["max_ms"]
    spread = measurement["throughput"]
    assert 0 < spread["min"] <= spread["median"] <= spread["max"]
    assert measurement["rounds"] == params["rounds"] >= 3
    assert measurement["client_cpu_us"] > 0
    assert measurement["statements_per_op"] >= 1
    assert measurement["server_cpu_us"] is not None


def test_quick_embedded_run(tmp_path: Path) -> None:
    """The SQLite workloads: datatier and raw sqlite3 answer alike and are both measured."""
    root = Path(tempfile.mkdtemp(prefix="datatier-bench-test-", dir="/var/tmp"))
    out = tmp_path / "results"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench", "--quick", "--only", "embedded", "--out", str(out)],
            cwd=ROOT,
            env={**os.environ, PGDATA_ENV: str(root / "pgdata")},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert (root / "blog-2000.db").is_file()  # beside the (unused) cluster directory
    finally:
        shutil.rmtree(root, ignore_errors=True)
    workloads = json.loads((out / "results.json").read_text(encoding="utf-8"))["workloads"]
    assert [w["name"] for w in workloads] == [
        "embedded.find_unique",
        "embedded.find_many_50",
        "embedded.nested",
    ]
    for workload in workloads:
        assert workload["error"] is None
        assert [c["passed"] for c in workload["checks"]] == [True]
        measured = {(m["subject"], m["operation"]) for m in workload["measurements"]}
        assert measured == {("datatier", "Client"), ("sqlite3", "one connection")}
        assert all(m["throughput"]["median"] > 0 for m in workload["measurements"])
        (floor,) = workload["ratios"]
        assert floor["kind"] == "floor" and floor["value"] > 0


def test_quick_limits_run(tmp_path: Path) -> None:
    """redis-benchmark GET runs against a private redis-server, or says why it cannot."""
    out = tmp_path / "results"
    (workload,) = quick_run(out, "limits", timeout=300)["workloads"]
    assert workload["name"] == "limits.redis_get"
    assert [m["operation"] for m in workload["measurements"]] == ["GET, 1 client", "GET, 8 clients"]
    for m in workload["measurements"]:
        if m["stats"] is None:
            assert "redis" in m["skipped"]
            continue
        assert m["throughput"]["median"] > 0
        assert m["stats"]["median_ms"] <= m["stats"]["p99_ms"]


def test_shop_data_is_deterministic_and_sized() -> None:
    size = ShopSize.for_mode(quick=True)
    data = generate_shop(size)
    assert data == generate_shop(size)
    assert len(data.table("Product").rows) == 500
    assert len(data.table("Order").rows) == 1_000
    items = data.table("OrderItem").rows
    assert 1_000 <= len(items) <= 5_000
    # Every order's total is the sum of its lines.
    totals: dict[int, Decimal] = {}
    for _id, order, _product, quantity, price in items:
        totals[order] = totals.get(order, Decimal(0)) + quantity * price
    assert all(row[3] == totals[row[0]] for row in data.table("Order").rows)


def test_full_size_is_the_issues() -> None:
    blog, shop = BlogSize.for_mode(quick=False), ShopSize.for_mode(quick=False)
    assert (blog.users, blog.posts, blog.comments) == (10_000, 100_000, 500_000)
    assert (shop.products, shop.orders) == (10_000, 50_000)


def test_leading_keyword_classifies_statements() -> None:
    assert leading_keyword("  /* c */ -- x\n begin") == "BEGIN"
    assert leading_keyword('SELECT "id" FROM "Post"') == "SELECT"
    assert leading_keyword("") == ""


def test_pgbench_scripts_run_the_floors_sql() -> None:
    database = BlogDatabase(
        "postgresql://x/y", BlogSize.for_mode(quick=True), 0.0, False, (7, 8, 9)
    )
    assert ":id" in pgbench.script("find_unique", database)
    assert 'WHERE "id" = 7' in pgbench.script("increment_views", database)
    assert "\\gset" in pgbench.script("create_post", database)
    with pytest.raises(ValueError, match="no pgbench script for 'nope'"):
        pgbench.script("nope", database)


def test_unreachable_server_is_a_clear_error() -> None:
    url = "postgresql://postgres@127.0.0.1:1/nowhere"
    expected = r"DATATIER_BENCH_POSTGRES_URL.*127\.0\.0\.1:1"
    with (
        pytest.raises(ServerUnavailable, match=expected),
        postgres_server({"DATATIER_BENCH_POSTGRES_URL": url}),
    ):
        pass


def test_report_without_matplotlib_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def missing() -> None:
        raise ImportError("matplotlib is not installed (run it)")

    monkeypatch.setattr(charts, "_pyplot", missing)
    run = RunResult("2026-01-01T00:00:00", "quick", _environment.describe(), [])
    drawn, note = charts.draw_charts(run, tmp_path / "charts")
    assert drawn == {} and note is not None and "matplotlib is not installed" in note
    assert "Charts: skipped: matplotlib" in render_report(run, drawn, note)


@pytest.mark.postgres
def test_private_cluster_keeps_the_data_between_runs() -> None:
    """The bench's own cluster: made once, started and stopped per run; the dataset is reused."""
    # Not under pytest's tmp_path: as root the server runs as `postgres`, which must reach it.
    root = Path(tempfile.mkdtemp(prefix="datatier-bench-test-", dir="/var/tmp"))
    try:
        try:
            PrivateCluster.find(root / "pgdata")
        except ServerUnavailable as exc:
            pytest.skip(str(exc))
        env = {PGDATA_ENV: str(root / "pgdata")}
        size = BlogSize(20, 100, 300, tags=5, categories=3)
        for attempt in range(2):
            with postgres_server(env) as server:
                assert server.origin.startswith("private cluster"), server.notes
                assert server.counts_statements
                with blog_database(size, server) as database:
                    assert database.reused == (attempt == 1)
                    assert len(database.write_post_ids) == WRITE_POSTS
            assert not (root / "pgdata" / "postmaster.pid").exists()  # stopped after each run
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.postgres
def test_quick_migrate_dev_run(tmp_path: Path, counted_postgres_server: Server) -> None:
    """``schema.migrate_dev`` times the first migration and one change against its target."""
    out = tmp_path / "results"
    (workload,) = quick_run(out, "schema.migrate_dev", postgres=counted_postgres_server.require())[
        "workloads"
    ]
    assert workload["name"] == "schema.migrate_dev" and workload["error"] is None
    operations = {m["operation"]: m["stats"] for m in workload["measurements"]}
    assert set(operations) == {"one change", "init (first migration)"}
    assert all(stats["reps"] == 1 and stats["median_ms"] > 0 for stats in operations.values())
    assert "Target: one change under 5000 ms" in (out / "report.md").read_text(encoding="utf-8")
