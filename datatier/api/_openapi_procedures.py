"""The OpenAPI part of user-defined procedures: ``/rpc/{name}`` paths and their input and
output types as components (so clients generated from ``/openapi.json`` get them).

pydantic gives each type's JSON Schema; nested types (its ``$defs``) become components of
their own under their pydantic names, and so do top-level models and TypedDicts; other
top-level types are ``{Name}Input`` and ``{Name}Output`` (``Name``: the procedure's name in
PascalCase).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import TypeAdapter

from datatier.api._procedures import Procedure, Procedures
from datatier.errors import ConfigError

__all__ = ["procedure_paths"]

_REF = "#/components/schemas/{model}"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PROBLEM_RESPONSE = {
    "description": "A problem (RFC 9457) with a stable `code`; bad input is a 400 "
    "`validation_error` with the path of the bad field",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def procedure_paths(procedures: Procedures, schemas: dict[str, Any]) -> dict[str, Any]:
    """The paths of ``procedures``; adds their types to ``schemas`` (the components).

    ``ConfigError`` if a type's name is already a component with another schema (a model
    of the database schema, or another procedure's different type of the same name).
    """
    paths: dict[str, Any] = {}
    for item in procedures:
        base = "".join(part[:1].upper() + part[1:] for part in item.name.split("_"))
        output = _component(item.output, f"{base}Output", schemas, "serialization")
        responses = {
            "200": {
                "description": f"{item.name}'s output under `data`",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["data"],
                            "properties": {"data": output},
                        }
                    }
                },
            },
            "default": _PROBLEM_RESPONSE,
        }
        post: dict[str, Any] = {
            "summary": item.summary,
            "operationId": f"procedure_{item.name}",
            "tags": ["procedures"],
            "responses": responses,
        }
        entry: dict[str, Any] = {"post": post}
        if item.input is not None:
            input_schema = _component(item.input, f"{base}Input", schemas, "validation")
            post["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": input_schema}},
            }
            if item.read_only:
                entry["get"] = _get(item, input_schema, responses)
        elif item.read_only:
            entry["get"] = _get(item, None, responses)
        paths[f"/rpc/{item.name}"] = entry
    return paths


def _get(
    item: Procedure, schema: dict[str, Any] | None, responses: dict[str, Any]
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": f"{item.summary} (read-only: the input as JSON in `q`)",
        "operationId": f"procedure_{item.name}_get",
        "tags": ["procedures"],
        "responses": responses,
    }
    if schema is not None:
        operation["parameters"] = [
            {
                "name": "q",
                "in": "query",
                "required": True,
                "description": "the input, as JSON",
                "content": {"application/json": {"schema": schema}},
            }
        ]
    return operation


def _component(
    adapter: TypeAdapter[Any], name: str, schemas: dict[str, Any], mode: str
) -> dict[str, Any]:
    """A ``$ref`` to ``adapter``'s type as component ``name`` (its nested types added too)."""
    schema = adapter.json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
    for nested, definition in schema.pop("$defs", {}).items():
        _put(schemas, nested, definition)
    if "$ref" in schema and len(schema) == 1:
        return dict(schema)  # the type is itself a named model: refer to it directly
    title = schema.get("title")
    if schema.get("type") == "object" and isinstance(title, str) and _NAME.fullmatch(title):
        name = title  # a model or TypedDict keeps its class name
    _put(schemas, name, schema)
    return {"$ref": _REF.format(model=name)}


def _put(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    existing = schemas.get(name)
    if existing is not None and existing != schema:
        raise ConfigError(
            f"procedure type {name!r}: /openapi.json already has a different component of "
            "that name (a model of the schema, or another type); rename the type"
        )
    schemas[name] = schema
