"""The benchmark suite runs end to end and its input schema stays valid and reproducible.

No timing assertions: numbers belong in the report, not in pass/fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.datagen.schema_gen import DATA_FILE, render_schema, schema_stats
from datatier.schema import load_schema

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
