"""Workload ``schema.parse_validate``: the 300-model schema through datatier's front end, and Prisma's.

datatier is timed twice, parse + validate + IR (``validate_schema_text``) and parse
alone (``parse_schema_text``), so the report shows where the time goes. Prisma's
WebAssembly validator is the peer: ``validate`` is the like-for-like operation,
``get_dmmf`` adds building and serialising its data model.
"""

from __future__ import annotations

from bench._environment import REPO_ROOT
from bench._results import Measurement, Ratio, WorkloadResult, ratio
from bench._timing import Stats, peak_memory, time_calls
from bench.datagen.schema_gen import DATA_FILE, schema_stats
from bench.peers.prisma import PeerUnavailable, time_prisma
from bench.workloads import RunConfig, migrate
from datatier.schema import parse_schema_text, validate_schema_text

NAME = "schema.parse_validate"
TARGET_MS = 300.0

PARSE_VALIDATE = "parse+validate+IR"
PARSE = "parse only"


def run(config: RunConfig) -> WorkloadResult:
    """Time datatier on ``bench/data/schema_300.prisma``, then Prisma if Node can run it."""
    text = DATA_FILE.read_text(encoding="utf-8")
    path = str(DATA_FILE)
    validate_schema_text(text, path)  # an invalid schema would fail here, not mid-measurement

    def parse_validate() -> object:
        return validate_schema_text(text, path)

    def parse() -> object:
        return parse_schema_text(path, text)

    measurements = [
        Measurement(
            "datatier",
            PARSE_VALIDATE,
            time_calls(parse_validate, warmup=config.warmup, reps=config.reps),
            peak_memory(parse_validate),
        ),
        Measurement(
            "datatier",
            PARSE,
            time_calls(parse, warmup=config.warmup, reps=config.reps),
            peak_memory(parse),
        ),
    ]
    peer_measurements, peer_versions = _prisma(config)
    measurements += peer_measurements
    ratios: list[Ratio] = [
        r
        for r in (
            ratio(measurements, f"datatier {PARSE_VALIDATE}", "prisma validate"),
            ratio(measurements, f"datatier {PARSE_VALIDATE}", "prisma get_dmmf"),
        )
        if r is not None
    ]
    stats = schema_stats()
    return WorkloadResult(
        name=NAME,
        description="Parse and validate a generated 300-model Prisma schema into datatier's IR.",
        params={
            "schema": DATA_FILE.relative_to(REPO_ROOT).as_posix(),
            "bytes": len(text.encode()),
            "lines": text.count("\n"),
            "models": stats.models,
            "fields": stats.fields,
            "enums": stats.enums,
            "relations": stats.relations,
            "warmup": config.warmup,
            "reps": config.reps,
            "target_ms": TARGET_MS,
            "peer_versions": peer_versions,
        },
        measurements=measurements,
        ratios=ratios,
    )


def _prisma(config: RunConfig) -> tuple[list[Measurement], dict[str, str]]:
    try:
        timings = time_prisma(DATA_FILE, reps=config.reps, warmup=config.warmup)
    except PeerUnavailable as exc:
        return [Measurement("prisma", "validate", skipped=str(exc))], {}
    measurements = [
        Measurement("prisma", op, Stats.from_ns(samples))
        for op, samples in timings.samples_ns.items()
    ]
    return measurements, {"@prisma/prisma-schema-wasm": timings.version, "node": timings.node}


# The family's workloads, in the order they run (``migrate dev`` needs PostgreSQL).
WORKLOADS = {NAME: run, migrate.NAME: migrate.run}
