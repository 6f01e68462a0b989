"""The README's walk-through, run as a user runs it: in a copy of examples/quickstart."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.harness.backends import Backend

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "quickstart"
DATATIER = str(Path(sys.executable).parent / "datatier")


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DATATIER, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_quickstart_walkthrough(tmp_path: Path) -> None:
    work = tmp_path / "quickstart"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("*.db"))

    validated = _run(work, "validate")
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout.strip() == "schema.prisma is valid: 4 models, 1 enum, 4 relations"

    checked = _run(work, "format", "--check")
    assert checked.returncode == 0, checked.stderr

    pushed = _run(work, "db", "push")
    assert pushed.returncode == 0, pushed.stderr
    assert "created 5 tables, 6 indexes, 5 foreign keys" in pushed.stdout
    with sqlite3.connect(work / "dev.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"Member", "Project", "Task", "Label", "_LabelToProject"} <= tables

    again = _run(work, "db", "push")
    assert again.returncode == 0, again.stderr
    assert "already in sync with the schema, nothing changed" in again.stdout


def test_client_tour_runs(sql_backend: Backend) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE.parent / "client_tour.py"), sql_backend.url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "refused: unique_violation ('email',)" in result.stdout
    assert "tags in the transaction 2" in result.stdout
    assert "typed stats 2 11" in result.stdout
