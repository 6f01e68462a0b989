"""Root resolvers: each root field becomes ONE call of the request pipeline.

The field's arguments are already the query document's values (input types are spelled as
Prisma spells documents); the selection set becomes its ``select``. Nested fields have no
resolvers of their own: graphql-core's default resolver reads the fetched dict.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, get_named_type

from datatier.api._graphql._selection import field_nodes, select_document
from datatier.query._model_info import SchemaInfo

__all__ = ["GraphqlContext", "Runner", "root_resolver"]

# (model, Prisma operation name, query document) -> the operation's result
Runner = Callable[[str, str, dict[str, Any]], Awaitable[Any]]

_SELECTING = frozenset(("findUnique", "findMany", "create", "update", "upsert", "delete"))
_COUNTING = frozenset(("createMany", "updateMany", "deleteMany"))


@dataclass(frozen=True, slots=True)
class GraphqlContext:
    """What a root resolver needs: the schema facts and the function that runs a document."""

    schema_info: SchemaInfo
    run: Runner


def root_resolver(model: str, operation: str) -> Callable[..., Awaitable[Any]]:
    """The resolver of a root field that runs ``operation`` on ``model``."""

    async def resolve(_root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        context: GraphqlContext = info.context
        document = {key: value for key, value in args.items() if value is not None}
        if operation in _SELECTING:
            kind = get_named_type(info.return_type)
            assert isinstance(kind, GraphQLObjectType)
            document["select"] = select_document(info, context.schema_info, kind)
        elif operation == "aggregate":
            document.update(_aggregates(info))
        result = await context.run(model, operation, document)
        if operation in _COUNTING:
            return {"count": result}
        return result

    return resolve


def _aggregates(info: GraphQLResolveInfo[Any]) -> dict[str, Any]:
    """``usersAggregate { _count { _all } _avg { views } }`` -> ``{_count: {_all: true}, ...}``."""
    kind = get_named_type(info.return_type)
    assert isinstance(kind, GraphQLObjectType)
    wanted: dict[str, Any] = {}
    sets = [node.selection_set for node in info.field_nodes]
    for node in field_nodes(sets, info.fragments, info.variable_values):
        name = node.name.value
        if name.startswith("__"):
            continue
        fields = wanted.setdefault(name, {})
        for child in field_nodes([node.selection_set], info.fragments, info.variable_values):
            if not child.name.value.startswith("__"):
                fields[child.name.value] = True
    selected = {name: fields for name, fields in wanted.items() if fields}
    return selected or {"_count": {"_all": True}}
