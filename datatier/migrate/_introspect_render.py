"""A database catalog written back as schema text: the pure half of ``db pull``.

Follows Prisma's ``db pull`` conventions: one model per table (implicit m:n join
tables ``_AToB`` become list relation fields instead), ``@map``/``@@map`` where a
database name is not a valid identifier, ``@db.*`` only where the type differs
from the scalar's default, ``map:`` only where a constraint name differs from
Prisma's default, referential actions only where they differ from the defaults,
relation fields on both sides named after the model they point to, and
``@@ignore`` on tables whose rows cannot be identified. ``@updatedAt`` leaves no
trace in a database, so it cannot be pulled (as in Prisma).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from datatier.migrate._catalog import Catalog, EnumType, ForeignKey, Index, Table
from datatier.migrate._introspect_hints import Hints
from datatier.migrate._introspect_names import (
    NameScope,
    camel,
    claim_all,
    claim_names,
    model_name,
    plural,
    sanitize,
)
from datatier.migrate._introspect_types import (
    ColumnReader,
    EnumNames,
    FieldType,
    column_reader,
    column_reader_class,
)
from datatier.migrate._introspect_types import string_literal as _string
from datatier.schema._format import format_schema_text
from datatier.schema._ir import ReferentialAction, ScalarType
from datatier.schema._names import constraint_name, default_relation_name

__all__ = ["PulledExtension", "render_pulled_schema"]

_ACTIONS = {
    "CASCADE": ReferentialAction.CASCADE,
    "RESTRICT": ReferentialAction.RESTRICT,
    "NO ACTION": ReferentialAction.NO_ACTION,
    "SET NULL": ReferentialAction.SET_NULL,
    "SET DEFAULT": ReferentialAction.SET_DEFAULT,
}
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


@dataclass
class _Field:
    name: str
    type: str
    attributes: list[str] = field(default_factory=list)
    documentation: str | None = None


@dataclass(eq=False)  # identity: models are dictionary keys while names change
class _Model:
    name: str
    table: Table
    schema: str
    fields: list[_Field] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # column -> field name
    block_attributes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the schema cannot say
    ignored: bool = False
    scope: NameScope = field(default_factory=NameScope)


@dataclass(frozen=True)
class _JoinTable:
    table: Table
    relation: str
    model_a: _Model
    model_b: _Model


def _attribute(name: str, args: Sequence[str]) -> str:
    """``@unique`` or ``@unique(map: "x")``: the arguments in parentheses when there are any."""
    return f"{name}({', '.join(args)})" if args else name


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


class _Puller:
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
        self.models: dict[tuple[str, str], _Model] = {}
        self.joins: list[_JoinTable] = []

    def _datasource(self, extensions: Sequence[PulledExtension], db_schema: str) -> list[str]:
        """The datasource block's lines: provider, database schemas, extensions."""
        lines = [f"  provider = {_string(self.provider)}"]
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
                items.append(_attribute(name, args))
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

    def _scalar_model(self, db_schema: str, table: Table) -> _Model:
        model = _Model(self.model_names[(db_schema, table.name)], table, db_schema)
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
                attributes.append(_attribute("@id", self._map(pk.name, table, (), "pkey")))
            unique = single_uniques.get(column.name)
            if unique is not None:
                mapped = self._map(unique.name, table, (column.name,), "key")
                attributes.append(_attribute("@unique", mapped))
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
                _Field(
                    name,
                    type_.render(optional),
                    attributes,
                    self.hints.field_docs.get(hinted),
                )
            )
        if pk is not None and len(pk.columns) > 1:
            fields = ", ".join(model.columns[c] for c in pk.columns)
            mapped = self._map(pk.name, table, (), "pkey")
            model.block_attributes.append(_attribute("@@id", [f"[{fields}]", *mapped]))
        for index in table.indexes:
            if index in single_uniques.values():
                continue
            attribute = self._index_attribute(model, index)
            if attribute is None:
                model.notes.append(f"the index {_string(index.name)} (an expression index)")
            else:
                model.block_attributes.append(attribute)
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

    def _map(
        self, name: str | None, table: Table, columns: Sequence[str], suffix: str
    ) -> list[str]:
        """``[map: "name"]`` when ``name`` is not Prisma's default for the constraint, else ``[]``.

        SQLite keeps no primary key names, so a key's name is never mapped there.
        """
        if name is None or (suffix == "pkey" and self.provider == "sqlite"):
            return []
        if name == constraint_name(self.provider, table.name, columns, suffix):
            return []
        return [f"map: {_string(name)}"]

    def _index_attribute(self, model: _Model, index: Index) -> str | None:
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
            keys.append(_attribute(model.columns[key.name], args))
        kind = "unique" if index.unique else "index"
        suffix = "key" if index.unique else "idx"
        columns = [c.name for c in index.columns]
        parts = [f"[{', '.join(keys)}]", *self._map(index.name, model.table, columns, suffix)]
        if index.method not in (None, "btree") and index.method in _METHODS:
            parts.append(f"type: {_METHODS[index.method]}")
        if index.predicate is not None:
            self.preview_features.append("partialIndexes")
            parts.append(f"where: raw({_string(self.columns.predicate(index.predicate))})")
        return _attribute(f"@@{kind}", parts)

    # -- relations -----------------------------------------------------------------

    def _join_table(self, db_schema: str, table: Table, *, rename: bool) -> _JoinTable | None:
        """An implicit m:n join table ``_Name(A, B)`` as Prisma creates it, or None.

        With ``rename``, the models of a join table whose ``A`` model sorts last are
        renamed after the join table's name where it spells them.
        """
        if not table.name.startswith("_") or [c.name for c in table.columns] != ["A", "B"]:
            return None
        if any(self.columns.nullable(table, c) for c in table.columns):
            return None
        targets: dict[str, _Model] = {}
        for fk in table.foreign_keys:
            if len(fk.columns) != 1 or fk.on_delete != "CASCADE" or fk.on_update != "CASCADE":
                return None
            referenced = self.models.get(self._referenced(db_schema, fk.ref_table))
            if referenced is None or referenced.table.name.startswith("_"):
                return None
            ref_pk = referenced.table.primary_key
            if ref_pk is None or ref_pk.columns != fk.ref_columns or len(ref_pk.columns) != 1:
                return None
            if fk.name not in (None, f"{table.name}_{fk.columns[0]}_fkey"):
                return None
            targets[fk.columns[0]] = referenced
        if set(targets) != {"A", "B"}:
            return None
        a, b = targets["A"], targets["B"]
        renames: dict[_Model, str] | None = {}
        if a.name > b.name:
            renames = self._join_names(table.name[1:], a, b) if rename else None
        if renames is None:
            return None
        names = {i.name: i for i in table.indexes}
        b_index = names.get(f"{table.name}_B_index")
        if b_index is None or [c.name for c in b_index.columns] != ["B"] or b_index.unique:
            return None
        pk = table.primary_key
        if self.provider == "sqlite":
            key = names.get(f"{table.name}_AB_unique")
            if pk is not None or key is None or not key.unique:
                return None
            if [c.name for c in key.columns] != ["A", "B"] or len(names) != 2:
                return None
        elif (
            pk is None
            or pk.columns != ("A", "B")
            or pk.name != f"{table.name}_AB_pkey"
            or len(names) != 1
        ):
            return None
        for model, name in renames.items():
            model.name = name
        return _JoinTable(table, table.name[1:], a, b)

    def _join_names(self, relation: str, a: _Model, b: _Model) -> dict[_Model, str] | None:
        """New names for the models of a join table whose ``A`` model name sorts last.

        Prisma's ``A`` is the model whose name sorts first, so the pulled names must
        sort that way too. A join table named after its models (``_CatalogAssetToNote``)
        gives them back their names; None when it does not, or when those names are taken.
        """
        taken = {m.name for m in self.models.values()} | self.enum_names
        for match in re.finditer("To", relation):
            left, right = relation[: match.start()], relation[match.end() :]
            if not (left and right and sanitize(left) == left and sanitize(right) == right):
                continue
            if left >= right or a is b:
                continue
            wanted = {a: left, b: right}
            if any(name != m.name and name in taken for m, name in wanted.items()):
                continue
            return {m: name for m, name in wanted.items() if name != m.name}
        return None

    def _relations(self) -> None:
        pairs: Counter[frozenset[str]] = Counter()
        fks: list[tuple[_Model, ForeignKey, _Model]] = []
        for model in self.models.values():
            for fk in model.table.foreign_keys:
                target = self.models.get(self._referenced(model.schema, fk.ref_table))
                if target is None or not self._references_key(target.table, fk.ref_columns):
                    what = "not pulled" if target is None else "not unique"
                    name = _string(fk.name) if fk.name else f"on ({', '.join(fk.columns)})"
                    model.notes.append(f"the foreign key {name} (its referenced key is {what})")
                    continue
                fks.append((model, fk, target))
                pairs[frozenset((model.name, target.name))] += 1
        for join in self.joins:
            pairs[frozenset((join.model_a.name, join.model_b.name))] += 1
        for model, fk, target in fks:
            self._foreign_key_relation(
                model, fk, target, pairs[frozenset((model.name, target.name))]
            )
        for join in self.joins:
            ambiguous = pairs[frozenset((join.model_a.name, join.model_b.name))] > 1
            self._many_to_many(join, ambiguous)

    def _referenced(self, db_schema: str, ref_table: str) -> tuple[str, str]:
        """The key of a foreign key's table: ``other.Table`` names one in another schema."""
        other, dot, name = ref_table.partition(".")
        if dot and other in self.catalogs and (db_schema, ref_table) not in self.models:
            return (other, name)
        return (db_schema, ref_table)

    def _references_key(self, table: Table, columns: tuple[str, ...]) -> bool:
        if table.primary_key is not None and set(table.primary_key.columns) == set(columns):
            return True
        return any(
            i.unique and i.predicate is None and {c.name for c in i.columns} == set(columns)
            for i in table.indexes
        )

    def _foreign_key_relation(
        self, model: _Model, fk: ForeignKey, target: _Model, count: int
    ) -> None:
        is_self = model is target
        one_to_one = self._references_key(model.table, fk.columns)
        optional = any(
            self.columns.nullable(model.table, model.table.column(c)) for c in fk.columns
        )
        named = is_self or count > 1
        relation = (
            f"{model.name}_{'_'.join(model.columns[c] for c in fk.columns)}To{target.name}"
            if count > 1
            else default_relation_name(model.name, target.name)
        )
        forward = camel(target.name)
        back = camel(model.name) if one_to_one else plural(camel(model.name))
        if is_self:
            back = "other_" + (model.name if one_to_one else plural(model.name))
        if count > 1:
            forward, back = f"{forward}_{relation}", f"{back}_{relation}"
        hint = self.hints.relations.get((model.table.name, fk.columns))
        if hint is not None:
            relation, forward, back = hint.name, hint.forward, hint.back or back
            named = named or relation != default_relation_name(model.name, target.name)
        args = [_string(relation)] if named else []
        args.append(f"fields: [{', '.join(model.columns[c] for c in fk.columns)}]")
        args.append(f"references: [{', '.join(target.columns[c] for c in fk.ref_columns)}]")
        on_delete, on_update = _ACTIONS[fk.on_delete], _ACTIONS[fk.on_update]
        if on_delete is not (
            ReferentialAction.SET_NULL if optional else ReferentialAction.RESTRICT
        ):
            args.append(f"onDelete: {on_delete.value}")
        if on_update is not ReferentialAction.CASCADE:
            args.append(f"onUpdate: {on_update.value}")
        args.extend(self._map(fk.name, model.table, fk.columns, "fkey"))
        forward_attributes = [_attribute("@relation", args)]
        if target.ignored and not model.ignored:
            forward_attributes.append("@ignore")
        model.fields.append(
            _Field(
                model.scope.claim(forward),
                target.name + ("?" if optional else ""),
                forward_attributes,
            )
        )
        back_attributes = [f"@relation({_string(relation)})"] if named else []
        if model.ignored and not target.ignored:
            back_attributes.append("@ignore")
        target.fields.append(
            _Field(
                target.scope.claim(back),
                model.name + ("?" if one_to_one else "[]"),
                back_attributes,
            )
        )

    def _many_to_many(self, join: _JoinTable, ambiguous: bool) -> None:
        a, b = join.model_a, join.model_b
        named = ambiguous or a is b or join.relation != default_relation_name(a.name, b.name)
        attributes = [f"@relation({_string(join.relation)})"] if named else []
        a_field = plural(camel(b.name))
        b_field = plural(camel(a.name))
        if a is b:
            a_field, b_field = f"{a_field}_A", f"{b_field}_B"
        elif ambiguous:
            a_field, b_field = f"{a_field}_{join.relation}", f"{b_field}_{join.relation}"
        hint = self.hints.joins.get(join.table.name)
        if hint is not None:
            a_field, b_field = hint.forward, hint.back or b_field
        for holder, name, other in ((a, a_field, b), (b, b_field, a)):
            extra = ["@ignore"] if other.ignored and not holder.ignored else []
            holder.fields.append(
                _Field(holder.scope.claim(name), other.name + "[]", attributes + extra)
            )

    # -- text ----------------------------------------------------------------------

    def _render_model(self, model: _Model) -> str:
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
