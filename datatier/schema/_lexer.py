"""Tokens of the Prisma schema language.

Line breaks are tokens because they end fields and properties; ``//`` comments and
``///`` documentation are tokens because the formatter and the IR keep them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from datatier.errors import Diagnostic
from datatier.schema._source import Source

__all__ = ["Token", "TokenKind", "tokenize"]

TokenKind = Literal["ident", "string", "number", "punct", "newline", "doc", "comment", "eof"]


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    start: int
    end: int


_PATTERN = re.compile(
    r"""
    (?P<ws>[ \t\f\v\ufeff]+)
  | (?P<newline>\r?\n|\r)
  | (?P<doc>///[^\r\n]*)
  | (?P<comment>//[^\r\n]*)
  | (?P<block>/\*(?:.|\n)*?\*/)
  | (?P<string>"(?:[^"\\\r\n]|\\.)*")
  | (?P<badstring>"[^\r\n]*)
  | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_\-]*)
  | (?P<punct>@@|[{}()\[\]=,:?@.])
    """,
    re.VERBOSE,
)


def tokenize(source: Source, diagnostics: list[Diagnostic]) -> list[Token]:
    """Split ``source`` into tokens; characters that belong to no token are reported and skipped."""
    text = source.text
    tokens: list[Token] = []
    append = tokens.append
    position = 0
    length = len(text)
    match = _PATTERN.match
    while position < length:
        found = match(text, position)
        if found is None:
            bad_end = position + 1
            while bad_end < length and match(text, bad_end) is None:
                bad_end += 1
            diagnostics.append(
                source.diagnostic(
                    f"unexpected character{'s' if bad_end - position > 1 else ''} "
                    f"`{text[position:bad_end]}`",
                    source.span(position, bad_end),
                    "remove it; only identifiers, strings, numbers and "
                    "{ } ( ) [ ] = , : ? @ . may appear here",
                )
            )
            position = bad_end
            continue
        kind = found.lastgroup
        end = found.end()
        if kind == "ws":
            pass
        elif kind == "block":
            # Prisma keeps /* ... */ as documentation, like ///.
            append(Token("doc", "///" + found.group()[2:-2].strip(), position, end))
        elif kind == "badstring":
            diagnostics.append(
                source.diagnostic(
                    "unterminated string",
                    source.span(position, end),
                    'close the string with `"` on the same line',
                )
            )
            append(Token("string", text[position:end] + '"', position, end))
        else:
            append(Token(kind, found.group(), position, end))  # type: ignore[arg-type]
        position = end
    append(Token("eof", "", length, length))
    return tokens
