"""The relay's SQL: stamp pending change events with ``seq``, read them back, trim old ones.

The write path inserts events into the outbox with ``seq`` NULL in the writer's own
transaction; ``id`` orders nothing across transactions. Stamping gives each pending event
its ``seq`` in one short transaction under a fixed advisory lock, so stamping transactions
run one at a time and a stamp is visible before the next stamper starts: a reader that sees
``seq`` n therefore sees every event with a lower ``seq`` (or it never existed: a rolled back
stamp leaves a hole). SQLite serializes writers anyway, so there ``seq`` is simply ``id``.

Every function takes a connection from the caller's pool and returns plain values; the bus
(``datatier.cache._bus``) decides when to call them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from datatier.drivers import Connection
from datatier.query._changes import OUTBOX_TABLE, ChangeEvent, ChangeOp

__all__ = [
    "RELAY_LOCK",
    "Stamped",
    "bounds",
    "fetch_after",
    "has_pending",
    "high_water",
    "stamp",
    "trim",
]

# pg_advisory_xact_lock key every datatier process stamps under (any fixed 64-bit number
# would do; this one spells "datatier" on a phone keypad, shortened to fit an int4).
RELAY_LOCK = 727073690

_TABLE = f'"{OUTBOX_TABLE}"'
_SEQUENCE = f"{OUTBOX_TABLE}_seq_seq"


@dataclass(frozen=True, slots=True)
class Stamped:
    """One stamped event and when its writer's transaction began (seconds since the epoch)."""

    event: ChangeEvent
    at: float


def _epoch(provider: str) -> str:
    # "at" holds the writer's transaction start; as epoch seconds it can be compared with
    # time.time() on any process of the same machine (and with NTP, of any machine).
    if provider == "sqlite":
        return '(julianday("at") - 2440587.5) * 86400.0'
    return 'EXTRACT(EPOCH FROM "at"::timestamptz)::float8'


def _columns(provider: str) -> str:
    return f'"seq", "model", "op", "key", {_epoch(provider)}'


def _stamped(rows: Sequence[Sequence[Any]]) -> list[Stamped]:
    out = [
        Stamped(ChangeEvent(int(r[0]), str(r[1]), cast(ChangeOp, r[2]), str(r[3])), float(r[4]))
        for r in rows
    ]
    # RETURNING gives no order; consumers need seq order.
    out.sort(key=lambda s: s.event.seq)
    return out


def _stamp_sql(provider: str) -> str:
    if provider == "sqlite":
        return (
            f'UPDATE {_TABLE} SET "seq" = "id" WHERE "seq" IS NULL RETURNING {_columns(provider)}'
        )
    # nextval runs in the inner query's row order, so seq follows id within the batch.
    return (
        f'UPDATE {_TABLE} AS c SET "seq" = s.seq FROM ('
        f"SELECT o.id, nextval('{_SEQUENCE}') AS seq FROM ("
        f'SELECT "id" FROM {_TABLE} WHERE "seq" IS NULL ORDER BY "id" LIMIT $1) AS o'
        ') AS s WHERE c."id" = s.id'
        ' RETURNING c."seq", c."model", c."op", c."key",'
        ' EXTRACT(EPOCH FROM c."at"::timestamptz)::float8'
    )


_STAMP_SQL = {provider: _stamp_sql(provider) for provider in ("sqlite", "postgresql")}
_LOCK_SQL = {
    # set_config(..., true) is SET LOCAL: the stamp's commit need not wait for the WAL flush
    # (a stamp lost to a server crash is redone, with a new seq, by the next stamper).
    True: f"SELECT set_config('synchronous_commit', 'off', true), pg_advisory_xact_lock({RELAY_LOCK})",
    False: f"SELECT set_config('synchronous_commit', 'off', true), pg_try_advisory_xact_lock({RELAY_LOCK})",
}

# Most events a single stamp takes (a huge backlog is stamped over several transactions).
STAMP_BATCH = 5000


async def stamp(conn: Connection, provider: str, *, wait: bool = True) -> list[Stamped] | None:
    """Stamp pending events (up to ``STAMP_BATCH``, in ``id`` order) on ``conn``; the stamped
    events in ``seq`` order. With ``wait=False`` (the background relay) it returns None at
    once when another process holds the stamping lock."""
    if provider == "sqlite":
        async with conn.transaction():
            return _stamped(await conn.fetch(_STAMP_SQL["sqlite"]))
    async with conn.transaction():
        row = await conn.fetch_one(_LOCK_SQL[wait])
        if not wait and (row is None or row[1] is not True):
            return None
        return _stamped(await conn.fetch(_STAMP_SQL["postgresql"], [STAMP_BATCH]))


async def has_pending(conn: Connection) -> bool:
    """Whether any event waits for its ``seq`` (a cheap read, so idle relays write nothing)."""
    row = await conn.fetch_one(f'SELECT 1 FROM {_TABLE} WHERE "seq" IS NULL LIMIT 1')
    return row is not None


async def high_water(conn: Connection, provider: str) -> int:
    """The highest ``seq`` stamped so far (0 when none): every event up to it is visible
    now or never will be."""
    if provider == "sqlite":
        row = await conn.fetch_one(f'SELECT COALESCE(MAX("seq"), 0) FROM {_TABLE}')
    else:
        # The sequence, not MAX(seq): trimmed or rolled back seqs still count as passed.
        row = await conn.fetch_one(
            f'SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM "{_SEQUENCE}"'
        )
    return int(row[0]) if row is not None else 0


async def bounds(conn: Connection, provider: str) -> tuple[int, int]:
    """The lowest ``seq`` still in the outbox (0 when empty) and ``high_water``."""
    row = await conn.fetch_one(f'SELECT COALESCE(MIN("seq"), 0) FROM {_TABLE}')
    return (int(row[0]) if row is not None else 0), await high_water(conn, provider)


async def fetch_after(
    conn: Connection, provider: str, seq: int, limit: int = 5000
) -> list[Stamped]:
    """Stamped events with ``seq`` above ``seq``, in ``seq`` order, at most ``limit``."""
    placeholders = ("?", "?") if provider == "sqlite" else ("$1", "$2")
    rows = await conn.fetch(
        f'SELECT {_columns(provider)} FROM {_TABLE} WHERE "seq" > {placeholders[0]}'
        f' ORDER BY "seq" LIMIT {placeholders[1]}',
        [seq, limit],
    )
    return _stamped(rows)


async def trim(
    conn: Connection, provider: str, *, max_age: float, keep: int, batch: int = 1000
) -> int:
    """Delete up to ``batch`` stamped events older than ``max_age`` seconds or beyond the
    newest ``keep``, oldest first; how many were deleted. Small batches keep each delete
    short, so writers never wait on it."""
    if provider == "sqlite":
        sql = (
            f'DELETE FROM {_TABLE} WHERE "id" IN (SELECT "id" FROM {_TABLE} WHERE "seq" IS NOT NULL'
            f" AND (\"at\" < strftime('%Y-%m-%d %H:%M:%f', 'now', ?)"
            f' OR "seq" <= (SELECT MAX("seq") FROM {_TABLE}) - ?) ORDER BY "seq" LIMIT ?)'
        )
        args: list[Any] = [f"-{max_age:.3f} seconds", keep, batch]
    else:
        sql = (
            f'DELETE FROM {_TABLE} WHERE "id" IN (SELECT "id" FROM {_TABLE} WHERE "seq" IS NOT NULL'
            f' AND ("at" < LOCALTIMESTAMP - make_interval(secs => $1)'
            f' OR "seq" <= (SELECT MAX("seq") FROM {_TABLE}) - $2) ORDER BY "seq" LIMIT $3)'
        )
        args = [max_age, keep, batch]
    return await conn.execute(sql, args)
