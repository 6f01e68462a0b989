"""A database catalog written back as schema text: the pure half of ``db pull``.

Follows Prisma's ``db pull`` conventions: one model per table (implicit m:n join
tables ``_AToB`` become list relation fields instead), ``@map``/``@@map`` where a
database name is not a valid identifier, ``@db.*`` only where the type differs
from the scalar's default, ``map:`` only where a constraint name differs from
Prisma's default, referential actions only where they differ from the defaults,
relation fields on both sides named after the model they point to, and
``@@ignore`` on tables whose rows cannot be identified. ``@updatedAt`` leaves no
trace in a database, so it cannot be pulled (as in Prisma) unless an existing
schema lends it. Column types and defaults come from ``_introspect_types``,
relations from ``_introspect_relations``; this module builds the models and text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from datatier.migrate._catalog import Catalog, EnumType, Index, Table
from datatier.migrate._introspect_blocks import (
    PulledField,
    PulledJoin,
    PulledModel,
    attribute,
    constraint_map,
)
from datatier.migrate._introspect_hints import Hints
from datatier.migrate._introspect_names import (
    NameScope,
    claim_all,
    claim_names,
    model_name,
    sanitize,
)
from datatier.migrate._introspect_relations import RelationPuller
from datatier.migrate._introspect_types import (
    ColumnReader,
    EnumNames,
    FieldType,
    column_reader,
    column_reader_class,
)
from datatier.migrate._introspect_types import string_literal as _string
from datatier.schema._format import format_schema_text
from datatier.schema._ir import ScalarType

__all__ = ["PulledExtension", "render_pulled_schema"]

_METHODS = {"hash": "Hash", "gist": "Gist", "gin": "Gin", "spgist": "SpGist", "brin": "Brin"}

IGNORED_COMMENT = (
    "/// This table has no primary key and no unique index over required columns, so its rows "
    "cannot be told apart: the model is ignored (@@ignore), as Prisma's db pull does."
)


@dataclass(frozen=True)
class PulledExtension:
    """A PostgreSQL extension installed in the database, and the schema holding its objects."""

    name: str
    schema: str
    version: str | None = None


def render_pulled_schema(
    catalogs: Mapping[str, Catalog],
    provider: str,
    extensions: Sequence[PulledExtension] = (),
    *,
    multi_schema: bool = False,
    hints: Hints | None = None,
) -> str:
    """Schema text (datasource, models, enums) describing ``catalogs``, laid out as ``format`` does.

    ``catalogs`` maps database schema names to their catalogs: one entry (the URL's
    schema; ``main`` on SQLite), or with ``multi_schema`` each schema the datasource
    lists, whose models and enums then carry ``@@schema``. ``extensions`` become the
    datasource's ``extensions`` (with the preview feature Prisma asks for); one
    installed outside the first schema keeps its ``schema:``. ``hints`` (from an
    existing schema) give models, fields, enums and relations their names there.
    """
    return _Puller(catalogs, provider, extensions, multi_schema, hints or Hints()).render()


class _Puller(RelationPuller):
    def __init__(
        self,
        catalogs: Mapping[str, Catalog],
        provider: str,
        extensions: Sequence[PulledExtension],
        multi_schema: bool,
        hints: Hints,
    ) -> None:
        self.catalogs = catalogs
        self.hints = hints
        self.multi_schema = multi_schema
        self.tables = [(name, t) for name, catalog in catalogs.items() for t in catalog.tables]
        self.provider = provider
        self.preview_features: list[str] = []
        self.datasource = self._datasource(extensions, next(iter(catalogs), "public"))
        enums = [(name, e) for name, catalog in catalogs.items() for e in catalog.enums]
        if not column_reader_class(provider).has_enum_types:
            # Enums a schema keeps where the database stores text.
            first = next(iter(catalogs), "main")
            enums.extend(
                (first, EnumType(db_name, tuple(values)))
                for db_name, (_, values) in hints.enum_definitions.items()
            )
        # Tables and enums share one namespace; a table keeps its name before an enum does.
        keys = [(s, t.name) for s, t in self.tables] + [(s, e.name) for s, e in enums]
        hinted = {
            key: name
            for key in keys
            if (name := hints.models.get(key[1]) or hints.enums.get(key[1])) is not None
        }
        top_names = claim_all(
            NameScope(), keys, lambda key: model_name(key[1]), lambda key: key[1], hinted
        )
        self.model_names = {(s, t.name): top_names[(s, t.name)] for s, t in self.tables}
        self.enum_blocks: list[str] = []
        self.enum_names: set[str] = set()
        enum_names: EnumNames = {}
        for db_schema, enum in enums:
            name = top_names[(db_schema, enum.name)]
            values = claim_names(
                NameScope(),
                enum.values,
                {
                    label: hint
                    for label in enum.values
                    if (hint := hints.enum_values.get((enum.name, label))) is not None
                },
            )
            enum_names[(db_schema, enum.name)] = (name, values)
            self.enum_names.add(name)
            self.enum_blocks.append(self._enum_block(name, db_schema, enum.name, values))
        self.columns: ColumnReader = column_reader(provider, catalogs, enum_names)
        self.models: dict[tuple[str, str], PulledModel] = {}
        self.joins: list[PulledJoin] = []

    def _datasource(self, extensions: Sequence[PulledExtension], db_schema: str) -> list[str]:
        """The datasource block's lines: provider, database schemas, extensions."""
        lines = [f"  provider = {_string(self.provider)}"]
        if self.hints.relation_mode == "prisma":
            lines.append('  relationMode = "prisma"')
        if self.multi_schema:
            lines.append(f"  schemas  = [{', '.join(_string(n) for n in self.catalogs)}]")
        if extensions:
            self.preview_features.append("postgresqlExtensions")
            items = []
            for extension in extensions:
                # The existing schema's spelling where the database agrees with it.
                hint_schema, hint_version = self.hints.extensions.get(extension.name, (None, None))
                name = sanitize(extension.name)
                args = [] if name == extension.name else [f"map: {_string(extension.name)}"]
                if extension.schema != db_schema or hint_schema == extension.schema:
                    args.append(f"schema: {_string(extension.schema)}")
                if hint_version is not None and hint_version == extension.version:
                    args.append(f"version: {_string(extension.version)}")
                items.append(attribute(name, args))
            lines.append(f"  extensions = [{', '.join(items)}]")
        return lines

    def _enum_block(
        self, name: str, db_schema: str, db_name: str, values: Mapping[str, str]
    ) -> str:
        lines = [
            f"  {value}" + (f" @map({_string(label)})" if value != label else "")
            for label, value in values.items()
        ]
        if name != db_name:
            lines.append(f"  @@map({_string(db_name)})")
        if self.multi_schema:
            lines.append(f"  @@schema({_string(db_schema)})")
        return f"enum {name} {{\n" + "\n".join(lines) + "\n}"

    # -- models --------------------------------------------------------------------

    def render(self) -> str:
        for db_schema, table in self.tables:
            self.models[(db_schema, table.name)] = self._scalar_model(db_schema, table)
        # Renames first (a join table may give its models their names back), then the
        # join tables whose A side sorts first under the final names.
        for _ in range(3):  # a rename may put another join table's sides out of order
            before = [m.name for m in self.models.values()]
            for db_schema, table in self.tables:
                self._join_table(db_schema, table, rename=True)
            if [m.name for m in self.models.values()] == before:
                break
        for db_schema, table in self.tables:
            join = self._join_table(db_schema, table, rename=False)
            if join is not None:
                del self.models[(db_schema, table.name)]
                self.joins.append(join)
        self._relations()
        blocks = ["datasource db {\n" + "\n".join(self.datasource) + "\n}"]
        if self.preview_features:
            features = ", ".join(_string(f) for f in sorted(set(self.preview_features)))
            blocks.append(
                'generator client {\n  provider = "prisma-client-js"\n'
                f"  previewFeatures = [{features}]\n}}"
            )
        models = sorted(self.models.values(), key=lambda m: m.name)
        blocks.extend(self._render_model(m) for m in models)
        blocks.extend(self.enum_blocks)
        return format_schema_text("\n\n".join(blocks) + "\n", "pulled.prisma")

    def _scalar_model(self, db_schema: str, table: Table) -> PulledModel:
        model = PulledModel(self.model_names[(db_schema, table.name)], table, db_schema)
        scope = model.scope
        pk = table.primary_key
        single_uniques = self._single_column_uniques(table)
        names = claim_names(
            scope,
            [c.name for c in table.columns],
            {
                c.name: hint
                for c in table.columns
                if (hint := self.hints.fields.get((table.name, c.name))) is not None
            },
        )
        for column in table.columns:
            name = names[column.name]
            model.columns[column.name] = name
            type_ = self._hinted_enum(
                db_schema, table, column.name, self.columns.field_type(column, db_schema)
            )
            attributes: list[str] = []
            if pk is not None and pk.columns == (column.name,):
                attributes.append(
                    attribute("@id", self._constraint_map(pk.name, table, (), "pkey"))
                )
            unique = single_uniques.get(column.name)
            if unique is not None:
                mapped = self._constraint_map(unique.name, table, (column.name,), "key")
                attributes.append(attribute("@unique", mapped))
            default = self.columns.default(db_schema, table, column, type_)
            hinted = (table.name, column.name)
            default = self._hinted_json(hinted, default)
            if (
                default is not None
                and hinted in self.hints.no_default
                and self.columns.implied(column, default)
            ):
                default = None
            elif (
                default is None
                and hinted in self.hints.autoincrement
                and self.columns.untraced_autoincrement(table, column)
            ):
                default = "autoincrement()"
            if default is not None:
                attributes.append(f"@default({default})")
            for kept in self.hints.attributes.get((table.name, column.name), ()):
                if default is None or not kept.startswith("@default("):
                    attributes.append(kept)
            if name != column.name:
                attributes.append(f"@map({_string(column.name)})")
            if type_.native is not None:
                attributes.append(f"@db.{type_.native}")
            optional = self.columns.nullable(table, column) or (
                # An ignored model's optional id: PostgreSQL makes key columns NOT NULL.
                hinted in self.hints.optional_keys and table.name in self.hints.ignored
            )
            model.fields.append(
                PulledField(
                    name,
                    type_.render(optional),
                    attributes,
                    self.hints.field_docs.get(hinted),
                )
            )
        if pk is not None and len(pk.columns) > 1:
            fields = ", ".join(model.columns[c] for c in pk.columns)
            mapped = self._constraint_map(pk.name, table, (), "pkey")
            model.block_attributes.append(attribute("@@id", [f"[{fields}]", *mapped]))
        for index in table.indexes:
            if index in single_uniques.values():
                continue
            written = self._index_attribute(model, index)
            if written is None:
                model.notes.append(f"the index {_string(index.name)} (an expression index)")
            else:
                model.block_attributes.append(written)
        model.notes.extend(f"the check constraint {_string(c.name)}" for c in table.checks)
        model.ignored = table.name in self.hints.ignored or not self._identifiable(db_schema, table)
        return model

    def _hinted_enum(
        self, db_schema: str, table: Table, column: str, type_: FieldType
    ) -> FieldType:
        """A text column an existing schema declares as an enum, where enums are only in schemas."""
        enum = self.hints.enum_columns.get((table.name, column))
        key = (db_schema, enum or "")
        if self.columns.has_enum_types or type_.scalar is not ScalarType.STRING:
            return type_
        if enum is None or key not in self.columns.enum_names:
            return type_
        name = self.columns.enum_names[key][0]
        return FieldType(name, "enum", None, type_.is_list, key)

    def _hinted_json(self, hinted: tuple[str, str], default: str | None) -> str | None:
        """A Json default in the existing schema's spelling when it is the same value.

        PostgreSQL's jsonb keeps objects in its own key order and spacing.
        """
        text = self.hints.json_defaults.get(hinted)
        if text is None or default is None or not default.startswith('"'):
            return default
        try:
            same = json.loads(json.loads(default)) == json.loads(text)
        except ValueError:
            return default
        return _string(text) if same else default

    def _single_column_uniques(self, table: Table) -> dict[str, Index]:
        """Unique indexes over one plain column, each written as ``@unique`` on its field."""
        found: dict[str, Index] = {}
        for index in table.indexes:
            if (
                index.unique
                and len(index.columns) == 1
                and self._plain(index)
                and not index.columns[0].descending
                and index.columns[0].opclass is None
                and index.columns[0].name not in found
            ):
                found[index.columns[0].name] = index
        return found

    def _plain(self, index: Index) -> bool:
        """Whether ``index`` is a B-tree over columns with nothing a schema cannot say."""
        return (
            index.method in (None, "btree")
            and index.predicate is None
            and not index.include
            and all(not c.expression for c in index.columns)
        )

    def _identifiable(self, db_schema: str, table: Table) -> bool:
        required = {c.name for c in table.columns if not self.columns.nullable(table, c)}
        unsupported = {
            c.name
            for c in table.columns
            if self.columns.field_type(c, db_schema).kind == "unsupported"
        }
        pk = table.primary_key
        if pk is not None and set(pk.columns) <= required:
            return True
        # A partial unique index identifies rows too, as far as Prisma's validator goes.
        return any(
            index.unique
            and all(not c.expression for c in index.columns)
            and {c.name for c in index.columns} <= required - unsupported
            for index in table.indexes
        )

    def _constraint_map(
        self, name: str | None, table: Table, columns: Sequence[str], suffix: str
    ) -> list[str]:
        return constraint_map(self.provider, name, table, columns, suffix)

    def _index_attribute(self, model: PulledModel, index: Index) -> str | None:
        if any(c.expression for c in index.columns) or any(
            c.name not in model.columns for c in index.columns
        ):
            return None  # an expression index has no schema spelling
        keys = []
        for key in index.columns:
            args = []
            if key.descending:
                args.append("sort: Desc")
            if key.opclass is not None and self.provider == "postgresql":
                args.append(f"ops: raw({_string(key.opclass)})")
            keys.append(attribute(model.columns[key.name], args))
        kind = "unique" if index.unique else "index"
        suffix = "key" if index.unique else "idx"
        columns = [c.name for c in index.columns]
        parts = [
            f"[{', '.join(keys)}]",
            *self._constraint_map(index.name, model.table, columns, suffix),
        ]
        if index.method not in (None, "btree") and index.method in _METHODS:
            parts.append(f"type: {_METHODS[index.method]}")
        if index.predicate is not None:
            self.preview_features.append("partialIndexes")
            parts.append(f"where: raw({_string(self.columns.predicate(index.predicate))})")
        return attribute(f"@@{kind}", parts)

    # -- text ----------------------------------------------------------------------

    def _render_model(self, model: PulledModel) -> str:
        lines = []
        if model.notes:
            lines.append(
                f"// Not described here, kept only in the database: {', '.join(model.notes)}."
            )
        documentation = self.hints.docs.get(model.table.name, "")
        if model.ignored and IGNORED_COMMENT.removeprefix("/// ") not in documentation:
            lines.append(IGNORED_COMMENT)
        lines.extend(f"/// {line}".rstrip() for line in documentation.splitlines())
        lines.append(f"model {model.name} {{")
        for f in model.fields:
            if f.documentation:
                lines.extend(f"  /// {line}".rstrip() for line in f.documentation.splitlines())
            lines.append(f"  {f.name} {f.type} {' '.join(f.attributes)}".rstrip())
        attributes = list(model.block_attributes)
        if model.name != model.table.name:
            attributes.append(f"@@map({_string(model.table.name)})")
        if model.ignored:
            attributes.append("@@ignore")
        if self.multi_schema:
            attributes.append(f"@@schema({_string(model.schema)})")
        if attributes:
            lines.append("")
            lines.extend(f"  {a}" for a in attributes)
        lines.append("}")
        return "\n".join(lines)
