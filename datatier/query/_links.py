"""How each relation field joins: the columns on both sides, or the join table of an implicit m:n.

Built once per schema from the IR's resolved relations, so the planner and the compiler
never re-derive which side holds the foreign key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from datatier.schema._ir import Model, Relation, Schema

__all__ = ["JoinThrough", "Link", "build_links"]


@dataclass(frozen=True, slots=True)
class JoinThrough:
    """The join table of an implicit many-to-many: ``own`` holds this model's key, ``other`` the target's."""

    table: str
    schema: str | None
    own: str
    other: str


@dataclass(frozen=True, slots=True)
class Link:
    """A relation field seen from its model.

    Without a join table, rows match where ``own_columns`` (on this model's table) equal
    ``target_columns`` (on the target's table), pairwise. With one, this model's key
    ``own_columns`` equals ``through.own`` and the target's key ``target_columns`` equals
    ``through.other``.
    """

    model: str
    field: str
    target: str
    cardinality: Literal["one", "many"]
    own_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    holds_foreign_key: bool
    through: JoinThrough | None = None
    relation: Relation | None = None

    @property
    def is_list(self) -> bool:
        return self.cardinality == "many"


def build_links(schema: Schema) -> dict[tuple[str, str], Link]:
    """Every relation field's ``Link``, keyed by (model name, field name)."""
    links: dict[tuple[str, str], Link] = {}
    for relation in schema.relations:
        referencing = schema.model(relation.referencing_model)
        referenced = schema.model(relation.referenced_model)
        if relation.join_table is not None:
            _many_to_many(links, schema, relation, referencing, referenced)
            continue
        fk_columns = tuple(referencing.field(f).db_name for f in relation.fields)
        key_columns = tuple(referenced.field(f).db_name for f in relation.references)
        links[(referencing.name, relation.referencing_field)] = Link(
            model=referencing.name,
            field=relation.referencing_field,
            target=referenced.name,
            cardinality="one",
            own_columns=fk_columns,
            target_columns=key_columns,
            holds_foreign_key=True,
            relation=relation,
        )
        if relation.referenced_field is not None:
            links[(referenced.name, relation.referenced_field)] = Link(
                model=referenced.name,
                field=relation.referenced_field,
                target=referencing.name,
                cardinality="many" if relation.kind == "one_to_many" else "one",
                own_columns=key_columns,
                target_columns=fk_columns,
                holds_foreign_key=False,
                relation=relation,
            )
    return links


def _many_to_many(
    links: dict[tuple[str, str], Link],
    schema: Schema,
    relation: Relation,
    referencing: Model,
    referenced: Model,
) -> None:
    join = relation.join_table
    assert join is not None
    sides = [
        (referencing, relation.referencing_field, "A"),
        (referenced, relation.referenced_field, "B"),
    ]
    if referencing.name != join.model_a:
        sides = [
            (referencing, relation.referencing_field, "B"),
            (referenced, relation.referenced_field, "A"),
        ]
    for (model, field, column), (other, _, other_column) in (
        (sides[0], sides[1]),
        (sides[1], sides[0]),
    ):
        if field is None:
            continue
        links[(model.name, field)] = Link(
            model=model.name,
            field=field,
            target=other.name,
            cardinality="many",
            own_columns=_key_columns(model),
            target_columns=_key_columns(other),
            holds_foreign_key=False,
            through=JoinThrough(join.table, join.schema, column, other_column),
            relation=relation,
        )


def _key_columns(model: Model) -> tuple[str, ...]:
    assert model.primary_key is not None
    return tuple(f.column for f in model.primary_key.fields)
