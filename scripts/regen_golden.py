#!/usr/bin/env python3
"""Regenerate the conformance goldens from Prisma's own engines (the "oracle").

For every schema under ``tests/conformance/schemas/`` and ``<shared>/schemas/*.prisma``
this runs the commands in ``<shared>/tools/prisma-oracle/`` and writes
``tests/conformance/golden/<group>/<stem>.<kind>``:

* ``dmmf.json``      Prisma's DMMF (groups valid, valid_multi, format, legacy, shared)
* ``errors.txt``     Prisma's validation errors (stderr) for rejected schemas
                     (group invalid, and legacy schemas Prisma 7 rejects as written)
* ``format.prisma``  ``prisma format`` output (single-file schemas of every group
                     except invalid); multi-file schemas get one per file in
                     ``<stem>/<relative path without .prisma>.format.prisma``
* ``<provider>.sql`` migration SQL from empty, for the declared provider and, when the
                     schema is portable, for the other of postgresql/sqlite

plus ``golden/MANIFEST.json``. Groups:

* ``valid/``        must be accepted;  ``invalid/`` must be rejected
* ``format/``       badly laid-out valid schemas (formatter inputs)
* ``valid_multi/<name>/``  a schema split over several ``.prisma`` files; the oracle
                     reads one file only, so the files are concatenated (sorted by
                     relative path) into ``<name>.prisma`` for dmmf and ddl
* ``legacy/``       schemas written for older Prisma releases; Prisma 7 may reject
                     retired preview features ("metrics"): its errors are kept and the
                     DMMF/DDL come from a copy with those features removed
* ``shared``        ``<shared>/schemas/*.prisma``, treated as valid

Paths in oracle output are relativized (schemas are passed by base name from their
own folder; any remaining repo/shared/temp/home path is replaced by a placeholder).

Exit status is 1 when a valid schema is rejected, an invalid one is accepted, or an
expected DDL/format output could not be produced.

Environment: ``DATATIER_SHARED_DIR`` (default ``<repo>/../shared``),
``DATATIER_ORACLE_DIR`` (default ``<shared>/tools/prisma-oracle``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = REPO / "tests" / "conformance"
SCHEMAS = CONFORMANCE / "schemas"
GOLDEN = CONFORMANCE / "golden"
DDL_PROVIDERS = ("postgresql", "sqlite")
SCALAR_TYPES = (
    "String",
    "Boolean",
    "Int",
    "BigInt",
    "Float",
    "Decimal",
    "DateTime",
    "Json",
    "Bytes",
)
WORKERS = 4
TIMEOUT_S = 180

PROVIDER_RE = re.compile(r'^\s*provider\s*=\s*"([^"]*)"', re.MULTILINE)
DATASOURCE_RE = re.compile(r"^\s*datasource\s+\w+\s*\{(.*?)^\s*\}", re.MULTILINE | re.DOTALL)
ENUM_RE = re.compile(r"^\s*enum\s+(\w+)\s*\{", re.MULTILINE)
LIST_FIELD_RE = re.compile(r"^\s*\w+\s+(\w+)\[\]", re.MULTILINE)
RETIRED_RE = re.compile(r'The preview feature "([^"]+)" is not known')
PREVIEW_RE = re.compile(r"^(\s*previewFeatures\s*=\s*)\[(.*?)\]", re.MULTILINE)


def shared_dir() -> Path:
    env = os.environ.get("DATATIER_SHARED_DIR")
    return Path(env).resolve() if env else (REPO.parent / "shared").resolve()


def oracle_dir() -> Path:
    env = os.environ.get("DATATIER_ORACLE_DIR")
    return Path(env).resolve() if env else shared_dir() / "tools" / "prisma-oracle"


@dataclass
class Schema:
    group: str
    stem: str
    source: Path  # file, or folder for valid_multi
    files: list[Path]  # the .prisma files (one, or several for valid_multi)

    @property
    def expect_valid(self) -> bool:
        return self.group != "invalid"


@dataclass
class Result:
    schema: Schema
    provider: str | None = None
    portable: bool = False
    ddl: list[str] = field(default_factory=list)
    exit_code: int = 0
    retired: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # golden relpath -> text
    problems: list[str] = field(default_factory=list)


@dataclass
class Run:
    code: int
    out: str
    err: str


class Sanitizer:
    def __init__(self, extra: Sequence[tuple[Path, str]]) -> None:
        pairs: list[tuple[str, str]] = [(str(p), label) for p, label in extra]
        pairs += [
            (str(oracle_dir()), "<oracle>"),
            (str(shared_dir()), "<shared>"),
            (str(REPO), "<repo>"),
            (str(Path.home()), "<home>"),
        ]
        # longest first so nested paths win
        self.pairs = sorted(pairs, key=lambda p: len(p[0]), reverse=True)

    def __call__(self, text: str) -> str:
        for path, label in self.pairs:
            text = text.replace(path, label)
        return text


def run_oracle(tool: str, args: Sequence[str], cwd: Path) -> Run:
    cmd = [str(oracle_dir() / tool), *args]
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return Run(124, "", f"{tool}: timed out after {TIMEOUT_S}s\n")
    return Run(proc.returncode, proc.stdout, proc.stderr)


def read_text(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as fh:
        return fh.read()


def declared_provider(text: str) -> str | None:
    ds = DATASOURCE_RE.search(text)
    if ds is None:
        return None
    m = PROVIDER_RE.search(ds.group(1))
    return m.group(1) if m else None


def ddl_provider(provider: str | None) -> str | None:
    if provider in ("postgresql", "postgres"):
        return "postgresql"
    if provider == "sqlite":
        return "sqlite"
    return None


def statically_portable(text: str) -> bool:
    """No provider-specific constructs: no @db.*, no scalar/enum lists, no Unsupported."""
    if "@db." in text or "Unsupported(" in text:
        return False
    listable = set(SCALAR_TYPES) | set(ENUM_RE.findall(text))
    return not any(t in listable for t in LIST_FIELD_RE.findall(text))


def swap_provider(text: str, provider: str) -> str:
    ds = DATASOURCE_RE.search(text)
    if ds is None:
        return text
    body = PROVIDER_RE.sub(
        lambda m: m.group(0).replace(f'"{m.group(1)}"', f'"{provider}"'), ds.group(1), count=1
    )
    return text[: ds.start(1)] + body + text[ds.end(1) :]


def strip_preview_features(text: str, retired: Sequence[str]) -> str:
    def repl(m: re.Match[str]) -> str:
        items = [s.strip() for s in m.group(2).split(",") if s.strip()]
        kept = [s for s in items if s.strip("\"'") not in retired]
        return f"{m.group(1)}[{', '.join(kept)}]"

    return PREVIEW_RE.sub(repl, text)


def rel_to_repo(path: Path) -> str:
    try:
        return path.relative_to(REPO).as_posix()
    except ValueError:
        return "<shared>/" + path.relative_to(shared_dir()).as_posix()


def process(schema: Schema) -> Result:
    res = Result(schema)
    base = f"{schema.group}/{schema.stem}"
    with tempfile.TemporaryDirectory(prefix="datatier-golden-") as tmp_s:
        tmp = Path(tmp_s).resolve()
        clean = Sanitizer([(tmp, "<tmp>"), (schema.source.parent, "<schemas>")])

        # The file the oracle validates: the schema itself, or a concatenation.
        if len(schema.files) == 1 and schema.source.is_file():
            text = read_text(schema.source)
            work = schema.source
        else:
            parts = [read_text(f) for f in schema.files]
            text = "".join(p if p.endswith("\n") else p + "\n" for p in parts)
            work = tmp / f"{schema.stem}.prisma"
            work.write_text(text, encoding="utf-8")

        res.provider = declared_provider(text)
        dmmf = run_oracle("prisma-dmmf", [work.name], work.parent)
        res.exit_code = dmmf.code
        accepted = dmmf.code == 0

        if schema.group == "invalid":
            if accepted:
                res.problems.append("accepted by the oracle but expected to be rejected")
            else:
                res.outputs[f"{base}.errors.txt"] = clean(dmmf.err)
            return res

        if not accepted and schema.group == "legacy":
            res.outputs[f"{base}.errors.txt"] = clean(dmmf.err)
            res.retired = sorted(set(RETIRED_RE.findall(dmmf.err)))
            if res.retired:
                text = strip_preview_features(text, res.retired)
                work = tmp / f"{schema.stem}.prisma"
                work.write_text(text, encoding="utf-8")
                dmmf = run_oracle("prisma-dmmf", [work.name], work.parent)
                accepted = dmmf.code == 0

        if not accepted:
            res.problems.append("rejected by the oracle:\n" + clean(dmmf.err).rstrip())
            return res
        res.outputs[f"{base}.dmmf.json"] = clean(dmmf.out)

        # prisma format: per file
        for f in schema.files:
            fmt = run_oracle("prisma-format", [f.name], f.parent)
            if fmt.code != 0:
                res.problems.append(f"prisma-format failed on {f.name}:\n{clean(fmt.err).rstrip()}")
                continue
            if schema.source.is_dir():
                sub = f.relative_to(schema.source).with_suffix("").as_posix()
                res.outputs[f"{base}/{sub}.format.prisma"] = fmt.out
            else:
                res.outputs[f"{base}.format.prisma"] = fmt.out

        # DDL for the declared provider, and the other one when portable
        main = ddl_provider(res.provider)
        if main is None:
            return res
        providers = [main]
        other = next(p for p in DDL_PROVIDERS if p != main)
        if statically_portable(text):
            swapped = tmp / "swapped" / work.name
            swapped.parent.mkdir(exist_ok=True)
            swapped.write_text(swap_provider(text, other), encoding="utf-8")
            res.portable = run_oracle("prisma-dmmf", [swapped.name], swapped.parent).code == 0
            if res.portable:
                providers.append(other)
        for prov in providers:
            ddl = run_oracle("prisma-ddl", [work.name, prov], work.parent)
            if ddl.code != 0:
                res.problems.append(f"prisma-ddl {prov} failed:\n{clean(ddl.err).rstrip()}")
                continue
            res.ddl.append(prov)
            res.outputs[f"{base}.{prov}.sql"] = clean(ddl.out)
    return res


def collect() -> list[Schema]:
    schemas: list[Schema] = []
    for group in ("valid", "invalid", "format", "legacy"):
        for f in sorted((SCHEMAS / group).glob("*.prisma")):
            schemas.append(Schema(group, f.stem, f, [f]))
    multi = SCHEMAS / "valid_multi"
    if multi.is_dir():
        for d in sorted(p for p in multi.iterdir() if p.is_dir()):
            files = sorted(d.rglob("*.prisma"), key=lambda p: p.relative_to(d).as_posix())
            if files:
                schemas.append(Schema("valid_multi", d.name, d, files))
    for f in sorted((shared_dir() / "schemas").glob("*.prisma")):
        schemas.append(Schema("shared", f.stem, f, [f]))
    return schemas


def write_outputs(results: Sequence[Result]) -> int:
    produced: set[Path] = set()
    for res in results:
        for rel, text in res.outputs.items():
            target = GOLDEN / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            produced.add(target)
    manifest = {
        "generated_by": "scripts/regen_golden.py",
        "oracle": "Prisma 7 engines via <shared>/tools/prisma-oracle",
        "schemas": [
            {
                "group": r.schema.group,
                "name": r.schema.stem,
                "path": rel_to_repo(r.schema.source),
                "files": [f.relative_to(r.schema.source).as_posix() for f in r.schema.files]
                if r.schema.source.is_dir()
                else None,
                "provider": r.provider,
                "portable": r.portable,
                "ddl": r.ddl,
                "expect_valid": r.schema.expect_valid,
                "oracle_exit_code": r.exit_code,
                "retired_preview_features": r.retired,
                "goldens": sorted(r.outputs),
            }
            for r in results
        ],
    }
    mpath = GOLDEN / "MANIFEST.json"
    mpath.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    produced.add(mpath)
    stale = [
        p
        for p in GOLDEN.rglob("*")
        if p.is_file() and p not in produced and p.name != ".gitattributes"
    ]
    for p in stale:
        p.unlink()
    for d in sorted(
        (p for p in GOLDEN.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
    ):
        if not any(d.iterdir()):
            d.rmdir()
    return len(stale)


ABS_PATH_RE = re.compile(r"(?<![\w.<>])/(?:root|home|tmp|work|Users|var)/[\w./-]+")


def main() -> int:
    if shutil.which("node") is None:
        print("regen_golden: node is not installed", file=sys.stderr)
        return 2
    if not (oracle_dir() / "prisma-dmmf").exists():
        print(f"regen_golden: oracle not found in {oracle_dir()}", file=sys.stderr)
        return 2
    schemas = collect()
    # Warm the oracle's npm install once before running in parallel.
    run_oracle("prisma-dmmf", [schemas[0].source.name], schemas[0].source.parent)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(process, schemas))
    stale = write_outputs(results)

    counts: dict[str, int] = {}
    for r in results:
        counts[r.schema.group] = counts.get(r.schema.group, 0) + 1
    failures = [r for r in results if r.problems]
    leaks = [
        (rel, m.group(0))
        for r in results
        for rel, text in r.outputs.items()
        if (m := ABS_PATH_RE.search(text))
    ]
    files = sum(len(r.outputs) for r in results)
    print("schemas: " + ", ".join(f"{g}={n}" for g, n in sorted(counts.items())))
    print(f"golden files written: {files} (+ MANIFEST.json), stale removed: {stale}")
    print(
        f"ddl: {sum(len(r.ddl) for r in results)} scripts; portable schemas: {sum(r.portable for r in results)}"
    )
    legacy = [r for r in results if r.retired]
    for r in legacy:
        print(f"legacy {r.schema.stem}: oracle rejects retired preview features {r.retired}")
    for rel, path in leaks:
        print(f"WARNING: absolute path {path!r} in {rel}")
    for r in failures:
        for p in r.problems:
            print(f"FAIL {rel_to_repo(r.schema.source)}: {p}")
    print("OK" if not failures else f"{len(failures)} schema(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
