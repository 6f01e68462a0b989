"""``/graphql``: GraphQL over HTTP (POST JSON, POST application/graphql, GET ?query=), batches
as JSON arrays, and the GraphiQL page for browsers.

A request is parsed and validated (cached per query text), checked against the limits, and
only then executed; so a request over a limit runs no SQL. Errors raised by the engine or
the pipeline carry the same ``code``/``prisma_code`` in ``extensions`` as REST's problem
bodies.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.utilities import get_operation_ast
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from datatier.api._graphql._execute import (
    CompiledQueries,
    execute_operation,
    needs_introspection,
)
from datatier.api._graphql._limits import LimitExceeded, check_operation
from datatier.api._graphql._page import GRAPHIQL_PAGE
from datatier.api._graphql._resolvers import GraphqlContext
from datatier.api._graphql._schema import build_schema
from datatier.api._json import dumps, loads
from datatier.api._pipeline import execute as run_pipeline
from datatier.api._problems import HttpProblem, problem_for, problem_response
from datatier.api._settings import ApiSettings
from datatier.client import Client
from datatier.query._engine import Engine

__all__ = ["GraphqlEndpoint", "graphql_routes"]

_DOCUMENTS = 1000  # parsed and validated query texts kept per endpoint
_JSON = "application/json"


class _RequestError(Exception):
    """A GraphQL request that cannot run at all (before execution): answered with 400."""

    def __init__(self, errors: list[dict[str, Any]], status: int = 400) -> None:
        super().__init__(errors[0]["message"] if errors else "bad request")
        self.errors = errors
        self.status = status


def _error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extensions}}


def graphql_routes(settings: ApiSettings) -> list[BaseRoute]:
    """The routes of ``/graphql`` (GET and POST) for an app with ``settings``."""
    endpoint = GraphqlEndpoint(settings)
    return [Route("/graphql", endpoint.handle, methods=["GET", "POST"], name="graphql")]


class GraphqlEndpoint:
    """Answers ``/graphql`` for the app's client; the GraphQL schema is built on first use."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.limits = settings.graphql
        self._schema: tuple[Engine, GraphQLSchema] | None = None
        # query text -> [document or its syntax errors, validation errors (None: not yet)]
        self._documents: OrderedDict[str, list[Any]] = OrderedDict()
        self._compiled = CompiledQueries()
        rules = list(specified_rules)
        if not self.limits.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self._rules = rules

    def schema_for(self, client: Client) -> GraphQLSchema:
        """The GraphQL schema of ``client``'s schema (built once per engine)."""
        if self._schema is None or self._schema[0] is not client.engine:
            engine = client.engine
            self._schema = (engine, build_schema(engine.info, engine.provider))
            self._documents.clear()
            self._compiled.clear()
        return self._schema[1]

    async def handle(self, request: Request) -> Response:
        if request.method == "GET" and "query" not in request.query_params:
            if self.limits.graphiql and "text/html" in request.headers.get("accept", ""):
                return HTMLResponse(GRAPHIQL_PAGE)
            return problem_response(
                HttpProblem(
                    400,
                    "bad_request",
                    "GET /graphql takes ?query=...&variables=<json>&operationName=..."
                    + ("" if self.limits.graphiql else " (the GraphiQL page is switched off)"),
                    path=("query",),
                ),
                debug=self.settings.debug,
            )
        client: Client = request.app.state.client
        schema = self.schema_for(client)
        try:
            payload = await self._payload(request)
        except HttpProblem as problem:
            return problem_response(problem, debug=self.settings.debug)
        if isinstance(payload, list):
            if not payload:
                return _json({"errors": [_error("the batch is empty", "bad_request")]}, 400)
            if len(payload) > self.limits.max_batch:
                message = (
                    f"the batch holds {len(payload)} operations; at most "
                    f"{self.limits.max_batch} are allowed in one request"
                )
                extensions = {"limit": "batch", "maximum": self.limits.max_batch}
                return _json({"errors": [_error(message, "limit_exceeded", **extensions)]}, 400)
            answers = [await self._one(request, schema, item) for item in payload]
            status = 200 if any(s == 200 for s, _ in answers) else answers[0][0]
            return _json([body for _, body in answers], status)
        status, body = await self._one(request, schema, payload)
        return _json(body, status)

    async def _payload(self, request: Request) -> Any:
        if request.method == "GET":
            params = request.query_params
            payload: dict[str, Any] = {"query": params.get("query")}
            if params.get("variables"):
                payload["variables"] = loads(params["variables"], "variables")
            if params.get("operationName"):
                payload["operationName"] = params["operationName"]
            return payload
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await request.body()
        if content_type == "application/graphql":
            return {"query": body.decode("utf-8", errors="replace")}
        if content_type not in (_JSON, "application/graphql-response+json", ""):
            raise HttpProblem(
                415,
                "unsupported_media_type",
                f"POST /graphql takes application/json (or application/graphql), not "
                f"{content_type}",
                title="Unsupported media type",
            )
        return loads(body, "body")

    async def _one(
        self, request: Request, schema: GraphQLSchema, payload: Any
    ) -> tuple[int, dict[str, Any]]:
        """Run one operation of a request: (status, GraphQL response body)."""
        try:
            document, operation, fragments, variables = self._prepare(request, schema, payload)
        except _RequestError as error:
            return error.status, {"errors": error.errors}
        info = request.app.state.client.engine.info
        if needs_introspection(operation, fragments):
            # graphql-core resolves each field of the records itself: plain records
            context = GraphqlContext(
                info, lambda model, op, doc: run_pipeline(request, model, op, doc)
            )
            result = execute(
                schema,
                document,
                context_value=context,
                variable_values=variables,
                operation_name=operation.name.value if operation.name else None,
            )
            if inspect.isawaitable(result):
                result = await result
            assert isinstance(result, ExecutionResult)
            data, errors = result.data, result.errors or []
        else:
            # the completer shapes the records and they are only encoded: wire rows
            context = GraphqlContext(
                info, lambda model, op, doc: run_pipeline(request, model, op, doc, wire=True)
            )
            data, errors = await execute_operation(
                schema, operation, fragments, variables, context, self._compiled
            )
        body: dict[str, Any] = {}
        if errors:
            body["errors"] = [self._format(error) for error in errors]
        body["data"] = data
        return 200, body

    def _prepare(
        self, request: Request, schema: GraphQLSchema, payload: Any
    ) -> tuple[
        DocumentNode,
        OperationDefinitionNode,
        dict[str, FragmentDefinitionNode],
        dict[str, Any] | None,
    ]:
        if not isinstance(payload, Mapping):
            raise _RequestError([_error("a GraphQL request is a JSON object", "bad_request")])
        query = payload.get("query")
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        if not isinstance(query, str) or not query.strip():
            raise _RequestError(
                [_error("the request has no `query` (the GraphQL text)", "bad_request")]
            )
        if variables is not None and not isinstance(variables, Mapping):
            raise _RequestError([_error("`variables` is a JSON object", "bad_request")])
        if operation_name is not None and not isinstance(operation_name, str):
            raise _RequestError([_error("`operationName` is a string", "bad_request")])
        document = self._parsed(query)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            message = (
                f"no operation named `{operation_name}` in the query"
                if operation_name
                else "the query holds several operations; name one in `operationName`"
            )
            raise _RequestError([_error(message, "bad_request")])
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        root = (
            schema.query_type
            if operation.operation == OperationType.QUERY
            else schema.mutation_type
        )
        if root is not None and not self._compiled.knows(operation, variables):
            # limits first: validating a huge document is what they prevent
            try:
                check_operation(
                    operation,
                    fragments,
                    root,
                    dict(variables or {}),
                    self.limits,
                    default_page=self.settings.default_page,
                )
            except LimitExceeded as error:
                raise _RequestError([_formatted(error, error.extensions or {})]) from None
        self._check_valid(schema, query, document)
        if request.method == "GET" and operation.operation != OperationType.QUERY:
            raise _RequestError(
                [_error("mutations are sent with POST, not GET", "method_not_allowed")], 405
            )
        return document, operation, fragments, dict(variables) if variables is not None else None

    def _parsed(self, query: str) -> DocumentNode:
        """``query`` parsed (cached by its text); a ``_RequestError`` on a syntax error."""
        found = self._documents.get(query)
        if found is None:
            try:
                document = parse(query)
            except GraphQLError as error:
                found = [[_formatted(error, {"code": "graphql_parse_failed"})], None]
            else:
                found = [document, None]
            if len(self._documents) >= _DOCUMENTS:
                self._documents.popitem(last=False)
            self._documents[query] = found
        parsed = found[0]
        if isinstance(parsed, list):
            raise _RequestError(parsed)
        assert isinstance(parsed, DocumentNode)
        return parsed

    def _check_valid(self, schema: GraphQLSchema, query: str, document: DocumentNode) -> None:
        """Validate ``document`` against the schema once (the answer is cached with it)."""
        entry = self._documents.get(query)
        errors = entry[1] if entry is not None else None
        if errors is None:
            found = validate(schema, document, self._rules)
            errors = [_formatted(e, {"code": _validation_code(e)}) for e in found]
            if entry is not None:
                entry[1] = errors
        if errors:
            raise _RequestError(errors)

    def _format(self, error: GraphQLError) -> dict[str, Any]:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            # graphql-core's own checks while executing (a variable of the wrong type ...)
            return _formatted(error, {"code": "validation_error", "status": 400})
        _status, body = problem_for(original, debug=self.settings.debug)
        extensions = {k: v for k, v in body.items() if k not in ("type", "title", "detail")}
        return _formatted(error, extensions, message=body["detail"])


def _validation_code(error: GraphQLError) -> str:
    if "introspection has been disabled" in error.message:
        return "introspection_disabled"
    return "graphql_validation_failed"


def _formatted(
    error: GraphQLError, extensions: Mapping[str, Any], *, message: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message if message is not None else error.message}
    if error.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        body["path"] = list(error.path)
    body["extensions"] = dict(extensions)
    return body


def _json(body: Any, status: int) -> Response:
    return Response(dumps(body), status_code=status, media_type=_JSON)
