"""Time ``migrate dev`` on a large schema with one change (PostgreSQL).

    .venv/bin/python -m bench.migrate_dev [--models 100] [--repeat 3] [--server URL]

The schema is ``bench/datagen/schema_gen.py``'s generator at ``--models`` models (fixed
seed). A fresh database gets the first migration (timed as ``init``); then one optional
field is added to one model and ``migrate dev`` runs again (timed as ``one change``):
apply pending, replay the history into a temporary shadow database, compare it with the
database (drift), introspect it, plan, write the folder and apply it. Each repetition
adds another field. ``--server`` is a PostgreSQL server whose role may create databases
(default ``DATATIER_TEST_POSTGRES_URL`` or ``postgresql://postgres@127.0.0.1:5432/postgres``);
the benchmark's database is dropped afterwards. The target is under 5 s per change.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from bench.datagen.schema_gen import render_schema
from datatier.migrate import dev, open_project

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _add_field(text: str, number: int) -> str:
    """The schema with one more optional field in its first model."""
    head, sep, rest = text.partition("\nmodel ")
    name, brace, body = rest.partition("{\n")
    return f"{head}{sep}{name}{brace}  benchNote{number} String?\n{body}"


def run(models: int, repeat: int, server: str) -> dict[str, list[float]]:
    """Seconds per ``migrate dev``: the initial migration, then each one-field change."""
    name = f"datatier_bench_migrate_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    times: dict[str, list[float]] = {"init": [], "one change": []}
    try:
        with tempfile.TemporaryDirectory(prefix="datatier_bench_migrate_") as folder:
            root = Path(folder)
            schema = root / "schema.prisma"
            text = render_schema(model_count=models)
            schema.write_text(text)
            url = _with_database(server, name)
            env = {k: v for k, v in os.environ.items() if k != "SHADOW_DATABASE_URL"}
            start = time.perf_counter()
            dev(open_project(root, env, schema=str(schema), url=url), "init", seed=False)
            times["init"].append(time.perf_counter() - start)
            for number in range(repeat):
                text = _add_field(text, number)
                schema.write_text(text)
                start = time.perf_counter()
                project = open_project(root, env, schema=str(schema), url=url)
                report = dev(project, f"change_{number}", seed=False)
                times["one change"].append(time.perf_counter() - start)
                assert report.folder is not None and len(report.summary) == 1, report.summary
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--server", default=os.environ.get("DATATIER_TEST_POSTGRES_URL", DEFAULT_SERVER)
    )
    args = parser.parse_args(argv)
    times = run(args.models, args.repeat, args.server)
    print(f"migrate dev, {args.models}-model schema, PostgreSQL:")
    for label, values in times.items():
        median = statistics.median(values)
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {label}: median {median:.2f} s ({shown})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
