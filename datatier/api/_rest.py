"""REST under ``/rest/{model}``: lists with filters and cursor pages, one record by id,
create (nested writes), bulk create/update/delete, ETag and ``If-Match``.

Every handler builds a query document and runs it through the pipeline's ``execute``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote_plus

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from datatier.api._json import JsonResponse, dumps, loads
from datatier.api._params import (
    RESERVED,
    bad_parameter,
    key_where,
    parse_filters,
    parse_key,
    parse_order,
    parse_selection,
    render_key,
)
from datatier.api._pipeline import execute, resolve_model
from datatier.api._problems import HttpProblem
from datatier.api._responsecache import etag_matches
from datatier.api._settings import ApiSettings
from datatier.client import Client, Transaction
from datatier.query._model_info import ModelInfo

__all__ = ["etag_of", "json_response", "rest_routes"]

JSON = "application/json"


def rest_routes() -> list[Route]:
    """The REST routes, to mount at the app's root."""
    return [
        Route("/rest/{model}", list_or_bulk, methods=["GET", "POST", "PATCH", "DELETE"]),
        Route("/rest/{model}/{id:path}", one_record, methods=["GET", "PATCH", "PUT", "DELETE"]),
    ]


def etag_of(body: bytes) -> str:
    """A strong ETag for a response body: its length and CRC-32.

    A hash per response read is paid on every GET; CRC-32 runs at memory speed (about four
    times faster than BLAKE2 here, which cost as much as encoding the JSON), and with the
    length a changed body keeps its tag with a chance of about 2^-32.
    """
    return f'"{len(body):x}-{zlib.crc32(body):08x}"'


def json_response(
    request: Request, value: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``value`` as JSON; a GET gets an ETag (when ``settings.etag``) and a 304 when
    ``If-None-Match`` names it."""
    body = dumps(value)
    if request.method == "GET" and request.app.state.settings.etag:
        headers = dict(headers) if headers else {}
        etag = etag_of(body)
        headers["ETag"] = etag
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None and etag_matches(
            if_none_match.encode("latin-1"), etag.encode()
        ):
            return Response(status_code=304, headers=headers)
    return JsonResponse(body, status, headers)


def _context(request: Request) -> tuple[Client, ApiSettings, ModelInfo]:
    state = request.app.state
    client: Client = state.client
    model = resolve_model(client, request.path_params["model"])
    return client, state.settings, client.engine.info.model(model)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise HttpProblem(400, "validation_error", "the request needs a JSON body", path=("body",))
    return loads(raw, "body")


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_parameter(name, f"`{raw}` is not an integer") from None


def _where(request: Request, model: ModelInfo, client: Client) -> dict[str, Any] | None:
    """The ``where`` from ``where=<json>`` and field parameters; None when neither is given."""
    info = client.engine.info
    filters = [(k, v) for k, v in request.query_params.multi_items() if k not in RESERVED]
    raw = request.query_params.get("where")
    if raw is None and not filters:
        return None
    where = parse_filters(info, model, filters)
    if raw is not None:
        given = loads(raw, "where")
        if not isinstance(given, dict):
            raise bad_parameter("where", "must be a JSON object")
        where = {"AND": [given, where]} if where else given
    return where


def _selection(request: Request, client: Client, model: ModelInfo) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if not request.scope["query_string"]:
        return document  # the common single-record read: no query string to parse
    info = client.engine.info
    include = request.query_params.get("include")
    select = request.query_params.get("select")
    if select is not None:
        chosen = parse_selection(info, model, select, "select", scalars_allowed=True)
        if include is not None:
            chosen.update(parse_selection(info, model, include, "include", scalars_allowed=False))
        document["select"] = chosen
    elif include is not None:
        document["include"] = parse_selection(
            info, model, include, "include", scalars_allowed=False
        )
    return document


async def list_or_bulk(request: Request) -> Response:
    if request.method == "GET":
        return await _list(request)
    if request.method == "POST":
        return await _create(request)
    return await _bulk_change(request)


async def _list(request: Request) -> Response:
    client, settings, model = _context(request)
    document = _selection(request, client, model)
    where = _where(request, model, client)
    if where is not None:
        document["where"] = where
    order = (
        parse_order(model, request.query_params["orderBy"])
        if "orderBy" in request.query_params
        else []
    )
    # a unique tiebreak makes pages stable and cursors exact
    named = {name for entry in order for name in entry}
    order.extend({name: "asc"} for name in model.key_fields if name not in named)
    document["orderBy"] = order
    take = _int_param(request, "take")
    if take is None:
        take = settings.default_page
    if take < 0:
        raise bad_parameter("take", "must be 0 or more (page backwards by reversing orderBy)")
    if take > settings.max_page:
        raise HttpProblem(
            400,
            "limit_exceeded",
            f"take {take} is over the maximum page size of {settings.max_page} rows",
            title="Page too large",
            path=("take",),
        )
    skip = _int_param(request, "skip") or 0
    if skip < 0:
        raise bad_parameter("skip", "must be 0 or more")
    cursor = request.query_params.get("cursor")
    if cursor is not None:
        document["cursor"] = key_where(model, parse_key(client.engine.info, model, cursor))
        skip += 1  # the cursor names the last row already seen
    if skip:
        document["skip"] = skip
    if "select" in document:  # the cursor of the next page needs the key fields
        for name in model.key_fields:
            document["select"].setdefault(name, True)
    document["take"] = take + 1
    rows = await execute(request, model.name, "findMany", document, lookahead=True)
    last = rows[take - 1] if len(rows) > take and take > 0 else None
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if last is not None:
        next_cursor = render_key(model, last)
        extra["nextCursor"] = next_cursor
        headers["Link"] = f'<{_next_page_url(request, next_cursor)}>; rel="next"'
    count = request.query_params.get("count")
    if count not in (None, "true", "false"):
        raise bad_parameter("count", "is `true` or `false`")
    if count == "true":
        extra["count"] = await execute(
            request, model.name, "count", {"where": where} if where is not None else {}
        )
    return json_response(request, {"data": rows[:take], **extra}, headers=headers)


def _next_page_url(request: Request, cursor: str) -> str:
    """The request's URL with ``cursor`` in place of its ``cursor`` and ``skip``; the other
    parameters stay as the client wrote them (not decoded and encoded again)."""
    query = request.scope["query_string"].decode("latin-1")
    kept = [
        part
        for part in query.split("&")
        if part and unquote_plus(part.partition("=")[0]) not in ("cursor", "skip")
    ]
    kept.append("cursor=" + quote(cursor, safe=""))
    return str(request.url).partition("?")[0] + "?" + "&".join(kept)


async def _create(request: Request) -> Response:
    client, _, model = _context(request)
    data = await _body(request)
    if isinstance(data, list):
        count = await execute(request, model.name, "createMany", {"data": data})
        return json_response(request, {"count": count}, 201)
    if not isinstance(data, dict):
        raise HttpProblem(
            400,
            "validation_error",
            "the body is a JSON object (one record) or array",
            path=("body",),
        )
    document: dict[str, Any] = {"data": data, **_selection(request, client, model)}
    row = await execute(request, model.name, "create", document)
    headers = {}
    if model.key_fields:
        root = request.scope.get("root_path", "")
        headers["Location"] = f"{root}/rest/{request.path_params['model']}/{render_key(model, row)}"
    return json_response(request, row, 201, headers)


async def _bulk_change(request: Request) -> Response:
    client, _, model = _context(request)
    where = _where(request, model, client)
    if where is None:
        raise HttpProblem(
            400,
            "validation_error",
            f"a bulk {request.method} needs a filter (field parameters or where=<json>); "
            "to change every row say so with where={}",
            path=("where",),
        )
    if request.method == "DELETE":
        count = await execute(request, model.name, "deleteMany", {"where": where})
    else:
        data = await _body(request)
        if not isinstance(data, dict):
            raise HttpProblem(400, "validation_error", "the body is a JSON object", path=("body",))
        count = await execute(request, model.name, "updateMany", {"where": where, "data": data})
    return json_response(request, {"count": count})


def _raw_id(request: Request) -> str:
    """The id segment as sent (still URL-encoded, so an encoded `,` stays inside a value)."""
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    path = raw_path.decode("latin-1").split("?", 1)[0]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path.split("/", 3)[3]


async def _write_one(
    request: Request,
    name: str,
    key: Mapping[str, Any],
    where: Mapping[str, Any],
    data: Any,
    selection: Mapping[str, Any],
    runner: Transaction | None,
) -> Any:
    """DELETE, PATCH (update) or PUT (upsert by the URL's key) of one record."""
    if request.method == "DELETE":
        return await execute(request, name, "delete", {"where": where, **selection}, runner=runner)
    if request.method == "PATCH":
        return await execute(
            request, name, "update", {"where": where, "data": data, **selection}, runner=runner
        )
    create = {**(data or {}), **key}
    return await execute(
        request,
        name,
        "upsert",
        {"where": where, "create": create, "update": data, **selection},
        runner=runner,
    )


async def one_record(request: Request) -> Response:
    client, _, model = _context(request)
    key = parse_key(client.engine.info, model, _raw_id(request))
    where = key_where(model, key)
    selection = _selection(request, client, model)
    name = model.name
    if request.method == "GET":
        document = {"where": where, **selection}
        row = await execute(request, name, "findUniqueOrThrow", document)
        return json_response(request, row)
    if_match = request.headers.get("if-match", "").strip() or None  # blank: no precondition
    data = await _body(request) if request.method != "DELETE" else None
    if data is not None and not isinstance(data, dict):
        raise HttpProblem(400, "validation_error", "the body is a JSON object", path=("body",))
    if if_match is None:
        # No precondition: the write is one call, in a transaction of its own only when it
        # needs one (a plain update is one statement).
        row = await _write_one(request, name, key, where, data, selection, None)
    else:
        async with client.tx() as tx:
            current = await execute(
                request, name, "findUnique", {"where": where, **selection}, runner=tx
            )
            if current is None or not etag_matches(
                if_match.encode("latin-1"), etag_of(dumps(current)).encode()
            ):
                raise HttpProblem(
                    412,
                    "precondition_failed",
                    "the record changed since it was read (If-Match does not match its ETag); "
                    "read it again and retry",
                    title="Precondition failed",
                )
            row = await _write_one(request, name, key, where, data, selection, tx)
    body = dumps(row)
    return JsonResponse(body, 200, {"ETag": etag_of(body)})
