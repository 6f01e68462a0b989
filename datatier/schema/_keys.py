"""Keys and indexes of a model: ``@id``/``@@id``, ``@unique``/``@@unique``, ``@@index``, ``@@fulltext``."""

from __future__ import annotations

import re

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

_CLIENT_NAME = re.compile(r"[_a-zA-Z0-9]+")


class Keys(Part):
    """Builds a model's primary key and indexes with Prisma's names, and checks its unique criteria."""

    _named_ops: list[str]  # fields of the index being read with a named operator class

    def check_key_options(self, attribute: Attribute, args: dict[str, Expr], what: str) -> None:
        """``sort:``, ``length:`` and ``clustered:`` of ``@id``/``@unique``/``@@...``, per provider."""
        label = f"@{'@' if attribute.is_block else ''}{attribute.name}"
        sort = args.get("sort")
        if sort is not None:
            if not (isinstance(sort, ConstantExpr) and sort.name in ("Asc", "Desc")):
                self.reporter.error(
                    f"`sort:` of `{label}` is `Asc` or `Desc`, not {expr_text(sort)}", sort.span
                )
            elif attribute.name == "id" and self.provider not in ("sqlserver", "mysql"):
                self.reporter.error(
                    f"{what} cannot set a sort order on {self.provider}",
                    sort.span,
                    f"remove `sort:` from `{label}`",
                )
        length = args.get("length")
        if length is not None and self.provider != "mysql":
            self.reporter.error(
                f"{what} cannot set a prefix `length:` on {self.provider} (only on MySQL)",
                length.span,
                f"remove `length:` from `{label}`",
            )
        clustered = args.get("clustered")
        if clustered is not None and self.provider != "sqlserver":
            self.reporter.error(
                f"`clustered:` is only supported on SQL Server, not on {self.provider}",
                clustered.span,
                f"remove `clustered:` from `{label}`",
            )

    def check_view_keys(self, draft: ModelDraft) -> None:
        """A view is a query, not a table: no primary key, no indexes, no named constraints."""
        reporter = self.reporter
        hint = "use `@unique` / `@@unique` (without `map:`) to tell which fields identify a row"
        for fd in draft.fields:
            for attribute in fd.decl.attributes:
                if attribute.name == "id":
                    reporter.error(
                        f"view `{draft.name}` cannot have a primary key", attribute.span, hint
                    )
                elif attribute.name == "unique" and fd.unique_map is not None:
                    reporter.error(
                        f"a `@unique` on view `{draft.name}` has no database constraint to name",
                        attribute.span,
                        "remove `map:`",
                    )
        for attribute, args in draft.key_attributes:
            if attribute.name == "id":
                reporter.error(
                    f"view `{draft.name}` cannot have a primary key", attribute.span, hint
                )
            elif attribute.name in ("index", "fulltext"):
                reporter.error(
                    f"view `{draft.name}` cannot have indexes",
                    attribute.span,
                    "index the tables the view reads instead",
                )
            elif "map" in args:
                reporter.error(
                    f"a `@@unique` on view `{draft.name}` has no database constraint to name",
                    attribute.span,
                    "remove `map:`",
                )

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
        client_names: set[str] = set()
        for attribute, args in pending:
            what = {"id": "a primary key", "unique": "a unique constraint"}.get(
                attribute.name, "an index"
            )
            self.check_key_options(attribute, args, what)
            if attribute.name == "index" and "name" in args and "map" in args:
                self.reporter.error(
                    f"`@@index` on `{draft.name}` has both `name:` and `map:`, which mean the same",
                    args["name"].span,
                    "keep `map:` (`name:` is its older spelling)",
                )
            index_fields = self._index_fields(draft, attribute, args.get("fields"))
            if index_fields is None:
                continue
            columns = tuple(f.column for f in index_fields)
            map_name = self._string(args.get("map"), attribute) if args.get("map") else None
            where = self._partial_where(draft, args.get("where"))
            client_name = self._string(args.get("name"), attribute) if args.get("name") else None
            if client_name is not None and attribute.name in ("id", "unique"):
                self._check_client_name(draft, attribute, client_name, client_names)
            if attribute.name == "id":
                if self.provider not in ("sqlserver", "mysql") and any(
                    f.sort is not None for f in index_fields
                ):
                    reporter.error(
                        f"a primary key cannot set a sort order on {provider}",
                        attribute.span,
                        f"remove `sort:` from the fields of `@@id` on `{draft.name}`",
                    )
                for index_field in index_fields:
                    fd = draft.field(index_field.name)
                    if fd is not None and (not fd.is_required or fd.is_list):
                        reporter.error(
                            f"field `{fd.name}` of the compound id of `{draft.name}` is "
                            + ("a list" if fd.is_list else "optional"),
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
                if self._named_ops and algorithm not in ("Gin", "Gist", "SpGist", "Brin"):
                    reporter.error(
                        "operator classes (`ops:`) need an index `type:` of Gin, Gist, SpGist or Brin",
                        attribute.span,
                    )
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

    def _check_client_name(
        self, draft: ModelDraft, attribute: Attribute, name: str, taken: set[str]
    ) -> None:
        """The ``name:`` of ``@@id``/``@@unique`` becomes a client argument beside the fields."""
        label = f"`@@{attribute.name}` on `{draft.name}`"
        if not _CLIENT_NAME.fullmatch(name):
            self.reporter.error(
                f"the name `{name}` of {label} may hold only letters, digits and `_`",
                attribute.span,
                f'e.g. `name: "{re.sub(r"[^_a-zA-Z0-9]", "_", name)}"`',
            )
        elif draft.field(name) is not None:
            self.reporter.error(
                f"the name `{name}` of {label} is also the name of a field",
                attribute.span,
                "choose a name that no field of the model has",
            )
        elif name in taken:
            self.reporter.error(
                f"the name `{name}` of {label} is already given to another key of the model",
                attribute.span,
                "give each `@@id`/`@@unique` its own name",
            )
        taken.add(name)

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
        self._named_ops = []
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
                        if self.provider in ("postgresql", "cockroachdb"):
                            ops = self._operator_class(name, argument.value)
                        else:
                            # Prisma accepts and ignores it; so does datatier, out loud.
                            reporter.warning(
                                f"index `ops:` has no effect on {self.provider}; it is ignored",
                                argument.span,
                                "remove it (operator classes exist on PostgreSQL only)",
                            )
                    elif argument.name not in ("sort", "length", "ops"):
                        reporter.warning(
                            f"argument {argument.name or expr_text(argument.value)} for field "
                            f"`{name}` in {label} is not one fields take; it is ignored",
                            argument.span,
                            "fields take `sort: Asc|Desc`, `length: n` (MySQL) or `ops: ...` "
                            "(PostgreSQL)",
                        )
                    else:
                        reporter.error(
                            f"unexpected value {expr_text(argument.value)} for `{argument.name}:` "
                            f"of field `{name}` in {label}",
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

    def _operator_class(self, field_name: str, value: Expr) -> str:
        """``ops: JsonbPathOps`` stays a name (the dialect spells it); ``raw("...")`` is the SQL."""
        if (
            isinstance(value, FunctionCall)
            and value.name == "raw"
            and len(value.args) == 1
            and isinstance(value.args[0].value, StringExpr)
        ):
            return value.args[0].value.value
        self._named_ops.append(field_name)
        return expr_text(value)

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
        keys: list[PrimaryKey | Index] = [draft.primary_key] if draft.primary_key else []
        for index in [*keys, *draft.indexes]:
            if (isinstance(index, PrimaryKey) or index.kind == "unique") and all(
                (fd := draft.field(f.name)) is not None
                # An optional id field is reported where `@id` is written.
                and (fd.is_required or isinstance(index, PrimaryKey))
                and fd.kind != "unsupported"
                for f in index.fields
            ):
                return
        self.reporter.error(
            f"model `{draft.name}` has no unique criteria",
            draft.block.name_span,
            "mark a field with `@id` or `@unique`, or add `@@id([...])` or `@@unique([...])` "
            "over required fields",
        )
