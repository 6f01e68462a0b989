"""``format_schema_text`` against Prisma's own formatter: its outputs kept as golden files.

Two sources of expected output, both collected by glob so new files join the suite:
``tests/format_cases/*.prisma`` with ``.expected`` beside each, and every
``*.format.prisma`` under ``tests/conformance/golden`` (its input named in MANIFEST.json).
Every case also checks that formatting is idempotent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datatier.errors import SchemaError
from datatier.schema._format import format_schema_text
from tests.harness.golden import schema_path

TESTS = Path(__file__).parent
CASES = TESTS / "format_cases"
GOLDEN = TESTS / "conformance" / "golden"


def _golden_pairs() -> list[tuple[Path, Path]]:
    """(input, golden) for every ``.format.prisma`` golden whose input is at hand."""
    manifest_path = GOLDEN / "MANIFEST.json"
    if not manifest_path.exists():
        return []
    sources: dict[str, Path] = {}
    for entry in json.loads(manifest_path.read_text())["schemas"]:
        root = schema_path(entry)
        inputs = [root / name for name in entry["files"]] if entry["files"] else [root]
        goldens = [g for g in entry["goldens"] if g.endswith(".format.prisma")]
        for source in inputs:
            stem = str(source.relative_to(root.parent).with_suffix(""))
            for golden in goldens:
                if golden == f"{entry['group']}/{stem}.format.prisma":
                    sources[golden] = source
    pairs = []
    for golden in sorted(GOLDEN.rglob("*.format.prisma")):
        source = sources.get(str(golden.relative_to(GOLDEN)))
        if source is not None and source.exists():
            pairs.append((source, golden))
    return pairs


def _case_pairs() -> list[tuple[Path, Path]]:
    return [(p, p.with_suffix(".expected")) for p in sorted(CASES.glob("*.prisma"))]


PAIRS = _case_pairs() + _golden_pairs()


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


@pytest.mark.parametrize(
    ("source", "expected"), PAIRS, ids=[str(s.relative_to(s.parents[1])) for s, _ in PAIRS]
)
def test_format_matches_prisma(source: Path, expected: Path) -> None:
    formatted = format_schema_text(_read(source), source.name)
    assert formatted == _read(expected)
    assert format_schema_text(formatted, source.name) == formatted


def test_goldens_are_collected() -> None:
    if (GOLDEN / "MANIFEST.json").exists():
        assert _golden_pairs(), "the MANIFEST names no format golden that was found"


def test_syntax_error_raises_with_location() -> None:
    with pytest.raises(SchemaError) as caught:
        format_schema_text("model A {\n  id Int @id\n", "broken.prisma")
    span = caught.value.diagnostics[0].span
    assert span is not None and span.file == "broken.prisma"


def test_output_ends_with_one_newline_and_no_crlf() -> None:
    formatted = format_schema_text("model A {\r\n  id   Int @id\r\n}\r\n\r\n\r\n")
    assert formatted == "model A {\n  id Int @id\n}\n"
