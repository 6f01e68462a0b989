"""Write-back values: a field's value as the text Redis holds, and the operations of an update.

Numbers are held as plain decimal text, so ``HINCRBY``/``HINCRBYFLOAT`` work on them inside
the write script; every other value is held as its canonical text (ISO date-times, decimal
strings, enum names). SQL NULL is ``"n"``, which no number or other encoded value equals
(non-numeric values carry a ``"v"`` prefix). Row hashes and stream entries share this form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from datatier.schema import Field

__all__ = [
    "NULL",
    "FieldOp",
    "OpKind",
    "coalesce_ops",
    "decoded_hash",
    "from_text",
    "int_bounds",
    "is_numeric",
    "supported",
    "to_text",
]

NULL = "n"
OpKind = Literal["set", "int", "float"]  # a set, or an increment of an integer / float field
_NUMERIC = frozenset(("Int", "BigInt", "Float"))
_SETTABLE = frozenset(("String", "Boolean", "Int", "BigInt", "Float", "Decimal", "DateTime"))
# Lua holds numbers as doubles: the write script checks the range of a pending BigInt with
# this margin below 2**63, so an increment that would overflow in the database is refused
# before it is acknowledged (a value within 2**53 of the limit is refused a little early).
_BIGINT_LIMIT = 9_200_000_000_000_000_000


@dataclass(frozen=True, slots=True)
class FieldOp:
    """One field's change in an accepted update: ``set`` to ``value`` (a decoded value or
    None), or increment by ``value`` (negative for a decrement)."""

    field: str
    kind: OpKind
    value: Any


def supported(field: Field) -> bool:
    """Whether write-back can hold ``field``'s values (scalars and enums, not lists/Json/Bytes)."""
    if field.is_list:
        return False
    return field.kind == "enum" or (field.kind == "scalar" and field.type in _SETTABLE)


def is_numeric(field: Field) -> bool:
    """Whether ``field`` takes ``increment``/``decrement`` in write-back (Int, BigInt, Float)."""
    return field.kind == "scalar" and not field.is_list and field.type in _NUMERIC


def int_bounds(field: Field) -> tuple[int, int] | None:
    """The range a pending integer must stay in (None for Float)."""
    if field.type == "Int":
        return -(2**31), 2**31 - 1
    if field.type == "BigInt":
        return -_BIGINT_LIMIT, _BIGINT_LIMIT
    return None


def to_text(field: Field, value: Any) -> str:
    """A decoded value of ``field`` (as reads return it) as the text Redis holds."""
    if value is None:
        return NULL
    if field.kind == "scalar":
        if field.type in ("Int", "BigInt"):
            return str(int(value))
        if field.type == "Float":
            return repr(float(value))
        if field.type == "Boolean":
            return "v1" if value else "v0"
        if field.type == "DateTime":
            return "v" + str(value.isoformat())
    return "v" + str(value)


def from_text(field: Field, text: str | bytes) -> Any:
    """The decoded value ``to_text`` (or Redis arithmetic on it) wrote."""
    if isinstance(text, bytes):
        text = text.decode()
    if text == NULL:
        return None
    if field.kind == "scalar":
        if field.type in ("Int", "BigInt"):
            return int(text)
        if field.type == "Float":
            return float(text)
        body = text[1:]
        if field.type == "Boolean":
            return body == "1"
        if field.type == "DateTime":
            return datetime.fromisoformat(body)
        if field.type == "Decimal":
            return Decimal(body)
        return body
    return text[1:]


def coalesce_ops(ops: Iterable[FieldOp]) -> dict[str, Any]:
    """The ``data`` of one database update equal to ``ops`` applied in order.

    Per field: only increments -> ``{"increment": total}`` (so the database adds to what it
    holds); a set followed by increments -> the final value (``{"set": value}``). An
    increment of NULL stays NULL, as it does in SQL.
    """
    data: dict[str, Any] = {}
    for op in ops:
        current = data.get(op.field)
        if op.kind == "set":
            data[op.field] = {"set": op.value}
        elif current is None:
            data[op.field] = {"increment": op.value}
        else:
            ((kind, amount),) = current.items()
            if amount is not None:
                amount = amount + op.value
            data[op.field] = {kind: amount}
    return data


def decoded_hash(fields: Mapping[str, Field], raw: Mapping[Any, Any]) -> dict[str, Any]:
    """A row hash (field -> text, plus bookkeeping) as decoded pending values by field name."""
    pending: dict[str, Any] = {}
    for name, text in raw.items():
        key = name.decode() if isinstance(name, bytes) else name
        field = fields.get(key)
        if field is not None:
            pending[key] = from_text(field, text)
    return pending
