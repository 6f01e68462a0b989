"""The API's response cache with real PostgreSQL (and Redis across processes): a GET whose
reads all hit the client's cache is kept and the next identical one is answered without
the pipeline or SQL; writes to what it read, another identity, ``If-None-Match``, rate
limits, the LRU bounds, the switch, and a write through another ``datatier serve`` process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio

from datatier import Client
from datatier.api import ApiSettings, RateLimitSettings, parse_rate
from datatier.api._cachehooks import CacheHeadersMiddleware
from datatier.api._responsecache import ResponseCacheSettings, etag_matches
from datatier.api._serve import server_options
from datatier.drivers import StatementEvent
from datatier.errors import ConfigError
from datatier.migrate._push import push
from tests.test_api_cache_hooks import bearer, http_for, reader_auth
from tests.test_api_rest import SCHEMA, seed
from tests.test_cache_consistency import prepare, servers

pytestmark = pytest.mark.postgres


@pytest_asyncio.fixture
async def cached(pg_url: str) -> AsyncIterator[Client]:
    """A client with the cache (memory tier, no Redis) on the seeded demo database."""
    plain = Client(SCHEMA, pg_url)
    push(plain.schema, pg_url)
    async with plain:
        await seed(plain)
    async with Client(SCHEMA, pg_url, cache=True) as client:
        yield client


class PostStatements:
    """SQL statements that touch the ``Post`` table, as the client runs them."""

    def __init__(self, db: Client) -> None:
        self.statements = 0
        db.on_statement(self.heard)

    def heard(self, event: StatementEvent) -> None:
        if '"Post"' in event.sql:
            self.statements += 1


def counter(db: Client, name: str, tier: str) -> int:
    assert db.cache is not None
    return db.cache.metrics.get(name, tier)


def metric(text: str, name: str, **labels: str) -> float:
    """The value of ``name`` with (at least) ``labels`` in Prometheus text; 0 when absent."""
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    for line in text.splitlines():
        if line.startswith(name + "{") and all(label in line for label in wanted):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def first_post(db: Client) -> dict[str, Any]:
    post: dict[str, Any] = await db.post.find_first_or_raise(order_by={"id": "asc"}, cache=False)
    return post


async def kept(http: httpx.AsyncClient, path: str, **headers: str) -> httpx.Response:
    """GET ``path`` until its answer is kept: a miss, a hit of the client's cache (kept)."""
    first = await http.get(path, headers=headers)
    second = await http.get(path, headers=headers)
    assert second.status_code == 200 and second.headers["x-cache"] == "HIT", second.text
    assert second.content == first.content
    return second


async def test_a_kept_answer_runs_no_pipeline_and_no_sql(cached: Client) -> None:
    post = await first_post(cached)
    path = f"/rest/post/{post['id']}"
    heard = PostStatements(cached)
    async with http_for(cached) as http:
        first = await http.get(path)
        assert first.headers["x-cache"] == "MISS" and heard.statements == 1
        second = await http.get(path)
        assert second.headers["x-cache"] == "HIT"
        memory_hits = counter(cached, "hits", "memory")
        assert counter(cached, "hits", "response") == 0
        third = await http.get(path)
        metrics = await http.get("/metrics")
    assert third.status_code == 200 and third.content == second.content
    assert third.headers["x-cache"] == "HIT"
    assert third.headers["etag"] == second.headers["etag"]
    assert third.headers["content-type"] == "application/json"
    assert int(third.headers["x-datatier-change-seq"]) >= int(
        first.headers["x-datatier-change-seq"]
    )
    assert heard.statements == 1  # only the first request read the database
    assert counter(cached, "hits", "response") == 1
    assert counter(cached, "hits", "memory") == memory_hits  # the client's cache was not asked
    assert metric(metrics.text, "datatier_cache_hits_total", tier="response", model="Post") == 1
    route = "/rest/{model}/{id:path}"
    assert metric(metrics.text, "datatier_http_requests_total", route=route, status="200") == 3


async def test_rpc_reads_are_kept_too(cached: Client) -> None:
    async with http_for(cached) as http:
        await kept(http, "/rpc/post/findMany?q=%7B%7D")
        again = await http.get("/rpc/post/findMany?q=%7B%7D")
        other = await http.get('/rpc/post/findMany?q={"take":1}')
    assert again.headers["x-cache"] == "HIT" and other.headers["x-cache"] == "MISS"
    assert counter(cached, "hits", "response") == 1
    assert len(again.json()["data"]) == 4 and len(other.json()["data"]) == 1


async def test_a_write_to_the_row_or_an_included_model_is_seen(cached: Client) -> None:
    post = await first_post(cached)
    path = f"/rest/post/{post['id']}?include=author"
    async with http_for(cached) as http:
        await kept(http, path)
        await http.get(path)
        assert counter(cached, "hits", "response") == 1  # a kept answer, before the write
        assert (await http.patch(f"/rest/post/{post['id']}", json={"title": "New"})).is_success
        after_row = await http.get(path)
        assert after_row.headers["x-cache"] == "MISS" and after_row.json()["title"] == "New"
        await kept(http, path)
        assert counter(cached, "hits", "response") == 2  # kept again (the second GET)
        author = f"/rest/user/{post['authorId']}"
        assert (await http.patch(author, json={"name": "Renamed"})).is_success
        after_author = await http.get(path)
    assert after_author.headers["x-cache"] == "MISS"
    assert after_author.json()["author"]["name"] == "Renamed"
    assert counter(cached, "hits", "response") == 2


async def test_a_write_through_the_client_is_seen(cached: Client) -> None:
    post = await first_post(cached)
    path = f"/rest/post/{post['id']}"
    async with http_for(cached) as http:
        await kept(http, path)
        assert (await http.get(path)).json()["views"] == post["views"]
        await cached.post.update(where={"id": post["id"]}, data={"views": 999})
        after = await http.get(path)
    assert after.json()["views"] == 999
    assert counter(cached, "hits", "response") == 1


async def test_a_write_to_another_row_keeps_an_entity_answer(cached: Client) -> None:
    posts = await cached.post.find_many(order_by={"id": "asc"}, take=2, cache=False)
    path = f"/rest/post/{posts[0]['id']}"
    async with http_for(cached) as http:
        await kept(http, path)
        assert (await http.patch(f"/rest/post/{posts[1]['id']}", json={"views": 7})).is_success
        again = await http.get(path)
    assert again.headers["x-cache"] == "HIT" and counter(cached, "hits", "response") == 1


async def test_another_identity_never_gets_the_answer(cached: Client) -> None:
    async with http_for(cached, ApiSettings(auth=reader_auth())) as http:
        await kept(http, "/rest/tag", **bearer("u1"))
        assert (await http.get("/rest/tag", headers=bearer("u1"))).headers["x-cache"] == "HIT"
        assert counter(cached, "hits", "response") == 1
        other = await http.get("/rest/tag", headers=bearer("u2"))
        anonymous = await http.get("/rest/tag")
    assert other.headers["x-cache"] == "MISS" and anonymous.headers["x-cache"] == "MISS"
    assert counter(cached, "hits", "response") == 1


async def test_if_none_match_gets_304_from_a_kept_answer(cached: Client) -> None:
    post = await first_post(cached)
    path = f"/rest/post/{post['id']}"
    async with http_for(cached) as http:
        etag = (await kept(http, path)).headers["etag"]
        same = await http.get(path, headers={"If-None-Match": etag})
        weak = await http.get(path, headers={"If-None-Match": f'"x", W/{etag}'})
        changed = await http.get(path, headers={"If-None-Match": '"other"'})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    assert same.headers["x-cache"] == "HIT" and weak.status_code == 304
    assert changed.status_code == 200 and changed.json()["id"] == post["id"]
    assert counter(cached, "hits", "response") == 3


async def test_rate_limits_apply_to_kept_answers(cached: Client) -> None:
    post = await first_post(cached)
    path = f"/rest/post/{post['id']}"
    settings = ApiSettings(rate_limit=RateLimitSettings(per_ip=parse_rate("3/minute")))
    async with http_for(cached, settings) as http:
        await kept(http, path)
        assert (await http.get(path)).status_code == 200
        refused = await http.get(path)
    assert refused.status_code == 429
    assert counter(cached, "hits", "response") == 1


async def test_what_is_not_kept(cached: Client) -> None:
    post = await first_post(cached)
    async with http_for(cached) as http:
        for _ in range(3):
            missing = await http.get("/rest/post/999999")
            assert missing.status_code == 404
            health = await http.get("/healthz")
            assert health.status_code == 200
        # a read of a model whose cache is off is never kept
    assert counter(cached, "hits", "response") == 0 and counter(cached, "fills", "response") == 0
    async with Client(SCHEMA, cached.url, cache={"models": {"Post": {"enabled": False}}}) as off:
        heard = PostStatements(off)
        async with http_for(off) as http:
            for _ in range(3):
                response = await http.get(f"/rest/post/{post['id']}")
                assert response.status_code == 200 and "x-cache" not in response.headers
        assert heard.statements == 3 and counter(off, "fills", "response") == 0


async def test_switched_off(cached: Client) -> None:
    post = await first_post(cached)
    path = f"/rest/post/{post['id']}"
    async with http_for(cached, ApiSettings(response_cache=None)) as http:
        await kept(http, path)
        memory_hits = counter(cached, "hits", "memory")
        assert (await http.get(path)).headers["x-cache"] == "HIT"
    assert counter(cached, "hits", "memory") == memory_hits + 1  # the pipeline ran
    assert counter(cached, "misses", "response") == 0
    assert server_options({"response_cache": False}, {}).settings.response_cache is None
    options = server_options({"response_cache": {"max_entries": 5}}, {})
    assert options.settings.response_cache == ResponseCacheSettings(max_entries=5)
    with pytest.raises(ConfigError, match="response_cache"):
        server_options({"response_cache": {"max_entries": 0}}, {})
    with pytest.raises(ConfigError, match="response_cache"):
        server_options({"response_cache": {"entries": 5}}, {})


async def test_entries_are_bounded(cached: Client) -> None:
    posts = await cached.post.find_many(order_by={"id": "asc"}, cache=False)
    settings = ApiSettings(response_cache=ResponseCacheSettings(max_entries=2))
    async with http_for(cached, settings) as http:
        for post in posts:
            await kept(http, f"/rest/post/{post['id']}")
        assert counter(cached, "evictions", "response") == len(posts) - 2
        newest = await http.get(f"/rest/post/{posts[-1]['id']}")
        oldest = await http.get(f"/rest/post/{posts[0]['id']}")
    assert counter(cached, "hits", "response") == 1  # the newest only: the oldest was evicted
    assert newest.status_code == oldest.status_code == 200


def test_etag_matches() -> None:
    assert etag_matches(b'"a", "b"', b'"b"')
    assert etag_matches(b'W/"b"', b'"b"') and etag_matches(b"*", b'"b"')
    assert etag_matches(b'"b"', b'W/"b"')
    assert not etag_matches(b'"a"', b'"b"')


def test_settings_check_themselves() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        ResponseCacheSettings(max_bytes=0)
    with pytest.raises(ValueError, match="max_entries"):
        ResponseCacheSettings(max_entries=True)


@pytest.fixture
def two_servers(tmp_path: Path, pg_url: str, redis_url: str) -> Iterator[list[str]]:
    prepare(tmp_path, pg_url, redis_url)
    with servers(tmp_path, pg_url, 2) as bases:
        yield bases


@pytest.mark.redis
def test_a_write_through_another_process_reaches_kept_answers(two_servers: list[str]) -> None:
    writer, reader = two_servers

    def response_hits(http: httpx.Client) -> float:
        text = http.get("/metrics").text
        return metric(text, "datatier_cache_hits_total", tier="response", model="Item")

    with httpx.Client(base_url=reader, timeout=10) as http:
        for _ in range(3):
            assert http.get("/rest/item/2").json()["version"] == 0
        assert response_hits(http) >= 1  # the last read was a kept answer
        changed = httpx.patch(f"{writer}/rest/item/2", json={"version": 1}, timeout=10)
        assert changed.status_code == 200
        deadline = time.monotonic() + 30  # the bus delivers in milliseconds; a loaded machine
        while http.get("/rest/item/2").json()["version"] != 1:
            assert time.monotonic() < deadline, "the reader never saw the other process's write"
            time.sleep(0.05)
        hits = response_hits(http)
        for _ in range(2):
            assert http.get("/rest/item/2").json()["version"] == 1
        assert response_hits(http) > hits  # kept again, with the new version


async def test_concurrent_identical_gets_agree(cached: Client) -> None:
    post = await first_post(cached)
    path = f"/rest/post/{post['id']}"
    async with http_for(cached) as http:
        await kept(http, path)
        answers = await asyncio.gather(*(http.get(path) for _ in range(20)))
    assert {a.content for a in answers} == {answers[0].content}
    assert counter(cached, "hits", "response") == 20


async def test_a_write_applied_while_the_answer_is_made_is_not_hidden(cached: Client) -> None:
    """The tokens kept are those taken before the reads: an answer whose data changed before
    it was kept is never served."""
    post = await first_post(cached)
    calls = 0

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal calls
        calls += 1
        row = await cached.post.find_unique_or_raise(where={"id": post["id"]})
        if calls == 2:  # read (a hit), then a write lands before the answer is kept
            await cached.post.update(where={"id": post["id"]}, data={"views": {"increment": 1}})
        body = orjson.dumps({"views": row["views"]})
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    middleware = CacheHeadersMiddleware(app, cached, ResponseCacheSettings())
    transport = httpx.ASGITransport(app=middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        path = f"/rest/post/{post['id']}"
        assert (await http.get(path)).json()["views"] == post["views"]  # a miss: not kept
        assert (await http.get(path)).json()["views"] == post["views"]  # kept, then changed
        third = await http.get(path)
    assert calls == 3 and third.json()["views"] == post["views"] + 1
    assert counter(cached, "hits", "response") == 0 and counter(cached, "fills", "response") == 1
