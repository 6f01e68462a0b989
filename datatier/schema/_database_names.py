"""Names in the database: tables, columns, enums and constraints must not collide, as Prisma checks."""

from __future__ import annotations

from collections.abc import Sequence

from datatier.schema._args import Reporter
from datatier.schema._ast import Block
from datatier.schema._drafts import FieldDraft, ModelDraft
from datatier.schema._ir import Enum, ForeignKey, Index
from datatier.schema._names import MAX_IDENTIFIER

__all__ = ["check_database_names"]


def check_database_names(
    drafts: Sequence[ModelDraft],
    foreign_keys: dict[str, tuple[ForeignKey, ...]],
    enums: dict[str, Enum],
    enum_blocks: dict[str, Block],
    provider: str,
    reporter: Reporter,
) -> None:
    """Report tables, columns, enums and constraint names that would collide in the database."""
    _DatabaseNames(reporter, provider, enums, enum_blocks).check(drafts, foreign_keys)


class _DatabaseNames:
    def __init__(
        self,
        reporter: Reporter,
        provider: str,
        enums: dict[str, Enum],
        enum_blocks: dict[str, Block],
    ) -> None:
        self.reporter = reporter
        self.provider = provider
        self.enums = enums
        self.enum_blocks = enum_blocks

    def check(
        self,
        drafts: Sequence[ModelDraft],
        foreign_keys: dict[str, tuple[ForeignKey, ...]],
    ) -> None:
        tables: dict[tuple[str | None, str], ModelDraft] = {}
        clashing: set[str] = set()  # their constraint names would clash too: reported once
        for draft in drafts:
            key = (draft.schema, draft.db_name)
            if key in tables:
                clashing.add(draft.name)
                self.reporter.error(
                    f"{tables[key].block.kind} `{tables[key].name}` and {draft.block.kind} "
                    f"`{draft.name}` both use the name `{draft.db_name}` in the database"
                    if draft.is_view or tables[key].is_view
                    else f"models `{tables[key].name}` and `{draft.name}` both use the table "
                    f"`{draft.db_name}`",
                    draft.block.name_span,
                    "give one of them another `@@map`",
                )
            else:
                tables[key] = draft
        self._check_enum_names()
        # Primary keys, indexes and unique constraints share one namespace per database
        # schema (per database on SQLite); foreign keys are named per table.
        constraint_names: dict[tuple[str | None, str], str] = {}
        for draft in drafts:
            if draft.is_view:
                continue
            self._check_columns(draft)
            if draft.name in clashing:
                continue
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
            named = [index.db_name for index in draft.indexes]
            if draft.primary_key is not None and draft.primary_key.db_name is not None:
                named.insert(0, draft.primary_key.db_name)
            for db_name in named:
                key2 = (scope, db_name)
                if key2 in constraint_names:
                    self.reporter.error(
                        f"the constraint name `{db_name}` on `{draft.name}` is already used by "
                        f"{constraint_names[key2]}",
                        draft.block.name_span,
                        "give one of them another `map:`",
                    )
                else:
                    constraint_names[key2] = f"`{draft.name}`"
            on_table = set(named)
            # SQLite foreign keys have no name; elsewhere a table's constraints share names.
            for fk in foreign_keys.get(draft.name, ()) if self.provider != "sqlite" else ():
                if fk.db_name in on_table:
                    self.reporter.error(
                        f"the foreign key name `{fk.db_name}` on `{draft.name}` is already used by "
                        "another constraint of the table",
                        draft.block.name_span,
                        "give the relation another name with `@relation(map: ...)`",
                    )
                on_table.add(fk.db_name)
            limit = MAX_IDENTIFIER.get(self.provider, 63)
            for db_name in sorted(on_table):
                if len(db_name.encode()) > limit:
                    self.reporter.error(
                        f"the constraint name `{db_name}` on `{draft.name}` is longer than the "
                        f"{limit} bytes {self.provider} allows",
                        draft.block.name_span,
                        "choose a shorter `map:`",
                    )

    def _check_columns(self, draft: ModelDraft) -> None:
        """Two fields may not share a column, nor may a field take another field's name as column."""
        columns: dict[str, FieldDraft] = {}
        scalar_names = {fd.name for fd in draft.fields if fd.kind != "object"}
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
                continue
            columns[fd.db_name] = fd
            if fd.db_name != fd.name and fd.db_name in scalar_names:
                self.reporter.error(
                    f"field `{draft.name}.{fd.name}` is mapped to `{fd.db_name}`, the name of "
                    "another field of the model",
                    fd.decl.span,
                    "map it to a column name that no other field is called",
                )

    def _check_enum_names(self) -> None:
        seen: dict[tuple[str | None, str], Enum] = {}
        for enum in self.enums.values():
            key = (enum.schema, enum.db_name)
            if key in seen:
                self.reporter.error(
                    f"enums `{seen[key].name}` and `{enum.name}` both use the database name "
                    f"`{enum.db_name}`",
                    self.enum_blocks[enum.name].name_span,
                    "give one of them another `@@map`",
                )
            else:
                seen[key] = enum
