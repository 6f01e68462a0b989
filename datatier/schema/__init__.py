"""The schema front end: Prisma schema text -> syntax tree -> validated, resolved IR."""

from __future__ import annotations

from pathlib import Path

from datatier.errors import Diagnostic, SchemaError, SchemaNotFound
from datatier.schema._ast import SchemaFile
from datatier.schema._gc import collector_paused
from datatier.schema._ir import (
    CompositeType,
    Datasource,
    DefaultValue,
    Enum,
    EnumValue,
    Extension,
    Field,
    ForeignKey,
    Generator,
    Index,
    IndexField,
    JoinTable,
    Model,
    NativeType,
    PrimaryKey,
    ReferentialAction,
    Relation,
    ScalarType,
    Schema,
    UrlSource,
)
from datatier.schema._parser import parse_schema_text
from datatier.schema._validate import build_schema

__all__ = [
    "CompositeType",
    "Datasource",
    "DefaultValue",
    "Enum",
    "EnumValue",
    "Extension",
    "Field",
    "ForeignKey",
    "Generator",
    "Index",
    "IndexField",
    "JoinTable",
    "Model",
    "NativeType",
    "PrimaryKey",
    "ReferentialAction",
    "Relation",
    "ScalarType",
    "Schema",
    "UrlSource",
    "load_schema",
    "parse_schema_files",
    "parse_schema_text",
    "schema_files",
    "validate_schema_text",
]


def schema_files(path: str | Path) -> list[Path]:
    """The ``.prisma`` files behind ``path``: the file itself, or every one in a folder (recursively)."""
    target = Path(path)
    if target.is_dir():
        files = sorted(
            p for p in target.rglob("*.prisma") if p.is_file() and "migrations" not in p.parts
        )
        if not files:
            raise SchemaNotFound(f"no .prisma files in the folder {target}")
        return files
    if not target.is_file():
        raise SchemaNotFound(f"schema file {target} does not exist; pass --schema PATH")
    return [target]


def parse_schema_files(paths: list[Path]) -> tuple[list[SchemaFile], list[Diagnostic]]:
    """Parse several files; returns the trees and every syntax error."""
    trees: list[SchemaFile] = []
    diagnostics: list[Diagnostic] = []
    for file in paths:
        text = file.read_text(encoding="utf-8")
        tree, errors = parse_schema_text(str(file), text)
        trees.append(tree)
        diagnostics.extend(errors)
    return trees, diagnostics


def load_schema(path: str | Path) -> Schema:
    """Read, parse and validate the schema at ``path`` (a file or a folder of ``.prisma`` files).

    Raises ``SchemaError`` with every problem found, ``SchemaNotFound`` if there is nothing to read.
    """
    with collector_paused():
        trees, diagnostics = parse_schema_files(schema_files(path))
        if diagnostics:
            raise SchemaError(diagnostics)
        return build_schema(trees, str(path))


def validate_schema_text(text: str, path: str = "schema.prisma") -> Schema:
    """Parse and validate schema text held in memory."""
    with collector_paused():
        tree, diagnostics = parse_schema_text(path, text)
        if diagnostics:
            raise SchemaError(diagnostics)
        return build_schema([tree], path)
