"""``datatier db pull``: the pulled schema written into the project's schema file.

An existing file keeps its ``generator`` blocks and its ``datasource`` (when it
names the same provider); everything else is replaced by what the database
holds, under the names the file gave it (re-introspection). A file that already
describes models is only overwritten with ``--force``: pulling must never silently
throw away a hand-written schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from datatier.config import Config, find_schema, mask_url, provider_for_url, resolve_url
from datatier.errors import DatatierError, SchemaError, SchemaNotFound
from datatier.migrate._introspect import pull_schema_text
from datatier.schema import validate_schema_text
from datatier.schema._ast import Block, Comment, Property, StringExpr
from datatier.schema._format import format_schema_text
from datatier.schema._parser import parse_schema_text

__all__ = ["PullResult", "merge_pulled_schema", "pull_command"]

_CONFIG_BLOCKS = ("datasource", "generator")
_DEFAULT_SCHEMA = Path("schema.prisma")


@dataclass(frozen=True)
class PullResult:
    """What ``db pull`` produced: the schema text, the file written (None with ``--print``)."""

    text: str
    path: Path | None
    changed: bool
    summary: str


def _blocks(text: str, path: str) -> list[Block]:
    tree, errors = parse_schema_text(path, text)
    if errors:
        raise SchemaError(errors)
    return list(tree.blocks)


def _block_text(text: str, block: Block) -> str:
    """A block's source, with the ``///`` documentation lines written above it."""
    start = block.span.start
    lines_before = text[:start].splitlines(keepends=True)
    while lines_before and lines_before[-1].lstrip().startswith("///"):
        start -= len(lines_before.pop())
    return text[start : block.span.end]


def _provider(block: Block) -> str | None:
    for member in block.members:
        if (
            isinstance(member, Property)
            and member.name == "provider"
            and isinstance(member.value, StringExpr)
        ):
            return member.value.value
    return None


def _preview_features(text: str, block: Block) -> list[str]:
    body = text[block.span.start : block.span.end]
    match = re.search(r"previewFeatures\s*=\s*\[([^\]]*)\]", body)
    return re.findall(r'"([^"]*)"', match[1]) if match else []


def _with_features(block_text: str, features: list[str]) -> str:
    """A generator block whose ``previewFeatures`` also lists ``features``."""
    match = re.search(r"previewFeatures\s*=\s*\[([^\]]*)\]", block_text)
    if match is None:
        listed = ", ".join(f'"{f}"' for f in features)
        end = block_text.rindex("}")
        return f"{block_text[:end].rstrip()}\n  previewFeatures = [{listed}]\n}}"
    present = re.findall(r'"([^"]*)"', match[1])
    listed = ", ".join(f'"{f}"' for f in [*present, *features])
    return block_text[: match.start()] + f"previewFeatures = [{listed}]" + block_text[match.end() :]


def merge_pulled_schema(pulled: str, existing: str | None, path: str = "schema.prisma") -> str:
    """``pulled`` with the generator blocks and datasource of ``existing`` (when there is one).

    The kept blocks stay in their written order with the comments above them; the
    existing datasource is kept when it names the pulled provider. Preview features
    the pulled schema needs (partial indexes, extensions) are added to the first
    kept generator. The result is formatted.
    """
    if existing is None or not existing.strip():
        return pulled
    tree, errors = parse_schema_text(path, existing)
    if errors:
        raise SchemaError(errors)
    new = _blocks(pulled, "pulled.prisma")
    new_datasource = next(b for b in new if b.kind == "datasource")
    provider = _provider(new_datasource)
    needed = [f for b in new if b.kind == "generator" for f in _preview_features(pulled, b)]
    have = {
        f.lower()
        for b in tree.blocks
        if b.kind == "generator"
        for f in _preview_features(existing, b)
    }
    missing = [f for f in needed if f.lower() not in have]
    kept: list[str] = []
    comments: list[str] = []
    has_datasource = has_generator = False
    for item in tree.items:
        if isinstance(item, Comment):
            comments.append(existing[item.span.start : item.span.end])
            continue
        if item.kind not in _CONFIG_BLOCKS:
            comments = []  # they were about a model: the model goes, so do they
            continue
        text = _block_text(existing, item)
        if item.kind == "datasource":
            has_datasource = True
            if _provider(item) not in (provider, "postgres" if provider == "postgresql" else None):
                text = _block_text(pulled, new_datasource)
            else:
                text = _with_extensions(
                    text, pulled[new_datasource.span.start : new_datasource.span.end]
                )
        elif not has_generator:
            has_generator = True
            if missing:
                text = _with_features(text, missing)
        kept.append("\n".join([*comments, text]))
        comments = []
    if not has_datasource:
        kept.insert(0, _block_text(pulled, new_datasource))
    if not has_generator:
        kept.extend(_block_text(pulled, b) for b in new if b.kind == "generator")
    rest = [_block_text(pulled, b) for b in new if b.kind not in _CONFIG_BLOCKS]
    return format_schema_text("\n\n".join(kept + rest) + "\n", path)


def _with_extensions(datasource: str, pulled_datasource: str) -> str:
    """The kept datasource, given the pulled ``extensions`` when it lists none."""
    extensions = re.search(r"^\s*extensions\s*=.*$", pulled_datasource, re.M)
    if extensions is None or re.search(r"^\s*extensions\s*=", datasource, re.M):
        return datasource
    return datasource[: datasource.rindex("}")] + extensions[0].strip() + "\n}"


def _describes_data(text: str, path: str) -> bool:
    try:
        return any(b.kind not in _CONFIG_BLOCKS for b in _blocks(text, path))
    except SchemaError:
        return bool(text.strip())


def _target(config: Config, cwd: Path) -> Path:
    try:
        path = find_schema(config, cwd)
    except SchemaNotFound:
        return cwd / (config.schema or _DEFAULT_SCHEMA)
    if path.is_dir():
        raise DatatierError(
            f"db pull writes one schema file, and {path} is a folder: pass --schema FILE"
        )
    return path


def pull_command(
    config: Config, cwd: Path, env: Mapping[str, str], *, print_only: bool, force: bool
) -> PullResult:
    """Pull the database named by ``config``/``env`` (or the schema's datasource) into the schema file.

    The database schemas an existing datasource lists (``schemas = [...]``) are all pulled,
    and a valid existing schema lends its names (see ``pull_schema_text(existing=)``).
    """
    path = _target(config, cwd)
    existing = path.read_text(encoding="utf-8") if path.is_file() else None
    datasource_url = None
    schemas: tuple[str, ...] = ()
    loaded = None
    if existing is not None:
        try:
            loaded = validate_schema_text(existing, str(path))
        except SchemaError:
            pass  # an invalid schema names nothing we could trust
        else:
            if loaded.datasource is not None:
                datasource_url = loaded.datasource.url
                schemas = loaded.datasource.schemas
    url = resolve_url(config, env, datasource_url, path)
    provider = provider_for_url(url)
    pulled = pull_schema_text(url, provider=provider, schemas=schemas or None, existing=loaded)
    try:
        text = merge_pulled_schema(pulled, existing, str(path))
    except SchemaError:
        if not (force or print_only):
            raise DatatierError(
                f"{path.name} does not parse, so its generator and datasource blocks cannot be "
                "kept; fix it, or pass --force to replace the whole file with the pulled schema"
            ) from None
        text = pulled
    schema = validate_schema_text(text, str(path))
    models = [m for m in schema.models if not m.is_view]
    ignored = [m.name for m in models if m.is_ignored]
    summary = (
        f"introspected {mask_url(url)}: {len(models)} model{'s' if len(models) != 1 else ''}, "
        f"{len(schema.enums)} enum{'s' if len(schema.enums) != 1 else ''}"
    )
    if ignored:
        summary += (
            f"; {', '.join(ignored)} marked @@ignore (no primary key or unique index over "
            "required columns)"
        )
    if print_only:
        return PullResult(text, None, False, summary)
    shown = path.relative_to(cwd) if path.is_relative_to(cwd) else path
    if existing is not None and existing == text:
        return PullResult(text, path, False, f"{summary}; {shown} already matches, not changed")
    if existing is not None and _describes_data(existing, str(path)) and not force:
        raise DatatierError(
            f"{shown} already describes a schema that differs from the database; db pull would "
            "replace its models and enums. Pass --force to overwrite it (generator blocks and "
            "the datasource are kept), or --print to see the pulled schema without writing"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return PullResult(text, path, True, f"{summary}; wrote {shown}")
