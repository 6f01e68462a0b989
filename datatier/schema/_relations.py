"""Relations: pair relation fields across models, check them as Prisma does, derive foreign keys."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from datatier.schema._args import Reporter, bind_args, describe_expr
from datatier.schema._ast import ArrayExpr, ConstantExpr, Expr, StringExpr
from datatier.schema._catalog_rules import REFERENTIAL_ACTIONS
from datatier.schema._drafts import FieldDraft, ModelDraft, a_or_an
from datatier.schema._ir import Datasource, ForeignKey, JoinTable, ReferentialAction, Relation
from datatier.schema._names import constraint_name, default_relation_name

__all__ = ["resolve_relations"]

_PARAMS = ("name", "fields", "references", "onDelete", "onUpdate", "map")


@dataclass
class _Side:
    """One relation field with its ``@relation`` arguments read."""

    model: ModelDraft
    field: FieldDraft
    name: str | None
    fields: tuple[str, ...] | None
    references: tuple[str, ...] | None
    on_delete: ReferentialAction | None
    on_update: ReferentialAction | None
    map: str | None
    valid: bool = True

    @property
    def label(self) -> str:
        return f"`{self.model.name}.{self.field.name}`"


def resolve_relations(
    models: dict[str, ModelDraft],
    provider: str,
    datasource: Datasource | None,
    reporter: Reporter,
) -> tuple[list[Relation], dict[str, tuple[ForeignKey, ...]]]:
    """Pair every relation field; fills the drafts' relation data and returns relations and FKs."""
    resolver = _Resolver(models, provider, datasource, reporter)
    return resolver.run()


class _Resolver:
    def __init__(
        self,
        models: dict[str, ModelDraft],
        provider: str,
        datasource: Datasource | None,
        reporter: Reporter,
    ) -> None:
        self.models = models
        self.provider = provider
        self.emulated = datasource is not None and datasource.relation_mode == "prisma"
        self.reporter = reporter
        self.relations: list[Relation] = []
        self.foreign_keys: dict[str, list[tuple[int, ForeignKey]]] = defaultdict(list)

    def run(self) -> tuple[list[Relation], dict[str, tuple[ForeignKey, ...]]]:
        # Unnamed relations are grouped under the name Prisma gives them, so that one
        # named explicitly `AToB` is not told apart from an unnamed one between A and B.
        groups: dict[tuple[str, str, str], list[_Side]] = defaultdict(list)
        for model in self.models.values():
            for fd in model.fields:
                if fd.kind != "object":
                    continue
                side = self._read(model, fd)
                self._check_ignored_target(side)
                first, second = sorted((model.name, fd.type))
                name = side.name or default_relation_name(first, second)
                groups[(first, second, name)].append(side)
        for (first, second, _), sides in groups.items():
            explicit = next((s.name for s in sides if s.name is not None), None)
            self._group(first, second, explicit, sides)
        # Constraints follow the order of the relation fields, as Prisma lists them.
        ordered = {
            k: tuple(fk for _, fk in sorted(v, key=lambda p: p[0]))
            for k, v in self.foreign_keys.items()
        }
        return self.relations, ordered

    def _check_ignored_target(self, side: _Side) -> None:
        """A relation field pointing at an ``@@ignore``d model must be ``@ignore``d too."""
        target = self.models.get(side.field.type)
        if (
            target is not None
            and target.is_ignored
            and not side.model.is_ignored
            and not side.field.is_ignored
        ):
            self.reporter.error(
                f"relation field {side.label} points at `{target.name}`, which is `@@ignore`d",
                side.field.decl.name_span,
                f"add `@ignore` to {side.label} as well",
            )

    # -- reading @relation -----------------------------------------------------------------

    def _read(self, model: ModelDraft, fd: FieldDraft) -> _Side:
        side = _Side(model, fd, None, None, None, None, None, None)
        attribute = fd.relation
        if attribute is None:
            return side
        args = bind_args(attribute, _PARAMS, self.reporter, owner=f"field `{model.name}.{fd.name}`")
        if args is None:
            side.valid = False
            return side
        if (name := args.get("name")) is not None:
            if isinstance(name, StringExpr) and name.value:
                side.name = name.value
            else:
                self.reporter.error(
                    f"a relation name is a non-empty string, not {describe_expr(name)}",
                    name.span,
                    'e.g. `@relation("authored")`',
                )
                side.valid = False
        side.fields = self._names(args.get("fields"), "fields")
        side.references = self._names(args.get("references"), "references")
        side.on_delete = self._action(args.get("onDelete"), "onDelete")
        side.on_update = self._action(args.get("onUpdate"), "onUpdate")
        if (map_expr := args.get("map")) is not None:
            if self.provider == "sqlite":
                self.reporter.error(
                    "foreign keys have no name on sqlite; remove `map:` from `@relation`",
                    map_expr.span,
                )
            elif isinstance(map_expr, StringExpr):
                side.map = map_expr.value
            else:
                self.reporter.error("`map:` takes a string", map_expr.span)
        return side

    def _names(self, expr: Expr | None, what: str) -> tuple[str, ...] | None:
        if expr is None:
            return None
        items = expr.items if isinstance(expr, ArrayExpr) else (expr,)
        names = []
        for item in items:
            if isinstance(item, ConstantExpr):
                names.append(item.name)
            else:
                self.reporter.error(
                    f"`{what}:` lists field names, not {describe_expr(item)}",
                    item.span,
                    f"e.g. `{what}: [authorId]`",
                )
                return None
        return tuple(names)

    def _action(self, expr: Expr | None, what: str) -> ReferentialAction | None:
        if expr is None:
            return None
        allowed = REFERENTIAL_ACTIONS.get(self.provider, frozenset(ReferentialAction))
        if self.emulated:
            allowed = allowed - {ReferentialAction.SET_DEFAULT}
        if isinstance(expr, ConstantExpr):
            try:
                action = ReferentialAction(expr.name)
            except ValueError:
                action = None
            if action is not None and action in allowed:
                return action
            if action is not None:
                self.reporter.error(
                    f"referential action `{expr.name}` is not supported on {self.provider}"
                    + (' with relationMode = "prisma"' if self.emulated else ""),
                    expr.span,
                    f"use one of {', '.join(a.value for a in ReferentialAction if a in allowed)}",
                )
                return None
        self.reporter.error(
            f"`{what}:` takes a referential action, not {describe_expr(expr)}",
            expr.span,
            f"one of {', '.join(a.value for a in ReferentialAction if a in allowed)}",
        )
        return None

    # -- pairing ---------------------------------------------------------------------------

    def _group(self, first: str, second: str, name: str | None, sides: list[_Side]) -> None:
        if first == second:
            if name is None and len(sides) > 1:
                # Unnamed fields of a model pointing at itself never pair up implicitly.
                self._ambiguous(sides, name, self_relation=True)
                return
            if len(sides) == 2:
                self._pair(sides[0], sides[1], name)
                return
            if len(sides) == 1:
                self._missing_opposite(sides[0])
                return
            self._ambiguous(sides, name)
            return
        on_first = [s for s in sides if s.model.name == first]
        on_second = [s for s in sides if s.model.name == second]
        if len(on_first) > 1 or len(on_second) > 1:
            self._ambiguous(on_first if len(on_first) > 1 else on_second, name)
            return
        if not on_first or not on_second:
            self._missing_opposite((on_first or on_second)[0])
            return
        self._pair(on_first[0], on_second[0], name)

    def _ambiguous(
        self, sides: list[_Side], name: str | None, *, self_relation: bool = False
    ) -> None:
        model = sides[0].model.name
        target = sides[0].field.type
        listed = " and ".join(f"`{s.field.name}`" for s in sides)
        if self_relation:
            message = (
                f"ambiguous self relation: the fields {listed} of model `{model}` all refer to "
                f"`{model}` and none is named"
            )
            hint = (
                "if two of them form one relation, give both the same name, e.g. "
                '`@relation("parent")`; give every other relation its own name'
            )
        elif name is None:
            message = f"ambiguous relation: the fields {listed} of model `{model}` both refer to `{target}`"
            hint = 'give each relation a name, e.g. `@relation("author")` and `@relation("editor")`, on both sides'
        else:
            message = f"relation `{name}` has more than two fields ({listed} on `{model}`)"
            hint = "a relation name joins exactly two fields; give the others their own names"
        for side in sides:
            self.reporter.error(message, side.field.decl.name_span, hint)

    def _missing_opposite(self, side: _Side) -> None:
        if side.field.is_ignored or side.model.is_ignored:
            return
        target = self.models.get(side.field.type)
        if target is not None and target.is_ignored:
            return
        named = f' with `@relation("{side.name}")`' if side.name else ""
        self.reporter.error(
            f"relation field {side.label} has no opposite relation field on model `{side.field.type}`",
            side.field.decl.name_span,
            f"run `datatier format` to add it, or add a field of type `{side.model.name}` or "
            f"`{side.model.name}[]` to `{side.field.type}`{named}",
        )

    def _pair(self, a: _Side, b: _Side, name: str | None) -> None:
        if not (a.valid and b.valid):
            return
        relation_name = name or default_relation_name(a.model.name, b.model.name)
        for side in (a, b):
            side.field.relation_name = relation_name
        if a.field.is_list and b.field.is_list:
            self._many_to_many(a, b, relation_name)
            return
        if a.field.is_list or b.field.is_list:
            referencing, referenced = (b, a) if a.field.is_list else (a, b)
            if referencing.fields is None:
                self.reporter.error(
                    f"relation field {referencing.label} must say which fields hold the foreign key",
                    referencing.field.decl.name_span,
                    f"add `@relation(fields: [{referencing.field.name}Id], references: [id])` "
                    "(with the scalar field that stores the key)",
                )
                return
            if referenced.fields is not None or referenced.references is not None:
                self.reporter.error(
                    f"list relation field {referenced.label} cannot hold `fields`/`references`",
                    referenced.field.decl.name_span,
                    f"define them on the other side, {referencing.label}",
                )
                return
            self._foreign_key(referencing, referenced, relation_name, "one_to_many")
            return
        with_fields = [s for s in (a, b) if s.fields is not None or s.references is not None]
        if not with_fields:
            self.reporter.error(
                f"one-to-one relation between {a.label} and {b.label} does not say which side "
                "holds the foreign key",
                a.field.decl.name_span,
                "add `@relation(fields: [...], references: [...])` on exactly one of the two fields",
            )
            return
        if len(with_fields) == 2:
            self.reporter.error(
                f"both sides of the one-to-one relation between {a.label} and {b.label} define "
                "`fields`/`references`",
                b.field.decl.name_span,
                "keep them on one side only (the one whose table stores the key)",
            )
            return
        referencing = with_fields[0]
        referenced = b if referencing is a else a
        if referenced.field.is_required and not referenced.model.is_ignored:
            self.reporter.error(
                f"the back relation field {referenced.label} of a one-to-one relation must be optional",
                referenced.field.decl.name_span,
                f"write `{referenced.field.name} {referenced.field.type}?`",
            )
            return
        self._foreign_key(referencing, referenced, relation_name, "one_to_one")

    def _many_to_many(self, a: _Side, b: _Side, relation_name: str) -> None:
        for side in (a, b):
            if side.fields is not None or side.references is not None:
                self.reporter.error(
                    f"implicit many-to-many relation field {side.label} cannot have `fields`/`references`",
                    side.field.decl.name_span,
                    "remove them, or model the join table explicitly",
                )
                return
            if side.on_delete is not None or side.on_update is not None:
                self.reporter.error(
                    f"implicit many-to-many relation field {side.label} cannot have referential actions",
                    side.field.decl.name_span,
                )
                return
        for side in (a, b):
            pk = side.model.primary_key
            if pk is None or len(pk.fields) != 1:
                self.reporter.error(
                    f"model `{side.model.name}` needs a single-field `@id` to take part in the "
                    f"implicit many-to-many relation `{relation_name}`",
                    side.field.decl.name_span,
                    "give it a single `@id`, or model the join table explicitly",
                )
                return
        model_a, model_b = sorted((a.model.name, b.model.name))
        first, second = (a, b) if a.model.name <= b.model.name else (b, a)
        self.relations.append(
            Relation(
                name=relation_name,
                kind="many_to_many",
                referencing_model=first.model.name,
                referencing_field=first.field.name,
                referenced_model=second.model.name,
                referenced_field=second.field.name,
                join_table=JoinTable(
                    table=f"_{relation_name}",
                    relation_name=relation_name,
                    model_a=model_a,
                    model_b=model_b,
                    schema=self.models[model_a].schema,
                ),
            )
        )

    def _foreign_key(
        self, referencing: _Side, referenced: _Side, relation_name: str, kind: str
    ) -> None:
        reporter = self.reporter
        model = referencing.model
        target = self.models[referencing.field.type]
        fields = referencing.fields
        references = referencing.references
        span = referencing.field.decl.name_span
        if fields is None:
            reporter.error(
                f"relation field {referencing.label} has `references` but no `fields`",
                span,
                "add `fields: [...]` naming the scalar fields that store the key",
            )
            return
        if references is None:
            reporter.error(
                f"relation field {referencing.label} has `fields` but no `references`",
                span,
                f"add `references: [...]` naming the fields of `{target.name}` the key points to",
            )
            return
        if not fields or len(fields) != len(references):
            reporter.error(
                f"relation field {referencing.label} lists {len(fields)} field(s) in `fields` "
                f"but {len(references)} in `references`",
                span,
                "give the same number of fields on both sides, in matching order",
            )
            return
        for names, what in ((fields, "fields"), (references, "references")):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                reporter.error(
                    f"`{what}:` of {referencing.label} names `{repeated[0]}` more than once",
                    span,
                    "list each field once",
                )
                return
        local = []
        for name in fields:
            fd = model.field(name)
            if fd is None or fd.kind == "object":
                reporter.error(
                    f"`fields:` of {referencing.label} names "
                    + ("the relation field" if fd is not None else "the unknown field")
                    + f" `{name}`",
                    span,
                    "list the scalar fields of `" + model.name + "` that store the key",
                )
                return
            local.append(fd)
        remote = []
        for name in references:
            fd = target.field(name)
            if fd is None or fd.kind == "object":
                reporter.error(
                    f"`references:` of {referencing.label} names "
                    + ("the relation field" if fd is not None else "the unknown field")
                    + f" `{name}` of `{target.name}`",
                    span,
                    f"list the fields of `{target.name}` the key points to (usually its id)",
                )
                return
            remote.append(fd)
        for mine, theirs in zip(local, remote, strict=True):
            # Native types may differ (`@db.VarChar(10)` referencing `@db.Text`), as in Prisma.
            if (mine.kind, mine.type) != (theirs.kind, theirs.type):
                reporter.error(
                    f"the type of `{model.name}.{mine.name}` ({mine.type}) does not match the type of "
                    f"the referenced `{target.name}.{theirs.name}` ({theirs.type})",
                    mine.decl.span,
                    f"make `{mine.name}` {a_or_an(theirs.type)}",
                )
                return
            if mine.is_list:
                reporter.error(
                    f"the key field `{model.name}.{mine.name}` cannot be a list", mine.decl.span
                )
                return
        if not _is_unique_criteria(target, references):
            reporter.error(
                f"`references:` of {referencing.label} must name a unique criteria of `{target.name}`",
                span,
                f"add `@unique` to `{target.name}.{references[0]}`"
                if len(references) == 1
                else f"add `@@unique([{', '.join(references)}])` to `{target.name}`",
            )
            return
        if kind == "one_to_one" and not _is_unique_criteria(model, fields):
            reporter.error(
                f"the one-to-one relation {referencing.label} needs its key fields to be unique",
                span,
                f"add `@unique` to `{model.name}.{fields[0]}`"
                if len(fields) == 1
                else f"add `@@unique([{', '.join(fields)}])` to `{model.name}`",
            )
            return
        any_optional = any(not fd.is_required for fd in local)
        if referencing.field.is_required and any_optional:
            reporter.error(
                f"relation field {referencing.label} is required but its key field(s) "
                f"{', '.join(f'`{fd.name}`' for fd in local if not fd.is_required)} are optional",
                span,
                f"make the relation optional (`{referencing.field.type}?`) or the key fields required",
            )
            return
        uses_set_null = ReferentialAction.SET_NULL in (referencing.on_delete, referencing.on_update)
        required = [fd.name for fd in local if fd.is_required]
        lenient = self.provider in ("postgresql", "cockroachdb") and not self.emulated
        if uses_set_null and required and not lenient:
            reporter.error(
                f"relation {referencing.label} uses `SetNull`, but the key field(s) "
                f"{', '.join(f'`{n}`' for n in required)} cannot be null",
                span,
                "make the key fields optional, or choose another referential action",
            )
            return
        if referenced.on_delete is not None or referenced.on_update is not None:
            reporter.error(
                f"referential actions belong on the side with `fields`/`references`, not on {referenced.label}",
                referenced.field.decl.name_span,
                f"move them to {referencing.label}",
            )
            return
        on_delete = referencing.on_delete or (
            ReferentialAction.SET_NULL if any_optional else ReferentialAction.RESTRICT
        )
        on_update = referencing.on_update or ReferentialAction.CASCADE
        fd_rel = referencing.field
        fd_rel.relation_from_fields = fields
        fd_rel.relation_to_fields = references
        fd_rel.relation_on_delete = referencing.on_delete.value if referencing.on_delete else None
        fd_rel.relation_on_update = referencing.on_update.value if referencing.on_update else None
        self.relations.append(
            Relation(
                name=relation_name,
                kind="one_to_one" if kind == "one_to_one" else "one_to_many",
                referencing_model=model.name,
                referencing_field=fd_rel.name,
                referenced_model=target.name,
                referenced_field=referenced.field.name,
                fields=fields,
                references=references,
                on_delete=on_delete,
                on_update=on_update,
            )
        )
        if self.emulated or model.is_view or target.is_view:
            return
        columns = tuple(fd.db_name for fd in local)
        position = next(i for i, f in enumerate(model.fields) if f is fd_rel)
        self.foreign_keys[model.name].append(
            (
                position,
                ForeignKey(
                    db_name=referencing.map
                    or constraint_name(self.provider, model.db_name, columns, "fkey"),
                    columns=columns,
                    referenced_table=target.db_name,
                    referenced_columns=tuple(fd.db_name for fd in remote),
                    on_delete=on_delete,
                    on_update=on_update,
                ),
            )
        )


def _is_unique_criteria(model: ModelDraft, names: tuple[str, ...]) -> bool:
    wanted = set(names)
    if model.primary_key is not None and {f.name for f in model.primary_key.fields} == wanted:
        return True
    return any(
        index.kind == "unique" and index.where is None and {f.name for f in index.fields} == wanted
        for index in model.indexes
    )
