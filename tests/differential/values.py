"""Values in Prisma's JSON (tools/prisma-client/ops.mjs tags) and back, guided by the schema.

``from_prisma`` turns a Prisma result — rows with nested relations and ``_count``, counts,
aggregates, groups — into the Python values datatier returns: ``int`` for BigInt,
``Decimal``, aware UTC ``datetime``, ``bytes``, ``float``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from datatier.schema import Field, Model, ScalarType, Schema

__all__ = ["from_prisma", "from_prisma_scalar", "to_prisma", "to_prisma_scalar"]

_AGGREGATES = ("_sum", "_avg", "_min", "_max")


def to_prisma(model: Model, data: dict[str, Any]) -> dict[str, Any]:
    """A row of Python values (scalar fields of ``model``) as Prisma input JSON."""
    return {name: to_prisma_scalar(model.field(name), value) for name, value in data.items()}


def to_prisma_scalar(field: Field, value: Any) -> Any:
    if value is None:
        return None
    if field.is_list:
        return [_to_prisma_one(field.type, v) for v in value]
    return _to_prisma_one(field.type, value)


def _to_prisma_one(scalar: str, value: Any) -> Any:
    if scalar == ScalarType.BIGINT:
        return {"$type": "BigInt", "value": str(value)}
    if scalar == ScalarType.DECIMAL:
        return {"$type": "Decimal", "value": str(value)}
    if scalar == ScalarType.BYTES:
        return {"$type": "Bytes", "value": base64.b64encode(value).decode()}
    if scalar == ScalarType.DATETIME:
        return {"$type": "DateTime", "value": value.isoformat()}
    return value


def from_prisma(schema: Schema, model: str, value: Any) -> Any:
    """A Prisma result on ``model`` (row, rows, aggregate or groups) as Python values.

    A ``count`` answer (a number, or counts per field) needs no conversion.
    """
    if isinstance(value, list):
        return [from_prisma(schema, model, v) for v in value]
    if not isinstance(value, dict):
        return value  # a count, or null
    info = schema.model(model)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "_count" or item is None:
            out[key] = item
        elif key in _AGGREGATES:
            out[key] = {name: _aggregate(key, info.field(name), v) for name, v in item.items()}
        else:
            field = info.field(key)
            if field.is_relation:
                out[key] = from_prisma(schema, field.type, item)
            else:
                out[key] = from_prisma_scalar(field, item)
    return out


def _aggregate(kind: str, field: Field, value: Any) -> Any:
    if value is None:
        return None
    if kind == "_avg":
        return Decimal(value) if field.type == ScalarType.DECIMAL else float(value)
    return from_prisma_scalar(field, value)


def from_prisma_scalar(field: Field, value: Any) -> Any:
    if value is None:
        return None
    if field.is_list:
        return [_from_prisma_one(field.type, v) for v in value]
    return _from_prisma_one(field.type, value)


def _from_prisma_one(scalar: str, value: Any) -> Any:
    if value is None:
        return None
    if scalar == ScalarType.BIGINT:
        return int(value)
    if scalar == ScalarType.DECIMAL:
        return Decimal(value)
    if scalar == ScalarType.BYTES:
        return base64.b64decode(value)
    if scalar == ScalarType.DATETIME:
        return datetime.fromisoformat(value).astimezone(UTC)
    if scalar == ScalarType.FLOAT:
        return float(value)
    return value
