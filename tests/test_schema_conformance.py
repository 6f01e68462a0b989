"""The schema front end against Prisma's own validator: the same schemas accepted, the same model.

Golden files under tests/conformance/golden/ hold the oracle's answers (regenerate them with
``scripts/regen_golden.py``), so this runs without Node.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from datatier.errors import SchemaError
from datatier.schema import Field, Model, Schema, load_schema
from tests.harness.golden import schema_path

ROOT = Path(__file__).parent / "conformance"
MANIFEST = json.loads((ROOT / "golden" / "MANIFEST.json").read_text())


def _entries(*groups: str) -> list[Any]:
    return [
        pytest.param(entry, id=f"{entry['group']}/{entry['name']}")
        for entry in MANIFEST["schemas"]
        if entry["group"] in groups
    ]


def _schema_path(entry: dict[str, Any]) -> Path:
    return schema_path(entry)


@pytest.mark.parametrize("entry", _entries("valid", "valid_multi", "format", "legacy", "shared"))
def test_accepts_what_prisma_accepts(entry: dict[str, Any]) -> None:
    schema = load_schema(_schema_path(entry))
    dmmf_file = ROOT / "golden" / entry["group"] / f"{entry['name']}.dmmf.json"
    if not dmmf_file.exists():  # legacy schemas that only older Prisma releases accept
        assert entry["group"] == "legacy"
        return
    dmmf = json.loads(dmmf_file.read_text())
    assert _project_enums(schema) == [
        {
            "name": e["name"],
            "dbName": e["dbName"],
            "values": [(v["name"], v["dbName"]) for v in e["values"]],
        }
        for e in dmmf["enums"]
    ]
    expected_models = {m["name"]: m for m in dmmf["models"]}
    assert [m.name for m in schema.models if m.name in expected_models] == [
        m["name"] for m in dmmf["models"]
    ]
    for model in schema.models:
        if model.name in expected_models:
            _compare_model(schema, model, expected_models[model.name])


@pytest.mark.parametrize("entry", _entries("legacy"))
def test_retired_preview_features_warn(entry: dict[str, Any]) -> None:
    schema = load_schema(_schema_path(entry))
    retired = entry.get("retired_preview_features") or []
    messages = " ".join(w.message for w in schema.warnings)
    for feature in retired:
        assert feature in messages


@pytest.mark.parametrize("entry", _entries("invalid"))
def test_rejects_what_prisma_rejects(entry: dict[str, Any]) -> None:
    with pytest.raises(SchemaError) as caught:
        load_schema(_schema_path(entry))
    errors = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert errors
    for diagnostic in errors:
        assert diagnostic.span is not None, diagnostic.message
        assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1
        assert diagnostic.source_line is not None
        rendered = diagnostic.render()
        assert f":{diagnostic.span.line}:{diagnostic.span.column}: error: " in rendered
        assert "^" in rendered


def _project_enums(schema: Schema) -> list[dict[str, Any]]:
    return [
        {
            "name": e.name,
            "dbName": e.db_name if e.db_name != e.name else None,
            "values": [(v.name, v.db_name if v.db_name != v.name else None) for v in e.values],
        }
        for e in schema.enums
    ]


def _compare_model(schema: Schema, model: Model, expected: dict[str, Any]) -> None:
    where = f"model {model.name}"
    assert (model.db_name if model.db_name != model.name else None) == expected["dbName"], where
    pk = model.primary_key
    compound_pk = pk is not None and not any(f.is_id for f in model.fields)
    expected_pk = expected["primaryKey"]
    if compound_pk:
        assert pk is not None
        assert expected_pk == {"name": pk.name, "fields": [f.name for f in pk.fields]}, where
    else:
        assert expected_pk is None, where
    compound_uniques = [
        i
        for i in model.indexes
        if i.kind == "unique" and not i.from_field_attribute and i.where is None
    ]
    assert [[f.name for f in i.fields] for i in compound_uniques] == expected["uniqueFields"], where
    assert [
        {"name": i.name, "fields": [f.name for f in i.fields]} for i in compound_uniques
    ] == expected["uniqueIndexes"], where
    fields = {f.name: f for f in model.fields}
    assert [f["name"] for f in expected["fields"]] == [
        f.name for f in model.fields if f.name in {e["name"] for e in expected["fields"]}
    ], where
    read_only = {name for f in model.fields for name in f.relation_from_fields}
    for field_json in expected["fields"]:
        _compare_field(schema, fields[field_json["name"]], field_json, read_only, where)


def _compare_field(
    schema: Schema, field: Field, expected: dict[str, Any], read_only: set[str], where: str
) -> None:
    where = f"{where}.{field.name}"
    kind = "object" if field.kind == "composite" else field.kind
    assert kind == expected["kind"], where
    if kind != "unsupported":
        assert field.type == expected["type"], where
    assert field.is_list == expected["isList"], where
    assert field.is_required == expected["isRequired"], where
    assert field.is_unique == expected["isUnique"], where
    assert field.is_id == expected["isId"], where
    assert field.is_updated_at == expected["isUpdatedAt"], where
    assert (field.name in read_only) == expected["isReadOnly"], where
    assert (field.default is not None) == expected["hasDefaultValue"], where
    assert (field.db_name if field.db_name != field.name else None) == expected.get("dbName"), where
    assert field.documentation == expected.get("documentation"), where
    native = [field.native_type.name, list(field.native_type.args)] if field.native_type else None
    assert native == expected["nativeType"], where
    if field.default is not None:
        _compare_default(field, expected["default"], where)
    if field.kind == "object":
        assert field.relation_name == expected["relationName"], where
        assert list(field.relation_from_fields) == expected["relationFromFields"], where
        assert list(field.relation_to_fields) == expected["relationToFields"], where
        on_delete = field.relation_on_delete.value if field.relation_on_delete else None
        assert on_delete == expected.get("relationOnDelete"), where
        on_update = field.relation_on_update.value if field.relation_on_update else None
        assert on_update == expected.get("relationOnUpdate"), where


def _compare_default(field: Field, expected: Any, where: str) -> None:
    default = field.default
    assert default is not None
    if default.kind == "function":
        assert expected == {"name": default.name, "args": list(default.args)}, where
        return
    if default.kind == "list":
        assert isinstance(expected, list), where
        assert len(expected) == len(default.values), where
        for mine, theirs in zip(default.values, expected, strict=True):
            assert _same_literal(field.type, mine, theirs), f"{where}: {mine!r} != {theirs!r}"
        return
    assert _same_literal(field.type, default.value, expected), (
        f"{where}: {default.value!r} != {expected!r}"
    )


def _same_literal(type_name: str, mine: Any, theirs: Any) -> bool:
    if type_name == "DateTime":
        return bool(_instant(mine) == _instant(theirs))
    if type_name == "BigInt" or (type_name == "Decimal" and isinstance(theirs, str)):
        return Decimal(str(mine)) == Decimal(str(theirs))
    if type_name in ("Float", "Decimal"):
        # Prisma's DMMF passes floats through single precision; compare to that accuracy.
        return math.isclose(float(mine), float(theirs), rel_tol=1e-6)
    return bool(mine == theirs)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
