"""How the Python peers run: ``--port P --url URL``, uvicorn with uvloop and httptools, one process."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

POOL_SIZE_ENV = "BENCH_HTTP_POOL_SIZE"
DEFAULT_POOL_SIZE = 10


def pool_size() -> int:
    """Database connections per server process, the same for every peer (``$BENCH_HTTP_POOL_SIZE``)."""
    return int(os.environ.get(POOL_SIZE_ENV, DEFAULT_POOL_SIZE))


def serve(make_app: Callable[[str], Any]) -> None:
    """Parse ``--port`` and ``--url``, build the app for the URL and serve it on 127.0.0.1 until stopped."""
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--url", required=True, help="PostgreSQL URL of the blog database")
    args = parser.parse_args()
    uvicorn.run(
        make_app(args.url),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        workers=1,
    )
