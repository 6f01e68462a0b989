"""Semantic errors: for each validation rule, a small schema and the diagnostic it must produce.

Each case checks the message, the (line, column) the span starts at and, where one is
given, the hint. Then: all errors at once, files of a folder, rendering, warnings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from datatier.errors import Diagnostic, SchemaError
from datatier.schema import load_schema, validate_schema_text

# Five lines, so the body of every case starts on line 6.
PG = 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n\n'
SQLITE = 'datasource db {\n  provider = "sqlite"\n  url      = "file:x.db"\n}\n\n'

USER_POSTS = """model User {
  id    Int    @id
  posts Post[]
}
"""


def diagnostics_of(text: str, path: str = "schema.prisma") -> tuple[Diagnostic, ...]:
    with pytest.raises(SchemaError) as caught:
        validate_schema_text(text, path)
    return caught.value.diagnostics


def the_error(text: str) -> Diagnostic:
    found = [d for d in diagnostics_of(text) if d.severity == "error"]
    assert len(found) == 1, [d.render() for d in found]
    return found[0]


def where(diagnostic: Diagnostic) -> tuple[int, int]:
    assert diagnostic.span is not None
    return diagnostic.span.line, diagnostic.span.column


CASES = [
    pytest.param(
        PG + "model Post {\n  id Int @id\n}\n\nmodel User {\n  id    Int @id\n  posts Pst[]\n}\n",
        "type `Pst` of field `User.posts` is neither a built-in type nor a model, enum or composite type",
        (12, 9),
        "did you mean `Post`?",
        id="unknown-type",
    ),
    pytest.param(
        PG + "model User {\n  id Int @id @primary\n}\n",
        "unknown attribute `@primary` on field `User.id`",
        (7, 15),
        None,
        id="unknown-attribute",
    ),
    pytest.param(
        PG + "model User {\n  id Int @id @uniqe\n}\n",
        "unknown attribute `@uniqe` on field `User.id`",
        (7, 15),
        None,  # the hint's wording: see test_unknown_attribute_hint_names_the_attribute
        id="misspelt-attribute",
    ),
    pytest.param(
        PG + "model User {\n  id Int @id\n  @@indx([id])\n}\n",
        "unknown attribute `@@indx` on model `User`",
        (8, 5),
        None,
        id="unknown-block-attribute",
    ),
    pytest.param(
        PG + "model User {\n  name String\n}\n",
        "model `User` has no unique criteria",
        (6, 7),
        "mark a field with `@id` or `@unique`, or add `@@id([...])` or `@@unique([...])` "
        "over required fields",
        id="no-unique-criteria",
    ),
    pytest.param(
        PG + "model User {\n  id Int\n}\n",
        "model `User` has no unique criteria",
        (6, 7),
        None,
        id="no-id",
    ),
    pytest.param(
        PG + "model User {\n  id Int @id\n}\n\nmodel Post {\n  id       Int  @id\n  authorId Int\n"
        "  author   User @relation(fields: [authorId], references: [id])\n}\n",
        "relation field `Post.author` has no opposite relation field on model `User`",
        (13, 3),
        None,  # the hint's wording: see test_missing_opposite_field_hint_offers_format
        id="missing-opposite-field",
    ),
    pytest.param(
        PG + USER_POSTS + "\nmodel Post {\n  id       Int  @id\n  authorId Int\n"
        "  author   User @relation(fields: [authorId], references: [id, id])\n}\n",
        "relation field `Post.author` lists 1 field(s) in `fields` but 2 in `references`",
        (14, 3),
        "give the same number of fields on both sides, in matching order",
        id="fields-references-arity",
    ),
    pytest.param(
        PG + "model User {\n  id    Int    @id\n  email String\n  posts Post[]\n}\n\n"
        "model Post {\n  id          Int    @id\n  authorEmail String\n"
        "  author      User   @relation(fields: [authorEmail], references: [email])\n}\n",
        "`references:` of `Post.author` must name a unique criteria of `User`",
        (15, 3),
        "add `@unique` to `User.email`",
        id="references-non-unique",
    ),
    pytest.param(
        PG + USER_POSTS + "\nmodel Post {\n  id       Int    @id\n  authorId String\n"
        "  author   User   @relation(fields: [authorId], references: [id])\n}\n",
        "the type of `Post.authorId` (String) does not match the type of the referenced "
        "`User.id` (Int)",
        (13, 3),  # at the scalar field whose type is wrong
        None,  # the hint's grammar: see test_type_mismatch_hint_uses_an
        id="fk-type-mismatch",
    ),
    pytest.param(
        PG + "model User {\n  id Int @id\n}\n\nmodel User {\n  id Int @id\n}\n",
        "the name `User` is defined twice (first as a model at schema.prisma:6:7)",
        (10, 7),
        "rename or remove one of them",
        id="duplicate-model",
    ),
    pytest.param(
        PG + "enum User {\n  A\n}\n\nmodel User {\n  id Int @id\n}\n",
        "the name `User` is defined twice (first as an enum at schema.prisma:6:6)",
        (10, 7),
        "rename or remove one of them",
        id="model-named-like-an-enum",
    ),
    pytest.param(
        PG + "model User {\n  id   Int    @id\n  name String\n  name String\n}\n",
        "field `name` is defined twice in model `User`",
        (9, 3),
        "rename or remove one of them",
        id="duplicate-field",
    ),
    pytest.param(
        PG + "enum Role {\n  USER\n  ADMIN\n  USER\n}\n",
        "value `USER` appears twice in enum `Role`",
        (9, 3),
        None,
        id="duplicate-enum-value",
    ),
    pytest.param(
        PG + 'model User {\n  id Int @id\n  n  Int @default("x")\n}\n',
        "the default of field `User.n` must be an integer, not a string",
        (8, 19),
        None,
        id="default-string-for-int",
    ),
    pytest.param(
        PG + "model User {\n  id Int     @id\n  b  Boolean @default(1)\n}\n",
        "the default of field `User.b` must be `true` or `false`, not a number",
        (8, 23),
        None,
        id="default-number-for-boolean",
    ),
    pytest.param(
        PG + "model User {\n  id Int    @id\n  s  String @default(5)\n}\n",
        "the default of field `User.s` must be a string, not a number",
        (8, 22),
        None,
        id="default-number-for-string",
    ),
    pytest.param(
        PG + 'model User {\n  id Int      @id\n  at DateTime @default("yesterday")\n}\n',
        "`yesterday` is not an RFC 3339 date-time",
        (8, 24),
        'e.g. `@default("2024-01-31T12:00:00Z")`, or `@default(now())`',
        id="default-bad-datetime",
    ),
    pytest.param(
        PG + "model User {\n  id Int @id @default(uuid())\n}\n",
        "`uuid()` cannot be the default of field `User.id`",
        (7, 23),
        "`uuid()` fills String fields",
        id="uuid-on-int",
    ),
    pytest.param(
        PG + "model User {\n  id String @id @default(uuid(5))\n}\n",
        "`uuid()` takes the version 4 or 7",
        (7, 26),
        "e.g. `uuid(7)`",
        id="uuid-bad-version",
    ),
    pytest.param(
        PG + "model User {\n  id Int    @id\n  at String @default(now())\n}\n",
        "`now()` cannot be the default of field `User.at`, which is a String",
        (8, 22),
        "`now()` fills DateTime fields",
        id="now-on-string",
    ),
    pytest.param(
        PG + "model User {\n  id String @id @default(uid())\n}\n",
        "unknown function `uid()` in the default of field `User.id`",
        (7, 26),
        "did you mean `uuid()`?",
        id="unknown-default-function",
    ),
    pytest.param(
        PG + "enum Role {\n  USER\n  ADMIN\n}\n\nmodel User {\n  id   Int  @id\n"
        "  role Role @default(ADMN)\n}\n",
        "`ADMN` is not a value of enum `Role`",
        (13, 22),
        "did you mean `ADMIN`?",
        id="enum-default-not-a-value",
    ),
    pytest.param(
        SQLITE + "model User {\n  id   Int    @id\n  name String @db.VarChar(255)\n}\n",
        "native type `VarChar` is not supported on sqlite",
        (8, 16),
        "SQLite has no native types; remove the attribute",
        id="native-type-on-sqlite",
    ),
    pytest.param(
        PG + "model User {\n  id   Int @id\n  name Int @db.VarChar(255)\n}\n",
        "native type `VarChar` does not fit field `User.name` of type Int",
        (8, 12),
        "`@db.VarChar` is for String fields",
        id="native-type-wrong-scalar",
    ),
    pytest.param(
        SQLITE + "model User {\n  id   Int      @id\n  tags String[]\n}\n",
        "field `User.tags` is a list of String, but sqlite has no scalar lists",
        (8, 8),
        "store the values in a related model, or in a `Json` field",
        id="scalar-list-on-sqlite",
    ),
    pytest.param(
        PG + "model User {\n  id   Int       @id\n  tags String[]?\n}\n",
        "field `User.tags` is an optional list (`[]?`), which is not supported",
        (8, 8),
        "use a list (`[]`); an empty list stands for no values",
        id="optional-list",
    ),
    pytest.param(
        SQLITE + USER_POSTS + "\nmodel Post {\n  id       Int  @id\n  authorId Int\n"
        "  author   User @relation(fields: [authorId], references: [id], onDelete: SetNull)\n}\n",
        "relation `Post.author` uses `SetNull`, but the key field(s) `authorId` cannot be null",
        (14, 3),
        "make the key fields optional, or choose another referential action",
        id="setnull-on-required-fk-sqlite",
    ),
    pytest.param(
        PG + "model User {\n  id Int    @id\n  u  String @updatedAt\n}\n",
        "`@updatedAt` needs a DateTime field, and field `User.u` is a String",
        (8, 13),
        None,
        id="updatedat-on-string",
    ),
    pytest.param(
        PG + "model User {\n  id  Int @id\n  id2 Int @id\n}\n",
        "model `User` has more than one `@id`",
        (8, 3),
        "use `@@id([a, b])` for a compound id",
        id="two-ids",
    ),
    pytest.param(
        PG + "model User {\n  a Int @id\n  b Int\n\n  @@id([a, b])\n}\n",
        "model `User` has both `@id` and `@@id`",
        (10, 3),
        "keep only one of them",
        id="id-and-compound-id",
    ),
    pytest.param(
        PG + "model User {\n  id Int? @id\n}\n",
        "field `User.id` is optional and cannot be an id",
        (7, 11),
        "make the field required (remove `?`)",
        id="optional-id",
    ),
    pytest.param(
        PG + "enum Role {\n}\n\nmodel User {\n  id Int @id\n}\n",
        "enum `Role` has no values",
        (6, 6),
        "add at least one value",
        id="empty-enum",
    ),
    pytest.param(
        'datasource db {\n  url = env("X")\n}\n\nmodel User {\n  id Int @id\n}\n',
        "datasource `db` has no `provider`",
        (1, 12),
        'add `provider = "postgresql"` (or "sqlite")',
        id="missing-provider",
    ),
    pytest.param(
        'datasource db {\n  provider = "postgress"\n  url      = env("X")\n}\n\n'
        "model User {\n  id Int @id\n}\n",
        "unknown datasource provider `postgress`",
        (2, 14),
        "did you mean `postgresql`?",
        id="unknown-provider",
    ),
    pytest.param(
        PG + 'model User {\n  id Int    @id\n  a  String @map("col")\n  b  String @map("col")\n}\n',
        "fields `a` and `b` of `User` both use the column `col`",
        (9, 3),
        "give one of them another `@map`",
        id="duplicate-column-map",
    ),
    pytest.param(
        PG
        + 'model User {\n  id Int @id\n\n  @@map("people")\n}\n\n'
        + 'model Person {\n  id Int @id\n\n  @@map("people")\n}\n',
        "models `User` and `Person` both use the table `people`",
        (12, 7),
        "give one of them another `@@map`",
        id="duplicate-table-map",
    ),
    pytest.param(
        PG + USER_POSTS + "\nmodel Post {\n  id       Int  @id\n  authorId Int\n"
        "  author   User @relation(fields: [authorId], references: [id])\n\n"
        "  @@index([author])\n}\n",
        "`@@index` on `Post` names the relation field `author`",
        (16, 12),
        "name the scalar field(s) holding the foreign key instead",
        id="index-on-relation-field",
    ),
    pytest.param(
        PG + "model Post {\n  id        Int      @id\n  createdAt DateTime\n\n"
        "  @@index([createdAd])\n}\n",
        "`@@index` on `Post` names the unknown field `createdAd`",
        (10, 12),
        "did you mean `createdAt`?",
        id="index-unknown-field",
    ),
    pytest.param(
        PG + 'model Post {\n  id Int @id\n\n  @@schema("auth")\n}\n',
        "`@@schema` needs the datasource to list its schemas",
        (9, 3),
        'add `schemas = ["auth"]` to the datasource block',
        id="schema-without-schemas",
    ),
    pytest.param(
        PG + "view V {\n  id Int @unique\n}\n",
        "view `V` needs the `views` preview feature",
        (6, 6),
        'add `previewFeatures = ["views"]` to the generator block',
        id="view-without-preview-feature",
    ),
    pytest.param(
        PG + "model User {\n  id Int @id\n\n  @@index([id], where: { id: null })\n}\n",
        "partial indexes (`where:`) need the `partialIndexes` preview feature",
        (9, 24),  # at the `{` of `where:`
        'add `previewFeatures = ["partialIndexes"]` to the generator block',
        id="partial-index-without-preview-feature",
    ),
]


@pytest.mark.parametrize(("text", "message", "position", "hint"), CASES)
def test_rule(text: str, message: str, position: tuple[int, int], hint: str | None) -> None:
    error = the_error(text)
    assert message in error.message
    assert where(error) == position
    if hint is not None:
        assert error.hint == hint
    assert error.source_line is not None  # every semantic error can show its line


def test_ambiguous_relations_report_each_field() -> None:
    text = PG + (
        "model User {\n  id     Int    @id\n  posts1 Post[]\n  posts2 Post[]\n}\n\n"
        "model Post {\n  id      Int  @id\n  a1      Int\n  a2      Int\n"
        "  author1 User @relation(fields: [a1], references: [id])\n"
        "  author2 User @relation(fields: [a2], references: [id])\n}\n"
    )
    found = diagnostics_of(text)
    assert [where(d) for d in found] == [(16, 3), (17, 3)]
    for diagnostic in found:
        assert diagnostic.message == (
            "ambiguous relation: the fields `author1` and `author2` of model `Post` both refer to `User`"
        )
        assert diagnostic.hint == (
            'give each relation a name, e.g. `@relation("author")` and `@relation("editor")`, '
            "on both sides"
        )


def test_named_relations_are_not_ambiguous() -> None:
    text = PG + (
        "model User {\n  id     Int    @id\n"
        '  posts1 Post[] @relation("one")\n  posts2 Post[] @relation("two")\n}\n\n'
        "model Post {\n  id      Int  @id\n  a1      Int\n  a2      Int\n"
        '  author1 User @relation("one", fields: [a1], references: [id])\n'
        '  author2 User @relation("two", fields: [a2], references: [id])\n}\n'
    )
    schema = validate_schema_text(text)
    assert sorted(r.name for r in schema.relations) == ["one", "two"]


# -- messages that should read better ----------------------------------------------


def test_unknown_attribute_hint_names_the_attribute() -> None:
    error = the_error(PG + "model User {\n  id Int @id @uniqe\n}\n")
    assert error.hint == "did you mean `@unique`?"


def test_default_function_message_uses_an() -> None:
    error = the_error(PG + "model User {\n  id Int @id @default(uuid())\n}\n")
    assert error.message == "`uuid()` cannot be the default of field `User.id`, which is an Int"


def test_type_mismatch_hint_uses_an() -> None:
    text = (
        PG
        + USER_POSTS
        + (
            "\nmodel Post {\n  id       Int    @id\n  authorId String\n"
            "  author   User   @relation(fields: [authorId], references: [id])\n}\n"
        )
    )
    assert the_error(text).hint == "make `authorId` an Int"


def test_missing_opposite_field_hint_offers_format() -> None:
    text = PG + (
        "model User {\n  id Int @id\n}\n\nmodel Post {\n  id       Int  @id\n  authorId Int\n"
        "  author   User @relation(fields: [authorId], references: [id])\n}\n"
    )
    hint = the_error(text).hint or ""
    assert "add a field of type `Post` or `Post[]` to `User`" in hint
    assert "cannot" not in hint
    assert "`datatier format`" in hint


# -- all at once, folders, rendering -------------------------------------------------


def test_every_error_of_a_file_is_reported_at_once() -> None:
    text = (
        "datasource db {\n"  # 1
        '  provider = "sqlite"\n'  # 2
        '  url      = "file:x.db"\n'  # 3
        "}\n"  # 4
        "\n"  # 5
        "enum Role {\n"  # 6
        "  USER\n"  # 7
        "}\n"  # 8
        "\n"  # 9
        "model User {\n"  # 10
        "  id    String   @id @default(autoincrement())\n"  # 11 autoincrement on String
        "  role  Role     @default(ADMIN)\n"  # 12 not a value
        "  tags  String[]\n"  # 13 scalar list on sqlite
        "  posts Pst[]\n"  # 14 unknown type
        "  at    String   @updatedAt\n"  # 15 updatedAt on String
        "}\n"  # 16
        "\n"  # 17
        "model Tag {\n"  # 18 no unique criteria
        "  name String @db.Text\n"  # 19 native type on sqlite
        "}\n"  # 20
    )
    with pytest.raises(SchemaError) as caught:
        validate_schema_text(text)
    found = caught.value.diagnostics
    assert sorted(where(d) for d in found) == [
        (11, 31),
        (12, 27),
        (13, 9),
        (14, 9),
        (15, 18),
        (18, 7),
        (19, 16),
    ]
    assert caught.value.message.endswith("schema invalid: 7 errors")


def test_errors_of_a_folder_carry_their_file(tmp_path: Path) -> None:
    (tmp_path / "a.prisma").write_text(
        'datasource db {\n  provider = "sqlite"\n  url      = "file:x.db"\n}\n'
    )
    (tmp_path / "b.prisma").write_text("model User {\n  id    Int @id\n  posts Pst[]\n}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.prisma").write_text(
        "model Post {\n  id Int @id @uniqe\n}\n\nmodel Tag {\n  id Int @id\n  n  Int @default(true)\n}\n"
    )
    with pytest.raises(SchemaError) as caught:
        load_schema(tmp_path)
    found = sorted(
        (d.span.file, d.span.line, d.span.column) for d in caught.value.diagnostics if d.span
    )
    assert found == [
        (str(tmp_path / "b.prisma"), 3, 9),
        (str(tmp_path / "sub" / "c.prisma"), 2, 15),
        (str(tmp_path / "sub" / "c.prisma"), 7, 19),
    ]
    # The hint still finds `Post`, which lives in another file.
    (pst,) = [d for d in caught.value.diagnostics if d.span and d.span.file.endswith("b.prisma")]
    assert pst.hint == "did you mean `Post`?"
    assert pst.source_line == "  posts Pst[]"


def test_syntax_errors_of_a_folder_carry_their_file(tmp_path: Path) -> None:
    (tmp_path / "a.prisma").write_text('datasource db {\n  provider = "sqlite"\n}\n')
    (tmp_path / "b.prisma").write_text("model User {\n  id Int @id $\n}\n")
    with pytest.raises(SchemaError) as caught:
        load_schema(tmp_path)
    (error,) = caught.value.diagnostics
    assert error.span is not None
    assert (error.span.file, error.span.line, error.span.column) == (
        str(tmp_path / "b.prisma"),
        2,
        14,
    )


def test_rendered_error_shows_location_line_caret_and_hint() -> None:
    text = PG + "model Post {\n  id Int @id\n}\n\nmodel User {\n  id    Int @id\n  posts Pst[]\n}\n"
    with pytest.raises(SchemaError) as caught:
        validate_schema_text(text, "app/schema.prisma")
    (error,) = caught.value.diagnostics
    assert error.render() == (
        "app/schema.prisma:12:9: error: type `Pst` of field `User.posts` is neither a built-in "
        "type nor a model, enum or composite type\n"
        "  12 |   posts Pst[]\n"
        "     |         ^^^^^\n"
        "  = hint: did you mean `Post`?"
    )
    assert str(caught.value) == error.render() + "\n\nschema invalid: 1 error"


def test_caret_sits_under_the_column() -> None:
    error = the_error(PG + "model User {\n  id Int @id @uniqe\n}\n")
    lines = error.render().splitlines()
    assert lines[0].startswith("schema.prisma:7:15: error: unknown attribute `@uniqe`")
    assert lines[1] == "   7 |   id Int @id @uniqe"
    code, caret = lines[1], lines[2]
    assert caret.index("^") == code.index("uniqe")
    assert caret.strip() == "|               ^^^^^"


def test_caret_on_a_tab_indented_line() -> None:
    error = the_error(PG + "model User {\n\tid Int @id @uniqe\n}\n")
    assert where(error) == (7, 14)
    code, caret = error.render().splitlines()[1:3]
    assert caret.index("^") == code.index("uniqe")


def generator(features: str) -> str:
    return f'generator client {{\n  provider        = "datatier"\n  previewFeatures = [{features}]\n}}\n\n'


def test_retired_preview_feature_is_a_warning() -> None:
    text = PG + generator('"metrics"') + "model User {\n  id Int @id\n}\n"
    schema = validate_schema_text(text)
    (warning,) = schema.warnings
    assert warning.severity == "warning"
    assert warning.message == "preview feature `metrics` is retired and has no effect"
    assert warning.hint == "remove it from `previewFeatures`"
    assert where(warning) == (8, 22)
    assert warning.render().startswith("schema.prisma:8:22: warning: preview feature `metrics`")


def test_unknown_preview_feature_is_an_error_with_did_you_mean() -> None:
    """Prisma rejects names it never knew; only retired features are let through (with a warning)."""
    text = PG + generator('"fooBar", "view"') + "model User {\n  id Int @id\n}\n"
    with pytest.raises(SchemaError) as caught:
        validate_schema_text(text)
    assert [(d.severity, d.message, where(d), d.hint) for d in caught.value.diagnostics] == [
        (
            "error",
            "unknown preview feature `fooBar`",
            (8, 22),
            "check the spelling, or remove it from `previewFeatures`",
        ),
        ("error", "unknown preview feature `view`", (8, 32), "did you mean `views`?"),
    ]


def test_preview_feature_names_ignore_case() -> None:
    text = PG + generator('"Views"') + "view V {\n  id Int @unique\n}\n"
    schema = validate_schema_text(text)
    assert schema.generators[0].preview_features == ("views",)


def test_warnings_do_not_count_as_errors() -> None:
    text = PG + generator('"metrics"') + "model User {\n  name String\n}\n"
    with pytest.raises(SchemaError) as caught:
        validate_schema_text(text)
    assert caught.value.message.endswith("schema invalid: 1 error")
