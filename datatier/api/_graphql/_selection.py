"""A root field's selection set -> the ``select`` of ONE query document.

Fragments, inline fragments, ``@skip``/``@include`` and aliases are resolved here; a relation
selected under several aliases is merged when the arguments agree (the records are the same,
only the fields differ) and refused when they do not, since one document has one read per
relation field.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import get_argument_values, get_directive_values

from datatier.errors import ValidationError
from datatier.query._model_info import SchemaInfo

__all__ = ["field_nodes", "select_document"]

Path = tuple[str | int, ...]


def _included(node: Any, variables: Any) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include is not None and include.get("if") is False)


def field_nodes(
    selection_sets: Sequence[SelectionSetNode | None],
    fragments: dict[str, FragmentDefinitionNode],
    variables: Any,
) -> Iterator[FieldNode]:
    """Every field of ``selection_sets`` with fragments spread and skipped fields left out."""
    for selection_set in selection_sets:
        if selection_set is None:
            continue
        for node in selection_set.selections:
            if not _included(node, variables):
                continue
            if isinstance(node, FieldNode):
                yield node
            elif isinstance(node, InlineFragmentNode):
                yield from field_nodes([node.selection_set], fragments, variables)
            elif isinstance(node, FragmentSpreadNode):
                fragment = fragments.get(node.name.value)
                if fragment is not None:
                    yield from field_nodes([fragment.selection_set], fragments, variables)


def select_document(
    info: GraphQLResolveInfo[Any], schema_info: SchemaInfo, kind: GraphQLObjectType
) -> dict[str, Any]:
    """The ``select`` for the fields the current root field asks of ``kind`` (a model's type)."""
    return _select(info, schema_info, kind, [node.selection_set for node in info.field_nodes], ())


def _select(
    info: GraphQLResolveInfo[Any],
    schema_info: SchemaInfo,
    kind: GraphQLObjectType,
    selection_sets: Sequence[SelectionSetNode | None],
    path: Path,
) -> dict[str, Any]:
    fields = kind.fields
    select: dict[str, Any] = {}
    for node in field_nodes(selection_sets, info.fragments, info.variable_values):
        name = node.name.value
        if name.startswith("__"):
            continue
        definition = fields[name]
        where = (*path, node.alias.value if node.alias else name)
        target = get_named_type(definition.type)
        if name == "_count":
            assert isinstance(target, GraphQLObjectType)
            _merge(select, name, {"select": _counts(info, target, node, where)}, where)
        elif isinstance(target, GraphQLObjectType) and "model" in (target.extensions or {}):
            nested = {k: v for k, v in _arguments(info, definition, node).items() if v is not None}
            nested["select"] = _select(info, schema_info, target, [node.selection_set], where)
            _merge(select, name, nested, where)
        else:
            select[name] = True
    if not select:
        # Only __typename was asked for: read the key (a select cannot be empty).
        model = schema_info.model(str((kind.extensions or {})["model"]))
        first = model.key_fields[:1] or tuple(model.scalars)[:1]
        select = {first[0]: True}
    return select


def _counts(
    info: GraphQLResolveInfo[Any], kind: GraphQLObjectType, node: FieldNode, path: Path
) -> dict[str, Any]:
    counted: dict[str, Any] = {}
    for child in field_nodes([node.selection_set], info.fragments, info.variable_values):
        name = child.name.value
        if name.startswith("__"):
            continue
        args = _arguments(info, kind.fields[name], child)
        spec: Any = {"where": args["where"]} if args.get("where") is not None else True
        where = (*path, child.alias.value if child.alias else name)
        if name in counted and counted[name] != spec:
            raise ValidationError(
                f"`_count.{name}` is asked for twice with different `where`s; one query "
                "counts each relation once (use a second root field)",
                where,
            )
        counted[name] = spec
    return counted


def _arguments(
    info: GraphQLResolveInfo[Any], definition: GraphQLField, node: FieldNode
) -> dict[str, Any]:
    return get_argument_values(definition, node, info.variable_values)


def _merge(select: dict[str, Any], name: str, value: dict[str, Any], path: Path) -> None:
    """Put ``value`` at ``select[name]``, merging with what an earlier alias put there."""
    earlier = select.get(name)
    if earlier is None:
        select[name] = value
        return
    if {k: v for k, v in earlier.items() if k != "select"} != {
        k: v for k, v in value.items() if k != "select"
    }:
        raise ValidationError(
            f"`{name}` is selected several times with different arguments; one query reads "
            "each relation once (ask for the other variant in a second root field)",
            path,
        )
    merged = dict(earlier["select"])
    for key, item in value["select"].items():
        if isinstance(item, dict) and "select" in item and isinstance(merged.get(key), dict):
            holder = {key: merged[key]}
            _merge(holder, key, item, (*path, key))
            merged[key] = holder[key]
        elif key in merged and merged[key] != item:
            raise ValidationError(f"`{key}` is selected with different arguments", (*path, key))
        else:
            merged[key] = item
    select[name] = {**earlier, "select": merged}
