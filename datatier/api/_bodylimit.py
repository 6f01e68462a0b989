"""The request body size limit: ``413`` problem+json for a body over ``max_body_size`` bytes.

A ``Content-Length`` over the limit is refused before the body is read; a body without
one (chunked transfer) is counted while it streams in, and reading past the limit raises a
413 ``HttpProblem`` from the app's ``receive`` (the app's error handlers answer it), so a
large body is never held in memory whole.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datatier.api._auth import send_json
from datatier.api._problems import HttpProblem, problem_for

__all__ = ["BodyLimitMiddleware", "body_too_large"]


def body_too_large(limit: int) -> HttpProblem:
    """The 413 problem for a body over ``limit`` bytes."""
    return HttpProblem(
        413,
        "body_too_large",
        f"the request body is over the limit of {limit} bytes; send less (e.g. several "
        "smaller createMany calls) or raise [server] max_body_size",
        title="Request body too large",
        path=("body",),
    )


class BodyLimitMiddleware:
    """ASGI middleware enforcing ``limit`` bytes per request body."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0  # the server rejects a malformed length itself
                if declared > limit:
                    status, body = problem_for(body_too_large(limit))
                    await send_json(send, status, body, [(b"connection", b"close")])
                    return
                break
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise body_too_large(limit)
            return message

        await self.app(scope, limited_receive, send)
