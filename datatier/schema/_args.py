"""Reading attribute and property arguments: positional/named matching and value conversions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from datatier.errors import Diagnostic, Span
from datatier.schema._ast import (
    ArrayExpr,
    Attribute,
    ConstantExpr,
    Expr,
    FunctionCall,
    NumberExpr,
    ObjectExpr,
    StringExpr,
)
from datatier.schema._source import Source

__all__ = ["Reporter", "bind_args", "describe_expr", "expr_text", "once_each", "repeats"]


class Reporter:
    """Collects diagnostics for a set of sources, each rendered with its offending line."""

    def __init__(self, sources: dict[str, Source]) -> None:
        self.sources = sources
        self.diagnostics: list[Diagnostic] = []

    def error(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self._add(message, span, hint, "error")

    def warning(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self._add(message, span, hint, "warning")

    def _add(self, message: str, span: Span | None, hint: str | None, severity: str) -> None:
        source = self.sources.get(span.file) if span is not None else None
        if source is not None and span is not None:
            self.diagnostics.append(source.diagnostic(message, span, hint, severity=severity))
        else:
            self.diagnostics.append(Diagnostic(message, span, hint, severity=severity))

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


def bind_args(
    attribute: Attribute,
    params: Sequence[str],
    reporter: Reporter,
    *,
    owner: str,
    positional: bool = True,
) -> dict[str, Expr] | None:
    """Match ``attribute``'s arguments to ``params`` (the first one may be given positionally,
    unless ``positional`` is false).

    Unknown or repeated arguments are reported; returns None when any was, so the caller
    does not act on half-understood input.
    """
    bound: dict[str, Expr] = {}
    ok = True
    label = f"@{'@' if attribute.is_block else ''}{attribute.name}"
    for index, argument in enumerate(attribute.args):
        name = argument.name
        if name is None:
            if index == 0 and params and positional:
                name = params[0]
            else:
                reporter.error(
                    f"{label} on {owner} takes no positional argument here",
                    argument.span,
                    f"name it: one of {', '.join(f'`{p}:`' for p in params)}"
                    if params
                    else f"{label} takes no arguments",
                )
                ok = False
                continue
        if name not in params:
            reporter.error(
                f"{label} on {owner} has no argument `{name}`",
                argument.span,
                f"its arguments are {', '.join(f'`{p}`' for p in params)}"
                if params
                else f"{label} takes no arguments",
            )
            ok = False
            continue
        if name in bound:
            reporter.error(f"argument `{name}` of {label} is given twice", argument.span)
            ok = False
            continue
        bound[name] = argument.value
    return bound if ok else None


def expr_text(expr: Expr) -> str:
    """The expression written back as schema text (for messages and native type arguments)."""
    if isinstance(expr, StringExpr):
        return f'"{expr.raw}"'
    if isinstance(expr, NumberExpr):
        return expr.text
    if isinstance(expr, ConstantExpr):
        return expr.name
    if isinstance(expr, ArrayExpr):
        return "[" + ", ".join(expr_text(item) for item in expr.items) + "]"
    if isinstance(expr, ObjectExpr):
        return "{ " + ", ".join(f"{a.name}: {expr_text(a.value)}" for a in expr.entries) + " }"
    args = ", ".join((f"{a.name}: " if a.name else "") + expr_text(a.value) for a in expr.args)
    return f"{expr.name}({args})"


def describe_expr(expr: Expr) -> str:
    """What kind of value an expression is, for messages (`a string`, `a number`, ...)."""
    if isinstance(expr, StringExpr):
        return "a string"
    if isinstance(expr, NumberExpr):
        return "a number"
    if isinstance(expr, ConstantExpr):
        return "a boolean" if expr.name in ("true", "false") else f"the constant `{expr.name}`"
    if isinstance(expr, ArrayExpr):
        return "a list"
    if isinstance(expr, FunctionCall):
        return f"the function `{expr.name}()`"
    return "an object"


def repeats(members: Iterable[object], names: Sequence[str], reporter: Reporter) -> list[Attribute]:
    """The repetitions of the attributes in ``names`` that may appear once, each reported."""
    seen: set[str] = set()
    extra: list[Attribute] = []
    for member in members:
        if isinstance(member, Attribute) and member.name in names:
            if member.name in seen:
                label = f"@{'@' if member.is_block else ''}{member.name}"
                reporter.error(f"`{label}` is given twice", member.span, "keep one of them")
                extra.append(member)
            seen.add(member.name)
    return extra


def once_each(
    attributes: Sequence[Attribute], names: Sequence[str], reporter: Reporter
) -> list[Attribute]:
    """``attributes`` without the repeated ones among ``names`` (which are reported)."""
    repeated = set(map(id, repeats(attributes, names, reporter)))
    return [a for a in attributes if id(a) not in repeated]
