"""Results made comparable: rows whose order the document does not define are sorted."""

from __future__ import annotations

from typing import Any

import orjson

from datatier.schema import Schema
from tests.differential.documents import Document, group_order_total, ordered_by_unique

__all__ = ["canonical"]


def canonical(schema: Schema, document: Document, value: Any) -> Any:
    """``value`` (Python values, as datatier returns them) with unordered lists in a fixed order."""
    if document.op == "findMany":
        return _rows(schema, document.model, document.args, value)
    if document.op in ("findFirst", "findUnique"):
        return _row(schema, document.model, document.args, value)
    if (
        document.op == "groupBy"
        and isinstance(value, list)
        and not group_order_total(document.args)
    ):
        return sorted(value, key=_key)
    return value


def _rows(schema: Schema, model: str, args: dict[str, Any], rows: Any) -> Any:
    if not isinstance(rows, list):
        return rows
    out = [_row(schema, model, args, r) for r in rows]
    return out if ordered_by_unique(model, args.get("orderBy")) else sorted(out, key=_key)


def _row(schema: Schema, model: str, args: dict[str, Any], row: Any) -> Any:
    if not isinstance(row, dict):
        return row
    selection = args.get("select") or args.get("include") or {}
    info = schema.model(model)
    out: dict[str, Any] = {}
    for key, item in row.items():
        if key == "_count":
            out[key] = item
            continue
        field = info.field(key)
        if not field.is_relation:
            out[key] = item
            continue
        nested = selection.get(key)
        nested_args = nested if isinstance(nested, dict) else {}
        if field.is_list:
            out[key] = _rows(schema, field.type, nested_args, item)
        else:
            out[key] = _row(schema, field.type, nested_args, item)
    return out


def _key(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
