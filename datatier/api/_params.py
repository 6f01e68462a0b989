"""REST query parameters -> a query document: filters, ``orderBy``, ``include``, ``select``.

Each value is typed by its field (Int, Float, Boolean, DateTime, enum, ...); a value that
does not fit is a 400 naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, unquote

from datatier.api._json import loads
from datatier.api._problems import HttpProblem
from datatier.query._model_info import ModelInfo, SchemaInfo
from datatier.schema._ir import Field

__all__ = [
    "FILTER_OPERATORS",
    "RESERVED",
    "key_where",
    "parse_filters",
    "parse_key",
    "parse_order",
    "parse_selection",
    "render_key",
]

RESERVED = frozenset({"where", "orderBy", "take", "skip", "cursor", "include", "select", "count"})
# Operators a query parameter may name; `in`/`notIn` take comma-separated values.
FILTER_OPERATORS = (
    "equals",
    "not",
    "in",
    "notIn",
    "lt",
    "lte",
    "gt",
    "gte",
    "contains",
    "startsWith",
    "endsWith",
    "mode",
)
_LIST_OPERATORS = frozenset({"in", "notIn"})
# On an optional field the text `null` in these means SQL NULL (else it is a value as usual).
_NULL_OPERATORS = frozenset({"equals", "not"})
_TEXT_OPERATORS = frozenset({"contains", "startsWith", "endsWith", "mode"})
_PARAM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([A-Za-z]+)\])?$")


def bad_parameter(name: str, message: str) -> HttpProblem:
    return HttpProblem(
        400, "validation_error", f"query parameter `{name}`: {message}", path=(name,)
    )


def to_value(info: SchemaInfo, field: Field, raw: str, param: str) -> Any:
    """``raw`` (text of a URL) as a value of ``field``'s type."""
    kind = field.type
    try:
        if field.kind == "enum":
            enum = next(e for e in info.schema.enums if e.name == kind)
            names = [v.name for v in enum.values]
            if raw not in names:
                raise ValueError(f"one of {', '.join(names)}")
            return raw
        if kind in ("Int", "BigInt"):
            return int(raw)
        if kind == "Float":
            return float(raw)
        if kind == "Decimal":
            return str(Decimal(raw))
        if kind == "Boolean":
            if raw not in ("true", "false"):
                raise ValueError("true or false")
            return raw == "true"
        if kind == "DateTime":
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return moment.isoformat()
        if kind == "String":
            return raw
    except (ValueError, InvalidOperation) as error:
        expected = str(error) if field.kind == "enum" or kind == "Boolean" else f"a {kind}"
        raise bad_parameter(param, f"`{raw}` is not {expected}") from None
    raise bad_parameter(
        param, f"a {kind} field cannot be filtered by parameter; use where=<json> instead"
    )


def parse_filters(
    info: SchemaInfo, model: ModelInfo, params: Iterable[tuple[str, str]]
) -> dict[str, Any]:
    """``title[contains]=sql&views[gte]=10&status=DRAFT`` as a ``where`` document."""
    where: dict[str, dict[str, Any]] = {}
    for name, raw in params:
        match = _PARAM.match(name)
        field_name, operator = (match.group(1), match.group(2)) if match else (name, None)
        field = model.scalars.get(field_name) if match else None
        if field is None:
            hint = (
                "it is a relation; filter it with where=<json>"
                if field_name in model.relations
                else f"`{model.name}` has no such field; fields: {', '.join(model.scalars)}"
            )
            raise bad_parameter(name, f"unknown filter: {hint}")
        operator = operator or "equals"
        if operator not in FILTER_OPERATORS:
            raise bad_parameter(
                name, f"unknown operator `{operator}`; operators: {', '.join(FILTER_OPERATORS)}"
            )
        if operator in _TEXT_OPERATORS and field.type != "String":
            raise bad_parameter(name, f"`{operator}` applies to String fields only")
        value: Any
        if operator == "mode":
            if raw not in ("default", "insensitive"):
                raise bad_parameter(name, "mode is `default` or `insensitive`")
            value = raw
        elif operator in _LIST_OPERATORS:
            value = [to_value(info, field, part, name) for part in raw.split(",") if part]
        elif raw == "null" and operator in _NULL_OPERATORS and not field.is_required:
            value = None  # `field=null` is IS NULL, `field[not]=null` IS NOT NULL
        else:
            value = to_value(info, field, raw, name)
        condition = where.setdefault(field_name, {})
        if operator in condition:
            raise bad_parameter(name, "given twice")
        condition[operator] = value
    return dict(where)


def parse_order(model: ModelInfo, raw: str) -> list[dict[str, str]]:
    """``orderBy=createdAt,-views`` as ``[{"createdAt": "asc"}, {"views": "desc"}]``."""
    order: list[dict[str, str]] = []
    for part in raw.split(","):
        name = part.strip()
        direction = "asc"
        if name.startswith("-"):
            name, direction = name[1:], "desc"
        elif name.startswith("+"):
            name = name[1:]
        if name not in model.scalars:
            raise bad_parameter("orderBy", f"`{name}` is not a scalar field of `{model.name}`")
        order.append({name: direction})
    return order


def parse_selection(
    info: SchemaInfo, model: ModelInfo, raw: str, param: str, *, scalars_allowed: bool
) -> dict[str, Any]:
    """``include=author,comments.author`` (or a JSON object) as an include/select document."""
    if raw.lstrip().startswith("{"):
        parsed = loads(raw, param)
        if not isinstance(parsed, dict):
            raise bad_parameter(param, "must be a JSON object")
        return parsed
    selection: dict[str, Any] = {}
    for part in raw.split(","):
        names = [n.strip() for n in part.split(".")]
        node, current = selection, model
        for depth, name in enumerate(names):
            link = current.relations.get(name)
            if link is None:
                if depth == len(names) - 1 and scalars_allowed and name in current.scalars:
                    node[name] = True
                    break
                raise bad_parameter(
                    param,
                    f"`{name}` is not a relation of `{current.name}`"
                    + (f"; relations: {', '.join(current.relations)}" if current.relations else ""),
                )
            if depth == len(names) - 1:
                node.setdefault(name, True)
            else:
                child = node.get(name)
                if not isinstance(child, dict):
                    child = {"include": {}}
                    node[name] = child
                node = child.setdefault("include", {})
            current = info.model(link.target)
    return selection


def parse_key(info: SchemaInfo, model: ModelInfo, raw_segment: str) -> dict[str, Any]:
    """A URL's id segment (raw, still encoded) as the key fields' values, typed."""
    if not model.key_fields:
        raise HttpProblem(404, "not_found", f"`{model.name}` has no key to address one record by")
    parts = raw_segment.split(",")
    if len(parts) != len(model.key_fields):
        raise bad_parameter(
            "id",
            f"`{model.name}` is keyed by {len(model.key_fields)} value(s) "
            f"({', '.join(model.key_fields)}), joined by `,`; got {len(parts)}",
        )
    return {
        name: to_value(info, model.scalars[name], unquote(part), "id")
        for name, part in zip(model.key_fields, parts, strict=True)
    }


def key_where(model: ModelInfo, key: dict[str, Any]) -> dict[str, Any]:
    """The unique ``where`` for key values: ``{"id": 1}`` or ``{"a_b": {"a": .., "b": ..}}``."""
    if len(model.key_fields) == 1:
        return dict(key)
    for label, fields in model.compound_uniques.items():
        if fields == model.key_fields:
            return {label: dict(key)}
    return dict(key)


def render_key(model: ModelInfo, row: dict[str, Any]) -> str:
    """The id segment of ``row``: its key values, each URL-encoded, joined by `,`."""
    return ",".join(quote(_text(row[name]), safe="") for name in model.key_fields)


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)
