"""RPC under ``/rpc/{model}/{operation}``: Prisma Client's operations and documents as they
are; reads by ``GET ?q=<json>`` or POST, writes by POST; ``POST /rpc/$batch``.

Answers are ``{"data": <the operation's result>}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from datatier.api._json import dumps, loads
from datatier.api._pipeline import OPERATIONS, READ_OPERATIONS, execute, resolve_model
from datatier.api._problems import HttpProblem, problem_for
from datatier.api._settings import ApiSettings
from datatier.client import Client, Transaction

__all__ = ["rpc_routes"]

JSON = "application/json"


def rpc_routes() -> list[Route]:
    """The RPC routes, to mount at the app's root (``$batch`` before the per-model route)."""
    return [
        Route("/rpc/$batch", batch, methods=["POST"]),
        Route("/rpc/{model}/{operation}", call, methods=["GET", "POST"]),
    ]


def _check_operation(operation: str, method: str) -> None:
    if operation not in OPERATIONS:
        raise HttpProblem(
            404,
            "unknown_operation",
            f"no operation `{operation}`; operations are: {', '.join(OPERATIONS)}",
            title="Unknown operation",
            path=(operation,),
        )
    if method == "GET" and operation not in READ_OPERATIONS:
        raise HttpProblem(
            405,
            "method_not_allowed",
            f"`{operation}` writes; send it by POST",
            title="Method not allowed",
            headers={"Allow": "POST"},
        )


async def call(request: Request) -> Response:
    client: Client = request.app.state.client
    model = resolve_model(client, request.path_params["model"])
    operation = request.path_params["operation"]
    _check_operation(operation, request.method)
    if request.method == "GET":
        raw = request.query_params.get("q")
        args = loads(raw, "q") if raw else {}
    else:
        body = await request.body()
        args = loads(body, "body") if body.strip() else {}
    if not isinstance(args, dict):
        raise HttpProblem(
            400, "validation_error", "the arguments are a JSON object", path=("body",)
        )
    result = await execute(request, model, operation, args)
    return Response(dumps({"data": result}), media_type=JSON)


async def batch(request: Request) -> Response:
    client: Client = request.app.state.client
    settings: ApiSettings = request.app.state.settings
    body = await request.body()
    spec = loads(body, "body") if body.strip() else None
    if not isinstance(spec, dict) or not isinstance(spec.get("calls"), list):
        raise HttpProblem(
            400,
            "validation_error",
            'the body is {"transaction": bool, "calls": [{"model", "operation", "args"}]}',
            path=("calls",),
        )
    calls: list[Any] = spec["calls"]
    transaction = spec.get("transaction", False)
    if not isinstance(transaction, bool):
        raise HttpProblem(
            400, "validation_error", "`transaction` is true or false", path=("transaction",)
        )
    if len(calls) > settings.max_batch:
        raise HttpProblem(
            400,
            "limit_exceeded",
            f"{len(calls)} calls in one batch; the maximum is {settings.max_batch}",
            path=("calls",),
        )
    planned = [_plan(client, index, item) for index, item in enumerate(calls)]
    if transaction:
        results: list[Any] = []
        async with client.tx() as tx:
            for index, (model, operation, args) in enumerate(planned):
                results.append(await _run(request, index, model, operation, args, tx))
        return Response(dumps({"data": results}), media_type=JSON)
    data: list[Any] = []
    errors: list[dict[str, Any]] = []
    for index, (model, operation, args) in enumerate(planned):
        try:
            data.append(await execute(request, model, operation, args))
        except Exception as error:
            _, problem = problem_for(error, debug=settings.debug)
            problem["path"] = ["calls", index, *problem.get("path", [])]
            errors.append({"index": index, **problem})
            data.append(None)
    answer: dict[str, Any] = {"data": data}
    if errors:
        answer["errors"] = errors
    return Response(dumps(answer), media_type=JSON)


def _plan(client: Client, index: int, item: Any) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(item, dict) or not isinstance(item.get("model"), str):
        raise HttpProblem(
            400,
            "validation_error",
            'each call is {"model": "<accessor>", "operation": "<name>", "args": {...}}',
            path=("calls", index),
        )
    operation = item.get("operation")
    if not isinstance(operation, str):
        raise HttpProblem(400, "validation_error", "`operation` is missing", path=("calls", index))
    try:
        model = resolve_model(client, item["model"])
        _check_operation(operation, "POST")
    except HttpProblem as problem:
        problem.path = ("calls", index, *problem.path)
        raise
    args = item.get("args", {})
    if not isinstance(args, dict):
        raise HttpProblem(
            400, "validation_error", "`args` is a JSON object", path=("calls", index, "args")
        )
    return model, operation, args


async def _run(
    request: Request, index: int, model: str, operation: str, args: dict[str, Any], tx: Transaction
) -> Any:
    try:
        return await execute(request, model, operation, args, runner=tx)
    except HttpProblem as problem:
        problem.path = ("calls", index, *problem.path)
        raise
    except Exception as error:
        status, body = problem_for(error)
        raise HttpProblem(
            status,
            body["code"],
            f"call {index} failed, nothing in the batch was written: {body['detail']}",
            title=body["title"],
            path=("calls", index, *body.get("path", [])),
            extra={k: v for k, v in body.items() if k in ("prisma_code", "fields", "model")},
        ) from error
