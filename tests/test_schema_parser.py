"""The parser, exactly: the syntax tree of representative inputs, and every syntax error with its message and (line, col).

Expected trees are written with the ``_ast`` classes themselves; ``S`` stands for any span,
and the tests that care about positions check them separately.
"""

from __future__ import annotations

from unittest.mock import ANY

import pytest

from datatier.errors import Diagnostic, SchemaError
from datatier.schema import parse_schema_text, validate_schema_text
from datatier.schema._ast import (
    Argument,
    ArrayExpr,
    Attribute,
    Block,
    Comment,
    ConstantExpr,
    EnumValueDecl,
    FieldDecl,
    FieldType,
    FunctionCall,
    NumberExpr,
    ObjectExpr,
    Property,
    StringExpr,
)

S = ANY  # any span


def parse_ok(text: str) -> tuple[object, ...]:
    tree, diagnostics = parse_schema_text("schema.prisma", text)
    assert diagnostics == [], [d.render() for d in diagnostics]
    return tree.items


def only_block(text: str) -> Block:
    items = [item for item in parse_ok(text) if isinstance(item, Block)]
    assert len(items) == 1
    return items[0]


def fields_of(text: str) -> list[FieldDecl]:
    return [m for m in only_block(text).members if isinstance(m, FieldDecl)]


def errors(text: str) -> list[tuple[int, int, str]]:
    _, diagnostics = parse_schema_text("schema.prisma", text)
    return [(d.span.line, d.span.column, d.message) for d in diagnostics if d.span is not None]


def one_error(text: str) -> Diagnostic:
    _, diagnostics = parse_schema_text("schema.prisma", text)
    assert len(diagnostics) == 1, [d.render() for d in diagnostics]
    return diagnostics[0]


def attr(name: str, *args: Argument, parens: bool | None = None, block: bool = False) -> Attribute:
    has_parens = bool(args) if parens is None else parens
    return Attribute(name, tuple(args), has_parens, block, S, S)


def arg(value: object, name: str | None = None) -> Argument:
    return Argument(name, value, S)  # type: ignore[arg-type]


def const(name: str) -> ConstantExpr:
    return ConstantExpr(name, S)


def string(value: str, raw: str | None = None) -> StringExpr:
    return StringExpr(value, value if raw is None else raw, S)


def ftype(
    name: str, optional: bool = False, is_list: bool = False, unsupported: str | None = None
) -> FieldType:
    return FieldType(name, optional, is_list, unsupported, S)


# -- trees -------------------------------------------------------------------------


def test_field_types_optional_list_and_unsupported() -> None:
    fields = fields_of(
        "model A {\n"
        "  id    Int @id\n"
        "  name  String?\n"
        "  tags  String[]\n"
        '  geo   Unsupported("point")?\n'
        "  posts Post[]\n"
        "}\n"
    )
    assert [(f.name, f.type) for f in fields] == [
        ("id", ftype("Int")),
        ("name", ftype("String", optional=True)),
        ("tags", ftype("String", is_list=True)),
        ("geo", ftype("Unsupported", optional=True, unsupported="point")),
        ("posts", ftype("Post", is_list=True)),
    ]


def test_optional_list_parses_and_is_left_to_the_validator() -> None:
    (field,) = fields_of("model A {\n  tags String[]?\n}\n")
    assert field.type == ftype("String", optional=True, is_list=True)


def test_whole_field_with_attributes() -> None:
    (field,) = fields_of("model A {\n  id Int @id @default(autoincrement()) // the key\n}\n")
    assert field == FieldDecl(
        "id",
        ftype("Int"),
        (
            attr("id"),
            attr("default", arg(FunctionCall("autoincrement", (), S))),
        ),
        (),
        " the key",
        S,
        S,
    )


def test_attribute_with_positional_and_named_arguments() -> None:
    (_, author) = fields_of(
        "model Post {\n"
        "  authorId Int\n"
        '  author   User @relation("authored", fields: [authorId], references: [id], onDelete: Cascade)\n'
        "}\n"
    )
    assert author.attributes == (
        attr(
            "relation",
            arg(string("authored")),
            arg(ArrayExpr((const("authorId"),), S), "fields"),
            arg(ArrayExpr((const("id"),), S), "references"),
            arg(const("Cascade"), "onDelete"),
        ),
    )


def test_dotted_native_type_attribute() -> None:
    (field,) = fields_of("model A {\n  name String @db.VarChar(255)\n}\n")
    assert field.attributes == (attr("db.VarChar", arg(NumberExpr("255", S))),)


def test_attribute_with_empty_parentheses_keeps_has_parens() -> None:
    (field,) = fields_of("model A {\n  at DateTime @updatedAt()\n}\n")
    assert field.attributes == (attr("updatedAt", parens=True),)


def test_index_list_with_nested_function_call() -> None:
    block = only_block('model A {\n  @@index([a, b(sort: Desc)], map: "a_b")\n}\n')
    assert block.members == (
        attr(
            "index",
            arg(ArrayExpr((const("a"), FunctionCall("b", (arg(const("Desc"), "sort"),), S)), S)),
            arg(string("a_b"), "map"),
            block=True,
        ),
    )


def test_arrays_empty() -> None:
    block = only_block('datasource db {\n  schemas = ["a", "b"]\n  extensions = []\n}\n')
    assert block.members == (
        Property("schemas", ArrayExpr((string("a"), string("b")), S), (), None, S),
        Property("extensions", ArrayExpr((), S), (), None, S),
    )


@pytest.mark.parametrize(
    "text",
    [
        'datasource db {\n  schemas = ["a", "b",]\n}\n',
        "model A {\n  id Int @id @default(1,)\n}\n",
        "model A {\n  id String @id @default(uuid(4,))\n}\n",
    ],
)
def test_trailing_commas_are_errors(text: str) -> None:
    """Prisma rejects a comma before `]` or before the `)` of attribute and function arguments."""
    _, diagnostics = parse_schema_text("schema.prisma", text)
    assert diagnostics[0].message.endswith("cannot end with a comma")


def test_native_type_arguments_may_end_with_a_comma() -> None:
    (field,) = fields_of("model A {\n  s String @db.VarChar(10,)\n}\n")
    assert field.attributes[0].args[0].value == NumberExpr("10", S)


def test_strings_with_escapes() -> None:
    (field,) = fields_of('model A {\n  s String @default("a\\"b\\\\c\\n\\u00e9")\n}\n')
    (default,) = field.attributes
    assert default.args[0].value == StringExpr('a"b\\c\né', 'a\\"b\\\\c\\n\\u00e9', S)


@pytest.mark.parametrize(
    ("literal", "text"),
    [("0", "0"), ("42", "42"), ("-5", "-5"), ("3.14", "3.14"), ("-0.5", "-0.5")],
)
def test_numbers_including_negatives(literal: str, text: str) -> None:
    (field,) = fields_of(f"model A {{\n  n Float @default({literal})\n}}\n")
    assert field.attributes[0].args[0].value == NumberExpr(text, S)


def test_env_function_in_a_datasource() -> None:
    block = only_block('datasource db {\n  provider = "sqlite"\n  url = env("DATABASE_URL")\n}\n')
    assert block.members == (
        Property("provider", string("sqlite"), (), None, S),
        Property("url", FunctionCall("env", (arg(string("DATABASE_URL")),), S), (), None, S),
    )


def test_partial_index_where_object() -> None:
    block = only_block(
        "model A {\n  @@unique([email], where: { deletedAt: null, active: true })\n}\n"
    )
    assert block.members == (
        attr(
            "unique",
            arg(ArrayExpr((const("email"),), S)),
            arg(
                ObjectExpr((arg(const("null"), "deletedAt"), arg(const("true"), "active")), S),
                "where",
            ),
            block=True,
        ),
    )


def test_enum_values_with_map() -> None:
    block = only_block('enum Role {\n  USER\n  ADMIN @map("admin")\n\n  @@map("roles")\n}\n')
    assert block.kind == "enum"
    assert block.members == (
        EnumValueDecl("USER", (), (), None, S),
        EnumValueDecl("ADMIN", (attr("map", arg(string("admin"))),), (), None, S),
        attr("map", arg(string("roles")), block=True),
    )


def test_doc_comments_and_plain_comments_are_kept() -> None:
    items = parse_ok(
        "// top comment\n"
        "/// The model.\n"
        "/// Second line.\n"
        "model A {\n"
        "  // inside\n"
        "  /// The key.\n"
        "  id Int @id // trailing\n"
        "  n  Int /// trailing doc\n"
        "}\n"
    )
    assert items[0] == Comment(" top comment", S)
    block = items[1]
    assert isinstance(block, Block)
    assert block.documentation == (" The model.", " Second line.")
    comment, key, n = block.members
    assert comment == Comment(" inside", S)
    assert isinstance(key, FieldDecl) and isinstance(n, FieldDecl)
    assert key.documentation == (" The key.",)
    assert key.trailing_comment == " trailing"
    # A trailing `///` keeps its third slash, so the formatter can tell it from `//`.
    assert n.trailing_comment == "/ trailing doc"


def test_block_comments_are_documentation() -> None:
    block = only_block(
        "/* A model\n   on two lines */\nmodel A {\n  /* the key */\n  id Int @id\n}\n"
    )
    assert block.documentation == ("A model\n   on two lines",)
    (field,) = block.members
    assert isinstance(field, FieldDecl)
    assert field.documentation == ("the key",)


def test_all_block_kinds() -> None:
    items = parse_ok(
        'datasource db {\n  provider = "sqlite"\n}\n'
        'generator client {\n  provider = "datatier"\n}\n'
        "model M {\n  id Int @id\n}\n"
        "view V {\n  id Int @unique\n}\n"
        "type T {\n  x Int\n}\n"
        "enum E {\n  A\n}\n"
    )
    assert [(b.kind, b.name) for b in items if isinstance(b, Block)] == [
        ("datasource", "db"),
        ("generator", "client"),
        ("model", "M"),
        ("view", "V"),
        ("type", "T"),
        ("enum", "E"),
    ]


def test_field_named_like_a_keyword() -> None:
    fields = fields_of("model A {\n  id    Int @id\n  type  String\n  model String\n}\n")
    assert [f.name for f in fields] == ["id", "type", "model"]


def test_spans_have_line_and_column() -> None:
    block = only_block("\nmodel Post {\n  id    Int @id\n  title String @db.VarChar(200)\n}\n")
    assert (block.span.line, block.span.column) == (2, 1)
    assert (block.name_span.line, block.name_span.column) == (2, 7)
    _, title = block.members
    assert isinstance(title, FieldDecl) and title.type is not None
    assert (title.span.line, title.span.column) == (4, 3)
    assert (title.type.span.line, title.type.span.column) == (4, 9)
    native = title.attributes[0]
    assert (native.span.line, native.span.column) == (4, 16)  # at the `@`
    assert (native.name_span.line, native.name_span.column) == (4, 17)  # at `db`
    assert (native.args[0].span.line, native.args[0].span.column) == (4, 28)


def test_crlf_line_endings() -> None:
    fields = fields_of("model A {\r\n  id Int @id\r\n  n  Int?\r\n}\r\n")
    assert [f.name for f in fields] == ["id", "n"]


# -- syntax errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "message", "hint"),
    [
        pytest.param(
            "model A {\n  id Int @id\n",
            1,
            1,
            "model `A` is not closed",
            "add `}` at the end of the block",
            id="unclosed-block-at-eof",
        ),
        pytest.param(
            "model A {\n  id Int @id\n\nmodel B {\n  id Int @id\n}\n",
            1,
            1,
            "model `A` is not closed",
            "add `}` before `model` on line 4",
            id="unclosed-block-before-next",
        ),
        pytest.param(
            "model A {\n  id Int @id\n  name\n}\n",
            3,
            3,
            "field `name` has no type",
            "write a type after the name, e.g. `name String`",
            id="missing-type",
        ),
        pytest.param(
            "model A {\n  id Int @id\n  name @unique\n}\n",
            3,
            3,
            "field `name` has no type",
            "write a type after the name, e.g. `name String`",
            id="missing-type-before-attribute",
        ),
        pytest.param(
            "model A {\n  id Int @id $\n}\n",
            2,
            14,
            "unexpected character `$`",
            "remove it; only identifiers, strings, numbers and { } ( ) [ ] = , : ? @ . may appear here",
            id="stray-character",
        ),
        pytest.param(
            "model A {\n  id Int @id\n  n  Int #!\n}\n",
            3,
            10,
            "unexpected characters `#!`",
            "remove it; only identifiers, strings, numbers and { } ( ) [ ] = , : ? @ . may appear here",
            id="stray-characters",
        ),
        pytest.param(
            'model A {\n  id Int @id\n  s String @default("a\\qb")\n}\n',
            3,
            21,
            "invalid escape sequence in string",
            'use \\" for a quote, \\\\ for a backslash, \\n, \\t or \\uXXXX',
            id="bad-escape",
        ),
        pytest.param(
            "model A {\n  id Int @id @@unique([id])\n}\n",
            2,
            14,
            "a block attribute (`@@`) must stand on its own line",
            "move it to a line of its own, or use `@` for a field attribute",
            id="block-attribute-on-field-line",
        ),
        pytest.param(
            "model A {\n  id Int\n  @id\n}\n",
            3,
            3,
            "a field attribute must follow a field",
            "write it on the line of the field it belongs to, or use `@@` for a block attribute",
            id="field-attribute-on-own-line",
        ),
        pytest.param(
            "model A {\n  id Int @id\n}\ngarbage here\n",
            4,
            1,
            "unexpected `garbage` at the top level",
            "a schema consists of `datasource`, `generator`, `model`, `view`, `enum` "
            "and `type` blocks",
            id="top-level-garbage",
        ),
        pytest.param(
            "model A { id Int @id\n}\n",
            1,
            11,
            "the body of model `A` must start on a new line",
            "put a line break after `{`: each field and attribute stands on a line of its own",
            id="body-on-brace-line",
        ),
        pytest.param(
            'datasource db {\n  provider "sqlite"\n}\n',
            2,
            12,
            'expected `=` after `provider`, found `"sqlite"`',
            "write `provider = <value>`",
            id="missing-equals-in-datasource",
        ),
        pytest.param(
            "model {\n  id Int @id\n}\n",
            1,
            7,
            "expected a name after `model`, found `{`",
            None,
            id="missing-block-name",
        ),
        pytest.param(
            "model A {\n  id Int @id\n  t  Unsupported(point)\n}\n",
            3,
            18,
            "`Unsupported` takes the database type as a string",
            'write e.g. `Unsupported("circle")`',
            id="unsupported-without-string",
        ),
        pytest.param(
            "model A {\n  id Int @id @default(1 2)\n}\n",
            2,
            25,
            "expected `,` or `)` in an argument list, found `2`",
            None,
            id="missing-comma-in-arguments",
        ),
        pytest.param(
            "model A {\n  id Int @id Int\n}\n",
            2,
            14,
            "unexpected `Int`",
            "each field, value or attribute ends at the end of its line",
            id="junk-after-field",
        ),
    ],
)
def test_syntax_error(text: str, line: int, column: int, message: str, hint: str | None) -> None:
    diagnostic = one_error(text)
    assert diagnostic.message == message
    assert diagnostic.span is not None
    assert (diagnostic.span.line, diagnostic.span.column) == (line, column)
    assert diagnostic.hint == hint
    assert diagnostic.severity == "error"


def test_unterminated_string_is_reported_where_it_starts() -> None:
    _, diagnostics = parse_schema_text(
        "schema.prisma", 'model A {\n  id Int @id\n  s String @default("abc)\n}\n'
    )
    first = diagnostics[0]
    assert first.message == "unterminated string"
    assert first.span is not None
    assert (first.span.line, first.span.column) == (3, 21)
    assert first.hint == 'close the string with `"` on the same line'


def test_unterminated_string_is_the_only_error() -> None:
    text = 'model A {\n  id Int @id\n  s String @default("abc)\n}\n'
    assert errors(text) == [(3, 21, "unterminated string")]


BROKEN_LIST = 'datasource db {\n  schemas = [\n    "a"\n  ]\n}\n'


def test_line_broken_inside_brackets() -> None:
    _, diagnostics = parse_schema_text("schema.prisma", BROKEN_LIST)
    first = diagnostics[0]
    assert first.message == "the line ends before its brackets are closed"
    assert first.span is not None
    assert (first.span.line, first.span.column) == (2, 14)
    assert first.hint == (
        "a schema line cannot be broken inside ( ), [ ] or { }: "
        "write the whole attribute or value on one line"
    )


def test_line_broken_inside_brackets_is_one_error() -> None:
    assert errors(BROKEN_LIST) == [(2, 14, "the line ends before its brackets are closed")]


def test_recovery_reports_every_syntax_error() -> None:
    text = (
        "model A {\n"  # 1
        "  id Int @id\n"  # 2
        "  name\n"  # 3  missing type
        "  x Int $\n"  # 4  stray character
        "  @unique\n"  # 5  field attribute on its own line
        "}\n"  # 6
        "hello\n"  # 7  top-level garbage
        "enum E { A\n"  # 8  body on the brace line
        "}\n"  # 9
        'datasource db {\n  provider "sqlite"\n}\n'  # 10-12 missing `=`
        "model B {\n  id Int @id @@index([id])\n}\n"  # 13-15 @@ on a field line
    )
    assert sorted(errors(text)) == [
        (3, 3, "field `name` has no type"),
        (4, 9, "unexpected character `$`"),
        (5, 3, "a field attribute must follow a field"),
        (7, 1, "unexpected `hello` at the top level"),
        (8, 10, "the body of enum `E` must start on a new line"),
        (11, 12, 'expected `=` after `provider`, found `"sqlite"`'),
        (14, 14, "a block attribute (`@@`) must stand on its own line"),
    ]


def test_recovery_keeps_the_blocks_around_an_error() -> None:
    tree, diagnostics = parse_schema_text(
        "schema.prisma",
        "model A {\n  id Int @id\n  oops\n  name String\n}\nnonsense\nmodel B {\n  id Int @id\n}\n",
    )
    assert len(diagnostics) == 2
    blocks = tree.blocks
    assert [b.name for b in blocks] == ["A", "B"]
    assert [m.name for m in blocks[0].members if isinstance(m, FieldDecl)] == ["id", "oops", "name"]


def test_errors_are_listed_in_source_order() -> None:
    text = "model A {\n  id Int @id\n  name\n  x Int $\n}\n"
    assert errors(text) == [(3, 3, "field `name` has no type"), (4, 9, "unexpected character `$`")]


def test_validate_raises_schema_error_with_the_syntax_errors() -> None:
    with pytest.raises(SchemaError) as caught:
        validate_schema_text("model A {\n  id Int @id $\n  name\n}\n", "x.prisma")
    assert sorted((d.span.line, d.span.column) for d in caught.value.diagnostics if d.span) == [
        (2, 14),
        (3, 3),
    ]
    assert caught.value.message.endswith("schema invalid: 2 errors")
    assert "x.prisma:2:14: error: unexpected character `$`" in caught.value.message
