"""``python -m bench.peers.install``: pip-install the peers that are not datatier dependencies into ``bench/.peers``.

Also the HTTP peers (``bench.http.install``), the load generator ``wrk`` (the HTTP
workloads fall back to a Python load generator without it, which takes a large share of a
small machine's CPU away from the servers it measures) and Prisma's schema validator, which
the prisma-oracle tools beside the project install into their cache on first use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from bench._environment import REPO_ROOT
from bench.http import install as http_install
from bench.peers._site import PEERS_DIR, REQUIREMENTS, mark_installed
from bench.peers.prisma import PACKAGE, oracle_home

PRISMA_ORACLE = REPO_ROOT.parent / "shared" / "tools" / "prisma-oracle" / "prisma-dmmf"


def main() -> int:
    """Install ``REQUIREMENTS`` with ``pip install --target``, then the HTTP peers; the first failure's code."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--upgrade"]
    command += ["--target", str(PEERS_DIR), *REQUIREMENTS]
    print(" ".join(command), file=sys.stderr)
    code = subprocess.run(command, check=False).returncode
    if code == 0:
        mark_installed()
    install_tools()
    return code or http_install.main()


def install_tools() -> None:
    """What the run needs beside the Python and Node peers; each says so when it cannot."""
    install_wrk()
    install_prisma_validator()


def install_prisma_validator() -> None:
    """Run the prisma-oracle's ``prisma-dmmf`` once, which installs its npm packages."""
    if (oracle_home() / PACKAGE / "package.json").is_file():
        return
    if not PRISMA_ORACLE.is_file() or shutil.which("node") is None:
        print(f"Prisma's validator cannot be installed ({PRISMA_ORACLE} or node is missing); "
              "schema.parse_validate will skip Prisma", file=sys.stderr)  # fmt: skip
        return
    print(f"installing Prisma's validator: {PRISMA_ORACLE}", file=sys.stderr, flush=True)
    schema = REPO_ROOT / "datatier" / "demo" / "schema.prisma"
    subprocess.run([str(PRISMA_ORACLE), str(schema)], stdout=subprocess.DEVNULL, check=False)


def install_wrk() -> None:
    """``apt-get install wrk`` when it is missing and this is a Debian system run as root.

    Anything else (no apt, not root, no network) leaves it missing with a message: the HTTP
    workloads then use the Python load generator and the report says which one ran.
    """
    if shutil.which("wrk") is not None:
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        print("wrk is missing (Debian: apt-get install wrk); the HTTP workloads will use the "
              "Python load generator", file=sys.stderr)  # fmt: skip
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt_get(*args: str) -> int:
        done = subprocess.run([apt, *args], env=env, stdout=subprocess.DEVNULL, check=False)
        return done.returncode

    print("installing wrk: apt-get install -y wrk", file=sys.stderr, flush=True)
    if apt_get("install", "-y", "-q", "wrk") != 0:
        apt_get("update", "-q")
        apt_get("install", "-y", "-q", "wrk")
    if shutil.which("wrk") is None:
        print("wrk could not be installed; the HTTP workloads will use the Python load "
              "generator", file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
