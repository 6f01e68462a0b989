"""The request pipeline every transport ends in: authorize, check limits, run the operation.

REST, RPC and GraphQL each turn a request into (model, operation, document) with Prisma
Client's operation names and call ``execute``; the engine never learns which one called.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from starlette.requests import Request

from datatier.api._cachehooks import WROTE
from datatier.api._problems import HttpProblem
from datatier.api._settings import ApiSettings
from datatier.client import Client, Transaction
from datatier.errors import ValidationError
from datatier.query._model_info import SchemaInfo

__all__ = [
    "OPERATIONS",
    "READ_OPERATIONS",
    "check_limits",
    "execute",
    "resolve_model",
]

# Prisma Client's operation name -> the engine method (the client's method name).
OPERATIONS: Mapping[str, str] = {
    "findUnique": "find_unique",
    "findUniqueOrThrow": "find_unique_or_raise",
    "findFirst": "find_first",
    "findFirstOrThrow": "find_first_or_raise",
    "findMany": "find_many",
    "count": "count",
    "aggregate": "aggregate",
    "groupBy": "group_by",
    "create": "create",
    "createMany": "create_many",
    "update": "update",
    "updateMany": "update_many",
    "upsert": "upsert",
    "delete": "delete",
    "deleteMany": "delete_many",
}
READ_OPERATIONS = frozenset(
    {
        "findUnique",
        "findUniqueOrThrow",
        "findFirst",
        "findFirstOrThrow",
        "findMany",
        "count",
        "aggregate",
        "groupBy",
    }
)
_FIND_OPERATIONS = frozenset(
    ("findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow", "findMany")
)


def resolve_model(client: Client, accessor: str) -> str:
    """The model name (``OrderItem``) of an accessor in a URL (``orderItem``); 404 if none."""
    models = client.engine.info.models
    name = accessor[:1].upper() + accessor[1:]
    if name in models:  # the usual case, without a scan (model names start upper-case)
        return name
    for name in models:
        if name[:1].lower() + name[1:] == accessor:
            return name
    known = ", ".join(sorted(n[:1].lower() + n[1:] for n in client.engine.info.models))
    raise HttpProblem(
        404,
        "unknown_model",
        f"no model `{accessor}`; the schema has: {known}",
        title="Unknown model",
        path=(accessor,),
    )


async def execute(
    request: Request,
    model: str,
    operation: str,
    document: Mapping[str, Any],
    *,
    runner: Client | Transaction | None = None,
    lookahead: bool = False,
    wire: bool = False,
) -> Any:
    """Run ``operation`` on ``model`` with ``document`` for the request's identity.

    ``runner`` is an open transaction when the call is part of one (``$batch``);
    ``lookahead``: the top-level ``take`` holds one row more than the page (REST asks for it
    to know whether a next page exists), so it may be ``max_page + 1``. ``wire``: the
    caller only encodes the result with orjson, so a ``find*`` read may return wire rows
    (``datatier.query._compile.Compiled``). Not with a cache: its entries are the records
    Python code reads.
    """
    client: Client = request.app.state.client
    method, document = _checked(request, client, model, operation, document, lookahead)
    if operation == "aggregate" and not any(key.startswith("_") for key in document):
        return {}  # nothing to aggregate: Prisma Client answers {} too
    target = runner if runner is not None else client
    engine_method = getattr(client.engine, method)
    if operation in READ_OPERATIONS:
        if wire and client.cache is None and operation in _FIND_OPERATIONS:
            engine_method = partial(engine_method, wire=True)
        return await target.read(engine_method, model, document)
    # a request that wrote gets no X-Datatier-Change-Seq (it would predate its own write)
    request.scope.setdefault("state", {})[WROTE] = True
    return await target.write(engine_method, model, document)


def _checked(
    request: Request,
    client: Client,
    model: str,
    operation: str,
    document: Mapping[str, Any],
    lookahead: bool,
) -> tuple[str, Mapping[str, Any]]:
    """The engine method of ``operation`` and its document, once the request may run it
    (authorized, within the limits) and defaults are filled in."""
    settings: ApiSettings = request.app.state.settings
    method = OPERATIONS.get(operation)
    if method is None:
        raise HttpProblem(
            404,
            "unknown_operation",
            f"no operation `{operation}`; operations are: {', '.join(OPERATIONS)}",
            title="Unknown operation",
            path=(operation,),
        )
    if not isinstance(document, Mapping):
        raise ValidationError("the query document must be a JSON object")
    if settings.auth is not None:
        from datatier.api._access import authorize_document
        from datatier.api._auth import authorize

        identity = request.scope.get("state", {}).get("identity")
        authorize(identity, model, operation, settings)
        authorize_document(identity, client.engine.info, model, operation, document, settings.auth)
    check_limits(client.engine.info, model, document, settings, lookahead)
    if operation in ("aggregate", "groupBy"):
        document = _checked_aggregates(document)
    if operation == "findMany" and "take" not in document:
        document = {**document, "take": settings.max_page}
    return method, document


_AGGREGATES = ("_count", "_avg", "_sum", "_min", "_max")


def _checked_aggregates(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """Shapes the engine takes on trust: ``by`` names fields, an aggregate selects some
    field; ``_count: false``/``null`` select nothing and are dropped, as Prisma ignores them."""
    by = document.get("by")
    if by is not None and not (
        isinstance(by, str) or (isinstance(by, list) and by and all(isinstance(b, str) for b in by))
    ):
        raise ValidationError("`by` is a field name or a non-empty list of field names", ("by",))
    dropped = [key for key in _AGGREGATES if key in document and document[key] in (None, False)]
    for key in _AGGREGATES:
        value = document.get(key)
        if key in dropped or (value is True and key == "_count"):
            continue
        if key in document and not (
            isinstance(value, Mapping) and any(v is True for v in value.values())
        ):
            raise ValidationError(
                f"`{key}` selects no field; give an object with at least one field set to true",
                (key,),
            )
    return {k: v for k, v in document.items() if k not in dropped} if dropped else document


def check_limits(
    info: SchemaInfo,
    model: str,
    document: Mapping[str, Any],
    settings: ApiSettings,
    lookahead: bool = False,
) -> None:
    """Reject, before any SQL, a document whose page size or include depth is over the limits."""
    _check_take(document, settings, (), 1 if lookahead else 0)
    _check_nesting(info, model, document, settings, 0, ())


def _check_take(
    node: Mapping[str, Any], settings: ApiSettings, path: tuple[str, ...], extra: int = 0
) -> None:
    take = node.get("take")
    if (
        isinstance(take, int)
        and not isinstance(take, bool)
        and abs(take) > settings.max_page + extra
    ):
        raise HttpProblem(
            400,
            "limit_exceeded",
            f"take {take} is over the maximum page size of {settings.max_page} rows; "
            "page with cursor or skip",
            title="Page too large",
            path=(*path, "take"),
        )


def _check_nesting(
    info: SchemaInfo,
    model: str,
    node: Mapping[str, Any],
    settings: ApiSettings,
    depth: int,
    path: tuple[str, ...],
) -> None:
    relations = info.model(model).relations if model in info.models else {}
    for key in ("include", "select"):
        selection = node.get(key)
        if not isinstance(selection, Mapping):
            continue
        for name, value in selection.items():
            link = relations.get(name)
            if link is None or value is False or value is None:
                continue
            where = (*path, key, name)
            if depth + 1 > settings.max_include_depth:
                raise HttpProblem(
                    400,
                    "limit_exceeded",
                    f"includes nest {depth + 1} levels deep at `{'.'.join(where)}`; the "
                    f"maximum is {settings.max_include_depth}",
                    title="Include too deep",
                    path=where,
                )
            if isinstance(value, Mapping):
                _check_take(value, settings, where)
                _check_nesting(info, link.target, value, settings, depth + 1, where)
