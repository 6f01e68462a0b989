"""The one exception tree of datatier: every error has a stable ``code`` and a message a user can act on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

__all__ = [
    "ConfigError",
    "ConnectionFailed",
    "ConnectionLost",
    "ConstraintViolation",
    "DatabaseNotEmpty",
    "DatatierError",
    "Diagnostic",
    "Forbidden",
    "ForeignKeyViolation",
    "NotFound",
    "NullViolation",
    "PoolTimeout",
    "ProviderMismatch",
    "QueryError",
    "QueryTimeout",
    "RequiredRelationViolation",
    "SchemaError",
    "SchemaNotFound",
    "Span",
    "TransactionConflict",
    "Unauthenticated",
    "UniqueViolation",
    "ValidationError",
]


class Span(NamedTuple):
    """A stretch of one source file: 1-based line and column of its start, character offsets.

    A named tuple, not a dataclass: the parser makes one per node, and this is the cheap kind.
    """

    file: str
    start: int
    end: int
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a schema: what is wrong, where, and (when it helps) how to fix it."""

    message: str
    span: Span | None
    hint: str | None = None
    severity: str = "error"  # "error" | "warning"
    code: str = "schema_invalid"
    source_line: str | None = field(default=None, compare=False)

    def render(self) -> str:
        """The diagnostic as a user reads it: ``file:line:col: error: message``, the line, a caret, a hint."""
        where = (
            f"{self.span.file}:{self.span.line}:{self.span.column}: "
            if self.span is not None
            else ""
        )
        lines = [f"{where}{self.severity}: {self.message}"]
        if self.span is not None and self.source_line is not None:
            gutter = f"{self.span.line:>4} | "
            lines.append(gutter + self.source_line)
            width = max(
                1,
                min(self.span.end - self.span.start, len(self.source_line) - self.span.column + 1),
            )
            lines.append(
                " " * (len(gutter) - 2) + "| " + " " * (self.span.column - 1) + "^" * width
            )
        if self.hint:
            lines.append(f"  = hint: {self.hint}")
        return "\n".join(lines)


class DatatierError(Exception):
    """Base of every error datatier raises on purpose."""

    code: ClassVar[str] = "datatier_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SchemaError(DatatierError):
    """The schema is not valid; ``diagnostics`` lists every problem found, each with its location."""

    code = "schema_invalid"

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        count = len(errors)
        text = "\n\n".join(d.render() for d in self.diagnostics)
        super().__init__(f"{text}\n\nschema invalid: {count} error{'s' if count != 1 else ''}")


class SchemaNotFound(DatatierError):
    """No schema file where one was looked for."""

    code = "schema_not_found"


class ConfigError(DatatierError):
    """The configuration (file, environment or flags) is not usable."""

    code = "config_invalid"


class ProviderMismatch(ConfigError):
    """The database URL names another database than the schema's datasource can run on."""

    code = "provider_mismatch"


class Unauthenticated(DatatierError):
    """A request to the API carried no credentials it accepts, or ones that failed to verify (HTTP 401)."""

    code = "unauthenticated"


class Forbidden(DatatierError):
    """The caller's role may not run this operation on this model (HTTP 403).

    ``role``, ``model`` and ``operation`` say which rule was missing.
    """

    code = "forbidden"

    def __init__(
        self, message: str, *, role: str | None = None, model: str = "", operation: str = ""
    ) -> None:
        self.role = role
        self.model = model
        self.operation = operation
        super().__init__(message)


class ConnectionFailed(DatatierError):
    """The database could not be reached; the message names the host and what failed."""

    code = "connection_failed"


class DatabaseNotEmpty(DatatierError):
    """``db push`` found a database whose tables differ from the schema and will not change it."""

    code = "database_not_empty"


class QueryError(DatatierError):
    """A query could not run or failed; ``prisma_code`` is Prisma's code for the same case."""

    code = "query_error"
    prisma_code: ClassVar[str | None] = None


class ValidationError(QueryError):
    """A query document does not fit the schema; ``path`` says where (``where.author.is.email``).

    Raised before any SQL runs.
    """

    code = "validation_error"
    prisma_code = "P2009"

    def __init__(self, message: str, path: Sequence[str | int] = ()) -> None:
        self.path = tuple(path)
        where = ".".join(str(p) for p in self.path)
        super().__init__(f"{where}: {message}" if where else message)


class NotFound(QueryError):
    """``*_or_raise`` found nothing, or a write needed a record that does not exist."""

    code = "not_found"
    prisma_code = "P2025"


class ConstraintViolation(QueryError):
    """A write broke a database constraint.

    ``constraint``, ``table`` and ``columns`` are what the database reported (as far as it
    does: SQLite names no constraint); the engine maps them to the schema's ``model`` and
    ``fields``.
    """

    code = "constraint_violation"

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        fields: Sequence[str] = (),
        constraint: str | None = None,
        table: str | None = None,
        columns: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.fields = tuple(fields)
        self.constraint = constraint
        self.table = table
        self.columns = tuple(columns)
        super().__init__(message)


class UniqueViolation(ConstraintViolation):
    """A write would duplicate a unique value; ``fields`` are the schema fields of the constraint."""

    code = "unique_violation"
    prisma_code = "P2002"


class ForeignKeyViolation(ConstraintViolation):
    """A write points at a row that does not exist, or deletes one that others still point at."""

    code = "foreign_key_violation"
    prisma_code = "P2003"


class NullViolation(QueryError):
    """A required column would be null; ``table`` and ``column`` name it when the database does."""

    code = "null_violation"
    prisma_code = "P2011"

    def __init__(
        self, message: str, *, table: str | None = None, column: str | None = None
    ) -> None:
        self.table = table
        self.column = column
        super().__init__(message)


class RequiredRelationViolation(QueryError):
    """A change would leave a required relation without its related record."""

    code = "required_relation_violation"
    prisma_code = "P2014"


class TransactionConflict(QueryError):
    """A transaction failed on a serialization failure or deadlock; retrying it may succeed."""

    code = "transaction_conflict"
    prisma_code = "P2034"


class PoolTimeout(QueryError):
    """No connection became free within the pool's acquire timeout."""

    code = "pool_timeout"
    prisma_code = "P2024"


class QueryTimeout(QueryError):
    """A statement ran longer than the statement timeout and was cancelled."""

    code = "query_timeout"
    prisma_code = "P1008"


class ConnectionLost(QueryError):
    """The connection dropped; an open transaction on it was rolled back by the database."""

    code = "connection_lost"
    prisma_code = "P1017"
