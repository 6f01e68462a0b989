"""Cache key text: what a read asked (operation, model, canonical document), whose read it
is (identity) and which versions of the data it saw (version tokens).

The memory tier uses the text itself as its dict key (Python's str hash is the only
hashing on the hit path); the Redis tier uses ``{namespace}:{schema_hash}:`` plus a
blake2b digest of it, so the schema version is part of every shared key.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import orjson

from datatier.schema import Schema

__all__ = ["SEP", "document_text", "redis_key", "schema_hash"]

SEP = "\x1f"  # cannot appear in JSON text unescaped, so the parts never run together
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _tagged(value: Any) -> Any:
    # Values JSON has no form for, tagged by type so 1.5 (float) and Decimal("1.5") differ.
    if isinstance(value, Decimal):
        return ["\x00Decimal", str(value)]
    if isinstance(value, bytes | bytearray | memoryview):
        return ["\x00bytes", bytes(value).hex()]
    if isinstance(value, set | frozenset | tuple):
        return ["\x00" + type(value).__name__, *value]
    return ["\x00" + type(value).__name__, repr(value)]


def document_text(document: Any) -> str:
    """``document`` as canonical JSON text: keys sorted, non-JSON values type-tagged."""
    return orjson.dumps(document, option=_OPTIONS, default=_tagged).decode()


def schema_hash(schema: Schema) -> str:
    """A short digest of the schema's models, enums and relations: it changes when the
    schema changes, so entries written under an older schema are never read."""
    material = repr((schema.models, schema.enums, schema.relations)).encode()
    return hashlib.blake2b(material, digest_size=8).hexdigest()


def redis_key(prefix: str, text: str) -> str:
    """The Redis key for key ``text``: ``prefix`` (``{namespace}:{schema_hash}:``) + digest."""
    return prefix + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
