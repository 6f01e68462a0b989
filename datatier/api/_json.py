"""JSON in and out of the API with orjson.

Out: DateTime as ISO 8601 in UTC with ``Z``; Decimal as a string (no precision lost);
Bytes as base64; integers (BigInt too) as JSON numbers, exact to 64 bits. In: request
bodies and ``q``/``where`` parameters parsed strictly, a malformed one is a 400.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson
from starlette.responses import Response

from datatier.api._problems import HttpProblem
from datatier.query._compile import JsonText

__all__ = ["JsonResponse", "dumps", "loads"]

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
# Non-string keys are rare (never in records); the option costs every call ~15%, so it is
# the fallback, not the default.
_ANY_KEYS = _OPTIONS | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, JsonText):
        return orjson.Fragment(value.text)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    """``value`` as JSON bytes, in the API's encoding of datatier's values."""
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    except TypeError:
        return orjson.dumps(value, default=_default, option=_ANY_KEYS)


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


_JSON_TYPE = (b"content-type", b"application/json")


class JsonResponse(Response):
    """A response of already encoded JSON ``body``: the raw headers are built directly,
    without the generic ``Response``'s header merging (a per-request cost on every read)."""

    media_type = "application/json"

    def __init__(
        self, body: bytes, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        raw = [(b"content-length", str(len(body)).encode()), _JSON_TYPE]
        if headers:
            raw.extend(
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            )
        self.raw_headers = raw
