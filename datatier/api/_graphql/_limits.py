"""Limits on one GraphQL operation, checked on the parsed document before anything runs.

Depth (field levels), aliases, root fields and complexity (the records an operation may read:
each list field counts its ``take`` — or the default page size when it has none — times the
records of the lists around it; to-one relations and scalars are free, they come with their
record). Fragments are spread; ``@skip``/``@include`` are ignored, so the count errs high.
Introspection fields (``__schema``, ``__type``) are not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from datatier.api._graphql_settings import GraphqlSettings

__all__ = ["LimitExceeded", "check_operation"]


class LimitExceeded(GraphQLError):
    """An operation over one of the endpoint's limits; ``extensions`` name which."""


@dataclass
class _Tally:
    fields: int = 0
    aliases: int = 0
    complexity: int = 0


def check_operation(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    root: GraphQLObjectType,
    variables: Mapping[str, Any],
    settings: GraphqlSettings,
    *,
    default_page: int,
) -> None:
    """Raise ``LimitExceeded`` when ``operation`` is over a limit of ``settings``.

    ``default_page`` is what a list field without ``take`` counts as. The document need not
    be validated yet: unknown fields and fragments are passed over, a fragment cycle is not
    followed, and the walk stops as soon as the field count passes ``max_fields``, so the
    work done here is bounded whatever the document.
    """
    tally = _Tally()
    walker = _Walker(fragments, variables, settings, default_page, tally)
    counted = [n for n in walker.fields(operation.selection_set) if not _introspection(n)]
    if len(counted) > settings.max_root_fields:
        raise _exceeded(
            "root_fields",
            f"the operation has {len(counted)} root fields; at most "
            f"{settings.max_root_fields} are allowed in one request",
            settings.max_root_fields,
        )
    for node in counted:
        walker.visit(node, root, 1, 1)
    if tally.aliases > settings.max_aliases:
        raise _exceeded(
            "aliases",
            f"the operation uses {tally.aliases} aliases; at most {settings.max_aliases} are allowed",
            settings.max_aliases,
        )
    if tally.complexity > settings.max_complexity:
        raise _exceeded(
            "complexity",
            f"the operation may read about {tally.complexity} records (each list counts its "
            f"`take`, or {default_page} without one); the limit is {settings.max_complexity}: "
            "ask for smaller pages",
            settings.max_complexity,
        )


def _introspection(node: FieldNode) -> bool:
    return node.name.value.startswith("__")


def _exceeded(limit: str, message: str, maximum: int) -> LimitExceeded:
    return LimitExceeded(
        message,
        extensions={"code": "limit_exceeded", "status": 400, "limit": limit, "maximum": maximum},
    )


class _Walker:
    def __init__(
        self,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        settings: GraphqlSettings,
        default_page: int,
        tally: _Tally,
    ) -> None:
        self.fragments = fragments
        self.variables = variables
        self.settings = settings
        self.default_page = default_page
        self.tally = tally

    def fields(
        self, selection_set: SelectionSetNode | None, spreading: tuple[str, ...] = ()
    ) -> list[FieldNode]:
        """The fields of ``selection_set``, fragments spread (each counts towards ``max_fields``)."""
        found: list[FieldNode] = []
        if selection_set is None:
            return found
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                found.append(node)
                if not _introspection(node):
                    self.tally.fields += 1
                    if self.tally.fields > self.settings.max_fields:
                        raise _exceeded(
                            "fields",
                            f"the operation selects more than {self.settings.max_fields} fields "
                            "(fragments count each time they are spread)",
                            self.settings.max_fields,
                        )
            elif isinstance(node, InlineFragmentNode):
                found.extend(self.fields(node.selection_set, spreading))
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in spreading:
                    found.extend(self.fields(fragment.selection_set, (*spreading, name)))
        return found

    def visit(
        self,
        node: FieldNode,
        parent: GraphQLObjectType,
        depth: int,
        records: int,
    ) -> None:
        name = node.name.value
        if name.startswith("__"):
            return
        if node.alias is not None:
            self.tally.aliases += 1
        if depth > self.settings.max_depth:
            raise _exceeded(
                "depth",
                f"the operation nests {depth} levels deep at `{name}`; at most "
                f"{self.settings.max_depth} are allowed",
                self.settings.max_depth,
            )
        definition = parent.fields.get(name)
        if definition is None:
            return  # validation reports it
        target = get_named_type(definition.type)
        if not isinstance(target, GraphQLObjectType):
            return
        if is_list_type(get_nullable_type(definition.type)):
            records *= self._take(node)
            self.tally.complexity += records
        for child in self.fields(node.selection_set):
            self.visit(child, target, depth + 1, records)

    def _take(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value != "take":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return abs(int(value.value))
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int) and not isinstance(given, bool):
                    return abs(given)
        return self.default_page
