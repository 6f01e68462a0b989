"""Prisma's type rules for one schema: rows, filters, orderings, selections and write inputs.

Names and keys follow Prisma Client's generated TypeScript (``UserWhereInput``,
``StringNullableFilter``, ``PostCreateWithoutAuthorInput``, ``notIn``, ``connectOrCreate``)
so a document means the same in both languages. Types are built on demand: asking for a
name builds its ``TypedDict`` once, together with every type it refers to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from datatier.codegen._ir import Alias, Key, TypedDictType
from datatier.schema import Schema
from datatier.schema._ir import Field, Model, ScalarType

__all__ = ["TypeBuilder", "client_fields", "client_models"]

# Python types of values read from the database, and of values a document may carry.
_ROW_TYPES = {
    ScalarType.STRING: "str",
    ScalarType.BOOLEAN: "bool",
    ScalarType.INT: "int",
    ScalarType.BIGINT: "int",
    ScalarType.FLOAT: "float",
    ScalarType.DECIMAL: "decimal.Decimal",
    ScalarType.DATETIME: "datetime.datetime",
    ScalarType.JSON: "JsonValue",
    ScalarType.BYTES: "bytes",
}
_INPUT_TYPES = {
    **_ROW_TYPES,
    ScalarType.DECIMAL: "decimal.Decimal | int | float | str",
    ScalarType.DATETIME: "datetime.datetime | str",
}
_NUMBERS = {ScalarType.INT, ScalarType.BIGINT, ScalarType.FLOAT, ScalarType.DECIMAL}
_ORDERED = {*_NUMBERS, ScalarType.DATETIME, ScalarType.STRING}
_BOOL = "bool"

SHARED_ALIASES = (
    Alias(
        "JsonValue",
        '"str | int | float | bool | None | list[JsonValue] | dict[str, JsonValue]"',
        "A value of a Json field.",
    ),
    Alias("SortOrder", 'Literal["asc", "desc"]'),
    Alias("NullsOrder", 'Literal["first", "last"]'),
    Alias("QueryMode", 'Literal["default", "insensitive"]'),
)


def client_models(schema: Schema) -> tuple[Model, ...]:
    """The models the client offers (``@@ignore``d ones have no accessor, as in Prisma)."""
    return tuple(m for m in schema.models if not m.is_ignored)


def client_fields(model: Model) -> tuple[Field, ...]:
    """The fields the client knows: not ``@ignore``d, not ``Unsupported``."""
    return tuple(f for f in model.fields if not f.is_ignored and f.kind != "unsupported")


def _cap(name: str) -> str:
    return name[:1].upper() + name[1:]


def _literal(values: Iterable[str]) -> str:
    quoted = ", ".join(f'"{v}"' for v in values)
    return f"Literal[{quoted}]"


def _union(*types: str) -> str:
    return " | ".join(types)


def _one_or_list(type_: str) -> str:
    return f"{type_} | list[{type_}]"


class TypeBuilder:
    """Builds the ``TypedDict`` types of a schema's client; ``types`` holds them in build order."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._models = {m.name: m for m in client_models(schema)}
        self._built: dict[str, TypedDictType | None] = {}

    @property
    def types(self) -> tuple[TypedDictType, ...]:
        return tuple(t for t in self._built.values() if t is not None)

    def aliases(self) -> tuple[Alias, ...]:
        enums = tuple(
            Alias(e.name, _literal(v.name for v in e.values), e.documentation)
            for e in self.schema.enums
        )
        fields = tuple(
            Alias(
                f"{m.name}ScalarFieldEnum",
                _literal(f.name for f in self._scalars(m)),
            )
            for m in self._models.values()
        )
        return (*SHARED_ALIASES, *enums, *fields)

    def _need(
        self,
        name: str,
        make: Callable[[], Iterable[Key]],
        *,
        group: str = "",
        total: bool = False,
        doc: str | None = None,
        closed: bool = False,
        read_only: bool = False,
        params: tuple[str, ...] = (),
    ) -> str:
        """``name``, building its type first if this is the first time it is asked for."""
        if name not in self._built:
            self._built[name] = None  # a type may refer to itself while it is being built
            keys = tuple(make())
            self._built[name] = TypedDictType(
                name, keys, total, group, doc, closed=closed, read_only=read_only, params=params
            )
        return name

    def _define(self, name: str, keys: tuple[Key, ...], *, group: str, total: bool) -> str:
        return self._need(name, lambda: keys, group=group, total=total)

    # -- fields ----------------------------------------------------------------------

    def _scalars(self, model: Model) -> tuple[Field, ...]:
        return tuple(f for f in client_fields(model) if f.kind in ("scalar", "enum"))

    def _relations(self, model: Model) -> tuple[Field, ...]:
        return tuple(
            f for f in client_fields(model) if f.kind == "object" and f.type in self._models
        )

    def _foreign_keys(self, model: Model, relation: Field | None = None) -> set[str]:
        """Scalar fields that hold a relation's foreign key (of ``relation``, or of any)."""
        fields = (relation,) if relation is not None else self._relations(model)
        return {name for f in fields for name in f.relation_from_fields}

    def _back(self, model: Model, relation: Field) -> Field | None:
        """The other side of ``model.relation`` on the related model (None if it has none)."""
        for candidate in self._relations(self._models[relation.type]):
            itself = relation.type == model.name and candidate.name == relation.name
            if (
                candidate.relation_name == relation.relation_name
                and candidate.type == model.name
                and not itself
            ):
                return candidate
        return None

    def _base(self, field: Field, types: dict[ScalarType, str]) -> str:
        return types[ScalarType(field.type)] if field.kind == "scalar" else field.type

    def _row_type(self, field: Field) -> str:
        base = self._base(field, _ROW_TYPES)
        if field.is_list:
            return f"list[{base}]"
        return base if field.is_required else f"{base} | None"

    def _input_type(self, field: Field) -> str:
        base = self._base(field, _INPUT_TYPES)
        if field.is_list:
            return f"list[{base}]"
        return base if field.is_required else f"{base} | None"

    def _is_json(self, field: Field) -> bool:
        return field.kind == "scalar" and field.type == ScalarType.JSON

    # -- reads -----------------------------------------------------------------------

    def row(self, model: Model) -> str:
        def keys() -> Iterable[Key]:
            for f in self._scalars(model):
                yield Key(f.name, self._row_type(f))
            for r in self._relations(model):
                target = self.row(self._models[r.type])
                if r.is_list:
                    type_ = f"list[{target}]"
                else:
                    type_ = target if r.is_required else f"{target} | None"
                yield Key(r.name, type_, required=False)
            if any(r.is_list for r in self._relations(model)):
                yield Key("_count", "dict[str, int]", required=False)

        return self._need(model.name, keys, group=model.name, total=True, doc=model.documentation)

    def _filter(self, field: Field) -> str:
        """The filter type of a scalar or enum field (``StringNullableFilter``, ...)."""
        return self._filter_of(field.kind, field.type, field.is_required, field.is_list)

    def _filter_of(self, kind: str, type_name: str, is_required: bool, is_list: bool) -> str:
        """The filter type of a scalar (``kind`` "scalar") or enum value of ``type_name``."""
        nullable = "" if is_required else "Nullable"
        value = _INPUT_TYPES[ScalarType(type_name)] if kind == "scalar" else type_name
        name = (
            f"Enum{type_name}{nullable}Filter" if kind == "enum" else f"{type_name}{nullable}Filter"
        )
        if is_list:
            return self._need(
                f"{name.removesuffix('Filter').removesuffix('Nullable')}NullableListFilter",
                lambda: (
                    Key("equals", f"list[{value}] | None"),
                    Key("has", f"{value} | None"),
                    Key("hasEvery", f"list[{value}]"),
                    Key("hasSome", f"list[{value}]"),
                    Key("isEmpty", _BOOL),
                ),
            )
        none = "" if is_required else " | None"
        scalar = ScalarType(type_name) if kind == "scalar" else None

        def keys() -> Iterable[Key]:
            yield Key("equals", value + none)
            if scalar is ScalarType.JSON:
                yield Key("not", value + none)
                return
            if scalar is not ScalarType.BOOLEAN:
                yield Key("in", f"list[{value}]")
                yield Key("notIn", f"list[{value}]")
            if scalar in _ORDERED:
                for op in ("lt", "lte", "gt", "gte"):
                    yield Key(op, value)
            if scalar is ScalarType.STRING:
                for op in ("contains", "startsWith", "endsWith"):
                    yield Key(op, value)
                yield Key("mode", "QueryMode")
            yield Key("not", f"{value} | {name}{none}")

        return self._need(name, keys)

    def _where_field(self, field: Field) -> Key:
        if field.kind == "object":
            target = self._models[field.type]
            if field.is_list:
                return Key(field.name, self._list_relation_filter(target))
            where = self.where(target)
            type_ = f"{self._relation_filter(target)} | {where}"
            return Key(field.name, type_ if field.is_required else f"{type_} | None")
        filter_ = self._filter(field)
        if field.is_list or self._is_json(field):
            return Key(field.name, filter_)
        return Key(field.name, f"{filter_} | {self._input_type(field)}")

    def _relation_filter(self, model: Model) -> str:
        where = f"{self.where(model)} | None"
        return self._need(
            f"{model.name}RelationFilter",
            lambda: (Key("is", where), Key("isNot", where)),
            group=model.name,
        )

    def _list_relation_filter(self, model: Model) -> str:
        where = self.where(model)
        return self._need(
            f"{model.name}ListRelationFilter",
            lambda: (Key("every", where), Key("some", where), Key("none", where)),
            group=model.name,
        )

    def _logic(self, name: str) -> Iterable[Key]:
        yield Key("AND", _one_or_list(name))
        yield Key("OR", f"list[{name}]")
        yield Key("NOT", _one_or_list(name))

    def where(self, model: Model) -> str:
        name = f"{model.name}WhereInput"

        def keys() -> Iterable[Key]:
            yield from self._logic(name)
            for f in (*self._scalars(model), *self._relations(model)):
                yield self._where_field(f)

        return self._need(name, keys, group=model.name)

    def _unique_keys(self, model: Model) -> list[tuple[Field, ...]]:
        keys: list[tuple[Field, ...]] = []
        if model.primary_key is not None:
            keys.append(tuple(model.field(f.name) for f in model.primary_key.fields))
        for index in model.indexes:
            if index.kind == "unique":
                keys.append(tuple(model.field(f.name) for f in index.fields))
        return keys

    def _compound_name(self, model: Model, fields: tuple[Field, ...]) -> str:
        names = {f.name for f in fields}
        key = model.primary_key
        if key is not None and key.name and {f.name for f in key.fields} == names:
            return key.name
        for index in model.indexes:
            if index.kind == "unique" and {f.name for f in index.fields} == names and index.name:
                return index.name
        return "_".join(f.name for f in fields)

    def where_unique(self, model: Model) -> str:
        name = f"{model.name}WhereUniqueInput"

        def keys() -> Iterable[Key]:
            uniques = self._unique_keys(model)
            single = {fields[0].name for fields in uniques if len(fields) == 1}
            for fields in uniques:
                if len(fields) == 1:
                    yield Key(fields[0].name, self._input_type(fields[0]))
                    continue
                compound = f"{model.name}{''.join(_cap(f.name) for f in fields)}CompoundUniqueInput"
                keys = tuple(Key(f.name, self._input_type(f)) for f in fields)
                self._define(compound, keys, group=model.name, total=True)
                yield Key(self._compound_name(model, fields), compound)
            yield from self._logic(self.where(model))
            for f in (*self._scalars(model), *self._relations(model)):
                if f.name not in single:
                    yield self._where_field(f)

        return self._need(name, keys, group=model.name)

    def order_by(self, model: Model) -> str:
        name = f"{model.name}OrderByInput"

        def keys() -> Iterable[Key]:
            for f in self._scalars(model):
                if f.is_list or self._is_json(f):
                    continue
                yield Key(f.name, "SortOrder" if f.is_required else "SortOrder | SortOrderInput")
            for r in self._relations(model):
                if r.is_list:
                    yield Key(r.name, self._order_by_count())
                else:
                    yield Key(r.name, self.order_by(self._models[r.type]))

        self._need(
            "SortOrderInput", lambda: (Key("sort", "SortOrder", True), Key("nulls", "NullsOrder"))
        )
        return self._need(name, keys, group=model.name)

    def _order_by_count(self) -> str:
        return self._need("OrderByRelationAggregateInput", lambda: (Key("_count", "SortOrder"),))

    def _relation_selection(self, relation: Field) -> str:
        target = self._models[relation.type]
        return f"bool | {self.find_many_args(target) if relation.is_list else self.args(target)}"

    def _count_selection(self, model: Model) -> str | None:
        lists = [r for r in self._relations(model) if r.is_list]
        if not lists:
            return None
        count_select = self._need(
            f"{model.name}CountOutputTypeSelect",
            lambda: (
                Key(r.name, f"bool | {self._where_args(self._models[r.type])}") for r in lists
            ),
            group=model.name,
        )
        args = self._need(
            f"{model.name}CountOutputTypeArgs",
            lambda: (Key("select", count_select),),
            group=model.name,
        )
        return f"bool | {args}"

    def _where_args(self, model: Model) -> str:
        where = self.where(model)
        return self._need(
            f"{model.name}WhereArgs", lambda: (Key("where", where),), group=model.name
        )

    def select(self, model: Model) -> str:
        def keys() -> Iterable[Key]:
            for f in self._scalars(model):
                yield Key(f.name, _BOOL)
            for r in self._relations(model):
                yield Key(r.name, self._relation_selection(r))
            count = self._count_selection(model)
            if count is not None:
                yield Key("_count", count)

        return self._need(f"{model.name}Select", keys, group=model.name)

    def include(self, model: Model) -> str | None:
        """``UserInclude``; None for a model without relations (it has nothing to include)."""
        if not self._relations(model):
            return None

        def keys() -> Iterable[Key]:
            for r in self._relations(model):
                yield Key(r.name, self._relation_selection(r))
            count = self._count_selection(model)
            if count is not None:
                yield Key("_count", count)

        return self._need(f"{model.name}Include", keys, group=model.name)

    def args(self, model: Model) -> str:
        return self._need(f"{model.name}Args", lambda: self.args_keys(model), group=model.name)

    def find_many_args(self, model: Model) -> str:
        def keys() -> Iterable[Key]:
            yield Key("where", self.where(model))
            yield Key("orderBy", _one_or_list(self.order_by(model)))
            yield Key("cursor", self.where_unique(model))
            yield Key("take", "int")
            yield Key("skip", "int")
            yield Key("distinct", _one_or_list(f"{model.name}ScalarFieldEnum"))
            yield from self.args_keys(model)

        return self._need(f"{model.name}FindManyArgs", keys, group=model.name)

    def args_keys(self, model: Model) -> Iterable[Key]:
        yield Key("select", self.select(model))
        include = self.include(model)
        if include is not None:
            yield Key("include", include)

    # -- writes ----------------------------------------------------------------------

    def _without(self, relation: Field | None) -> str:
        return f"Without{_cap(relation.name)}" if relation is not None else ""

    def _write_fields(
        self, model: Model, without: Field | None, unchecked: bool
    ) -> tuple[list[Field], list[Field]]:
        """Scalar and relation fields of a write input.

        A checked input sets foreign keys through their relations (``author: {connect}``);
        an unchecked one sets the foreign key fields (``authorId``) instead.
        """
        foreign_keys = self._foreign_keys(model)
        excluded = self._foreign_keys(model, without) if without is not None else set()
        scalars = [
            f
            for f in self._scalars(model)
            if f.name not in excluded and (unchecked or f.name not in foreign_keys)
        ]
        relations = [
            r
            for r in self._relations(model)
            if r is not without and not (unchecked and r.relation_from_fields)
        ]
        return scalars, relations

    def _create_required(self, field: Field) -> bool:
        if field.kind == "object":
            return field.is_required and not field.is_list and bool(field.relation_from_fields)
        return (
            field.is_required
            and not field.is_list
            and field.default is None
            and not field.is_updated_at
        )

    def create(self, model: Model, without: Field | None = None, unchecked: bool = False) -> str:
        kind = "UncheckedCreate" if unchecked else "Create"
        name = f"{model.name}{kind}{self._without(without)}Input"

        def keys() -> Iterable[Key]:
            scalars, relations = self._write_fields(model, without, unchecked)
            for f in scalars:
                yield Key(f.name, self._input_type(f), self._create_required(f))
            for r in relations:
                yield Key(r.name, self._nested_create(model, r), self._create_required(r))

        return self._need(name, keys, group=model.name, total=True)

    def create_data(self, model: Model, without: Field | None = None) -> str:
        """``data`` of a create: the checked or the unchecked input."""
        return _union(self.create(model, without), self.create(model, without, unchecked=True))

    def create_many(self, model: Model, without: Field | None = None) -> str:
        by = _cap(without.name) if without is not None else ""
        excluded = self._foreign_keys(model, without) if without is not None else set()

        def keys() -> Iterable[Key]:
            for f in self._scalars(model):
                if f.name not in excluded:
                    yield Key(f.name, self._input_type(f), self._create_required(f))

        return self._need(f"{model.name}CreateMany{by}Input", keys, group=model.name, total=True)

    def _target(self, model: Model, relation: Field) -> tuple[Model, Field | None, str]:
        target = self._models[relation.type]
        back = self._back(model, relation)
        return target, back, f"{target.name}{{}}{self._without(back)}"

    def _nested_create(self, model: Model, relation: Field) -> str:
        target, back, named = self._target(model, relation)
        create = self.create_data(target, back)
        unique = self.where_unique(target)
        or_connect = self._need(
            named.format("CreateOrConnect") + "Input",
            lambda: (Key("where", unique), Key("create", create)),
            group=target.name,
            total=True,
        )
        if not relation.is_list:
            return self._need(
                named.format("CreateNestedOne") + "Input",
                lambda: (
                    Key("create", create),
                    Key("connectOrCreate", or_connect),
                    Key("connect", unique),
                ),
                group=target.name,
            )

        def keys() -> Iterable[Key]:
            yield Key("create", _one_or_list(create))
            yield Key("connectOrCreate", _one_or_list(or_connect))
            envelope = self._create_many_envelope(target, back)
            if envelope is not None:
                yield Key("createMany", envelope)
            yield Key("connect", _one_or_list(unique))

        return self._need(named.format("CreateNestedMany") + "Input", keys, group=target.name)

    def _create_many_envelope(self, model: Model, back: Field | None) -> str | None:
        """``createMany`` inside a nested write: only where the related rows hold the key."""
        if back is None or not back.relation_from_fields:
            return None
        data = self.create_many(model, back)
        return self._need(
            f"{model.name}CreateMany{_cap(back.name)}InputEnvelope",
            lambda: (Key("data", _one_or_list(data), True), Key("skipDuplicates", _BOOL)),
            group=model.name,
        )

    def _update_operations(self, field: Field) -> str | None:
        """``IntFieldUpdateOperationsInput`` and friends; None where only a value is accepted."""
        if self._is_json(field):
            return None
        value = self._base(field, _INPUT_TYPES)
        kind = f"Enum{field.type}" if field.kind == "enum" else field.type
        if field.is_list:
            return self._need(
                f"{kind}ListFieldUpdateOperationsInput",
                lambda: (Key("set", f"list[{value}]"), Key("push", _one_or_list(value))),
            )
        nullable = "" if field.is_required else "Nullable"
        none = "" if field.is_required else " | None"

        def keys() -> Iterable[Key]:
            yield Key("set", value + none)
            if field.kind == "scalar" and ScalarType(field.type) in _NUMBERS:
                for op in ("increment", "decrement", "multiply", "divide"):
                    yield Key(op, value)

        return self._need(f"{nullable}{kind}FieldUpdateOperationsInput", keys)

    def _update_scalar(self, field: Field) -> Key:
        operations = self._update_operations(field)
        value = self._input_type(field)
        return Key(field.name, value if operations is None else f"{value} | {operations}")

    def update(self, model: Model, without: Field | None = None, unchecked: bool = False) -> str:
        kind = "UncheckedUpdate" if unchecked else "Update"
        name = f"{model.name}{kind}{self._without(without)}Input"

        def keys() -> Iterable[Key]:
            scalars, relations = self._write_fields(model, without, unchecked)
            for f in scalars:
                yield self._update_scalar(f)
            for r in relations:
                yield Key(r.name, self._nested_update(model, r))

        return self._need(name, keys, group=model.name)

    def update_data(self, model: Model, without: Field | None = None) -> str:
        return _union(self.update(model, without), self.update(model, without, unchecked=True))

    def update_many(self, model: Model) -> str:
        """``data`` of an ``update_many``: scalar fields only (foreign keys included)."""
        return self._need(
            f"{model.name}UpdateManyMutationInput",
            lambda: (self._update_scalar(f) for f in self._scalars(model)),
            group=model.name,
        )

    def _nested_update(self, model: Model, relation: Field) -> str:
        target, back, named = self._target(model, relation)
        create = self.create_data(target, back)
        update = self.update_data(target, back)
        unique = self.where_unique(target)
        where = self.where(target)
        or_connect = self._need(
            named.format("CreateOrConnect") + "Input",
            lambda: (Key("where", unique), Key("create", create)),
            group=target.name,
            total=True,
        )
        if not relation.is_list:
            upsert = self._need(
                named.format("Upsert") + "Input",
                lambda: (
                    Key("update", update, True),
                    Key("create", create, True),
                    Key("where", where, False),
                ),
                group=target.name,
                total=True,
            )
            to_one = self._need(
                named.format("UpdateToOneWithWhere") + "Input",
                lambda: (Key("where", where, False), Key("data", update, True)),
                group=target.name,
                total=True,
            )
            optional = not (relation.is_required and relation.relation_from_fields)

            def one() -> Iterable[Key]:
                yield Key("create", create)
                yield Key("connectOrCreate", or_connect)
                yield Key("upsert", upsert)
                if optional:
                    yield Key("disconnect", f"bool | {where}")
                    yield Key("delete", f"bool | {where}")
                yield Key("connect", unique)
                yield Key("update", f"{update} | {to_one}")

            kind = "UpdateOne" if optional else "UpdateOneRequired"
            return self._need(named.format(kind) + "NestedInput", one, group=target.name)

        upsert_many = self._need(
            named.format("UpsertWithWhereUnique") + "Input",
            lambda: (Key("where", unique), Key("update", update), Key("create", create)),
            group=target.name,
            total=True,
        )
        update_one = self._need(
            named.format("UpdateWithWhereUnique") + "Input",
            lambda: (Key("where", unique), Key("data", update)),
            group=target.name,
            total=True,
        )
        update_many = self._need(
            named.format("UpdateManyWithWhere") + "Input",
            lambda: (Key("where", where), Key("data", self.update_many(target))),
            group=target.name,
            total=True,
        )

        def many() -> Iterable[Key]:
            yield Key("create", _one_or_list(create))
            yield Key("connectOrCreate", _one_or_list(or_connect))
            yield Key("upsert", _one_or_list(upsert_many))
            envelope = self._create_many_envelope(target, back)
            if envelope is not None:
                yield Key("createMany", envelope)
            for op in ("set", "disconnect", "delete", "connect"):
                yield Key(op, _one_or_list(unique))
            yield Key("update", _one_or_list(update_one))
            yield Key("updateMany", _one_or_list(update_many))
            yield Key("deleteMany", _one_or_list(where))

        return self._need(named.format("UpdateMany") + "NestedInput", many, group=target.name)
