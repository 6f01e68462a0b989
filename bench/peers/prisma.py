"""Prisma's schema validator (its WebAssembly build), timed in-process under Node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "prisma_validate.mjs"
PACKAGE = Path("node_modules") / "@prisma" / "prisma-schema-wasm"


@dataclass(frozen=True)
class PrismaTimings:
    """Raw samples (ns) per operation (``validate``, ``get_dmmf``) and what produced them."""

    version: str
    node: str
    samples_ns: dict[str, list[int]]


class PeerUnavailable(Exception):
    """The peer cannot run here (no Node, no package, or it failed); the message says why."""


def oracle_home() -> Path:
    """Where the prisma-oracle tools keep their npm packages (as their ``run`` script decides)."""
    if home := os.environ.get("PRISMA_ORACLE_HOME"):
        return Path(home)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "prisma-oracle"


def time_prisma(schema: Path, *, reps: int, warmup: int, timeout: float = 600) -> PrismaTimings:
    """Time Prisma's ``validate`` and ``get_dmmf`` on ``schema``; raises ``PeerUnavailable``."""
    node = shutil.which("node")
    if node is None:
        raise PeerUnavailable("node is not on PATH")
    package = oracle_home() / PACKAGE
    if not (package / "package.json").is_file():
        raise PeerUnavailable(
            f"{package} is missing (run ../shared/tools/prisma-oracle/prisma-dmmf once)"
        )
    command = [
        node, "--expose-gc", str(SCRIPT), "--package", str(package), "--schema", str(schema),
        "--reps", str(reps), "--warmup", str(warmup),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise PeerUnavailable(f"prisma validator timed out after {timeout:.0f} s") from exc
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no output"]
        reason = next((line for line in lines if line.startswith("Error")), lines[-1])
        raise PeerUnavailable(f"prisma validator exited {done.returncode}: {reason[:300]}")
    data = json.loads(done.stdout)
    return PrismaTimings(
        version=str(data["version"]),
        node=str(data["node"]),
        samples_ns={
            name: [int(s) for s in samples] for name, samples in data["operations"].items()
        },
    )
