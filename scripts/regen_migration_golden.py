#!/usr/bin/env python3
"""Regenerate the migration goldens: Prisma's SQL for every schema change under
``tests/golden/migrations/<case>/`` (``old.prisma`` -> ``new.prisma``).

For each case this runs ``prisma-ddl new.prisma <provider> --from old.prisma``
from ``<shared>/tools/prisma-oracle/`` and writes ``prisma.<provider>.sql`` beside
the schemas, for ``postgresql`` always and for ``sqlite`` when both schemas are
portable (no native types, scalar lists or Unsupported) and valid for SQLite. The schemas are written
for ``postgresql``; the SQLite run uses copies with the provider switched.
``tests/test_migration_plan.py`` reads these files, so it runs without Node.

Usage: ``.venv/bin/python scripts/regen_migration_golden.py [CASE ...]``.
Environment: ``DATATIER_SHARED_DIR`` (default ``<repo>/../shared``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "golden" / "migrations"
PROVIDER_LINE = re.compile(r'(provider\s*=\s*)"(postgresql|postgres|sqlite)"')


def oracle() -> Path:
    shared = Path(os.environ.get("DATATIER_SHARED_DIR", REPO.parent / "shared"))
    return shared / "tools" / "prisma-oracle" / "prisma-ddl"


def providers(case: Path) -> list[str]:
    """postgresql, and sqlite when both schemas are portable and valid for SQLite."""
    sys.path.insert(0, str(REPO))
    from datatier.errors import SchemaError
    from datatier.schema import validate_schema_text

    for side in ("old", "new"):
        text = PROVIDER_LINE.sub(r'\1"sqlite"', (case / f"{side}.prisma").read_text(), count=1)
        try:
            schema = validate_schema_text(text)
        except SchemaError:
            return ["postgresql"]
        if not schema.is_portable:
            return ["postgresql"]
    return ["postgresql", "sqlite"]


def prisma_sql(case: Path, provider: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        for side in ("old", "new"):
            text = (case / f"{side}.prisma").read_text()
            (Path(tmp) / f"{side}.prisma").write_text(
                PROVIDER_LINE.sub(rf'\1"{provider}"', text, count=1)
            )
        run = subprocess.run(
            [str(oracle()), "new.prisma", provider, "--from", "old.prisma"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    if run.returncode != 0:
        raise SystemExit(f"{case.name} ({provider}): prisma-ddl failed:\n{run.stderr}")
    return run.stdout


def main(argv: list[str]) -> int:
    cases = sorted(p for p in CASES.iterdir() if (p / "old.prisma").is_file())
    if argv:
        cases = [c for c in cases if c.name in argv]
    for case in cases:
        for provider in providers(case):
            (case / f"prisma.{provider}.sql").write_text(prisma_sql(case, provider))
            print(f"{case.name}: prisma.{provider}.sql")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
