"""Writing a generated package to disk, and where it goes by default."""

from __future__ import annotations

from pathlib import Path

from datatier.codegen._build import build_package
from datatier.codegen._render import render_package
from datatier.schema import Schema

__all__ = ["DEFAULT_OUTPUT", "default_output", "generate_client"]

DEFAULT_OUTPUT = "./datatier_client"
_PROVIDERS = ("datatier", "datatier prisma-generator")


def default_output(schema: Schema, schema_path: Path, cwd: Path) -> Path:
    """The ``datatier`` generator block's ``output`` (relative to the schema), else ``./datatier_client``."""
    for generator in schema.generators:
        if generator.provider in _PROVIDERS and generator.output:
            base = schema_path if schema_path.is_dir() else schema_path.parent
            return base / generator.output
    return cwd / DEFAULT_OUTPUT


def generate_client(schema: Schema, schema_path: Path, output: Path) -> list[Path]:
    """Write the typed client package for ``schema`` into ``output``; the files written.

    Files of the package that a previous run wrote and this one does not are removed, so a
    dropped model leaves no stale module behind; nothing else in ``output`` is touched.
    """
    files = render_package(build_package(schema, schema_path, output))
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = output / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written
