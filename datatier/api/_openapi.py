"""``/openapi.json`` (OpenAPI 3.1) built from the schema, and the docs page at ``/docs``.

Every route, parameter, body and response is described with the schema's types: each
model has an output schema and input schemas (``Where``, ``WhereUnique``, ``Create``,
``Update``), enums have their own. Input schemas describe the common subset of Prisma's
documents (equality filters, scalar data); the routes take the full documents.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from datatier.api._json import dumps
from datatier.api._openapi_procedures import procedure_paths
from datatier.api._pipeline import OPERATIONS, READ_OPERATIONS
from datatier.api._procedures import Procedures
from datatier.api._settings import ApiSettings
from datatier.client import Client
from datatier.query._model_info import ModelInfo
from datatier.schema._ir import Field

__all__ = ["build_openapi", "openapi_routes"]

INT32 = {"minimum": -(2**31), "maximum": 2**31 - 1}
# Output types of the scalar types.
_SCALARS: dict[str, dict[str, Any]] = {
    "String": {"type": "string"},
    # no bounds on output: SQLite's autoincrement counts past 2^31 after a client-chosen id
    "Int": {"type": "integer", "format": "int32"},
    "BigInt": {"type": "integer", "format": "int64"},
    "Float": {"type": "number"},
    "Decimal": {"type": "string", "format": "decimal"},
    "Boolean": {"type": "boolean"},
    "DateTime": {"type": "string", "format": "date-time"},
    "Json": {},
    "Bytes": {"type": "string", "contentEncoding": "base64"},
}
# Inputs are narrower where a database's range is (years 1970-2099 keep every offset
# inside what both databases store).
_INPUTS: dict[str, dict[str, Any]] = {
    **_SCALARS,
    "Int": {"type": "integer", "format": "int32", **INT32},
    "BigInt": {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1},
    "Decimal": {"type": "string", "pattern": r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$"},
    "DateTime": {
        "type": "string",
        "format": "date-time",
        "pattern": r"^(19[7-9][0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
        r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]0[0-9]:00)$",
    },
    "Json": {"type": ["object", "array", "string", "number", "boolean"]},
}
_COMPARABLE = frozenset({"Int", "BigInt", "Float", "Decimal", "DateTime", "String"})
_KEY_TEXT = r"^[^,%/]+$"  # one key value in a URL: `,` joins values, `%` escapes
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
        state = request.app.state
        document = dumps(build_openapi(state.client, state.settings, state.procedures))
        request.app.state.openapi = document
    return Response(document, media_type="application/json")


async def docs_page(request: Request) -> Response:
    return HTMLResponse(_DOCS_PAGE)


class _Builder:
    """Builds the document for one client's schema and settings."""

    def __init__(self, client: Client, settings: ApiSettings) -> None:
        self.info = client.engine.info
        self.settings = settings
        self.insensitive = client.provider == "postgresql"

    def document(self) -> dict[str, Any]:
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
        for enum in self.info.schema.enums:
            schemas[enum.name] = {"type": "string", "enum": [v.name for v in enum.values]}
        paths: dict[str, Any] = {
            "/healthz": {"get": _simple("Liveness: the process is up", "health")},
            "/readyz": {"get": _simple("Readiness: the database answers", "health")},
            "/rpc/$batch": {"post": _batch_operation()},
            "/graphql": _graphql_operations(),
        }
        if self.settings.metrics:
            paths["/metrics"] = {
                "get": {
                    "summary": "Prometheus metrics (text exposition format)",
                    "tags": ["health"],
                    "responses": {
                        "200": {
                            "description": "the metrics",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "default": _PROBLEM_RESPONSE,
                    },
                }
            }
        for model in self.info.models.values():
            name = model.name
            schemas[name] = _model_schema(model)
            schemas[f"{name}Where"] = _where_schema(model)
            schemas[f"{name}Create"] = _data_schema(model, create=True)
            schemas[f"{name}Update"] = _data_schema(model, create=False)
            if model.uniques:
                schemas[f"{name}WhereUnique"] = _where_unique_schema(model)
            schemas[f"{name}Page"] = {
                "type": "object",
                "required": ["data"],
                "properties": {
                    "data": {"type": "array", "items": _ref(name)},
                    "nextCursor": {"type": "string"},
                    "count": {"type": "integer"},
                },
            }
            accessor = name[:1].lower() + name[1:]
            paths[f"/rest/{accessor}"] = self.collection(model)
            if model.key_fields:
                paths[f"/rest/{accessor}/{{id}}"] = self.item(model)
            for operation in OPERATIONS:
                if operation in _NEEDS_UNIQUE and not model.uniques:
                    continue
                paths[f"/rpc/{accessor}/{operation}"] = self.rpc(model, operation)
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

    # -- REST ------------------------------------------------------------------------

    def filters(self, model: ModelInfo) -> list[dict[str, Any]]:
        """One deepObject parameter per filterable field: ``views[gte]=10``."""
        params = []
        for name, field in model.scalars.items():
            if field.is_list or field.type in ("Json", "Bytes"):
                continue
            value = _input_schema(field)
            ops: dict[str, Any] = {"equals": value, "not": value}
            if field.kind == "enum" or field.type in ("Int", "String"):
                ops["in"] = ops["notIn"] = {"type": "string", "pattern": _list_pattern(field, self)}
            if field.type in _COMPARABLE:
                ops.update({op: value for op in ("lt", "lte", "gt", "gte")})
            if field.type == "String":
                ops.update({op: value for op in ("contains", "startsWith", "endsWith")})
                if self.insensitive:
                    ops["mode"] = {"type": "string", "enum": ["default", "insensitive"]}
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": f"filter on `{name}`: `{name}=value` (equals) or "
                    f"`{name}[op]=value`; `in`/`notIn` take comma-separated values",
                    "style": "deepObject",
                    "explode": True,
                    "schema": {"type": "object", "properties": ops, "additionalProperties": False},
                }
            )
        return params

    def list_parameters(self, model: ModelInfo) -> list[dict[str, Any]]:
        settings = self.settings
        sortable = [n for n, f in model.scalars.items() if not f.is_list and f.type != "Json"]
        params = [
            _json_param("where", "a Prisma `where` document (ANDed with field filters)", model),
            _param(
                "orderBy",
                "fields, comma-separated; `-field` sorts descending",
                {"type": "string", "pattern": _names_pattern(sortable, signed=True)},
            ),
            _param(
                "take",
                f"page size (default {settings.default_page}, at most {settings.max_page})",
                {"type": "integer", "minimum": 0, "maximum": settings.max_page},
            ),
            _param("skip", "rows to skip", {"type": "integer", "minimum": 0, **_max_int()}),
            _param("cursor", "the `nextCursor` of the previous page", _key_schema(model)),
            _param(
                "select",
                "fields (and relations), comma-separated, or a JSON select document",
                {"type": "string", "pattern": _names_pattern([*model.scalars, *model.relations])},
            ),
            _param(
                "count",
                "`true` adds the total row count",
                {"type": "string", "enum": ["true", "false"]},
            ),
        ]
        if model.relations:
            params.append(self.include_param(model))
        return [*params, *self.filters(model)]

    def include_param(self, model: ModelInfo) -> dict[str, Any]:
        return _param(
            "include",
            f"relations, comma-separated, nested with `.` (at most "
            f"{self.settings.max_include_depth} deep), or a JSON include document",
            {"type": "string", "pattern": _names_pattern(list(model.relations))},
        )

    def collection(self, model: ModelInfo) -> dict[str, Any]:
        name = model.name
        bulk_where = {**_json_param("where", "which records (`{}`: all)", model), "required": True}
        return {
            "get": {
                "summary": f"List {name} records",
                "operationId": f"list{name}",
                "tags": [name],
                "parameters": self.list_parameters(model),
                "responses": _responses(
                    _json_response(f"a page of {name} records", _ref(f"{name}Page")), 304
                ),
            },
            "post": {
                "summary": f"Create a {name} (an object) or several (an array, createMany)",
                "description": "An object may hold nested writes as Prisma Client takes them.",
                "operationId": f"create{name}",
                "tags": [name],
                "requestBody": _body(
                    {
                        "anyOf": [
                            _ref(f"{name}Create"),
                            {"type": "array", "items": _ref(f"{name}Create")},
                        ]
                    }
                ),
                "responses": _responses(
                    _json_response(
                        "the created record, or the count of a bulk create",
                        {"anyOf": [_ref(name), _ref("Count")]},
                    ),
                    status=201,
                ),
            },
            "patch": {
                "summary": f"Update every {name} matching `where` (required)",
                "operationId": f"updateMany{name}",
                "tags": [name],
                "parameters": [bulk_where],
                "requestBody": _body(_ref(f"{name}Update")),
                "responses": _responses(_json_response("records changed", _ref("Count"))),
            },
            "delete": {
                "summary": f"Delete every {name} matching `where` (required)",
                "operationId": f"deleteMany{name}",
                "tags": [name],
                "parameters": [bulk_where],
                "responses": _responses(_json_response("records deleted", _ref("Count"))),
            },
        }

    def item(self, model: ModelInfo) -> dict[str, Any]:
        name = model.name
        id_param = {
            "name": "id",
            "in": "path",
            "required": True,
            "description": f"the key ({', '.join(model.key_fields)}), values URL-encoded and "
            "joined by `,`",
            "schema": _key_schema(model),
        }
        selection = [
            _param(
                "select",
                "fields (and relations), comma-separated, or JSON",
                {"type": "string", "pattern": _names_pattern([*model.scalars, *model.relations])},
            )
        ]
        if model.relations:
            selection.append(self.include_param(model))
        if_match = {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "description": "the ETag the record had when read; 412 when it changed since",
            "schema": {"type": "string"},
        }
        one = _json_response(f"the {name} record", _ref(name))
        return {
            "parameters": [id_param],
            "get": {
                "summary": f"Read one {name}",
                "operationId": f"get{name}",
                "tags": [name],
                "parameters": selection,
                "responses": _responses(one, 304),
            },
            "patch": {
                "summary": f"Update one {name}",
                "operationId": f"update{name}",
                "tags": [name],
                "parameters": [*selection, if_match],
                "requestBody": _body(_ref(f"{name}Update")),
                "responses": _responses(one),
            },
            "put": {
                "summary": f"Create or update the {name} with this key (upsert)",
                "operationId": f"upsert{name}",
                "tags": [name],
                "parameters": [*selection, if_match],
                "requestBody": _body(_ref(f"{name}Create")),
                "responses": _responses(one),
            },
            "delete": {
                "summary": f"Delete one {name}",
                "operationId": f"delete{name}",
                "tags": [name],
                "parameters": [*selection, if_match],
                "responses": _responses(one),
            },
        }

    # -- RPC -------------------------------------------------------------------------

    def rpc(self, model: ModelInfo, operation: str) -> dict[str, Any]:
        name = model.name
        arguments = self.rpc_arguments(model, operation)
        responses = _responses(
            _json_response(f"`{operation}`'s result under `data`", _ref("RpcResult"))
        )
        entry: dict[str, Any] = {
            "post": {
                "summary": f"{name}.{operation} with Prisma Client's arguments as the body",
                "operationId": f"rpc_{name}_{operation}",
                "tags": [f"rpc {name}"],
                "requestBody": _body(arguments),
                "responses": responses,
            }
        }
        if operation in READ_OPERATIONS:
            entry["get"] = {
                "summary": f"{name}.{operation} with the arguments as JSON in `q`",
                "operationId": f"rpc_{name}_{operation}_get",
                "tags": [f"rpc {name}"],
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": "required" in arguments,
                        "description": "the arguments, a JSON object",
                        "content": {"application/json": {"schema": arguments}},
                    }
                ],
                "responses": responses,
            }
        return entry

    def rpc_arguments(self, model: ModelInfo, operation: str) -> dict[str, Any]:
        name = model.name
        where = _ref(f"{name}Where")
        unique = _ref(f"{name}WhereUnique")
        sortable = [n for n, f in model.scalars.items() if not f.is_list and f.type != "Json"]
        order = {
            "type": "object",
            "properties": {n: {"type": "string", "enum": ["asc", "desc"]} for n in sortable},
            "additionalProperties": False,
        }
        count_all = {
            "type": "object",
            "properties": {"_all": {"const": True}},
            "required": ["_all"],
            "additionalProperties": False,
        }
        page = {
            "where": where,
            "orderBy": order,
            "take": {"type": "integer", "minimum": 0, "maximum": self.settings.max_page},
            "skip": {"type": "integer", "minimum": 0, **_max_int()},
        }
        properties: dict[str, Any]
        required: list[str] = []
        if operation in ("findMany", "findFirst", "findFirstOrThrow"):
            properties = page
        elif operation in ("findUnique", "findUniqueOrThrow", "delete"):
            properties, required = {"where": unique}, ["where"]
        elif operation in ("count", "deleteMany"):
            properties = {"where": where}
        elif operation == "aggregate":
            properties = {"where": where, "_count": count_all}
        elif operation == "groupBy":
            by = {
                "type": "array",
                "items": {"type": "string", "enum": sortable},
                "minItems": 1,
                "uniqueItems": True,
            }
            properties, required = {"by": by, "where": where, "_count": count_all}, ["by"]
        elif operation == "create":
            properties, required = {"data": _ref(f"{name}Create")}, ["data"]
        elif operation == "createMany":
            items = {"type": "array", "items": _ref(f"{name}Create")}
            properties, required = {"data": items}, ["data"]
        elif operation == "update":
            properties = {"where": unique, "data": _ref(f"{name}Update")}
            required = ["where", "data"]
        elif operation == "updateMany":
            properties, required = {"where": where, "data": _ref(f"{name}Update")}, ["data"]
        else:  # upsert
            properties = {
                "where": unique,
                "create": _ref(f"{name}Create"),
                "update": _ref(f"{name}Update"),
            }
            required = ["where", "create", "update"]
        schema: dict[str, Any] = {
            "type": "object",
            "description": "Prisma Client's arguments; this schema shows their common subset, "
            "the route takes every argument Prisma Client does (select, include, filters, ...)",
            "properties": properties,
            "additionalProperties": False,
        }
        if required:
            schema["required"] = required
        return schema


_NEEDS_UNIQUE = frozenset({"findUnique", "findUniqueOrThrow", "update", "upsert", "delete"})


def build_openapi(
    client: Client, settings: ApiSettings, procedures: Procedures | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``client``'s schema (and ``procedures``) as this app
    serves it."""
    document = _Builder(client, settings).document()
    if procedures:
        schemas = document["components"]["schemas"]
        document["paths"].update(procedure_paths(procedures, schemas))
    return document


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _max_int() -> dict[str, int]:
    return {"maximum": 2**31 - 1}


def _field_schema(field: Field) -> dict[str, Any]:
    base = _ref(field.type) if field.kind == "enum" else dict(_SCALARS.get(field.type, {}))
    if field.is_list:
        base = {"type": "array", "items": base}
    if not field.is_required and not field.is_list:
        base = {"anyOf": [base, {"type": "null"}]}
    if field.documentation:
        base["description"] = field.documentation
    return base


def _input_schema(field: Field) -> dict[str, Any]:
    """A value a request may give ``field`` (never null: see ``_nullable``)."""
    base = _ref(field.type) if field.kind == "enum" else dict(_INPUTS.get(field.type, {}))
    return {"type": "array", "items": base} if field.is_list else base


def _nullable(field: Field, schema: dict[str, Any]) -> dict[str, Any]:
    if field.is_required or field.is_list:
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


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


def _where_schema(model: ModelInfo) -> dict[str, Any]:
    properties = {
        name: _nullable(field, _input_schema(field))
        for name, field in model.scalars.items()
        if not field.is_list and field.type not in ("Json", "Bytes")
    }
    return {
        "type": "object",
        "description": f"a Prisma `where` on `{model.name}` (equality shown; every filter works)",
        "properties": properties,
        "additionalProperties": False,
    }


def _where_unique_schema(model: ModelInfo) -> dict[str, Any]:
    choices = []
    for label, fields in model.uniques:
        values = {f: _input_schema(model.scalars[f]) for f in fields}
        if len(fields) == 1:
            properties = values
        else:
            properties = {
                label: {
                    "type": "object",
                    "properties": values,
                    "required": list(fields),
                    "additionalProperties": False,
                }
            }
        choices.append(
            {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            }
        )
    return {"oneOf": choices} if len(choices) > 1 else choices[0]


def _data_schema(model: ModelInfo, *, create: bool) -> dict[str, Any]:
    properties = {
        name: _nullable(field, _input_schema(field)) for name, field in model.scalars.items()
    }
    schema: dict[str, Any] = {
        "type": "object",
        "description": f"`{model.name}` data as Prisma Client takes it; nested writes "
        f"({', '.join(model.relations) or 'none here'}) and atomic updates are accepted too",
        "properties": properties,
        "additionalProperties": False,
    }
    required = [
        name
        for name, field in model.scalars.items()
        if field.is_required
        and not field.is_list
        and field.default is None
        and not field.is_updated_at
    ]
    if create and required:
        schema["required"] = required
    return schema


def _key_schema(model: ModelInfo) -> dict[str, Any]:
    fields = [model.scalars[name] for name in model.key_fields]
    if len(fields) == 1 and fields[0].type == "Int":
        return {"type": "integer", **INT32}
    if len(fields) == 1 and fields[0].type == "String":
        return {"type": "string", "pattern": _KEY_TEXT}
    return {"type": "string", "description": "key values, URL-encoded, joined by `,`"}


def _names_pattern(names: list[str], *, signed: bool = False) -> str:
    alternatives = "|".join(re.escape(n) for n in names)
    sign = "-?" if signed else ""
    return f"^{sign}({alternatives})(,{sign}({alternatives}))*$"


def _list_pattern(field: Field, builder: _Builder) -> str:
    if field.kind == "enum":
        enum = next(e for e in builder.info.schema.enums if e.name == field.type)
        alternatives = "|".join(re.escape(v.name) for v in enum.values)
        return f"^({alternatives})(,({alternatives}))*$"
    if field.type == "Int":
        return r"^-?[0-9]{1,9}(,-?[0-9]{1,9})*$"
    return r"^[^,]+(,[^,]+)*$"


def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _json_param(name: str, description: str, model: ModelInfo) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "content": {"application/json": {"schema": _ref(f"{model.name}Where")}},
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _responses(ok: dict[str, Any], *extra: int, status: int = 200) -> dict[str, Any]:
    responses: dict[str, Any] = {str(status): ok}
    for code in extra:
        if code == 304:
            responses["304"] = {"description": "not modified (If-None-Match)"}
    responses["default"] = _PROBLEM_RESPONSE
    return responses


def _batch_operation() -> dict[str, Any]:
    call = {
        "oneOf": [
            {
                "type": "object",
                "required": ["model", "operation"],
                "properties": {
                    "model": {"type": "string"},
                    "operation": {"type": "string", "enum": list(OPERATIONS)},
                    "args": {"type": "object"},
                },
            },
            {
                "type": "object",
                "required": ["procedure"],
                "properties": {"procedure": {"type": "string"}, "args": {}},
            },
        ]
    }
    return {
        "summary": "Several calls, optionally in one transaction (all or nothing)",
        "operationId": "rpcBatch",
        "tags": ["rpc"],
        "requestBody": _body(
            {
                "type": "object",
                "required": ["calls"],
                "properties": {
                    "transaction": {"type": "boolean"},
                    "calls": {"type": "array", "items": call},
                },
            }
        ),
        "responses": _responses(
            _json_response(
                "each call's result in order (and `errors` of a batch without transaction)",
                {
                    "type": "object",
                    "properties": {"data": {"type": "array"}, "errors": {"type": "array"}},
                },
            )
        ),
    }


def _graphql_operations() -> dict[str, Any]:
    """``/graphql``: GraphQL over HTTP (POST a JSON request, or GET a query)."""
    answer = {
        "type": "object",
        "properties": {"data": {}, "errors": {"type": "array", "items": {"type": "object"}}},
    }
    request = {
        "type": "object",
        "required": ["query"],
        "properties": {
            "query": {"type": "string"},
            "variables": {"type": ["object", "null"]},
            "operationName": {"type": ["string", "null"]},
        },
    }
    responses = {
        "200": _json_response("the GraphQL response", answer),
        "400": {
            "description": "a query that does not parse or validate (a GraphQL response), or "
            "a body that is not JSON (a problem)",
            "content": {
                "application/json": {"schema": answer},
                "application/problem+json": {"schema": _PROBLEM},
            },
        },
        "default": _PROBLEM_RESPONSE,
    }
    return {
        "post": {
            "summary": "Run a GraphQL query or mutation (see /graphql in a browser: GraphiQL)",
            "operationId": "graphql",
            "tags": ["graphql"],
            "requestBody": _body(request),
            "responses": responses,
        },
    }


def _simple(summary: str, tag: str) -> dict[str, Any]:
    ok = _json_response(summary, {"type": "object"})
    return {"summary": summary, "tags": [tag], "responses": _responses(ok)}


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
