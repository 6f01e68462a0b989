"""RPC under ``/rpc/{model}/{operation}``: Prisma Client's operations and documents as they
are; reads by ``GET ?q=<json>`` or POST, writes by POST; user-defined procedures under
``/rpc/{name}`` (``_procedures.py``); ``POST /rpc/$batch`` runs several of either.

Answers are ``{"data": <the operation's result>}``.
"""

from __future__ import annotations

import logging
from typing import Any

import pydantic
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from datatier.api._cachehooks import WROTE
from datatier.api._json import dumps, loads
from datatier.api._pipeline import OPERATIONS, READ_OPERATIONS, execute, resolve_model
from datatier.api._problems import HttpProblem, problem_for
from datatier.api._procedures import Procedure, ProcedureContext, Procedures, to_problem_errors
from datatier.api._rest import json_response
from datatier.api._settings import ApiSettings
from datatier.client import Client, Transaction

__all__ = ["rpc_routes", "run_procedure"]

JSON = "application/json"
_log = logging.getLogger("datatier.api")


def rpc_routes() -> list[Route]:
    """The RPC routes, to mount at the app's root (``$batch`` before the per-model route)."""
    return [
        Route("/rpc/$batch", batch, methods=["POST"]),
        Route("/rpc/{model}/{operation}", call, methods=["GET", "POST"]),
        Route("/rpc/{name}", call_procedure, methods=["GET", "POST"]),
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
    # only encoded: a read may hand over nested JSON as the database wrote it (wire rows)
    result = await execute(request, model, operation, args, wire=True)
    return json_response(request, {"data": result})


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
    procedures: Procedures = request.app.state.procedures
    planned = [_plan(client, procedures, index, item) for index, item in enumerate(calls)]
    if transaction:
        results: list[Any] = []
        async with client.tx() as tx:
            for index, (target, operation, args) in enumerate(planned):
                results.append(await _run(request, index, target, operation, args, tx))
        return Response(dumps({"data": results}), media_type=JSON)
    data: list[Any] = []
    errors: list[dict[str, Any]] = []
    for index, (target, operation, args) in enumerate(planned):
        try:
            if isinstance(target, Procedure):
                data.append(await run_procedure(request, target, args, ("args",)))
            else:
                data.append(await execute(request, target, operation, args))
        except Exception as error:
            _, problem = problem_for(error, debug=settings.debug)
            problem["path"] = ["calls", index, *problem.get("path", [])]
            errors.append({"index": index, **problem})
            data.append(None)
    answer: dict[str, Any] = {"data": data}
    if errors:
        answer["errors"] = errors
    return Response(dumps(answer), media_type=JSON)


def _plan(
    client: Client, procedures: Procedures, index: int, item: Any
) -> tuple[str | Procedure, str, Any]:
    """(model, operation, args) of one batch call, or (procedure, "", input)."""
    if isinstance(item, dict) and isinstance(item.get("procedure"), str):
        try:
            found = _procedure(procedures, item["procedure"])
        except HttpProblem as problem:
            problem.path = ("calls", index, "procedure")
            raise
        return found, "", item.get("args")
    if not isinstance(item, dict) or not isinstance(item.get("model"), str):
        raise HttpProblem(
            400,
            "validation_error",
            'each call is {"model": "<accessor>", "operation": "<name>", "args": {...}} '
            'or {"procedure": "<name>", "args": <input>}',
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
    request: Request,
    index: int,
    target: str | Procedure,
    operation: str,
    args: Any,
    tx: Transaction,
) -> Any:
    try:
        if isinstance(target, Procedure):
            return await run_procedure(request, target, args, ("args",), tx)
        return await execute(request, target, operation, args, runner=tx)
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


def _procedure(procedures: Procedures, name: str) -> Procedure:
    found = procedures.get(name)
    if found is None:
        known = ", ".join(sorted(p.name for p in procedures)) or "none are registered"
        raise HttpProblem(
            404,
            "unknown_procedure",
            f"no procedure `{name}` (procedures: {known}); model operations are "
            "/rpc/{model}/{operation}",
            title="Unknown procedure",
            path=(name,),
        )
    return found


async def call_procedure(request: Request) -> Response:
    procedures: Procedures = request.app.state.procedures
    found = _procedure(procedures, request.path_params["name"])
    if request.method == "GET":
        if not found.read_only:
            raise HttpProblem(
                405,
                "method_not_allowed",
                f"procedure `{found.name}` is not read-only; send it by POST",
                title="Method not allowed",
                headers={"Allow": "POST"},
            )
        raw = request.query_params.get("q")
        args = loads(raw, "q") if raw else None
    else:
        body = await request.body()
        args = loads(body, "body") if body.strip() else None
    result = await run_procedure(request, found, args, ())
    return json_response(request, {"data": result})


async def run_procedure(
    request: Request,
    found: Procedure,
    args: Any,
    path: tuple[str | int, ...],
    runner: Transaction | None = None,
) -> Any:
    """Authorize, validate ``args`` against the input type, run ``found`` (in ``runner``, else a
    transaction of its own unless it is read-only) and give its output in JSON form.

    Bad input is a 400 ``validation_error`` whose ``path`` (after ``path``) names the bad field
    and whose ``errors`` list every problem pydantic found.
    """
    client: Client = request.app.state.client
    settings: ApiSettings = request.app.state.settings
    identity = request.scope.get("state", {}).get("identity")
    if settings.auth is not None:
        from datatier.api._auth import authorize_procedure

        authorize_procedure(identity, found.name, settings.auth)
    value = None
    if found.input is not None:
        try:
            value = found.input.validate_python(args)
        except pydantic.ValidationError as error:
            errors = to_problem_errors(error)
            first = errors[0]
            where = ".".join(str(p) for p in first["path"]) or "the input"
            raise HttpProblem(
                400,
                "validation_error",
                f"procedure {found.name}: {where}: {first['message']}",
                title="Invalid input",
                path=(*path, *first["path"]),
                extra={"errors": errors},
            ) from None
    if not found.read_only:
        request.scope.setdefault("state", {})[WROTE] = True
    if runner is not None:
        result = await found.run(ProcedureContext(runner, identity, request), value)
    elif found.read_only:
        result = await found.run(ProcedureContext(client, identity, request), value)
    else:
        async with client.tx() as tx:
            result = await found.run(ProcedureContext(tx, identity, request), value)
    try:
        return found.output.dump_python(found.output.validate_python(result), mode="json")
    except pydantic.ValidationError as error:
        # the server's bug, not the caller's: a 500 that says so only in the log (or debug)
        _log.error("procedure %s returned a value its output type rejects: %s", found.name, error)
        raise RuntimeError(
            f"procedure {found.name} returned a value its output type rejects: {error}"
        ) from None
