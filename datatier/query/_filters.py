"""Filters: the ``where`` part of a query document (scalar, list, Json and relation filters)
turned into condition shapes and parameters. A mixin of the planner's walk."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from datatier.errors import ValidationError
from datatier.query._document import (
    DbValue,
    Path,
    Shape,
    Source,
    all_of,
    is_mapping,
    json_text,
    unknown_field,
)
from datatier.query._model_info import ModelInfo
from datatier.schema._ir import Field

if TYPE_CHECKING:
    from datatier.query._plan import Planner

__all__ = ["Filters"]

_SCALAR_OPS = frozenset(
    (
        "equals",
        "not",
        "in",
        "notIn",
        "lt",
        "lte",
        "gt",
        "gte",
        "contains",
        "startsWith",
        "endsWith",
        "search",
    )
)
_TEXT_OPS = frozenset(("contains", "startsWith", "endsWith"))
_RANGE_OPS = frozenset(("lt", "lte", "gt", "gte"))
_LIST_OPS = frozenset(("has", "hasSome", "hasEvery", "isEmpty", "equals"))
_TO_MANY = frozenset(("some", "every", "none"))
_TO_ONE = frozenset(("is", "isNot"))
_JSON_OPS = frozenset(
    (
        "path",
        "mode",
        "equals",
        "not",
        "string_contains",
        "string_starts_with",
        "string_ends_with",
        "array_contains",
        "array_starts_with",
        "array_ends_with",
        "lt",
        "lte",
        "gt",
        "gte",
    )
)


class Filters:
    """Filter methods of a walk; the walk supplies ``planner`` and ``slot``."""

    planner: Planner

    def slot(self, value: Any, source: Source | None = None) -> int:
        raise NotImplementedError

    def where(
        self, info: ModelInfo, where: Any, path: Path, *, in_list: bool = False
    ) -> Shape | None:
        if where is None:
            return None
        if not is_mapping(where):
            raise ValidationError("`where` takes an object", path)
        conditions: list[Shape] = []
        for name, value in where.items():
            where_path = (*path, name)
            if name in ("AND", "OR", "NOT"):
                if in_list and name == "OR" and value == []:
                    # Prisma drops an empty OR inside an AND or OR item; at the top of a
                    # `where` (and under NOT) it is false.
                    continue
                cond = self.logical(info, name, value, where_path)
                if cond is not None:
                    conditions.append(cond)
            elif name in info.compound_uniques:
                if not is_mapping(value):
                    raise ValidationError(
                        "expected an object of the compound key's fields", where_path
                    )
                for part in info.compound_uniques[name]:
                    if part not in value:
                        raise ValidationError(f"missing `{part}`", where_path)
                    conditions.append(
                        self.scalar_filter(info, part, value[part], (*where_path, part))
                    )
            elif name in info.scalars:
                conditions.append(self.scalar_filter(info, name, value, where_path))
            elif name in info.relations:
                conditions.append(self.relation_filter(info, name, value, where_path))
            else:
                raise ValidationError(unknown_field(info, name), where_path)
        return all_of(conditions)

    def logical(self, info: ModelInfo, op: str, value: Any, path: Path) -> Shape | None:
        items = value if isinstance(value, list) else [value]
        if op == "OR" and not isinstance(value, list):
            raise ValidationError("`OR` takes a list of conditions", path)
        conds = []
        for index, item in enumerate(items):
            item_path = (*path, index) if isinstance(value, list) else path
            cond = self.where(info, item, item_path, in_list=op != "NOT")
            if cond is not None:  # an empty filter says nothing and is left out, as in Prisma
                conds.append(cond)
        if op == "AND":
            return all_of(conds)
        if op == "OR":
            return ("or", tuple(conds)) if conds else ("false",)
        return all_of([("not", c) for c in conds])

    def relation_filter(self, info: ModelInfo, name: str, value: Any, path: Path) -> Shape:
        link = info.relations[name]
        target = self.planner._model(link.target, path)
        if link.is_list:
            if not is_mapping(value) or not value or set(value) - _TO_MANY:
                raise ValidationError(
                    "filter a to-many relation with `some`, `every` or `none`", path
                )
            conds = [
                ("rel", name, kind, self.where(target, value[kind], (*path, kind)))
                for kind in ("some", "every", "none")
                if kind in value
            ]
            return all_of(conds) or ("true",)
        if value is None:
            return ("rel", name, "isNot", None)
        if not is_mapping(value):
            raise ValidationError("filter a to-one relation with an object or `null`", path)
        if value and set(value) <= _TO_ONE:
            conds = []
            for kind in ("is", "isNot"):
                if kind not in value:
                    continue
                inner = value[kind]
                if inner is None:
                    # is: null -> no related record; isNot: null -> a related record exists
                    conds.append(("rel", name, "isNot" if kind == "is" else "is", None))
                else:
                    conds.append(("rel", name, kind, self.where(target, inner, (*path, kind))))
            return all_of(conds) or ("true",)
        return ("rel", name, "is", self.where(target, value, path))

    def scalar_filter(self, info: ModelInfo, name: str, value: Any, path: Path) -> Shape:
        field = info.scalars[name]
        if field.is_list:
            return self.list_filter(info, field, value, path)
        if field.type == "Json" and field.kind == "scalar":
            return self.json_filter(info, field, value, path)
        if not is_mapping(value):
            return self.equals(info, name, value, path, negate=False)
        if not value:
            return ("true",)
        insensitive = False
        if "mode" in value:
            mode = value["mode"]
            if mode not in ("default", "insensitive"):
                raise ValidationError("`mode` is 'default' or 'insensitive'", (*path, "mode"))
            insensitive = mode == "insensitive"
            if insensitive and not self.planner.style.supports_insensitive:
                raise ValidationError(
                    "`mode: 'insensitive'` is not available on this database "
                    "(SQLite's LIKE already ignores ASCII case)",
                    (*path, "mode"),
                )
            if insensitive and field.type != "String":
                raise ValidationError("`mode` applies to String fields", (*path, "mode"))
        conds: list[Shape] = []
        for op, operand in value.items():
            op_path = (*path, op)
            if op == "mode":
                continue
            if op not in _SCALAR_OPS:
                raise ValidationError(
                    f"unknown filter `{op}` for {field.type} field `{name}`; expected one of "
                    + ", ".join(sorted(_SCALAR_OPS | {"mode"})),
                    op_path,
                )
            if op == "equals":
                conds.append(
                    self.equals(info, name, operand, op_path, negate=False, insensitive=insensitive)
                )
            elif op == "not":
                if is_mapping(operand):
                    # Prisma negates each condition on its own: not: {lt: a, gt: b} is
                    # "not below a and not above b", not "outside (a, b)".
                    mode = {"mode": value["mode"]} if "mode" in value else {}
                    for inner_op, inner_value in operand.items():
                        if inner_op == "mode":
                            continue
                        inner = self.scalar_filter(
                            info, name, {inner_op: inner_value, **mode}, op_path
                        )
                        # Prisma reads a chain of nots that ends in a value (not: {not: {not:
                        # <value>}}, at any depth) as not: <value>; a chain that ends in
                        # filters (not: {not: {gt: 1}}) negates at every level, as logic says.
                        plain_not = inner_op == "not" and _ends_in_value(inner_value)
                        conds.append(inner if plain_not else ("not", inner))
                else:
                    conds.append(
                        self.equals(
                            info, name, operand, op_path, negate=True, insensitive=insensitive
                        )
                    )
            elif op in ("in", "notIn"):
                in_list = self._in_list(info, name, op, op_path)
                slot = self.slot(in_list(operand), (op_path, in_list))
                conds.append(("cmp", name, op, insensitive, slot))
            elif op == "search":
                if field.type != "String" or not isinstance(operand, str):
                    raise ValidationError(
                        "`search` takes a string and applies to String fields", op_path
                    )
                if not self.planner.style.supports_search:
                    raise ValidationError(
                        "full-text `search` is available on PostgreSQL; use `contains` here",
                        op_path,
                    )
                conds.append(("cmp", name, "search", False, self.slot(operand)))
            elif op in _TEXT_OPS:
                if field.type != "String":
                    raise ValidationError(f"`{op}` applies to String fields", op_path)
                pattern = self._pattern(op, op_path)
                conds.append(
                    ("cmp", name, op, insensitive, self.slot(pattern(operand), (op_path, pattern)))
                )
            else:
                if operand is None:
                    raise ValidationError(f"`{op}` cannot compare with null", op_path)
                convert = self._converter(info, name, op_path)
                conds.append(
                    ("cmp", name, op, insensitive, self.slot(convert(operand), (op_path, convert)))
                )
        return all_of(conds) or ("true",)

    def json_filter(self, info: ModelInfo, field: Field, value: Any, path: Path) -> Shape:
        """Json fields: ``equals``/``not`` (whole value or at ``path``), string and array tests, ranges.

        Shape: ``("json", field, has_path, op, path_slot, value_slot)``; ``path`` is a list of
        keys and array indexes, bound as one parameter.
        """
        from datatier.query._codecs import DbNull, JsonNull

        if not is_mapping(value) or not value:
            raise ValidationError("filter a Json field with an object, e.g. {equals: {...}}", path)
        unknown = set(value) - _JSON_OPS
        if unknown:
            op = sorted(unknown)[0]
            raise ValidationError(
                f"unknown Json filter `{op}`; expected one of {', '.join(sorted(_JSON_OPS))}",
                (*path, op),
            )
        unavailable = set(value) & self.planner.style.json_filters_unavailable
        if unavailable:
            op = sorted(unavailable)[0]
            raise ValidationError(
                f"the Json filter `{op}` is not available on this database", (*path, op)
            )
        json_path = value.get("path")
        if json_path is not None:
            problem = self.planner.style.json_path_problem(json_path)
            if problem is not None:
                raise ValidationError(problem, (*path, "path"))
        style = self.planner.style
        mode = value.get("mode", "default")
        if mode not in ("default", "insensitive"):
            raise ValidationError("`mode` is 'default' or 'insensitive'", (*path, "mode"))
        insensitive = mode == "insensitive"
        if insensitive and not style.json_insensitive_equals and ({"equals", "not"} & set(value)):
            raise ValidationError(
                "`mode: 'insensitive'` with `equals`/`not` on a Json value is not available on "
                "this database; use string_contains, string_starts_with or string_ends_with",
                (*path, "mode"),
            )
        conds: list[Shape] = []
        for op, operand in value.items():
            if op in ("path", "mode"):
                continue
            op_path = (*path, op)
            suffix = {"array_starts_with": "first", "array_ends_with": "last"}.get(op)
            path_slot = (
                self.slot(style.json_path(json_path, suffix))
                if json_path is not None or suffix is not None
                else None
            )
            if op in ("equals", "not"):
                if operand is None or operand is DbNull:
                    if json_path is not None:
                        raise ValidationError(
                            "use JsonNull to compare a value inside the document", op_path
                        )
                    conds.append(("null", field.name, op == "equals"))
                    continue
                text = "null" if operand is JsonNull else json_text(operand, op_path)
                conds.append(("json", field.name, op, path_slot, self.slot(text), insensitive))
            elif op.startswith("string_"):
                if not isinstance(operand, str):
                    raise ValidationError(f"`{op}` takes a string", op_path)
                kind = {
                    "string_contains": "contains",
                    "string_starts_with": "startsWith",
                    "string_ends_with": "endsWith",
                }[op]
                conds.append(
                    (
                        "json",
                        field.name,
                        op,
                        path_slot,
                        self.slot(style.like_pattern(kind, operand)),
                        insensitive,
                    )
                )
            elif op.startswith("array_"):
                text = json_text(operand, op_path)
                conds.append(("json", field.name, op, path_slot, self.slot(text), False))
            else:
                if isinstance(operand, bool) or not isinstance(operand, int | float):
                    raise ValidationError(f"`{op}` on a Json value takes a number", op_path)
                conds.append(("json", field.name, op, path_slot, self.slot(operand), False))
        return all_of(conds) or ("true",)

    def equals(
        self,
        info: ModelInfo,
        name: str,
        value: Any,
        path: Path,
        *,
        negate: bool,
        insensitive: bool = False,
    ) -> Shape:
        if value is None:
            return ("null", name, not negate)
        op = "not" if negate else "equals"
        convert = self._converter(info, name, path)
        return ("cmp", name, op, insensitive, self.slot(convert(value), (path, convert)))

    def list_filter(self, info: ModelInfo, field: Field, value: Any, path: Path) -> Shape:
        if not is_mapping(value) or not value:
            raise ValidationError(
                "filter a list field with has, hasSome, hasEvery, isEmpty or equals", path
            )
        conds: list[Shape] = []
        for op, operand in value.items():
            op_path = (*path, op)
            if op not in _LIST_OPS:
                raise ValidationError(
                    f"unknown list filter `{op}`; expected one of " + ", ".join(sorted(_LIST_OPS)),
                    op_path,
                )
            if op == "isEmpty":
                if not isinstance(operand, bool):
                    raise ValidationError("`isEmpty` takes true or false", op_path)
                conds.append(("list", field.name, "isEmpty" if operand else "isNotEmpty", None))
            elif op == "has":
                if operand is None:
                    raise ValidationError("`has` takes a value", op_path)
                item = self.convert_item(info, field.name, operand, op_path)
                conds.append(("list", field.name, "has", self.slot(item)))
            elif op == "equals" and operand is None:
                conds.append(("null", field.name, True))
            else:
                if not isinstance(operand, list):
                    raise ValidationError(f"`{op}` takes a list", op_path)
                items = [
                    self.convert_item(info, field.name, v, (*op_path, i))
                    for i, v in enumerate(operand)
                ]
                conds.append(
                    ("list", field.name, op, self.slot(self.planner.style.list_param(items)))
                )
        return all_of(conds) or ("true",)

    # -- values ----------------------------------------------------------------------

    def convert(self, info: ModelInfo, name: str, value: Any, path: Path) -> Any:
        return _field_value(self.planner.codec(info.name, name).to_db, value, path)

    def convert_item(self, info: ModelInfo, name: str, value: Any, path: Path) -> Any:
        """One element of a scalar list field (the codec converts whole lists)."""
        converted = self.convert(info, name, [value], path)
        return converted[0] if isinstance(converted, list) else converted

    def value(self, info: ModelInfo, name: str, value: Any, path: Path) -> int:
        convert = self._converter(info, name, path)
        return self.slot(convert(value), (path, convert))

    def _converter(self, info: ModelInfo, name: str, path: Path) -> Callable[[Any], Any]:
        # Resolved once per plan: a cached plan converts each value with one call.
        field_to_db = self.planner.codec(info.name, name).to_db

        def to_db(value: Any) -> Any:
            if value is None:
                raise ValidationError("expected a value, not null", path)
            return _field_value(field_to_db, value, path)

        return to_db

    def _in_list(self, info: ModelInfo, name: str, op: str, path: Path) -> Callable[[Any], Any]:
        convert = self.convert
        list_param = self.planner.style.list_param

        def to_db(values: Any) -> Any:
            if not isinstance(values, list):
                raise ValidationError(f"`{op}` takes a list", path)
            return list_param([convert(info, name, v, (*path, i)) for i, v in enumerate(values)])

        return to_db

    def _pattern(self, op: str, path: Path) -> Callable[[Any], Any]:
        like_pattern = self.planner.style.like_pattern

        def to_db(text: Any) -> Any:
            if not isinstance(text, str):
                raise ValidationError(f"`{op}` takes a string", path)
            return like_pattern(op, text)

        return to_db


def _field_value(to_db: Callable[[Any], Any], value: Any, path: Path) -> Any:
    """``value`` in database form by its field's ``to_db`` (a ``DbValue`` already is), with a
    conversion error placed at ``path``."""
    if type(value) is DbValue:
        return value.value
    try:
        return to_db(value)
    except ValidationError as error:
        raise ValidationError(error.message, path) from None


def _ends_in_value(operand: Any) -> bool:
    """Whether ``operand`` is a value, or ``{not: ...}`` objects nested around one."""
    while is_mapping(operand) and set(operand) - {"mode"} == {"not"}:
        operand = operand["not"]
    return not is_mapping(operand)
