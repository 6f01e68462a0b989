"""The HTTP part of the benchmark: its peers answer alike, its tools work, bad settings say what is wrong.

The end-to-end test runs ``python -m bench --quick --only http`` with the Python peers
(Starlette + asyncpg, FastAPI + SQLAlchemy) and the aiohttp load generator: every
endpoint is answered once by each peer and compared (reads) or checked in the database
(writes) before the short timed runs. No timing assertions.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import random
import re
import shutil
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import pytest

from bench.http import contract, datatier_wire, graphql, peers
from bench.http.answers import normalized
from bench.http.contract import Inputs, PageCursor, Request
from bench.http.fleet import PEERS_ENV, chosen_peers
from bench.http.install import prisma_schema
from bench.http.loadgen import PythonLoadGenerator, Wrk, wrk_script
from bench.http.servers import ServerFailed, ServerProcess, free_port
from bench.workloads import http_features as features
from bench.workloads.client import first_difference
from tests.harness.servers import Server

ROOT = Path(__file__).resolve().parent.parent
HTTP_WORKLOADS = {
    "http.by_id", "http.list_50", "http.list_1000", "http.page", "http.nested",
    "http.create", "http.update", "http.upsert", "http.increment",
}  # fmt: skip
DATATIER_PEERS = {
    ("datatier", "REST, uvicorn"): "datatier",
    ("datatier", "RPC, uvicorn"): "datatier-rpc",
    ("datatier", "GraphQL, uvicorn"): "datatier-graphql",
}
# What a datatier transport cannot express, by workload (skipped with that reason).
NOT_EXPRESSIBLE = {("http.upsert", "datatier")}
PYTHON_PEERS = {
    ("starlette+asyncpg", "hand-written SQL, uvicorn"),
    ("fastapi+sqlalchemy", "ORM (async), pydantic, uvicorn"),
}
INPUTS = Inputs(posts=100, tags=50, pages=(PageCursor(3, 42),), writer="w", write_posts=(7, 8))


@pytest.mark.postgres
def test_quick_run_of_the_python_peers(tmp_path: Path, postgres_server: Server) -> None:
    # A private cluster of its own (the bench makes one where PostgreSQL's binaries are,
    # with pg_stat_statements): the blog database's name depends only on its size, so on a
    # shared server another bench test could be loading or writing the same one meanwhile.
    # /var/tmp, not tmp_path: the server runs as 'postgres', which must reach the folder.
    cluster = Path("/var/tmp") / f"datatier-bench-http-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATATIER_BENCH_POSTGRES_URL"},
        "DATATIER_BENCH_PGDATA": str(cluster / "pgdata"),
        "DATATIER_TEST_POSTGRES_URL": postgres_server.require(),  # if no cluster can be made
        PEERS_ENV: ",".join([*DATATIER_PEERS.values(), "starlette", "fastapi"]),
        "BENCH_HTTP_LOADGEN": "python",
    }
    out = tmp_path / "results"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench", "--quick", "--only", "http", "--out", str(out)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        shutil.rmtree(cluster, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    workloads = {w["name"]: w for w in data["workloads"]}
    assert set(workloads) == HTTP_WORKLOADS | {"http.features"}
    _assert_feature_costs(workloads.pop("http.features"))
    for name, workload in workloads.items():
        assert workload["error"] is None, name
        measured = {(m["subject"], m["operation"]): m for m in workload["measurements"]}
        for key in PYTHON_PEERS:
            _assert_measured(name, measured[key])
        checks = {c["name"]: c for c in workload["checks"]}
        checked = 2
        for key, peer in DATATIER_PEERS.items():
            m = measured[key]
            if (name, peer) in NOT_EXPRESSIBLE:
                assert m["skipped"] and "(measured there)" in m["skipped"], (name, m)
                continue
            checked += 1
            _assert_measured(name, m)
        assert all(c["passed"] for c in checks.values()), (name, checks)
        right_checks = [n for n in workload["checks"] if n["name"].endswith(": right answers")]
        assert len(right_checks) == checked, (name, checks)  # every peer's answers were checked
        if name == "http.increment":
            assert sum(n.endswith(": no lost updates") for n in checks) == checked
        ratios = {(r["datatier"], r["peer"]): r for r in workload["ratios"]}
        floor = [r for r in ratios.values() if r["kind"] == "floor"]
        assert len(floor) == 1 and floor[0]["peer"] == "starlette+asyncpg hand-written SQL, uvicorn"
        hand_written = measured[("starlette+asyncpg", "hand-written SQL, uvicorn")]
        if hand_written["statements_per_op"] is not None and workload["name"] != "http.create":
            # One statement per request, and no reset query on releasing the connection.
            assert hand_written["statements_per_op"] == pytest.approx(1.0, abs=0.05), name
            assert not hand_written["utility_per_op"], name
        if name in ("http.by_id", "http.nested") and hand_written["statements_per_op"] is not None:
            for key in DATATIER_PEERS:  # one statement per read, like the hand-written SQL
                assert measured[key]["statements_per_op"] == pytest.approx(1.0, abs=0.05)
    first = workloads["http.by_id"]["params"]
    assert "starlette" in first["versions"]["starlette+asyncpg"]
    assert set(first["not run"]) == {"PostgREST", "Hasura"}
    assert first["load generator"] == "aiohttp load generator"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert all(name in report for name in HTTP_WORKLOADS)
    assert "## HTTP: datatier against its peers" in report
    assert "## Feature costs" in report


def _assert_feature_costs(workload: dict[str, Any]) -> None:
    assert workload["error"] is None
    assert all(c["passed"] for c in workload["checks"]), workload["checks"]
    measured = {(m["subject"], m["operation"]): m for m in workload["measurements"]}
    for read in ("GET /rest/post/{id}",):  # --quick measures the features on one read
        for feature in features.LABELS.values():
            _assert_measured("http.features", measured[(read, feature)])
            _assert_measured("http.features", measured[(read, features.beside(feature))])


def _assert_measured(name: str, m: dict[str, Any]) -> None:
    assert m["skipped"] is None, (name, m["skipped"])
    stats = m["stats"]
    assert stats["reps"] > 0, name
    assert 0 < stats["min_ms"] <= stats["median_ms"] <= stats["p99_ms"] <= stats["max_ms"]
    assert m["calls_per_s"] > 0 and m["throughput"]["min"] <= m["throughput"]["max"]
    assert m["client_cpu_us"] > 0  # the server process's own CPU per request
    assert re.search(r"server process peak RSS [1-9]\d+ MiB", m["note"]), m["note"]
    assert m["concurrency"] == (8 if name == "http.increment" else 16)


# --- answers -----------------------------------------------------------------------------------


def test_datetimes_compare_as_instants() -> None:
    spellings = ["2023-02-01T14:43:32.35", "2023-02-01T14:43:32.350Z", "2023-02-01T14:43:32.350000"]
    assert {normalized(s) for s in spellings} == {"2023-02-01T14:43:32.350+00:00"}
    assert normalized({"a": ["2023-02-01T15:43:32.350+01:00", "x", 1]}) == {
        "a": ["2023-02-01T14:43:32.350+00:00", "x", 1]
    }
    assert normalized("2023-02-01") == "2023-02-01"  # a date, not a DateTime


def test_a_different_answer_is_found() -> None:
    ours = normalized([{"id": 1, "createdAt": "2023-02-01T00:00:00.1"}])
    theirs = normalized([{"id": 1, "createdAt": "2023-02-01T00:00:00.2Z"}])
    difference = first_difference(ours, theirs)
    assert difference is not None and "[0].createdAt" in difference


# --- GraphQL -----------------------------------------------------------------------------------


def test_reads_and_updates_become_graphql() -> None:
    by_id = graphql.to_graphql(contract.by_id(5), {})
    assert by_id.path == "/graphql" and by_id.body["variables"] == {"id": 5}
    assert "postByRowId" in by_id.body["query"]
    latest = graphql.to_graphql(contract.latest(1000), {})
    assert latest.body["variables"] == {"n": 1000}
    page = graphql.to_graphql(contract.page(PageCursor(3, 42)), {42: "CURSOR"})
    assert page.body["variables"] == {
        "status": "PUBLISHED",
        "category": 3,
        "n": contract.PAGE_TAKE,
        "after": "CURSOR",
    }
    assert "allUsers" in graphql.to_graphql(contract.nested(), {}).body["query"]
    update = graphql.to_graphql(contract.update(7, 1), {}).body["variables"]
    assert update["id"] == 7 and update["title"] == "Updated title 1" and update["now"]


def test_writes_graphql_cannot_express_are_refused() -> None:
    with pytest.raises(ValueError, match="no GraphQL form for POST /posts"):
        graphql.to_graphql(contract.create(random.Random(1), INPUTS, 1), {})
    assert set(peers.POSTGRAPHILE.unsupported) == {"create", "upsert", "increment"}


def test_cursor_is_built_like_postgraphiles() -> None:
    handed_out = base64.b64encode(b'["2c8e7413ea","2023-02-02T09:00:10.960000",1521]').decode()
    digest = graphql.ordering_digest(handed_out)
    assert digest == "2c8e7413ea"
    rebuilt = graphql.cursor_for(digest, dt.datetime(2023, 2, 2, 9, 0, 10, 960000), 1521)
    assert json.loads(base64.b64decode(rebuilt)) == json.loads(base64.b64decode(handed_out))


def test_graphql_answers_take_the_rest_shapes() -> None:
    nested = {
        "data": {
            "allUsers": {
                "nodes": [
                    {
                        "rowId": "u1",
                        "email": "a@x",
                        "postsByAuthorId": {
                            "nodes": [
                                {"rowId": 3, "title": "t", "commentsByPostId": {"totalCount": 2}}
                            ]
                        },
                    }
                ]
            }
        }
    }
    assert graphql.from_graphql(contract.nested(), nested) == (
        200,
        [
            {
                "id": "u1",
                "email": "a@x",
                "posts": [{"id": 3, "title": "t", "_count": {"comments": 2}}],
            }
        ],
    )
    assert graphql.from_graphql(contract.by_id(9), {"data": {"postByRowId": None}}) == (404, None)
    failed = {"errors": [{"message": "boom"}]}
    assert graphql.from_graphql(contract.by_id(9), failed) == (500, failed)


# --- peers, servers, load ----------------------------------------------------------------------


def test_unknown_peer_names_are_an_error() -> None:
    with pytest.raises(ValueError, match="unknown peers nope; known: datatier, datatier-rpc"):
        chosen_peers({PEERS_ENV: "starlette, nope"})
    assert [p.key for p in chosen_peers({PEERS_ENV: "fastapi,starlette"})] == [
        "fastapi",
        "starlette",
    ]
    assert len(chosen_peers({})) == len(peers.PEERS)


def test_peers_that_cannot_run_say_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    peers.DATATIER.check_available()  # datatier's API server runs from the project itself
    monkeypatch.setattr(peers, "NODE_BINARY", tmp_path / "missing" / "node")
    with pytest.raises(peers.PeerUnavailable, match=r"python -m bench.http.install"):
        peers.DRIZZLE.check_available()
    missing_python = peers.Peer("x", "x", "y", python_needs=("no_such_module_here",))
    with pytest.raises(peers.PeerUnavailable, match=r"no_such_module_here.*pip install"):
        missing_python.check_available()
    peers.STARLETTE.check_available()  # the test extra has what it needs


def test_a_server_that_dies_reports_its_output(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "print('cannot bind, sorry'); raise SystemExit(3)"]
    with pytest.raises(ServerFailed, match="exited with 3: cannot bind, sorry"):
        ServerProcess("broken", argv, free_port(), log=tmp_path / "broken.log", ready_timeout=10)


def test_server_process_and_python_load_generator(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text("{}")
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    server = ServerProcess(
        "files", argv, port, cwd=tmp_path, log=tmp_path / "s.log", ready_path="/ok.json"
    )
    loadgen = PythonLoadGenerator()
    try:
        ok = loadgen.run(server.base_url, [Request("GET", "/ok.json")], 2, 0.3)
        assert ok.ok > 0 and ok.failed == 0 and ok.per_second > 0
        assert 0 < ok.min_ms <= ok.p50_ms <= ok.p99_ms <= ok.max_ms
        missing = loadgen.run(server.base_url, [Request("GET", "/nope")], 1, 0.2)
        assert missing.ok == 0 and missing.failed > 0
        assert "/nope: status 404" in missing.first_failure
        assert server.cpu_seconds() > 0
        assert (server.peak_rss_bytes() or 0) > 2**20
    finally:
        loadgen.close()
        server.stop()
    assert not server.alive()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (Debian: wrk)")
def test_wrk_counts_answers_failures_and_requests_sent(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text("{}")
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    server = ServerProcess("files", argv, port, cwd=tmp_path, log=tmp_path / "s.log")
    try:
        wrk = Wrk(shutil.which("wrk") or "wrk")
        mixed = [Request("GET", "/ok.json"), Request("GET", "/nope")]
        result = wrk.run(server.base_url, mixed, 2, 1.0)
    finally:
        server.stop()
    assert result.ok > 0 and result.failed > 0  # every other request is a 404
    assert result.sent >= result.ok + result.failed
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    assert "status >= 400" in result.first_failure


def test_wrk_script_cycles_through_every_request() -> None:
    script = wrk_script(
        [Request("GET", "/posts/1"), Request("PUT", "/categories/it's", {"name": "a'b\\c"})]
    )
    assert script.index("init = function") < script.index("wrk.format('GET', '/posts/1', {}, nil)")
    assert (
        "wrk.format('PUT', '/categories/it\\'s', {['Content-Type'] = 'application/json'}, "
        in script
    )
    assert '\'{"name":"a\\\'b\\\\\\\\c"}\'' in script
    assert "BENCH_RESULT" in script and "latency:percentile(99)" in script


# --- contract and install ----------------------------------------------------------------------


def test_requests_of_the_contract() -> None:
    created = contract.create(random.Random(1), INPUTS, 4)
    assert created.method == "POST" and created.path == "/posts"
    assert len(set(created.body["tagIds"])) == 3 and len(created.body["comments"]) == 2
    assert {c["authorId"] for c in created.body["comments"]} == {"w"}
    assert contract.page(PageCursor(3, 42)).path == (
        "/posts/page?status=PUBLISHED&categoryId=3&take=20&cursor=42"
    )
    assert contract.increment(7).body_bytes() == b"{}"
    assert contract.upsert_slugs(3) == ["bench-0", "bench-1", "bench-2"]


def test_prisma_schema_for_prisma_7() -> None:
    text = (ROOT / "datatier" / "demo" / "schema.prisma").read_text(encoding="utf-8")
    converted = prisma_schema(text)
    assert 'provider = "datatier"' not in converted
    assert 'env("DATABASE_URL")' not in converted
    assert 'provider               = "prisma-client"' in converted
    assert "model Post {" in converted


# --- datatier's transports ---------------------------------------------------------------------


def test_contract_requests_become_datatier_rest_rpc_and_graphql() -> None:
    assert datatier_wire.to_datatier("rest", contract.by_id(5)).path == "/rest/post/5"
    latest = datatier_wire.to_datatier("rest", contract.latest(50))
    assert latest.path == "/rest/post?take=50&orderBy=-createdAt"
    rpc = datatier_wire.to_datatier("rpc", contract.by_id(5))
    assert rpc.method == "GET" and rpc.path.startswith("/rpc/post/findUnique?q=")
    assert json.loads(urllib.parse.unquote(rpc.path.partition("?q=")[2])) == {"where": {"id": 5}}
    page = datatier_wire.to_datatier("rest", contract.page(PageCursor(3, 42)))
    assert "status=PUBLISHED&categoryId=3&orderBy=-createdAt&take=20&cursor=42" in page.path
    nested = datatier_wire.to_datatier("graphql", contract.nested())
    assert nested.path == "/graphql" and "_count { comments }" in nested.body["query"]
    created = datatier_wire.to_datatier("rpc", contract.create(random.Random(1), INPUTS, 4))
    data = created.body["data"]
    assert created.path == "/rpc/post/create" and created.body["select"] == {"id": True}
    assert data["author"] == {"connect": {"id": "w"}} and len(data["tags"]["connect"]) == 3
    assert len(data["comments"]["create"]) == 2
    increment = datatier_wire.to_datatier("rest", contract.increment(7))
    assert (increment.method, increment.path) == ("PATCH", "/rest/post/7?select=id,views")
    assert increment.body == {"views": {"increment": 1}}
    graphql = datatier_wire.to_datatier("graphql", contract.increment(7))
    assert "views: {increment: 1}" in graphql.body["query"]
    assert graphql.body["variables"] == {"id": 7}
    with pytest.raises(ValueError, match="no datatier rest form for PUT"):
        datatier_wire.to_datatier("rest", contract.upsert("bench-1"))
    signed = Request("GET", "/posts/1", headers=(("Authorization", "Bearer t"),))
    assert datatier_wire.to_datatier("rpc", signed).headers == signed.headers


def test_datatier_answers_take_the_rest_shapes() -> None:
    by_id, missing = contract.by_id(5), contract.by_id(6)
    assert datatier_wire.from_datatier("rpc", by_id, 200, {"data": {"id": 5}}) == (200, {"id": 5})
    assert datatier_wire.from_datatier("rpc", missing, 200, {"data": None}) == (404, None)
    assert datatier_wire.from_datatier("rest", missing, 404, {"code": "not_found"})[0] == 404
    listed = {"data": [{"id": 1}], "nextCursor": "1"}
    assert datatier_wire.from_datatier("rest", contract.latest(1), 200, listed) == (
        200,
        [{"id": 1}],
    )
    created = contract.create(random.Random(1), INPUTS, 4)
    assert datatier_wire.from_datatier(
        "graphql", created, 200, {"data": {"createPost": {"id": 9}}}
    ) == (
        201,
        {"id": 9},
    )
    assert datatier_wire.from_datatier("graphql", missing, 200, {"data": {"post": None}}) == (
        404,
        None,
    )
    failed = {"errors": [{"message": "boom"}], "data": None}
    assert datatier_wire.from_datatier("graphql", by_id, 200, failed) == (500, failed)


def test_wrk_script_sends_a_requests_headers() -> None:
    script = wrk_script([Request("GET", "/rest/post/1", headers=(("Authorization", "Bearer t"),))])
    assert "wrk.format('GET', '/rest/post/1', {['Authorization'] = 'Bearer t'}, nil)" in script


def test_feature_servers_switch_one_thing_on() -> None:
    from bench.http.datatier_app import FEATURES, settings_for

    base = settings_for(None, {})
    assert (base.metrics, base.access_log, base.auth, base.rate_limit) == (False, False, None, None)
    assert (base.etag, base.compression) == (False, None)
    assert settings_for("etag", {}).etag is True
    assert settings_for("compression", {}).compression is not None
    assert settings_for("metrics", {}).metrics is True
    assert settings_for("auth", {}).auth is not None
    redis = settings_for("ratelimit-redis", {"BENCH_DATATIER_REDIS_URL": "redis://h:1"})
    assert redis.rate_limit.redis_url == "redis://h:1"
    assert settings_for("ratelimit-memory", {}).rate_limit.redis_url is None
    assert set(FEATURES) == set(features.LABELS)
    with pytest.raises(ValueError, match="known features are auth"):
        settings_for("turbo", {})
    auth = features.feature_peer("auth", {})
    assert auth.headers[0][0] == "Authorization" and auth.env["BENCH_DATATIER_FEATURE"] == "auth"
