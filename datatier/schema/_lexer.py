"""Tokens of the Prisma schema language.

Line breaks are tokens because they end fields and properties; ``//`` comments and
``///`` documentation are tokens because the formatter and the IR keep them.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from datatier.errors import Diagnostic
from datatier.schema._source import Source

__all__ = ["Token", "TokenKind", "tokenize"]

TokenKind = Literal["ident", "string", "number", "punct", "newline", "doc", "comment", "eof"]


class Token(NamedTuple):
    kind: TokenKind
    text: str
    start: int
    end: int


_PATTERN = re.compile(
    r"""
    [ \t\f\v\ufeff]*
    (?:
    (?P<newline>\r?\n|\r)
  | (?P<doc>///[^\r\n]*)
  | (?P<comment>//[^\r\n]*)
  | (?P<block>/\*(?:.|\n)*?\*/)
  | (?P<string>"(?:[^"\\\r\n]|\\.)*")
  | (?P<badstring>"[^\r\n]*)
  | (?P<number>-?\d+(?:\.\d+)?(?![^\W\d]))
  | (?P<ident>[^\W\d_](?:[^\W\d_]|[0-9_\-])*)
  | (?P<punct>@@|[{}()\[\]=,:?@.])
  | (?P<end>$)
    )
    """,
    re.VERBOSE,
)
_KIND_OF_GROUP: dict[int, TokenKind] = {
    index: name  # type: ignore[misc]
    for name, index in _PATTERN.groupindex.items()
}
_BLOCK = _PATTERN.groupindex["block"]
_BADSTRING = _PATTERN.groupindex["badstring"]
# Groups that do not become a token as matched: rewritten, reported, or the end of the text.
_SPECIAL_GROUPS = frozenset((_BLOCK, _BADSTRING, _PATTERN.groupindex["end"]))
_WHITESPACE = re.compile(r"[ \t\f\v\ufeff]*")
_NAME_TAIL = re.compile(r"_(?:[^\W\d_]|[0-9_\-])*")


def tokenize(source: Source, diagnostics: list[Diagnostic]) -> list[Token]:
    """Split ``source`` into tokens; characters that belong to no token are reported and skipped."""
    text = source.text
    tokens: list[Token] = []
    append = tokens.append
    position = 0
    length = len(text)
    new_token = tuple.__new__  # skips the named tuple's Python-level constructor
    kinds = _KIND_OF_GROUP
    for found in _PATTERN.finditer(text):
        # Each alternative is one group without groups inside: the last group is the token.
        group: int = found.lastindex  # type: ignore[assignment]
        start, end = found.span(group)
        # A match that begins where the last one ended starts with blanks only; one that
        # begins later skipped characters no token takes.
        if found.start() > position:
            gap = _WHITESPACE.match(text, position).end()  # type: ignore[union-attr]
            if gap < start:
                _bad_characters(source, gap, start, diagnostics)
        position = end
        if group not in _SPECIAL_GROUPS:
            append(new_token(Token, (kinds[group], text[start:end], start, end)))
        elif group == _BLOCK:
            # Prisma keeps /* ... */ as documentation, like ///.
            append(Token("doc", "///" + text[start + 2 : end - 2].strip(), start, end))
        elif group == _BADSTRING:
            diagnostics.append(
                source.diagnostic(
                    "unterminated string",
                    source.span(start, end),
                    'close the string with `"` on the same line',
                )
            )
            append(Token("string", text[start:end] + '"', start, end))
    if position < length:
        _bad_characters(source, position, length, diagnostics)
    append(Token("eof", "", length, length))
    return tokens


def _bad_characters(source: Source, start: int, end: int, diagnostics: list[Diagnostic]) -> None:
    """Report the characters from ``start`` to ``end`` that begin no token."""
    text = source.text[start:end].rstrip()
    if text.startswith("_"):
        # `_name`: Prisma's names start with a letter (`_` and digits may follow it).
        name = _NAME_TAIL.match(source.text, start).group()  # type: ignore[union-attr]
        diagnostics.append(
            source.diagnostic(
                f"`{name}` is not a valid name: names start with a letter",
                source.span(start, start + len(name)),
                f"rename it, e.g. `{name.lstrip('_') or 'name'}` (keep a database name with `@map`)",
            )
        )
        return
    diagnostics.append(
        source.diagnostic(
            f"unexpected character{'s' if len(text) > 1 else ''} `{text}`",
            source.span(start, start + len(text)),
            "remove it; only identifiers, strings, numbers and { } ( ) [ ] = , : ? @ . may appear here",
        )
    )
