"""Where peers that are not datatier's dependencies live: ``bench/.peers``, outside the project venv.

``python -m bench.peers.install`` fills it with ``pip install --target``; ``activate()``
appends it to ``sys.path`` (after the venv, so the venv's own packages always win).
"""

from __future__ import annotations

import sys
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent.parent / ".peers"

# greenlet: SQLAlchemy's asyncio extension needs it and datatier does not; psycopg-pool gives
# the psycopg peer its pool; matplotlib draws the report's charts.
REQUIREMENTS = (
    "greenlet==3.5.6",
    "tortoise-orm==1.1.9",
    "piccolo[postgres]==1.38.0",
    "psycopg-pool==3.3.3",
    "matplotlib==3.11.2",
)

INSTALL_HINT = "run `.venv/bin/python -m bench.peers.install`"
STAMP = PEERS_DIR / ".requirements"  # what the last successful install installed


def up_to_date() -> bool:
    """Whether ``bench/.peers`` holds exactly ``REQUIREMENTS`` (per the stamp of the last install)."""
    try:
        return STAMP.read_text(encoding="utf-8").split() == list(REQUIREMENTS)
    except OSError:
        return False


def mark_installed() -> None:
    """Record that ``REQUIREMENTS`` are installed."""
    STAMP.write_text("\n".join(REQUIREMENTS) + "\n", encoding="utf-8")


def activate() -> None:
    """Make the packages in ``bench/.peers`` importable, if it exists."""
    path = str(PEERS_DIR)
    if PEERS_DIR.is_dir() and path not in sys.path:
        sys.path.append(path)
