"""Prisma Client 7 and datatier share one database: each reads what the other wrote, and both
store every type byte for byte alike (tools/prisma-client runs the real Prisma Client).

Needs Node.js and npm (the runner installs Prisma from the npm registry on first use). Without
them the tests skip, except under CI=true, where they fail: CI machines have Node.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from datatier.drivers._postgres import set_timestamp_codecs
from datatier.migrate._push import push
from datatier.query._codecs import FieldCodec, codec_for
from datatier.schema import Field, ScalarType, Schema
from tests.test_codecs import PG, PG_EXTRA, PG_ROW, SQLITE, SQLITE_ROW, schema_text

RUNNER = Path(__file__).resolve().parents[1] / "tools" / "prisma-client" / "run"
OPS = RUNNER.parent / "ops.mjs"

J = {"b": 1, "a": [1, 2.5, "x", None, True], "o": {"k": "é</"}}
PG_VALUES = {n: e for n, (_, e) in PG_ROW.items()} | {"j": J, "sl": ["a", "b,c", '"q"']}
SQLITE_VALUES = {n: e for n, (_, e) in SQLITE_ROW.items()} | {"j": J}


@pytest.fixture(scope="module")
def prisma_runner() -> Path:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        reason = f"{' and '.join(missing)} not found: tools/prisma-client needs Node.js and npm"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return RUNNER


def run_prisma(
    runner: Path, schema: Schema, url: str, requests: list[dict[str, Any]], tmp: Path
) -> list[Any]:
    """Each request through Prisma Client (tools/prisma-client/ops.mjs); the results in order."""
    schema_file = tmp / "schema.prisma"
    schema_file.write_text(SCHEMA_TEXT[id(schema)])
    lines = "".join(orjson.dumps(r).decode() + "\n" for r in requests)
    done = subprocess.run(
        [str(runner), str(schema_file), str(OPS)],
        input=lines,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = [orjson.loads(line) for line in done.stdout.splitlines() if line.strip()]
    for result in results:
        assert "error" not in result, result["error"]
    return [r["result"] for r in results]


SCHEMA_TEXT = {id(PG): schema_text("postgresql", PG_EXTRA), id(SQLITE): schema_text("sqlite")}


# -- values in Prisma's JSON (tools/prisma-client/ops.mjs tags) -----------------------------


def to_prisma(field: Field, value: Any) -> Any:
    if field.is_list:
        return [to_prisma_one(field, v) for v in value]
    return to_prisma_one(field, value)


def to_prisma_one(field: Field, value: Any) -> Any:
    scalar = field.type
    if scalar == ScalarType.BIGINT:
        return {"$type": "BigInt", "value": str(value)}
    if scalar == ScalarType.DECIMAL:
        return {"$type": "Decimal", "value": str(value)}
    if scalar == ScalarType.BYTES:
        return {"$type": "Bytes", "value": base64.b64encode(value).decode()}
    if scalar == ScalarType.DATETIME:
        return value.isoformat()
    return value


def from_prisma(field: Field, value: Any) -> Any:
    if value is None:
        return None
    if field.is_list:
        return [from_prisma_one(field, v) for v in value]
    return from_prisma_one(field, value)


def from_prisma_one(field: Field, value: Any) -> Any:
    scalar = field.type
    if scalar == ScalarType.BIGINT:
        return int(value)
    if scalar == ScalarType.DECIMAL:
        return Decimal(value)
    if scalar == ScalarType.BYTES:
        return base64.b64decode(value)
    if scalar == ScalarType.DATETIME:
        return datetime.fromisoformat(value).astimezone(UTC)
    if scalar == ScalarType.FLOAT:
        return float(value)
    return value


# -- raw access through the drivers datatier uses -------------------------------------------


def _codecs(provider: str, schema: Schema) -> dict[str, FieldCodec]:
    return {f.name: codec_for(provider, f, schema) for f in schema.model("Row").fields}


async def _pg(
    url: str, write: dict[str, Any] | None, row_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    codecs = _codecs("postgresql", PG)
    names = [n for n in codecs if n != "id"]
    conn = await asyncpg.connect(url)
    await set_timestamp_codecs(conn)
    try:
        if write is not None:
            cols = ", ".join(f'"{n}"' for n in ["id", *write])
            marks = ", ".join(f"${i}" for i in range(1, len(write) + 2))
            params = [codecs[n].to_db(v) for n, v in write.items()]
            await conn.execute(f'INSERT INTO "Row" ({cols}) VALUES ({marks})', row_id, *params)
        row = await conn.fetchrow(
            f'SELECT {", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)} FROM "Row" WHERE id = $1',
            row_id,
        )
        text = await conn.fetchrow(
            f'SELECT {", ".join(f"{chr(34)}{n}{chr(34)}::text" for n in names)} FROM "Row" WHERE id = $1',
            row_id,
        )
    finally:
        await conn.close()
    assert row is not None and text is not None
    decoded = {}
    for name, raw in zip(names, row.values(), strict=True):
        decode = codecs[name].from_db
        decoded[name] = raw if raw is None or decode is None else decode(raw)
    return decoded, dict(zip(names, text.values(), strict=True))


def _sqlite(
    url: str, write: dict[str, Any] | None, row_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    codecs = _codecs("sqlite", SQLITE)
    names = [n for n in codecs if n != "id"]
    with sqlite3.connect(url.removeprefix("file:")) as conn:
        if write is not None:
            cols = ", ".join(f'"{n}"' for n in ["id", *write])
            marks = ", ".join("?" for _ in range(len(write) + 1))
            conn.execute(
                f'INSERT INTO "Row" ({cols}) VALUES ({marks})',
                [row_id, *(codecs[n].to_db(v) for n, v in write.items())],
            )
        row = conn.execute(
            f'SELECT {", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)} FROM "Row" WHERE id = ?',
            [row_id],
        ).fetchone()
        kinds = conn.execute(
            f'SELECT {", ".join(f"typeof({chr(34)}{n}{chr(34)})" for n in names)} FROM "Row" WHERE id = ?',
            [row_id],
        ).fetchone()
    decoded = {}
    for name, raw in zip(names, row, strict=True):
        decode = codecs[name].from_db
        decoded[name] = raw if raw is None or decode is None else decode(raw)
    raw_row = {n: (kind, value) for n, kind, value in zip(names, kinds, row, strict=True)}
    return decoded, raw_row


@pytest.mark.parametrize("provider", ["postgresql", "sqlite"])
def test_prisma_and_datatier_read_each_others_rows(
    provider: str, prisma_runner: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    schema, values = (PG, PG_VALUES) if provider == "postgresql" else (SQLITE, SQLITE_VALUES)
    url: str = request.getfixturevalue("pg_url" if provider == "postgresql" else "sqlite_url")
    push(schema, url)
    model = schema.model("Row")

    def raw_access(
        write: dict[str, Any] | None, row_id: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if provider == "postgresql":
            return asyncio.run(_pg(url, write, row_id))
        return _sqlite(url, write, row_id)

    # Prisma writes row 1; datatier writes row 2 with the same values.
    data = {n: to_prisma(model.field(n), v) for n, v in values.items()}
    (created,) = run_prisma(
        prisma_runner,
        schema,
        url,
        [{"model": "row", "op": "create", "args": {"data": {"id": 1, **data}}}],
        tmp_path,
    )
    datatier_reads_prisma, prisma_raw = raw_access(None, 1)
    _, datatier_raw = raw_access(values, 2)

    # Prisma reads both rows.
    read = run_prisma(
        prisma_runner,
        schema,
        url,
        [{"model": "row", "op": "findUnique", "args": {"where": {"id": i}}} for i in (1, 2)],
        tmp_path,
    )
    prisma_reads_prisma = {n: from_prisma(model.field(n), created[n]) for n in values}
    prisma_reads_datatier = {n: from_prisma(model.field(n), read[1][n]) for n in values}

    expected = dict(values)
    assert {n: datatier_reads_prisma[n] for n in values} == expected
    assert prisma_reads_prisma == expected
    assert prisma_reads_datatier == expected
    assert {n: from_prisma(model.field(n), read[0][n]) for n in values} == expected
    # Stored alike, column by column (PostgreSQL: as text; SQLite: storage class and value).
    assert datatier_raw == prisma_raw
