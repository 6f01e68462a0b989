"""Relations in a pulled schema: foreign keys and implicit m:n join tables as relation fields.

Relation fields go on both sides, named after the model they point to (a list's
name in the plural), with relation names where two relations join the same
models or a model to itself; an existing schema's names win (see
``_introspect_hints``). Join tables ``_AToB`` as Prisma makes them become list
fields; Prisma's ``A`` is the model whose name sorts first, which pulled names
must respect.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from datatier.migrate._catalog import Catalog, ForeignKey, Table
from datatier.migrate._introspect_blocks import (
    PulledField,
    PulledJoin,
    PulledModel,
    attribute,
    constraint_map,
)
from datatier.migrate._introspect_hints import Hints
from datatier.migrate._introspect_names import camel, plural, sanitize
from datatier.migrate._introspect_types import ColumnReader, string_literal
from datatier.schema._ir import ReferentialAction
from datatier.schema._names import default_relation_name

__all__ = ["RelationPuller"]

_ACTIONS = {
    "CASCADE": ReferentialAction.CASCADE,
    "RESTRICT": ReferentialAction.RESTRICT,
    "NO ACTION": ReferentialAction.NO_ACTION,
    "SET NULL": ReferentialAction.SET_NULL,
    "SET DEFAULT": ReferentialAction.SET_DEFAULT,
}


class RelationPuller:
    """The relation half of the puller: what it needs of the models half is declared here."""

    provider: str
    hints: Hints
    columns: ColumnReader
    catalogs: Mapping[str, Catalog]
    models: dict[tuple[str, str], PulledModel]
    joins: list[PulledJoin]
    enum_names: set[str]

    def _join_table(self, db_schema: str, table: Table, *, rename: bool) -> PulledJoin | None:
        """An implicit m:n join table ``_Name(A, B)`` as Prisma creates it, or None.

        With ``rename``, the models of a join table whose ``A`` model sorts last are
        renamed after the join table's name where it spells them.
        """
        if not table.name.startswith("_") or [c.name for c in table.columns] != ["A", "B"]:
            return None
        if any(self.columns.nullable(table, c) for c in table.columns):
            return None
        targets: dict[str, PulledModel] = {}
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
        renames: dict[PulledModel, str] | None = {}
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
        return PulledJoin(table, table.name[1:], a, b)

    def _join_names(
        self, relation: str, a: PulledModel, b: PulledModel
    ) -> dict[PulledModel, str] | None:
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
        fks: list[tuple[PulledModel, ForeignKey, PulledModel]] = []
        for model in self.models.values():
            for fk in model.table.foreign_keys:
                target = self.models.get(self._referenced(model.schema, fk.ref_table))
                if target is None or not self._references_key(target.table, fk.ref_columns):
                    what = "not pulled" if target is None else "not unique"
                    name = string_literal(fk.name) if fk.name else f"on ({', '.join(fk.columns)})"
                    model.notes.append(f"the foreign key {name} (its referenced key is {what})")
                    continue
                fks.append((model, fk, target))
                pairs[frozenset((model.name, target.name))] += 1
        for model, fk, target in self._schema_only_relations():
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

    def _schema_only_relations(self) -> list[tuple[PulledModel, ForeignKey, PulledModel]]:
        """With ``relationMode = "prisma"``, the existing schema's relations: no foreign key holds them.

        Each comes back as the foreign key it would be, where its columns still exist.
        """
        if self.hints.relation_mode != "prisma":
            return []
        found = []
        by_table = {m.table.name: m for m in self.models.values()}
        for (table, columns), hint in self.hints.relations.items():
            model, target = by_table.get(table), by_table.get(hint.referenced_table)
            if model is None or target is None:
                continue
            if not set(columns) <= set(model.columns) or not set(hint.references) <= set(
                target.columns
            ):
                continue
            if any(fk.columns == columns for fk in model.table.foreign_keys):
                continue  # a foreign key the database has after all
            fk = ForeignKey(
                None,
                columns,
                hint.referenced_table,
                hint.references,
                hint.on_delete,
                hint.on_update,
            )
            found.append((model, fk, target))
        return found

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
        self, model: PulledModel, fk: ForeignKey, target: PulledModel, count: int
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
        args = [string_literal(relation)] if named else []
        args.append(f"fields: [{', '.join(model.columns[c] for c in fk.columns)}]")
        args.append(f"references: [{', '.join(target.columns[c] for c in fk.ref_columns)}]")
        on_delete, on_update = _ACTIONS[fk.on_delete], _ACTIONS[fk.on_update]
        if on_delete is not (
            ReferentialAction.SET_NULL if optional else ReferentialAction.RESTRICT
        ):
            args.append(f"onDelete: {on_delete.value}")
        if on_update is not ReferentialAction.CASCADE:
            args.append(f"onUpdate: {on_update.value}")
        args.extend(constraint_map(self.provider, fk.name, model.table, fk.columns, "fkey"))
        forward_attributes = [attribute("@relation", args)]
        if target.ignored and not model.ignored:
            forward_attributes.append("@ignore")
        model.fields.append(
            PulledField(
                model.scope.claim(forward),
                target.name + ("?" if optional else ""),
                forward_attributes,
            )
        )
        back_attributes = [f"@relation({string_literal(relation)})"] if named else []
        if model.ignored and not target.ignored:
            back_attributes.append("@ignore")
        target.fields.append(
            PulledField(
                target.scope.claim(back),
                model.name + ("?" if one_to_one else "[]"),
                back_attributes,
            )
        )

    def _many_to_many(self, join: PulledJoin, ambiguous: bool) -> None:
        a, b = join.model_a, join.model_b
        named = ambiguous or a is b or join.relation != default_relation_name(a.name, b.name)
        attributes = [f"@relation({string_literal(join.relation)})"] if named else []
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
                PulledField(holder.scope.claim(name), other.name + "[]", attributes + extra)
            )
