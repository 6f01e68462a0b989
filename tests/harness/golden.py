"""Reading the oracle's golden files: the manifest, schema paths, and Prisma's DDL made loadable."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

__all__ = ["GOLDEN", "MANIFEST", "REPO", "SHARED_COPIES", "prisma_sql", "schema_path", "shared_dir"]

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "conformance" / "golden"
MANIFEST: dict[str, Any] = json.loads((GOLDEN / "MANIFEST.json").read_text())


SHARED_COPIES = REPO / "tests" / "conformance" / "schemas" / "shared"


def shared_dir() -> Path:
    """The team's shared folder (beside the repository, or ``DATATIER_SHARED_DIR``)."""
    return Path(os.environ.get("DATATIER_SHARED_DIR", REPO.parent / "shared"))


def schema_path(entry: dict[str, Any]) -> Path:
    """Where a manifest entry's schema lives. The shared example schemas are read from the
    repository's copies (``tests/test_shared_copies.py`` keeps them equal to the originals)."""
    path = str(entry["path"])
    if path.startswith("<shared>/schemas/"):
        return SHARED_COPIES / path.removeprefix("<shared>/schemas/")
    return REPO / path


def prisma_sql(entry: dict[str, Any], provider: str) -> str:
    """Prisma's SQL for ``entry`` on ``provider``, with its SQLite Json defaults quoted.

    Prisma's engine writes Json defaults unquoted on SQLite (``DEFAULT {}``), which SQLite
    rejects; datatier quotes objects and arrays, so the golden is quoted the same way.
    """
    sql: str = (GOLDEN / entry["group"] / f"{entry['name']}.{provider}.sql").read_text()
    if provider == "sqlite":
        sql = re.sub(r"(JSONB(?: NOT NULL)? DEFAULT )(\{.*\}|\[.*\])(,?)$", _quote, sql, flags=re.M)
    return sql


def _quote(match: re.Match[str]) -> str:
    return match[1] + "'" + match[2].replace("'", "''") + "'" + match[3]
