"""User-defined RPC procedures: registered typed functions served as ``/rpc/{name}``,
validated (the path of the bad field), authorized by role rules, run in a transaction,
in ``$batch`` and in ``/openapi.json``; the registration errors; and ``datatier serve``
importing the module that ``[server] procedures`` names (a real uvicorn process)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from openapi_spec_validator import validate
from pydantic import BaseModel

from datatier import Client
from datatier.api import (
    ApiSettings,
    AuthSettings,
    ProcedureContext,
    Procedures,
    create_app,
    procedure,
)
from datatier.errors import ConfigError
from datatier.migrate._push import push
from examples.api_procedures import procedures as example_procedures
from tests.harness.backends import Backend
from tests.harness.golden import REPO
from tests.test_api_rest import SCHEMA, seed
from tests.test_api_server import start_server, stop_server

PROBLEM = "application/problem+json"
SECRET = "k" * 32


@pytest_asyncio.fixture
async def db(sql_backend: Backend) -> AsyncIterator[Client]:
    client = Client(SCHEMA, sql_backend.url)
    push(client.schema, sql_backend.url)
    async with client:
        await seed(client)
        yield client


def http_for(
    db: Client, procedures: Procedures, settings: ApiSettings | None = None
) -> httpx.AsyncClient:
    app = create_app(db, settings, procedures=procedures)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


class Tags(BaseModel):
    names: list[str]


class In(BaseModel):
    n: int


async def first_post(db: Client) -> dict[str, Any]:
    post = await db.post.find_first(where={"status": "DRAFT"}, order_by={"id": "asc"})
    assert post is not None
    return post


async def test_call_validate_and_transaction(db: Client) -> None:
    draft = await first_post(db)
    async with http_for(db, example_procedures) as http:
        response = await http.post("/rpc/publish_post", json={"post_id": draft["id"]})
        assert response.status_code == 200, response.text
        assert response.json() == {
            "data": {"id": draft["id"], "title": draft["title"], "status": "PUBLISHED"}
        }
        # bad input: 400 validation_error with the path of the bad field, nothing run
        bad = await http.post("/rpc/publish_post", json={"post_id": draft["id"], "title": ""})
        assert bad.status_code == 400 and bad.headers["content-type"] == PROBLEM
        problem = bad.json()
        assert problem["code"] == "validation_error" and problem["path"] == ["title"]
        assert problem["errors"][0]["path"] == ["title"]
        missing = await http.post("/rpc/publish_post", json={})
        assert missing.status_code == 400 and missing.json()["path"] == ["post_id"]
        # a failing write inside the procedure: the engine's problem, nothing committed
        gone = await http.post("/rpc/publish_post", json={"post_id": 999_999})
        assert gone.status_code == 404 and gone.json()["code"] == "not_found"
        # read-only: GET with ?q=, a write procedure refuses GET
        top = await http.get("/rpc/top_authors", params={"q": '{"limit": 2}'})
        assert top.status_code == 200, top.text
        assert [row["posts"] for row in top.json()["data"]] == [2, 2]
        refused = await http.get("/rpc/publish_post", params={"q": "{}"})
        assert refused.status_code == 405 and refused.headers["allow"] == "POST"
        unknown = await http.post("/rpc/nothing", json={})
        assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_procedure"


async def test_procedure_writes_roll_back_together(db: Client) -> None:
    registry = Procedures()

    @registry.register
    async def add_tags(ctx: ProcedureContext, args: Tags) -> int:
        for name in args.names:  # the second create of a duplicate fails: none is kept
            await ctx.db.tag.create(data={"name": name, "slug": name})
        return len(args.names)

    async with http_for(db, registry) as http:
        response = await http.post("/rpc/add_tags", json={"names": ["x1", "x1"]})
        assert response.status_code == 409 and response.json()["code"] == "unique_violation"
        assert await db.tag.count(where={"name": "x1"}) == 0
        ok = await http.post("/rpc/add_tags", json={"names": ["x1", "x2"]})
        assert ok.json() == {"data": 2}


async def test_batch_and_openapi(db: Client) -> None:
    draft = await first_post(db)
    async with http_for(db, example_procedures) as http:
        batch = await http.post(
            "/rpc/$batch",
            json={
                "transaction": True,
                "calls": [
                    {"procedure": "publish_post", "args": {"post_id": draft["id"]}},
                    {
                        "model": "post",
                        "operation": "findUnique",
                        "args": {"where": {"id": draft["id"]}},
                    },
                    {"procedure": "top_authors", "args": {"limit": 1}},
                ],
            },
        )
        assert batch.status_code == 200, batch.text
        data = batch.json()["data"]
        assert data[0]["status"] == "PUBLISHED" and data[1]["status"] == "PUBLISHED"
        assert len(data[2]) == 1
        loose = await http.post(
            "/rpc/$batch",
            json={"calls": [{"procedure": "top_authors", "args": {"limit": "many"}}]},
        )
        assert loose.json()["errors"][0]["path"] == ["calls", 0, "args", "limit"]
        document = (await http.get("/openapi.json")).json()
    validate(document)
    schemas = document["components"]["schemas"]
    assert schemas["PublishInput"]["properties"]["post_id"]["exclusiveMinimum"] == 0
    assert schemas["PostSummary"]["required"] == ["id", "title", "status"]
    post = document["paths"]["/rpc/publish_post"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PublishInput"
    }
    assert "get" not in document["paths"]["/rpc/publish_post"]
    top = document["paths"]["/rpc/top_authors"]
    assert top["get"]["parameters"][0]["name"] == "q"
    output = top["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert output["properties"]["data"] == {"$ref": "#/components/schemas/TopAuthorsOutput"}
    assert schemas["TopAuthorsOutput"]["items"] == {"$ref": "#/components/schemas/AuthorStat"}


async def test_role_rules_cover_procedures(db: Client) -> None:
    auth = AuthSettings(
        jwt_secret=SECRET,
        rules={"editor": {"publish_post": "call", "*": "read"}, "reader": {"*": "read"}},
    )

    def bearer(role: str) -> dict[str, str]:
        claims = {"sub": "1", "role": role, "exp": int(time.time()) + 600}
        return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}

    draft = await first_post(db)
    async with http_for(db, example_procedures, ApiSettings(auth=auth)) as http:
        denied = await http.post(
            "/rpc/publish_post", json={"post_id": draft["id"]}, headers=bearer("reader")
        )
        assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
        assert "call" in denied.json()["detail"]
        allowed = await http.post(
            "/rpc/publish_post", json={"post_id": draft["id"]}, headers=bearer("editor")
        )
        assert allowed.status_code == 200
        top = await http.post("/rpc/top_authors", json={"limit": 1}, headers=bearer("editor"))
        assert top.status_code == 403  # `read` on every model is not `call`


def test_registration_errors(db: Client) -> None:
    async def untyped(ctx, args) -> int:  # type: ignore[no-untyped-def]
        return 1

    with pytest.raises(ConfigError, match="parameter `ctx` has no type annotation"):
        procedure(untyped)

    async def no_output(args: In):  # type: ignore[no-untyped-def]
        return 1

    with pytest.raises(ConfigError, match="annotate its return type"):
        procedure(no_output)

    def blocking(args: In) -> int:
        return 1

    with pytest.raises(ConfigError, match="async def"):
        procedure(blocking)  # type: ignore[arg-type]

    async def user(args: In) -> int:
        return args.n

    with pytest.raises(ConfigError, match="model accessor"):
        create_app(db, procedures=[user])
    registry = Procedures([user])
    with pytest.raises(ConfigError, match="registered twice"):
        registry.register(user)

    async def no_input(ctx: ProcedureContext) -> str:
        return "pong"

    assert procedure(no_input, name="ping").input is None
    auth = AuthSettings(jwt_secret=SECRET, rules={"r": {"publsh_post": "call"}})
    with pytest.raises(ConfigError, match="publsh_post"):
        create_app(db, ApiSettings(auth=auth), procedures=example_procedures)


def test_serve_imports_the_configured_module(sql_backend: Backend, tmp_path: Path) -> None:
    client = Client(SCHEMA, sql_backend.url)
    push(client.schema, sql_backend.url)
    (tmp_path / "myprocs.py").write_text(
        (REPO / "examples" / "api_procedures.py").read_text(), encoding="utf-8"
    )
    (tmp_path / "datatier.toml").write_text('[server]\nprocedures = "myprocs"\n')
    process, base = start_server(["--schema", str(SCHEMA), "--url", sql_backend.url], tmp_path)
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            created = http.post(
                "/rest/user",
                json={
                    "email": "p@example.com",
                    "posts": {"create": [{"title": "t", "content": "c"}]},
                },
            )
            assert created.status_code == 201, created.text
            top = http.get("/rpc/top_authors", params={"q": '{"limit": 5}'})
            assert top.json() == {"data": [{"email": "p@example.com", "posts": 1}]}
            assert "/rpc/publish_post" in http.get("/openapi.json").json()["paths"]
    finally:
        stop_server(process)
    (tmp_path / "datatier.toml").write_text('[server]\nprocedures = "nowhere"\n')
    import subprocess

    from tests.test_api_server import DATATIER

    failed = subprocess.run(
        [str(DATATIER), "serve", "--schema", str(SCHEMA), "--url", sql_backend.url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode != 0 and "cannot import" in failed.stdout + failed.stderr
