"""Errors as ``application/problem+json`` (RFC 9457) bodies with datatier's stable codes.

``problem_for(error)`` is the one mapping from an exception to (status, body); REST and RPC
answer with it and GraphQL puts the same body into an error's ``extensions``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import Response

from datatier.errors import (
    ConnectionFailed,
    ConnectionLost,
    ConstraintViolation,
    DatatierError,
    Forbidden,
    ForeignKeyViolation,
    NotFound,
    NullViolation,
    PoolTimeout,
    QueryError,
    QueryTimeout,
    RequiredRelationViolation,
    TransactionConflict,
    Unauthenticated,
    UniqueViolation,
    ValidationError,
)

__all__ = ["PROBLEM_TYPE", "HttpProblem", "problem_for", "problem_response"]

PROBLEM_TYPE = "https://datatier.dev/problems/"
_log = logging.getLogger("datatier.api")
MEDIA_TYPE = "application/problem+json"

# Most specific class first: the first match wins.
_STATUS: tuple[tuple[type[DatatierError], int, str], ...] = (
    (ValidationError, 400, "Invalid query document"),
    (Unauthenticated, 401, "Unauthorized"),
    (Forbidden, 403, "Forbidden"),
    (NotFound, 404, "Record not found"),
    (UniqueViolation, 409, "Unique constraint violated"),
    (ForeignKeyViolation, 409, "Foreign key constraint violated"),
    (ConstraintViolation, 409, "Constraint violated"),
    (NullViolation, 400, "Required value missing"),
    (RequiredRelationViolation, 409, "Required relation violated"),
    (TransactionConflict, 409, "Transaction conflict, retry"),
    (PoolTimeout, 503, "Database busy"),
    (QueryTimeout, 503, "Query timed out"),
    (ConnectionLost, 503, "Database connection lost"),
    (ConnectionFailed, 503, "Database unreachable"),
    (QueryError, 500, "Query failed"),
)


class HttpProblem(Exception):
    """An error of the HTTP layer itself (bad parameter, unknown model, failed precondition).

    Any transport or middleware may raise it; ``path`` names the parameter or document
    location it is about.
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        path: Sequence[str | int] = (),
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.extra = extra or {}
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or code.replace("_", " ").capitalize()
        self.path = tuple(path)
        self.headers = headers or {}


def problem_for(error: BaseException, *, debug: bool = False) -> tuple[int, dict[str, Any]]:
    """The status and problem body for ``error``; internal detail only when ``debug``."""
    if isinstance(error, HttpProblem):
        body = _body(error.status, error.code, error.title, error.detail, error.path)
        return error.status, {**body, **error.extra}
    if isinstance(error, DatatierError):
        status, title = 500, "Internal error"
        for kind, kind_status, kind_title in _STATUS:
            if isinstance(error, kind):
                status, title = kind_status, kind_title
                break
        detail = error.message
        if type(error) is QueryError and not debug:
            # the database's own words, unclassified: they may quote SQL, so withheld
            detail = "the database refused the query; the server log has its message"
            _log.error("query failed: %s", error.message)
        body = _body(status, error.code, title, detail, getattr(error, "path", ()))
        prisma_code = getattr(error, "prisma_code", None)
        if prisma_code:
            body["prisma_code"] = prisma_code
        if isinstance(error, ConstraintViolation) and error.fields:
            body["fields"] = list(error.fields)
            if error.model:
                body["model"] = error.model
        return status, body
    detail = f"{type(error).__name__}: {error}" if debug else "the server failed to answer"
    return 500, _body(500, "internal_error", "Internal server error", detail, ())


def _body(
    status: int, code: str, title: str, detail: str, path: Sequence[str | int]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if path:
        body["path"] = list(path)
    return body


def problem_response(
    error: BaseException, *, debug: bool = False, headers: dict[str, str] | None = None
) -> Response:
    """``error`` as an ``application/problem+json`` response."""
    status, body = problem_for(error, debug=debug)
    extra = dict(error.headers) if isinstance(error, HttpProblem) else {}
    extra.update(headers or {})
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=extra)
