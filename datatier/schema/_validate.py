"""Syntax tree -> resolved IR, with Prisma's validation rules; every problem is reported at once."""

from __future__ import annotations

from collections.abc import Sequence

from datatier.errors import SchemaError, Span
from datatier.schema import _catalog_rules as rules
from datatier.schema._args import Reporter, bind_args, expr_text, once_each, repeats
from datatier.schema._ast import (
    Attribute,
    Block,
    EnumValueDecl,
    Expr,
    FieldDecl,
    NumberExpr,
    SchemaFile,
)
from datatier.schema._config_blocks import ConfigBlocks
from datatier.schema._database_names import check_database_names
from datatier.schema._defaults import Defaults
from datatier.schema._drafts import (
    FieldDraft,
    ModelDraft,
    Part,
    a_or_an,
    did_you_mean,
    doc_text,
    is_comment,
    sort_order,
)
from datatier.schema._gc import collector_paused
from datatier.schema._ir import (
    CompositeType,
    Datasource,
    Enum,
    EnumValue,
    Field,
    FieldKind,
    ForeignKey,
    Model,
    NativeType,
    ReferentialAction,
    ScalarType,
    Schema,
)
from datatier.schema._keys import Keys
from datatier.schema._relations import resolve_relations
from datatier.schema._source import Source

__all__ = ["build_schema"]

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


def build_schema(files: Sequence[SchemaFile], path: str | None = None) -> Schema:
    """Resolve parsed files into one ``Schema``; raises ``SchemaError`` listing every problem."""
    with collector_paused():
        sources = {f.path: Source(f.path, f.text) for f in files}
        builder = _Builder(files, Reporter(sources))
        schema = builder.build(path)
    if builder.reporter.has_errors:
        order = {f.path: index for index, f in enumerate(files)}
        raise SchemaError(
            sorted(
                builder.reporter.diagnostics,
                key=lambda d: (order.get(d.span.file, -1), d.span.start) if d.span else (-1, 0),
            )
        )
    return schema


class _Builder(Part):
    def __init__(self, files: Sequence[SchemaFile], reporter: Reporter) -> None:
        super().__init__(reporter)
        self.files = files
        self.blocks = [block for f in files for block in f.blocks]
        self.datasource: Datasource | None = None
        self.enum_blocks: dict[str, Block] = {}
        self.model_blocks: dict[str, Block] = {}
        self.type_blocks: dict[str, Block] = {}
        self.defaults: Defaults  # made once the datasource says which provider
        self.keys: Keys

    # -- the whole ---------------------------------------------------------------------

    def build(self, path: str | None) -> Schema:
        self._check_top_level_names()
        config = ConfigBlocks(self.reporter, self.blocks)
        self.datasource, generators = config.read()
        self.provider = config.provider
        for generator in generators:
            self.preview_features.update(generator.preview_features)
        self.defaults = Defaults(self.reporter, self.provider, self.preview_features, self.enums)
        self.keys = Keys(self.reporter, self.provider, self.preview_features, self.enums)
        for block in self.blocks:
            if block.kind == "enum" and block.name in self.enum_blocks:
                self.enums[block.name] = self._enum(block)
        drafts = [self._model(block) for block in self.model_blocks.values()]
        self._check_schema_attributes(drafts)
        composites = tuple(self._composite(block) for block in self.type_blocks.values())
        by_name = {draft.name: draft for draft in drafts}
        relations, foreign_keys = resolve_relations(
            by_name, self.provider, self.datasource, self.reporter
        )
        for draft in drafts:
            self.keys.check_unique_criteria(draft)
        check_database_names(
            drafts, foreign_keys, self.enums, self.enum_blocks, self.provider, self.reporter
        )
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

    def _check_schema_attributes(self, drafts: Sequence[ModelDraft]) -> None:
        """With ``schemas`` in the datasource, every model and enum says which one it lives in."""
        if self.datasource is None or not self.datasource.schemas:
            return
        missing = [(d.block, d.schema) for d in drafts] + [
            (self.enum_blocks[e.name], e.schema) for e in self.enums.values()
        ]
        for block, schema in missing:
            if schema is None:
                self.reporter.error(
                    f"{block.kind} `{block.name}` has no `@@schema` attribute",
                    block.name_span,
                    "the datasource lists `schemas`, so say where it lives, e.g. "
                    f'`@@schema("{self.datasource.schemas[0]}")`',
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
                    f"(first as {a_or_an(previous.kind)} at {_where(previous.name_span)})",
                    block.name_span,
                    "rename or remove one of them",
                )
                continue
            seen[key] = block
            if block.kind in ("model", "view", "enum", "type"):
                self._check_name(block.name, block.kind, block.name_span)
                reserved = rules.RESERVED_MODEL_NAMES if block.kind != "type" else _SCALARS
                if block.name in reserved:
                    self.reporter.error(
                        f"the {block.kind} name `{block.name}` is reserved",
                        block.name_span,
                        'choose another name (and keep the database name with `@@map("'
                        f'{block.name}")` if needed)'
                        if block.kind != "type"
                        else "choose another name",
                    )
            if block.kind in ("model", "view"):
                self.model_blocks[block.name] = block
            elif block.kind == "enum":
                self.enum_blocks[block.name] = block
            elif block.kind == "type":
                self.type_blocks[block.name] = block

    def _check_name(self, name: str, what: str, span: Span) -> None:
        """Names of models, enums, types, fields and enum values are identifiers without `-`."""
        if "-" in name:
            self.reporter.error(
                f"the {what} name `{name}` contains `-`, which names cannot contain",
                span,
                f"use `{name.replace('-', '_')}` (and `@map` for a database name with `-`)",
            )

    # -- datasource and generators ----------------------------------------------------

    # -- enums and composite types ------------------------------------------------------

    def _enum(self, block: Block) -> Enum:
        values: list[EnumValue] = []
        seen: set[str] = set()
        db_name = block.name
        schema = None
        repeated = set(map(id, repeats(block.members, ("map", "schema"), self.reporter)))
        for member in block.members:
            if id(member) in repeated:
                continue
            if isinstance(member, EnumValueDecl):
                if member.name in seen:
                    self.reporter.error(
                        f"value `{member.name}` appears twice in enum `{block.name}`", member.span
                    )
                    continue
                seen.add(member.name)
                self._check_name(member.name, "enum value", member.span)
                value_db = member.name
                for attribute in once_each(member.attributes, ("map",), self.reporter):
                    if attribute.name == "map":
                        args = bind_args(
                            attribute, ("name",), self.reporter, owner=f"value `{member.name}`"
                        )
                        if args is not None and (v := self._map_name(args, attribute)) is not None:
                            value_db = v
                    else:
                        self.reporter.error(
                            f"attribute `@{attribute.name}` is not allowed on an enum value",
                            attribute.span,
                            'enum values take only `@map("name")`',
                        )
                values.append(
                    EnumValue(
                        member.name,
                        value_db,
                        doc_text(member.documentation, member.trailing_comment),
                    )
                )
            elif isinstance(member, Attribute):
                if member.name == "map":
                    args = bind_args(member, ("name",), self.reporter, owner=f"enum `{block.name}`")
                    if args is not None and (v := self._map_name(args, member)) is not None:
                        db_name = v
                elif member.name == "schema":
                    schema = self._schema_attribute(member)
                else:
                    self.reporter.error(
                        f"attribute `@@{member.name}` is not allowed on an enum",
                        member.span,
                        "enums take `@@map` and `@@schema`",
                    )
            elif not is_comment(member):
                self.reporter.error("unexpected member in an enum", member.span)
        if not values:
            self.reporter.error(
                f"enum `{block.name}` has no values", block.name_span, "add at least one value"
            )
        return Enum(block.name, db_name, tuple(values), doc_text(block.documentation), schema)

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
        return CompositeType(block.name, tuple(fields), doc_text(block.documentation))

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
                self._check_name(member.name, "field", member.name_span)
                field_draft = self._field(member, block)
                if field_draft is not None:
                    draft.fields.append(field_draft)
            elif isinstance(member, Attribute):
                block_attributes.append(member)
            elif not is_comment(member):
                self.reporter.error(
                    f"unexpected member in {block.kind} `{block.name}`", member.span
                )
        for attribute in once_each(
            block_attributes, ("map", "ignore", "id", "schema"), self.reporter
        ):
            self._block_attribute(draft, attribute)
        if not draft.is_ignored:  # Prisma does not hold an ignored model's id to these rules
            for fd in draft.fields:
                if fd.is_id and (not fd.is_required or fd.is_list):
                    self.reporter.error(
                        f"field `{draft.name}.{fd.name}` is "
                        f"{'a list' if fd.is_list else 'optional'} and cannot be an id",
                        next(a.span for a in fd.decl.attributes if a.name == "id"),
                        "an id is a single required value: remove `[]`"
                        if fd.is_list
                        else "make the field required (remove `?`)",
                    )
        if draft.is_view:
            self.keys.check_view_keys(draft)
        if draft.is_ignored:
            for fd in draft.fields:
                for attribute in fd.decl.attributes:
                    if attribute.name == "ignore":
                        self.reporter.error(
                            f"`{draft.name}` is `@@ignore`d as a whole, so its fields need no "
                            "`@ignore`",
                            attribute.span,
                            f"remove `@ignore` from `{fd.name}`",
                        )
        self.keys.resolve(draft)
        self._check_autoincrement(draft)
        return draft

    def _check_autoincrement(self, draft: ModelDraft) -> None:
        """SQLite (and a schema without datasource) count up only the single-field primary key."""
        if draft.is_view or (self.datasource is not None and self.provider != "sqlite"):
            return
        pk = draft.primary_key
        pk_field = pk.fields[0].name if pk is not None and len(pk.fields) == 1 else None
        for fd in draft.fields:
            default = fd.default
            if default is not None and default.name == "autoincrement" and fd.name != pk_field:
                where = "SQLite" if self.datasource is not None else "a schema without datasource"
                self.reporter.error(
                    f"`autoincrement()` on {where} only fills the id, and "
                    f"`{draft.name}.{fd.name}` is not the model's single-field id",
                    fd.decl.span,
                    "remove the default, or make the field the `@id`",
                )

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
                did_you_mean(field_type.name, candidates),
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
            and (self.provider not in rules.SCALAR_LIST_PROVIDERS or self.datasource is None)
        ):
            where = self.provider if self.datasource else "a schema without datasource"
            self.reporter.error(
                f"{owner} is a list of {type_name}, but {where} has no scalar lists",
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
                did_you_mean(name, _FIELD_ATTRIBUTES, "@{}"),
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
                    f"`@relation` can only be used on a relation field, and {owner} is {a_or_an(draft.type)}",
                    attribute.span,
                )
                return
            draft.relation = attribute
        elif name == "id":
            args = bind_args(
                attribute,
                ("map", "length", "sort", "clustered"),
                reporter,
                owner=owner,
                positional=False,
            )
            if args:
                self.keys.check_key_options(attribute, args, "a primary key")
            draft.is_id = True
            if args:
                draft.id_map = self._string(args.get("map"), attribute)
                draft.id_sort = sort_order(args.get("sort"))
        elif name == "unique":
            args = bind_args(
                attribute,
                ("map", "length", "sort", "clustered"),
                reporter,
                owner=owner,
                positional=False,
            )
            if args:
                self.keys.check_key_options(attribute, args, "a unique constraint")
            draft.is_unique = True
            if args:
                draft.unique_map = self._string(args.get("map"), attribute)
                draft.unique_sort = sort_order(args.get("sort"))
        elif name == "map":
            args = bind_args(attribute, ("name",), reporter, owner=owner)
            if args is not None and (value := self._map_name(args, attribute)) is not None:
                draft.db_name = value
        elif name == "updatedAt":
            if attribute.args:
                reporter.error("`@updatedAt` takes no arguments", attribute.span)
            if draft.type != ScalarType.DATETIME.value or draft.kind != "scalar":
                reporter.error(
                    f"`@updatedAt` needs a DateTime field, and {owner} is {a_or_an(draft.type)}",
                    attribute.span,
                )
            elif draft.is_list:
                reporter.error("`@updatedAt` cannot be used on a list", attribute.span)
            draft.is_updated_at = True
        elif name == "ignore":
            if attribute.args:
                reporter.error("`@ignore` takes no arguments", attribute.span)
            if draft.kind == "unsupported":
                reporter.error(
                    f"{owner} is `Unsupported`, so it is left out of the client already",
                    attribute.span,
                    "remove `@ignore`",
                )
            draft.is_ignored = True
        elif name == "default":
            args = bind_args(attribute, ("value", "map"), reporter, owner=owner)
            if args is not None:
                default_expr = args.get("value")
                if default_expr is None:
                    reporter.error(f"`@default` on {owner} needs a value", attribute.span)
                else:
                    draft.default = self.defaults.read(draft, default_expr, owner, args.get("map"))
        elif name == "shardKey":
            reporter.error("`@shardKey` is only supported on PlanetScale MySQL", attribute.span)
        elif name == "db":
            reporter.error(
                "a native type is written `@db.TypeName`", attribute.span, "e.g. `@db.VarChar(255)`"
            )

    def _native_type(self, draft: FieldDraft, attribute: Attribute, owner: str) -> None:
        prefix, _, type_name = attribute.name.partition(".")
        if self.datasource is None:
            self.reporter.error(
                f"native type `@{attribute.name}` on {owner} needs a datasource",
                attribute.name_span,
                "add a `datasource` block that says which database, or remove the attribute",
            )
            return
        datasource_name = self.datasource.name
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
                    did_you_mean(type_name, table)
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
            problem = rules.native_argument_problem(type_name, arguments)
            if problem is not None:
                self.reporter.error(
                    f"`@{datasource_name}.{type_name}({', '.join(arguments)})` on {owner}: {problem}",
                    attribute.span,
                )
                return
        draft.native_type = NativeType(type_name, arguments)

    def _block_attribute(self, draft: ModelDraft, attribute: Attribute) -> None:
        reporter = self.reporter
        owner = f"{draft.block.kind} `{draft.name}`"
        name = attribute.name
        if name not in _BLOCK_ATTRIBUTES:
            reporter.error(
                f"unknown attribute `@@{name}` on {owner}",
                attribute.name_span,
                did_you_mean(name, _BLOCK_ATTRIBUTES, "@@{}"),
            )
            return
        if name == "map":
            args = bind_args(attribute, ("name",), reporter, owner=owner)
            if args is not None and (value := self._map_name(args, attribute)) is not None:
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

    def _map_name(self, args: dict[str, Expr], attribute: Attribute) -> str | None:
        """The database name given to ``@map``/``@@map`` (reported when it is missing)."""
        expr = args.get("name")
        if expr is None:
            label = f"@{'@' if attribute.is_block else ''}map"
            self.reporter.error(
                f"`{label}` needs the database name", attribute.span, f'e.g. `{label}("name")`'
            )
            return None
        return self._string(expr, attribute)

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
                did_you_mean(value, known) or f'add "{value}" to `schemas`',
            )
        return value

    # -- whole-model checks ---------------------------------------------------------------

    # -- freezing -------------------------------------------------------------------------

    def _freeze_model(self, draft: ModelDraft, foreign_keys: Sequence[ForeignKey]) -> Model:
        pk_names = {f.name for f in draft.primary_key.fields} if draft.primary_key else set()
        # A one-field `@@unique([f])` makes `f` unique just as `@unique` does.
        unique_names = {
            index.fields[0].name
            for index in draft.indexes
            if index.kind == "unique" and len(index.fields) == 1 and index.where is None
        }
        fields = tuple(
            _freeze_field(
                fd,
                is_id=fd.name in pk_names and len(pk_names) == 1,
                is_unique=fd.name in unique_names,
            )
            for fd in draft.fields
        )
        return Model(
            name=draft.name,
            db_name=draft.db_name,
            fields=fields,
            primary_key=draft.primary_key,
            indexes=tuple(draft.indexes),
            foreign_keys=tuple(foreign_keys),
            documentation=doc_text(draft.block.documentation),
            is_view=draft.is_view,
            is_ignored=draft.is_ignored,
            schema=draft.schema,
            span=draft.block.name_span,
        )


def _freeze_field(
    draft: FieldDraft, *, is_id: bool | None = None, is_unique: bool = False
) -> Field:
    return Field(
        name=draft.name,
        db_name=draft.db_name,
        kind=draft.kind,
        type=draft.type,
        is_required=draft.is_required,
        is_list=draft.is_list,
        is_id=draft.is_id if is_id is None else is_id,
        is_unique=draft.is_unique or is_unique,
        is_updated_at=draft.is_updated_at,
        is_ignored=draft.is_ignored,
        default=draft.default,
        native_type=draft.native_type,
        documentation=doc_text(draft.decl.documentation, draft.decl.trailing_comment),
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


def _where(span: Span) -> str:
    return f"{span.file}:{span.line}:{span.column}"
