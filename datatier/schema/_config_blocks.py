"""The ``datasource`` and ``generator`` blocks: provider, URLs, relation mode, preview features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from datatier.schema import _catalog_rules as rules
from datatier.schema._args import Reporter, expr_text
from datatier.schema._ast import (
    ArrayExpr,
    Block,
    ConstantExpr,
    Expr,
    FunctionCall,
    Property,
    StringExpr,
)
from datatier.schema._drafts import did_you_mean, is_comment
from datatier.schema._ir import Datasource, Extension, Generator, UrlSource

__all__ = ["ConfigBlocks"]

_FEATURE_SPELLING = {
    f.lower(): f for f in rules.KNOWN_PREVIEW_FEATURES | rules.RETIRED_PREVIEW_FEATURES
}


class ConfigBlocks:
    """Reads the configuration blocks; ``provider`` is the datasource's (postgresql if unknown)."""

    def __init__(self, reporter: Reporter, blocks: Sequence[Block]) -> None:
        self.reporter = reporter
        self.blocks = blocks
        self.provider = "postgresql"
        self.datasource: Datasource | None = None
        self.preview_features: set[str] = set()

    def read(self) -> tuple[Datasource | None, tuple[Generator, ...]]:
        """The datasource (None when the schema has none) and the generators."""
        generators = tuple(self._generator(b) for b in self.blocks if b.kind == "generator")
        self.preview_features = {f for g in generators for f in g.preview_features}
        self._datasources()
        return self.datasource, generators

    def _datasources(self) -> None:
        blocks = [b for b in self.blocks if b.kind == "datasource"]
        for extra in blocks[1:]:
            self.reporter.error(
                "a schema has exactly one datasource",
                extra.name_span,
                f"remove `datasource {extra.name}` or merge it into `datasource {blocks[0].name}`",
            )
        if not blocks:
            return
        block = blocks[0]
        props = self._properties(
            block,
            (
                "provider",
                "url",
                "directUrl",
                "shadowDatabaseUrl",
                "relationMode",
                "referentialIntegrity",
                "extensions",
                "schemas",
            ),
        )
        provider_expr = props.get("provider")
        provider = "postgresql"
        if provider_expr is None:
            self.reporter.error(
                f"datasource `{block.name}` has no `provider`",
                block.name_span,
                'add `provider = "postgresql"` (or "sqlite")',
            )
        elif not isinstance(provider_expr, StringExpr):
            self.reporter.error(
                "`provider` must be a string", provider_expr.span, 'e.g. `provider = "sqlite"`'
            )
        else:
            raw = provider_expr.value
            provider = rules.PROVIDER_ALIASES.get(raw, raw)
            if provider not in rules.PROVIDERS:
                self.reporter.error(
                    f"unknown datasource provider `{raw}`",
                    provider_expr.span,
                    did_you_mean(raw, rules.PROVIDERS)
                    or f"use one of {', '.join(rules.PROVIDERS)}",
                )
                provider = "postgresql"
        self.provider = provider
        relation_mode: Literal["foreignKeys", "prisma"] = (
            "prisma" if provider == "mongodb" else "foreignKeys"
        )
        for key in ("relationMode", "referentialIntegrity"):
            expr = props.get(key)
            if expr is None:
                continue
            if key == "referentialIntegrity":
                self.reporter.warning(
                    "`referentialIntegrity` was renamed `relationMode`",
                    expr.span,
                    "rename the property",
                )
            if isinstance(expr, StringExpr) and expr.value in ("foreignKeys", "prisma"):
                relation_mode = "prisma" if expr.value == "prisma" else "foreignKeys"
            else:
                self.reporter.error(
                    f'`{key}` must be "foreignKeys" or "prisma", not {expr_text(expr)}', expr.span
                )
        extensions: tuple[Extension, ...] = ()
        if (ext := props.get("extensions")) is not None:
            if provider != "postgresql":
                self.reporter.error("`extensions` is only supported on PostgreSQL", ext.span)
            elif "postgresqlExtensions" not in self.preview_features:
                self.reporter.error(
                    "`extensions` needs the `postgresqlExtensions` preview feature",
                    ext.span,
                    'add `previewFeatures = ["postgresqlExtensions"]` to the generator block',
                )
            items = ext.items if isinstance(ext, ArrayExpr) else (ext,)
            read = [self._extension(item) for item in items]
            extensions = tuple(e for e in read if e is not None)
        schemas: tuple[str, ...] = ()
        if (sch := props.get("schemas")) is not None:
            items = sch.items if isinstance(sch, ArrayExpr) else (sch,)
            if not all(isinstance(i, StringExpr) for i in items):
                self.reporter.error(
                    '`schemas` must be a list of strings, e.g. ["public", "auth"]', sch.span
                )
            schemas = tuple(i.value for i in items if isinstance(i, StringExpr))
            if not items:
                self.reporter.error(
                    "`schemas` lists no schema",
                    sch.span,
                    'name at least one, e.g. `schemas = ["public"]`, or remove the property',
                )
            for index, item in enumerate(items):
                if isinstance(item, StringExpr) and item.value in schemas[:index]:
                    self.reporter.error(
                        f'`schemas` lists "{item.value}" twice', item.span, "list it once"
                    )
            if provider not in ("postgresql", "cockroachdb", "sqlserver"):
                self.reporter.error(f"multiple schemas are not supported on {provider}", sch.span)
        self.datasource = Datasource(
            name=block.name,
            provider=provider,
            url=self._url(props.get("url")),
            direct_url=self._url(props.get("directUrl")),
            shadow_database_url=self._url(props.get("shadowDatabaseUrl")),
            relation_mode=relation_mode,
            extensions=extensions,
            schemas=schemas,
        )

    def _extension(self, expr: Expr) -> Extension | None:
        """``citext`` or ``uuidOssp(map: "uuid-ossp", schema: "extensions", version: "1.1")``."""
        if isinstance(expr, ConstantExpr | FunctionCall) and "-" in expr.name:
            self.reporter.error(
                f"the extension name `{expr.name}` contains `-`, which names cannot contain",
                expr.span,
                f'write `{expr.name.replace("-", "_")}(map: "{expr.name}")`',
            )
            return None
        if isinstance(expr, ConstantExpr):
            return Extension(expr.name, expr.name)
        if isinstance(expr, FunctionCall):
            options: dict[str, str] = {}
            for argument in expr.args:
                if argument.name not in ("map", "schema", "version") or not isinstance(
                    argument.value, StringExpr
                ):
                    self.reporter.error(
                        f"unexpected argument {expr_text(argument.value)} for extension `{expr.name}`",
                        argument.span,
                        'extensions take `map: "..."`, `schema: "..."` and `version: "..."`',
                    )
                    return None
                options[argument.name] = argument.value.value
            return Extension(
                expr.name,
                options.get("map", expr.name),
                options.get("schema"),
                options.get("version"),
            )
        self.reporter.error(
            f"an extension is named by an identifier, not {expr_text(expr)}",
            expr.span,
            'e.g. `extensions = [citext, uuidOssp(map: "uuid-ossp")]`',
        )
        return None

    def _url(self, expr: Expr | None) -> UrlSource | None:
        if expr is None:
            return None
        if isinstance(expr, StringExpr):
            return UrlSource(value=expr.value)
        if (
            isinstance(expr, FunctionCall)
            and expr.name == "env"
            and len(expr.args) == 1
            and isinstance(expr.args[0].value, StringExpr)
        ):
            return UrlSource(env=expr.args[0].value.value)
        self.reporter.error(
            'a URL must be a string or `env("NAME")`', expr.span, 'e.g. `url = env("DATABASE_URL")`'
        )
        return None

    def _properties(self, block: Block, known: Sequence[str] | None) -> dict[str, Expr]:
        props: dict[str, Expr] = {}
        for member in block.members:
            if isinstance(member, Property):
                if known is not None and member.name not in known:
                    self.reporter.error(
                        f"unknown property `{member.name}` in {block.kind} `{block.name}`",
                        member.span,
                        did_you_mean(member.name, known) or f"known properties: {', '.join(known)}",
                    )
                    continue
                if member.name in props:
                    self.reporter.error(f"property `{member.name}` is set twice", member.span)
                    continue
                props[member.name] = member.value
            elif not is_comment(member):
                self.reporter.error(
                    f"a {block.kind} block holds only `key = value` lines", member.span
                )
        return props

    def _generator(self, block: Block) -> Generator:
        props = self._properties(block, None)
        provider_expr = props.get("provider")
        provider = ""
        if provider_expr is None:
            self.reporter.error(
                f"generator `{block.name}` has no `provider`",
                block.name_span,
                'add `provider = "datatier"`',
            )
        elif isinstance(provider_expr, StringExpr):
            provider = provider_expr.value
        elif not (isinstance(provider_expr, FunctionCall) and provider_expr.name == "env"):
            self.reporter.error("`provider` must be a string", provider_expr.span)
        output = props.get("output")
        if output is not None and not (
            isinstance(output, StringExpr)
            or (isinstance(output, FunctionCall) and output.name == "env")
        ):
            self.reporter.error(
                f"`output` must be a path string, not {expr_text(output)}",
                output.span,
                'e.g. `output = "../generated"`',
            )
        features: list[str] = []
        preview = props.get("previewFeatures")
        if preview is not None:
            items = preview.items if isinstance(preview, ArrayExpr) else (preview,)
            for item in items:
                if not isinstance(item, StringExpr):
                    self.reporter.error("preview features are strings", item.span)
                    continue
                # Prisma matches feature names ignoring case; keep the canonical spelling.
                name = _FEATURE_SPELLING.get(item.value.lower(), item.value)
                features.append(name)
                if name in rules.RETIRED_PREVIEW_FEATURES:
                    self.reporter.warning(
                        f"preview feature `{name}` is retired and has no effect",
                        item.span,
                        "remove it from `previewFeatures`",
                    )
                elif name not in rules.KNOWN_PREVIEW_FEATURES:
                    self.reporter.error(
                        f"unknown preview feature `{item.value}`",
                        item.span,
                        did_you_mean(item.value, rules.KNOWN_PREVIEW_FEATURES)
                        or "check the spelling, or remove it from `previewFeatures`",
                    )
        config = tuple(
            (key, expr.value if isinstance(expr, StringExpr) else expr_text(expr))
            for key, expr in props.items()
            if key not in ("provider", "output", "previewFeatures")
        )
        return Generator(
            name=block.name,
            provider=provider,
            output=output.value if isinstance(output, StringExpr) else None,
            preview_features=tuple(features),
            config=config,
        )
