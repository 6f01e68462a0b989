"""datatier's API server: REST, RPC and GraphQL over one schema, as an ASGI app.

``create_app(client)`` gives a Starlette app; mount it in another app or run it with
``datatier serve``.
"""

from __future__ import annotations

from datatier.api._app import create_app
from datatier.api._problems import HttpProblem, problem_for
from datatier.api._settings import ApiSettings

__all__ = ["ApiSettings", "HttpProblem", "create_app", "problem_for"]
