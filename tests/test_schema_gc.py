"""The schema front end holds the cyclic garbage collector off while it builds its trees.

On large schemas the collector's repeated passes over the growing trees cost more than a
third of parse + validate; these tests check that it does not run during a call, and that
the caller's setting (on or off) is what is left afterwards, also when the schema is invalid.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from datatier.errors import SchemaError
from datatier.schema import load_schema, parse_schema_text, validate_schema_text

BENCH_SCHEMA = Path(__file__).resolve().parent.parent / "bench" / "data" / "schema_300.prisma"
VALID = 'datasource db {\n  provider = "postgresql"\n}\n\nmodel User {\n  id Int @id\n}\n'
INVALID_SEMANTICS = "model User {\n  id Int @id\n  posts Pst[]\n}\n"
INVALID_SYNTAX = "model User {\n  id Int @id(\n}\n"
# Once the collector is back on, the first allocation may sweep the young objects once
# (they move to an older generation); before, a call started dozens of passes, full ones too.
AT_MOST_ONE_YOUNG_PASS = ["generation 0"]


@contextmanager
def collections_counted() -> Iterator[list[str]]:
    """Lists every collection the collector starts while the block runs."""
    started: list[str] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(f"generation {info['generation']}")

    gc.callbacks.append(callback)
    try:
        yield started
    finally:
        gc.callbacks.remove(callback)


@contextmanager
def collector(enabled: bool) -> Iterator[None]:
    was = gc.isenabled()
    gc.enable() if enabled else gc.disable()
    try:
        yield
    finally:
        gc.enable() if was else gc.disable()


def test_no_collection_runs_while_the_300_model_schema_is_validated() -> None:
    text = BENCH_SCHEMA.read_text(encoding="utf-8")
    with collector(True):
        gc.collect()
        with collections_counted() as started:
            schema = validate_schema_text(text, str(BENCH_SCHEMA))
        assert gc.isenabled()
    assert len(schema.models) == 300
    assert started in ([], AT_MOST_ONE_YOUNG_PASS)


def test_no_collection_runs_while_a_large_schema_is_parsed() -> None:
    text = BENCH_SCHEMA.read_text(encoding="utf-8")
    with collector(True):
        gc.collect()
        with collections_counted() as started:
            tree, diagnostics = parse_schema_text(str(BENCH_SCHEMA), text)
        assert gc.isenabled()
    assert diagnostics == []
    assert len(tree.blocks) > 300
    assert started in ([], AT_MOST_ONE_YOUNG_PASS)


@pytest.mark.parametrize("enabled", [True, False], ids=["collector-on", "collector-off"])
@pytest.mark.parametrize(
    "text", [VALID, INVALID_SEMANTICS, INVALID_SYNTAX], ids=["valid", "semantic", "syntax"]
)
def test_the_callers_collector_setting_is_restored(enabled: bool, text: str) -> None:
    with collector(enabled):
        try:
            validate_schema_text(text)
        except SchemaError:
            assert text != VALID
        else:
            assert text == VALID
        assert gc.isenabled() is enabled
        parse_schema_text("schema.prisma", text)
        assert gc.isenabled() is enabled


@pytest.mark.parametrize("enabled", [True, False], ids=["collector-on", "collector-off"])
def test_load_schema_restores_the_setting_when_the_file_is_missing(
    enabled: bool, tmp_path: Path
) -> None:
    with collector(enabled), pytest.raises(Exception, match="does not exist"):
        load_schema(tmp_path / "missing.prisma")
    with collector(enabled):
        (tmp_path / "schema.prisma").write_text(INVALID_SEMANTICS, encoding="utf-8")
        with pytest.raises(SchemaError, match="Pst"):
            load_schema(tmp_path / "schema.prisma")
        assert gc.isenabled() is enabled
