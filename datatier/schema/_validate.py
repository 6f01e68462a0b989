"""Syntax tree -> resolved IR, with Prisma's validation rules; every problem is reported at once."""

from __future__ import annotations

import base64
import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from datatier.errors import SchemaError, Span
from datatier.schema import _catalog_rules as rules
from datatier.schema._args import Reporter, bind_args, describe_expr, expr_text
from datatier.schema._ast import (
    ArrayExpr,
    Attribute,
    Block,
    Comment,
    ConstantExpr,
    EnumValueDecl,
    Expr,
    FieldDecl,
    FunctionCall,
    NumberExpr,
    ObjectExpr,
    Property,
    SchemaFile,
    StringExpr,
)
from datatier.schema._ir import (
    CompositeType,
    Datasource,
    DefaultValue,
    Enum,
    EnumValue,
    Field,
    FieldKind,
    ForeignKey,
    Generator,
    Index,
    IndexField,
    LiteralValue,
    Model,
    NativeType,
    PrimaryKey,
    ReferentialAction,
    ScalarType,
    Schema,
    UrlSource,
)
from datatier.schema._names import constraint_name
from datatier.schema._relations import resolve_relations
from datatier.schema._source import Source

__all__ = ["FieldDraft", "ModelDraft", "build_schema"]

_SCALARS = frozenset(t.value for t in ScalarType)
_FIELD_ATTRIBUTES = (
    "id",
    "default",
    "unique",
    "map",
    "relation",
    "updatedAt",
    "ignore",
    "db",
    "shardKey",
)
_BLOCK_ATTRIBUTES = ("id", "unique", "index", "fulltext", "map", "ignore", "schema", "shardKey")


@dataclass
class FieldDraft:
    """A field while it is being resolved (mutable; frozen into ``ir.Field`` at the end)."""

    decl: FieldDecl
    name: str
    kind: FieldKind
    type: str
    is_required: bool
    is_list: bool
    db_name: str
    is_id: bool = False
    is_unique: bool = False
    is_updated_at: bool = False
    is_ignored: bool = False
    default: DefaultValue | None = None
    native_type: NativeType | None = None
    relation: Attribute | None = None
    relation_name: str | None = None
    relation_from_fields: tuple[str, ...] = ()
    relation_to_fields: tuple[str, ...] = ()
    relation_on_delete: str | None = None
    relation_on_update: str | None = None
    id_map: str | None = None
    id_sort: Literal["Asc", "Desc"] | None = None
    unique_map: str | None = None
    unique_sort: Literal["Asc", "Desc"] | None = None

    @property
    def span(self) -> Span:
        return self.decl.span


@dataclass
class ModelDraft:
    """A model while it is being resolved."""

    block: Block
    name: str
    db_name: str
    fields: list[FieldDraft] = field(default_factory=list)
    primary_key: PrimaryKey | None = None
    indexes: list[Index] = field(default_factory=list)
    is_ignored: bool = False
    schema: str | None = None
    key_attributes: list[tuple[Attribute, dict[str, Expr]]] = field(default_factory=list)

    @property
    def is_view(self) -> bool:
        return self.block.kind == "view"

    def field(self, name: str) -> FieldDraft | None:
        for draft in self.fields:
            if draft.name == name:
                return draft
        return None


def build_schema(files: Sequence[SchemaFile], path: str | None = None) -> Schema:
    """Resolve parsed files into one ``Schema``; raises ``SchemaError`` listing every problem."""
    sources = {f.path: Source(f.path, f.text) for f in files}
    builder = _Builder(files, Reporter(sources))
    schema = builder.build(path)
    if builder.reporter.has_errors:
        raise SchemaError(builder.reporter.diagnostics)
    return schema


class _Builder:
    def __init__(self, files: Sequence[SchemaFile], reporter: Reporter) -> None:
        self.files = files
        self.reporter = reporter
        self.blocks = [block for f in files for block in f.blocks]
        self.provider = "postgresql"
        self.datasource: Datasource | None = None
        self.enums: dict[str, Enum] = {}
        self.enum_blocks: dict[str, Block] = {}
        self.model_blocks: dict[str, Block] = {}
        self.type_blocks: dict[str, Block] = {}
        self.preview_features: set[str] = set()

    # -- the whole ---------------------------------------------------------------------

    def build(self, path: str | None) -> Schema:
        self._check_top_level_names()
        generators = tuple(self._generator(b) for b in self.blocks if b.kind == "generator")
        for generator in generators:
            self.preview_features.update(generator.preview_features)
        self._datasources()
        for block in self.blocks:
            if block.kind == "enum" and block.name in self.enum_blocks:
                self.enums[block.name] = self._enum(block)
        drafts = [self._model(block) for block in self.model_blocks.values()]
        composites = tuple(self._composite(block) for block in self.type_blocks.values())
        by_name = {draft.name: draft for draft in drafts}
        relations, foreign_keys = resolve_relations(
            by_name, self.provider, self.datasource, self.reporter
        )
        for draft in drafts:
            self._check_unique_criteria(draft)
        self._check_database_names(drafts)
        models = tuple(self._freeze_model(d, foreign_keys.get(d.name, ())) for d in drafts)
        warnings = tuple(d for d in self.reporter.diagnostics if d.severity == "warning")
        return Schema(
            datasource=self.datasource,
            generators=generators,
            models=models,
            enums=tuple(self.enums.values()),
            composite_types=composites,
            relations=tuple(relations),
            warnings=warnings,
            path=path,
        )

    def _check_top_level_names(self) -> None:
        seen: dict[str, Block] = {}
        for block in self.blocks:
            if block.kind in ("datasource", "generator"):
                key = f"{block.kind}:{block.name}"
            else:
                key = block.name
            previous = seen.get(key)
            if previous is not None:
                what = block.kind if block.kind in ("datasource", "generator") else "name"
                self.reporter.error(
                    f"the {what} `{block.name}` is defined twice "
                    f"(first as a {previous.kind} at {_where(previous.name_span)})",
                    block.name_span,
                    "rename or remove one of them",
                )
                continue
            seen[key] = block
            if block.kind in ("model", "view"):
                if block.name in rules.RESERVED_MODEL_NAMES:
                    self.reporter.error(
                        f"the {block.kind} name `{block.name}` is reserved",
                        block.name_span,
                        'choose another name (and keep the table name with `@@map("'
                        f'{block.name}")` if needed)',
                    )
                self.model_blocks[block.name] = block
            elif block.kind == "enum":
                if block.name in _SCALARS:
                    self.reporter.error(
                        f"the enum name `{block.name}` is reserved", block.name_span
                    )
                self.enum_blocks[block.name] = block
            elif block.kind == "type":
                self.type_blocks[block.name] = block

    # -- datasource and generators ----------------------------------------------------

    def _datasources(self) -> None:
        blocks = [b for b in self.blocks if b.kind == "datasource"]
        for extra in blocks[1:]:
            self.reporter.error(
                "a schema has exactly one datasource",
                extra.name_span,
                f"remove `datasource {extra.name}` or merge it into `datasource {blocks[0].name}`",
            )
        if not blocks:
            return
        block = blocks[0]
        props = self._properties(
            block,
            (
                "provider",
                "url",
                "directUrl",
                "shadowDatabaseUrl",
                "relationMode",
                "referentialIntegrity",
                "extensions",
                "schemas",
            ),
        )
        provider_expr = props.get("provider")
        provider = "postgresql"
        if provider_expr is None:
            self.reporter.error(
                f"datasource `{block.name}` has no `provider`",
                block.name_span,
                'add `provider = "postgresql"` (or "sqlite")',
            )
        elif not isinstance(provider_expr, StringExpr):
            self.reporter.error(
                "`provider` must be a string", provider_expr.span, 'e.g. `provider = "sqlite"`'
            )
        else:
            raw = provider_expr.value
            provider = rules.PROVIDER_ALIASES.get(raw, raw)
            if provider not in rules.PROVIDERS:
                self.reporter.error(
                    f"unknown datasource provider `{raw}`",
                    provider_expr.span,
                    _did_you_mean(raw, rules.PROVIDERS)
                    or f"use one of {', '.join(rules.PROVIDERS)}",
                )
                provider = "postgresql"
        self.provider = provider
        relation_mode: Literal["foreignKeys", "prisma"] = (
            "prisma" if provider == "mongodb" else "foreignKeys"
        )
        for key in ("relationMode", "referentialIntegrity"):
            expr = props.get(key)
            if expr is None:
                continue
            if key == "referentialIntegrity":
                self.reporter.warning(
                    "`referentialIntegrity` was renamed `relationMode`",
                    expr.span,
                    "rename the property",
                )
            if isinstance(expr, StringExpr) and expr.value in ("foreignKeys", "prisma"):
                relation_mode = "prisma" if expr.value == "prisma" else "foreignKeys"
            else:
                self.reporter.error(
                    f'`{key}` must be "foreignKeys" or "prisma", not {expr_text(expr)}', expr.span
                )
        extensions: tuple[str, ...] = ()
        if (ext := props.get("extensions")) is not None:
            if provider != "postgresql":
                self.reporter.error("`extensions` is only supported on PostgreSQL", ext.span)
            extensions = tuple(
                expr_text(e) if not isinstance(e, StringExpr) else e.value
                for e in (ext.items if isinstance(ext, ArrayExpr) else (ext,))
            )
        schemas: tuple[str, ...] = ()
        if (sch := props.get("schemas")) is not None:
            items = sch.items if isinstance(sch, ArrayExpr) else (sch,)
            if not all(isinstance(i, StringExpr) for i in items):
                self.reporter.error(
                    '`schemas` must be a list of strings, e.g. ["public", "auth"]', sch.span
                )
            schemas = tuple(i.value for i in items if isinstance(i, StringExpr))
            if provider not in ("postgresql", "cockroachdb", "sqlserver"):
                self.reporter.error(f"multiple schemas are not supported on {provider}", sch.span)
        self.datasource = Datasource(
            name=block.name,
            provider=provider,
            url=self._url(props.get("url")),
            direct_url=self._url(props.get("directUrl")),
            shadow_database_url=self._url(props.get("shadowDatabaseUrl")),
            relation_mode=relation_mode,
            extensions=extensions,
            schemas=schemas,
        )

    def _url(self, expr: Expr | None) -> UrlSource | None:
        if expr is None:
            return None
        if isinstance(expr, StringExpr):
            return UrlSource(value=expr.value)
        if (
            isinstance(expr, FunctionCall)
            and expr.name == "env"
            and len(expr.args) == 1
            and isinstance(expr.args[0].value, StringExpr)
        ):
            return UrlSource(env=expr.args[0].value.value)
        self.reporter.error(
            'a URL must be a string or `env("NAME")`', expr.span, 'e.g. `url = env("DATABASE_URL")`'
        )
        return None

    def _properties(self, block: Block, known: Sequence[str] | None) -> dict[str, Expr]:
        props: dict[str, Expr] = {}
        for member in block.members:
            if isinstance(member, Property):
                if known is not None and member.name not in known:
                    self.reporter.error(
                        f"unknown property `{member.name}` in {block.kind} `{block.name}`",
                        member.span,
                        _did_you_mean(member.name, known)
                        or f"known properties: {', '.join(known)}",
                    )
                    continue
                if member.name in props:
                    self.reporter.error(f"property `{member.name}` is set twice", member.span)
                    continue
                props[member.name] = member.value
            elif not _is_comment(member):
                self.reporter.error(
                    f"a {block.kind} block holds only `key = value` lines", member.span
                )
        return props

    def _generator(self, block: Block) -> Generator:
        props = self._properties(block, None)
        provider_expr = props.get("provider")
        provider = ""
        if provider_expr is None:
            self.reporter.error(
                f"generator `{block.name}` has no `provider`",
                block.name_span,
                'add `provider = "datatier"`',
            )
        elif isinstance(provider_expr, StringExpr):
            provider = provider_expr.value
        elif not (isinstance(provider_expr, FunctionCall) and provider_expr.name == "env"):
            self.reporter.error("`provider` must be a string", provider_expr.span)
        output = props.get("output")
        features: list[str] = []
        preview = props.get("previewFeatures")
        if preview is not None:
            items = preview.items if isinstance(preview, ArrayExpr) else (preview,)
            for item in items:
                if not isinstance(item, StringExpr):
                    self.reporter.error("preview features are strings", item.span)
                    continue
                features.append(item.value)
                if item.value in rules.RETIRED_PREVIEW_FEATURES:
                    self.reporter.warning(
                        f"preview feature `{item.value}` is retired and has no effect",
                        item.span,
                        "remove it from `previewFeatures`",
                    )
                elif item.value not in rules.KNOWN_PREVIEW_FEATURES:
                    self.reporter.warning(
                        f"unknown preview feature `{item.value}`",
                        item.span,
                        _did_you_mean(item.value, rules.KNOWN_PREVIEW_FEATURES),
                    )
        config = tuple(
            (key, expr.value if isinstance(expr, StringExpr) else expr_text(expr))
            for key, expr in props.items()
            if key not in ("provider", "output", "previewFeatures")
        )
        return Generator(
            name=block.name,
            provider=provider,
            output=output.value if isinstance(output, StringExpr) else None,
            preview_features=tuple(features),
            config=config,
        )

    # -- enums and composite types ------------------------------------------------------

    def _enum(self, block: Block) -> Enum:
        values: list[EnumValue] = []
        seen: set[str] = set()
        db_name = block.name
        schema = None
        for member in block.members:
            if isinstance(member, EnumValueDecl):
                if member.name in seen:
                    self.reporter.error(
                        f"value `{member.name}` appears twice in enum `{block.name}`", member.span
                    )
                    continue
                seen.add(member.name)
                value_db = member.name
                for attribute in member.attributes:
                    if attribute.name == "map":
                        args = bind_args(
                            attribute, ("name",), self.reporter, owner=f"value `{member.name}`"
                        )
                        if args and (v := self._string(args.get("name"), attribute)) is not None:
                            value_db = v
                    else:
                        self.reporter.error(
                            f"attribute `@{attribute.name}` is not allowed on an enum value",
                            attribute.span,
                            'enum values take only `@map("name")`',
                        )
                values.append(
                    EnumValue(
                        member.name, value_db, _doc(member.documentation, member.trailing_comment)
                    )
                )
            elif isinstance(member, Attribute):
                if member.name == "map":
                    args = bind_args(member, ("name",), self.reporter, owner=f"enum `{block.name}`")
                    if args and (v := self._string(args.get("name"), member)) is not None:
                        db_name = v
                elif member.name == "schema":
                    schema = self._schema_attribute(member)
                else:
                    self.reporter.error(
                        f"attribute `@@{member.name}` is not allowed on an enum",
                        member.span,
                        "enums take `@@map` and `@@schema`",
                    )
            elif not _is_comment(member):
                self.reporter.error("unexpected member in an enum", member.span)
        if not values:
            self.reporter.error(
                f"enum `{block.name}` has no values", block.name_span, "add at least one value"
            )
        return Enum(block.name, db_name, tuple(values), _doc(block.documentation), schema)

    def _composite(self, block: Block) -> CompositeType:
        if self.provider != "mongodb":
            self.reporter.error(
                f"composite type `{block.name}` is only supported on MongoDB",
                block.name_span,
                "use a model with a relation, or a `Json` field",
            )
        fields = []
        for member in block.members:
            if isinstance(member, FieldDecl) and member.type is not None:
                draft = self._field(member, block)
                if draft is not None:
                    fields.append(_freeze_field(draft))
        return CompositeType(block.name, tuple(fields), _doc(block.documentation))

    # -- models -------------------------------------------------------------------------

    def _model(self, block: Block) -> ModelDraft:
        draft = ModelDraft(block, block.name, block.name)
        if block.kind == "view" and "views" not in self.preview_features:
            self.reporter.error(
                f"view `{block.name}` needs the `views` preview feature",
                block.name_span,
                'add `previewFeatures = ["views"]` to the generator block',
            )
        names: set[str] = set()
        block_attributes: list[Attribute] = []
        for member in block.members:
            if isinstance(member, FieldDecl):
                if member.name in names:
                    self.reporter.error(
                        f"field `{member.name}` is defined twice in {block.kind} `{block.name}`",
                        member.name_span,
                        "rename or remove one of them",
                    )
                    continue
                names.add(member.name)
                field_draft = self._field(member, block)
                if field_draft is not None:
                    draft.fields.append(field_draft)
            elif isinstance(member, Attribute):
                block_attributes.append(member)
            elif not _is_comment(member):
                self.reporter.error(
                    f"unexpected member in {block.kind} `{block.name}`", member.span
                )
        for attribute in block_attributes:
            self._block_attribute(draft, attribute)
        self._field_keys(draft)
        return draft

    def _field(self, decl: FieldDecl, block: Block) -> FieldDraft | None:
        field_type = decl.type
        if field_type is None:
            return None
        owner = f"field `{block.name}.{decl.name}`"
        kind: FieldKind
        if field_type.unsupported is not None:
            kind = "unsupported"
            type_name = field_type.unsupported
        elif field_type.name in _SCALARS:
            kind, type_name = "scalar", field_type.name
        elif field_type.name in self.enum_blocks:
            kind, type_name = "enum", field_type.name
        elif field_type.name in self.model_blocks:
            kind, type_name = "object", field_type.name
        elif field_type.name in self.type_blocks:
            kind, type_name = "composite", field_type.name
        else:
            candidates = [*_SCALARS, *self.enum_blocks, *self.model_blocks, *self.type_blocks]
            self.reporter.error(
                f"type `{field_type.name}` of {owner} is neither a built-in type nor a model, "
                "enum or composite type",
                field_type.span,
                _did_you_mean(field_type.name, candidates),
            )
            return None
        if field_type.is_list and field_type.optional:
            self.reporter.error(
                f"{owner} is an optional list (`[]?`), which is not supported",
                field_type.span,
                "use a list (`[]`); an empty list stands for no values",
            )
        if (
            field_type.is_list
            and kind in ("scalar", "enum")
            and self.provider not in rules.SCALAR_LIST_PROVIDERS
        ):
            self.reporter.error(
                f"{owner} is a list of {type_name}, but {self.provider} has no scalar lists",
                field_type.span,
                "store the values in a related model, or in a `Json` field",
            )
        draft = FieldDraft(
            decl=decl,
            name=decl.name,
            kind=kind,
            type=type_name,
            is_required=not field_type.optional,
            is_list=field_type.is_list,
            db_name=decl.name,
        )
        seen: set[str] = set()
        for attribute in decl.attributes:
            base = attribute.name.split(".", 1)[0]
            key = "db" if base == "db" or "." in attribute.name else attribute.name
            if key in seen:
                self.reporter.error(
                    f"attribute `@{attribute.name}` appears twice on {owner}", attribute.span
                )
                continue
            seen.add(key)
            self._field_attribute(draft, attribute, owner, block)
        return draft

    def _field_attribute(
        self, draft: FieldDraft, attribute: Attribute, owner: str, block: Block
    ) -> None:
        name = attribute.name
        reporter = self.reporter
        is_relation = draft.kind == "object"
        if "." in name:
            self._native_type(draft, attribute, owner)
            return
        if name not in _FIELD_ATTRIBUTES:
            reporter.error(
                f"unknown attribute `@{name}` on {owner}",
                attribute.name_span,
                _did_you_mean(name, _FIELD_ATTRIBUTES),
            )
            return
        if is_relation and name not in ("relation", "ignore"):
            reporter.error(
                f"`@{name}` cannot be used on the relation field {owner}",
                attribute.span,
                "put it on the scalar field(s) that hold the foreign key",
            )
            return
        if name == "relation":
            if not is_relation:
                reporter.error(
                    f"`@relation` can only be used on a relation field, and {owner} is a {draft.type}",
                    attribute.span,
                )
                return
            draft.relation = attribute
        elif name == "id":
            args = bind_args(
                attribute, ("map", "length", "sort", "clustered"), reporter, owner=owner
            )
            draft.is_id = True
            if not draft.is_required:
                reporter.error(
                    f"{owner} is optional and cannot be an id",
                    attribute.span,
                    "make the field required (remove `?`)",
                )
            if args:
                draft.id_map = self._string(args.get("map"), attribute)
                draft.id_sort = _sort(args.get("sort"))
        elif name == "unique":
            args = bind_args(
                attribute, ("map", "length", "sort", "clustered"), reporter, owner=owner
            )
            draft.is_unique = True
            if args:
                draft.unique_map = self._string(args.get("map"), attribute)
                draft.unique_sort = _sort(args.get("sort"))
        elif name == "map":
            args = bind_args(attribute, ("name",), reporter, owner=owner)
            if args and (value := self._string(args.get("name"), attribute)) is not None:
                draft.db_name = value
        elif name == "updatedAt":
            if attribute.args:
                reporter.error("`@updatedAt` takes no arguments", attribute.span)
            if draft.type != ScalarType.DATETIME.value or draft.kind != "scalar":
                reporter.error(
                    f"`@updatedAt` needs a DateTime field, and {owner} is a {draft.type}",
                    attribute.span,
                )
            elif draft.is_list:
                reporter.error("`@updatedAt` cannot be used on a list", attribute.span)
            draft.is_updated_at = True
        elif name == "ignore":
            if attribute.args:
                reporter.error("`@ignore` takes no arguments", attribute.span)
            draft.is_ignored = True
        elif name == "default":
            args = bind_args(attribute, ("value", "map"), reporter, owner=owner)
            if args is not None:
                default_expr = args.get("value")
                if default_expr is None:
                    reporter.error(f"`@default` on {owner} needs a value", attribute.span)
                else:
                    draft.default = self._default(draft, default_expr, owner, args.get("map"))
        elif name == "shardKey":
            reporter.error("`@shardKey` is only supported on PlanetScale MySQL", attribute.span)
        elif name == "db":
            reporter.error(
                "a native type is written `@db.TypeName`", attribute.span, "e.g. `@db.VarChar(255)`"
            )

    def _native_type(self, draft: FieldDraft, attribute: Attribute, owner: str) -> None:
        prefix, _, type_name = attribute.name.partition(".")
        datasource_name = self.datasource.name if self.datasource else "db"
        if prefix != datasource_name:
            self.reporter.error(
                f"unknown attribute `@{attribute.name}` on {owner}",
                attribute.name_span,
                f"native types are written with the datasource's name: `@{datasource_name}.{type_name}`",
            )
            return
        table = rules.NATIVE_TYPES.get(self.provider)
        arguments = tuple(expr_text(a.value) for a in attribute.args)
        if table is not None:
            known = table.get(type_name)
            if known is None:
                self.reporter.error(
                    f"native type `{type_name}` is not supported on {self.provider}",
                    attribute.name_span,
                    _did_you_mean(type_name, table)
                    or ("SQLite has no native types; remove the attribute" if not table else None),
                )
                return
            scalars, max_args = known
            if draft.kind != "scalar" or ScalarType(draft.type) not in scalars:
                fits = ", ".join(sorted(s.value for s in scalars))
                self.reporter.error(
                    f"native type `{type_name}` does not fit {owner} of type {draft.type}",
                    attribute.span,
                    f"`@{datasource_name}.{type_name}` is for {fits} fields",
                )
                return
            if len(arguments) > max_args:
                self.reporter.error(
                    f"native type `{type_name}` takes at most {max_args} argument"
                    f"{'s' if max_args != 1 else ''}, got {len(arguments)}",
                    attribute.span,
                )
                return
            if any(not isinstance(a.value, NumberExpr) for a in attribute.args):
                self.reporter.error(
                    f"the arguments of native type `{type_name}` are numbers", attribute.span
                )
                return
        draft.native_type = NativeType(type_name, arguments)

    def _default(
        self, draft: FieldDraft, value: Expr, owner: str, map_expr: Expr | None
    ) -> DefaultValue | None:
        reporter = self.reporter
        map_name = self._string(map_expr, None) if map_expr is not None else None
        if isinstance(value, FunctionCall):
            allowed = rules.DEFAULT_FUNCTIONS.get(value.name)
            if value.name not in rules.DEFAULT_FUNCTIONS:
                reporter.error(
                    f"unknown function `{value.name}()` in the default of {owner}",
                    value.span,
                    _did_you_mean(value.name, rules.DEFAULT_FUNCTIONS)
                    or f"default functions: {', '.join(f'{n}()' for n in rules.DEFAULT_FUNCTIONS)}",
                )
                return None
            scalar = ScalarType(draft.type) if draft.kind == "scalar" else None
            if allowed is not None and (scalar is None or scalar not in allowed):
                fits = " or ".join(sorted(s.value for s in allowed))
                reporter.error(
                    f"`{value.name}()` cannot be the default of {owner}, which is a {draft.type}",
                    value.span,
                    f"`{value.name}()` fills {fits} fields",
                )
                return None
            if value.name == "autoincrement" and draft.is_list:
                reporter.error("`autoincrement()` cannot fill a list", value.span)
                return None
            if value.name in ("sequence",) and self.provider != "cockroachdb":
                reporter.error("`sequence()` is only supported on CockroachDB", value.span)
                return None
            if value.name == "auto" and self.provider != "mongodb":
                reporter.error("`auto()` is only supported on MongoDB", value.span)
                return None
            return self._default_function(value, owner, map_name)
        if draft.kind == "object":
            reporter.error(f"relation field {owner} cannot have a default", value.span)
            return None
        if draft.is_list:
            if not isinstance(value, ArrayExpr):
                reporter.error(
                    f"the default of list {owner} must be a list",
                    value.span,
                    f"e.g. `@default([])` or `@default([{expr_text(value)}])`",
                )
                return None
            values = [self._literal(draft, item, owner) for item in value.items]
            if any(v is None for v in values):
                return None
            return DefaultValue(
                "list", values=tuple(v for v in values if v is not None), map=map_name
            )
        literal = self._literal(draft, value, owner)
        if literal is None:
            return None
        return DefaultValue("literal", value=literal, map=map_name)

    def _default_function(
        self, call: FunctionCall, owner: str, map_name: str | None
    ) -> DefaultValue | None:
        args: list[LiteralValue] = []
        for argument in call.args:
            expr = argument.value
            if isinstance(expr, StringExpr):
                args.append(expr.value)
            elif isinstance(expr, NumberExpr) and _is_int(expr.text):
                args.append(int(expr.text))
            else:
                self.reporter.error(
                    f"unexpected argument {expr_text(expr)} to `{call.name}()`", expr.span
                )
                return None
        name = call.name
        if name == "uuid":
            if not args:
                args = [4]
            elif args not in ([4], [7]):
                self.reporter.error(
                    "`uuid()` takes the version 4 or 7", call.span, "e.g. `uuid(7)`"
                )
                return None
        elif name == "cuid":
            if not args:
                args = [1]
            elif args not in ([1], [2]):
                self.reporter.error("`cuid()` takes the version 1 or 2", call.span)
                return None
        elif name == "nanoid":
            if args and (not isinstance(args[0], int) or not 2 <= args[0] <= 255 or len(args) > 1):
                self.reporter.error("`nanoid()` takes a length between 2 and 255", call.span)
                return None
        elif name == "dbgenerated":
            if len(args) > 1 or (args and not isinstance(args[0], str)):
                self.reporter.error(
                    "`dbgenerated()` takes one SQL expression as a string",
                    call.span,
                    'e.g. `dbgenerated("gen_random_uuid()")`',
                )
                return None
            if args == [""]:
                self.reporter.error("`dbgenerated()` needs a non-empty expression", call.span)
                return None
        elif args:
            self.reporter.error(f"`{name}()` takes no arguments", call.span)
            return None
        return DefaultValue("function", name=name, args=tuple(args), map=map_name)

    def _literal(self, draft: FieldDraft, value: Expr, owner: str) -> LiteralValue | None:
        reporter = self.reporter
        expected = draft.type
        if draft.kind == "enum":
            enum = self.enums.get(draft.type)
            if isinstance(value, ConstantExpr) and enum is not None:
                if value.name in {v.name for v in enum.values}:
                    return value.name
                reporter.error(
                    f"`{value.name}` is not a value of enum `{enum.name}`",
                    value.span,
                    _did_you_mean(value.name, [v.name for v in enum.values])
                    or f"its values: {', '.join(v.name for v in enum.values)}",
                )
                return None
            if isinstance(value, ConstantExpr):
                return value.name
            reporter.error(
                f"the default of enum {owner} must be one of its values, not {describe_expr(value)}",
                value.span,
            )
            return None
        if draft.kind != "scalar":
            reporter.error(f"{owner} cannot have a literal default", value.span)
            return None
        scalar = ScalarType(expected)
        mismatch = f"the default of {owner} must be {_article(scalar)}, not {describe_expr(value)}"
        if scalar in (ScalarType.INT, ScalarType.BIGINT):
            if isinstance(value, NumberExpr) and _is_int(value.text):
                return int(value.text)
        elif scalar == ScalarType.DECIMAL:
            if isinstance(value, NumberExpr):
                return value.text  # kept as written: a Decimal must not pass through a float
        elif scalar == ScalarType.FLOAT:
            if isinstance(value, NumberExpr):
                return int(value.text) if _is_int(value.text) else float(value.text)
        elif scalar == ScalarType.BOOLEAN:
            if isinstance(value, ConstantExpr) and value.name in ("true", "false"):
                return value.name == "true"
        elif scalar == ScalarType.STRING:
            if isinstance(value, StringExpr):
                return value.value
        elif scalar == ScalarType.DATETIME:
            if isinstance(value, StringExpr):
                try:
                    datetime.fromisoformat(value.value.replace("Z", "+00:00"))
                except ValueError:
                    reporter.error(
                        f"`{value.value}` is not an RFC 3339 date-time",
                        value.span,
                        'e.g. `@default("2024-01-31T12:00:00Z")`, or `@default(now())`',
                    )
                    return None
                return value.value
        elif scalar == ScalarType.JSON:
            if isinstance(value, StringExpr):
                try:
                    json.loads(value.value)
                except ValueError:
                    reporter.error(
                        f"the default of {owner} is not valid JSON",
                        value.span,
                        'e.g. `@default("{}")` or `@default("[]")`',
                    )
                    return None
                return value.value
        elif scalar == ScalarType.BYTES and isinstance(value, StringExpr):
            try:
                base64.b64decode(value.value, validate=True)
            except ValueError:
                reporter.error(f"the default of {owner} is not valid base64", value.span)
                return None
            return value.value
        reporter.error(mismatch, value.span)
        return None

    def _block_attribute(self, draft: ModelDraft, attribute: Attribute) -> None:
        reporter = self.reporter
        owner = f"{draft.block.kind} `{draft.name}`"
        name = attribute.name
        if name not in _BLOCK_ATTRIBUTES:
            reporter.error(
                f"unknown attribute `@@{name}` on {owner}",
                attribute.name_span,
                _did_you_mean(name, _BLOCK_ATTRIBUTES),
            )
            return
        if name == "map":
            args = bind_args(attribute, ("name",), reporter, owner=owner)
            if args and (value := self._string(args.get("name"), attribute)) is not None:
                draft.db_name = value
        elif name == "ignore":
            if attribute.args:
                reporter.error("`@@ignore` takes no arguments", attribute.span)
            draft.is_ignored = True
        elif name == "schema":
            draft.schema = self._schema_attribute(attribute)
        elif name == "shardKey":
            reporter.error("`@@shardKey` is only supported on PlanetScale MySQL", attribute.span)
        elif name in ("id", "unique", "index", "fulltext"):
            params = {
                "id": ("fields", "name", "map", "length", "sort", "clustered"),
                "unique": ("fields", "name", "map", "length", "sort", "clustered", "where"),
                "index": ("fields", "name", "map", "type", "clustered", "where"),
                "fulltext": ("fields", "map"),
            }[name]
            args = bind_args(attribute, params, reporter, owner=owner)
            if args is not None:
                draft.key_attributes.append((attribute, args))

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
                _did_you_mean(name, [f.name for f in draft.fields]),
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

    def _schema_attribute(self, attribute: Attribute) -> str | None:
        args = bind_args(attribute, ("name",), self.reporter, owner="the block")
        if not args:
            return None
        value = self._string(args.get("name"), attribute)
        if value is None:
            return None
        known = self.datasource.schemas if self.datasource else ()
        if not known:
            self.reporter.error(
                "`@@schema` needs the datasource to list its schemas",
                attribute.span,
                f'add `schemas = ["{value}"]` to the datasource block',
            )
        elif value not in known:
            self.reporter.error(
                f"schema `{value}` is not listed in the datasource's `schemas`",
                attribute.span,
                _did_you_mean(value, known) or f'add "{value}" to `schemas`',
            )
        return value

    def _field_keys(self, draft: ModelDraft) -> None:
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
                    named_ops = index_field.ops is not None and not index_field.ops.startswith("raw(")
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
                        and _is_int(argument.value.text)
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
                    _did_you_mean(name, [f.name for f in draft.fields]),
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

    # -- whole-model checks ---------------------------------------------------------------

    def _check_unique_criteria(self, draft: ModelDraft) -> None:
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

    def _check_database_names(self, drafts: Iterable[ModelDraft]) -> None:
        tables: dict[tuple[str | None, str], ModelDraft] = {}
        constraint_names: dict[tuple[str | None, str], str] = {}
        for draft in drafts:
            if draft.is_view:
                continue
            key = (draft.schema, draft.db_name)
            if key in tables:
                self.reporter.error(
                    f"models `{tables[key].name}` and `{draft.name}` both use the table `{draft.db_name}`",
                    draft.block.name_span,
                    "give one of them another `@@map`",
                )
            else:
                tables[key] = draft
            columns: dict[str, FieldDraft] = {}
            for fd in draft.fields:
                if fd.kind == "object":
                    continue
                if fd.db_name in columns:
                    self.reporter.error(
                        f"fields `{columns[fd.db_name].name}` and `{fd.name}` of `{draft.name}` both use "
                        f"the column `{fd.db_name}`",
                        fd.decl.span,
                        "give one of them another `@map`",
                    )
                else:
                    columns[fd.db_name] = fd
            index_keys: dict[tuple[str, tuple[str, ...]], Index] = {}
            for index in draft.indexes:
                identity = (index.kind, tuple(f.name for f in index.fields))
                if (
                    index.kind == "unique"
                    and identity in index_keys
                    and not index.from_field_attribute
                ):
                    self.reporter.error(
                        f"model `{draft.name}` has the same unique constraint twice",
                        draft.block.name_span,
                    )
                index_keys[identity] = index
            scope = draft.schema if self.provider != "sqlite" else None
            for index in draft.indexes:
                key2 = (scope, index.db_name)
                if key2 in constraint_names:
                    self.reporter.error(
                        f"the index name `{index.db_name}` on `{draft.name}` is already used by "
                        f"{constraint_names[key2]}",
                        draft.block.name_span,
                        "give one of them another `map:`",
                    )
                else:
                    constraint_names[key2] = f"`{draft.name}`"

    # -- freezing -------------------------------------------------------------------------

    def _freeze_model(self, draft: ModelDraft, foreign_keys: Sequence[ForeignKey]) -> Model:
        pk_names = {f.name for f in draft.primary_key.fields} if draft.primary_key else set()
        fields = tuple(
            _freeze_field(fd, is_id=fd.name in pk_names and len(pk_names) == 1)
            for fd in draft.fields
        )
        return Model(
            name=draft.name,
            db_name=draft.db_name,
            fields=fields,
            primary_key=draft.primary_key,
            indexes=tuple(draft.indexes),
            foreign_keys=tuple(foreign_keys),
            documentation=_doc(draft.block.documentation),
            is_view=draft.is_view,
            is_ignored=draft.is_ignored,
            schema=draft.schema,
            span=draft.block.name_span,
        )

    def _string(self, expr: Expr | None, attribute: Attribute | None) -> str | None:
        if expr is None:
            return None
        if isinstance(expr, StringExpr):
            if not expr.value:
                self.reporter.error("the name must not be empty", expr.span)
                return None
            return expr.value
        self.reporter.error(f"expected a string, found {describe_expr(expr)}", expr.span)
        return None


def _freeze_field(draft: FieldDraft, *, is_id: bool | None = None) -> Field:
    return Field(
        name=draft.name,
        db_name=draft.db_name,
        kind=draft.kind,
        type=draft.type,
        is_required=draft.is_required,
        is_list=draft.is_list,
        is_id=draft.is_id if is_id is None else is_id,
        is_unique=draft.is_unique,
        is_updated_at=draft.is_updated_at,
        is_ignored=draft.is_ignored,
        default=draft.default,
        native_type=draft.native_type,
        documentation=_doc(draft.decl.documentation, draft.decl.trailing_comment),
        relation_name=draft.relation_name,
        relation_from_fields=draft.relation_from_fields,
        relation_to_fields=draft.relation_to_fields,
        relation_on_delete=ReferentialAction(draft.relation_on_delete)
        if draft.relation_on_delete
        else None,
        relation_on_update=ReferentialAction(draft.relation_on_update)
        if draft.relation_on_update
        else None,
        span=draft.decl.span,
    )


def _is_comment(member: object) -> bool:
    return isinstance(member, Comment)


def _doc(lines: Sequence[str], trailing: str | None = None) -> str | None:
    """Documentation from ``///`` lines (and a trailing ``///`` or ``/* */``), each line trimmed."""
    entries = list(lines)
    if trailing is not None and trailing.startswith("/"):
        entries.append(trailing[1:])
    if not entries:
        return None
    return "\n".join(part.strip() for entry in entries for part in entry.split("\n"))


def _is_int(text: str) -> bool:
    return "." not in text


def _sort(expr: Expr | None) -> Literal["Asc", "Desc"] | None:
    if isinstance(expr, ConstantExpr) and expr.name in ("Asc", "Desc"):
        return "Asc" if expr.name == "Asc" else "Desc"
    return None


def _article(scalar: ScalarType) -> str:
    return {
        ScalarType.INT: "an integer",
        ScalarType.BIGINT: "an integer",
        ScalarType.FLOAT: "a number",
        ScalarType.DECIMAL: "a number",
        ScalarType.BOOLEAN: "`true` or `false`",
        ScalarType.STRING: "a string",
        ScalarType.DATETIME: "a date-time string or `now()`",
        ScalarType.JSON: "a JSON string",
        ScalarType.BYTES: "a base64 string",
    }[scalar]


def _did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            matches = [lowered[name.lower()]]
    return f"did you mean `{matches[0]}`?" if matches else None


def _where(span: Span) -> str:
    return f"{span.file}:{span.line}:{span.column}"
