"""datatier: a schema-first data layer for Python. One ``schema.prisma`` drives everything."""

from __future__ import annotations

from datatier.errors import (
    ConfigError,
    ConnectionFailed,
    DatabaseNotEmpty,
    DatatierError,
    Diagnostic,
    ProviderMismatch,
    SchemaError,
    SchemaNotFound,
)
from datatier.schema import Schema, load_schema, validate_schema_text

__all__ = [
    "ConfigError",
    "ConnectionFailed",
    "DatabaseNotEmpty",
    "DatatierError",
    "Diagnostic",
    "ProviderMismatch",
    "Schema",
    "SchemaError",
    "SchemaNotFound",
    "__version__",
    "load_schema",
    "validate_schema_text",
]

__version__ = "0.1.0"
