"""Reading the oracle's golden files: the manifest, schema paths, and Prisma's DDL made loadable."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

__all__ = ["GOLDEN", "MANIFEST", "REPO", "prisma_sql", "schema_path"]

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "conformance" / "golden"
MANIFEST: dict[str, Any] = json.loads((GOLDEN / "MANIFEST.json").read_text())


def schema_path(entry: dict[str, Any]) -> Path:
    """Where a manifest entry's schema lives (shared schemas sit beside the repository)."""
    path = str(entry["path"])
    if path.startswith("<shared>/"):
        shared = Path(os.environ.get("DATATIER_SHARED_DIR", REPO.parent / "shared"))
        return shared / path.removeprefix("<shared>/")
    return REPO / path


def prisma_sql(entry: dict[str, Any], provider: str) -> str:
    """Prisma's SQL for ``entry`` on ``provider``, with its SQLite Json defaults quoted.

    Prisma's engine writes Json defaults unquoted on SQLite (``DEFAULT {}``), which SQLite
    rejects; datatier quotes objects and arrays, so the golden is quoted the same way.
    """
    sql = (GOLDEN / entry["group"] / f"{entry['name']}.{provider}.sql").read_text()
    if provider == "sqlite":
        sql = re.sub(r"(JSONB(?: NOT NULL)? DEFAULT )(\{.*\}|\[.*\])(,?)$", _quote, sql, flags=re.M)
    return sql


def _quote(match: re.Match[str]) -> str:
    return match[1] + "'" + match[2].replace("'", "''") + "'" + match[3]
