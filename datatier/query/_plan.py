"""Query documents -> (shape, parameters).

The planner walks a read document once. It checks every name and value against the
schema (raising ``ValidationError`` with the path of the first problem, before any SQL
runs), converts each value to what the database stores, and returns:

* the *shape*: nested tuples that say everything about the query except its values
  (which fields, which operators, which relations, where each value goes). Two documents
  that differ only in values have equal shapes, so the SQL compiled for one serves both;
* the *parameters*: the converted values, in slot order. Each value's slot number is
  written into the shape where the value was.

Shape grammar (a ``Cond`` is a condition, a ``Read`` a read of one model)::

    Read   := ("read", model, Cond | None, Sel, Order, take_slot | None, take_sign,
               skip_slot | None, Cursor | None, distinct)
    Cond   := ("and", (Cond, ...)) | ("or", (Cond, ...)) | ("not", Cond)
            | ("cmp", field, op, insensitive, slot) | ("null", field, is_null)
            | ("list", field, op, slot) | ("rel", field, kind, Cond | None) | ("true",) | ("false",)
    Sel    := (("s", field) | ("r", field, Read) | ("c", ((field, Cond | None), ...)), ...)
    Order  := (("f", field, desc, nulls) | ("rf", (relation, ...), field, desc, nulls)
               | ("rc", relation, desc), ...)
    Cursor := ((field, slot), ...)
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from datatier.errors import ValidationError
from datatier.query._document import (
    DbValue,
    Path,
    Shape,
    Source,
    all_of,
    integer,
    is_mapping,
    unknown_field,
)
from datatier.query._filters import Filters
from datatier.query._model_info import ModelInfo, SchemaInfo

__all__ = ["Codec", "DbValue", "ParamStyle", "Planner", "Shape", "unknown_field"]

MAX_PLANS = 10_000
MAX_VARIANTS = 64  # plans per signature, told apart by structural strings (sort directions ...)
# a cached plan: the shape and, per parameter, how to compute it from a document
_Plan = tuple[Shape, tuple[Callable[[Any], Any], ...]]

_READ_ARGS = frozenset(
    ("where", "select", "include", "orderBy", "take", "skip", "cursor", "distinct")
)
_NESTED_ARGS = _READ_ARGS
_AGGREGATES = ("_count", "_sum", "_avg", "_min", "_max")
_NUMERIC = frozenset(("Int", "BigInt", "Float", "Decimal"))


class Codec(Protocol):
    """Converts one field's values between Python and the database (see ``_codecs``)."""

    def to_db(self, value: Any) -> Any: ...


class ParamStyle(Protocol):
    """How a database wants list and pattern parameters (``_dialect`` implements it)."""

    def list_param(self, values: list[Any]) -> Any: ...

    def like_pattern(self, op: str, text: str) -> Any: ...

    def json_path(self, path: Any, suffix: str | None) -> Any: ...

    def json_path_problem(self, path: Any) -> str | None: ...

    @property
    def json_filters_unavailable(self) -> frozenset[str]: ...

    @property
    def supports_insensitive(self) -> bool: ...

    @property
    def supports_search(self) -> bool: ...

    @property
    def json_insensitive_equals(self) -> bool: ...


class Planner:
    """Turns read documents for one schema and database into shapes and parameters."""

    def __init__(
        self,
        info: SchemaInfo,
        codec: Callable[[str, str], Codec],
        style: ParamStyle,
    ) -> None:
        self.info = info
        self.codec = codec
        self.style = style
        # signature -> (paths of structural strings, {their values: (shape, parameter getters)})
        self._plans: dict[Any, tuple[tuple[Path, ...], dict[tuple[Any, ...], _Plan]]] = {}

    # -- entry points ----------------------------------------------------------------

    def read(
        self, model: str, args: Mapping[str, Any], *, unique: bool = False, first: bool = False
    ) -> tuple[Shape, list[Any]]:
        """A ``findMany``/``findFirst``/``findUnique`` document: its shape and parameters.

        A document whose signature was planned before reuses that plan: only its values are
        converted (and checked) again.
        """
        signature = (model, unique, first, _signature(args))
        entry = self._plans.get(signature)
        if entry is not None:
            structural, plans = entry
            known = plans.get(tuple([_dig(args, p) for p in structural]) if structural else ())
            if known is not None:
                shape, getters = known
                return shape, [get(args) for get in getters]
        params: list[Any] = []
        info = self._model(model, ())
        if unique:
            self._check_unique_where(info, args.get("where"), ("where",))
            for key in args:
                if key not in ("where", "select", "include"):
                    raise ValidationError(
                        f"findUnique takes where, select and include, not `{key}`", (key,)
                    )
        walk = _Walk(self, params)
        shape = walk.read(info, args, (), allowed=_READ_ARGS, first=first)
        if walk.reusable:
            # Strings that fed no parameter are structure (an orderBy direction, a mode, a
            # distinct field): the plan is reused only when they are the same too.
            fed = {path for path, _ in walk.sources if path is not None}
            structural = tuple(
                p for p in _string_paths(args, ()) if not any(p[: len(f)] == f for f in fed)
            )
            if entry is None or entry[0] != structural:
                if len(self._plans) >= MAX_PLANS:
                    del self._plans[next(iter(self._plans))]
                entry = self._plans[signature] = (structural, {})
            plans = entry[1]
            if len(plans) >= MAX_VARIANTS:
                del plans[next(iter(plans))]
            plans[tuple([_dig(args, p) for p in structural])] = (
                shape,
                tuple([_getter(path, convert) for path, convert in walk.sources]),
            )
        return shape, params

    def aggregate(self, model: str, args: Mapping[str, Any]) -> tuple[Shape, list[Any]]:
        """An ``aggregate`` (or ``count``) document: window arguments plus the aggregates asked for.

        Shape: ``("agg", model, Cond, Order, take_slot, take_sign, skip_slot, Cursor, Aggs)``
        with ``Aggs`` a tuple of ``(operation, field)``; ``field`` is ``"_all"`` for ``count(*)``.
        """
        params: list[Any] = []
        walk = _Walk(self, params)
        info = self._model(model, ())
        allowed = frozenset(("where", "orderBy", "cursor", "take", "skip", *_AGGREGATES))
        for key in args:
            if key not in allowed:
                raise ValidationError(
                    f"unknown argument `{key}`; expected one of {', '.join(sorted(allowed))}",
                    (key,),
                )
        read = walk.read(
            info, {k: v for k, v in args.items() if k not in _AGGREGATES}, (), allowed=_READ_ARGS
        )
        aggregates = walk.aggregates(info, args, ())
        _, _, where, _, order, take, sign, skip, cursor, _ = read
        return ("agg", model, where, order, take, sign, skip, cursor, aggregates), params

    def group_by(self, model: str, args: Mapping[str, Any]) -> tuple[Shape, list[Any]]:
        """A ``groupBy`` document.

        Shape: ``("group", model, by, Cond, Having, GroupOrder, take_slot, take_sign, skip_slot,
        Aggs)``.
        """
        params: list[Any] = []
        walk = _Walk(self, params)
        info = self._model(model, ())
        allowed = frozenset(("by", "where", "having", "orderBy", "take", "skip", *_AGGREGATES))
        for key in args:
            if key not in allowed:
                raise ValidationError(
                    f"unknown argument `{key}`; expected one of {', '.join(sorted(allowed))}",
                    (key,),
                )
        by_arg = args.get("by")
        by = [by_arg] if isinstance(by_arg, str) else by_arg
        if not isinstance(by, list) or not by:
            raise ValidationError("`by` takes a field name or a list of them", ("by",))
        for index, name in enumerate(by):
            if not isinstance(name, str):
                raise ValidationError("each `by` entry is a field name", ("by", index))
            if name not in info.scalars:
                raise ValidationError(unknown_field(info, name), ("by", index))
        where = walk.where(info, args.get("where"), ("where",))
        aggregates = walk.aggregates(info, args, ())
        having = walk.having(info, tuple(by), args.get("having"), ("having",))
        order = walk.group_order(info, tuple(by), args.get("orderBy"), ("orderBy",))
        take = skip = None
        sign = 1
        if args.get("take") is not None:
            count = integer(args["take"], ("take",))
            sign = -1 if count < 0 else 1  # the last groups, as in a read
            take = walk.slot(abs(count))
        if args.get("skip") is not None:
            count = integer(args["skip"], ("skip",))
            if count < 0:
                raise ValidationError("`skip` cannot be negative", ("skip",))
            skip = walk.slot(count)
        if (take is not None or skip is not None) and not order:
            raise ValidationError("`take` and `skip` in groupBy need an `orderBy`", ("orderBy",))
        return (
            "group",
            model,
            tuple(by),
            where,
            having,
            order,
            take,
            sign,
            skip,
            aggregates,
        ), params

    def where(self, model: str, where: Any) -> tuple[Shape | None, list[Any]]:
        """Only a ``where`` document (for counts, updates and deletes)."""
        params: list[Any] = []
        cond = _Walk(self, params).where(self._model(model, ()), where, ("where",))
        return cond, params

    def _model(self, name: str, path: Path) -> ModelInfo:
        try:
            return self.info.model(name)
        except KeyError:
            raise ValidationError(f"unknown model `{name}`", path) from None

    def _check_unique_where(self, info: ModelInfo, where: Any, path: Path) -> None:
        if not is_mapping(where):
            raise ValidationError(f"needs a `where` naming a unique field of `{info.name}`", path)
        for name, fields in info.uniques:
            value = where.get(name)
            if value is None:
                continue
            if len(fields) > 1:
                if is_mapping(value):
                    return
                continue
            if not is_mapping(value) or set(value) == {"equals"}:
                return
        options = ", ".join(f"`{name}`" for name, _ in info.uniques)
        raise ValidationError(
            f"a unique lookup on `{info.name}` needs one of {options} with a value", path
        )


class _Walk(Filters):
    """One walk over one document: appends parameters as it meets values."""

    def __init__(self, planner: Planner, params: list[Any]) -> None:
        self.planner = planner
        self.params = params
        self.sources: list[Source] = []
        self.reusable = True

    def slot(self, value: Any, source: Source | None = None) -> int:
        """Append a parameter. ``source`` says how to compute it again from a document of the
        same signature (where its value sits, and the conversion); without one, the document's
        plan is not reused."""
        self.params.append(value)
        if source is None:
            self.reusable = False
        else:
            self.sources.append(source)
        return len(self.params) - 1

    # -- reads -----------------------------------------------------------------------

    def read(
        self,
        info: ModelInfo,
        args: Mapping[str, Any],
        path: Path,
        *,
        allowed: frozenset[str],
        first: bool = False,
    ) -> Shape:
        if not is_mapping(args):
            raise ValidationError("expected an object of query arguments", path)
        for key in args:
            if key not in allowed:
                raise ValidationError(
                    f"unknown argument `{key}`; expected one of {', '.join(sorted(allowed))}",
                    (*path, key),
                )
        where = self.where(info, args.get("where"), (*path, "where"))
        selection = self.selection(info, args.get("select"), args.get("include"), path)
        order = self.order_by(info, args.get("orderBy"), (*path, "orderBy"))
        take_slot = None
        take_sign = 1
        if first:
            take_slot = self.slot(1, (None, _one))
        take = args.get("take")
        if take is not None:
            take_path = (*path, "take")
            count = integer(take, take_path)
            take_sign = -1 if count < 0 else 1
            take_slot = self.slot(abs(count), (take_path, lambda v: abs(integer(v, take_path))))
        skip_slot = None
        skip = args.get("skip")
        if skip is not None:
            skip_path = (*path, "skip")
            skip_slot = self.slot(
                _count(skip, skip_path), (skip_path, lambda v: _count(v, skip_path))
            )
        cursor = None
        if args.get("cursor") is not None:
            cursor = self.cursor(info, args["cursor"], (*path, "cursor"))
        distinct = self.distinct(info, args.get("distinct"), (*path, "distinct"))
        return (
            "read",
            info.name,
            where,
            selection,
            order,
            take_slot,
            take_sign,
            skip_slot,
            cursor,
            distinct,
        )

    def selection(self, info: ModelInfo, select: Any, include: Any, path: Path) -> Shape:
        if select is None and include is None:
            return info.default_shape
        if select is not None and include is not None:
            raise ValidationError(
                "use either `select` or `include`, not both (`select` can hold relations too)",
                path,
            )
        items: list[tuple[int, Shape]] = []
        if select is None:
            items.extend((info.position[name], ("s", name)) for name in info.default_selection)
            spec = include
            key = "include"
        else:
            spec = select
            key = "select"
        if spec is None:
            return tuple(item for _, item in items)
        if not is_mapping(spec):
            raise ValidationError(f"`{key}` takes an object of field names", (*path, key))
        count_item: Shape | None = None
        for name, value in spec.items():
            where = (*path, key, name)
            if name == "_count":
                count_item = self.count_selection(info, value, where)
                continue
            if value is False or value is None:
                continue
            if name in info.relations:
                link = info.relations[name]
                target = self.planner._model(link.target, where)
                nested: Mapping[str, Any] = {} if value is True else value
                if not is_mapping(nested):
                    raise ValidationError("expected `true` or an object of arguments", where)
                allowed = _NESTED_ARGS if link.is_list else frozenset(("select", "include"))
                read = self.read(target, nested, where, allowed=allowed)
                items.append((info.position[name], ("r", name, read)))
            elif key == "select" and name in info.scalars:
                if value is not True:
                    raise ValidationError("a scalar field is selected with `true`", where)
                items.append((info.position[name], ("s", name)))
            elif key == "include" and name in info.scalars:
                raise ValidationError(
                    f"`{name}` is a scalar field; `include` takes relations (scalars are "
                    "always returned; use `select` to choose them)",
                    where,
                )
            else:
                raise ValidationError(unknown_field(info, name), where)
        items.sort(key=lambda item: item[0])
        result = tuple(item for _, item in items)
        if count_item is not None:
            result = (*result, count_item)
        return result

    def count_selection(self, info: ModelInfo, value: Any, path: Path) -> Shape:
        """``_count: true`` (every to-many relation) or ``_count: {select: {posts: true | {where}}}``."""
        to_many = [name for name, link in info.relations.items() if link.is_list]
        if value is True:
            return ("c", tuple((name, None) for name in to_many))
        if not is_mapping(value) or set(value) != {"select"} or not is_mapping(value["select"]):
            raise ValidationError("`_count` takes `true` or `{select: {relation: true}}`", path)
        counted: list[tuple[int, tuple[str, Shape | None]]] = []
        for name, spec in value["select"].items():
            where_path = (*path, "select", name)
            if name not in to_many:
                raise ValidationError(
                    f"`{name}` is not a to-many relation of `{info.name}`; countable: "
                    + ", ".join(f"`{n}`" for n in to_many),
                    where_path,
                )
            if spec is False:
                continue
            cond = None
            if spec is not True:
                if not is_mapping(spec) or set(spec) - {"where"}:
                    raise ValidationError("expected `true` or `{where: ...}`", where_path)
                target = self.planner._model(info.relations[name].target, where_path)
                cond = self.where(target, spec.get("where"), (*where_path, "where"))
            counted.append((info.position[name], (name, cond)))
        counted.sort(key=lambda item: item[0])
        return ("c", tuple(item for _, item in counted))

    def order_by(self, info: ModelInfo, order: Any, path: Path) -> Shape:
        if order is None:
            return ()
        entries = order if isinstance(order, list) else [order]
        result: list[Shape] = []
        for index, entry in enumerate(entries):
            where = (*path, index) if isinstance(order, list) else path
            if not is_mapping(entry) or len(entry) != 1:
                raise ValidationError(
                    "each orderBy entry is an object with one field, e.g. {createdAt: 'desc'}",
                    where,
                )
            ((name, spec),) = entry.items()
            result.append(self.order_item(info, name, spec, (*where, name), ()))
        return tuple(result)

    def order_item(
        self, info: ModelInfo, name: str, spec: Any, path: Path, through: tuple[str, ...]
    ) -> Shape:
        if name in info.scalars:
            desc, nulls = _direction(spec, path)
            if through:
                return ("rf", through, name, desc, nulls)
            return ("f", name, desc, nulls)
        link = info.relations.get(name)
        if link is None:
            raise ValidationError(unknown_field(info, name), path)
        if not is_mapping(spec) or len(spec) != 1:
            raise ValidationError(
                "order by a relation with one of its fields, e.g. {author: {name: 'asc'}}, "
                "or by its count, e.g. {posts: {_count: 'desc'}}",
                path,
            )
        ((key, value),) = spec.items()
        if link.is_list:
            if key != "_count":
                raise ValidationError(
                    f"a to-many relation orders by `_count` only, not `{key}`", (*path, key)
                )
            if through:
                raise ValidationError("counts of nested relations cannot be ordered by", path)
            desc, _ = _direction(value, (*path, key))
            return ("rc", name, desc)
        target = self.planner._model(link.target, path)
        return self.order_item(target, key, value, (*path, key), (*through, name))

    def cursor(self, info: ModelInfo, cursor: Any, path: Path) -> Shape:
        self.planner._check_unique_where(info, cursor, path)
        assert is_mapping(cursor)
        pairs: list[tuple[str, int]] = []
        for name, value in cursor.items():
            fields = info.compound_uniques.get(name)
            if fields is not None:
                if not is_mapping(value):
                    raise ValidationError(
                        "expected an object of the compound key's fields", (*path, name)
                    )
                for part in fields:
                    if part not in value:
                        raise ValidationError(f"missing `{part}`", (*path, name))
                    pairs.append((part, self.value(info, part, value[part], (*path, name, part))))
            elif name in info.scalars:
                if is_mapping(value):
                    raise ValidationError("a cursor gives plain values", (*path, name))
                pairs.append((name, self.value(info, name, value, (*path, name))))
            else:
                raise ValidationError(unknown_field(info, name), (*path, name))
        return tuple(sorted(pairs, key=lambda pair: info.position[pair[0]]))

    def distinct(self, info: ModelInfo, distinct: Any, path: Path) -> tuple[str, ...]:
        if distinct is None:
            return ()
        names = [distinct] if isinstance(distinct, str) else distinct
        if not isinstance(names, list) or not names:
            raise ValidationError("`distinct` takes a field name or a list of them", path)
        for index, name in enumerate(names):
            if name not in info.scalars:
                raise ValidationError(unknown_field(info, str(name)), (*path, index))
        return tuple(names)

    # -- aggregates ------------------------------------------------------------------

    def aggregates(self, info: ModelInfo, args: Mapping[str, Any], path: Path) -> Shape:
        """``_count``/``_sum``/``_avg``/``_min``/``_max`` -> ((operation, field), ...)."""
        result: list[tuple[str, str]] = []
        for op in _AGGREGATES:
            spec = args.get(op)
            if spec is None or spec is False:
                continue
            op_path = (*path, op)
            if op == "_count" and spec is True:
                result.append(("_count", "*"))  # `_count: true`: the number itself, not an object
                continue
            if not is_mapping(spec):
                raise ValidationError(f"`{op}` takes an object of field names", op_path)
            for name, flag in spec.items():
                if flag is not True:
                    if flag is False:
                        continue
                    raise ValidationError("expected `true`", (*op_path, name))
                if op == "_count" and name == "_all":
                    result.append((op, "_all"))
                    continue
                field = info.scalars.get(name)
                if field is None:
                    raise ValidationError(unknown_field(info, name), (*op_path, name))
                if op in ("_sum", "_avg") and field.type not in _NUMERIC:
                    raise ValidationError(
                        f"`{op}` applies to number fields; `{name}` is {field.type}",
                        (*op_path, name),
                    )
                if op in ("_min", "_max") and (field.is_list or field.type in ("Json", "Bytes")):
                    raise ValidationError(f"`{op}` does not apply to `{name}`", (*op_path, name))
                result.append((op, name))
        return tuple(result)

    def having(self, info: ModelInfo, by: tuple[str, ...], having: Any, path: Path) -> Shape | None:
        """``having``: filters on grouped fields, and on aggregates ``{views: {_avg: {gt: 10}}}``."""
        if having is None:
            return None
        if not is_mapping(having):
            raise ValidationError("`having` takes an object", path)
        conds: list[Shape] = []
        for name, value in having.items():
            item_path = (*path, name)
            if name in ("AND", "OR", "NOT"):
                items = value if isinstance(value, list) else [value]
                inner = [
                    self.having(info, by, item, (*item_path, i)) or ("true",)
                    for i, item in enumerate(items)
                ]
                if name == "AND":
                    conds.append(all_of(inner) or ("true",))
                elif name == "OR":
                    conds.append(("or", tuple(inner)))
                else:
                    conds.append(all_of([("not", c) for c in inner]) or ("true",))
                continue
            if name not in info.scalars:
                raise ValidationError(unknown_field(info, name), item_path)
            if is_mapping(value) and value and set(value) <= set(_AGGREGATES):
                for op, filters in value.items():
                    op_path = (*item_path, op)
                    if op in ("_count", "_avg"):
                        # A count is an Int and an average a Float (Decimal for a Decimal
                        # field) whatever the field's own type, as Prisma types them.
                        kind = (
                            "Int"
                            if op == "_count"
                            else "Decimal"
                            if info.scalars[name].type == "Decimal"
                            else "Float"
                        )
                        filters = _aggregate_operands(kind, filters, op_path)
                    cond = self.scalar_filter(info, name, filters, op_path)
                    conds.append(("agg", op, cond))
            else:
                if name not in by:
                    raise ValidationError(
                        f"`{name}` is not grouped by; filter it through an aggregate, e.g. "
                        f"{{{name}: {{_max: {{...}}}}}}",
                        item_path,
                    )
                conds.append(self.scalar_filter(info, name, value, item_path))
        return all_of(conds)

    def group_order(self, info: ModelInfo, by: tuple[str, ...], order: Any, path: Path) -> Shape:
        if order is None:
            return ()
        entries = order if isinstance(order, list) else [order]
        result: list[Shape] = []
        for index, entry in enumerate(entries):
            where = (*path, index) if isinstance(order, list) else path
            if not is_mapping(entry) or len(entry) != 1:
                raise ValidationError("each orderBy entry is an object with one key", where)
            ((name, spec),) = entry.items()
            if name in _AGGREGATES:
                if not is_mapping(spec) or len(spec) != 1:
                    raise ValidationError(
                        f"order by `{name}` of one field, e.g. {{{name}: {{views: 'desc'}}}}",
                        (*where, name),
                    )
                ((field, direction),) = spec.items()
                if field != "_all" and field not in info.scalars:
                    raise ValidationError(unknown_field(info, field), (*where, name, field))
                desc, nulls = _direction(direction, (*where, name, field))
                result.append(("a", name, field, desc, nulls))
            elif name in info.scalars:
                if name not in by:
                    raise ValidationError(
                        f"`{name}` is not grouped by, so it cannot order the groups", (*where, name)
                    )
                desc, nulls = _direction(spec, (*where, name))
                result.append(("f", name, desc, nulls))
            else:
                raise ValidationError(unknown_field(info, name), (*where, name))
        return tuple(result)

    # -- filters ---------------------------------------------------------------------


_AGGREGATE_FILTER_OPS = frozenset(("equals", "not", "in", "notIn", "lt", "lte", "gt", "gte"))


def _aggregate_operands(kind: str, filters: Any, path: Path) -> Any:
    """A ``having`` filter on a count (``kind`` "Int") or an average (the field's type) with
    its values checked and put in database form, since the field's own codec does not apply."""

    def number(value: Any, where: Path) -> DbValue:
        if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
            expected = "an integer" if kind == "Int" else "a number"
            raise ValidationError(f"expected {expected}, got {type(value).__name__}", where)
        if kind == "Int":
            if not isinstance(value, int):
                raise ValidationError("a count is compared with an integer", where)
            return DbValue(value)
        if kind == "Decimal":
            return DbValue(decimal.Decimal(str(value)))
        return DbValue(float(value))

    if not is_mapping(filters):
        return None if filters is None else number(filters, path)
    result: dict[str, Any] = {}
    for op, operand in filters.items():
        where = (*path, op)
        if op not in _AGGREGATE_FILTER_OPS:
            raise ValidationError(
                f"unknown filter `{op}` on an aggregate; expected one of "
                + ", ".join(sorted(_AGGREGATE_FILTER_OPS)),
                where,
            )
        if op in ("in", "notIn"):
            if not isinstance(operand, list):
                raise ValidationError(f"`{op}` takes a list", where)
            result[op] = [number(v, (*where, i)) for i, v in enumerate(operand)]
        elif op == "not":
            result[op] = _aggregate_operands(kind, operand, where)
        else:
            result[op] = None if operand is None else number(operand, where)
    return result


def _one(_: Any) -> int:
    return 1


def _count(value: Any, path: Path) -> int:
    count = integer(value, path)
    if count < 0:
        raise ValidationError("`skip` cannot be negative", path)
    return count


def _signature(value: Any) -> Any:
    """The structure of a document without its values: equal signatures plan alike.

    Dict keys (in order), list lengths, ``None``, booleans and the sign of numbers are
    structure; other values only count by their type.
    """
    kind = type(value)
    if kind is dict:
        # Leaves are handled in place: this runs on every read, and calls are the cost.
        out: list[tuple[Any, Any]] = []
        for key, item in value.items():
            item_kind = type(item)
            if item_kind is int or item_kind is float:
                out.append((key, "-" if item < 0 else "+"))
            elif item_kind is str:
                out.append((key, str))
            elif item is None or item_kind is bool:
                out.append((key, item))
            else:
                out.append((key, _signature(item)))
        return tuple(out)
    if kind is list:
        return ("[", tuple([_signature(item) for item in value]))
    if value is None or kind is bool:
        return value
    if kind is int or kind is float:
        return "-" if value < 0 else "+"
    if is_mapping(value):
        return _signature(dict(value))
    return kind


def _string_paths(value: Any, path: Path) -> list[Path]:
    """The paths of every string leaf of a document."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _string_paths(item, (*path, key))]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _string_paths(item, (*path, i))]
    return []


def _getter(path: Path | None, convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert`` of the value at ``path`` in a document, as one call (paths of one or two
    steps, the common ones, without a loop)."""
    if path is None:
        return lambda _document: convert(None)
    if len(path) == 1:
        (a,) = path
        return lambda document: convert(document[a])
    if len(path) == 2:
        a, b = path
        return lambda document: convert(document[a][b])
    if len(path) == 3:
        a, b, c = path
        return lambda document: convert(document[a][b][c])
    return lambda document: convert(_dig(document, path))


def _dig(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


def _direction(spec: Any, path: Path) -> tuple[bool, str | None]:
    if spec in ("asc", "desc"):
        return spec == "desc", None
    if (
        is_mapping(spec)
        and spec.get("sort") in ("asc", "desc")
        and set(spec)
        <= {
            "sort",
            "nulls",
        }
    ):
        nulls = spec.get("nulls")
        if nulls not in (None, "first", "last"):
            raise ValidationError("`nulls` is 'first' or 'last'", (*path, "nulls"))
        return spec["sort"] == "desc", nulls
    raise ValidationError(
        "expected 'asc', 'desc' or {sort: 'asc'|'desc', nulls: 'first'|'last'}", path
    )
