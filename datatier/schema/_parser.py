"""Recursive-descent parser: Prisma schema text -> syntax tree (``_ast``), with every error located.

Each ``_parse_*`` method is one production of the grammar, written as its docstring.
The parser recovers at line ends and block ends so one run reports every syntax error.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from datatier.errors import Diagnostic, Span
from datatier.schema._ast import (
    Argument,
    ArrayExpr,
    Attribute,
    Block,
    BlockKind,
    Comment,
    ConstantExpr,
    EnumValueDecl,
    Expr,
    FieldDecl,
    FieldType,
    FunctionCall,
    Member,
    NumberExpr,
    ObjectExpr,
    Property,
    SchemaFile,
    StringExpr,
    TopLevel,
)
from datatier.schema._gc import collector_paused
from datatier.schema._lexer import Token, tokenize
from datatier.schema._source import Source

__all__ = ["parse_schema_text"]

_BLOCK_KINDS: frozenset[str] = frozenset(
    ("datasource", "generator", "model", "view", "type", "enum")
)
_CLOSERS = {"(": ")", "[": "]"}


class _ParseFailed(Exception):
    """Raised inside a production; the caller skips to a safe point and goes on."""


def parse_schema_text(path: str, text: str) -> tuple[SchemaFile, list[Diagnostic]]:
    """Parse one file; returns its tree (as much as could be read) and the syntax errors found."""
    source = Source(path, text)
    diagnostics: list[Diagnostic] = []
    with collector_paused():
        tokens = tokenize(source, diagnostics)
        parser = _Parser(source, tokens, diagnostics)
        tree = SchemaFile(path, text, parser.parse_file())
    diagnostics.sort(key=lambda d: d.span.start if d.span is not None else 0)
    return tree, diagnostics


class _Parser:
    def __init__(self, source: Source, tokens: list[Token], diagnostics: list[Diagnostic]) -> None:
        self.source = source
        # The source's own method, bound once: the parser makes a span for every node.
        self.span: Callable[[int, int], Span] = source.span
        self.tokens = tokens
        self.pos = 0
        self.diagnostics = diagnostics
        self.depth = 0  # open ( [ { : the line must not end before they close
        self.unclosed = False  # the last error was a line ending inside brackets
        self.error_lines = {d.span.line for d in diagnostics if d.span is not None}

    # -- token helpers -------------------------------------------------------------

    def peek(self) -> Token:
        token = self.tokens[self.pos]
        if self.depth and token.kind in ("newline", "comment", "doc", "eof"):
            self.unclosed = True
            raise self.error(
                "the line ends before its brackets are closed",
                token,
                "a schema line cannot be broken inside ( ), [ ] or { }: "
                "write the whole attribute or value on one line",
            )
        return token

    def advance(self) -> Token:
        token = self.peek()
        if token.kind != "eof":
            self.pos += 1
        return token

    def at(self, text: str) -> bool:
        token = self.peek()
        return token.kind == "punct" and token.text == text

    def error(self, message: str, token: Token, hint: str | None = None) -> _ParseFailed:
        """Report ``message`` at ``token`` (unless its line already has an error: one mistake
        should read as one error, not as the cascade that follows it)."""
        end = token.end if token.end > token.start else token.start + 1
        span = self.span(token.start, end)
        if span.line not in self.error_lines:
            self.error_lines.add(span.line)
            self.diagnostics.append(self.source.diagnostic(message, span, hint))
        return _ParseFailed()

    def expect(self, text: str, what: str, hint: str | None = None) -> Token:
        token = self.peek()
        if token.kind == "punct" and token.text == text:
            return self.advance()
        raise self.error(f"expected {what}, found {_describe(token)}", token, hint)

    def expect_ident(self, what: str, hint: str | None = None) -> Token:
        token = self.peek()
        if token.kind == "ident":
            return self.advance()
        raise self.error(f"expected {what}, found {_describe(token)}", token, hint)

    def skip_line(self) -> None:
        """Skip to the end of the current line (recovery), leaving the line break unread.

        After a line that ended inside brackets, the lines that only continue it (they do
        not start a member) are skipped too, up to the line that closes the brackets.
        """
        self.depth = 0
        if self.unclosed:
            self.unclosed = False
            self._skip_continuation_lines()
        while self.tokens[self.pos].kind not in ("newline", "eof"):
            if self.tokens[self.pos].kind == "punct" and self.tokens[self.pos].text == "}":
                return
            self.pos += 1

    def _skip_continuation_lines(self) -> None:
        tokens = self.tokens
        opened = 0
        while True:
            token = tokens[self.pos]
            if token.kind == "eof":
                return
            if token.kind == "newline":
                following = tokens[self.pos + 1]
                after = tokens[self.pos + 2] if following.kind != "eof" else following
                starts_member = (
                    (following.kind == "punct" and following.text in ("@@", "}"))
                    or (following.kind == "ident" and after.kind == "ident")
                    or (following.kind == "ident" and after.kind == "punct" and after.text == "=")
                    or following.kind in ("doc", "comment", "newline", "eof")
                )
                if starts_member:
                    return
            elif token.kind == "punct" and token.text in ("(", "[", "{"):
                opened += 1
            elif token.kind == "punct" and token.text in (")", "]", "}"):
                if token.text == "}" and opened == 0:
                    return
                opened -= 1
            self.pos += 1

    def skip_blank(self) -> None:
        while self.tokens[self.pos].kind == "newline":
            self.pos += 1

    # -- productions ---------------------------------------------------------------

    def parse_file(self) -> tuple[TopLevel, ...]:
        """file := (block | comment | NEWLINE)* EOF"""
        items: list[TopLevel] = []
        docs: list[str] = []
        while True:
            token = self.tokens[self.pos]
            if token.kind == "eof":
                break
            if token.kind == "newline":
                self.pos += 1
                continue
            if token.kind == "doc":
                docs.append(_doc_text(token.text))
                self.pos += 1
                continue
            if token.kind == "comment":
                items.append(Comment(token.text[2:], self.span(token.start, token.end)))
                self.pos += 1
                continue
            try:
                items.append(self._parse_block(tuple(docs)))
            except _ParseFailed:
                self._skip_to_next_block()
            docs = []
        return tuple(items)

    def _skip_to_next_block(self) -> None:
        depth = 0
        while self.tokens[self.pos].kind != "eof":
            token = self.tokens[self.pos]
            if token.kind == "punct" and token.text == "{":
                depth += 1
            elif token.kind == "punct" and token.text == "}":
                depth -= 1
                if depth <= 0:
                    self.pos += 1
                    return
            elif depth <= 0 and token.kind == "ident" and token.text in _BLOCK_KINDS:
                previous = self.tokens[self.pos - 1] if self.pos else None
                if previous is None or previous.kind == "newline":
                    return
            self.pos += 1

    def _parse_block(self, docs: tuple[str, ...]) -> Block:
        """block := KEYWORD IDENT '{' NEWLINE member* '}'"""
        keyword = self.tokens[self.pos]
        if keyword.kind != "ident" or keyword.text not in _BLOCK_KINDS:
            raise self.error(
                f"unexpected {_describe(keyword)} at the top level",
                keyword,
                "a schema consists of `datasource`, `generator`, `model`, `view`, `enum` "
                "and `type` blocks",
            )
        self.pos += 1
        name = self.expect_ident(f"a name after `{keyword.text}`")
        self.expect("{", f"`{{` to open {keyword.text} `{name.text}`")
        after = self.tokens[self.pos]
        if after.kind not in ("newline", "comment", "doc", "eof"):
            self.error(
                f"the body of {keyword.text} `{name.text}` must start on a new line",
                after,
                "put a line break after `{`: each field and attribute stands on a line of its own",
            )
        kind: BlockKind = keyword.text  # type: ignore[assignment]
        members: list[Member] = []
        docs_pending: list[str] = []
        while True:
            token = self.tokens[self.pos]
            if token.kind == "eof":
                self.error(
                    f"{keyword.text} `{name.text}` is not closed",
                    keyword,
                    "add `}` at the end of the block",
                )
                end = token.start
                break
            if token.kind == "punct" and token.text == "}":
                self.pos += 1
                end = token.end
                break
            if token.kind == "newline":
                self.pos += 1
                continue
            if token.kind == "doc":
                docs_pending.append(_doc_text(token.text))
                self.pos += 1
                continue
            if token.kind == "comment":
                members.append(Comment(token.text[2:], self.span(token.start, token.end)))
                self.pos += 1
                continue
            if token.kind == "ident" and token.text in _BLOCK_KINDS and self._looks_like_block():
                # A block opened inside another: the previous one lacks its `}`.
                self.error(
                    f"{keyword.text} `{name.text}` is not closed",
                    keyword,
                    f"add `}}` before `{token.text}` on line {self.span(token.start, token.end).line}",
                )
                end = token.start
                break
            try:
                members.append(self._parse_member(kind, tuple(docs_pending)))
            except _ParseFailed:
                self.skip_line()
            docs_pending = []
        return Block(
            kind,
            name.text,
            tuple(members),
            docs,
            self.span(keyword.start, end),
            self.span(name.start, name.end),
        )

    def _looks_like_block(self) -> bool:
        tokens = self.tokens
        i = self.pos
        return (
            tokens[i + 1].kind == "ident"
            and tokens[i + 2].kind == "punct"
            and tokens[i + 2].text == "{"
        )

    def _parse_member(self, kind: BlockKind, docs: tuple[str, ...]) -> Member:
        """member := block_attribute | property | enum_value | field, each ending the line."""
        token = self.tokens[self.pos]
        if token.kind == "punct" and token.text == "@@":
            attribute = self._parse_attribute()
            self._end_of_line()
            return attribute
        if token.kind == "punct" and token.text == "@":
            raise self.error(
                "a field attribute must follow a field",
                token,
                "write it on the line of the field it belongs to, or use `@@` for a block attribute",
            )
        name = self.expect_ident(
            "a field name" if kind in ("model", "view", "type") else "a name",
        )
        if kind in ("datasource", "generator"):
            self.expect("=", f"`=` after `{name.text}`", f"write `{name.text} = <value>`")
            value = self._parse_expr()
            comment = self._end_of_line()
            return Property(
                name.text, value, docs, comment, self.span(name.start, self._last_end())
            )
        if kind == "enum":
            attributes = self._parse_field_attributes()
            comment = self._end_of_line()
            return EnumValueDecl(
                name.text, attributes, docs, comment, self.span(name.start, self._last_end())
            )
        field_type = self._parse_field_type(name)
        attributes = self._parse_field_attributes()
        comment = self._end_of_line()
        return FieldDecl(
            name.text,
            field_type,
            attributes,
            docs,
            comment,
            self.span(name.start, self._last_end()),
            self.span(name.start, name.end),
        )

    def _last_end(self) -> int:
        index = self.pos - 1
        while index > 0 and self.tokens[index].kind in ("newline", "comment"):
            index -= 1
        return self.tokens[index].end

    def _end_of_line(self) -> str | None:
        """Consume an optional trailing ``//`` comment and the line break; returns the comment."""
        token = self.tokens[self.pos]
        comment = None
        while token.kind in ("comment", "doc"):
            # `/* a */ // b` is two comments on one line; the first one is kept.
            if comment is None:
                comment = token.text[2:]
            self.pos += 1
            token = self.tokens[self.pos]
        if token.kind == "newline":
            self.pos += 1
        elif not (token.kind == "eof" or (token.kind == "punct" and token.text == "}")):
            raise self.error(
                f"unexpected {_describe(token)}",
                token,
                "each field, value or attribute ends at the end of its line",
            )
        return comment

    def _parse_field_type(self, name: Token) -> FieldType | None:
        """field_type := (IDENT | 'Unsupported' '(' STRING ')') ('[]' | '?' | '[]?')?"""
        token = self.tokens[self.pos]
        if token.kind != "ident":
            if token.kind in ("newline", "eof", "comment") or (
                token.kind == "punct" and token.text in ("@", "}")
            ):
                self.diagnostics.append(
                    self.source.diagnostic(
                        f"field `{name.text}` has no type",
                        self.span(name.start, name.end),
                        f"write a type after the name, e.g. `{name.text} String`",
                    )
                )
                return None
            raise self.error(
                f"expected a type for field `{name.text}`, found {_describe(token)}",
                token,
            )
        self.pos += 1
        unsupported = None
        end = token.end
        if token.text == "Unsupported" and self.at("("):
            self.advance()
            self.depth += 1
            literal = self.peek()
            if literal.kind != "string":
                self.depth -= 1
                raise self.error(
                    "`Unsupported` takes the database type as a string",
                    literal,
                    'write e.g. `Unsupported("circle")`',
                )
            self.advance()
            unsupported = _string_value(literal.text)
            self.depth -= 1
            end = self.expect(")", "`)` after the type name").end
        # A member starts outside brackets, so the tokens can be read without `peek`'s check.
        is_list = optional = False
        following = self.tokens[self.pos]
        if following.kind == "punct" and following.text == "[":
            self.pos += 1
            end = self.expect("]", "`]` to close `[`").end
            is_list = True
            following = self.tokens[self.pos]
        if following.kind == "punct" and following.text == "?":
            self.pos += 1
            end = following.end
            optional = True
        return FieldType(token.text, optional, is_list, unsupported, self.span(token.start, end))

    def _parse_field_attributes(self) -> tuple[Attribute, ...]:
        attributes: list[Attribute] = []
        while True:
            token = self.tokens[self.pos]
            if token.kind == "punct" and token.text == "@":
                attributes.append(self._parse_attribute())
            elif token.kind == "punct" and token.text == "@@":
                raise self.error(
                    "a block attribute (`@@`) must stand on its own line",
                    token,
                    "move it to a line of its own, or use `@` for a field attribute",
                )
            else:
                return tuple(attributes)

    def _parse_attribute(self) -> Attribute:
        """attribute := ('@' | '@@') IDENT ('.' IDENT)* arguments?"""
        # Attributes stand outside brackets: the tokens are read without `peek`'s check.
        at = self.tokens[self.pos]
        first = self.tokens[self.pos + 1]
        self.pos += 1
        if first.kind != "ident":
            raise self.error(
                f"expected an attribute name after `{at.text}`, found {_describe(first)}", first
            )
        self.pos += 1
        parts = [first.text]
        name_end = first.end
        while self.tokens[self.pos].kind == "punct" and self.tokens[self.pos].text == ".":
            self.pos += 1
            part = self.expect_ident("a name after `.`")
            parts.append(part.text)
            name_end = part.end
        args: tuple[Argument, ...] = ()
        has_parens = False
        end = name_end
        token = self.tokens[self.pos]
        if token.kind == "punct" and token.text == "(":
            has_parens = True
            # Native type arguments (`@db.VarChar(10,)`) are read leniently, as Prisma reads them.
            args, end = self._parse_arguments(trailing_comma=len(parts) > 1)
        return Attribute(
            ".".join(parts),
            args,
            has_parens,
            at.text == "@@",
            self.span(at.start, end),
            self.span(first.start, name_end),
        )

    def _parse_arguments(self, *, trailing_comma: bool = False) -> tuple[tuple[Argument, ...], int]:
        """arguments := '(' (argument (',' argument)*)? ')'"""
        self.pos += 1  # the `(` the caller saw
        self.depth += 1
        args: list[Argument] = []
        try:
            # Each token is peeked once (inside the brackets that may end the line: an error).
            token = self.peek()
            while not (token.kind == "punct" and token.text == ")"):
                args.append(self._parse_argument())
                token = self.peek()
                if token.kind == "punct" and token.text == ",":
                    comma = token
                    self.pos += 1
                    token = self.peek()
                    if token.kind == "punct" and token.text == ")" and not trailing_comma:
                        self.error(
                            "an argument list cannot end with a comma",
                            comma,
                            "remove the `,` before `)`",
                        )
                elif not (token.kind == "punct" and token.text == ")"):
                    raise self.error(
                        f"expected `,` or `)` in an argument list, found {_describe(token)}",
                        token,
                    )
            self.pos += 1  # the `)`
        finally:
            self.depth -= 1
        return tuple(args), token.end

    def _parse_argument(self) -> Argument:
        """argument := (IDENT ':')? expression"""
        token = self.peek()
        following = self.tokens[self.pos + 1]
        if token.kind == "ident" and following.kind == "punct" and following.text == ":":
            self.pos += 2
            value = self._parse_expr()
            return Argument(token.text, value, self.span(token.start, value.span.end))
        value = self._parse_expr()
        return Argument(None, value, value.span)

    def _parse_expr(self) -> Expr:
        """expression := STRING | NUMBER | array | IDENT arguments? | IDENT ('.' IDENT)*"""
        token = self.peek()  # past `peek`, the token is no line end: `pos += 1` reads it
        if token.kind == "string":
            self.pos += 1
            return self._string(token)
        if token.kind == "number":
            self.pos += 1
            return NumberExpr(token.text, self.span(token.start, token.end))
        if token.kind == "punct" and token.text == "[":
            return self._parse_array()
        if token.kind == "punct" and token.text == "{" and self.depth:
            return self._parse_object()
        if token.kind == "ident":
            self.pos += 1
            if self.at("(") and self.tokens[self.pos].kind == "punct":
                args, end = self._parse_arguments()
                return FunctionCall(token.text, args, self.span(token.start, end))
            return ConstantExpr(token.text, self.span(token.start, token.end))
        raise self.error(f"expected a value, found {_describe(token)}", token)

    def _parse_array(self) -> ArrayExpr:
        """array := '[' (expression (',' expression)*)? ']'"""
        open_token = self.advance()
        self.depth += 1
        items: list[Expr] = []
        try:
            # Each token is peeked once, as in `_parse_arguments`.
            token = self.peek()
            while not (token.kind == "punct" and token.text == "]"):
                items.append(self._parse_expr())
                token = self.peek()
                if token.kind == "punct" and token.text == ",":
                    comma = token
                    self.pos += 1
                    token = self.peek()
                    if token.kind == "punct" and token.text == "]":
                        self.error(
                            "a list cannot end with a comma", comma, "remove the `,` before `]`"
                        )
                elif not (token.kind == "punct" and token.text == "]"):
                    raise self.error(
                        f"expected `,` or `]` in a list, found {_describe(token)}", token
                    )
            self.pos += 1  # the `]`
        finally:
            self.depth -= 1
        return ArrayExpr(tuple(items), self.span(open_token.start, token.end))

    def _parse_object(self) -> ObjectExpr:
        """object := '{' (IDENT ':' expression (',' IDENT ':' expression)* ','?)? '}'"""
        open_token = self.advance()
        entries: list[Argument] = []
        while not self.at("}"):
            key = self.expect_ident("a field name in `{ ... }`")
            self.expect(":", f"`:` after `{key.text}`")
            value = self._parse_expr()
            entries.append(Argument(key.text, value, self.span(key.start, value.span.end)))
            if self.at(","):
                self.advance()
            elif not self.at("}"):
                raise self.error(
                    f"expected `,` or `}}` in an object, found {_describe(self.peek())}",
                    self.peek(),
                )
        close = self.advance()
        return ObjectExpr(tuple(entries), self.span(open_token.start, close.end))

    def _string(self, token: Token) -> StringExpr:
        raw = token.text[1:-1]
        try:
            value = _string_value(token.text)
        except ValueError:
            self.diagnostics.append(
                self.source.diagnostic(
                    "invalid escape sequence in string",
                    self.span(token.start, token.end),
                    'use \\" for a quote, \\\\ for a backslash, \\n, \\t or \\uXXXX',
                )
            )
            value = raw
        return StringExpr(value, raw, self.span(token.start, token.end))


def _string_value(text: str) -> str:
    """The value of a string token (JSON's escapes, which are the schema language's)."""
    value = json.loads(text)
    if not isinstance(value, str):  # pragma: no cover - the lexer only passes strings
        raise ValueError(text)
    return value


def _doc_text(text: str) -> str:
    return text[3:]


def _describe(token: Token) -> str:
    if token.kind == "eof":
        return "the end of the file"
    if token.kind == "newline":
        return "the end of the line"
    if token.kind in ("comment", "doc"):
        return "a comment"
    return f"`{token.text}`"
