"""The shell session in docs/migrations.md runs as written (SQLite, in an empty folder)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).parents[1] / "docs" / "migrations.md"


def session_block() -> str:
    text = DOC.read_text()
    section = text[text.index("## A session") :]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match is not None, "docs/migrations.md lost its session block"
    return match.group(1)


def test_the_documented_session_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SHADOW_DATABASE_URL")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-e", "-c", session_block()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "--rename User.name=fullName" in output
    assert "exit 2" in output
    assert "rename column" in output
    folders = sorted(p.name for p in (tmp_path / "migrations").iterdir() if p.is_dir())
    assert [f.split("_", 1)[1] for f in folders] == ["init", "full_name"]
    with sqlite3.connect(tmp_path / "dev.db") as conn:
        columns = [r[1] for r in conn.execute('PRAGMA table_info("User")')]
        applied = conn.execute(
            "SELECT count(*) FROM _prisma_migrations WHERE rolled_back_at IS NULL"
        ).fetchone()
    assert columns == ["id", "email", "fullName"]
    assert applied == (2,)
