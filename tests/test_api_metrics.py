"""Prometheus metrics (requests, latency, SQL statements, pool) and the JSON access log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from datatier import Client, load_schema
from datatier.api._accesslog import AccessLogMiddleware
from datatier.api._metrics import Metrics, MetricsMiddleware, metrics_for
from datatier.migrate import push
from tests.harness.backends import Backend

BLOG = Path(__file__).parent / "conformance" / "schemas" / "shared" / "blog.prisma"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def item(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["id"], "rid": request.state.request_id})


async def boom(request: Request) -> PlainTextResponse:
    raise RuntimeError("boom")


def tiny_app(metrics: Metrics) -> Starlette:
    app = Starlette(routes=[Route("/items/{id}", item), Route("/boom", boom)])
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(AccessLogMiddleware)
    return app


async def test_requests_by_route_template_and_status(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    transport = httpx.ASGITransport(app=tiny_app(metrics), raise_app_exceptions=False)
    with caplog.at_level(logging.INFO, logger="datatier.access"):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for n in range(3):
                assert (await client.get(f"/items/{n}")).status_code == 200
            assert (await client.get("/nowhere/42")).status_code == 404
            assert (await client.get("/boom")).status_code == 500
    found = samples(metrics.render().decode())
    assert found[("datatier_http_requests_total", (("method", "GET"), ("route", "/items/{id}"), ("status", "200")))] == 3  # fmt: skip
    assert found[("datatier_http_requests_total", (("method", "GET"), ("route", "<unmatched>"), ("status", "404")))] == 1  # fmt: skip
    assert found[("datatier_http_requests_total", (("method", "GET"), ("route", "/boom"), ("status", "500")))] == 1  # fmt: skip
    count = ("datatier_http_request_duration_seconds_count", (("method", "GET"), ("route", "/items/{id}")))  # fmt: skip
    assert found[count] == 3
    assert found[("datatier_http_requests_in_flight", ())] == 0
    # No raw path (with its id) became a label.
    assert not any("/items/1" in str(labels) for _, labels in found)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "datatier.access"]
    assert [line["status"] for line in lines] == [200, 200, 200, 404, 500]
    assert lines[0]["path"] == "/items/0" and lines[0]["method"] == "GET"
    assert len({line["request_id"] for line in lines}) == 5
    assert all(line["duration_ms"] >= 0 for line in lines)


async def test_request_id_is_kept_or_made(caplog: pytest.LogCaptureFixture) -> None:
    transport = httpx.ASGITransport(app=tiny_app(Metrics()))
    with caplog.at_level(logging.INFO, logger="datatier.access"):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            kept = await client.get("/items/1", headers={"X-Request-ID": "trace-abc.123"})
            bad = await client.get("/items/2", headers={"X-Request-ID": "no spaces\nor newlines"})
            made = await client.get("/items/3")
    assert kept.headers["x-request-id"] == kept.json()["rid"] == "trace-abc.123"
    assert bad.headers["x-request-id"] == bad.json()["rid"] != "no spaces\nor newlines"
    assert len(made.headers["x-request-id"]) == 32
    logged = [json.loads(r.getMessage())["request_id"] for r in caplog.records]
    assert logged == [kept.headers["x-request-id"], bad.headers["x-request-id"], made.headers["x-request-id"]]  # fmt: skip


async def test_sql_and_pool_metrics_through_create_app(sql_backend: Backend) -> None:
    create_app = pytest.importorskip("datatier.api._app").create_app
    schema = load_schema(BLOG)
    push(schema, sql_backend.url)
    db = Client(schema=schema, url=sql_backend.url)
    app = create_app(db)  # metrics are on by default
    assert metrics_for(db) is metrics_for(db)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            before = samples((await client.get("/metrics")).text)
            pool = dict(
                (labels[0][1], value)
                for (name, labels), value in before.items()
                if name == "datatier_db_pool_connections"
            )
            assert pool == {}  # not connected yet: no pool to report
            for _ in range(4):
                assert (await client.get("/rest/post", params={"take": "5"})).status_code == 200
            response = await client.get("/metrics")
            assert response.headers["content-type"].startswith("text/plain")
            after = samples(response.text)
    finally:
        await db.close()
    ok = ("datatier_sql_statements_total", (("outcome", "ok"),))
    assert after[ok] >= 4
    assert after[("datatier_sql_statement_duration_seconds_count", ())] == after[ok]
    pool = {labels[0][1]: value for (name, labels), value in after.items() if name == "datatier_db_pool_connections"}  # fmt: skip
    assert pool["in_use"] == 0 and pool["idle"] >= 1 and pool["waiting"] == 0 and pool["size"] >= 1
    route = ("datatier_http_requests_total", (("method", "GET"), ("route", "/rest/{model}"), ("status", "200")))  # fmt: skip
    assert after[route] == 4


async def test_create_app_switches(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    create_app = pytest.importorskip("datatier.api._app").create_app
    from datatier.api._settings import ApiSettings

    schema = load_schema(BLOG)
    url = f"file:{tmp_path}/blog.db"
    push(schema, url)
    db = Client(schema=schema, url=url)
    try:
        quiet = create_app(db, ApiSettings(metrics=False))
        logged = create_app(db, ApiSettings(access_log=True))
        with caplog.at_level(logging.INFO, logger="datatier.access"):
            for app, metrics_status in ((quiet, 404), (logged, 200)):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                    assert (await client.get("/metrics")).status_code == metrics_status
                    response = await client.get("/rest/user", headers={"X-Request-ID": "r-1"})
                    assert response.status_code == 200
    finally:
        await db.close()
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "datatier.access"]
    # Only the app with access_log=True logged: its /metrics scrape and its list.
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/metrics", 200),
        ("/rest/user", 200),
    ]
    assert lines[1]["request_id"] == "r-1"
