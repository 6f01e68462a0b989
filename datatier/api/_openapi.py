"""``/openapi.json`` (OpenAPI 3.1) built from the schema, and the docs page at ``/docs``.

Every route, parameter, body and response is described; each model has a component
schema with its fields' types, enums have their own.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from datatier.api._json import dumps
from datatier.api._params import FILTER_OPERATORS
from datatier.api._pipeline import OPERATIONS, READ_OPERATIONS
from datatier.api._settings import ApiSettings
from datatier.client import Client
from datatier.query._model_info import ModelInfo, SchemaInfo
from datatier.schema._ir import Field

__all__ = ["build_openapi", "openapi_routes"]

_SCALARS: dict[str, dict[str, Any]] = {
    "String": {"type": "string"},
    "Int": {"type": "integer", "format": "int32"},
    "BigInt": {"type": "integer", "format": "int64"},
    "Float": {"type": "number"},
    "Decimal": {"type": "string", "format": "decimal"},
    "Boolean": {"type": "boolean"},
    "DateTime": {"type": "string", "format": "date-time"},
    "Json": {},
    "Bytes": {"type": "string", "contentEncoding": "base64"},
}
_FILTERABLE = frozenset({"String", "Int", "BigInt", "Float", "Decimal", "Boolean", "DateTime"})
_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_RESPONSE = {
    "description": "A problem (RFC 9457) with a stable `code`",
    "content": {"application/problem+json": {"schema": _PROBLEM}},
}
_DOCS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>datatier API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="ui"></div>
<noscript>The API description is at <a href="openapi.json">openapi.json</a>.</noscript>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "openapi.json", dom_id: "#ui"});</script>
</body></html>
"""


def openapi_routes() -> list[Route]:
    return [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs_page, methods=["GET"]),
    ]


async def openapi_json(request: Request) -> Response:
    document = getattr(request.app.state, "openapi", None)
    if document is None:
        document = dumps(build_openapi(request.app.state.client, request.app.state.settings))
        request.app.state.openapi = document
    return Response(document, media_type="application/json")


async def docs_page(request: Request) -> Response:
    return HTMLResponse(_DOCS_PAGE)


def build_openapi(client: Client, settings: ApiSettings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``client``'s schema as this app serves it."""
    info = client.engine.info
    schemas: dict[str, Any] = {
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail", "code"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "code": {"type": "string"},
                "prisma_code": {"type": "string"},
                "path": {"type": "array", "items": {"type": ["string", "integer"]}},
            },
        },
        "Count": {
            "type": "object",
            "required": ["count"],
            "properties": {"count": {"type": "integer"}},
        },
        "RpcResult": {"type": "object", "required": ["data"], "properties": {"data": {}}},
    }
    for enum in info.schema.enums:
        schemas[enum.name] = {"type": "string", "enum": [v.name for v in enum.values]}
    paths: dict[str, Any] = {
        "/healthz": {"get": _simple("Liveness: the process is up", "health")},
        "/readyz": {"get": _simple("Readiness: the database answers", "health", problem=503)},
        "/rpc/$batch": {"post": _batch_operation()},
    }
    for model in info.models.values():
        schemas[model.name] = _model_schema(model)
        schemas[f"{model.name}Data"] = _data_schema(model)
        schemas[f"{model.name}Page"] = {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {"type": "array", "items": _ref(model.name)},
                "nextCursor": {"type": "string"},
                "count": {"type": "integer"},
            },
        }
        accessor = model.name[:1].lower() + model.name[1:]
        paths[f"/rest/{accessor}"] = _collection(info, model, settings)
        if model.key_fields:
            paths[f"/rest/{accessor}/{{id}}"] = _item(model)
        for operation in OPERATIONS:
            paths[f"/rpc/{accessor}/{operation}"] = _rpc(model, operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "datatier API",
            "version": "1",
            "description": "REST and RPC over the schema's models; errors are "
            "application/problem+json with a stable `code`.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _field_schema(field: Field) -> dict[str, Any]:
    base = _ref(field.type) if field.kind == "enum" else dict(_SCALARS.get(field.type, {}))
    if field.is_list:
        base = {"type": "array", "items": base}
    if not field.is_required and not field.is_list:
        base = {"anyOf": [base, {"type": "null"}]}
    if field.documentation:
        base["description"] = field.documentation
    return base


def _model_schema(model: ModelInfo) -> dict[str, Any]:
    properties = {name: _field_schema(field) for name, field in model.scalars.items()}
    for name, link in model.relations.items():
        target = _ref(link.target)
        properties[name] = (
            {"type": "array", "items": target}
            if link.is_list
            else {"anyOf": [target, {"type": "null"}]}
        )
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if model.model.documentation:
        schema["description"] = model.model.documentation
    return schema


def _data_schema(model: ModelInfo) -> dict[str, Any]:
    properties: dict[str, Any] = {name: _field_schema(f) for name, f in model.scalars.items()}
    for name in model.relations:
        properties[name] = {
            "type": "object",
            "description": "a nested write: create, connect, connectOrCreate, ...",
        }
    return {
        "type": "object",
        "description": f"`{model.name}` data as Prisma Client takes it (nested writes included)",
        "properties": properties,
    }


def _json_param(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _list_parameters(
    info: SchemaInfo, model: ModelInfo, settings: ApiSettings
) -> list[dict[str, Any]]:
    params = [
        _json_param("where", "a Prisma `where` document as JSON (ANDed with field filters)"),
        _json_param("orderBy", "fields, comma-separated; `-field` sorts descending"),
        _json_param(
            "take",
            f"page size (default {settings.default_page}, at most {settings.max_page})",
            type="integer",
            minimum=0,
            maximum=settings.max_page,
        ),
        _json_param("skip", "rows to skip", type="integer", minimum=0),
        _json_param("cursor", "the `nextCursor` of the previous page"),
        _json_param(
            "include",
            f"relations, comma-separated, nested with `.` (at most "
            f"{settings.max_include_depth} deep), or a JSON include document",
        ),
        _json_param("select", "fields (and relations), comma-separated, or JSON"),
        _json_param(
            "count", "`true` adds the total row count", type="string", enum=["true", "false"]
        ),
    ]
    for name, field in model.scalars.items():
        if field.is_list or not (field.kind == "enum" or field.type in _FILTERABLE):
            continue
        value = _field_schema(field)
        value.pop("description", None)
        if "anyOf" in value:
            value = value["anyOf"][0]
        ops = [
            op
            for op in FILTER_OPERATORS
            if field.type == "String" or op not in ("contains", "startsWith", "endsWith", "mode")
        ]
        params.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": f"filter on `{name}`: `{name}=value` (equals) or "
                f"`{name}[op]=value` with op one of {', '.join(ops)}; "
                "`in`/`notIn` take comma-separated values",
                "style": "deepObject",
                "explode": True,
                "schema": {
                    "type": "object",
                    "properties": {op: {"type": "string"} for op in ops},
                    "additionalProperties": False,
                },
            }
        )
    return params


def _collection(info: SchemaInfo, model: ModelInfo, settings: ApiSettings) -> dict[str, Any]:
    name = model.name
    filters = [p for p in _list_parameters(info, model, settings) if p["name"] != "take"]
    filters = [
        p
        for p in filters
        if p["name"] not in ("orderBy", "skip", "cursor", "include", "select", "count")
    ]
    return {
        "get": {
            "summary": f"List {name} records",
            "operationId": f"list{name}",
            "tags": [name],
            "parameters": _list_parameters(info, model, settings),
            "responses": {
                "200": _json_response(f"a page of {name} records", _ref(f"{name}Page")),
                "304": {"description": "not modified (If-None-Match)"},
                "400": _PROBLEM_RESPONSE,
            },
        },
        "post": {
            "summary": f"Create a {name} (an object) or several (an array, createMany)",
            "operationId": f"create{name}",
            "tags": [name],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                _ref(f"{name}Data"),
                                {"type": "array", "items": _ref(f"{name}Data")},
                            ]
                        }
                    }
                },
            },
            "responses": {
                "201": _json_response(
                    "the created record, or the count of a bulk create",
                    {"oneOf": [_ref(name), _ref("Count")]},
                ),
                "400": _PROBLEM_RESPONSE,
                "409": _PROBLEM_RESPONSE,
            },
        },
        "patch": {
            "summary": f"Update every {name} matching the filter (one is required)",
            "operationId": f"updateMany{name}",
            "tags": [name],
            "parameters": filters,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(f"{name}Data")}},
            },
            "responses": {
                "200": _json_response("how many records changed", _ref("Count")),
                "400": _PROBLEM_RESPONSE,
                "409": _PROBLEM_RESPONSE,
            },
        },
        "delete": {
            "summary": f"Delete every {name} matching the filter (one is required)",
            "operationId": f"deleteMany{name}",
            "tags": [name],
            "parameters": filters,
            "responses": {
                "200": _json_response("how many records were deleted", _ref("Count")),
                "400": _PROBLEM_RESPONSE,
                "409": _PROBLEM_RESPONSE,
            },
        },
    }


def _item(model: ModelInfo) -> dict[str, Any]:
    name = model.name
    id_param = {
        "name": "id",
        "in": "path",
        "required": True,
        "description": f"the key ({', '.join(model.key_fields)}), values URL-encoded and "
        "joined by `,`",
        "schema": {"type": "string"},
    }
    selection = [
        _json_param("include", "relations, comma-separated, nested with `.`, or JSON"),
        _json_param("select", "fields (and relations), comma-separated, or JSON"),
    ]
    if_match = {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "the ETag the record had when read; 412 when it changed since",
        "schema": {"type": "string"},
    }
    one = _json_response(f"the {name} record", _ref(name))
    body = {
        "required": True,
        "content": {"application/json": {"schema": _ref(f"{name}Data")}},
    }
    errors = {"400": _PROBLEM_RESPONSE, "404": _PROBLEM_RESPONSE}
    write_errors = {**errors, "409": _PROBLEM_RESPONSE, "412": _PROBLEM_RESPONSE}
    return {
        "parameters": [id_param],
        "get": {
            "summary": f"Read one {name}",
            "operationId": f"get{name}",
            "tags": [name],
            "parameters": selection,
            "responses": {
                "200": one,
                "304": {"description": "not modified (If-None-Match)"},
                **errors,
            },
        },
        "patch": {
            "summary": f"Update one {name}",
            "operationId": f"update{name}",
            "tags": [name],
            "parameters": [*selection, if_match],
            "requestBody": body,
            "responses": {"200": one, **write_errors},
        },
        "put": {
            "summary": f"Create or update the {name} with this key (upsert)",
            "operationId": f"upsert{name}",
            "tags": [name],
            "parameters": [*selection, if_match],
            "requestBody": body,
            "responses": {"200": one, **write_errors},
        },
        "delete": {
            "summary": f"Delete one {name}",
            "operationId": f"delete{name}",
            "tags": [name],
            "parameters": [*selection, if_match],
            "responses": {"200": one, **write_errors},
        },
    }


def _rpc(model: ModelInfo, operation: str) -> dict[str, Any]:
    name = model.name
    responses = {
        "200": _json_response(f"`{operation}`'s result under `data`", _ref("RpcResult")),
        "400": _PROBLEM_RESPONSE,
        "404": _PROBLEM_RESPONSE,
        "409": _PROBLEM_RESPONSE,
    }
    post = {
        "summary": f"{name}.{operation} with Prisma Client's arguments as the body",
        "operationId": f"rpc_{name}_{operation}",
        "tags": [f"rpc {name}"],
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "responses": responses,
    }
    entry: dict[str, Any] = {"post": post}
    if operation in READ_OPERATIONS:
        entry["get"] = {
            "summary": f"{name}.{operation} with the arguments as JSON in `q`",
            "operationId": f"rpc_{name}_{operation}_get",
            "tags": [f"rpc {name}"],
            "parameters": [_json_param("q", "the arguments, a JSON object")],
            "responses": responses,
        }
    return entry


def _batch_operation() -> dict[str, Any]:
    call = {
        "type": "object",
        "required": ["model", "operation"],
        "properties": {
            "model": {"type": "string"},
            "operation": {"type": "string", "enum": list(OPERATIONS)},
            "args": {"type": "object"},
        },
    }
    return {
        "summary": "Several calls, optionally in one transaction (all or nothing)",
        "operationId": "rpcBatch",
        "tags": ["rpc"],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["calls"],
                        "properties": {
                            "transaction": {"type": "boolean"},
                            "calls": {"type": "array", "items": call},
                        },
                    }
                }
            },
        },
        "responses": {
            "200": _json_response(
                "each call's result in order (and `errors` of a batch without transaction)",
                {
                    "type": "object",
                    "properties": {"data": {"type": "array"}, "errors": {"type": "array"}},
                },
            ),
            "400": _PROBLEM_RESPONSE,
            "409": _PROBLEM_RESPONSE,
        },
    }


def _simple(summary: str, tag: str, problem: int | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": _json_response(summary, {"type": "object"})}
    if problem:
        responses[str(problem)] = _PROBLEM_RESPONSE
    return {"summary": summary, "tags": [tag], "responses": responses}


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
