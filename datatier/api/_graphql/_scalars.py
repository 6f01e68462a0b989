"""The custom scalars: DateTime (ISO-8601), Json, BigInt and Decimal (as strings), Bytes (base64).

Inputs become the values the engine accepts; outputs are plain JSON values, so a GraphQL
response needs no special encoder.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLError,
    GraphQLFloat,
    GraphQLInt,
    GraphQLScalarType,
    GraphQLString,
    StringValueNode,
    ValueNode,
)
from graphql.language import FloatValueNode, IntValueNode
from graphql.utilities import value_from_ast_untyped

__all__ = ["SCALARS"]


def _serialize_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        moment: datetime = value
        if moment.tzinfo is not UTC:  # the engine's values are UTC already: no conversion
            moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        return moment.isoformat(timespec="milliseconds")[:-6] + "Z"
    if isinstance(value, str):
        return value
    raise GraphQLError(f"DateTime cannot represent {value!r}")


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise GraphQLError(
            f"DateTime takes an ISO-8601 string, e.g. 2024-05-01T12:00:00Z; got {value!r}"
        )
    try:
        return datetime.fromisoformat(
            value.replace("Z", "+00:00") if value.endswith("Z") else value
        )
    except ValueError:
        raise GraphQLError(
            f"DateTime takes an ISO-8601 string, e.g. 2024-05-01T12:00:00Z; got {value!r}"
        ) from None


def _literal(parse: Any, kinds: tuple[type[ValueNode], ...]) -> Any:
    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        if not isinstance(node, kinds):
            raise GraphQLError(f"unexpected literal {type(node).__name__}", node)
        return parse(node.value)  # type: ignore[attr-defined]

    return parse_literal


def _serialize_bigint(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise GraphQLError(f"BigInt cannot represent {value!r}")


def _parse_bigint(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise GraphQLError(f"BigInt takes an integer or a string of digits; got {value!r}")


def _serialize_decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        # plain notation without trailing zeros (12.5, not 12.500000...), as Prisma prints it
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    raise GraphQLError(f"Decimal cannot represent {value!r}")


def _parse_decimal(value: Any) -> Decimal:
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            result = Decimal(value)
        except InvalidOperation:
            pass
        else:
            if result.is_finite():
                return result
    elif isinstance(value, float):
        return Decimal(str(value))
    raise GraphQLError(f'Decimal takes a numeric string, e.g. "12.50"; got {value!r}')


def _serialize_bytes(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    raise GraphQLError(f"Bytes cannot represent {type(value).__name__}")


def _parse_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise GraphQLError(f"Bytes takes a base64 string; got {value!r}")


def _json_literal(node: ValueNode, variables: Any = None) -> Any:
    coerced = getattr(variables, "coerced", variables)  # graphql-core 3.3 wraps the dict
    return value_from_ast_untyped(node, coerced)


DateTime = GraphQLScalarType(
    "DateTime",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
    parse_literal=_literal(_parse_datetime, (StringValueNode,)),
    description="A moment in time as an ISO-8601 string, returned in UTC: 2024-05-01T12:00:00.000Z",
)
Json = GraphQLScalarType(
    "Json",
    serialize=lambda value: value,
    parse_value=lambda value: value,
    parse_literal=_json_literal,
    description="Any JSON value",
)
BigInt = GraphQLScalarType(
    "BigInt",
    serialize=_serialize_bigint,
    parse_value=_parse_bigint,
    parse_literal=_literal(_parse_bigint, (IntValueNode, StringValueNode)),
    description="A 64-bit integer, as a string of digits (JSON numbers lose precision past 2^53)",
)
DecimalScalar = GraphQLScalarType(
    "Decimal",
    serialize=_serialize_decimal,
    parse_value=_parse_decimal,
    parse_literal=_literal(_parse_decimal, (IntValueNode, FloatValueNode, StringValueNode)),
    description='An exact decimal number, as a string: "12.50"',
)
Bytes = GraphQLScalarType(
    "Bytes",
    serialize=_serialize_bytes,
    parse_value=_parse_bytes,
    parse_literal=_literal(_parse_bytes, (StringValueNode,)),
    description="Binary data as a base64 string",
)

# Prisma scalar type name -> GraphQL scalar
SCALARS: dict[str, GraphQLScalarType] = {
    "String": GraphQLString,
    "Boolean": GraphQLBoolean,
    "Int": GraphQLInt,
    "Float": GraphQLFloat,
    "DateTime": DateTime,
    "Json": Json,
    "BigInt": BigInt,
    "Decimal": DecimalScalar,
    "Bytes": Bytes,
}
