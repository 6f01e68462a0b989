"""Running Prisma Client 7 (tools/prisma-client/ops.mjs) on a batch of calls in one process."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

__all__ = ["BATCH", "RUNNER", "Outcome", "prisma_schema_text", "require_prisma", "run_prisma"]

_PROVIDER = re.compile(r'provider\s*=\s*"(?:postgresql|postgres|sqlite)"')
RUNNER = Path(__file__).resolve().parents[2] / "tools" / "prisma-client" / "run"
# ops.mjs writing its answers to a file: a large output through the pipe gets cut at exit.
BATCH = RUNNER.parent / "batch.mjs"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One call's answer from Prisma: ``result`` (its JSON) or ``error`` (``name``, ``code``, ``message``)."""

    result: Any = None
    error: dict[str, Any] | None = None

    def value(self) -> Any:
        """The result; an error fails the test with Prisma's message."""
        assert self.error is None, f"Prisma Client failed: {self.error}"
        return self.result


def require_prisma() -> Path:
    """The runner; skips without Node.js and npm, except under CI=true, where it fails."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        reason = f"{' and '.join(missing)} not found: tools/prisma-client needs Node.js and npm"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return RUNNER


def prisma_schema_text(text: str, provider: str) -> str:
    """``text`` with the datasource's provider set to ``provider`` (Prisma wants the URL's own)."""
    return _PROVIDER.sub(f'provider = "{provider}"', text)


def run_prisma(
    schema_text: str, url: str, calls: list[dict[str, Any]], workdir: Path
) -> list[Outcome]:
    """Each call (``{"model", "op", "args"}``) through Prisma Client, in order, in one Node process."""
    runner = require_prisma()
    schema_file = workdir / "prisma-schema" / "schema.prisma"
    schema_file.parent.mkdir(parents=True, exist_ok=True)
    schema_file.write_text(schema_text)
    lines = b"".join(orjson.dumps(call) + b"\n" for call in calls)
    answers_file = workdir / "prisma-schema" / "answers.jsonl"
    done = subprocess.run(
        [str(runner), str(schema_file), str(BATCH), str(answers_file)],
        input=lines,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": url},
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    answers = [
        orjson.loads(line) for line in answers_file.read_bytes().splitlines() if line.strip()
    ]
    assert len(answers) == len(calls), done.stderr.decode(errors="replace")
    return [Outcome(a.get("result"), a.get("error")) for a in answers]
