"""The running HTTP peers of one bench run: started once, shared by every ``http.*`` workload, stopped at the end.

``fleet(url)`` starts every peer that can run here (one server process each) and one
load generator, and yields them as a ``Fleet``; peers that cannot run are kept with
the reason. ``send`` makes one request from the bench process
(for result checks, never for load).
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from bench._environment import REPO_ROOT
from bench.http.contract import Request
from bench.http.loadgen import LoadGenerator, open_load_generator
from bench.http.peers import PEERS, Peer, PeerUnavailable
from bench.http.servers import ServerFailed, ServerProcess

PEERS_ENV = "BENCH_HTTP_PEERS"  # comma-separated peer keys: run only these (tests, quick looks)
LOG_DIR = REPO_ROOT / "bench" / ".peers" / "logs"


@dataclass
class Fleet:
    """Started servers by peer key, the reasons of those not started, and the shared tools."""

    url: str
    peers: list[Peer]
    servers: dict[str, ServerProcess]
    skipped: dict[str, str]
    loadgen: LoadGenerator
    versions: dict[str, dict[str, str]]
    described: bool = False  # whether a workload's result has carried the versions yet


def chosen_peers(env: dict[str, str] | None = None) -> list[Peer]:
    """Every peer, or those named in ``$BENCH_HTTP_PEERS``; an unknown name is an error."""
    env = dict(os.environ) if env is None else env
    wanted = [key.strip() for key in env.get(PEERS_ENV, "").split(",") if key.strip()]
    known = {peer.key: peer for peer in PEERS}
    unknown = [key for key in wanted if key not in known]
    if unknown:
        raise ValueError(
            f"{PEERS_ENV} names unknown peers {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return [known[key] for key in wanted] if wanted else list(PEERS)


@contextmanager
def fleet(url: str) -> Iterator[Fleet]:
    """Start the chosen peers against ``url``; stop everything when the block ends."""
    peers = chosen_peers()
    with ExitStack() as stack:
        servers: dict[str, ServerProcess] = {}
        skipped: dict[str, str] = {}
        for peer in peers:
            if peer.shares is not None and peer.shares in servers:
                servers[peer.key] = servers[peer.shares]  # stopped by its owner's callback
                continue
            if peer.shares is not None and peer.shares in skipped:
                skipped[peer.key] = skipped[peer.shares]
                continue
            try:
                print(f"  starting {peer.name}", file=sys.stderr, flush=True)
                server = peer.start(url, LOG_DIR)
            except (PeerUnavailable, ServerFailed, OSError) as exc:
                skipped[peer.key] = str(exc)
                continue
            stack.callback(server.stop)
            servers[peer.key] = server
        loadgen = open_load_generator()
        stack.callback(loadgen.close)
        versions = {peer.key: peer.versions() for peer in peers}
        yield Fleet(url, peers, servers, skipped, loadgen, versions)


def send(base_url: str, request: Request, timeout: float = 30.0) -> tuple[int, Any]:
    """One request; the status and the decoded JSON body (None when the body is not JSON)."""
    body = request.body_bytes()
    headers = dict(request.headers)
    if body is not None:
        headers["Content-Type"] = "application/json"
    http = urllib.request.Request(
        base_url + request.path, data=body, headers=headers, method=request.method
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as response:
            status, raw, got = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, raw, got = exc.code, exc.read(), exc.headers
    if got.get("Content-Encoding") == "gzip":  # asked for by a request's own headers
        raw = gzip.decompress(raw)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None
