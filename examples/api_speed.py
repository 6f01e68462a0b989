"""In-process speed of the API: ASGI calls straight into the app, no sockets, no load tool.

Compares datatier's ``create_app`` with the hand-written Starlette + asyncpg endpoint of
``bench/http/starlette_app.py`` on the same PostgreSQL database (the demo data), per
request: CPU microseconds in this process (what limits throughput when the server is the
bottleneck) and wall-clock throughput at a fixed concurrency. With ``--profile`` it prints
the top of a cProfile of the datatier calls; ``--feature`` switches one optional feature on
to price it.

    .venv/bin/python examples/api_speed.py --url postgresql://postgres@127.0.0.1/speed \
        [--requests 3000] [--concurrency 16] [--feature auth|ratelimit|metrics|etag|...]

The official side-by-side numbers (wrk over real sockets) come from ``bench/http``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import jwt

from datatier import Client
from datatier.api import (
    ApiSettings,
    AuthSettings,
    CompressionSettings,
    RateLimitSettings,
    create_app,
    parse_rate,
)

SCHEMA = Path(__file__).resolve().parent.parent / "datatier" / "demo" / "schema.prisma"
SECRET = "speed-" + "s" * 32
FEATURES = ("none", "auth", "ratelimit", "metrics", "etag", "access-log", "compression")
App = Callable[[dict[str, Any], Any, Any], Coroutine[Any, Any, None]]


def settings_for(feature: str) -> ApiSettings:
    """Everything optional off (as the hand-written endpoint has none of it), or one on."""
    values: dict[str, Any] = {
        "metrics": feature == "metrics",
        "access_log": feature == "access-log",
        "etag": feature == "etag",
        "compression": CompressionSettings() if feature == "compression" else None,
        "max_body_size": None,
    }
    if feature == "auth":
        values["auth"] = AuthSettings(jwt_secret=SECRET, rules={"bench": {"*": "*"}})
    if feature == "ratelimit":
        values["rate_limit"] = RateLimitSettings(per_ip=parse_rate("100000000/second"))
    return ApiSettings(**values)


def headers_for(feature: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"host", b"bench"), (b"user-agent", b"speed")]
    if feature == "auth":
        claims = {"sub": "bench", "role": "bench", "exp": int(time.time()) + 3600}
        token = jwt.encode(claims, SECRET, algorithm="HS256")
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if feature == "compression":
        headers.append((b"accept-encoding", b"gzip, br"))
    return headers


async def call(app: App, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """One GET through the ASGI app; its status."""
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure(
    app: App, paths: list[str], headers: list[tuple[bytes, bytes]], requests: int, concurrency: int
) -> tuple[float, float]:
    """(CPU µs per request in this process, requests per second) for ``requests`` calls."""
    for path in paths[:50]:  # warm: statement caches, pools
        assert await call(app, path, headers) == 200, path
    queue = iter(range(requests))

    async def worker() -> None:
        for index in queue:
            await call(app, paths[index % len(paths)], headers)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / requests * 1e6, requests / wall


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--feature", choices=FEATURES, default="none")
    parser.add_argument("--only", choices=("one", "list", "nested"), default=None)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-peer", action="store_true", help="skip the hand-written endpoint")
    args = parser.parse_args()

    client = Client(SCHEMA, args.url, pool_size=10)
    app: Any = create_app(client, settings_for(args.feature))
    async with client:
        posts = await client.post.find_many(select={"id": True}, take=200)
    ids = [p["id"] for p in posts]
    nested = (
        "{ users(take: 20, orderBy: {email: asc}) { id email posts(take: 10, orderBy: "
        "{createdAt: desc}) { id title _count { comments } } } }"
    )
    from urllib.parse import quote

    workloads = {
        "one": (
            [f"/rest/post/{i}" for i in ids],
            [f"/posts/{i}" for i in ids],
        ),
        "list": (["/rest/post?take=50&orderBy=-createdAt"], ["/posts?take=50"]),
        "nested": ([f"/graphql?query={quote(nested)}"], ["/users/nested"]),
    }
    headers = headers_for(args.feature)
    lifespan: AbstractAsyncContextManager[Any] = app.router.lifespan_context(app)
    async with lifespan:
        peer_app: Any = None
        if not args.no_peer:
            from bench.http.starlette_app import make_app

            peer_app = make_app(args.url, 10)
        for name, (ours, theirs) in workloads.items():
            if args.only and name != args.only:
                continue
            if args.profile:
                profile = cProfile.Profile()
                profile.enable()
            cpu, rate = await measure(app, ours, headers, args.requests, args.concurrency)
            if args.profile:
                profile.disable()
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)
            line = f"{name:7} datatier[{args.feature}]: {cpu:7.1f} µs CPU/req, {rate:7.0f} req/s"
            if peer_app is not None:
                async with peer_app.router.lifespan_context(peer_app):
                    base = [(b"host", b"bench")]
                    peer_cpu, peer_rate = await measure(
                        peer_app, theirs, base, args.requests, args.concurrency
                    )
                line += (
                    f" | hand-written: {peer_cpu:7.1f} µs, {peer_rate:7.0f} req/s"
                    f" | ratio {rate / peer_rate:4.2f}"
                )
            print(line, flush=True)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
