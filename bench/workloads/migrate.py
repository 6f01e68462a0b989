"""Workload ``schema.migrate_dev``: ``migrate dev`` on a 100-model schema with one change (PostgreSQL).

``bench.migrate_dev.run`` on the run's PostgreSQL server (a database of its own, dropped
afterwards): the first migration of the generated 100-model schema, then repeated
one-field changes, each a whole ``migrate dev`` (apply pending, replay the history into a
shadow database, drift check, introspect, plan, write the folder, apply). No peer: Prisma's
migration engine is a native binary that no registry here provides.
"""

from __future__ import annotations

from bench._results import Measurement, WorkloadResult
from bench._server import ServerUnavailable, postgres_server
from bench._timing import Stats
from bench.migrate_dev import run as migrate_dev
from bench.workloads import RunConfig

NAME = "schema.migrate_dev"
MODELS = 100
TARGET_MS = 5000.0
CHANGE = "one change"


def run(config: RunConfig) -> WorkloadResult:
    """Time ``migrate dev``: ``init`` once, then ``reps`` (at most 5) one-field changes."""
    repeat = 1 if config.quick else min(config.reps, 5)
    params: dict[str, object] = {"models": MODELS, "changes": repeat, "target_ms": TARGET_MS}
    try:
        server = config.resources.get("postgres", postgres_server)
    except ServerUnavailable as exc:
        skipped = [Measurement("datatier", CHANGE, skipped=str(exc))]
        return WorkloadResult(NAME, _DESCRIPTION, params, skipped)
    params["server"] = server.describe()
    times = migrate_dev(MODELS, repeat, server.url)
    measurements = [
        Measurement("datatier", CHANGE, _stats(times[CHANGE])),
        Measurement("datatier", "init (first migration)", _stats(times["init"])),
    ]
    return WorkloadResult(NAME, _DESCRIPTION, params, measurements)


_DESCRIPTION = (
    f"`migrate dev` on a generated {MODELS}-model schema: the first migration, then one "
    "optional field added per change (PostgreSQL)."
)


def _stats(seconds: list[float]) -> Stats:
    return Stats.from_ns([round(s * 1e9) for s in seconds])
