"""Keys and indexes of a model: ``@id``/``@@id``, ``@unique``/``@@unique``, ``@@index``, ``@@fulltext``."""

from __future__ import annotations

from datatier.schema import _catalog_rules as rules
from datatier.schema._args import describe_expr, expr_text
from datatier.schema._ast import (
    ArrayExpr,
    Attribute,
    ConstantExpr,
    Expr,
    FunctionCall,
    NumberExpr,
    ObjectExpr,
    StringExpr,
)
from datatier.schema._drafts import ModelDraft, Part, did_you_mean, is_int
from datatier.schema._ir import Index, IndexField, PrimaryKey, ScalarType
from datatier.schema._names import constraint_name

__all__ = ["Keys"]


class Keys(Part):
    """Builds a model's primary key and indexes with Prisma's names, and checks its unique criteria."""

    def resolve(self, draft: ModelDraft) -> None:
        """Primary key and indexes from ``@id``/``@unique`` and the pending block attributes."""
        reporter = self.reporter
        table = draft.db_name
        provider = self.provider
        named_pk = provider not in ("sqlite", "mysql", "mongodb")
        id_fields = [f for f in draft.fields if f.is_id]
        pending = draft.key_attributes
        block_ids = [p for p in pending if p[0].name == "id"]
        if len(id_fields) > 1:
            for extra in id_fields[1:]:
                reporter.error(
                    f"{draft.block.kind} `{draft.name}` has more than one `@id`",
                    extra.decl.name_span,
                    "use `@@id([a, b])` for a compound id",
                )
        if id_fields and block_ids:
            reporter.error(
                f"{draft.block.kind} `{draft.name}` has both `@id` and `@@id`",
                block_ids[0][0].span,
                "keep only one of them",
            )
        if id_fields:
            pk_field = id_fields[0]
            if pk_field.id_map is not None and not named_pk:
                reporter.error(
                    f"primary keys have no name on {provider}; remove `map:` from the `@id` "
                    f"of `{draft.name}.{pk_field.name}`",
                    pk_field.decl.span,
                )
            draft.primary_key = PrimaryKey(
                fields=(IndexField(pk_field.name, pk_field.db_name, pk_field.id_sort),),
                db_name=(pk_field.id_map or constraint_name(provider, table, (), "pkey"))
                if named_pk
                else None,
            )
        for field_draft in draft.fields:
            if field_draft.is_unique:
                draft.indexes.append(
                    Index(
                        "unique",
                        (
                            IndexField(
                                field_draft.name, field_draft.db_name, field_draft.unique_sort
                            ),
                        ),
                        field_draft.unique_map
                        or constraint_name(provider, table, (field_draft.db_name,), "key"),
                        from_field_attribute=True,
                    )
                )
                if field_draft.is_list:
                    reporter.error(
                        f"a list field cannot be `@unique` ({draft.name}.{field_draft.name})",
                        field_draft.decl.span,
                    )
        for attribute, args in pending:
            index_fields = self._index_fields(draft, attribute, args.get("fields"))
            if index_fields is None:
                continue
            columns = tuple(f.column for f in index_fields)
            map_name = self._string(args.get("map"), attribute) if args.get("map") else None
            where = self._partial_where(draft, args.get("where"))
            client_name = self._string(args.get("name"), attribute) if args.get("name") else None
            if attribute.name == "id":
                for index_field in index_fields:
                    fd = draft.field(index_field.name)
                    if fd is not None and not fd.is_required:
                        reporter.error(
                            f"field `{fd.name}` of the compound id of `{draft.name}` is optional",
                            attribute.span,
                            "ids are made of required fields only",
                        )
                if map_name is not None and not named_pk:
                    reporter.error(
                        f"primary keys have no name on {provider}; remove `map:` from the `@@id` "
                        f"of `{draft.name}`",
                        attribute.span,
                    )
                if draft.primary_key is None:
                    draft.primary_key = PrimaryKey(
                        fields=index_fields,
                        db_name=(map_name or constraint_name(provider, table, (), "pkey"))
                        if named_pk
                        else None,
                        name=client_name,
                    )
            elif attribute.name == "unique":
                draft.indexes.append(
                    Index(
                        "unique",
                        index_fields,
                        map_name or constraint_name(provider, table, columns, "key"),
                        name=client_name,
                        where=where,
                    )
                )
            elif attribute.name == "index":
                algorithm = None
                type_expr = args.get("type")
                if type_expr is not None:
                    allowed = rules.INDEX_ALGORITHMS.get(provider, frozenset())
                    if isinstance(type_expr, ConstantExpr) and type_expr.name in allowed:
                        algorithm = type_expr.name
                    else:
                        reporter.error(
                            f"index type {expr_text(type_expr)} is not supported on {provider}",
                            type_expr.span,
                            f"supported: {', '.join(sorted(allowed))}"
                            if allowed
                            else "remove `type:`",
                        )
                if algorithm == "Gin":
                    self._check_gin(draft, attribute, index_fields)
                for index_field in index_fields:
                    named_ops = index_field.ops is not None and not index_field.ops.startswith(
                        "raw("
                    )
                    if named_ops and algorithm not in (
                        "Gin",
                        "Gist",
                        "SpGist",
                        "Brin",
                    ):
                        reporter.error(
                            "operator classes (`ops:`) need an index `type:` of Gin, Gist, SpGist or Brin",
                            attribute.span,
                        )
                        break
                draft.indexes.append(
                    Index(
                        "normal",
                        index_fields,
                        map_name or client_name or constraint_name(provider, table, columns, "idx"),
                        algorithm=algorithm,
                        where=where,
                    )
                )
            else:
                if provider not in ("mysql", "mongodb"):
                    reporter.error(
                        f"fulltext indexes are not supported on {provider}",
                        attribute.span,
                        "use `@@index` (and full-text search in queries) instead",
                    )
                    continue
                draft.indexes.append(
                    Index(
                        "fulltext",
                        index_fields,
                        map_name or constraint_name(provider, table, columns, "idx"),
                    )
                )

    def _index_fields(
        self, draft: ModelDraft, attribute: Attribute, expr: Expr | None
    ) -> tuple[IndexField, ...] | None:
        reporter = self.reporter
        label = f"`@@{attribute.name}` on `{draft.name}`"
        if expr is None:
            reporter.error(
                f"{label} needs a list of fields",
                attribute.span,
                f"e.g. `@@{attribute.name}([a, b])`",
            )
            return None
        items = expr.items if isinstance(expr, ArrayExpr) else (expr,)
        if not items:
            reporter.error(f"{label} needs at least one field", expr.span)
            return None
        result: list[IndexField] = []
        ok = True
        seen: set[str] = set()
        for item in items:
            sort = length = ops = None
            if isinstance(item, ConstantExpr):
                name = item.name
            elif isinstance(item, FunctionCall):
                name = item.name
                for argument in item.args:
                    if (
                        argument.name == "sort"
                        and isinstance(argument.value, ConstantExpr)
                        and argument.value.name in ("Asc", "Desc")
                    ):
                        sort = argument.value.name
                    elif (
                        argument.name == "length"
                        and isinstance(argument.value, NumberExpr)
                        and is_int(argument.value.text)
                    ):
                        if self.provider != "mysql":
                            reporter.error(
                                "index `length:` is only supported on MySQL", argument.span
                            )
                            ok = False
                        length = int(argument.value.text)
                    elif argument.name == "ops" and isinstance(
                        argument.value, ConstantExpr | FunctionCall
                    ):
                        if self.provider not in ("postgresql", "cockroachdb"):
                            reporter.error(
                                "index `ops:` is only supported on PostgreSQL", argument.span
                            )
                            ok = False
                        ops = expr_text(argument.value)
                    else:
                        reporter.error(
                            f"unexpected argument {expr_text(argument.value) if argument.name is None else argument.name} "
                            f"for field `{name}` in {label}",
                            argument.span,
                            "fields take `sort: Asc|Desc`, `length: n` (MySQL) or `ops: ...` (PostgreSQL)",
                        )
                        ok = False
            else:
                reporter.error(f"{label} lists field names, not {describe_expr(item)}", item.span)
                ok = False
                continue
            target = draft.field(name)
            if target is None:
                reporter.error(
                    f"{label} names the unknown field `{name}`",
                    item.span,
                    did_you_mean(name, [f.name for f in draft.fields]),
                )
                ok = False
                continue
            if target.kind == "object":
                reporter.error(
                    f"{label} names the relation field `{name}`",
                    item.span,
                    "name the scalar field(s) holding the foreign key instead",
                )
                ok = False
                continue
            if name in seen:
                reporter.error(f"{label} names field `{name}` twice", item.span)
                ok = False
                continue
            seen.add(name)
            result.append(IndexField(name, target.db_name, sort, length, ops))  # type: ignore[arg-type]
        return tuple(result) if ok else None

    def _check_gin(
        self, draft: ModelDraft, attribute: Attribute, index_fields: tuple[IndexField, ...]
    ) -> None:
        for index_field in index_fields:
            fd = draft.field(index_field.name)
            if (
                fd is not None
                and index_field.ops is None
                and not fd.is_list
                and fd.type != ScalarType.JSON.value
                and fd.kind != "unsupported"
            ):
                self.reporter.error(
                    f"a Gin index on `{fd.name}` ({fd.type}) needs an operator class",
                    attribute.span,
                    "Gin indexes Json and list columns; for others give `ops:` "
                    "or use the default BTree index",
                )
                return

    def _partial_where(self, draft: ModelDraft, expr: Expr | None) -> str | None:
        """The SQL predicate of a partial index: ``raw("...")`` verbatim, or ``{ field: value }``."""
        if expr is None:
            return None
        if "partialIndexes" not in self.preview_features:
            self.reporter.error(
                "partial indexes (`where:`) need the `partialIndexes` preview feature",
                expr.span,
                'add `previewFeatures = ["partialIndexes"]` to the generator block',
            )
            return None
        if isinstance(expr, FunctionCall) and expr.name == "raw":
            if len(expr.args) == 1 and isinstance(expr.args[0].value, StringExpr):
                return expr.args[0].value.value
        elif isinstance(expr, ObjectExpr) and expr.entries:
            conditions = [
                self._where_condition(draft, entry.name or "", entry.value)
                for entry in expr.entries
            ]
            if any(c is None for c in conditions):
                return None
            return " AND ".join(c for c in conditions if c is not None)
        self.reporter.error(
            '`where:` takes `raw("SQL")` or an object such as `{ deletedAt: null }`', expr.span
        )
        return None

    def _where_condition(self, draft: ModelDraft, name: str, value: Expr) -> str | None:
        fd = draft.field(name)
        if fd is None or fd.kind == "object":
            self.reporter.error(
                f"`where:` names the unknown field `{name}` of `{draft.name}`",
                value.span,
                did_you_mean(name, [f.name for f in draft.fields]),
            )
            return None
        column = '"' + fd.db_name.replace('"', '""') + '"'
        if isinstance(value, ConstantExpr) and value.name == "null":
            return f"{column} IS NULL"
        if isinstance(value, ObjectExpr) and len(value.entries) == 1:
            entry = value.entries[0]
            if (
                entry.name == "not"
                and isinstance(entry.value, ConstantExpr)
                and entry.value.name == "null"
            ):
                return f"{column} IS NOT NULL"
        if isinstance(value, ConstantExpr) and value.name in ("true", "false"):
            return f"{column} = {value.name}"
        if isinstance(value, NumberExpr):
            return f"{column} = {value.text}"
        if isinstance(value, StringExpr):
            return f"{column} = '" + value.value.replace("'", "''") + "'"
        self.reporter.error(
            f"unsupported condition {expr_text(value)} for `{name}` in `where:`",
            value.span,
            "use null, { not: null }, true/false, a number or a string",
        )
        return None

    def check_unique_criteria(self, draft: ModelDraft) -> None:
        if draft.is_ignored or draft.is_view:
            return
        if draft.primary_key is not None:
            return
        for index in draft.indexes:
            if (
                index.kind == "unique"
                and index.where is None
                and all(
                    (fd := draft.field(f.name)) is not None
                    and fd.is_required
                    and fd.kind != "unsupported"
                    for f in index.fields
                )
            ):
                return
        self.reporter.error(
            f"model `{draft.name}` has no unique criteria",
            draft.block.name_span,
            "mark a field with `@id` or `@unique`, or add `@@id([...])` or `@@unique([...])` "
            "over required fields",
        )
