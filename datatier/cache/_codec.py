"""Cached values as bytes: msgpack of the decoded records a read returns, never pickle.

Records hold str, int (any size), float, bool, None, bytes, aware UTC datetimes, Decimals,
and Json values (dicts and lists of those). Datetimes travel as msgpack Timestamps; the
types msgpack has no form for travel as ext types holding their exact text, so nothing
loses precision. Unpacking builds fresh objects, so callers may mutate what they get.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import msgpack  # type: ignore[import-untyped]

from datatier.errors import DatatierError

__all__ = ["CodecError", "pack", "unpack"]

_DECIMAL, _BIGINT, _DATE, _TIME, _NAIVE = 1, 2, 3, 4, 5


class CodecError(DatatierError):
    """A value the cache cannot store (a type no decoded record holds)."""

    code = "cache_codec"


def _default(value: Any) -> Any:
    if isinstance(value, int):  # outside 64 bits: msgpack asks us
        return msgpack.ExtType(_BIGINT, str(value).encode())
    if isinstance(value, Decimal):
        return msgpack.ExtType(_DECIMAL, str(value).encode())
    if isinstance(value, datetime):  # naive (aware ones are Timestamps already)
        return msgpack.ExtType(_NAIVE, value.isoformat().encode())
    if isinstance(value, date):
        return msgpack.ExtType(_DATE, value.isoformat().encode())
    if isinstance(value, time):
        return msgpack.ExtType(_TIME, value.isoformat().encode())
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise CodecError(f"the cache cannot store a {type(value).__name__} value: {value!r:.60}")


def _ext(code: int, data: bytes) -> Any:
    text = data.decode()
    if code == _DECIMAL:
        return Decimal(text)
    if code == _BIGINT:
        return int(text)
    if code == _DATE:
        return date.fromisoformat(text)
    if code == _TIME:
        return time.fromisoformat(text)
    if code == _NAIVE:
        return datetime.fromisoformat(text)
    return msgpack.ExtType(code, data)


def pack(value: Any) -> bytes:
    """``value`` (a read's result) as msgpack bytes; ``CodecError`` for a type it cannot hold."""
    result: bytes = msgpack.packb(value, default=_default, datetime=True, use_bin_type=True)
    return result


def unpack(data: bytes) -> Any:
    """The value ``pack`` made ``data`` from: fresh objects, datetimes aware in UTC."""
    return msgpack.unpackb(data, ext_hook=_ext, timestamp=3, raw=False, strict_map_key=False)
