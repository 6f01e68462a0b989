"""GraphQL input types from the IR: filters per scalar type, where/unique/orderBy per model, and
the create/update inputs with their nested writes.

Every input object's fields are spelled as Prisma spells the query document, so a coerced
argument *is* the document's value: no renaming between GraphQL and the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLFloat,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLNullableInputType,
    GraphQLScalarType,
    GraphQLString,
)

from datatier.api._graphql._names import upper_first
from datatier.api._graphql._scalars import SCALARS
from datatier.query._links import Link
from datatier.query._model_info import ModelInfo, SchemaInfo
from datatier.schema._ir import Field

__all__ = ["Inputs"]

InputFields = dict[str, GraphQLInputField]

_NUMBERS = ("Int", "Float", "BigInt", "Decimal")
_ORDERED = (*_NUMBERS, "DateTime")
_NUMBER_OPERATIONS = ("set", "increment", "decrement", "multiply", "divide")


def _list(kind: GraphQLInputType) -> GraphQLList[Any]:
    return GraphQLList(GraphQLNonNull(kind))


class Inputs:
    """Builds (once each, by name) every input type the schema's root fields take."""

    def __init__(self, info: SchemaInfo, provider: str) -> None:
        self.info = info
        self.provider = provider
        self.types: dict[str, GraphQLNamedType] = {}
        self.sort_order = self._enum("SortOrder", ("asc", "desc"), "Sort direction")
        self.query_mode = self._enum(
            "QueryMode", ("default", "insensitive"), "Letter case in string filters"
        )

    # -- helpers ---------------------------------------------------------------------

    def _enum(self, name: str, values: tuple[str, ...], description: str) -> GraphQLEnumType:
        kind = GraphQLEnumType(
            name, {v: GraphQLEnumValue(v) for v in values}, description=description
        )
        self.types[name] = kind
        return kind

    def _input(
        self, name: str, fields: Callable[[], InputFields], description: str | None = None
    ) -> GraphQLInputObjectType:
        found = self.types.get(name)
        if found is not None:
            assert isinstance(found, GraphQLInputObjectType)
            return found
        kind = GraphQLInputObjectType(name, fields, description=description)
        self.types[name] = kind
        return kind

    def enum_type(self, name: str) -> GraphQLEnumType:
        found = self.types.get(name)
        if found is None:
            enum = self.info.schema.enum(name)
            found = GraphQLEnumType(
                name,
                {v.name: GraphQLEnumValue(v.name) for v in enum.values},
                description=enum.documentation,
            )
            self.types[name] = found
        assert isinstance(found, GraphQLEnumType)
        return found

    def _element_type(self, field: Field) -> GraphQLScalarType | GraphQLEnumType:
        """The scalar or enum type of ``field`` (of each item, for a scalar list field)."""
        return self.enum_type(field.type) if field.kind == "enum" else SCALARS[field.type]

    def value_type(self, field: Field) -> GraphQLNullableInputType:
        """The input type of one value of ``field`` (a list for a scalar list field)."""
        base = self._element_type(field)
        return _list(base) if field.is_list else base

    def update_value_type(self, field: Field) -> GraphQLNullableInputType:
        """What an update takes for ``field``: Prisma's update operations for a number
        (``IntFieldUpdateOperationsInput``) or a scalar list
        (``StringListFieldUpdateOperationsInput``), the new value for any other field.

        GraphQL has no input unions, so a number or list field takes the operations object
        only (``{set: 7}`` for a new value), as a filter is always an object too.
        """
        if field.is_list:
            return self._list_operations(field)
        if field.kind == "scalar" and field.type in _NUMBERS:
            return self._number_operations(field)
        return self.value_type(field)

    def _number_operations(self, field: Field) -> GraphQLInputObjectType:
        base = SCALARS[field.type]
        return self._input(
            f"{field.type}FieldUpdateOperationsInput",
            lambda: {op: GraphQLInputField(base) for op in _NUMBER_OPERATIONS},
            "Exactly one of: the new value (`set`; null clears an optional field), or "
            "`increment`, `decrement`, `multiply`, `divide` the stored value by this number",
        )

    def _list_operations(self, field: Field) -> GraphQLInputObjectType:
        base = self._element_type(field)
        name = f"Enum{field.type}" if field.kind == "enum" else field.type
        return self._input(
            f"{name}ListFieldUpdateOperationsInput",
            lambda: {"set": GraphQLInputField(_list(base)), "push": GraphQLInputField(_list(base))},
            "Exactly one of: the new list (`set`), or values to append (`push`, one or a list)",
        )

    def scalar_field_enum(self, info: ModelInfo) -> GraphQLEnumType:
        name = f"{info.name}ScalarFieldEnum"
        found = self.types.get(name)
        if found is None:
            found = self._enum(name, tuple(info.scalars), f"The scalar fields of {info.name}")
        assert isinstance(found, GraphQLEnumType)
        return found

    # -- filters ---------------------------------------------------------------------

    def filter(self, field: Field) -> GraphQLInputObjectType:
        """``StringFilter``, ``IntFilter``, ``EnumRoleFilter``, ``StringListFilter``, ``JsonFilter`` ..."""
        if field.kind == "enum":
            base: GraphQLInputType = self.enum_type(field.type)
            name = f"Enum{field.type}"
        else:
            base = SCALARS[field.type]
            name = field.type
        if field.is_list:
            return self._input(
                f"{name}ListFilter",
                lambda: {
                    "equals": GraphQLInputField(_list(base)),
                    "has": GraphQLInputField(base),
                    "hasEvery": GraphQLInputField(_list(base)),
                    "hasSome": GraphQLInputField(_list(base)),
                    "isEmpty": GraphQLInputField(GraphQLBoolean),
                },
            )
        if field.type == "Json" and field.kind == "scalar":
            return self._json_filter()
        filter_name = f"{name}Filter"

        def fields() -> InputFields:
            result: InputFields = {
                "equals": GraphQLInputField(base),
                "in": GraphQLInputField(_list(base)),
                "notIn": GraphQLInputField(_list(base)),
            }
            if field.kind == "scalar" and field.type in (*_ORDERED, "String"):
                for op in ("lt", "lte", "gt", "gte"):
                    result[op] = GraphQLInputField(base)
            if field.kind == "scalar" and field.type == "String":
                for op in ("contains", "startsWith", "endsWith"):
                    result[op] = GraphQLInputField(GraphQLString)
                if self.provider == "postgresql":  # as in Prisma: SQLite has no `mode` here
                    result["mode"] = GraphQLInputField(self.query_mode)
                    result["search"] = GraphQLInputField(GraphQLString)
            result["not"] = GraphQLInputField(self.types[filter_name])  # type: ignore[arg-type]
            return result

        return self._input(filter_name, fields)

    def _json_filter(self) -> GraphQLInputObjectType:
        json = SCALARS["Json"]
        path: GraphQLInputType = (
            _list(GraphQLString) if self.provider == "postgresql" else GraphQLString
        )

        def fields() -> InputFields:
            result = {"path": GraphQLInputField(path), "mode": GraphQLInputField(self.query_mode)}
            for op in ("equals", "not", "array_contains", "array_starts_with", "array_ends_with"):
                result[op] = GraphQLInputField(json)
            for op in ("string_contains", "string_starts_with", "string_ends_with"):
                result[op] = GraphQLInputField(GraphQLString)
            for op in ("lt", "lte", "gt", "gte"):
                result[op] = GraphQLInputField(GraphQLFloat)
            return result

        return self._input("JsonFilter", fields)

    def where(self, info: ModelInfo) -> GraphQLInputObjectType:
        name = f"{info.name}WhereInput"

        def fields() -> InputFields:
            me = self.types[name]
            result: InputFields = {
                "AND": GraphQLInputField(_list(me)),  # type: ignore[arg-type]
                "OR": GraphQLInputField(_list(me)),  # type: ignore[arg-type]
                "NOT": GraphQLInputField(_list(me)),  # type: ignore[arg-type]
            }
            for field_name, field in info.scalars.items():
                result[field_name] = GraphQLInputField(self.filter(field))
            for field_name, link in info.relations.items():
                result[field_name] = GraphQLInputField(self.relation_filter(link))
            return result

        return self._input(name, fields, f"Conditions on {info.name} records")

    def relation_filter(self, link: Link) -> GraphQLInputObjectType:
        target = self.info.model(link.target)
        if link.is_list:
            return self._input(
                f"{target.name}ListRelationFilter",
                lambda: {
                    k: GraphQLInputField(self.where(target)) for k in ("some", "every", "none")
                },
            )
        return self._input(
            f"{target.name}RelationFilter",
            lambda: {k: GraphQLInputField(self.where(target)) for k in ("is", "isNot")},
        )

    def where_unique(self, info: ModelInfo) -> GraphQLInputObjectType | None:
        """``UserWhereUniqueInput`` (one of its unique fields or compound keys); None without any."""
        if not info.uniques:
            return None

        def fields() -> InputFields:
            result: InputFields = {}
            for label, parts in info.uniques:
                if label in info.compound_uniques:
                    result[label] = GraphQLInputField(self._compound(info, label, parts))
                else:
                    result[label] = GraphQLInputField(self.value_type(info.scalars[label]))
            return result

        return self._input(
            f"{info.name}WhereUniqueInput", fields, f"Exactly one unique key of {info.name}"
        )

    def _compound(
        self, info: ModelInfo, label: str, parts: tuple[str, ...]
    ) -> GraphQLInputObjectType:
        return self._input(
            f"{info.name}{''.join(upper_first(p) for p in label.split('_'))}CompoundUniqueInput",
            lambda: {
                p: GraphQLInputField(GraphQLNonNull(self.value_type(info.scalars[p])))
                for p in parts
            },
        )

    def order_by(self, info: ModelInfo) -> GraphQLInputObjectType:
        def fields() -> InputFields:
            result: InputFields = {
                name: GraphQLInputField(self.sort_order) for name in info.scalars
            }
            for name, link in info.relations.items():
                if link.is_list:
                    count = self._input(
                        "OrderByRelationCountInput",
                        lambda: {"_count": GraphQLInputField(self.sort_order)},
                    )
                    result[name] = GraphQLInputField(count)
                else:
                    result[name] = GraphQLInputField(self.order_by(self.info.model(link.target)))
            return result

        return self._input(
            f"{info.name}OrderByInput",
            fields,
            "One field to order by per entry, e.g. {createdAt: desc}; pass a list for more",
        )

    # -- writes ----------------------------------------------------------------------

    def _foreign_keys(self, info: ModelInfo) -> set[str]:
        """Scalar fields that some relation of ``info`` fills in (its foreign key fields)."""
        return {
            name
            for field in info.model.fields
            if field.kind == "object"
            for name in field.relation_from_fields
        }

    def _back(self, link: Link) -> str | None:
        relation = link.relation
        if relation is None:
            return None
        if link.model == relation.referencing_model and link.field == relation.referencing_field:
            return relation.referenced_field
        return relation.referencing_field

    def _without(self, link: Link) -> tuple[ModelInfo, str | None]:
        """The target of ``link`` and its back relation field (left out of nested inputs)."""
        return self.info.model(link.target), self._back(link)

    def create(self, info: ModelInfo, without: str | None = None) -> GraphQLInputObjectType:
        """``UserCreateInput`` (or ``PostCreateWithoutAuthorInput`` inside a nested create)."""
        name = (
            f"{info.name}CreateWithout{upper_first(without)}Input"
            if without
            else f"{info.name}CreateInput"
        )
        omitted: set[str] = set()
        if without is not None:
            back_link = info.relations[without]
            if back_link.holds_foreign_key:
                omitted = set(info.model.field(without).relation_from_fields)

        def fields() -> InputFields:
            keys = self._foreign_keys(info)
            result: InputFields = {}
            for field_name, field in info.scalars.items():
                if field_name in omitted:
                    continue
                required = (
                    field.is_required
                    and field.default is None
                    and not field.is_updated_at
                    and not field.is_list
                    and field_name not in keys
                )
                kind = self.value_type(field)
                result[field_name] = GraphQLInputField(GraphQLNonNull(kind) if required else kind)
            for field_name, link in info.relations.items():
                if field_name != without:
                    result[field_name] = GraphQLInputField(self._nested_create(link))
            return result

        return self._input(name, fields)

    def create_many(self, info: ModelInfo, without: str | None = None) -> GraphQLInputObjectType:
        """``UserCreateManyInput``: scalar fields only, foreign keys included (nested under a
        relation, ``PostCreateManyAuthorInput``: without the keys that relation fills)."""
        omitted: set[str] = set()
        if without is not None and info.relations[without].holds_foreign_key:
            omitted = set(info.model.field(without).relation_from_fields)

        def fields() -> InputFields:
            result: InputFields = {}
            for field_name, field in info.scalars.items():
                if field_name in omitted:
                    continue
                required = (
                    field.is_required
                    and field.default is None
                    and not field.is_updated_at
                    and not field.is_list
                )
                kind = self.value_type(field)
                result[field_name] = GraphQLInputField(GraphQLNonNull(kind) if required else kind)
            return result

        name = f"{info.name}CreateMany{upper_first(without)}Input" if without else None
        return self._input(name or f"{info.name}CreateManyInput", fields)

    def _nested_create(self, link: Link) -> GraphQLInputObjectType:
        target, back = self._without(link)
        many = "Many" if link.is_list else "One"
        suffix = f"Without{upper_first(back)}" if back else ""
        create = self.create(target, back)
        unique = self.where_unique(target)

        def fields() -> InputFields:
            wrap: Callable[[GraphQLInputType], GraphQLInputType] = (
                _list if link.is_list else (lambda kind: kind)
            )
            result: InputFields = {"create": GraphQLInputField(wrap(create))}
            if link.is_list and link.through is None and back is not None:
                result["createMany"] = GraphQLInputField(self._create_many_envelope(target, back))
            if unique is not None:
                result["connect"] = GraphQLInputField(wrap(unique))
                result["connectOrCreate"] = GraphQLInputField(
                    wrap(self._connect_or_create(target, unique, create))
                )
            return result

        return self._input(f"{target.name}CreateNested{many}{suffix}Input", fields)

    def _create_many_envelope(self, target: ModelInfo, back: str) -> GraphQLInputObjectType:
        data = self.create_many(target, back)
        return self._input(
            f"{data.name.removesuffix('Input')}Envelope",
            lambda: {
                "data": GraphQLInputField(GraphQLNonNull(_list(data))),
                "skipDuplicates": GraphQLInputField(GraphQLBoolean),
            },
        )

    def _connect_or_create(
        self,
        target: ModelInfo,
        unique: GraphQLInputObjectType,
        create: GraphQLInputObjectType,
    ) -> GraphQLInputObjectType:
        return self._input(
            f"{create.name.removesuffix('Input')}ConnectOrCreateInput",
            lambda: {
                "where": GraphQLInputField(GraphQLNonNull(unique)),
                "create": GraphQLInputField(GraphQLNonNull(create)),
            },
        )

    def update(self, info: ModelInfo, without: str | None = None) -> GraphQLInputObjectType:
        """``UserUpdateInput`` (``PostUpdateWithoutAuthorInput`` nested): every field optional;
        a scalar takes its new value (null clears an optional field), a number or scalar list
        field its update operations (``update_value_type``)."""
        name = (
            f"{info.name}UpdateWithout{upper_first(without)}Input"
            if without
            else f"{info.name}UpdateInput"
        )
        omitted: set[str] = set()
        if without is not None and info.relations[without].holds_foreign_key:
            omitted = set(info.model.field(without).relation_from_fields)

        def fields() -> InputFields:
            result: InputFields = {
                field_name: GraphQLInputField(self.update_value_type(field))
                for field_name, field in info.scalars.items()
                if field_name not in omitted
            }
            for field_name, link in info.relations.items():
                if field_name != without:
                    result[field_name] = GraphQLInputField(self._nested_update(link))
            return result

        return self._input(name, fields)

    def update_many(self, info: ModelInfo) -> GraphQLInputObjectType:
        """``UserUpdateManyMutationInput``: scalar fields only."""
        return self._input(
            f"{info.name}UpdateManyMutationInput",
            lambda: {
                field_name: GraphQLInputField(self.update_value_type(field))
                for field_name, field in info.scalars.items()
            },
        )

    def _nested_update(self, link: Link) -> GraphQLInputObjectType:
        target, back = self._without(link)
        many = "Many" if link.is_list else "One"
        suffix = f"Without{upper_first(back)}" if back else ""
        name = f"{target.name}UpdateNested{many}{suffix}Input"

        def fields() -> InputFields:
            nested = self._nested_create(link)
            result: InputFields = dict(nested.fields)
            unique = self.where_unique(target)
            create = self.create(target, back)
            update = self.update(target, back)
            where = self.where(target)
            if link.is_list:
                if unique is not None:
                    for op in ("set", "disconnect", "delete"):
                        result[op] = GraphQLInputField(_list(unique))
                    result["update"] = GraphQLInputField(
                        _list(self._pair(f"{update.name[:-5]}WhereUniqueInput", unique, update))
                    )
                    result["upsert"] = GraphQLInputField(
                        _list(
                            self._upsert(
                                f"{target.name}Upsert{suffix}Input", unique, create, update
                            )
                        )
                    )
                result["updateMany"] = GraphQLInputField(
                    _list(self._update_many_where(target, where))
                )
                result["deleteMany"] = GraphQLInputField(_list(where))
            else:
                result["update"] = GraphQLInputField(update)
                result["upsert"] = GraphQLInputField(
                    self._upsert(f"{target.name}Upsert{suffix}Input", None, create, update)
                )
                if not self._required_to_one(link):
                    result["disconnect"] = GraphQLInputField(GraphQLBoolean)
                    result["delete"] = GraphQLInputField(GraphQLBoolean)
            return result

        return self._input(name, fields)

    def _required_to_one(self, link: Link) -> bool:
        field = self.info.model(link.model).model.field(link.field)
        return field.is_required

    def _pair(
        self, name: str, unique: GraphQLInputObjectType, data: GraphQLInputObjectType
    ) -> GraphQLInputObjectType:
        return self._input(
            name,
            lambda: {
                "where": GraphQLInputField(GraphQLNonNull(unique)),
                "data": GraphQLInputField(GraphQLNonNull(data)),
            },
        )

    def _upsert(
        self,
        name: str,
        unique: GraphQLInputObjectType | None,
        create: GraphQLInputObjectType,
        update: GraphQLInputObjectType,
    ) -> GraphQLInputObjectType:
        def fields() -> InputFields:
            result: InputFields = {}
            if unique is not None:
                result["where"] = GraphQLInputField(GraphQLNonNull(unique))
            result["create"] = GraphQLInputField(GraphQLNonNull(create))
            result["update"] = GraphQLInputField(GraphQLNonNull(update))
            return result

        return self._input(name, fields)

    def _update_many_where(
        self, target: ModelInfo, where: GraphQLInputObjectType
    ) -> GraphQLInputObjectType:
        return self._input(
            f"{target.name}UpdateManyWithWhereInput",
            lambda: {
                "where": GraphQLInputField(GraphQLNonNull(where)),
                "data": GraphQLInputField(GraphQLNonNull(self.update_many(target))),
            },
        )
