"""The benchmark suite runs end to end and its input schema stays valid and reproducible.

No timing assertions: numbers belong in the report, not in pass/fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.datagen.blog_gen import BlogSize, generate_blog
from bench.datagen.schema_gen import DATA_FILE, render_schema, schema_stats
from bench.workloads.client import first_difference
from datatier.schema import load_schema
from tests.harness.servers import Server

ROOT = Path(__file__).resolve().parent.parent


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
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "schema", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
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
    assert "schema.parse_validate" in (out / "report.md").read_text(encoding="utf-8")


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


CLIENT_WORKLOADS = {"client.find_unique", "client.find_many_1000", "client.nested"}
FLOOR = ("asyncpg", "prepared, one connection")


@pytest.mark.postgres
def test_quick_client_run(tmp_path: Path, postgres_server: Server) -> None:
    env = {**os.environ, "DATATIER_BENCH_POSTGRES_URL": postgres_server.require()}
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "client", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    workloads = {w["name"]: w for w in data["workloads"]}
    assert set(workloads) == CLIENT_WORKLOADS
    for name, workload in workloads.items():
        assert workload["error"] is None, name
        measured = {(m["subject"], m["operation"]): m for m in workload["measurements"]}
        for key in (("datatier", "Client"), FLOOR, ("asyncpg", "pool")):
            _assert_positive(measured[key])
        # ORM peers live outside the venv: measured, or skipped with the reason.
        assert all((m["stats"] is None) == bool(m["skipped"]) for m in measured.values())
        checks = {c["name"]: c for c in workload["checks"]}
        assert checks["same results as asyncpg prepared, one connection"]["passed"], name
        floor_ratio = next(r for r in workload["ratios"] if r["peer"] == " ".join(FLOOR))
        assert floor_ratio["value"] > 0 and floor_ratio["target"] in (1.3, 1.5)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert all(name in report for name in CLIENT_WORKLOADS)


def _assert_positive(measurement: dict[str, Any]) -> None:
    stats = measurement["stats"]
    assert stats["reps"] == 50
    assert 0 < stats["min_ms"] <= stats["median_ms"] <= stats["p95_ms"]
    assert measurement["calls_per_s"] > 0
