"""``python -m bench.peers.install``: pip-install the peers that are not datatier dependencies into ``bench/.peers``."""

from __future__ import annotations

import subprocess
import sys

from bench.http import install as http_install
from bench.peers._site import PEERS_DIR, REQUIREMENTS, mark_installed


def main() -> int:
    """Install ``REQUIREMENTS`` with ``pip install --target``, then the HTTP peers; the first failure's code."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--upgrade"]
    command += ["--target", str(PEERS_DIR), *REQUIREMENTS]
    print(" ".join(command), file=sys.stderr)
    code = subprocess.run(command, check=False).returncode
    if code == 0:
        mark_installed()
    return code or http_install.main()


if __name__ == "__main__":
    raise SystemExit(main())
