"""Operations of the API server: CORS, gzip/br compression, the request body size limit
(declared and chunked bodies), and graceful shutdown (a real uvicorn process gets SIGTERM
while a slow request runs: the request completes, then the process exits)."""

from __future__ import annotations

import gzip
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest
import pytest_asyncio

from datatier import Client
from datatier.api import ApiSettings, create_app
from datatier.api._compression import CompressionSettings, choose_encoding
from datatier.api._cors import CorsSettings
from datatier.api._serve import server_options
from datatier.errors import ConfigError
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.test_api_rest import SCHEMA, seed
from tests.test_api_server import start_server, stop_server

PROBLEM = "application/problem+json"
SLOW_PROCEDURES = """
import asyncio

from datatier.api import ProcedureContext, Procedures

procedures = Procedures()


@procedures.register(read_only=True)
async def slow(ctx: ProcedureContext, seconds: float) -> int:
    await asyncio.sleep(seconds)
    return await ctx.db.user.count()
"""


@pytest_asyncio.fixture
async def db(sql_backend: Backend) -> AsyncIterator[Client]:
    client = Client(SCHEMA, sql_backend.url)
    push(client.schema, sql_backend.url)
    async with client:
        await seed(client)
        yield client


def http_for(db: Client, settings: ApiSettings | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(db, settings))
    return httpx.AsyncClient(transport=transport, base_url="http://api")


def test_choose_encoding() -> None:
    both = CompressionSettings()
    assert choose_encoding("gzip, deflate, br", both) == "br"
    assert choose_encoding("gzip", both) == "gzip"
    assert choose_encoding("br;q=0.5, gzip", both) == "gzip"
    assert choose_encoding("br;q=0, gzip;q=0", both) is None
    assert choose_encoding("*", both) == "br"
    assert choose_encoding("identity", both) is None
    assert choose_encoding("br", CompressionSettings(br=False)) is None


async def test_compression_negotiated(db: Client) -> None:
    settings = ApiSettings(compression=CompressionSettings(minimum_size=200))
    async with http_for(db, settings) as http:
        plain = await http.get("/rest/post", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        raw_request = http.build_request("GET", "/rest/post", headers={"Accept-Encoding": "br"})
        br = await http.send(raw_request, stream=True)
        body = b"".join([chunk async for chunk in br.aiter_raw()])
        assert br.headers["content-encoding"] == "br"
        assert br.headers["vary"] == "Accept-Encoding"
        assert int(br.headers["content-length"]) < len(plain.content)
        assert brotli.decompress(body) == plain.content
        etag = br.headers["etag"]
        assert etag == "W/" + plain.headers["etag"]  # same content, other bytes: weak
        again = await http.get(
            "/rest/post", headers={"Accept-Encoding": "br", "If-None-Match": etag}
        )
        assert again.status_code == 304
        gz_request = http.build_request("GET", "/rest/post", headers={"Accept-Encoding": "gzip"})
        gz = await http.send(gz_request, stream=True)
        assert gz.headers["content-encoding"] == "gzip"
        assert gzip.decompress(b"".join([c async for c in gz.aiter_raw()])) == plain.content
        small = await http.get("/healthz", headers={"Accept-Encoding": "gzip, br"})
        assert "content-encoding" not in small.headers  # under minimum_size
    async with http_for(db, ApiSettings(compression=None)) as http:
        off = await http.get("/rest/post", headers={"Accept-Encoding": "br"})
        assert "content-encoding" not in off.headers


async def test_cors(db: Client) -> None:
    cors = CorsSettings(origins=("https://app.example.com",), credentials=True, max_age=60)
    async with http_for(db, ApiSettings(cors=cors)) as http:
        preflight = await http.options(
            "/rest/post",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "PATCH" in preflight.headers["access-control-allow-methods"]
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert preflight.headers["access-control-max-age"] == "60"
        simple = await http.get("/rest/post", headers={"Origin": "https://app.example.com"})
        assert simple.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "ETag" in simple.headers["access-control-expose-headers"]
        other = await http.options(
            "/rest/post",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert other.status_code == 400
    with pytest.raises(ConfigError, match="credentials"):
        CorsSettings(origins=("*",), credentials=True)
    with pytest.raises(ConfigError, match="unknown key"):
        CorsSettings.from_config({"origin": ["https://a.example"]})
    options = server_options(
        {
            "cors": {"origins": ["https://a.example"], "max_age": 5},
            "compression": {"minimum_size": 10, "br": False},
            "max_body_size": 2048,
            "graceful_timeout": 3,
        },
        {},
    )
    assert options.settings.cors == CorsSettings(origins=("https://a.example",), max_age=5)
    assert options.settings.compression == CompressionSettings(minimum_size=10, br=False)
    assert options.settings.max_body_size == 2048 and options.graceful_timeout == 3
    assert server_options({"compression": False}, {}).settings.compression is None


async def test_body_limit_in_process(db: Client) -> None:
    async with http_for(db, ApiSettings(max_body_size=200)) as http:
        fine = await http.post("/rest/tag", json={"name": "a", "slug": "a"})
        assert fine.status_code == 201
        big = await http.post("/rest/tag", json={"name": "b" * 300, "slug": "b"})
        assert big.status_code == 413 and big.headers["content-type"] == PROBLEM
        assert big.json()["code"] == "body_too_large"

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"name": "'
            for _ in range(10):
                yield b"c" * 50
            yield b'", "slug": "c"}'

        streamed = await http.post(
            "/rest/tag", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413 and streamed.json()["code"] == "body_too_large"
        graph = await http.post("/graphql", json={"query": "{ users { id } }", "pad": "x" * 300})
        assert graph.status_code == 413
    assert await db.tag.count(where={"slug": {"in": ["b", "c"]}}) == 0


@pytest.fixture
def slow_server(sql_backend: Backend, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    client = Client(SCHEMA, sql_backend.url)
    push(client.schema, sql_backend.url)
    (tmp_path / "slowprocs.py").write_text(SLOW_PROCEDURES, encoding="utf-8")
    (tmp_path / "datatier.toml").write_text(
        '[server]\nprocedures = "slowprocs"\nmax_body_size = 1000\ngraceful_timeout = 20\n'
        "[server.compression]\nminimum_size = 100\n"
    )
    process, base = start_server(["--schema", str(SCHEMA), "--url", sql_backend.url], tmp_path)
    try:
        yield process, base
    finally:
        if process.poll() is None:
            stop_server(process)


def test_real_server_limits_compression_and_graceful_shutdown(
    slow_server: tuple[Any, str],
) -> None:
    process, base = slow_server
    with httpx.Client(base_url=base, timeout=30) as http:
        for index in range(20):
            created = http.post("/rest/user", json={"email": f"u{index}@example.com"})
            assert created.status_code == 201
        listed = http.get("/rest/user", headers={"Accept-Encoding": "br"})
        assert listed.headers["content-encoding"] == "br" and len(listed.json()["data"]) == 20
        declared = http.post("/rest/tag", content=b"{" + b" " * 2000 + b"}")
        assert declared.status_code == 413 and declared.json()["code"] == "body_too_large"

        def chunked() -> Iterator[bytes]:
            yield b'{"name": "'
            for _ in range(40):
                yield b"x" * 50
            yield b'", "slug": "x"}'

        streamed = http.post("/rest/tag", content=chunked())
        assert streamed.status_code == 413 and streamed.json()["code"] == "body_too_large"

        # graceful shutdown: SIGTERM during a 2 s request; it completes, then the server exits
        answers: list[httpx.Response] = []
        thread = threading.Thread(
            target=lambda: answers.append(http.get("/rpc/slow", params={"q": "2"}))
        )
        thread.start()
        time.sleep(0.7)
        process.send_signal(signal.SIGTERM)
        thread.join(timeout=30)
    assert answers and answers[0].status_code == 200 and answers[0].json() == {"data": 20}
    # uvicorn re-raises the signal once it has drained: "terminated by SIGTERM", on purpose
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/healthz", timeout=2)
