"""Client-side default values: ``uuid()``, ``cuid()``, ``nanoid()``, ``ulid()``, as Prisma makes them.

Prisma fills these in its query engine, not in the database, so datatier does the same:
the formats below are the ones Prisma writes (UUID v4/v7 text, cuid v1 ``c...`` 25
characters, cuid2 24 lowercase characters, nanoid 21 URL-safe characters, ULID 26
Crockford base32 characters).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import string
import threading
import time
import uuid
from collections.abc import Callable

__all__ = [
    "generator_for",
    "new_cuid",
    "new_cuid2",
    "new_nanoid",
    "new_ulid",
    "new_uuid4",
    "new_uuid7",
]

_BASE36 = string.digits + string.ascii_lowercase
_NANOID_ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_uuid4() -> str:
    return str(uuid.uuid4())


def new_uuid7() -> str:
    """A time-ordered UUID (RFC 9562 version 7): 48 bits of milliseconds, then random bits."""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def _base36(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 36)
        digits.append(_BASE36[remainder])
    text = "".join(reversed(digits)) or "0"
    return text.rjust(width, "0")[-width:]


class _CuidState:
    lock = threading.Lock()
    counter = secrets.randbelow(36**4)
    fingerprint = _base36(os.getpid(), 2) + _base36(
        sum(map(ord, socket.gethostname())) + len(socket.gethostname()) + 36, 2
    )


def new_cuid() -> str:
    """A cuid (version 1): ``c``, time, counter, host fingerprint and randomness, in base 36."""
    with _CuidState.lock:
        _CuidState.counter = (_CuidState.counter + 1) % (36**4)
        counter = _CuidState.counter
    return (
        "c"
        + _base36(time.time_ns() // 1_000_000, 8)
        + _base36(counter, 4)
        + _CuidState.fingerprint
        + _base36(secrets.randbits(41), 4)
        + _base36(secrets.randbits(41), 4)
    )


def new_cuid2(length: int = 24) -> str:
    """A cuid2: a random lowercase letter, then a SHA3 hash of time, entropy and a counter."""
    with _CuidState.lock:
        _CuidState.counter += 1
        counter = _CuidState.counter
    first = secrets.choice(string.ascii_lowercase)
    material = f"{time.time_ns()}{secrets.token_hex(16)}{counter}{_CuidState.fingerprint}"
    digest = int.from_bytes(hashlib.sha3_512(material.encode()).digest(), "big")
    return first + _base36(digest, 64)[: length - 1]


def new_nanoid(size: int = 21) -> str:
    return "".join(_NANOID_ALPHABET[b & 63] for b in secrets.token_bytes(size))


def new_ulid() -> str:
    """A ULID: 48 bits of milliseconds and 80 random bits, 26 Crockford base32 characters."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def generator_for(name: str, args: tuple[object, ...]) -> Callable[[], str] | None:
    """The value maker for a default function, or None when the database fills the value."""
    if name == "uuid":
        return new_uuid7 if args == (7,) else new_uuid4
    if name == "cuid":
        return new_cuid2 if args == (2,) else new_cuid
    if name == "nanoid":
        size = args[0] if args and isinstance(args[0], int) else 21
        return lambda: new_nanoid(size)
    if name == "ulid":
        return new_ulid
    return None
