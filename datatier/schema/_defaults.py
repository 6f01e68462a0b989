"""``@default``: functions and literals checked against the field's type, as Prisma checks them."""

from __future__ import annotations

import base64
import decimal
import json
import re
from datetime import datetime

from datatier.schema import _catalog_rules as rules
from datatier.schema._args import describe_expr, expr_text
from datatier.schema._ast import ArrayExpr, ConstantExpr, Expr, FunctionCall, NumberExpr, StringExpr
from datatier.schema._drafts import FieldDraft, Part, a_or_an, did_you_mean, is_int
from datatier.schema._ir import DefaultValue, LiteralValue, ScalarType

__all__ = ["Defaults"]


class Defaults(Part):
    """Turns a ``@default(...)`` argument into a ``DefaultValue``, or reports why it cannot."""

    def read(
        self, draft: FieldDraft, value: Expr, owner: str, map_expr: Expr | None
    ) -> DefaultValue | None:
        reporter = self.reporter
        map_name = self._string(map_expr, None) if map_expr is not None else None
        if map_expr is not None and self.provider != "sqlserver":
            reporter.error(
                f"default values have no name on {self.provider}",
                map_expr.span,
                f"remove `map:` from the `@default` of {owner} (only SQL Server names defaults)",
            )
            return None
        if isinstance(value, FunctionCall):
            allowed = rules.DEFAULT_FUNCTIONS.get(value.name)
            if value.name not in rules.DEFAULT_FUNCTIONS:
                reporter.error(
                    f"unknown function `{value.name}()` in the default of {owner}",
                    value.span,
                    did_you_mean(value.name, rules.DEFAULT_FUNCTIONS, "{}()")
                    or f"default functions: {', '.join(f'{n}()' for n in rules.DEFAULT_FUNCTIONS)}",
                )
                return None
            scalar = ScalarType(draft.type) if draft.kind == "scalar" else None
            if allowed is not None and (scalar is None or scalar not in allowed):
                fits = " or ".join(sorted(s.value for s in allowed))
                reporter.error(
                    f"`{value.name}()` cannot be the default of {owner}, which is {a_or_an(draft.type)}",
                    value.span,
                    f"`{value.name}()` fills {fits} fields",
                )
                return None
            if value.name == "autoincrement" and draft.is_list:
                reporter.error("`autoincrement()` cannot fill a list", value.span)
                return None
            if value.name in ("sequence",) and self.provider != "cockroachdb":
                reporter.error("`sequence()` is only supported on CockroachDB", value.span)
                return None
            if value.name == "auto" and self.provider != "mongodb":
                reporter.error("`auto()` is only supported on MongoDB", value.span)
                return None
            return self._default_function(value, owner, map_name)
        if draft.kind == "object":
            reporter.error(f"relation field {owner} cannot have a default", value.span)
            return None
        if draft.is_list:
            if not isinstance(value, ArrayExpr):
                reporter.error(
                    f"the default of list {owner} must be a list",
                    value.span,
                    f"e.g. `@default([])` or `@default([{expr_text(value)}])`",
                )
                return None
            values = [self._literal(draft, item, owner) for item in value.items]
            if any(v is None for v in values):
                return None
            return DefaultValue(
                "list", values=tuple(v for v in values if v is not None), map=map_name
            )
        literal = self._literal(draft, value, owner)
        if literal is None:
            return None
        return DefaultValue("literal", value=literal, map=map_name)

    def _default_function(
        self, call: FunctionCall, owner: str, map_name: str | None
    ) -> DefaultValue | None:
        args: list[LiteralValue] = []
        for argument in call.args:
            expr = argument.value
            if isinstance(expr, StringExpr):
                args.append(expr.value)
            elif isinstance(expr, NumberExpr) and is_int(expr.text):
                args.append(int(expr.text))
            else:
                self.reporter.error(
                    f"unexpected argument {expr_text(expr)} to `{call.name}()`", expr.span
                )
                return None
        name = call.name
        if name == "uuid":
            if not args:
                args = [4]
            elif args not in ([4], [7]):
                self.reporter.error(
                    "`uuid()` takes the version 4 or 7", call.span, "e.g. `uuid(7)`"
                )
                return None
        elif name == "cuid":
            if not args:
                args = [1]
            elif args not in ([1], [2]):
                self.reporter.error("`cuid()` takes the version 1 or 2", call.span)
                return None
        elif name == "nanoid":
            if args and (not isinstance(args[0], int) or not 2 <= args[0] <= 255 or len(args) > 1):
                self.reporter.error("`nanoid()` takes a length between 2 and 255", call.span)
                return None
        elif name == "dbgenerated":
            if len(args) > 1 or (args and not isinstance(args[0], str)):
                self.reporter.error(
                    "`dbgenerated()` takes one SQL expression as a string",
                    call.span,
                    'e.g. `dbgenerated("gen_random_uuid()")`',
                )
                return None
            if args == [""]:
                self.reporter.error("`dbgenerated()` needs a non-empty expression", call.span)
                return None
        elif args:
            self.reporter.error(f"`{name}()` takes no arguments", call.span)
            return None
        return DefaultValue("function", name=name, args=tuple(args), map=map_name)

    def _literal(self, draft: FieldDraft, value: Expr, owner: str) -> LiteralValue | None:
        reporter = self.reporter
        expected = draft.type
        if draft.kind == "enum":
            enum = self.enums.get(draft.type)
            if isinstance(value, ConstantExpr) and enum is not None:
                if value.name in {v.name for v in enum.values}:
                    return value.name
                reporter.error(
                    f"`{value.name}` is not a value of enum `{enum.name}`",
                    value.span,
                    did_you_mean(value.name, [v.name for v in enum.values])
                    or f"its values: {', '.join(v.name for v in enum.values)}",
                )
                return None
            if isinstance(value, ConstantExpr):
                return value.name
            reporter.error(
                f"the default of enum {owner} must be one of its values, not {describe_expr(value)}",
                value.span,
            )
            return None
        if draft.kind != "scalar":
            reporter.error(f"{owner} cannot have a literal default", value.span)
            return None
        scalar = ScalarType(expected)
        mismatch = f"the default of {owner} must be {_article(scalar)}, not {describe_expr(value)}"
        if scalar in (ScalarType.INT, ScalarType.BIGINT):
            if isinstance(value, NumberExpr) and is_int(value.text):
                number = int(value.text)
                if not _INT64_MIN <= number <= _INT64_MAX:
                    reporter.error(
                        f"the default of {owner} does not fit in 64 bits",
                        value.span,
                        f"integers range from {_INT64_MIN} to {_INT64_MAX}",
                    )
                    return None
                return number
        elif scalar == ScalarType.DECIMAL:
            # Kept as written: a Decimal must not pass through a float.
            if isinstance(value, NumberExpr):
                return value.text
            if isinstance(value, StringExpr):
                if _DECIMAL.fullmatch(value.value):
                    # `.5`, `1e3`, `+2` -> plain notation (`0.5`, `1000`, `2`), as written in SQL.
                    return format(decimal.Decimal(value.value), "f")
                reporter.error(
                    f'the default of {owner} must be a decimal number, not "{value.value}"',
                    value.span,
                    'e.g. `@default(1.5)` or `@default("1.5")`',
                )
                return None
        elif scalar == ScalarType.FLOAT:
            if isinstance(value, NumberExpr):
                return int(value.text) if is_int(value.text) else float(value.text)
        elif scalar == ScalarType.BOOLEAN:
            if isinstance(value, ConstantExpr) and value.name in ("true", "false"):
                return value.name == "true"
        elif scalar == ScalarType.STRING:
            if isinstance(value, StringExpr):
                return value.value
        elif scalar == ScalarType.DATETIME:
            if isinstance(value, StringExpr):
                try:
                    if not _RFC3339.fullmatch(value.value):
                        raise ValueError(value.value)
                    # RFC 3339 admits a leap second (:60), which datetime does not.
                    text = value.value[:17] + "00" + value.value[19:]
                    datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
                except ValueError:
                    reporter.error(
                        f"`{value.value}` is not an RFC 3339 date-time",
                        value.span,
                        'e.g. `@default("2024-01-31T12:00:00Z")`, or `@default(now())`',
                    )
                    return None
                # RFC 3339 also allows `t`/`z` and a space as separator; keep one spelling.
                return f"{value.value[:10]}T{value.value[11:]}".upper()
        elif scalar == ScalarType.JSON:
            if isinstance(value, StringExpr):
                try:
                    json.loads(value.value)
                except ValueError:
                    reporter.error(
                        f"the default of {owner} is not valid JSON",
                        value.span,
                        'e.g. `@default("{}")` or `@default("[]")`',
                    )
                    return None
                return value.value
        elif scalar == ScalarType.BYTES and isinstance(value, StringExpr):
            try:
                base64.b64decode(value.value, validate=True)
            except ValueError:
                reporter.error(f"the default of {owner} is not valid base64", value.span)
                return None
            return value.value
        reporter.error(mismatch, value.span)
        return None


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:(?:[0-5]\d|60)(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})"
)


def _article(scalar: ScalarType) -> str:
    return {
        ScalarType.INT: "an integer",
        ScalarType.BIGINT: "an integer",
        ScalarType.FLOAT: "a number",
        ScalarType.DECIMAL: "a number",
        ScalarType.BOOLEAN: "`true` or `false`",
        ScalarType.STRING: "a string",
        ScalarType.DATETIME: "a date-time string or `now()`",
        ScalarType.JSON: "a JSON string",
        ScalarType.BYTES: "a base64 string",
    }[scalar]
