"""JSON in and out of the API with orjson.

Out: DateTime as ISO 8601 in UTC with ``Z``; Decimal as a string (no precision lost);
Bytes as base64; integers (BigInt too) as JSON numbers, exact to 64 bits. In: request
bodies and ``q``/``where`` parameters parsed strictly, a malformed one is a 400.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import orjson

from datatier.api._problems import HttpProblem

__all__ = ["dumps", "loads"]

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    """``value`` as JSON bytes, in the API's encoding of datatier's values."""
    return orjson.dumps(value, default=_default, option=_OPTIONS)


def loads(text: bytes | str, where: str) -> Any:
    """Parse JSON ``text``; a 400 problem naming ``where`` (``body``, ``where``, ``q``) if bad."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise HttpProblem(
            400,
            "invalid_json",
            f"{where} is not valid JSON: {error}",
            title="Malformed JSON",
            path=(where,),
        ) from None
