"""Rate limits per identity and per client IP: a GCRA limiter in Redis (one Lua script, atomic across
every server process sharing the Redis) or in process memory, and the ASGI middleware that applies
them.

GCRA (generic cell rate algorithm) keeps one number per key, the theoretical arrival time (TAT) of
the next request: ``limit`` requests per ``window`` means one request every ``window / limit``
seconds with bursts of up to ``limit``. A request is allowed when ``TAT + interval - window <= now``.
When several limits apply (identity and IP) a request is allowed only if all allow it, and only then
is it counted against any of them, so a refused request costs nothing.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datatier.api._auth import Identity, route_path, send_json
from datatier.api._problems import HttpProblem, problem_for
from datatier.api._settings import ApiSettings
from datatier.errors import ConfigError

__all__ = [
    "Decision",
    "Limiter",
    "MemoryLimiter",
    "Rate",
    "RateLimitMiddleware",
    "RateLimitSettings",
    "RedisLimiter",
    "parse_rate",
]

KEY_PREFIX = "datatier:rl:"
REDIS_URL_ENV = "DATATIER_RATE_LIMIT_REDIS_URL"
_EPSILON = 1e-9
_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` requests per ``window`` seconds (bursts of up to ``limit``)."""

    limit: int
    window: float

    def __post_init__(self) -> None:
        if not isinstance(self.limit, int) or isinstance(self.limit, bool) or self.limit < 1:
            raise ConfigError(f"rate limit must be a positive integer, not {self.limit!r}")
        if not self.window > 0:
            raise ConfigError(
                f"rate window must be a positive number of seconds, not {self.window!r}"
            )

    @property
    def interval(self) -> float:
        return self.window / self.limit


def parse_rate(text: str) -> Rate:
    """``"100/minute"``, ``"10/second"``, ``"5000/hours"``, ``"20/30s"`` -> ``Rate``."""
    count, _, per = text.partition("/")
    per = per.strip().lower()
    try:
        limit = int(count.strip())
        if per in _UNITS or per.removesuffix("s") in _UNITS:
            window = _UNITS[per if per in _UNITS else per.removesuffix("s")]
        else:
            window = float(per.removesuffix("s"))
    except ValueError:
        raise ConfigError(
            f"rate {text!r}: write '<count>/<second|minute|hour|day>' or '<count>/<seconds>s', "
            "e.g. '100/minute'"
        ) from None
    return Rate(limit, window)


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    """``per_identity`` applies to authenticated callers (keyed by user id or API key id),
    ``per_ip`` to every request (keyed by client address). ``redis_url`` shares the counts
    between processes (memory otherwise). ``trusted_proxies`` is how many reverse proxies
    in front append to ``X-Forwarded-For`` (0: use the socket's peer address). ``fail_open``:
    when Redis cannot be reached, let requests through (True) or answer 503 (False).
    """

    per_identity: Rate | None = None
    per_ip: Rate | None = None
    redis_url: str | None = None
    trusted_proxies: int = 0
    fail_open: bool = True
    exempt_paths: tuple[str, ...] = ("/healthz", "/readyz", "/metrics")

    def __post_init__(self) -> None:
        for name in ("per_identity", "per_ip"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Rate):
                raise ConfigError(
                    f"rate_limit.{name}: give a Rate (parse_rate('100/minute')), not {value!r}"
                )
        if self.per_identity is None and self.per_ip is None:
            raise ConfigError("rate_limit: set per_identity and/or per_ip (e.g. '100/minute')")
        if self.trusted_proxies < 0:
            raise ConfigError(
                f"rate_limit.trusted_proxies must be >= 0, not {self.trusted_proxies}"
            )

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], env: Mapping[str, str] | None = None
    ) -> RateLimitSettings:
        """Settings from a ``[server.rate_limit]`` table (rates written as ``"100/minute"``);
        ``DATATIER_RATE_LIMIT_REDIS_URL`` (a URL may hold a password) wins over ``redis_url``."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ConfigError(
                f"[server.rate_limit]: unknown key(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        values = dict(config)
        redis_url = (os.environ if env is None else env).get(REDIS_URL_ENV)
        if redis_url:
            values["redis_url"] = redis_url
        for name in ("per_identity", "per_ip"):
            if isinstance(values.get(name), str):
                values[name] = parse_rate(values[name])
        if "exempt_paths" in values:
            values["exempt_paths"] = tuple(values["exempt_paths"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one request: allowed or not, and the numbers for the ``RateLimit-*`` headers
    (of the most constrained limit that applied)."""

    allowed: bool
    limit: int
    remaining: int
    reset: float  # seconds until the limit is fully available again
    retry_after: float  # seconds until a request would be allowed (0 when allowed)


class Limiter(Protocol):
    """Checks and counts one request against several (key, rate) limits at once."""

    async def hit(self, limits: Sequence[tuple[str, Rate]]) -> Decision: ...

    async def aclose(self) -> None: ...


def _decide(
    allowed: bool, limits: Sequence[tuple[str, Rate]], waits: Sequence[float], retry: float
) -> Decision:
    """Headers from the per-limit backlog ``waits`` (TAT - now after counting, in seconds)."""
    best: tuple[int, int, float] | None = None
    for (_, rate), wait in zip(limits, waits, strict=True):
        remaining = max(0, math.floor((rate.window - wait) / rate.interval + 1e-9))
        if best is None or remaining < best[1]:
            best = (rate.limit, remaining, max(0.0, wait))
    assert best is not None
    limit, remaining, reset = best
    return Decision(allowed, limit, 0 if not allowed else remaining, reset, retry)


class MemoryLimiter:
    """GCRA in this process's memory: right for one process; several processes each count alone."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._max_keys = max_keys

    async def hit(self, limits: Sequence[tuple[str, Rate]]) -> Decision:
        now = self._clock()
        if len(self._tat) > self._max_keys:
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        new: list[float] = []
        retry = 0.0
        for key, rate in limits:
            tat = max(self._tat.get(key, now), now) + rate.interval
            retry = max(retry, tat - rate.window - now)
            new.append(tat)
        if retry > _EPSILON:  # float rounding must not refuse a request that exactly fits
            waits = [max(self._tat.get(k, now), now) - now for k, _ in limits]
            return _decide(False, limits, waits, retry)
        for (key, _), tat in zip(limits, new, strict=True):
            self._tat[key] = tat
        return _decide(True, limits, [tat - now for tat in new], 0.0)

    async def aclose(self) -> None:
        self._tat.clear()


# KEYS: one per limit. ARGV: pairs of (interval_ms, window_ms). Uses the Redis server's clock, so
# processes on machines with skewed clocks still agree. Returns {allowed, retry_ms, wait_ms...}
# with numbers as strings (Lua numbers would be truncated to integers).
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local n = #KEYS
local tats = {}
local retry = 0
for i = 1, n do
  local interval = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  tats[i] = tat
  local wait = tat + interval - window - now
  if wait > retry then retry = wait end
end
local out = {}
if retry > 0.000001 then
  out[1] = 0
  out[2] = tostring(retry)
  for i = 1, n do out[i + 2] = tostring(tats[i] - now) end
  return out
end
out[1] = 1
out[2] = '0'
for i = 1, n do
  local new_tat = tats[i] + tonumber(ARGV[2 * i - 1])
  redis.call('SET', KEYS[i], tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1)
  out[i + 2] = tostring(new_tat - now)
end
return out
"""


class RedisLimiter:
    """GCRA in Redis under ``datatier:rl:``: one atomic script per request, shared by every process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._redis: Redis | None = None
        self._script: Any = None

    async def hit(self, limits: Sequence[tuple[str, Rate]]) -> Decision:
        if self._redis is None:
            self._redis = Redis.from_url(self.url)
            self._script = self._redis.register_script(_GCRA)
        args: list[float] = []
        for _, rate in limits:
            args += [rate.interval * 1000, rate.window * 1000]
        reply = await self._script(keys=[KEY_PREFIX + key for key, _ in limits], args=args)
        allowed = int(reply[0]) == 1
        retry = float(reply[1]) / 1000
        waits = [float(w) / 1000 for w in reply[2:]]
        return _decide(allowed, limits, waits, retry)

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


class RateLimitMiddleware:
    """ASGI middleware: count each request against its identity's and its address's limits.

    Sits inside ``AuthMiddleware`` (it reads ``scope["state"]["identity"]``). Every counted
    response carries ``RateLimit-Limit``/``-Remaining``/``-Reset``; a refused one is a 429
    problem+json with ``Retry-After``.
    """

    def __init__(
        self,
        app: ASGIApp,
        settings: RateLimitSettings | ApiSettings,
        limiter: Limiter | None = None,
    ) -> None:
        if isinstance(settings, ApiSettings):
            if not isinstance(settings.rate_limit, RateLimitSettings):
                raise ConfigError("RateLimitMiddleware needs ApiSettings.rate_limit set")
            settings = settings.rate_limit
        self.app = app
        self.settings: RateLimitSettings = settings
        if limiter is None:
            limiter = RedisLimiter(settings.redis_url) if settings.redis_url else MemoryLimiter()
        self.limiter = limiter

    def client_ip(self, scope: Scope) -> str:
        """The client's address: the socket peer, or the entry ``trusted_proxies`` from the
        right of ``X-Forwarded-For`` (entries further left are whatever the client wrote)."""
        depth = self.settings.trusted_proxies
        if depth:
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
                    if hops:
                        return str(hops[max(0, len(hops) - depth)])
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing_send(send))
            return
        if scope["type"] != "http" or route_path(scope) in self.settings.exempt_paths:
            await self.app(scope, receive, send)
            return
        limits: list[tuple[str, Rate]] = []
        identity: Identity | None = scope.get("state", {}).get("identity")
        if self.settings.per_identity is not None and identity is not None and identity.key:
            limits.append(("id:" + identity.key, self.settings.per_identity))
        if self.settings.per_ip is not None:
            limits.append(("ip:" + self.client_ip(scope), self.settings.per_ip))
        if not limits:
            await self.app(scope, receive, send)
            return
        try:
            decision = await self.limiter.hit(limits)
        except (RedisError, OSError) as error:
            if self.settings.fail_open:
                await self.app(scope, receive, send)
                return
            problem = HttpProblem(
                503,
                "rate_limiter_unavailable",
                f"the rate limiter's store cannot be reached ({type(error).__name__})",
            )
            status, body = problem_for(problem)
            await send_json(send, status, body, [(b"retry-after", b"1")])
            return
        headers = [
            (b"ratelimit-limit", str(decision.limit).encode()),
            (b"ratelimit-remaining", str(decision.remaining).encode()),
            (b"ratelimit-reset", str(math.ceil(decision.reset)).encode()),
        ]
        if not decision.allowed:
            retry = str(max(1, math.ceil(decision.retry_after))).encode()
            problem = HttpProblem(
                429,
                "rate_limited",
                f"too many requests; retry in {retry.decode()} s",
                title="Too many requests",
            )
            status, body = problem_for(problem)
            await send_json(send, status, body, [*headers, (b"retry-after", retry)])
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _closing_send(self, send: Send) -> Send:
        async def closing(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.limiter.aclose()
            await send(message)

        return closing
