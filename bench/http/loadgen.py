"""Load generation from a separate process: ``wrk`` when it is installed, else an aiohttp generator.

Both take a list of requests, cycle through them on N keep-alive connections for a
while, and report the same ``LoadResult``: requests answered with a status below
400, failures (other statuses, socket errors), the measured seconds and the latency
percentiles. The aiohttp generator is this module run as ``python -m bench.http.loadgen``:
it reads one JSON job per line on stdin and answers one JSON line per job, so one
process serves a whole run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from bench.http.contract import Request

LOADGEN_ENV = "BENCH_HTTP_LOADGEN"  # "python" forces the aiohttp generator even where wrk exists


@dataclass(frozen=True)
class LoadResult:
    """What one timed load run measured; latencies in milliseconds."""

    ok: int
    failed: int
    seconds: float
    min_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    first_failure: str = ""
    sent: int = 0  # requests sent; more than ok + failed when wrk stopped with some in flight

    @property
    def per_second(self) -> float:
        """Successful requests per second."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0


class LoadGenerator(Protocol):
    """Something that can put load on a server; ``name`` says which tool it is."""

    name: str

    def run(
        self, base_url: str, requests: Sequence[Request], connections: int, seconds: float
    ) -> LoadResult: ...

    def close(self) -> None: ...


def open_load_generator() -> LoadGenerator:
    """``wrk`` if it is on PATH (and ``$BENCH_HTTP_LOADGEN`` is not ``python``), else the aiohttp process."""
    wrk = shutil.which("wrk")
    if wrk is not None and os.environ.get(LOADGEN_ENV, "") != "python":
        return Wrk(wrk)
    return PythonLoadGenerator()


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values (0 without values)."""
    if not ordered:
        return 0.0
    index = max(0, min(len(ordered) - 1, int(fraction * len(ordered) + 0.999999) - 1))
    return ordered[index]


# --- wrk ---------------------------------------------------------------------------------------

# Each wrk thread has its own Lua state: ``setup`` keeps the threads so ``done`` can add up
# the requests they sent (wrk itself counts only the completed ones).
_WRK_DONE = """
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end
done = function(summary, latency, requests)
  local e = summary.errors
  local sent = 0
  for _, thread in ipairs(threads) do
    sent = sent + thread:get("i")
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"min":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d,"sent":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, sent))
end
"""


def _lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def wrk_script(requests: Sequence[Request]) -> str:
    """A wrk Lua script that cycles through ``requests`` and prints a JSON summary line.

    The requests are formatted in ``init``: only then does ``wrk.format`` know the Host
    header (HTTP/1.1 servers such as Node's refuse a request without one).
    """
    lines = ["local r = {}", "init = function(args)"]
    for request in requests:
        method, path = _lua_string(request.method), _lua_string(request.path)
        body = request.body_bytes()
        headers = dict(request.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        table = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
        payload = "nil" if body is None else _lua_string(body.decode())
        lines.append(f"  r[#r + 1] = wrk.format({method}, {path}, {{{table}}}, {payload})")
    lines += [
        "end",
        "i = 0",  # a global: done() reads it through thread:get
        "request = function()",
        "  i = i + 1",
        "  return r[(i % #r) + 1]",
        "end",
        _WRK_DONE,
    ]
    return "\n".join(lines)


class Wrk:
    """``wrk -t1 -cN -dS`` with a generated Lua script; one wrk process per run."""

    def __init__(self, path: str) -> None:
        self._path = path
        version = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
        # "wrk debian/4.1.0-3+b2 [epoll] Copyright ...": the name and version, one thread
        self.name = " ".join((version.stdout + version.stderr).split()[:2]) + ", 1 thread"

    def run(
        self, base_url: str, requests: Sequence[Request], connections: int, seconds: float
    ) -> LoadResult:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(wrk_script(requests))
        try:
            done = subprocess.run(
                [
                    self._path,
                    "-t1",
                    f"-c{connections}",
                    f"-d{max(1, round(seconds))}s",
                    "--timeout",
                    "30s",
                    "-s",
                    script.name,
                    base_url,
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=seconds + 60,
            )
        finally:
            Path(script.name).unlink()
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
        if done.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        raw = json.loads(line.removeprefix("BENCH_RESULT "))
        errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
        failed = raw["status"] + errors
        return LoadResult(
            ok=raw["requests"] - raw["status"],
            failed=failed,
            seconds=raw["duration_us"] / 1e6,
            min_ms=raw["min"] / 1e3,
            p50_ms=raw["p50"] / 1e3,
            p95_ms=raw["p95"] / 1e3,
            p99_ms=raw["p99"] / 1e3,
            max_ms=raw["max"] / 1e3,
            first_failure=f"{raw['status']} responses with status >= 400" if failed else "",
            sent=raw["sent"],
        )

    def close(self) -> None:
        pass


# --- the aiohttp generator --------------------------------------------------------------------


class PythonLoadGenerator:
    """The aiohttp generator in its own process (``python -m bench.http.loadgen``), one job at a time."""

    name = "aiohttp load generator"

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.http.loadgen"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )

    def run(
        self, base_url: str, requests: Sequence[Request], connections: int, seconds: float
    ) -> LoadResult:
        stdin, stdout = self._pipes()
        job = {
            "base_url": base_url,
            "requests": [[r.method, r.path, r.body, dict(r.headers)] for r in requests],
            "connections": connections,
            "seconds": seconds,
        }
        stdin.write(json.dumps(job) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the load generator exited with {self._process.wait()}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the load generator failed: {answer['error']}")
        return LoadResult(**answer)

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        stdin, stdout = self._process.stdin, self._process.stdout
        if stdin is None or stdout is None:
            raise RuntimeError("the load generator's pipes are closed")
        return stdin, stdout

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


async def generate_load(job: dict[str, Any]) -> LoadResult:
    """Run one job: ``connections`` workers share one cycle of requests until ``seconds`` pass.

    A worker starts no request after the deadline but finishes the one it has, so every
    request sent is counted.
    """
    import aiohttp

    base = job["base_url"]
    json_body = {"Content-Type": "application/json"}
    prepared = [
        (
            method,
            base + path,
            None if body is None else json.dumps(body).encode(),
            {**headers, **(json_body if body is not None else {})} or None,
        )
        for method, path, body, headers in job["requests"]
    ]
    turn = itertools.count()
    latencies: list[float] = []
    failures: list[str] = []
    clock = time.perf_counter
    connector = aiohttp.TCPConnector(limit=job["connections"], force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(deadline: float) -> None:
            while clock() < deadline:
                method, url, body, headers = prepared[next(turn) % len(prepared)]
                begin = clock()
                try:
                    async with session.request(method, url, data=body, headers=headers) as r:
                        await r.read()
                        status = r.status
                except aiohttp.ClientError as exc:
                    failures.append(f"{method} {url}: {type(exc).__name__}: {exc}")
                    continue
                if status >= 400:
                    failures.append(f"{method} {url}: status {status}")
                else:
                    latencies.append((clock() - begin) * 1e3)

        started = clock()
        await asyncio.gather(*(worker(started + job["seconds"]) for _ in range(job["connections"])))
        elapsed = clock() - started
    latencies.sort()
    return LoadResult(
        ok=len(latencies),
        failed=len(failures),
        seconds=elapsed,
        min_ms=latencies[0] if latencies else 0.0,
        p50_ms=_percentile(latencies, 0.50),
        p95_ms=_percentile(latencies, 0.95),
        p99_ms=_percentile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else 0.0,
        first_failure=failures[0] if failures else "",
        sent=len(latencies) + len(failures),
    )


def main() -> int:
    """Serve jobs from stdin until it closes."""
    import uvloop

    for line in sys.stdin:
        try:
            result: dict[str, Any] = asdict(uvloop.run(generate_load(json.loads(line))))
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
