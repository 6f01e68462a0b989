"""datatier: a schema-first data layer for Python. One ``schema.prisma`` drives everything."""

from __future__ import annotations

from datatier.client import Client, ModelClient, SyncClient, Transaction
from datatier.errors import (
    ConfigError,
    ConnectionFailed,
    ConnectionLost,
    ConstraintViolation,
    DatabaseNotEmpty,
    DatatierError,
    Diagnostic,
    Forbidden,
    ForeignKeyViolation,
    NotFound,
    NullViolation,
    PoolTimeout,
    ProviderMismatch,
    QueryError,
    QueryTimeout,
    RequiredRelationViolation,
    SchemaError,
    SchemaNotFound,
    TransactionConflict,
    Unauthenticated,
    UniqueViolation,
    ValidationError,
)
from datatier.schema import Schema, load_schema, validate_schema_text

__all__ = [
    "Client",
    "ConfigError",
    "ConnectionFailed",
    "ConnectionLost",
    "ConstraintViolation",
    "DatabaseNotEmpty",
    "DatatierError",
    "Diagnostic",
    "Forbidden",
    "ForeignKeyViolation",
    "ModelClient",
    "NotFound",
    "NullViolation",
    "PoolTimeout",
    "ProviderMismatch",
    "QueryError",
    "QueryTimeout",
    "RequiredRelationViolation",
    "Schema",
    "SchemaError",
    "SchemaNotFound",
    "SyncClient",
    "Transaction",
    "TransactionConflict",
    "Unauthenticated",
    "UniqueViolation",
    "ValidationError",
    "__version__",
    "load_schema",
    "validate_schema_text",
]

__version__ = "0.1.0"
