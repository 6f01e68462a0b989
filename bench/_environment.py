"""Where a run happened: machine, Python, package versions, source revision."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

# Python packages whose versions matter to the numbers; peers join this list as they arrive.
PACKAGES = (
    "datatier", "sqlalchemy", "psycopg", "psycopg-pool", "asyncpg", "orjson", "greenlet",
    "tortoise-orm", "piccolo", "matplotlib", "prisma",
)  # fmt: skip


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each package, None when it is not installed."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# Programs whose versions matter to the numbers: the physical limits and the Node peers.
TOOLS = {"pgbench": "--version", "redis-benchmark": "--version", "node": "--version"}


def tool_versions() -> dict[str, str | None]:
    """The first line of ``<tool> --version`` for each of ``TOOLS``, None when not on PATH."""
    versions: dict[str, str | None] = {}
    for tool, flag in TOOLS.items():
        path = shutil.which(tool)
        if path is None:
            versions[tool] = None
            continue
        try:
            done = subprocess.run([path, flag], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            versions[tool] = None
            continue
        lines = (done.stdout or done.stderr).strip().splitlines()
        versions[tool] = lines[0] if lines else None
    return versions


def git_revision() -> dict[str, Any]:
    """The commit the run measured and whether the tree had uncommitted changes."""
    try:
        head = _git("rev-parse", "HEAD")
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": head, "dirty": dirty}


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def describe(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The environment of this run as JSON-ready data; ``extra`` adds peer details."""
    return {
        "machine": {
            "platform": platform.platform(),
            "architecture": platform.machine(),
            "processor": platform.processor() or None,
            "cpu_count": os.cpu_count(),
        },
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": os.path.basename(sys.executable),
        },
        "packages": package_versions(),
        "tools": tool_versions(),
        "git": git_revision(),
        **(extra or {}),
    }
