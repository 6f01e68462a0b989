"""The cache's building blocks: codec, memory tier, Redis tier, keys, dependencies,
versions, single flight and settings. Redis tests use a real server."""

from __future__ import annotations

import asyncio
import struct
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
import redis.asyncio as aioredis

from datatier.cache._codec import CodecError, pack, unpack
from datatier.cache._deps import Dependencies
from datatier.cache._flight import SingleFlight
from datatier.cache._keys import document_text, redis_key, schema_hash
from datatier.cache._memory import MemoryTier
from datatier.cache._redis import RedisTier
from datatier.cache._settings import CacheSettings, ModelSettings, call_options, to_settings
from datatier.cache._versions import Versions, referential_dependents
from datatier.config import load_config
from datatier.errors import ConfigError, ValidationError
from datatier.query._changes import ChangeEvent, key_text
from datatier.query._model_info import SchemaInfo
from datatier.schema import load_schema
from tests.harness.golden import REPO

SCHEMA = load_schema(REPO / "datatier" / "demo" / "schema.prisma")
INFO = SchemaInfo(SCHEMA)


# -- codec -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -1,
        2**63 - 1,
        -(2**63),
        2**64,
        2**200,
        -(2**100),
        1.5,
        float("inf"),
        "text é ✓",
        "",
        b"\x00\xffbytes",
        datetime(2024, 2, 29, 12, 30, 1, 123456, tzinfo=UTC),
        datetime(1900, 1, 1, tzinfo=UTC),
        Decimal("12345678901234567890.123456789"),
        Decimal("-0.0001"),
        {"json": [1, "two", None, {"deep": [True, 2.5]}]},
        [{"id": 1, "when": datetime(2020, 1, 1, tzinfo=UTC), "price": Decimal("9.99")}],
    ],
)
def test_codec_round_trips_every_scalar(value: Any) -> None:
    back = unpack(pack(value))
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, datetime):
        assert back.tzinfo is not None and back.utcoffset() == value.utcoffset()


def test_codec_gives_fresh_objects_and_refuses_unknown_types() -> None:
    packed = pack({"tags": ["a"]})
    first = unpack(packed)
    first["tags"].append("b")
    assert unpack(packed) == {"tags": ["a"]}
    with pytest.raises(CodecError, match="cannot store a object"):
        pack(object())


# -- memory tier --------------------------------------------------------------------------


def test_memory_tier_is_lru_by_entries() -> None:
    evicted: list[tuple[str, int]] = []
    tier = MemoryTier(max_entries=2, max_bytes=10_000, on_evict=lambda m, n: evicted.append((m, n)))
    tier.set("a", b"1", 10, 10, "M")
    tier.set("b", b"2", 10, 10, "M")
    assert tier.get("a", 0) is not None  # a is now the most recently used
    tier.set("c", b"3", 10, 10, "M")
    assert tier.get("b", 0) is None
    assert tier.get("a", 0) is not None and tier.get("c", 0) is not None
    assert evicted == [("M", 2)]


def test_memory_tier_is_bounded_by_bytes_exactly() -> None:
    tier = MemoryTier(max_entries=100, max_bytes=30)
    tier.set("k1", b"x" * 8, 10, 10, "M")  # 10 bytes
    tier.set("k2", b"x" * 8, 10, 10, "M")  # 20
    tier.set("k3", b"x" * 8, 10, 10, "M")  # 30: fits exactly
    assert len(tier) == 3 and tier.bytes == 30
    tier.set("k4", b"x" * 8, 10, 10, "M")
    assert len(tier) == 3 and tier.bytes == 30 and tier.get("k1", 0) is None
    tier.set("k2", b"y", 10, 10, "M")  # replacing adjusts the count
    assert tier.bytes == 23
    tier.set("huge", b"x" * 100, 10, 10, "M")  # larger than the bound: not stored
    assert tier.get("huge", 0) is None and tier.bytes == 23


def test_memory_tier_ttl_and_stale_window() -> None:
    tier = MemoryTier()
    tier.set("k", b"v", fresh_until=10, stale_until=15, model="M")
    entry = tier.get("k", 5)
    assert entry is not None and entry.fresh_until > 5
    stale = tier.get("k", 12)
    assert stale is not None and stale.fresh_until <= 12
    assert tier.get("k", 15) is None
    assert len(tier) == 0 and tier.bytes == 0


# -- Redis tier ---------------------------------------------------------------------------


async def test_redis_tier_get_set_lease(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    tier = RedisTier(client)
    try:
        assert await tier.get("t:k") is None
        await tier.set("t:k", b"value", ttl=5, swr=5)
        found = await tier.get("t:k")
        assert found is not None and found[0] == b"value"
        assert 9_000 < await client.pttl("t:k") <= 10_000
        assert await tier.lease("t:k", 1000) is True
        assert await tier.lease("t:k", 1000) is False
        await tier.release("t:k")
        assert await tier.lease("t:k", 1000) is True
    finally:
        await client.aclose()


async def test_redis_tier_unavailable_reads_as_absent(caplog: pytest.LogCaptureFixture) -> None:
    client = aioredis.Redis(port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    tier = RedisTier(client)
    try:
        assert await tier.get("k") is None
        await tier.set("k", b"v", 1, 0)
        assert await tier.lease("k", 100) is None
        assert tier.errors == 3 and not tier.available
        assert sum("Redis GET failed" in r.message for r in caplog.records) == 1  # rate-limited
    finally:
        await client.aclose()


class _HeldRedis:
    """Answers GET with ``b"..."`` once ``go`` is set, counting the GETs in flight."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.running = 0
        self.most = 0

    async def get(self, key: str) -> bytes:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.go.wait()
            return struct.pack(">d", 1e12) + key.encode()
        finally:
            self.running -= 1


async def test_redis_tier_bounds_its_commands_and_times_out_waiting() -> None:
    held = _HeldRedis()
    tier = RedisTier(cast(aioredis.Redis, held), timeout=0.05, slots=2)
    first = asyncio.create_task(tier.get("a"))
    second = asyncio.create_task(tier.get("b"))
    await asyncio.sleep(0)
    # both slots are taken: a third GET waits, then counts as failed and reads as absent
    assert await asyncio.wait_for(tier.get("c"), 1.0) is None  # (unbounded: it would hang)
    assert tier.errors == 1 and not tier.available
    queued = asyncio.create_task(tier.get("d"))
    await asyncio.sleep(0.01)
    held.go.set()
    assert [await first, await second, await queued] == [
        (b"a", 1e12),
        (b"b", 1e12),
        (b"d", 1e12),
    ]
    assert held.most == 2 and tier.available
    assert tier._slots._value == 2  # every slot was given back


async def test_redis_tier_from_url_uses_its_own_plain_pool(redis_url: str) -> None:
    tier = RedisTier.from_url(redis_url, timeout=0.3, slots=8)
    try:
        pool = tier.redis.connection_pool
        assert type(pool) is aioredis.ConnectionPool and pool.max_connections == 8
        assert pool.connection_kwargs["socket_timeout"] == 0.3
        await tier.set("t:own", b"value", ttl=5, swr=0)
        assert (await tier.get("t:own") or (b"", 0.0))[0] == b"value"
    finally:
        await tier.redis.aclose()


# -- keys ---------------------------------------------------------------------------------


def test_document_text_is_canonical_and_typed() -> None:
    assert document_text({"b": 1, "a": {"y": 2, "x": 1}}) == document_text(
        {"a": {"x": 1, "y": 2}, "b": 1}
    )
    assert document_text({"v": Decimal("1.5")}) != document_text({"v": 1.5})
    assert document_text({"v": b"ab"}) != document_text({"v": "ab"})
    assert document_text({"v": 1}) != document_text({"v": "1"})


def test_redis_key_embeds_namespace_and_schema_hash() -> None:
    digest = schema_hash(SCHEMA)
    assert digest == schema_hash(load_schema(REPO / "datatier" / "demo" / "schema.prisma"))
    other = load_schema(REPO / "examples" / "quickstart" / "schema.prisma")
    assert schema_hash(other) != digest
    key = redis_key(f"ns:{digest}:", "text")
    assert key.startswith(f"ns:{digest}:") and key != redis_key(f"ns:{digest}:", "text2")


# -- dependencies -------------------------------------------------------------------------


def test_entity_reads_depend_on_one_row() -> None:
    deps = Dependencies(INFO)
    assert deps.of("find_unique", "Post", {"where": {"id": 7}}).row == key_text([7])
    assert (
        deps.of("find_unique", "User", {"where": {"id": "u1"}, "select": {"name": True}}).row
        == '["u1"]'
    )
    # other unique keys, relations, filters and other operations are queries
    assert deps.of("find_unique", "User", {"where": {"email": "a@x"}}).row is None
    assert (
        deps.of("find_unique", "Post", {"where": {"id": 7}, "include": {"author": True}}).row
        is None
    )
    assert deps.of("find_unique", "Post", {"where": {"id": {"equals": 7}}}).row is None
    assert deps.of("find_first", "Post", {"where": {"id": 7}}).row is None


def test_keys_the_database_matches_loosely_are_not_entities(tmp_path: Path) -> None:
    # a Uuid or Char(n) column finds a row by other spellings (case, padding) of its key
    (tmp_path / "schema.prisma").write_text(
        'datasource db {\n  provider = "postgresql"\n  url = "postgresql://x/y"\n}\n'
        "model A {\n  id String @id @db.Uuid\n}\n"
        "model B {\n  id String @id @db.Char(8)\n}\n"
        "model C {\n  id String @id @db.VarChar(40)\n}\n"
    )
    deps = Dependencies(SchemaInfo(load_schema(tmp_path / "schema.prisma")))
    assert deps.of("find_unique", "A", {"where": {"id": "ABC"}}).row is None
    assert deps.of("find_unique", "B", {"where": {"id": "ab"}}).row is None
    assert deps.of("find_unique", "C", {"where": {"id": "ab"}}).row == '["ab"]'


def test_query_reads_depend_on_every_model_they_touch() -> None:
    deps = Dependencies(INFO)
    assert deps.of("find_many", "Post", {}).models == ("Post",)
    nested = {
        "include": {"author": {"include": {"profile": True}}},
        "where": {"comments": {"some": {"author": {"is": {"email": "x"}}}}},
        "orderBy": {"category": {"name": "asc"}},
    }
    assert deps.of("find_many", "Post", nested).models == (
        "Category",
        "Comment",
        "Post",
        "User",
        "UserProfile",
    )
    counted = deps.of("find_many", "Category", {"select": {"_count": True}}).models
    assert set(counted) == {"Category"} | {
        link.target for link in INFO.models["Category"].relations.values()
    }


# -- versions -----------------------------------------------------------------------------


def _event(seq: int, model: str, op: str, key: Any) -> ChangeEvent:
    return ChangeEvent(seq, model, op, key_text([key]))  # type: ignore[arg-type]


def test_versions_tokens_move_with_events_in_seq_order() -> None:
    versions = Versions(INFO)
    before = versions.models_token(("Post", "User"))
    assert before == "Post=0,User=0"
    versions.apply([_event(1, "Post", "update", 5), _event(2, "User", "create", "u")])
    assert versions.models_token(("Post", "User")) == "Post=1,User=2"
    assert versions.row_token("Post", key_text([5])) == "1"
    assert versions.row_token("Post", key_text([6])) == "0"
    versions.apply([_event(2, "Post", "update", 6)])  # already applied: ignored
    assert versions.row_token("Post", key_text([6])) == "0" and versions.applied == 2


def test_versions_row_eviction_raises_the_floor() -> None:
    versions = Versions(INFO, max_rows=2)
    versions.apply(
        [
            _event(1, "Tag", "update", 1),
            _event(2, "Tag", "update", 2),
            _event(3, "Tag", "update", 3),
        ]
    )
    # row 1 was evicted: its version went to the floor, so every unlisted row gets a new key
    assert versions.row_token("Tag", key_text([1])) == "1"
    assert versions.row_token("Tag", key_text([99])) == "1"
    assert versions.row_token("Tag", key_text([3])) == "3"


def test_versions_expand_referential_actions() -> None:
    dependents = referential_dependents(INFO)
    assert {"UserProfile", "UserSession"} <= set(dependents["User"])  # onDelete: Cascade
    assert "Comment" in dependents["Post"]  # Comment.post onDelete: Cascade
    versions = Versions(INFO)
    versions.apply([_event(1, "Comment", "create", 10)])
    versions.apply([_event(2, "Post", "delete", 1)])  # cascades to comments, recorded nowhere
    assert versions.models_token(("Comment",)) == "Comment=2"
    assert versions.row_token("Comment", key_text([10])) == "2"  # floor raised
    versions.apply([_event(3, "Post", "create", 2)])  # creates cascade nothing
    assert versions.models_token(("Comment",)) == "Comment=2"


def test_versions_link_events_bump_the_model() -> None:
    versions = Versions(INFO)
    versions.apply(
        [
            ChangeEvent(1, "Post", "link", key_text([1])),
            ChangeEvent(1, "Tag", "link", key_text([4])),
        ]
    )
    assert versions.models_token(("Post", "Tag")) == "Post=1,Tag=0"  # same seq: second ignored
    versions.apply([ChangeEvent(2, "Tag", "link", key_text([4]))])
    assert versions.models_token(("Post", "Tag")) == "Post=1,Tag=2"


def test_versions_suspend_resume_and_start_at() -> None:
    versions = Versions(INFO)
    cleared: list[bool] = []
    versions.on_resume(lambda: cleared.append(True))
    versions.suspend()
    assert not versions.vouched
    versions.resume()
    assert versions.vouched and cleared == [True]
    versions.start_at(40)
    assert (
        versions.models_token(("Post",)) == "Post=40" and versions.row_token("Post", "[1]") == "40"
    )


# -- single flight ------------------------------------------------------------------------


async def test_single_flight_shares_one_run() -> None:
    flight: SingleFlight[int] = SingleFlight()
    runs = 0

    async def fill() -> int:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.01)
        return 42

    results = await asyncio.gather(*(flight.run("k", fill) for _ in range(50)))
    assert runs == 1
    assert [r for r, _ in results] == [42] * 50 and sum(led for _, led in results) == 1


# -- settings -----------------------------------------------------------------------------


def test_settings_from_a_table() -> None:
    settings = CacheSettings.from_mapping(
        {
            "ttl": 30,
            "redis": "redis://x",
            "models": {"Post": {"ttl": 5}, "User": False},
            "warm": [{"model": "Post", "operation": "find_many", "args": {"take": 10}}],
        }
    )
    assert (
        settings.ttl == 30.0
        and settings.model("Post").ttl == 5.0
        and settings.model("Tag").ttl == 30.0
    )
    assert not settings.model("User").enabled
    assert settings.warm[0].args == {"take": 10}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"tll": 3}, "unknown key cache.tll; did you mean 'ttl'"),
        ({"ttl": -1}, "cache.ttl must be a number of seconds"),
        ({"ttl": "soon"}, "cache.ttl must be a number of seconds"),
        ({"memory": 1}, "cache.memory must be true or false"),
        (
            {"models": {"Post": {"write": "later"}}},
            'cache.models.Post.write must be "through" or "back"',
        ),
        ({"models": {"Post": {"swr": True}}}, "cache.models.Post.swr must be"),
        (
            {"warm": [{"model": "Post", "operation": "create"}]},
            r"cache.warm\[0\].operation must be a read",
        ),
    ],
)
def test_bad_settings_name_their_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CacheSettings.from_mapping(table)


def test_settings_built_in_code_check_themselves() -> None:
    with pytest.raises(ConfigError, match=r"CacheSettings\.ttl must be a number >= 0"):
        CacheSettings(ttl=-1)
    with pytest.raises(ConfigError, match=r"ModelSettings\.write must be"):
        ModelSettings(write="sideways")  # type: ignore[arg-type]


def test_settings_sources(tmp_path: Path) -> None:
    (tmp_path / "datatier.toml").write_text('[cache]\nttl = 7\nnamespace = "app"\n')
    table = load_config(tmp_path, {}).extra.get("cache")
    assert to_settings(None, None) is None and to_settings(False, table) is None
    from_file = to_settings(None, table)
    assert from_file is not None and from_file.ttl == 7 and from_file.namespace == "app"
    merged = to_settings({"ttl": 2}, table)
    assert merged is not None and merged.ttl == 2 and merged.namespace == "app"
    assert to_settings({"enabled": False}, None) is None
    assert call_options({"ttl": 3}).ttl == 3.0
    with pytest.raises(ValidationError, match=r"cache\.tl: cache= option 'tl' is unknown"):
        call_options({"tl": 3})
