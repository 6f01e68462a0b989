"""Random Prisma query documents on the blog schema, from a seeded ``random.Random``.

Every document is valid for Prisma Client and deterministic in what it returns: a ``take``,
``skip``, ``cursor``, ``distinct`` or ``findFirst`` always comes with a total ``orderBy`` (one
ending in a unique field), and ``Document.ordered`` says whether the result's order is defined,
so that a result without a total order is compared as a multiset.

Each document records the ``features`` it uses (``"where.some"``, ``"orderBy.nulls"``, ...):
a mismatch report names them, and a feature known to differ can be left out of the run.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from datatier.schema import Field, Schema
from tests.differential.blog import DATASET, UNIQUE, column_values

__all__ = ["Document", "DocumentGenerator", "group_order_total", "ordered_by_unique"]

_NUMERIC = ("Int", "BigInt", "Float", "Decimal")
_RANGE_OPS = ("lt", "lte", "gt", "gte")


@dataclass(frozen=True, slots=True)
class Document:
    """One Prisma Client call: ``model`` (a model name), ``op`` (Prisma's name), its ``args``."""

    model: str
    op: str
    args: dict[str, Any]
    features: frozenset[str]

    def call(self) -> dict[str, Any]:
        """The ops.mjs line."""
        return {"model": self.model[0].lower() + self.model[1:], "op": self.op, "args": self.args}


def ordered_by_unique(model: str, order: Any) -> bool:
    """Whether ``order`` (an orderBy value) sorts the rows of ``model`` totally."""
    entries = order if isinstance(order, list) else [order] if order else []
    return any(len(e) == 1 and next(iter(e)) in UNIQUE[model] for e in entries)


class DocumentGenerator:
    """``document()`` makes one random document; ``excluded`` features are never generated."""

    def __init__(
        self, rng: random.Random, schema: Schema, provider: str, excluded: Collection[str] = ()
    ) -> None:
        self.rng = rng
        self.schema = schema
        self.provider = provider
        self.excluded = frozenset(excluded)
        self._features: set[str] = set()

    # -- plumbing ----------------------------------------------------------------------------

    def allow(self, feature: str, probability: float = 1.0) -> bool:
        """Use ``feature`` with ``probability``, unless it is excluded; records it when used."""
        if feature in self.excluded or self.rng.random() >= probability:
            return False
        self._features.add(feature)
        return True

    def document(self) -> Document:
        self._features = set()
        kind = self.rng.choices(
            ["findMany", "findFirst", "findUnique", "count", "aggregate", "groupBy"],
            weights=[40, 10, 10, 12, 14, 14],
        )[0]
        model = self.rng.choice(list(DATASET))
        make: dict[str, Callable[[str], dict[str, Any]]] = {
            "findMany": self.find_many,
            "findFirst": self.find_first,
            "findUnique": self.find_unique,
            "count": self.count,
            "aggregate": self.aggregate,
            "groupBy": self.group_by,
        }
        if kind == "groupBy" and model in ("Tag",):
            model = "Post"
        args = make[kind](model)
        return Document(model, kind, args, frozenset({kind, *self._features}))

    def scalars(self, model: str) -> list[Field]:
        return [f for f in self.schema.model(model).scalar_fields]

    def relations(self, model: str) -> list[Field]:
        return list(self.schema.model(model).relation_fields)

    def has_lists(self, model: str) -> bool:
        return any(r.is_list for r in self.relations(model))

    def pick(self, items: list[Any], low: int = 1, high: int = 3) -> list[Any]:
        return self.rng.sample(items, min(len(items), self.rng.randint(low, high)))

    # -- values ------------------------------------------------------------------------------

    def value(self, model: str, field: Field) -> Any:
        """A value for a filter on ``field``: mostly one the dataset holds, sometimes another."""
        held = [v for v in column_values(model, field.name) if v is not None]
        if field.kind == "enum":
            return self.rng.choice([v.name for v in self.schema.enum(field.type).values])
        if not held or self.rng.random() < 0.15:
            return self.other_value(field)
        value = self.rng.choice(held)
        if field.type == "DateTime" and self.rng.random() < 0.3:
            moved = datetime.fromisoformat(value) + timedelta(minutes=self.rng.choice([-1, 1]))
            return moved.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return value

    def other_value(self, field: Field) -> Any:
        if field.type == "String":
            return self.rng.choice(["", "zzz", "A", "m", "u05", "Hello", "%", "_", "nonexistent"])
        if field.type == "Int":
            return self.rng.choice([-1, 0, 2, 5, 11, 24, 50, 10_000])
        if field.type == "DateTime":
            return self.rng.choice(
                ["2023-12-31T23:59:59.999Z", "2024-01-10T00:00:00.000Z", "2030-01-01T00:00:00.000Z"]
            )
        return None

    def fragment(self, model: str, field: Field) -> str:
        """A piece of a string the dataset holds (for contains/startsWith/endsWith)."""
        text = str(self.value(model, field))
        if not text or self.rng.random() < 0.2:
            return self.rng.choice(["%", "_", "sql", "SQL", "o", "é", "'", ""])
        start = self.rng.randrange(len(text))
        end = self.rng.randint(start + 1, min(len(text), start + 6))
        return text[start:end]

    def like_pattern(self, model: str, field: Field) -> str:
        """A fragment; one holding ``%`` or ``_`` only when ``where.like-wildcard`` is allowed."""
        for _ in range(20):
            text = self.fragment(model, field)
            if not ("%" in text or "_" in text) or self.allow("where.like-wildcard"):
                return text
        return "o"

    # -- where -------------------------------------------------------------------------------

    def where(self, model: str, depth: int = 0, negated: bool = False) -> dict[str, Any]:
        """A filter on ``model``; ``negated``: it sits under an odd number of NOT/isNot."""
        out: dict[str, Any] = {}
        for _ in range(self.rng.choice([1, 1, 1, 2, 3])):
            roll = self.rng.random()
            if depth < 2 and roll < 0.15 and self.allow("where.combinator"):
                key = self.rng.choice(["AND", "OR", "NOT"])
                self._features.add(f"where.{key}")
                low = 0 if depth == 0 or self.allow("where.empty-combinator-nested", 0.3) else 1
                flip = negated != (key == "NOT")
                subs = [self.where(model, depth + 1, flip) for _ in range(self.rng.randint(low, 3))]
                out[key] = (
                    subs[0] if key != "OR" and len(subs) == 1 and self.rng.random() < 0.5 else subs
                )
            elif depth < 2 and roll < 0.4:
                relation = self.rng.choice(self.relations(model))
                out[relation.name] = self.relation_filter(relation, depth, negated)
            else:
                fields = [
                    f
                    for f in self.scalars(model)
                    if f.type != "Json" or self.allow("where.json", 0.5)
                ]
                field = self.rng.choice(fields)
                out[field.name] = self.scalar_filter(model, field)
        return out

    def relation_filter(self, relation: Field, depth: int, negated: bool) -> Any:
        target = relation.type
        if relation.is_list:
            quantifier = self.rng.choice(["some", "every", "none"])
            self._features.add(f"where.{quantifier}")
            empty = self.rng.random() < 0.15 and (
                quantifier != "every" or self.allow("where.every.empty")
            )
            # every: no related row fails the filter, a negation of what is inside.
            flip = negated != (quantifier == "every")
            return {quantifier: {} if empty else self.where(target, depth + 1, flip)}
        if not relation.is_required and self.rng.random() < 0.25:
            self._features.add("where.relation-null")
            return self.rng.choice([None, {"is": None}, {"isNot": None}])
        form = self.rng.choice(["is", "isNot", "bare"])
        self._features.add(f"where.{form}")
        flip = negated != (form == "isNot")
        for _ in range(20):
            inner = self.where(target, depth + 1, flip)
            # Negated, a test on a column that may be NULL is where the two differ.
            if not (flip and self.may_be_null(target, inner)) or self.allow(
                "where.to-one.negated-null"
            ):
                break
        else:
            inner = {
                UNIQUE[target][0]: self.value(
                    target, self.schema.model(target).field(UNIQUE[target][0])
                )
            }
        return inner if form == "bare" else {form: inner}

    def may_be_null(self, model: str, where: dict[str, Any]) -> bool:
        """Whether ``where`` tests an optional column or a relation of ``model`` (not through lists)."""
        info = self.schema.model(model)
        for key, value in where.items():
            if key in ("AND", "OR", "NOT"):
                subs = value if isinstance(value, list) else [value]
                if any(self.may_be_null(model, sub) for sub in subs):
                    return True
            elif info.field(key).is_relation or not info.field(key).is_required:
                return True
        return False

    def scalar_filter(self, model: str, field: Field) -> Any:
        if field.type == "Json":
            return self.json_filter(model, field)
        if not field.is_required and self.rng.random() < 0.2:
            self._features.add("where.null")
            return self.rng.choice([None, {"equals": None}, {"not": None}])
        ops = ["equals", "not", "in", "notIn", "bare"]
        if field.kind != "enum":
            ops += list(_RANGE_OPS)
        if field.type == "String":
            ops += ["contains", "startsWith", "endsWith"] * 2
        op = self.rng.choice(ops)
        self._features.add(f"where.{op}")
        if op == "bare":
            return self.value(model, field)
        if op in ("in", "notIn"):
            return {op: [self.value(model, field) for _ in range(self.rng.randint(0, 3))]}
        if op == "not" and self.rng.random() < 0.4:
            inner = self.scalar_filter(model, field)
            if (
                isinstance(inner, dict)
                and inner
                and "mode" not in inner
                and ("not" not in inner or self.allow("where.not.not"))
                and (len(inner) == 1 or self.allow("where.not.several"))
            ):
                return {"not": inner}
        value = (
            self.like_pattern(model, field)
            if op in ("contains", "startsWith", "endsWith")
            else self.value(model, field)
        )
        out: dict[str, Any] = {op: value}
        wildcard = isinstance(value, str) and ("%" in value or "_" in value)
        # Prisma matches insensitive equality with ILIKE: a % or _ in the value is a wildcard.
        if (
            field.type == "String"
            and self.provider == "postgresql"
            and self.allow("where.mode", 0.25)
            and (not wildcard or self.allow("where.like-wildcard"))
        ):
            out["mode"] = "insensitive"
        if op in _RANGE_OPS and self.rng.random() < 0.3:
            other = self.rng.choice([o for o in _RANGE_OPS if o != op])
            out[other] = self.value(model, field)
        return out

    def json_filter(self, model: str, field: Field) -> Any:
        held = [v for v in column_values(model, field.name) if v is not None]
        kind = self.rng.choice(["equals", "path", "not"])
        if kind == "path" and not self.allow("where.json.path"):
            kind = "equals"
        if kind == "equals":
            return {"equals": self.rng.choice([*held, {"theme": "dark"}])}
        if kind == "not":
            return {"not": self.rng.choice(held)}
        key = self.rng.choice(["theme", "n", "tags", "nested", "missing"])
        path: Any = [key] if self.provider == "postgresql" else f"$.{key}"
        tests: list[dict[str, Any]] = [
            {"equals": self.rng.choice(["dark", "light", 3, 10])},
            {"string_contains": "ar"},
            {"string_starts_with": "l"},
            {"array_contains": ["a"]},
            {"gt": 4},
        ]
        return {"path": path, **self.rng.choice(tests)}

    # -- order and pages ---------------------------------------------------------------------

    def order_by(self, model: str, total: bool) -> list[dict[str, Any]] | dict[str, Any]:
        entries: list[dict[str, Any]] = []
        for _ in range(self.rng.randint(0 if total else 1, 2)):
            roll = self.rng.random()
            direction = self.rng.choice(["asc", "desc"])
            if roll < 0.2 and self.allow("orderBy.relation"):
                relation = self.rng.choice(self.relations(model))
                if relation.is_list:
                    self._features.add("orderBy._count")
                    entries.append({relation.name: {"_count": direction}})
                else:
                    scalar = self.rng.choice(
                        [f for f in self.scalars(relation.type) if f.type != "Json"]
                    )
                    entries.append({relation.name: {scalar.name: direction}})
                continue
            field = self.rng.choice([f for f in self.scalars(model) if f.type != "Json"])
            if not field.is_required and self.allow("orderBy.nulls", 0.4):
                entries.append(
                    {field.name: {"sort": direction, "nulls": self.rng.choice(["first", "last"])}}
                )
            else:
                entries.append({field.name: direction})
        if total and not ordered_by_unique(model, entries):
            entries.append({self.rng.choice(UNIQUE[model]): self.rng.choice(["asc", "desc"])})
        if len(entries) == 1 and self.rng.random() < 0.5:
            return entries[0]
        return entries

    def page(
        self, model: str, args: dict[str, Any], *, cursor: bool = True, aggregate: bool = False
    ) -> None:
        """Maybe add take/skip/cursor to ``args``, with a total orderBy when any is added.

        With a cursor, Prisma's count and aggregate take only an orderBy on a unique field.
        """
        if self.allow("take", 0.4):
            args["take"] = self.rng.choice([0, 1, 2, 3, 5, -1, -2, -4])
            self._features.add("take.negative" if args["take"] < 0 else "take")
        if self.allow("skip", 0.3):
            args["skip"] = self.rng.choice([0, 1, 2, 5, 30])
        if cursor and self.allow("cursor", 0.15):
            key = UNIQUE[model][0]
            args["cursor"] = {key: self.rng.choice(column_values(model, key))}
            if aggregate:
                args["orderBy"] = {key: self.rng.choice(["asc", "desc"])}
            if args.get("take", 0) < 0 and not self.allow("cursor.take.negative"):
                args["take"] = -args["take"]
        if {"take", "skip", "cursor"} & args.keys() and not ordered_by_unique(
            model, args.get("orderBy")
        ):
            args["orderBy"] = self.order_by(model, total=True)
        if (
            "cursor" in args
            and self.nullable_order(model, args["orderBy"])
            and not self.allow("cursor.nullable-order")
        ):
            args["orderBy"] = {UNIQUE[model][0]: self.rng.choice(["asc", "desc"])}

    def nullable_order(self, model: str, order: Any) -> bool:
        """Whether ``order`` sorts by something that can be null (an optional field or relation)."""
        entries = order if isinstance(order, list) else [order]
        info = self.schema.model(model)
        return any(
            info.field(name).is_relation or not info.field(name).is_required
            for entry in entries
            for name in entry
        )

    # -- selection ---------------------------------------------------------------------------

    def selection(self, model: str, args: dict[str, Any], depth: int) -> None:
        roll = self.rng.random()
        if roll < 0.35 or depth > 2:
            return
        relations = self.relations(model)
        chosen = self.pick(relations, 1, 2)
        if roll < 0.65 and self.allow("include"):
            include: dict[str, Any] = {r.name: self.relation_args(r, depth) for r in chosen}
            if self.has_lists(model) and self.allow("_count", 0.3):
                include["_count"] = self.count_selection(model)
            args["include"] = include
        elif self.allow("select"):
            select: dict[str, Any] = {f.name: True for f in self.pick(self.scalars(model), 1, 4)}
            for r in chosen if self.rng.random() < 0.6 else []:
                select[r.name] = self.relation_args(r, depth)
            if self.has_lists(model) and self.allow("_count", 0.3):
                select["_count"] = self.count_selection(model)
            args["select"] = select

    def relation_args(self, relation: Field, depth: int) -> Any:
        if self.rng.random() < 0.3:
            return True
        nested: dict[str, Any] = {}
        if relation.is_list:
            if self.allow("nested.where", 0.5):
                nested["where"] = self.where(relation.type, 1)
            if self.allow("nested.orderBy", 0.5):
                nested["orderBy"] = self.order_by(relation.type, total=self.rng.random() < 0.7)
            if self.allow("nested.page", 0.3):
                self.page(relation.type, nested, cursor=False)
            if self.allow("nested.distinct", 0.05):
                nested["distinct"] = [self.rng.choice(self.scalars(relation.type)).name]
                nested["orderBy"] = self.order_by(relation.type, total=True)
        self.selection(relation.type, nested, depth + 1)
        return nested or True

    def count_selection(self, model: str) -> Any:
        lists = [r for r in self.relations(model) if r.is_list]
        if self.rng.random() < 0.3:
            return True
        select: dict[str, Any] = {}
        for r in self.pick(lists, 1, 2):
            if self.allow("_count.where", 0.3):
                select[r.name] = {"where": self.where(r.type, 1)}
            else:
                select[r.name] = True
        return {"select": select}

    # -- operations --------------------------------------------------------------------------

    def find_many(self, model: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.rng.random() < 0.75:
            args["where"] = self.where(model)
        if self.rng.random() < 0.5:
            args["orderBy"] = self.order_by(model, total=self.rng.random() < 0.6)
        self.page(model, args)
        if self.allow("distinct", 0.08):
            args["distinct"] = [
                f.name
                for f in self.pick([f for f in self.scalars(model) if f.type != "Json"], 1, 2)
            ]
            if not ordered_by_unique(model, args.get("orderBy")):
                args["orderBy"] = self.order_by(model, total=True)
            if "cursor" in args and not self.allow("distinct.cursor"):
                del args["cursor"]
        self.selection(model, args, 0)
        return args

    def find_first(self, model: str) -> dict[str, Any]:
        args = self.find_many(model)
        if "take" in args:  # findFirst takes only 1 or -1
            args["take"] = 1 if args["take"] >= 0 else -1
        if not ordered_by_unique(model, args.get("orderBy")):
            args["orderBy"] = self.order_by(model, total=True)
        return args

    def find_unique(self, model: str) -> dict[str, Any]:
        key = self.rng.choice(UNIQUE[model])
        field = self.schema.model(model).field(key)
        where: dict[str, Any] = {key: self.value(model, field)}
        if self.allow("unique.extra", 0.3):
            # The other top-level keys may not be unique fields (those take only a value).
            extra = self.where(model, 1)
            where.update({k: v for k, v in extra.items() if k not in UNIQUE[model]})
        args: dict[str, Any] = {"where": where}
        self.selection(model, args, 0)
        return args

    def count(self, model: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.rng.random() < 0.7:
            args["where"] = self.where(model)
        self.page(model, args, aggregate=True)
        if self.allow("count.select", 0.3):
            fields = self.pick(self.scalars(model), 1, 3)
            args["select"] = {"_all": True, **{f.name: True for f in fields}}
        return args

    def aggregates(self, model: str, args: dict[str, Any], *, grouped: bool) -> None:
        scalars = [f for f in self.scalars(model) if f.type != "Json"]
        numeric = [f for f in scalars if f.type in _NUMERIC]
        if self.rng.random() < 0.5:
            fields = self.pick(scalars, 1, 2)
            per_field: dict[str, Any] = {f.name: True for f in fields}
            if self.rng.random() < 0.5:
                per_field["_all"] = True
            args["_count"] = True if self.rng.random() < 0.3 else per_field
        for kind in ("_sum", "_avg"):
            if numeric and self.rng.random() < 0.4:
                args[kind] = {f.name: True for f in self.pick(numeric, 1, 2)}
        for kind in ("_min", "_max"):
            if self.rng.random() < 0.35:
                args[kind] = {f.name: True for f in self.pick(scalars, 1, 3)}
        if not grouped and not ({"_count", "_sum", "_avg", "_min", "_max"} & args.keys()):
            args["_count"] = True

    def aggregate(self, model: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.rng.random() < 0.6:
            args["where"] = self.where(model)
        self.page(model, args, aggregate=True)
        self.aggregates(model, args, grouped=False)
        return args

    def group_by(self, model: str) -> dict[str, Any]:
        scalars = [f for f in self.scalars(model) if f.type != "Json"]
        candidates = [f for f in scalars if f.name not in UNIQUE[model] or self.rng.random() < 0.1]
        by = [f.name for f in self.pick(candidates, 1, 2)]
        args: dict[str, Any] = {"by": by if len(by) > 1 or self.rng.random() < 0.7 else by[0]}
        if self.rng.random() < 0.5:
            args["where"] = self.where(model)
        self.aggregates(model, args, grouped=True)
        numeric = [f for f in scalars if f.type in ("Int",)]
        if self.allow("having", 0.35):
            having: dict[str, Any] = {}
            if numeric and self.rng.random() < 0.6:
                field = self.rng.choice(numeric)
                kind = self.rng.choice(["_sum", "_avg", "_min", "_max", "_count"])
                having[field.name] = {
                    kind: {self.rng.choice(_RANGE_OPS): self.rng.choice([0, 1, 2, 10, 25, 50])}
                }
            else:
                field = self.schema.model(model).field(self.rng.choice(by))
                having[field.name] = self.scalar_filter(model, field)
            args["having"] = having
        order: list[dict[str, Any]] = []
        if self.rng.random() < 0.6 and self.allow("groupBy.orderBy"):
            if numeric and self.rng.random() < 0.4 and self.allow("groupBy.orderBy.aggregate"):
                kind = self.rng.choice(["_sum", "_avg", "_min", "_max", "_count"])
                order.append(
                    {kind: {self.rng.choice(numeric).name: self.rng.choice(["asc", "desc"])}}
                )
            for name in self.pick(by, 1, len(by)):
                order.append({name: self.rng.choice(["asc", "desc"])})
        if self.allow("groupBy.page", 0.3):
            order += [{name: "asc"} for name in by if {name} not in [set(e) for e in order]]
            if self.rng.random() < 0.5:
                args["take"] = self.rng.choice([1, 2, 3, -2])
                if args["take"] < 0 and not self.allow("groupBy.take.negative"):
                    args["take"] = 2
            else:
                args["skip"] = self.rng.choice([1, 2, 4])
        if order:
            args["orderBy"] = order if len(order) > 1 or self.rng.random() < 0.5 else order[0]
        return args


def group_order_total(args: dict[str, Any]) -> bool:
    """Whether a groupBy's orderBy names every ``by`` field (groups then sort totally)."""
    by = args["by"] if isinstance(args["by"], list) else [args["by"]]
    order = args.get("orderBy")
    entries = order if isinstance(order, list) else [order] if order else []
    named = {next(iter(e)) for e in entries if len(e) == 1}
    return set(by) <= named
