"""Executes a validated operation on datatier's GraphQL schema: root resolvers run, then each
result is shaped by a plan built once per request from the selection set.

graphql-core's executor completes every field of every record through a resolver call;
here, nested fields are only read from the fetched dict, so the work per record is a few
dict operations. Introspection (``__schema``, ``__type``) goes to graphql-core's executor.
Values come from the engine in the schema's shape, so non-null checks are not repeated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLFloat,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    located_error,
)
from graphql.execution.values import get_argument_values, get_variable_values

from datatier.api._graphql._resolvers import GraphqlContext
from datatier.api._graphql._scalars import SCALARS
from datatier.api._graphql._selection import field_nodes
from datatier.query._compile import JsonText

__all__ = ["CompiledQueries", "FieldInfo", "execute_operation", "needs_introspection"]

# (response key, field name, leaf serializer, child plan, is a list, __typename value)
_Entry = tuple[str, str, Callable[[Any], Any] | None, "list[_Entry] | None", bool, str | None]
_PASS_THROUGH = frozenset(("String", "Boolean", "Int", "ID", "Json"))


class FieldInfo(NamedTuple):
    """The part of graphql-core's ``GraphQLResolveInfo`` the root resolvers read."""

    field_name: str
    field_nodes: list[FieldNode]
    return_type: GraphQLOutputType
    fragments: dict[str, FragmentDefinitionNode]
    variable_values: Any
    context: GraphqlContext


def needs_introspection(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> bool:
    """Whether a root field of ``operation`` is ``__schema`` or ``__type`` (directives aside)."""

    def found(selection_set: SelectionSetNode | None) -> bool:
        for node in selection_set.selections if selection_set is not None else ():
            if isinstance(node, FieldNode):
                if node.name.value in ("__schema", "__type"):
                    return True
            elif isinstance(node, InlineFragmentNode):
                if found(node.selection_set):
                    return True
            elif isinstance(node, FragmentSpreadNode):
                fragment = fragments.get(node.name.value)
                if fragment is not None and found(fragment.selection_set):
                    return True
        return False

    return found(operation.selection_set)


class _RootCall(NamedTuple):
    """One root field of a compiled query: the pipeline call it makes and how its result is
    completed (``model`` None: a ``__typename`` whose value is ``constant``)."""

    key: str
    model: str | None
    operation: str
    document: dict[str, Any]
    complete: Callable[[Any], Any]
    constant: Any = None


class CompiledQueries:
    """Queries already run once, by (operation, variables): their root fields' documents and
    completers, so a repeated query skips argument coercion, selection compiling and plan
    building and goes straight to the pipeline (which still authorizes each call).

    Entries hold their operation node, so an id in a key is never reused while it is
    cached; the cache is cleared when it reaches ``size`` entries.
    """

    def __init__(self, size: int = 1000) -> None:
        self._entries: dict[tuple[int, bytes], tuple[OperationDefinitionNode, list[_RootCall]]] = {}
        self._size = size

    def knows(
        self, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
    ) -> bool:
        """Whether ``operation`` ran with these ``variables`` without an error (so it is
        within the limits, which depend on nothing else)."""
        return self.get(operation, _variables_key(variables)) is not None

    def get(self, operation: OperationDefinitionNode, variables: bytes) -> list[_RootCall] | None:
        found = self._entries.get((id(operation), variables))
        return found[1] if found is not None and found[0] is operation else None

    def put(
        self, operation: OperationDefinitionNode, variables: bytes, calls: list[_RootCall]
    ) -> None:
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[(id(operation), variables)] = (operation, calls)

    def clear(self) -> None:
        self._entries.clear()


async def execute_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any] | None,
    context: GraphqlContext,
    compiled: CompiledQueries | None = None,
) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
    """Run ``operation``: (data, errors) as a GraphQL response holds them. Queries (not
    mutations) are remembered in ``compiled`` after a run without errors."""
    mutation = operation.operation == OperationType.MUTATION
    cache_key = b""
    if compiled is not None and not mutation:
        cache_key = _variables_key(variables)
        calls = compiled.get(operation, cache_key)
        if calls is not None:
            try:
                return await _run_compiled(calls, context)
            except _Rerun:
                pass  # the long way below runs it again and reports the error where it belongs
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return None, coerced
    root = schema.mutation_type if mutation else schema.query_type
    assert root is not None
    grouped = _group(field_nodes([operation.selection_set], fragments, coerced))
    errors: list[GraphQLError] = []
    data: dict[str, Any] = {}
    failed_non_null = False
    recorded: dict[str, _RootCall] = {}

    async def run(key: str, nodes: list[FieldNode]) -> Any:
        name = nodes[0].name.value
        if name == "__typename":
            recorded[key] = _RootCall(key, None, "", {}, _same, root.name)
            return root.name
        definition = root.fields[name]
        info = FieldInfo(name, nodes, definition.type, fragments, coerced, context)
        try:
            args = get_argument_values(definition, nodes[0], coerced)
            assert definition.resolve is not None
            complete = _completer(definition.type, nodes, fragments, coerced)
            recording = _recording(info, key, complete, recorded)
            value = await definition.resolve(None, recording, **args)
            return complete(value)
        except Exception as error:  # every failure of a root field becomes its error entry
            nonlocal failed_non_null
            errors.append(located_error(error, nodes, [key]))
            failed_non_null = failed_non_null or isinstance(definition.type, GraphQLNonNull)
            return None

    if mutation:  # mutations run one after the other, in the order written
        for key, nodes in grouped.items():
            data[key] = await run(key, nodes)
    elif len(grouped) == 1:  # the common case: no task to schedule
        ((key, nodes),) = grouped.items()
        data[key] = await run(key, nodes)
    else:  # query root fields run side by side, each on a connection of its own
        values = await asyncio.gather(*(run(key, nodes) for key, nodes in grouped.items()))
        data = dict(zip(grouped, values, strict=True))
    if compiled is not None and not mutation and not errors and len(recorded) == len(grouped):
        compiled.put(operation, cache_key, [recorded[key] for key in grouped])
    return (None if failed_non_null else data), errors


async def _run_compiled(
    calls: list[_RootCall], context: GraphqlContext
) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
    """A remembered query: each root field's pipeline call, then its completer."""

    async def one(call: _RootCall) -> Any:
        if call.model is None:
            return call.constant
        return call.complete(await context.run(call.model, call.operation, call.document))

    try:
        if len(calls) == 1:
            return {calls[0].key: await one(calls[0])}, []
        values = await asyncio.gather(*(one(call) for call in calls))
    except Exception:
        raise _Rerun() from None
    return dict(zip((call.key for call in calls), values, strict=True)), []


def _variables_key(variables: Mapping[str, Any] | None) -> bytes:
    return orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)


class _Rerun(Exception):
    """A remembered query failed: run it again the long way, which places the error."""


def _same(value: Any) -> Any:
    return value


def _recording(
    info: FieldInfo, key: str, complete: Callable[[Any], Any], recorded: dict[str, _RootCall]
) -> FieldInfo:
    """``info`` whose context records the pipeline call the root resolver makes."""
    context = info.context

    async def run(model: str, operation: str, document: dict[str, Any]) -> Any:
        result = await context.run(model, operation, document)
        recorded[key] = _RootCall(key, model, operation, document, _wrap(operation, complete))
        return result

    return info._replace(context=GraphqlContext(context.schema_info, run))


def _wrap(operation: str, complete: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The completer of a raw pipeline result (a count of a ``*Many`` write is ``{count}``)."""
    if operation in ("createMany", "updateMany", "deleteMany"):
        return lambda result: complete({"count": result})
    return complete


def _group(nodes: Any) -> dict[str, list[FieldNode]]:
    grouped: dict[str, list[FieldNode]] = {}
    for node in nodes:
        key = node.alias.value if node.alias else node.name.value
        grouped.setdefault(key, []).append(node)
    return grouped


def _completer(
    kind: GraphQLOutputType,
    nodes: Sequence[FieldNode],
    fragments: dict[str, FragmentDefinitionNode],
    variables: Any,
) -> Callable[[Any], Any]:
    """How a root field's value becomes the response's shape (the plan built once)."""
    is_list = isinstance(_nullable(kind), GraphQLList)
    named = get_named_type(kind)
    if isinstance(named, GraphQLObjectType):
        plan = _plan(named, nodes, fragments, variables)

        def shaped(value: Any) -> Any:
            if value is None:
                return None
            if _already_shaped(value if is_list else [value], plan):
                return value  # the engine's records are the response as they are: no copy
            return [_shape(v, plan) for v in value] if is_list else _shape(value, plan)

        return shaped
    leaf = _leaf(named)
    if leaf is None:
        return _same

    def converted(value: Any) -> Any:
        if value is None:
            return value
        return [leaf(v) for v in value] if is_list else leaf(value)

    return converted


def _nullable(kind: Any) -> Any:
    return kind.of_type if isinstance(kind, GraphQLNonNull) else kind


def _leaf(kind: Any) -> Callable[[Any], Any] | None:
    """How a scalar or enum value is written (None: as it is)."""
    if isinstance(kind, GraphQLEnumType) or kind.name in _PASS_THROUGH:
        return None
    if kind is GraphQLFloat:
        return float
    assert isinstance(kind, GraphQLScalarType) and kind.name in SCALARS
    return kind.serialize


def _plan(
    kind: GraphQLObjectType,
    nodes: Sequence[FieldNode],
    fragments: dict[str, FragmentDefinitionNode],
    variables: Any,
) -> list[_Entry]:
    selected = field_nodes([node.selection_set for node in nodes], fragments, variables)
    plan: list[_Entry] = []
    for key, group in _group(selected).items():
        name = group[0].name.value
        if name == "__typename":
            plan.append((key, name, None, None, False, kind.name))
            continue
        field_type = kind.fields[name].type
        is_list = isinstance(_nullable(field_type), GraphQLList)
        named = get_named_type(field_type)
        if isinstance(named, GraphQLObjectType):
            child = _plan(named, group, fragments, variables)
            plan.append((key, name, None, child, is_list, None))
        else:
            plan.append((key, name, _leaf(named), None, is_list, None))
    return plan


def _already_shaped(records: list[Any], plan: list[_Entry]) -> bool:
    """Whether ``records`` already hold exactly the plan's keys, in order, at every depth,
    with no alias, ``__typename`` or value conversion to apply.

    Records of one level come from one decoder (the same keys in the same order), so one
    record per level is looked at: the first, and for each relation its first value found.
    A relation still in the database's JSON text (a wire row's ``JsonText``) is parsed for
    that look only; the response copies the text.
    """
    if not records:
        return True
    first = records[0]
    if len(first) != len(plan):
        return False
    for (key, name, leaf, child, is_list, typename), actual in zip(plan, first, strict=True):
        if key != actual or name != key or leaf is not None or typename is not None:
            return False
        if child is None:
            continue
        for record in records:
            value = record.get(name)
            if isinstance(value, JsonText):
                value = orjson.loads(value.text)
            if value:  # None and [] say nothing about the shape
                if not _already_shaped(value[:1] if is_list else [value], child):
                    return False
                break
    return True


def _shape(record: dict[str, Any], plan: list[_Entry]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, name, leaf, child, is_list, typename in plan:
        if typename is not None:
            out[key] = typename
            continue
        value = record.get(name)
        if isinstance(value, JsonText):
            value = orjson.loads(value.text)
        if value is None:
            out[key] = None
        elif child is not None:
            out[key] = [_shape(v, child) for v in value] if is_list else _shape(value, child)
        elif leaf is not None:
            out[key] = [leaf(v) for v in value] if is_list else leaf(value)
        else:
            out[key] = value
    return out
