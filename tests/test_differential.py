"""Differential test: random query documents answered by Prisma Client 7 and by datatier's client
on the same database (SQLite and PostgreSQL) must give the same results.

The blog dataset (tests/differential/blog.py) is written through Prisma Client; then every
document of the run goes through Prisma in the same Node process (one process per database),
and through datatier. Documents come from a seeded ``random.Random`` (the same seed every run,
so CI is reproducible): ``DATATIER_DIFF_SEED`` changes it, ``DATATIER_DIFF_EXAMPLES`` sets
the number of documents per database (default 500; raise it for a longer hunt).

A kind of document known to differ can be left out of the random run (``EXCLUDED``); it then
names a test below with one minimal example. The examples below were such differences once.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from datatier import Client
from datatier.migrate._push import push
from datatier.schema import load_schema
from tests.differential.blog import calls_to_load
from tests.differential.compare import canonical
from tests.differential.documents import Document, DocumentGenerator
from tests.differential.prisma import prisma_schema_text, require_prisma, run_prisma
from tests.differential.values import from_prisma
from tests.harness.backends import CAPABILITIES, Backend
from tests.harness.golden import REPO

DEMO = REPO / "datatier" / "demo" / "schema.prisma"
BOTH = ("sqlite", "postgresql")
EXAMPLES = int(os.environ.get("DATATIER_DIFF_EXAMPLES", "500"))
SEED = int(os.environ.get("DATATIER_DIFF_SEED", "20240601"))

# Features the random run leaves out: feature -> (the databases where it differs, the test
# below that shows one minimal example).
EXCLUDED: dict[str, tuple[tuple[str, ...], str]] = {
    # none at the moment: every feature the generator knows answers as Prisma does
}

_METHODS = {
    "findMany": "find_many",
    "findFirst": "find_first",
    "findUnique": "find_unique",
    "count": "count",
    "aggregate": "aggregate",
    "groupBy": "group_by",
}


@dataclass(frozen=True, slots=True)
class Mismatch:
    document: Document
    prisma: Any
    datatier: Any

    def __str__(self) -> str:
        def show(value: Any) -> str:
            text = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
            return text if len(text) < 1500 else text[:1500] + "..."

        return (
            f"{self.document.model}.{self.document.op}({show(self.document.args)})\n"
            f"  features: {sorted(self.document.features)}\n"
            f"  prisma:   {show(self.prisma)}\n"
            f"  datatier: {show(self.datatier)}"
        )


@dataclass(frozen=True, slots=True)
class Run:
    mismatches: list[Mismatch]
    prisma_errors: int


async def differences(backend: Backend, tmp_path: Path, documents: list[Document]) -> Run:
    """Load the dataset, answer ``documents`` with Prisma (one process) and datatier, compare."""
    require_prisma()
    text = prisma_schema_text(DEMO.read_text(), backend.provider)
    schema_file = tmp_path / "schema.prisma"
    schema_file.write_text(text)
    mismatches: list[Mismatch] = []
    prisma_errors = 0
    async with Client(schema_file, backend.url) as db:
        schema = db.schema
        push(schema, backend.url)
        load = calls_to_load()
        outcomes = run_prisma(text, backend.url, load + [d.call() for d in documents], tmp_path)
        for outcome in outcomes[: len(load)]:
            outcome.value()
        for document, outcome in zip(documents, outcomes[len(load) :], strict=True):
            method = getattr(getattr(db, document.call()["model"]), _METHODS[document.op])
            kwargs = {("order_by" if k == "orderBy" else k): v for k, v in document.args.items()}
            failed: str | None = None
            try:
                ours: Any = canonical(schema, document, await method(**kwargs))
            except Exception as error:
                failed = f"{type(error).__name__}: {error}"
                ours = {"error": failed}
            if outcome.error is not None:
                prisma_errors += 1
                if failed is None:
                    mismatches.append(Mismatch(document, {"error": outcome.error}, ours))
                continue
            answer = outcome.result
            if document.op != "count":
                answer = from_prisma(schema, document.model, answer)
            theirs = canonical(schema, document, answer)
            if ours != theirs:
                mismatches.append(Mismatch(document, theirs, ours))
    return Run(mismatches, prisma_errors)


def generate(provider: str, count: int, seed: int) -> list[Document]:
    excluded = {feature for feature, (providers, _) in EXCLUDED.items() if provider in providers}
    generator = DocumentGenerator(random.Random(seed), load_schema(DEMO), provider, excluded)
    return [generator.document() for _ in range(count)]


async def test_datatier_answers_random_documents_as_prisma_does(
    sql_backend: Backend, tmp_path: Path
) -> None:
    documents = generate(sql_backend.provider, EXAMPLES, SEED)
    run = await differences(sql_backend, tmp_path, documents)
    # The generator makes valid documents; a few Prisma rejects (both sides must then reject).
    assert run.prisma_errors <= len(documents) // 50, (
        f"{run.prisma_errors} documents Prisma rejected"
    )
    report = "\n".join(str(m) for m in run.mismatches[:20])
    assert not run.mismatches, (
        f"{len(run.mismatches)} of {len(documents)} documents differ:\n{report}"
    )


# -- one minimal document per difference found once (now regression tests; an EXCLUDED feature names its own) --

_KNOWN_CALLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "test_count_select_per_field": ("User", "count", {"select": {"_all": True, "name": True}}),
    "test_group_by_negative_take": (
        "Tag",
        "groupBy",
        {"by": ["name"], "orderBy": {"name": "asc"}, "take": -2},
    ),
    "test_json_path_as_string_on_sqlite": (
        "UserProfile",
        "findMany",
        {
            "where": {"preferences": {"path": "$.theme", "equals": "dark"}},
            "orderBy": {"userId": "asc"},
        },
    ),
    "test_like_wildcards_in_string_filters": (
        "Tag",
        "findMany",
        {"where": {"name": {"contains": "%"}}},
    ),
    "test_empty_filter_inside_or_and_not": ("Tag", "findMany", {"where": {"OR": [{}]}}),
    "test_every_with_empty_filter": ("Tag", "findMany", {"where": {"posts": {"every": {}}}}),
    "test_empty_or_inside_and": (
        "User",
        "findMany",
        {"where": {"AND": [{"OR": []}, {"id": {"not": "u01"}}]}, "select": {"id": True}},
    ),
    "test_not_of_not": ("Comment", "count", {"where": {"parentId": {"not": {"not": None}}}}),
    "test_chain_of_nots_ending_in_a_value": (
        "Comment",
        "count",
        {"where": {"id": {"not": {"not": {"not": 1}}}}},
    ),
    "test_not_with_several_conditions": (
        "UserSession",
        "count",
        {"where": {"token": {"not": {"lt": "tok-e", "gt": "tok-b"}}}},
    ),
    "test_negated_to_one_filter_on_a_null_column": (
        "User",
        "findMany",
        {"where": {"profile": {"isNot": {"bio": "zzz"}}}, "select": {"id": True}},
    ),
    "test_cursor_with_negative_take": (
        "Tag",
        "findMany",
        {"orderBy": {"id": "asc"}, "take": -2, "cursor": {"id": 3}},
    ),
    "test_cursor_ordered_by_nullable_field": (
        "User",
        "findMany",
        {
            "orderBy": [{"name": {"sort": "asc", "nulls": "last"}}, {"id": "asc"}],
            "cursor": {"id": "u01"},
            "select": {"id": True},
        },
    ),
    "test_cursor_ordered_through_the_back_side_of_an_optional_relation": (
        "User",
        "findMany",
        {
            "cursor": {"id": "u08"},
            "orderBy": [{"role": "asc"}, {"profile": {"userId": "asc"}}, {"id": "desc"}],
        },
    ),
    "test_cursor_ordered_through_an_optional_relation_holding_the_key": (
        "Comment",
        "findMany",
        {
            "orderBy": [{"parent": {"authorId": "desc"}}, {"id": "asc"}],
            "take": 3,
            "cursor": {"id": 4},
        },
    ),
    "test_distinct_with_cursor_outside_the_filter": (
        "Tag",
        "findMany",
        {
            "where": {"name": {"gte": "unused"}},
            "cursor": {"id": 1},
            "orderBy": {"slug": "asc"},
            "distinct": ["name"],
        },
    ),
}
KNOWN = {name: Document(*call, features=frozenset()) for name, call in _KNOWN_CALLS.items()}
_known_results: dict[str, dict[str, Mismatch | None]] = {}


async def check_known(name: str, backend: Backend, tmp_path: Path) -> None:
    """Assert that the known example ``name`` answers alike; all of them run in one Prisma process per database."""
    if backend.provider not in _known_results:
        run = await differences(backend, tmp_path, list(KNOWN.values()))
        found = {id(m.document): m for m in run.mismatches}
        _known_results[backend.provider] = {n: found.get(id(d)) for n, d in KNOWN.items()}
    mismatch = _known_results[backend.provider][name]
    assert mismatch is None, str(mismatch)


def test_known_examples_are_the_excluded_features() -> None:
    assert {test for _, test in EXCLUDED.values()} <= KNOWN.keys()


async def test_count_select_per_field(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_count_select_per_field", sql_backend, tmp_path)


async def test_group_by_negative_take(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_group_by_negative_take", sql_backend, tmp_path)


async def test_json_path_as_string_on_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    backend = Backend("sqlite", sqlite_url, CAPABILITIES["sqlite"])
    await check_known("test_json_path_as_string_on_sqlite", backend, tmp_path)


async def test_like_wildcards_in_string_filters(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_like_wildcards_in_string_filters", sql_backend, tmp_path)


async def test_empty_filter_inside_or_and_not(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_empty_filter_inside_or_and_not", sql_backend, tmp_path)


async def test_every_with_empty_filter(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_every_with_empty_filter", sql_backend, tmp_path)


async def test_empty_or_inside_and(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_empty_or_inside_and", sql_backend, tmp_path)


async def test_chain_of_nots_ending_in_a_value(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_chain_of_nots_ending_in_a_value", sql_backend, tmp_path)


async def test_cursor_ordered_through_the_back_side_of_an_optional_relation(
    sql_backend: Backend, tmp_path: Path
) -> None:
    await check_known(
        "test_cursor_ordered_through_the_back_side_of_an_optional_relation", sql_backend, tmp_path
    )


async def test_cursor_ordered_through_an_optional_relation_holding_the_key(
    sql_backend: Backend, tmp_path: Path
) -> None:
    await check_known(
        "test_cursor_ordered_through_an_optional_relation_holding_the_key", sql_backend, tmp_path
    )


async def test_not_of_not(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_not_of_not", sql_backend, tmp_path)


async def test_not_with_several_conditions(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_not_with_several_conditions", sql_backend, tmp_path)


async def test_negated_to_one_filter_on_a_null_column(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_negated_to_one_filter_on_a_null_column", sql_backend, tmp_path)


async def test_cursor_with_negative_take(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_cursor_with_negative_take", sql_backend, tmp_path)


async def test_cursor_ordered_by_nullable_field(sql_backend: Backend, tmp_path: Path) -> None:
    await check_known("test_cursor_ordered_by_nullable_field", sql_backend, tmp_path)


async def test_distinct_with_cursor_outside_the_filter(
    sql_backend: Backend, tmp_path: Path
) -> None:
    await check_known("test_distinct_with_cursor_outside_the_filter", sql_backend, tmp_path)
