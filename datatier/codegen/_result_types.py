"""The types behind narrowed selects and aggregates: select-class bounds, ``aggregate``,
``count`` with a ``select`` and ``group_by`` documents and results.

Names follow Prisma Client's generated TypeScript (``PostAvgAggregateInputType``,
``AggregatePost``, ``PostGroupByOutputType``, ``PostScalarWhereWithAggregatesInput``). Value
types of results are the ones the runtime returns: ``_count`` is always an ``int``; ``_avg``
is a ``float`` (``Decimal`` for a Decimal field); ``_sum`` keeps the field's number type
(``int`` for Int and BigInt); ``_min``/``_max`` the field's own type; any of them ``None``
when there was nothing to aggregate.
"""

from __future__ import annotations

from collections.abc import Iterable

from datatier.codegen._ir import FieldSpec, Key
from datatier.codegen._types import (
    _BOOL,
    _INPUT_TYPES,
    _NUMBERS,
    _ROW_TYPES,
    TypeBuilder,
    _one_or_list,
    client_fields,
)
from datatier.schema._ir import Field, Model, ScalarType

__all__ = ["COUNT_VAR", "ResultTypeBuilder"]

# The type of ``_count`` in aggregate results and group rows: ``int`` for ``_count=True``,
# the per-field counts for ``_count={...}``.
COUNT_VAR = "_CountT"

_AVG_TYPES = {
    ScalarType.INT: "float",
    ScalarType.BIGINT: "float",
    ScalarType.FLOAT: "float",
    ScalarType.DECIMAL: "decimal.Decimal",
}
_NOT_MIN_MAX = {ScalarType.JSON, ScalarType.BYTES}


class ResultTypeBuilder(TypeBuilder):
    """``TypeBuilder`` plus the select-class bounds and the aggregate types."""

    # -- select classes ----------------------------------------------------------------

    def partial(self, model: Model) -> str:
        """``PostPartial``: every field read-only and optional, no other key (closed).

        A select class (a closed ``TypedDict``) fits this bound exactly when it names only
        fields of the model with their types; relations hold select classes of their model.
        """

        def keys() -> Iterable[Key]:
            for f in self._scalars(model):
                yield Key(f.name, self._row_type(f))
            for r in self._relations(model):
                target = self.partial(self._models[r.type])
                if r.is_list:
                    yield Key(r.name, f"Sequence[{target}]")
                else:
                    yield Key(r.name, target if r.is_required else f"{target} | None")
            lists = [r for r in self._relations(model) if r.is_list]
            if lists:
                counts = self._need(
                    f"{model.name}CountPartial",
                    lambda: (Key(r.name, "int") for r in lists),
                    group=model.name,
                    closed=True,
                    read_only=True,
                    doc=f"The relation counts a select class of {model.name} may declare.",
                )
                yield Key("_count", counts)

        return self._need(
            f"{model.name}Partial",
            keys,
            group=model.name,
            closed=True,
            read_only=True,
            doc=f"The bound of a select class of {model.name}: any of its fields, with their types.",
        )

    def field_specs(self, model: Model) -> tuple[FieldSpec, ...]:
        """The fields select classes of ``model`` may name, as the runtime checks them."""
        relations = {r.name for r in self._relations(model)}
        return tuple(
            FieldSpec(f.name, f.type if f.name in relations else "", f.is_list, not f.is_required)
            for f in client_fields(model)
            if f.kind != "object" or f.name in relations
        )

    # -- fields of each aggregate ------------------------------------------------------

    def _plain_scalars(self, model: Model) -> list[Field]:
        return [f for f in self._scalars(model) if not f.is_list]

    def _numbers(self, model: Model) -> list[Field]:
        return [f for f in self._plain_scalars(model) if f.scalar in _NUMBERS]

    def _orderable(self, model: Model) -> list[Field]:
        """Fields ``_min``/``_max`` apply to: every single-valued scalar but Json and Bytes."""
        return [f for f in self._plain_scalars(model) if f.scalar not in _NOT_MIN_MAX]

    def _flags(self, name: str, model: Model, fields: Iterable[Field], *extra: Key) -> str:
        return self._need(
            name, lambda: (*extra, *(Key(f.name, _BOOL) for f in fields)), group=model.name
        )

    def aggregate_inputs(self, model: Model) -> dict[str, str]:
        """``_count``/``_sum``/``_avg``/``_min``/``_max`` -> the type of its selection (an
        operation with no field to apply to is left out)."""
        m = model.name
        count = self._flags(
            f"{m}CountAggregateInputType", model, self._scalars(model), Key("_all", _BOOL)
        )
        inputs = {"_count": count}
        numbers, orderable = self._numbers(model), self._orderable(model)
        if numbers:
            inputs["_avg"] = self._flags(f"{m}AvgAggregateInputType", model, numbers)
            inputs["_sum"] = self._flags(f"{m}SumAggregateInputType", model, numbers)
        if orderable:
            inputs["_min"] = self._flags(f"{m}MinAggregateInputType", model, orderable)
            inputs["_max"] = self._flags(f"{m}MaxAggregateInputType", model, orderable)
        return inputs

    def _value(self, field: Field) -> str:
        return f"{self._base(field, _ROW_TYPES)} | None"

    def count_output(self, model: Model) -> str:
        keys = (Key("_all", "int"), *(Key(f.name, "int") for f in self._scalars(model)))
        return self._define(
            f"{model.name}CountAggregateOutputType", keys, group=model.name, total=False
        )

    def _aggregate_outputs(self, model: Model) -> dict[str, str]:
        m = model.name

        def typed(name: str, fields: list[Field], type_of: dict[ScalarType, str] | None) -> str:
            keys = tuple(
                Key(f.name, f"{type_of[ScalarType(f.type)]} | None" if type_of else self._value(f))
                for f in fields
            )
            return self._define(name, keys, group=m, total=False)

        outputs = {"_count": COUNT_VAR}
        self.count_output(model)
        numbers, orderable = self._numbers(model), self._orderable(model)
        if numbers:
            outputs["_avg"] = typed(f"{m}AvgAggregateOutputType", numbers, _AVG_TYPES)
            outputs["_sum"] = typed(f"{m}SumAggregateOutputType", numbers, None)
        if orderable:
            outputs["_min"] = typed(f"{m}MinAggregateOutputType", orderable, None)
            outputs["_max"] = typed(f"{m}MaxAggregateOutputType", orderable, None)
        return outputs

    def aggregate_result(self, model: Model) -> str:
        """``AggregatePost[_CountT]``: an operation's key is there when it was asked for."""
        outputs = self._aggregate_outputs(model)
        return self._need(
            f"Aggregate{model.name}",
            lambda: (Key(op, type_) for op, type_ in outputs.items()),
            group=model.name,
            params=(COUNT_VAR,),
            doc=f"The result of ``{self.accessor(model)}.aggregate``.",
        )

    def group_row(self, model: Model) -> str:
        """``PostGroupByOutputType[_CountT]``: the ``by`` fields and the aggregates asked for."""
        outputs = self._aggregate_outputs(model)

        def keys() -> Iterable[Key]:
            for f in self._scalars(model):
                yield Key(f.name, self._row_type(f))
            for op, type_ in outputs.items():
                yield Key(op, type_)

        return self._need(
            f"{model.name}GroupByOutputType",
            keys,
            group=model.name,
            params=(COUNT_VAR,),
            doc=f"A row of ``{self.accessor(model)}.group_by``: the ``by`` fields, the aggregates.",
        )

    @staticmethod
    def accessor(model: Model) -> str:
        """``db.<accessor>``: the model name in lower camel case."""
        return model.name[:1].lower() + model.name[1:]

    # -- groupBy documents -------------------------------------------------------------

    def _aggregates_filter(self, field: Field) -> str:
        """``IntAggregatesFilter``: ``{_avg: {gt: 2}}`` and friends in a ``having``."""
        own = self._filter(field)
        value = self._input_type(field)
        name = f"{own.removesuffix('Filter')}AggregatesFilter"
        int_filter = self._filter_of("scalar", "Int", True, False)

        def keys() -> Iterable[Key]:
            yield Key("_count", f"{int_filter} | int")
            if field.scalar in _NUMBERS:
                decimal = field.scalar is ScalarType.DECIMAL
                avg_type = "Decimal" if decimal else "Float"
                avg_filter = self._filter_of("scalar", avg_type, False, False)
                avg_value = _INPUT_TYPES[ScalarType(avg_type)]
                yield Key("_avg", f"{avg_filter} | {avg_value} | None")
                yield Key("_sum", f"{own} | {value}")
            yield Key("_min", f"{own} | {value}")
            yield Key("_max", f"{own} | {value}")

        return self._need(name, keys)

    def having(self, model: Model) -> str:
        name = f"{model.name}ScalarWhereWithAggregatesInput"

        def keys() -> Iterable[Key]:
            yield from self._logic(name)
            for f in self._orderable(model):
                filter_ = self._filter(f)
                aggregates = self._aggregates_filter(f)
                yield Key(f.name, f"{filter_} | {self._input_type(f)} | {aggregates}")

        return self._need(name, keys, group=model.name)

    def group_order_by(self, model: Model) -> str:
        m = model.name
        orderable = self._orderable(model)
        numbers = self._numbers(model)

        def orders(kind: str, fields: list[Field]) -> str:
            return self._define(
                f"{m}{kind}OrderByAggregateInput",
                tuple(Key(f.name, "SortOrder") for f in fields),
                group=m,
                total=False,
            )

        def keys() -> Iterable[Key]:
            for f in orderable:
                yield Key(f.name, "SortOrder" if f.is_required else "SortOrder | SortOrderInput")
            yield Key("_count", orders("Count", orderable))
            if numbers:
                yield Key("_avg", orders("Avg", numbers))
                yield Key("_sum", orders("Sum", numbers))
            yield Key("_min", orders("Min", orderable))
            yield Key("_max", orders("Max", orderable))

        self.order_by(model)  # SortOrderInput
        return self._need(f"{m}OrderByWithAggregationInput", keys, group=m)

    def by(self, model: Model) -> str:
        return _one_or_list(f"{model.name}ScalarFieldEnum")
