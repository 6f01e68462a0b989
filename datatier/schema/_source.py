"""Source text and positions: turns character offsets into spans with line and column."""

from __future__ import annotations

import re
from bisect import bisect_right

from datatier.errors import Diagnostic, Span

__all__ = ["Source"]

_NEWLINE = re.compile("\n")
_new_tuple = tuple.__new__


class Source:
    """One schema file's text, able to say where an offset is and show its line."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self._line_starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]

    def span(self, start: int, end: int) -> Span:
        """The span from ``start`` to ``end`` (character offsets)."""
        line = bisect_right(self._line_starts, start) - 1
        # tuple.__new__ skips the named tuple's Python-level constructor: the parser makes many.
        return _new_tuple(
            Span, (self.path, start, end, line + 1, start - self._line_starts[line] + 1)
        )

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its line break."""
        begin = self._line_starts[line - 1]
        end = self._line_starts[line] if line < len(self._line_starts) else len(self.text)
        return self.text[begin:end].rstrip("\r\n")

    def diagnostic(
        self, message: str, span: Span, hint: str | None = None, *, severity: str = "error"
    ) -> Diagnostic:
        """A diagnostic at ``span`` carrying the offending line, ready to render."""
        return Diagnostic(
            message, span, hint, severity=severity, source_line=self.line_text(span.line)
        )
