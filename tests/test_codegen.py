"""``datatier generate``: golden files, the CLI, Prisma's generator protocol, and the
generated package running against SQLite.

``DATATIER_REGEN_GOLDEN=1 pytest tests/test_codegen.py`` rewrites the golden packages
under ``tests/golden/codegen/`` (review the diff before committing it).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from datatier.cli import app
from datatier.codegen import build_package, generate_client, render_package
from datatier.codegen._prisma_generator import ENV_VAR
from datatier.migrate._push import push
from datatier.schema import load_schema
from tests.harness.golden import REPO

GOLDEN = REPO / "tests" / "golden" / "codegen"
SCHEMAS = {
    "demo": REPO / "datatier" / "demo" / "schema.prisma",
    "shop": REPO / "tests" / "conformance" / "schemas" / "shared" / "shop.prisma",
}
REGENERATE = os.environ.get("DATATIER_REGEN_GOLDEN") == "1"


def rendered(name: str) -> dict[str, str]:
    schema = SCHEMAS[name]
    return render_package(build_package(load_schema(schema), schema, GOLDEN / name))


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_output_matches_golden_files(name: str) -> None:
    files = rendered(name)
    folder = GOLDEN / name
    if REGENERATE:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in set(p.name for p in folder.iterdir() if p.is_file()) - set(files):
            (folder / stale).unlink()
        for file, text in files.items():
            (folder / file).write_text(text, encoding="utf-8", newline="\n")
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.is_file()}
    assert sorted(on_disk) == sorted(files)
    for file, text in files.items():
        assert on_disk[file] == text, (
            f"{folder / file} differs; DATATIER_REGEN_GOLDEN=1 rewrites it"
        )


def test_output_is_deterministic() -> None:
    assert rendered("demo") == rendered("demo")


def test_golden_files_are_formatted_as_ruff_formats_them() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed in this environment")
    result = subprocess.run(
        [str(ruff), "format", "--check", "--line-length", "100", "--isolated", str(GOLDEN)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- the command ---------------------------------------------------------------------


def test_generate_writes_default_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = tmp_path / "schema.prisma"
    schema.write_text(SCHEMAS["shop"].read_text())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["generate"])
    assert result.exit_code == 0, result.output
    package = tmp_path / "datatier_client"
    assert sorted(p.name for p in package.iterdir()) == [
        "__init__.py",
        "_client.py",
        "_schema.py",
        "_selects.py",
        "_sync.py",
        "py.typed",
        "types.py",
    ]
    assert '(Path(__file__).parent / "../schema.prisma")' in (package / "_schema.py").read_text()


def test_generate_uses_generator_output_then_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = tmp_path / "prisma" / "schema.prisma"
    schema.parent.mkdir()
    text = (
        SCHEMAS["shop"]
        .read_text()
        .replace('provider = "datatier"', 'provider = "datatier"\n  output   = "../app/db"')
    )
    schema.write_text(text)
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["generate"]).exit_code == 0
    assert (tmp_path / "app" / "db" / "types.py").exists()
    result = CliRunner().invoke(app, ["generate", "--output", "elsewhere"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "elsewhere" / "_client.py").exists()


def test_generate_reports_schema_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "schema.prisma").write_text("model A {\n  id Int @id\n  b  Nope\n}\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["generate"])
    assert result.exit_code == 1
    assert "Nope" in result.output
    assert not (tmp_path / "datatier_client").exists()


# -- Prisma's generator protocol -------------------------------------------------------


def _speak(requests: list[dict[str, Any]], *args: str) -> tuple[list[dict[str, Any]], str]:
    """Run ``datatier`` as Prisma does; the JSON-RPC responses (stderr) and its log (stdout)."""
    stdin = "".join(json.dumps(r) + "\n" for r in requests)
    env = {**os.environ, ENV_VAR: "true"}
    result = subprocess.run(
        [sys.executable, "-m", "datatier.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stderr.splitlines()], result.stdout


def _generate_request(schema: Path, output: Path, id_: int = 2) -> dict[str, Any]:
    """A ``generate`` request shaped as Prisma sends it (the parts datatier reads, and some)."""
    return {
        "jsonrpc": "2.0",
        "method": "generate",
        "id": id_,
        "params": {
            "generator": {
                "name": "client",
                "provider": {"fromEnvVar": None, "value": "datatier"},
                "output": {"fromEnvVar": None, "value": str(output)},
                "config": {},
                "binaryTargets": [],
                "previewFeatures": [],
                "sourceFilePath": str(schema),
            },
            "otherGenerators": [],
            "schemaPath": str(schema),
            "datamodel": schema.read_text(),
            "datasources": [],
            "version": "0",
        },
    }


@pytest.mark.parametrize("args", [(), ("prisma-generator",)], ids=["bare", "subcommand"])
def test_prisma_generator_protocol(tmp_path: Path, args: tuple[str, ...]) -> None:
    output = tmp_path / "client"
    responses, log = _speak(
        [
            {"jsonrpc": "2.0", "method": "getManifest", "params": {}, "id": 1},
            _generate_request(SCHEMAS["shop"], output),
        ],
        *args,
    )
    assert responses == [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "result": {
                "manifest": {
                    "prettyName": "datatier Python client",
                    "defaultOutput": "./datatier_client",
                    "requiresEngines": [],
                }
            },
        },
        {"jsonrpc": "2.0", "id": 2, "result": None},
    ]
    assert str(output) in log
    assert (output / "_client.py").read_text() == (GOLDEN / "shop" / "_client.py").read_text()


def test_prisma_generator_reports_errors(tmp_path: Path) -> None:
    bad = tmp_path / "schema.prisma"
    bad.write_text("model A {\n  id Int @id\n  b  Nope\n}\n")
    responses, _ = _speak(
        [
            _generate_request(bad, tmp_path / "out", id_=7),
            {"jsonrpc": "2.0", "method": "explode", "params": {}, "id": 8},
        ]
    )
    assert [r["id"] for r in responses] == [7, 8]
    assert responses[0]["error"]["code"] == -32000
    assert "Nope" in responses[0]["error"]["message"]
    assert responses[1]["error"]["code"] == -32601
    assert not (tmp_path / "out").exists()


# -- the generated package at runtime --------------------------------------------------


@pytest.fixture
def shop_package(tmp_path: Path) -> Iterator[ModuleType]:
    """The shop schema's client generated as package ``shop_client_rt`` under ``tmp_path``."""
    generate_client(load_schema(SCHEMAS["shop"]), SCHEMAS["shop"], tmp_path / "shop_client_rt")
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("shop_client_rt")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.split(".")[0] == "shop_client_rt"]:
            del sys.modules[name]


def test_generated_async_client_end_to_end(shop_package: ModuleType, sqlite_url: str) -> None:
    push(load_schema(SCHEMAS["shop"]), sqlite_url)
    assert Path(shop_package.SCHEMA_PATH) == SCHEMAS["shop"].resolve()

    async def scenario() -> None:
        async with shop_package.Client(url=sqlite_url) as db:
            customer = await db.customer.create(data={"email": "a@x.io", "name": "Ada"})
            assert customer["name"] == "Ada"
            product = await db.product.create(
                data={
                    "sku": "P1",
                    "name": "Pen",
                    "price": Decimal("1.50"),
                    "category": {"create": {"name": "Office", "slug": "office"}},
                },
                include={"category": True},
            )
            assert product["category"]["slug"] == "office"
            order = await db.order.create(
                data={
                    "customerId": customer["id"],
                    "items": {
                        "create": [{"productId": product["id"], "quantity": 2, "price": "3.00"}]
                    },
                },
                include={"items": True},
            )
            assert [i["quantity"] for i in order["items"]] == [2]
            found = await db.order.find_many(
                where={"customer": {"is": {"email": {"startsWith": "a@"}}}},
                order_by=[{"createdAt": "desc"}],
                take=5,
            )
            assert [o["id"] for o in found] == [order["id"]]
            assert await db.orderItem.count(where={"quantity": {"gte": 2}}) == 1
            key = {"productId_collectionId": {"productId": product["id"], "collectionId": 1}}
            assert await db.productCollection.find_unique(where=key) is None
            async with db.tx() as tx:
                await tx.product.update(where={"sku": "P1"}, data={"stock": {"increment": 3}})
            again = await db.product.find_unique_or_raise(
                where={"sku": "P1"}, select={"stock": True}
            )
            assert again == {"stock": 3}
            rows = await db.query_raw("SELECT count(*) AS n FROM Customer")
            assert rows == [{"n": 1}]
            assert await db.orderItem.delete_many() == 1

    asyncio.run(scenario())


def test_generated_sync_client_end_to_end(shop_package: ModuleType, sqlite_url: str) -> None:
    push(load_schema(SCHEMAS["shop"]), sqlite_url)
    with shop_package.SyncClient(url=sqlite_url) as db:
        assert db.customer.create_many(data=[{"email": "b@x.io", "name": "Bo"}]) == 1
        with db.tx() as tx:
            tx.customer.update_many(where={"name": "Bo"}, data={"name": {"set": "Bob"}})
        assert db.customer.find_first_or_raise(where={"email": "b@x.io"})["name"] == "Bob"
        assert db.execute_raw("DELETE FROM Customer") == 1
