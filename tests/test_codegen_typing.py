"""The generated client's types under mypy --strict and pyright.

The demo (blog) client is generated into a temporary project laid out like this
repository (``tests/golden/codegen/demo``), beside copies of ``tests/typing/ok_usage.py``
(no error allowed) and ``tests/typing/bad_usage.py`` (an error on each ``# E:`` line and
on no other). Pyright is installed once, pinned, into ``~/.cache/datatier-pyright`` with
npm; without npm the pyright half is skipped, except under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from datatier.codegen import generate_client
from datatier.schema import load_schema
from tests.harness.golden import REPO

PYRIGHT_VERSION = "1.1.414"
PYRIGHT_HOME = Path(
    os.environ.get("DATATIER_PYRIGHT_HOME", Path.home() / ".cache" / "datatier-pyright")
)
TYPING = REPO / "tests" / "typing"
FILES = ("ok_usage.py", "bad_usage.py")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway project: ``datatier`` (a link), the freshly generated package, the usage files."""
    root = tmp_path_factory.mktemp("typing")
    (root / "datatier").symlink_to(REPO / "datatier", target_is_directory=True)
    (root / "tests" / "typing").mkdir(parents=True)
    (root / "tests" / "__init__.py").write_text("")
    for name in FILES:
        shutil.copy(TYPING / name, root / "tests" / "typing" / name)
    schema = REPO / "datatier" / "demo" / "schema.prisma"
    generate_client(load_schema(schema), schema, root / "tests" / "golden" / "codegen" / "demo")
    return root


def expected_error_lines() -> set[int]:
    lines = (TYPING / "bad_usage.py").read_text().splitlines()
    return {number for number, line in enumerate(lines, 1) if re.search(r"\S\s+# E: ", line)}


def run_mypy(project: Path, name: str) -> tuple[set[int], str]:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", f"tests/typing/{name}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    pattern = re.compile(rf"^tests/typing/{re.escape(name)}:(\d+): error:", re.MULTILINE)
    return {int(m) for m in pattern.findall(result.stdout)}, result.stdout + result.stderr


def test_mypy_accepts_correct_usage(project: Path) -> None:
    lines, output = run_mypy(project, "ok_usage.py")
    assert not lines, output
    assert "Success: no issues found" in output, output


def test_mypy_rejects_each_mistake(project: Path) -> None:
    lines, output = run_mypy(project, "bad_usage.py")
    assert lines == expected_error_lines(), output


def pyright() -> Path:
    """The pinned pyright, installed on first use; skips when npm is missing (outside CI)."""
    binary = PYRIGHT_HOME / "node_modules" / ".bin" / "pyright"
    package = PYRIGHT_HOME / "node_modules" / "pyright" / "package.json"
    if binary.exists() and json.loads(package.read_text())["version"] == PYRIGHT_VERSION:
        return binary
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but node/npm are not on PATH: pyright cannot run")
        pytest.skip("node and npm are needed to install pyright")
    subprocess.run(
        [npm, "install", "--no-save", "--prefix", str(PYRIGHT_HOME), f"pyright@{PYRIGHT_VERSION}"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return binary


@pytest.fixture(scope="module")
def pyright_report(project: Path) -> dict[str, set[int]]:
    """File name -> the (1-based) lines pyright reports errors on, for both usage files."""
    result = subprocess.run(
        [
            str(pyright()),
            "--outputjson",
            "--pythonpath",
            sys.executable,
            *(f"tests/typing/{name}" for name in FILES),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(result.stdout)
    errors: dict[str, set[int]] = {name: set() for name in FILES}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            name = Path(diagnostic["file"]).name
            errors.setdefault(name, set()).add(diagnostic["range"]["start"]["line"] + 1)
    return errors


def test_pyright_accepts_correct_usage(pyright_report: dict[str, set[int]]) -> None:
    assert pyright_report["ok_usage.py"] == set()


def test_pyright_rejects_each_mistake(pyright_report: dict[str, set[int]]) -> None:
    assert pyright_report["bad_usage.py"] == expected_error_lines()
