"""GraphQL from the schema IR: one query document, and one SQL statement, per root field.

``graphql_routes(settings)`` gives the routes of ``/graphql``; ``build_schema`` the
graphql-core schema of a datatier schema.
"""

from __future__ import annotations

from datatier.api._graphql._endpoint import GraphqlEndpoint, graphql_routes
from datatier.api._graphql._schema import build_schema
from datatier.api._graphql_settings import GraphqlSettings

__all__ = ["GraphqlEndpoint", "GraphqlSettings", "build_schema", "graphql_routes"]
