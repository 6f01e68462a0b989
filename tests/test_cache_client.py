"""The cache through the client, on real databases (SQLite, PostgreSQL) and Redis:
read-through, write-through invalidation, negative caching, stale-while-revalidate,
per-call options, warming, identities, Redis outages and the fill race."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from datatier import Client, SyncClient
from datatier.cache import Cache, cache_identity, cache_status
from datatier.drivers import StatementEvent
from datatier.errors import ConfigError, ValidationError
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.harness.golden import REPO

SCHEMA = REPO / "datatier" / "demo" / "schema.prisma"


class Reads:
    """Counts the statements that read a model's table (the bus's own statements aside)."""

    def __init__(self, db: Client) -> None:
        self.sql: list[str] = []
        db.on_statement(self.heard)

    def heard(self, event: StatementEvent) -> None:
        if (
            event.sql.lstrip().upper().startswith(("SELECT", "WITH"))
            and "_datatier_" not in event.sql
        ):
            self.sql.append(event.sql)

    def take(self) -> int:
        count, self.sql = len(self.sql), []
        return count


def _cache(db: Client) -> Cache:
    assert db.cache is not None
    return db.cache


async def _open(url: str, **cache: Any) -> Client:
    client = Client(SCHEMA, url, cache={"ttl": 60, **cache})
    await client.connect()
    return client


@pytest_asyncio.fixture
async def db(sql_backend: Backend) -> AsyncIterator[Client]:
    push(Client(SCHEMA, sql_backend.url).schema, sql_backend.url)
    client = await _open(sql_backend.url)
    try:
        yield client
    finally:
        await client.close()


async def _user(db: Client, email: str = "ann@example.com", name: str = "Ann") -> dict[str, Any]:
    return await db.user.create(data={"email": email, "name": name})


async def test_read_through_serves_the_second_read_from_memory(db: Client) -> None:
    ann = await _user(db)
    reads = Reads(db)
    first = await db.user.find_unique(where={"id": ann["id"]})
    assert reads.take() == 1
    second = await db.user.find_unique(where={"id": ann["id"]})
    assert reads.take() == 0
    assert first == second == ann
    assert first is not second
    assert second is not None
    second["name"] = "changed by the caller"
    assert (await db.user.find_unique(where={"id": ann["id"]}) or {})["name"] == "Ann"
    metrics = _cache(db).metrics
    assert metrics.get("hits", "memory", "User") == 2 and metrics.get("misses", model="User") == 1


async def test_a_write_is_never_followed_by_the_old_value(db: Client) -> None:
    ann = await _user(db)
    where = {"where": {"id": ann["id"]}}
    for i in range(5):
        await db.user.find_unique(**where)
        await db.user.find_many(where={"name": {"startsWith": "A"}})
        await db.user.update(where={"id": ann["id"]}, data={"name": f"A{i}"})
        assert (await db.user.find_unique(**where) or {})["name"] == f"A{i}"
        assert [
            u["name"] for u in await db.user.find_many(where={"name": {"startsWith": "A"}})
        ] == [f"A{i}"]
    await db.user.delete(where={"id": ann["id"]})
    assert await db.user.find_unique(**where) is None
    assert await db.user.count() == 0


async def test_writes_to_an_included_model_invalidate_the_query(db: Client) -> None:
    ann = await _user(db)
    query = {"where": {"id": ann["id"]}, "include": {"posts": {"select": {"title": True}}}}
    assert (await db.user.find_unique(**query) or {})["posts"] == []
    post = await db.post.create(
        data={"title": "one", "content": "c", "author": {"connect": {"id": ann["id"]}}}
    )
    assert [p["title"] for p in (await db.user.find_unique(**query) or {})["posts"]] == ["one"]
    await db.post.update(where={"id": post["id"]}, data={"title": "two"})
    assert [p["title"] for p in (await db.user.find_unique(**query) or {})["posts"]] == ["two"]
    # relation filters and _count depend on the related model too
    assert await db.user.count(where={"posts": {"some": {"title": "two"}}}) == 1
    await db.post.delete(where={"id": post["id"]})
    assert await db.user.count(where={"posts": {"some": {"title": "two"}}}) == 0


async def test_rows_removed_by_a_cascade_are_not_served(db: Client) -> None:
    """The database deletes the comments of a deleted post (ON DELETE CASCADE) without
    change events of their own: the schema's referential actions expand the post's event."""
    ann = await _user(db)
    post = await db.post.create(
        data={"title": "t", "content": "c", "author": {"connect": {"id": ann["id"]}}}
    )
    comment = await db.comment.create(
        data={
            "content": "hi",
            "post": {"connect": {"id": post["id"]}},
            "author": {"connect": {"id": ann["id"]}},
        }
    )
    assert await db.comment.find_unique(where={"id": comment["id"]}) == comment
    assert await db.comment.count() == 1
    await db.post.delete(where={"id": post["id"]})
    assert await db.comment.find_unique(where={"id": comment["id"]}) is None
    assert await db.comment.count() == 0


async def test_transactions_read_the_database_and_invalidate_on_commit(db: Client) -> None:
    ann = await _user(db)
    where = {"where": {"id": ann["id"]}}
    await db.user.find_unique(**where)
    reads = Reads(db)
    async with db.tx() as tx:
        await tx.user.update(where={"id": ann["id"]}, data={"name": "in tx"})
        assert (await tx.user.find_unique(**where) or {})["name"] == "in tx"
        assert reads.take() >= 1  # not answered from the cache
    assert (await db.user.find_unique(**where) or {})["name"] == "in tx"


async def test_negative_results_are_cached_until_the_row_is_created(db: Client) -> None:
    reads = Reads(db)
    missing = {"where": {"id": "not-yet"}}
    assert await db.user.find_unique(**missing) is None
    assert await db.user.find_unique(**missing) is None
    assert reads.take() == 1
    await db.user.create(data={"id": "not-yet", "email": "late@example.com"})
    found = await db.user.find_unique(**missing)
    assert found is not None and found["email"] == "late@example.com"


async def test_negative_ttl_zero_does_not_cache_misses(sql_backend: Backend) -> None:
    push(Client(SCHEMA, sql_backend.url).schema, sql_backend.url)
    db = await _open(sql_backend.url, negative_ttl=0)
    try:
        reads = Reads(db)
        await db.user.find_unique(where={"id": "none"})
        await db.user.find_unique(where={"id": "none"})
        assert reads.take() == 2
    finally:
        await db.close()


async def test_per_call_options(db: Client) -> None:
    ann = await _user(db)
    reads = Reads(db)
    where = {"where": {"id": ann["id"]}}
    await db.user.find_unique(**where, cache=False)
    await db.user.find_unique(**where, cache=False)
    assert reads.take() == 2
    await db.user.find_many(cache={"ttl": 0})  # not stored
    await db.user.find_many(cache={"ttl": 0})
    assert reads.take() == 2
    await db.user.find_many(take=1, cache={"ttl": 0.05})
    await db.user.find_many(take=1, cache={"ttl": 0.05})
    assert reads.take() == 1
    await asyncio.sleep(0.08)
    await db.user.find_many(take=1, cache={"ttl": 0.05})
    assert reads.take() == 1
    with pytest.raises(ValidationError, match=r"cache\.tll"):
        await db.user.find_many(cache={"tll": 1})


async def test_stale_while_revalidate(db: Client) -> None:
    ann = await _user(db)
    reads = Reads(db)
    status: list[str] = []
    token = cache_status.set(status)
    try:
        options = {"ttl": 0.3, "swr": 30}
        await db.user.find_many(cache=options)
        await asyncio.sleep(0.35)
        assert [u["name"] for u in await db.user.find_many(cache=options)] == ["Ann"]
        while _cache(db)._background:  # the background refresh runs
            await asyncio.sleep(0.005)
        await db.user.find_many(cache=options)
        assert status == ["MISS", "STALE", "HIT"]
        assert reads.take() == 2
        assert _cache(db).metrics.get("stale", model="User") == 1
        # a write still makes the stale entry unreachable
        await db.user.update(where={"id": ann["id"]}, data={"name": "Bo"})
        assert [u["name"] for u in await db.user.find_many(cache=options)] == ["Bo"]
    finally:
        cache_status.reset(token)


async def test_identities_never_share_an_entry(db: Client) -> None:
    await _user(db)
    reads = Reads(db)
    for identity in ("admin:1", "user:2", "", "admin:1"):
        token = cache_identity.set(identity)
        try:
            await db.user.find_many()
        finally:
            cache_identity.reset(token)
    assert reads.take() == 3


async def test_warming_fills_the_cache_at_start(sql_backend: Backend) -> None:
    push(Client(SCHEMA, sql_backend.url).schema, sql_backend.url)
    warm = [{"model": "User", "operation": "find_many", "args": {"take": 5}}]
    db = await _open(sql_backend.url, warm=warm)
    try:
        reads = Reads(db)
        await db.user.find_many(take=5)
        assert reads.take() == 0
        assert _cache(db).metrics.get("fills", "memory", "User") == 1
    finally:
        await db.close()


async def test_models_can_be_left_out(sql_backend: Backend) -> None:
    push(Client(SCHEMA, sql_backend.url).schema, sql_backend.url)
    db = await _open(sql_backend.url, models={"Post": {"enabled": False}})
    try:
        reads = Reads(db)
        await db.user.find_many(include={"posts": True})  # reads Post: not cached either
        await db.user.find_many(include={"posts": True})
        assert reads.take() == 2
    finally:
        await db.close()


def test_bad_cache_settings_are_config_errors(sqlite_url: str) -> None:
    with pytest.raises(ConfigError, match=r"cache\.models names Nope"):
        Client(SCHEMA, sqlite_url, cache={"models": {"Nope": {}}})
    with pytest.raises(ConfigError, match=r"unknown key cache\.tll"):
        Client(SCHEMA, sqlite_url, cache={"tll": 1})


def test_cache_settings_from_datatier_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "datatier.toml").write_text("[cache]\nttl = 9\n[cache.models.Post]\nttl = 1\n")
    monkeypatch.chdir(tmp_path)
    db = Client(SCHEMA, f"file:{tmp_path}/t.db")
    assert db.cache is not None and db.cache.settings.model("Post").ttl == 1.0
    assert db.cache.settings.model("User").ttl == 9.0
    assert Client(SCHEMA, f"file:{tmp_path}/t.db", cache=False).cache is None


def test_sync_client_uses_the_cache(sqlite_url: str) -> None:
    push(Client(SCHEMA, sqlite_url).schema, sqlite_url)
    with SyncClient(SCHEMA, sqlite_url, cache=True) as db:
        ann = db.user.create(data={"email": "s@example.com", "name": "S"})
        assert db.user.find_unique(where={"id": ann["id"]}) == ann
        db.user.update(where={"id": ann["id"]}, data={"name": "T"})
        assert (db.user.find_unique(where={"id": ann["id"]}) or {})["name"] == "T"
        assert db.cache is not None and db.cache.metrics.get("misses") == 2


# -- Redis --------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def pair(pg_url: str, redis_url: str) -> AsyncIterator[tuple[Client, Client]]:
    """Two clients (as two server processes would be) on one database and one Redis."""
    push(Client(SCHEMA, pg_url).schema, pg_url)
    first = await _open(pg_url, redis=redis_url, namespace="pair")
    second = await _open(pg_url, redis=redis_url, namespace="pair")
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def _settled(*clients: Client) -> None:
    """Wait until every client applied the same events (pub/sub delivery)."""
    for _ in range(200):
        if len({_cache(c).versions.applied for c in clients}) == 1:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("clients did not converge")


async def test_the_redis_tier_is_shared(pair: tuple[Client, Client]) -> None:
    first, second = pair
    ann = await _user(first)
    await _settled(first, second)
    reads = Reads(second)
    assert await first.user.find_unique(where={"id": ann["id"]}) == ann
    assert await second.user.find_unique(where={"id": ann["id"]}) == ann
    assert reads.take() == 0
    assert _cache(second).metrics.get("hits", "redis", "User") == 1
    # a write in one process is seen by the other once it applied the event
    await first.user.update(where={"id": ann["id"]}, data={"name": "Changed"})
    await _settled(first, second)
    assert (await second.user.find_unique(where={"id": ann["id"]}) or {})["name"] == "Changed"


class Commands:
    """Records the commands a redis-py client sends (``execute_command``'s first argument)."""

    def __init__(self, client: Any) -> None:
        self.sent: list[str] = []
        send = client.execute_command

        async def record(*args: Any, **options: Any) -> Any:
            self.sent.append(str(args[0]))
            return await send(*args, **options)

        client.execute_command = record


async def test_a_redis_tier_hit_is_one_get(pg_url: str, redis_url: str) -> None:
    """Versions come from the applied events, not from Redis: a hit is one round trip."""
    push(Client(SCHEMA, pg_url).schema, pg_url)
    namespace = f"oneget-{uuid.uuid4().hex[:8]}"  # no entry of an earlier run can answer
    writer = await _open(pg_url, redis=redis_url, namespace=namespace)
    reader = await _open(pg_url, redis=redis_url, namespace=namespace, memory=False)
    try:
        ann = await _user(writer)
        await _settled(writer, reader)
        assert await writer.user.find_unique(where={"id": ann["id"]}) == ann  # fills Redis
        cache = _cache(reader)
        assert cache.redis is not None and cache.redis_client is not None
        tier, bus = Commands(cache.redis.redis), Commands(cache.redis_client)
        reads = Reads(reader)
        for _ in range(3):
            assert await reader.user.find_unique(where={"id": ann["id"]}) == ann
        assert tier.sent == ["GET"] * 3 and bus.sent == [] and reads.take() == 0
        assert cache.metrics.get("hits", "redis", "User") == 3
    finally:
        await writer.close()
        await reader.close()


async def test_redis_down_reads_still_work(pg_url: str) -> None:
    push(Client(SCHEMA, pg_url).schema, pg_url)
    db = await _open(pg_url, redis="redis://127.0.0.1:1/0", redis_timeout=0.1)
    try:
        ann = await _user(db)
        assert await db.user.find_unique(where={"id": ann["id"]}) == ann
        assert await db.user.find_unique(where={"id": ann["id"]}) == ann
        assert _cache(db).metrics.get("bypass", model="User") >= 2  # cannot vouch: database
    finally:
        await db.close()


async def test_redis_tier_failing_is_skipped(pg_url: str, redis_url: str) -> None:
    push(Client(SCHEMA, pg_url).schema, pg_url)
    db = await _open(pg_url, redis=redis_url, namespace="fail")
    try:
        ann = await _user(db)
        cache = _cache(db)
        assert cache.redis is not None
        await cache.redis.redis.aclose()
        cache.redis.redis = type(cache.redis.redis).from_url(
            "redis://127.0.0.1:1/0", socket_connect_timeout=0.1
        )
        assert await db.user.find_unique(where={"id": ann["id"]}) == ann
        assert cache.redis.errors >= 1
        assert await db.user.find_unique(where={"id": ann["id"]}) == ann  # memory tier
    finally:
        await db.close()


async def test_the_fill_race_leaves_no_reachable_stale_entry(db: Client) -> None:
    """Reader reads the old value, the writer commits and invalidates, then the reader
    fills: the filled key was computed before the read, so it is already unreachable."""
    ann = await _user(db)
    cache = _cache(db)
    read_done = asyncio.Event()
    write_done = asyncio.Event()

    async def hold(key: str) -> None:
        read_done.set()
        await write_done.wait()

    cache._before_fill = hold
    reader = asyncio.create_task(db.user.find_unique(where={"id": ann["id"]}))
    await read_done.wait()
    cache._before_fill = None
    await db.user.update(where={"id": ann["id"]}, data={"name": "New"})
    write_done.set()
    assert (await reader or {})["name"] == "Ann"  # it began before the write: fine
    assert (await db.user.find_unique(where={"id": ann["id"]}) or {})["name"] == "New"
    assert (await db.user.find_unique(where={"id": ann["id"]}) or {})["name"] == "New"


async def test_metrics_collect(db: Client) -> None:
    await _user(db)
    await db.user.find_many()
    await db.user.find_many()
    families = {f.name: f for f in _cache(db).collect()}
    hits = families["datatier_cache_hits"]
    assert [(s.labels, s.value) for s in hits.samples if s.name.endswith("_total")] == [
        ({"tier": "memory", "model": "User"}, 1.0)
    ]
    assert families["datatier_cache_bytes"].samples[0].value > 0
    applied = families["datatier_cache_invalidations"].samples
    assert [(s.labels, s.value) for s in applied if s.name.endswith("_total")] == [
        ({"model": "User"}, 1.0)
    ]


def test_cache_tour_example_runs(sqlite_url: str) -> None:
    # one database is enough: the other tests cover both (a subprocess start is slow)
    import subprocess
    import sys

    script = REPO / "examples" / "cache_tour.py"
    result = subprocess.run(
        [sys.executable, str(script), sqlite_url], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "reads: MISS HIT" in result.stdout
    assert "after the update: Ann B." in result.stdout
    assert "posts before/after: 0 1" in result.stdout


async def test_write_back_through_the_client(pg_url: str, redis_url: str) -> None:
    push(Client(SCHEMA, pg_url).schema, pg_url)
    db = await _open(
        pg_url,
        redis=redis_url,
        namespace="wb",
        models={"Post": {"write": "back", "fields": ["views"]}},
    )
    try:
        ann = await _user(db)
        post = await db.post.create(
            data={
                "title": "t",
                "content": "c",
                "views": 1,
                "author": {"connect": {"id": ann["id"]}},
            }
        )
        where = {"id": post["id"]}
        assert (await db.post.find_unique(where=where) or {})["views"] == 1  # cached now
        written = await db.post.update(where=where, data={"views": {"increment": 5}})
        assert written["views"] == 6
        # reads see the pending value before it is flushed (the cached entry is overlaid)
        assert (await db.post.find_unique(where=where) or {})["views"] == 6
        assert [p["views"] for p in await db.post.find_many()] == [6]
        cache = _cache(db)
        assert cache.writeback is not None
        await cache.writeback.drain()
        rows = await db.query_raw('SELECT views FROM "Post" WHERE id = $1', post["id"])
        assert rows == [{"views": 6}]
        assert (await db.post.find_unique(where=where) or {})["views"] == 6
        # other writes go through
        await db.post.update(where=where, data={"title": "u"})
        assert (await db.post.find_unique(where=where) or {})["title"] == "u"
    finally:
        await db.close()


def test_write_back_needs_redis(sqlite_url: str) -> None:
    with pytest.raises(ConfigError, match=r"needs cache\.redis"):
        Client(
            SCHEMA, sqlite_url, cache={"models": {"Post": {"write": "back", "fields": ["views"]}}}
        )
