"""``datatier serve`` as a user runs it: a real uvicorn process on a free port, on SQLite
and PostgreSQL, answering REST, RPC, GraphQL and OpenAPI as the Python client would; and
the requests of docs/api.md against ``datatier serve --demo``."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from datatier import Client
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.harness.golden import REPO
from tests.test_api_rest import SCHEMA, same, seed

DATATIER = Path(sys.executable).parent / "datatier"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    args: list[str], cwd: Path, timeout: float = 60.0
) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATATIER_SCHEMA")}
    process = subprocess.Popen(
        [str(DATATIER), "serve", *args, "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"datatier serve exited: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"datatier serve did not answer within {timeout} s")


def stop_server(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        out, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


@pytest.fixture
def served(sql_backend: Backend, tmp_path: Path) -> Iterator[tuple[str, Client]]:
    import asyncio

    client = Client(SCHEMA, sql_backend.url)
    push(client.schema, sql_backend.url)

    async def fill() -> None:
        async with client:
            await seed(client)

    asyncio.run(fill())
    process, base = start_server(["--schema", str(SCHEMA), "--url", sql_backend.url], tmp_path)
    try:
        yield base, client
    finally:
        stop_server(process)


def test_every_transport_through_a_real_server(served: tuple[str, Client]) -> None:
    import asyncio

    base, client = served

    async def expected() -> tuple[Any, Any]:
        async with Client(SCHEMA, client.url) as db:
            posts = await db.post.find_many(include={"author": True}, order_by={"id": "asc"})
            count = await db.post.count(where={"status": "PUBLISHED"})
            return posts, count

    with httpx.Client(base_url=base, timeout=10) as http:
        posts, published = asyncio.run(expected())
        response = http.get("/rest/post", params={"include": "author", "orderBy": "id"})
        assert response.status_code == 200 and response.json()["data"] == same(posts)
        etag = response.headers["etag"]
        assert (
            http.get(
                "/rest/post",
                params={"include": "author", "orderBy": "id"},
                headers={"If-None-Match": etag},
            ).status_code
            == 304
        )

        created = http.post("/rest/tag", json={"name": "live", "slug": "live"})
        assert created.status_code == 201
        tag_url = created.headers["location"]
        assert http.patch(tag_url, json={"name": "Live"}).json()["name"] == "Live"
        assert http.delete(tag_url).status_code == 200
        gone = http.get(tag_url)
        assert gone.status_code == 404
        assert gone.headers["content-type"] == "application/problem+json"
        assert gone.json()["code"] == "not_found"

        rpc = http.post("/rpc/post/count", json={"where": {"status": "PUBLISHED"}})
        assert rpc.json() == {"data": published}
        batch = http.post(
            "/rpc/$batch",
            json={"transaction": True, "calls": [{"model": "user", "operation": "count"}]},
        )
        assert batch.json() == {"data": [3]}

        graphql = http.post("/graphql", json={"query": "{ postsCount }"})
        assert graphql.status_code == 200, graphql.text
        assert graphql.json()["data"] == {"postsCount": 4}

        document = http.get("/openapi.json").json()
        assert document["openapi"] == "3.1.0" and "/rest/post" in document["paths"]
        assert http.get("/readyz").json()["status"] == "ok"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """``datatier serve --demo`` in a fresh folder; yields its URL and, after, its output."""
    started = time.monotonic()
    process, base = start_server(["--demo"], tmp_path_factory.mktemp("demo"))
    output: list[str] = [f"startup {time.monotonic() - started:.1f}"]
    try:
        yield base, output
    finally:
        output.append(stop_server(process))


def test_docs_examples_run_against_the_demo(demo_server: tuple[str, list[str]]) -> None:
    """Every ``curl`` line of docs/api.md's example runs against ``datatier serve --demo``."""
    base, output = demo_server
    text = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- example: start -->(.*?)<!-- example: end -->", text, re.S)
    assert block is not None, "docs/api.md lost its example block"
    lines = [ln.strip() for ln in block.group(1).splitlines() if ln.strip().startswith("curl ")]
    assert len(lines) >= 8
    for line in lines:
        command = shlex.split(line.replace("http://127.0.0.1:8000", base))
        assert command[0] == "curl" and "--fail-with-body" in command, line
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        assert result.stdout.strip(), line
    startup = float(output[0].split()[1])
    assert startup < 30, f"the demo took {startup:.1f} s to start"
    users = httpx.get(f"{base}/rest/user?count=true&take=1").json()["count"]
    comments = httpx.get(f"{base}/rpc/comment/count").json()["data"]
    assert (users, comments) == (300, 9000)


def test_schemathesis_finds_no_failure(demo_server: tuple[str, list[str]], tmp_path: Path) -> None:
    """schemathesis against /openapi.json, bounded and seeded: no server error, and every
    status, content type, header and body as the document says.

    Schema-valid and schema-violating requests (``--mode all``: a bad request must be a
    documented 4xx problem, never a 500); the fuzzing phase with 3 examples per operation
    (~12 s). ``DATATIER_SCHEMATHESIS_FULL=1`` adds the coverage and stateful
    phases with 5 examples (~1 min).
    """
    base, _ = demo_server
    full = os.environ.get("DATATIER_SCHEMATHESIS_FULL") == "1"
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{base}/openapi.json",
        "--seed",
        "42",
        "--max-examples",
        "5" if full else "3",
        "--mode",
        "all",
        "--phases",
        "coverage,fuzzing,stateful" if full else "fuzzing",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance,response_headers_conformance",
        "--continue-on-failure",
        "--request-timeout",
        "60",  # a shared CI machine can be slow; a DELETE where={} removes 9,000 comments
    ]
    # in a folder of its own: schemathesis keeps its example database in ./.schemathesis
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert re.search(r"[1-9][0-9]* generated, [1-9][0-9]* passed", result.stdout), result.stdout[
        -2000:
    ]


def test_server_options_from_config() -> None:
    from datatier.api._serve import server_options
    from datatier.errors import ConfigError

    options = server_options(
        {"host": "0.0.0.0", "port": 9000, "workers": 2, "max_page": 50, "default_page": 10}, {}
    )
    assert (options.host, options.port, options.workers) == ("0.0.0.0", 9000, 2)
    assert (options.settings.max_page, options.settings.default_page) == (50, 10)
    assert options.settings.debug is False
    assert server_options({}, {"DATATIER_SERVE_DEBUG": "1"}).settings.debug is True
    with pytest.raises(ConfigError, match=r"unknown key `max_pages`; known: .*max_page"):
        server_options({"max_pages": 5}, {})
    with pytest.raises(ConfigError, match="port must be an integer"):
        server_options({"port": "80"}, {})
    with pytest.raises(ConfigError, match=r"default_page .* exceeds max_page"):
        server_options({"default_page": 500, "max_page": 100}, {})
    with pytest.raises(ConfigError, match=r"\[server.graphql\]"):
        server_options({"graphql": {"max_depht": 3}}, {})


def test_serve_refuses_bad_config_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "datatier.toml").write_text('[server]\nport = "eighty"\n')
    result = subprocess.run(
        [str(DATATIER), "serve", "--demo"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: [server] port must be an integer, not 'eighty'"
    result = subprocess.run(
        [str(DATATIER), "serve", "--demo", "--reload", "--workers", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "--reload runs one process" in result.stderr


def test_serve_with_two_workers(tmp_path: Path) -> None:
    (tmp_path / "datatier.toml").write_text("[server]\nworkers = 2\ndefault_page = 7\n")
    process, base = start_server(["--demo"], tmp_path)
    try:
        pids = set()
        for _ in range(40):
            response = httpx.get(f"{base}/rest/post", timeout=10)
            assert response.status_code == 200 and len(response.json()["data"]) == 7
        children = subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True
        ).stdout.split()
        pids.update(children)
        assert len(pids) >= 2, "uvicorn should run two worker processes"
    finally:
        stop_server(process)
