"""Rate limits per identity and per IP: one contract suite over the memory and Redis limiters,
exact GCRA numbers on a fake clock, and two real server processes sharing one Redis."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from datatier.api._auth import ApiKey, AuthMiddleware, AuthSettings, hash_api_key
from datatier.api._ratelimit import (
    KEY_PREFIX,
    Limiter,
    MemoryLimiter,
    Rate,
    RateLimitMiddleware,
    RateLimitSettings,
    RedisLimiter,
    parse_rate,
)
from datatier.errors import ConfigError

PEPPER = "pepper-for-rate-limit-tests"
KEYS = {"alice": "key-alice-0001", "bob": "key-bob-0002"}


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request: pytest.FixtureRequest) -> Callable[[], Limiter]:
    if request.param == "memory":
        return MemoryLimiter
    url: str = request.getfixturevalue("redis_url")
    return lambda: RedisLimiter(url)


async def ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def app_with(settings: RateLimitSettings, limiter: Limiter) -> Starlette:
    auth = AuthSettings(
        api_keys=tuple(
            ApiKey(name, hash_api_key(key, PEPPER), "user") for name, key in KEYS.items()
        ),
        api_key_pepper=PEPPER,
        anonymous_role="guest",
    )
    app = Starlette(routes=[Route("/things", ok), Route("/healthz", ok)])
    # Added last = outermost: auth runs first and hands the identity to the limiter.
    app.add_middleware(RateLimitMiddleware, settings=settings, limiter=limiter)
    app.add_middleware(AuthMiddleware, settings=auth)
    return app


@pytest.fixture
async def client_for(
    make_limiter: Callable[[], Limiter],
) -> AsyncIterator[Callable[[RateLimitSettings], httpx.AsyncClient]]:
    opened: list[tuple[httpx.AsyncClient, Limiter]] = []

    def build(settings: RateLimitSettings) -> httpx.AsyncClient:
        limiter = make_limiter()
        transport = httpx.ASGITransport(app=app_with(settings, limiter), client=("10.0.0.1", 1234))
        client = httpx.AsyncClient(transport=transport, base_url="http://t")
        opened.append((client, limiter))
        return client

    yield build
    for client, limiter in opened:
        await client.aclose()
        await limiter.aclose()


def as_user(name: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[name]}


# -- the contract, for both limiters ---------------------------------------------------


async def test_per_ip_limit_and_headers(
    client_for: Callable[[RateLimitSettings], httpx.AsyncClient],
) -> None:
    client = client_for(RateLimitSettings(per_ip=Rate(3, 3600)))
    for remaining in (2, 1, 0):
        response = await client.get("/things")
        assert response.status_code == 200
        assert response.headers["ratelimit-limit"] == "3"
        assert response.headers["ratelimit-remaining"] == str(remaining)
        # One request is worth 1200 s of the window; the backlog drains request by request.
        expected_reset = 1200 * (3 - remaining)
        assert abs(int(response.headers["ratelimit-reset"]) - expected_reset) <= 1
    refused = await client.get("/things")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "rate_limited" and body["status"] == 429
    assert refused.headers["ratelimit-remaining"] == "0"
    assert 1195 <= int(refused.headers["retry-after"]) <= 1200
    # Health checks are not counted and not refused.
    assert (await client.get("/healthz")).status_code == 200


async def test_per_identity_budgets_are_separate(
    client_for: Callable[[RateLimitSettings], httpx.AsyncClient],
) -> None:
    client = client_for(
        RateLimitSettings(per_identity=parse_rate("2/hour"), per_ip=parse_rate("100/hour"))
    )
    statuses = {
        name: [(await client.get("/things", headers=as_user(name))).status_code for _ in range(3)]
        for name in ("alice", "bob")
    }
    assert statuses == {"alice": [200, 200, 429], "bob": [200, 200, 429]}
    # Anonymous callers have no identity budget; the IP limit (100) alone applies.
    assert (await client.get("/things")).status_code == 200


async def test_refused_requests_are_not_counted(
    client_for: Callable[[RateLimitSettings], httpx.AsyncClient],
) -> None:
    client = client_for(
        RateLimitSettings(per_identity=parse_rate("2/hour"), per_ip=parse_rate("3/hour"))
    )
    alice = [(await client.get("/things", headers=as_user("alice"))).status_code for _ in range(4)]
    assert alice == [200, 200, 429, 429]
    # Alice's refusals took nothing from the address's budget: one request of the three is left.
    bob = [(await client.get("/things", headers=as_user("bob"))).status_code for _ in range(2)]
    assert bob == [200, 429]


async def test_budget_refills_over_time(
    client_for: Callable[[RateLimitSettings], httpx.AsyncClient],
) -> None:
    client = client_for(RateLimitSettings(per_ip=Rate(2, 0.4)))
    assert [(await client.get("/things")).status_code for _ in range(3)] == [200, 200, 429]
    await asyncio.sleep(0.25)  # one interval (0.2 s) has passed: one request fits again
    assert [(await client.get("/things")).status_code for _ in range(2)] == [200, 429]


async def test_forwarded_for_with_trusted_proxies(
    client_for: Callable[[RateLimitSettings], httpx.AsyncClient],
) -> None:
    client = client_for(RateLimitSettings(per_ip=parse_rate("1/hour"), trusted_proxies=1))

    def via(chain: str) -> dict[str, str]:
        return {"X-Forwarded-For": chain}

    # The proxy appended the real address last; what the client wrote before it is ignored.
    assert (await client.get("/things", headers=via("1.1.1.1, 203.0.113.7"))).status_code == 200
    assert (await client.get("/things", headers=via("9.9.9.9, 203.0.113.7"))).status_code == 429
    assert (await client.get("/things", headers=via("203.0.113.8"))).status_code == 200


# -- exact numbers on a fake clock -----------------------------------------------------


async def test_memory_gcra_numbers() -> None:
    now = [1000.0]
    limiter = MemoryLimiter(clock=lambda: now[0])
    rate = Rate(4, 60)  # one every 15 s, bursts of 4
    decisions = [await limiter.hit([("k", rate)]) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, True, False]
    assert [d.remaining for d in decisions] == [3, 2, 1, 0, 0]
    assert [d.reset for d in decisions] == [15, 30, 45, 60, 60]
    assert decisions[-1].retry_after == 15
    now[0] += 15
    again = await limiter.hit([("k", rate)])
    assert again.allowed and again.remaining == 0 and again.reset == 60
    now[0] += 60
    assert (await limiter.hit([("k", rate)])).remaining == 3


async def test_redis_keys_live_under_the_prefix_and_expire(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url)
    try:
        await limiter.hit([("ip:10.1.2.3", Rate(10, 60))])
    finally:
        await limiter.aclose()
    server = redis.Redis.from_url(redis_url)
    try:
        assert server.keys("*") == [(KEY_PREFIX + "ip:10.1.2.3").encode()]
        ttl = server.pttl(KEY_PREFIX + "ip:10.1.2.3")
        assert 5_000 <= ttl <= 6_100  # the backlog (one 6 s interval), then gone
    finally:
        server.close()


# -- Redis unreachable -----------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(("fail_open", "status"), [(True, 200), (False, 503)])
async def test_redis_down(fail_open: bool, status: int) -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    settings = RateLimitSettings(per_ip=parse_rate("5/minute"), redis_url=url, fail_open=fail_open)
    limiter = RedisLimiter(url)
    transport = httpx.ASGITransport(app=app_with(settings, limiter))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/things")
    await limiter.aclose()
    assert response.status_code == status
    if status == 503:
        assert response.json()["code"] == "rate_limiter_unavailable"


# -- settings ----------------------------------------------------------------------------


def test_parse_rate() -> None:
    assert parse_rate("100/minute") == Rate(100, 60)
    assert parse_rate("10/seconds") == Rate(10, 1)
    assert parse_rate("5000/hour") == Rate(5000, 3600)
    assert parse_rate("20/30s") == Rate(20, 30)
    for bad in ("100", "ten/minute", "5/fortnight", "0/minute", "5/0s"):
        with pytest.raises(ConfigError):
            parse_rate(bad)


def test_bad_settings() -> None:
    with pytest.raises(ConfigError, match="per_identity and/or per_ip"):
        RateLimitSettings()
    with pytest.raises(ConfigError, match="100/minute"):
        RateLimitSettings(per_ip=100)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown key"):
        RateLimitSettings.from_config({"per_ip": "1/second", "burst": 3}, env={})
    from_table = RateLimitSettings.from_config({"per_identity": "7/minute"}, env={})
    assert from_table.per_identity == Rate(7, 60) and from_table.redis_url is None
    table = {"per_ip": "1/second", "redis_url": "redis://config"}
    env = {"DATATIER_RATE_LIMIT_REDIS_URL": "redis://:secret@env:6379/2"}
    assert RateLimitSettings.from_config(table, env).redis_url == "redis://:secret@env:6379/2"
    assert RateLimitSettings.from_config(table, {}).redis_url == "redis://config"
    with pytest.raises(ConfigError, match="trusted_proxies"):
        RateLimitSettings(per_ip=parse_rate("1/second"), trusted_proxies=-1)


# -- two server processes sharing one Redis --------------------------------------------

SERVER_APP = textwrap.dedent(
    """
    import os
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from datatier.api._ratelimit import RateLimitMiddleware, RateLimitSettings

    async def ok(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/things", ok)])
    app.add_middleware(
        RateLimitMiddleware,
        settings=RateLimitSettings.from_config(
            {"per_ip": os.environ["RATE"], "redis_url": os.environ["REDIS_URL"]}
        ),
    )
    """
)


@pytest.fixture
def two_servers(redis_url: str, tmp_path: Path) -> Iterator[list[str]]:
    (tmp_path / "rl_server_app.py").write_text(SERVER_APP)
    env = {**os.environ, "RATE": "50/hour", "REDIS_URL": redis_url, "PYTHONPATH": str(tmp_path)}
    procs: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for _ in range(2):
            port = closed_port()
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", "rl_server_app:app", "--port", str(port)],
                    env=env,
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 20
        for url, proc in zip(urls, procs, strict=True):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
                try:
                    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), 0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


async def test_two_processes_share_one_budget(two_servers: list[str]) -> None:
    async def hammer(base: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base) as client:

            async def one() -> int:
                return (await client.get("/things")).status_code

            return list(await asyncio.gather(*(one() for _ in range(60))))

    results = await asyncio.gather(*(hammer(url) for url in two_servers))
    statuses = [s for result in results for s in result]
    assert len(statuses) == 120
    assert statuses.count(200) == 50
    assert statuses.count(429) == 70
    # Separate budgets would have let 100 through.


async def test_redis_connection_closed_at_shutdown(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url)
    settings = RateLimitSettings(per_ip=Rate(5, 60), redis_url=redis_url)
    app = app_with(settings, limiter)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/things")).status_code == 200
    assert limiter._redis is not None
    events = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return next(events)

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)  # type: ignore[arg-type]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert limiter._redis is None
