"""The GraphQL schema of one datatier schema: object types per model, aggregates, root fields.

Object types carry their model's name in ``extensions["model"]``; the selection compiler
reads it to tell relations from scalars. Root resolvers come from ``_resolvers``; nested
fields keep graphql-core's default resolver, which reads the already-fetched dict.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLNullableOutputType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
)

from datatier.api._graphql._inputs import Inputs
from datatier.api._graphql._names import lower_first, plural_field
from datatier.api._graphql._resolvers import root_resolver
from datatier.api._graphql._scalars import SCALARS
from datatier.query._model_info import ModelInfo, SchemaInfo
from datatier.schema._ir import Field

__all__ = ["build_schema"]

_NUMERIC = ("Int", "Float", "BigInt", "Decimal")
_COMPARABLE = (*_NUMERIC, "String", "DateTime", "Boolean")


def _non_null_list(kind: Any) -> GraphQLNonNull[Any]:
    return GraphQLNonNull(GraphQLList(GraphQLNonNull(kind)))


class _Outputs:
    def __init__(self, info: SchemaInfo, inputs: Inputs) -> None:
        self.info = info
        self.inputs = inputs
        self.objects: dict[str, GraphQLObjectType] = {}
        self.batch = GraphQLObjectType(
            "BatchPayload",
            {"count": GraphQLField(GraphQLNonNull(GraphQLInt))},
            description="How many records a createMany/updateMany/deleteMany changed",
        )

    def value_type(self, field: Field) -> GraphQLOutputType:
        base: GraphQLNullableOutputType = (
            self.inputs.enum_type(field.type) if field.kind == "enum" else SCALARS[field.type]
        )
        if field.is_list:
            return _non_null_list(base)
        return GraphQLNonNull(base) if field.is_required else base

    def list_args(self, target: ModelInfo) -> dict[str, GraphQLArgument]:
        """``where``, ``orderBy``, ``take``, ``skip``, ``cursor``, ``distinct`` of a list of ``target``."""
        args = {
            "where": GraphQLArgument(self.inputs.where(target)),
            "orderBy": GraphQLArgument(GraphQLList(GraphQLNonNull(self.inputs.order_by(target)))),
            "take": GraphQLArgument(GraphQLInt),
            "skip": GraphQLArgument(GraphQLInt),
        }
        unique = self.inputs.where_unique(target)
        if unique is not None:
            args["cursor"] = GraphQLArgument(unique)
        args["distinct"] = GraphQLArgument(
            GraphQLList(GraphQLNonNull(self.inputs.scalar_field_enum(target)))
        )
        return args

    def object(self, info: ModelInfo) -> GraphQLObjectType:
        found = self.objects.get(info.name)
        if found is not None:
            return found

        def fields() -> dict[str, GraphQLField]:
            result: dict[str, GraphQLField] = {}
            for field in info.model.fields:
                if field.name in info.scalars:
                    result[field.name] = GraphQLField(
                        self.value_type(field), description=field.documentation
                    )
                elif field.name in info.relations:
                    link = info.relations[field.name]
                    target = self.info.model(link.target)
                    if link.is_list:
                        result[field.name] = GraphQLField(
                            _non_null_list(self.object(target)),
                            args=self.list_args(target),
                            description=field.documentation,
                        )
                    else:
                        kind = self.object(target)
                        result[field.name] = GraphQLField(
                            GraphQLNonNull(kind) if field.is_required else kind,
                            description=field.documentation,
                        )
            counts = self.count_output(info)
            if counts is not None:
                result["_count"] = GraphQLField(GraphQLNonNull(counts))
            return result

        kind = GraphQLObjectType(
            info.name,
            fields,
            description=info.model.documentation,
            extensions={"model": info.name},
        )
        self.objects[info.name] = kind
        return kind

    def count_output(self, info: ModelInfo) -> GraphQLObjectType | None:
        """``UserCountOutputType``: the number of related records per to-many relation."""
        to_many = [(n, link) for n, link in info.relations.items() if link.is_list]
        if not to_many:
            return None
        return GraphQLObjectType(
            f"{info.name}CountOutputType",
            lambda: {
                name: GraphQLField(
                    GraphQLNonNull(GraphQLInt),
                    args={
                        "where": GraphQLArgument(self.inputs.where(self.info.model(link.target)))
                    },
                )
                for name, link in to_many
            },
            extensions={"count_of": info.name},
        )

    def aggregate(self, info: ModelInfo) -> GraphQLObjectType:
        """``UserAggregate`` with ``_count``, ``_avg``, ``_sum``, ``_min``, ``_max`` (where fields fit)."""
        scalars = [f for f in info.scalars.values() if not f.is_list]
        numeric = [f for f in scalars if f.kind == "scalar" and f.type in _NUMERIC]
        comparable = [f for f in scalars if f.kind == "enum" or f.type in _COMPARABLE]
        fields: dict[str, GraphQLField] = {
            "_count": GraphQLField(
                GraphQLObjectType(
                    f"{info.name}CountAggregate",
                    {
                        "_all": GraphQLField(GraphQLNonNull(GraphQLInt)),
                        **{f.name: GraphQLField(GraphQLNonNull(GraphQLInt)) for f in scalars},
                    },
                )
            )
        }
        if numeric:
            fields["_avg"] = GraphQLField(
                GraphQLObjectType(
                    f"{info.name}AvgAggregate",
                    {
                        f.name: GraphQLField(
                            SCALARS["Decimal"] if f.type == "Decimal" else GraphQLFloat
                        )
                        for f in numeric
                    },
                )
            )
            fields["_sum"] = GraphQLField(
                GraphQLObjectType(
                    f"{info.name}SumAggregate",
                    {f.name: GraphQLField(SCALARS[f.type]) for f in numeric},
                )
            )
        for op, label in (("_min", "Min"), ("_max", "Max")):
            if comparable:
                fields[op] = GraphQLField(
                    GraphQLObjectType(
                        f"{info.name}{label}Aggregate",
                        {
                            f.name: GraphQLField(
                                self.inputs.enum_type(f.type)
                                if f.kind == "enum"
                                else SCALARS[f.type]
                            )
                            for f in comparable
                        },
                    )
                )
        return GraphQLObjectType(f"{info.name}Aggregate", fields)


def build_schema(info: SchemaInfo, provider: str) -> GraphQLSchema:
    """The GraphQL schema for every model of ``info`` on ``provider``'s database."""
    inputs = Inputs(info, provider)
    outputs = _Outputs(info, inputs)
    query: dict[str, GraphQLField] = {}
    mutation: dict[str, GraphQLField] = {}
    for name, model in sorted(info.models.items()):
        one, many = lower_first(name), plural_field(name)
        kind = outputs.object(model)
        where = inputs.where(model)
        unique = inputs.where_unique(model)
        batch = GraphQLNonNull(outputs.batch)
        if unique is not None:
            query[one] = GraphQLField(
                kind,
                args={"where": GraphQLArgument(GraphQLNonNull(unique))},
                resolve=root_resolver(name, "findUnique"),
                description=f"The {name} record with this unique key, or null",
            )
        query[many] = GraphQLField(
            _non_null_list(kind),
            args=outputs.list_args(model),
            resolve=root_resolver(name, "findMany"),
        )
        query[f"{many}Count"] = GraphQLField(
            GraphQLNonNull(GraphQLInt),
            args={"where": GraphQLArgument(where)},
            resolve=root_resolver(name, "count"),
        )
        aggregate_args = outputs.list_args(model)
        del aggregate_args["distinct"]
        query[f"{many}Aggregate"] = GraphQLField(
            GraphQLNonNull(outputs.aggregate(model)),
            args=aggregate_args,
            resolve=root_resolver(name, "aggregate"),
        )
        mutation[f"create{name}"] = GraphQLField(
            GraphQLNonNull(kind),
            args={"data": GraphQLArgument(GraphQLNonNull(inputs.create(model)))},
            resolve=root_resolver(name, "create"),
        )
        mutation[f"createMany{name}"] = GraphQLField(
            batch,
            args={
                "data": GraphQLArgument(_non_null_list(inputs.create_many(model))),
                "skipDuplicates": GraphQLArgument(GraphQLBoolean),
            },
            resolve=root_resolver(name, "createMany"),
        )
        mutation[f"updateMany{name}"] = GraphQLField(
            batch,
            args={
                "where": GraphQLArgument(where),
                "data": GraphQLArgument(GraphQLNonNull(inputs.update_many(model))),
            },
            resolve=root_resolver(name, "updateMany"),
        )
        mutation[f"deleteMany{name}"] = GraphQLField(
            batch, args={"where": GraphQLArgument(where)}, resolve=root_resolver(name, "deleteMany")
        )
        if unique is None or not model.key_fields:
            continue  # records of this model cannot be found again one by one
        required_unique = GraphQLArgument(GraphQLNonNull(unique))
        mutation[f"update{name}"] = GraphQLField(
            GraphQLNonNull(kind),
            args={
                "where": required_unique,
                "data": GraphQLArgument(GraphQLNonNull(inputs.update(model))),
            },
            resolve=root_resolver(name, "update"),
        )
        mutation[f"upsert{name}"] = GraphQLField(
            GraphQLNonNull(kind),
            args={
                "where": required_unique,
                "create": GraphQLArgument(GraphQLNonNull(inputs.create(model))),
                "update": GraphQLArgument(GraphQLNonNull(inputs.update(model))),
            },
            resolve=root_resolver(name, "upsert"),
        )
        mutation[f"delete{name}"] = GraphQLField(
            GraphQLNonNull(kind),
            args={"where": required_unique},
            resolve=root_resolver(name, "delete"),
        )
    return GraphQLSchema(
        query=GraphQLObjectType("Query", query),
        mutation=GraphQLObjectType("Mutation", mutation) if mutation else None,
        types=list(inputs.types.values()),
    )
