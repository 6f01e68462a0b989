"""The ``datatier`` command: validate, format and push schemas, migrations, and the demo.

Every command takes ``--schema``; commands that touch a database take ``--url``.
Errors that datatier raises on purpose print as one clear message, never a traceback.
No command waits for input when standard input is not a terminal: where it would
ask, it stops and names the flag that answers the question.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from datatier.config import check_provider, find_schema, load_config, resolve_url
from datatier.errors import ConfigError, DatatierError, SchemaError
from datatier.schema import Schema, load_schema, schema_files

if TYPE_CHECKING:
    from datatier.migrate._commands import Project
    from datatier.migrate._dev import DiffSource

__all__ = ["app", "main"]

app = typer.Typer(
    name="datatier",
    help="A schema-first data layer: one schema.prisma drives the database, client and APIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Work on a database directly from the schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
migrate_app = typer.Typer(
    help="Migrations: folders of SQL beside the schema, recorded in _prisma_migrations.",
    no_args_is_help=True,
)
app.add_typer(migrate_app, name="migrate")

SchemaOption = Annotated[
    str | None,
    typer.Option(
        "--schema", help="Schema file or folder (default ./schema.prisma, ./prisma/schema.prisma)."
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Database URL (overrides DATABASE_URL, config and the datasource)."),
]
ShadowOption = Annotated[
    str | None,
    typer.Option(
        "--shadow-url",
        help="Disposable PostgreSQL database to replay migrations in (default: a temporary "
        "database; also SHADOW_DATABASE_URL or the datasource's shadowDatabaseUrl).",
    ),
]
AcceptDataLossOption = Annotated[
    bool,
    typer.Option("--accept-data-loss", help="Go on even when the change drops data that exists."),
]

CacheTriggersOption = Annotated[
    bool,
    typer.Option(
        "--cache-triggers",
        help="PostgreSQL: install triggers that record writes made outside datatier for the "
        "cache (also [cache] external_writes = true); see docs/cache-events.md.",
    ),
]

P = ParamSpec("P")
R = TypeVar("R")


def _reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn datatier's own errors into a message on stderr and exit code 1."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except SchemaError as error:
            typer.echo(error.message, err=True)
            raise typer.Exit(1) from None
        except DatatierError as error:
            typer.echo(f"error: {error.message}", err=True)
            raise typer.Exit(1) from None

    return run


def _schema_path(schema: str | None, url: str | None = None) -> tuple[Path, str | None]:
    config = load_config(Path.cwd(), os.environ, schema=schema, url=url)
    return _shown(find_schema(config, Path.cwd())), config.url


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it: shorter messages."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _print_warnings(schema: Schema) -> None:
    for warning in schema.warnings:
        typer.echo(warning.render(), err=True)


def _summary(schema: Schema) -> str:
    models = [m for m in schema.models if not m.is_view]
    views = len(schema.models) - len(models)
    parts = [f"{len(models)} model{'s' if len(models) != 1 else ''}"]
    if views:
        parts.append(f"{views} view{'s' if views != 1 else ''}")
    parts.append(f"{len(schema.enums)} enum{'s' if len(schema.enums) != 1 else ''}")
    parts.append(f"{len(schema.relations)} relation{'s' if len(schema.relations) != 1 else ''}")
    return ", ".join(parts)


@app.command()
@_reports_errors
def validate(schema: SchemaOption = None) -> None:
    """Check the schema; print every problem with its location. Exit 1 if it is invalid."""
    path, _ = _schema_path(schema)
    loaded = load_schema(path)
    _print_warnings(loaded)
    typer.echo(f"{path} is valid: {_summary(loaded)}")


@app.command("format")
@_reports_errors
def format_command(
    schema: SchemaOption = None,
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file is not formatted.")
    ] = False,
) -> None:
    """Rewrite the schema file(s) in the canonical layout."""
    from datatier.schema._format import format_schema_text

    path, _ = _schema_path(schema)
    unformatted = []
    for file in schema_files(path):
        text = file.read_text(encoding="utf-8")
        formatted = format_schema_text(text, str(file))
        if formatted == text:
            continue
        unformatted.append(file)
        if not check:
            file.write_text(formatted, encoding="utf-8", newline="")
    if check and unformatted:
        for file in unformatted:
            typer.echo(f"would reformat {file}", err=True)
        raise typer.Exit(1)
    verb = "would reformat" if check else "reformatted"
    typer.echo(f"{verb} {len(unformatted)} file(s)" if unformatted else "already formatted")


def _push(path: Path, url: str, *, accept_data_loss: bool = False) -> None:
    from datatier.migrate._push import push

    loaded = load_schema(path)
    _print_warnings(loaded)
    provider = check_provider(loaded.provider or "sqlite", loaded.is_portable, url)
    report = push(
        loaded, url, provider, accept_data_loss=accept_data_loss, confirm=_confirm_on_terminal()
    )
    typer.echo(report.summary())
    for change in report.changes:
        typer.echo(f"  - {change}")
    for label, names in (
        ("enums", report.enums),
        ("tables", report.tables),
        ("indexes", report.indexes),
        ("foreign keys", report.foreign_keys),
    ):
        if names:
            typer.echo(f"  {label}: {', '.join(names)}")


@db_app.command("push")
@_reports_errors
def db_push(
    schema: SchemaOption = None,
    url: UrlOption = None,
    accept_data_loss: AcceptDataLossOption = False,
    cache_triggers: CacheTriggersOption = False,
) -> None:
    """Make the database match the schema (create it, or change it), without migrations."""
    path, _ = _schema_path(schema, url)
    config = load_config(Path.cwd(), os.environ, schema=schema, url=url)
    loaded = load_schema(path)
    database_url = resolve_url(
        config, os.environ, loaded.datasource.url if loaded.datasource else None, path
    )
    _push(path, database_url, accept_data_loss=accept_data_loss)
    _cache_triggers(database_url, loaded, cache_triggers, config.extra)


def _cache_triggers(url: str, loaded: Schema, flag: bool, extra: Mapping[str, Any]) -> None:
    """(Re)install the cache's change triggers after the database changed (see _triggers)."""
    from datatier.cache._triggers import sync_triggers

    wanted = flag or bool(extra.get("cache", {}).get("external_writes", False))
    _echo_lines(sync_triggers(url, loaded, requested=wanted))


@db_app.command("pull")
@_reports_errors
def db_pull(
    schema: SchemaOption = None,
    url: UrlOption = None,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the pulled schema instead of writing the file.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a schema file that describes other models.")
    ] = False,
) -> None:
    """Write the schema of an existing database (tables, relations, enums) to the schema file."""
    from datatier.migrate._introspect_file import pull_command

    config = load_config(Path.cwd(), os.environ, schema=schema, url=url)
    result = pull_command(config, Path.cwd(), os.environ, print_only=print_only, force=force)
    if print_only:
        typer.echo(result.text, nl=False)
    typer.echo(result.summary, err=print_only)


def _project(schema: str | None, url: str | None, shadow_url: str | None = None) -> Project:
    from datatier.migrate._commands import open_project

    project = open_project(Path.cwd(), os.environ, schema=schema, url=url, shadow_url=shadow_url)
    _print_warnings(project.schema)
    return project


def _echo_lines(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


def _confirm_on_terminal() -> Callable[[str], bool] | None:
    """A yes/no question on the terminal, or None when standard input is not one."""
    return (lambda question: typer.confirm(question)) if _interactive() else None


def _interactive() -> bool:
    import sys

    return sys.stdin.isatty()


@db_app.command("seed")
@_reports_errors
def db_seed(schema: SchemaOption = None, url: UrlOption = None) -> None:
    """Run the seed script named by `seed` in datatier.toml (DATABASE_URL set for it)."""
    from datatier.migrate._commands import run_seed

    project = _project(schema, url)
    run_seed(project)
    typer.echo(f"ran the seed script {_shown(project.seed or Path())}")


@migrate_app.command("dev")
@_reports_errors
def migrate_dev(
    schema: SchemaOption = None,
    url: UrlOption = None,
    shadow_url: ShadowOption = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Short description, e.g. add_user_email.")
    ] = None,
    create_only: Annotated[
        bool, typer.Option("--create-only", help="Write the migration, do not apply it.")
    ] = False,
    accept_data_loss: AcceptDataLossOption = False,
    rename: Annotated[
        list[str] | None,
        typer.Option(
            "--rename",
            help="A rename, not a drop and add: Table.old=new (column) or Old=New (table), "
            "database names. Repeat for several.",
        ),
    ] = None,
    skip_seed: Annotated[
        bool, typer.Option("--skip-seed", help="Do not seed a fresh database.")
    ] = False,
    cache_triggers: CacheTriggersOption = False,
) -> None:
    """Write a migration from the history to the schema (replayed in a shadow database), apply it."""
    from datatier.migrate._dev import dev

    project = _project(schema, url, shadow_url)
    if name is None:
        if not _interactive():
            raise DatatierError(
                "a migration needs a name; pass --name NAME (e.g. --name add_email)"
            )
        name = typer.prompt("Name of the migration")
    confirm = _confirm_on_terminal()
    report = dev(
        project,
        name,
        create_only=create_only,
        accept_data_loss=accept_data_loss,
        renames=rename or [],
        confirm=confirm,
        seed=not skip_seed,
    )
    _echo_lines(report.lines())
    if not create_only:
        extra = load_config(Path.cwd(), os.environ, schema=schema, url=url).extra
        _cache_triggers(project.url, project.schema, cache_triggers, extra)


_SOURCES = ("empty", "schema", "migrations", "url")


def _diff_source(side: str, values: dict[str, str | bool | None]) -> DiffSource:
    from datatier.migrate._dev import DiffSource

    given = [kind for kind in _SOURCES if values[kind] not in (None, False)]
    if len(given) != 1:
        flags = ", ".join(f"--{side}-{kind}" for kind in _SOURCES)
        raise DatatierError(f"migrate diff needs exactly one of {flags}")
    kind = given[0]
    value = values[kind]
    return DiffSource(kind, value if isinstance(value, str) else None)


@migrate_app.command("diff")
@_reports_errors
def migrate_diff(
    from_empty: Annotated[
        bool, typer.Option("--from-empty", help="From an empty database.")
    ] = False,
    from_schema: Annotated[
        str | None, typer.Option("--from-schema", help="From a schema file.")
    ] = None,
    from_migrations: Annotated[
        str | None, typer.Option("--from-migrations", help="From a migrations folder.")
    ] = None,
    from_url: Annotated[
        str | None, typer.Option("--from-url", help="From a live database.")
    ] = None,
    to_empty: Annotated[bool, typer.Option("--to-empty", help="To an empty database.")] = False,
    to_schema: Annotated[str | None, typer.Option("--to-schema", help="To a schema file.")] = None,
    to_migrations: Annotated[
        str | None, typer.Option("--to-migrations", help="To a migrations folder.")
    ] = None,
    to_url: Annotated[str | None, typer.Option("--to-url", help="To a live database.")] = None,
    script: Annotated[
        bool, typer.Option("--script", help="Print the SQL script instead of the summary.")
    ] = False,
    shadow_url: ShadowOption = None,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 2 when there is a difference, 0 when none.")
    ] = False,
) -> None:
    """The changes between two states (schema, migrations, live database or nothing)."""
    from datatier.migrate._dev import diff
    from datatier.migrate._shadow import SHADOW_URL_ENV

    source = _diff_source(
        "from",
        {
            "empty": from_empty,
            "schema": from_schema,
            "migrations": from_migrations,
            "url": from_url,
        },
    )
    target = _diff_source(
        "to", {"empty": to_empty, "schema": to_schema, "migrations": to_migrations, "url": to_url}
    )
    server = next(
        (s.value for s in (source, target) if s.kind == "url"), os.environ.get("DATABASE_URL")
    )
    plan = diff(
        source,
        target,
        shadow_url=shadow_url or os.environ.get(SHADOW_URL_ENV) or None,
        server_url=server,
    )
    if script:
        typer.echo(plan.up_sql, nl=False)
    elif plan.is_empty:
        typer.echo("No difference detected.")
    else:
        _echo_lines([f"- {line}" for line in plan.summary])
    if exit_code and not plan.is_empty:
        raise typer.Exit(2)


@migrate_app.command("deploy")
@_reports_errors
def migrate_deploy(
    schema: SchemaOption = None, url: UrlOption = None, cache_triggers: CacheTriggersOption = False
) -> None:
    """Apply the pending migrations in order (each in its own transaction), as in production."""
    from datatier.migrate._commands import deploy

    project = _project(schema, url)
    _echo_lines(deploy(project).lines())
    extra = load_config(Path.cwd(), os.environ, schema=schema, url=url).extra
    _cache_triggers(project.url, project.schema, cache_triggers, extra)


@migrate_app.command("status")
@_reports_errors
def migrate_status(
    schema: SchemaOption = None,
    url: UrlOption = None,
    shadow_url: ShadowOption = None,
    drift: Annotated[
        bool, typer.Option("--drift/--no-drift", help="Replay the history to look for drift.")
    ] = True,
) -> None:
    """Applied, pending, failed and edited migrations, and drift.

    Exit code: 0 up to date, 2 pending migrations, 3 a failed migration, 4 an applied
    migration edited or missing, 5 drift (the worst state wins); 1 on errors.
    """
    from datatier.migrate._commands import status

    report = status(_project(schema, url, shadow_url), check_drift=drift)
    _echo_lines(report.lines())
    raise typer.Exit(report.exit_code)


@migrate_app.command("rollback")
@_reports_errors
def migrate_rollback(
    schema: SchemaOption = None,
    url: UrlOption = None,
    steps: Annotated[
        int | None, typer.Option("--steps", help="How many applied migrations to undo (default 1).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Undo every migration applied after this one.")
    ] = None,
    accept_data_loss: AcceptDataLossOption = False,
) -> None:
    """Run down.sql of the newest applied migrations, newest first, and mark them rolled back."""
    from datatier.migrate._rollback import rollback

    report = rollback(
        _project(schema, url),
        steps=steps,
        to=to,
        accept_data_loss=accept_data_loss,
        confirm=_confirm_on_terminal(),
    )
    _echo_lines(report.lines())


@migrate_app.command("reset")
@_reports_errors
def migrate_reset(
    schema: SchemaOption = None,
    url: UrlOption = None,
    force: Annotated[bool, typer.Option("--force", help="Do not ask for confirmation.")] = False,
    skip_seed: Annotated[bool, typer.Option("--skip-seed", help="Do not run the seed.")] = False,
) -> None:
    """Drop everything in the database, apply every migration, then run the seed."""
    from datatier.migrate._commands import reset

    project = _project(schema, url)
    if not force:
        question = f"Drop every table and all data in {project.shown_url}?"
        if not _interactive():
            raise DatatierError(f"{question} Not a terminal: pass --force to reset without asking")
        if not typer.confirm(question):
            typer.echo("reset cancelled, nothing changed")
            raise typer.Exit(1)
    _echo_lines(reset(project, seed=not skip_seed).lines())


@migrate_app.command("resolve")
@_reports_errors
def migrate_resolve(
    schema: SchemaOption = None,
    url: UrlOption = None,
    applied: Annotated[
        str | None,
        typer.Option("--applied", help="Record this migration as applied (run by hand)."),
    ] = None,
    rolled_back: Annotated[
        str | None,
        typer.Option("--rolled-back", help="Record this failed migration as rolled back."),
    ] = None,
) -> None:
    """Settle a failed migration so that deploys can go on."""
    from datatier.migrate._commands import resolve

    typer.echo(resolve(_project(schema, url), applied=applied, rolled_back=rolled_back))


@app.command()
@_reports_errors
def demo(
    database: Annotated[
        Path, typer.Option("--database", help="SQLite file to create (default .datatier/demo.db).")
    ] = Path(".datatier/demo.db"),
) -> None:
    """Validate the demo schema and push it to an embedded SQLite database."""
    path = Path(__file__).parent / "demo" / "schema.prisma"
    loaded = load_schema(path)
    typer.echo(f"demo schema {path.name} is valid: {_summary(loaded)}")
    target = database.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _push(path, f"file:{target}")


@app.command()
@_reports_errors
def serve(
    schema: SchemaOption = None,
    url: UrlOption = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Worker processes (default 1).")
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Serve the bundled demo schema on .datatier/demo.db, seeded on first run.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Error bodies carry internal detail (never in production)."),
    ] = False,
    reload: Annotated[
        bool,
        typer.Option("--reload", help="Restart when datatier's code changes (development)."),
    ] = False,
) -> None:
    """Serve the schema's data over REST, RPC and GraphQL (with OpenAPI at /openapi.json)."""
    import asyncio

    import uvicorn

    from datatier.api._serve import (
        DEBUG_ENV,
        SCHEMA_ENV,
        URL_ENV,
        load_procedures,
        server_options,
    )

    if reload and workers not in (None, 1):
        raise ConfigError("--reload runs one process; leave out --workers")
    config = load_config(Path.cwd(), os.environ, schema=schema, url=url)
    options = server_options(config.extra.get("server", {}), os.environ)
    if options.procedures:  # a bad module is a clear error here, not a worker's traceback
        load_procedures(options.procedures)
    if demo:
        path = Path(__file__).parent / "demo" / "schema.prisma"
        target = Path(".datatier/demo.db").resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        database_url = url or f"file:{target}"
        _push(path, database_url)
        asyncio.run(_seed_demo(path, database_url))
    else:
        path = find_schema(config, Path.cwd())
        loaded = load_schema(path)
        _print_warnings(loaded)
        database_url = resolve_url(
            config, os.environ, loaded.datasource.url if loaded.datasource else None, path
        )
    os.environ[SCHEMA_ENV] = str(path.resolve())
    os.environ[URL_ENV] = database_url
    if debug:
        os.environ[DEBUG_ENV] = "1"
    listen_host = host or options.host
    listen_port = port if port is not None else options.port
    base = f"http://{listen_host}:{listen_port}"
    typer.echo(f"datatier API on {base}: docs {base}/docs, GraphiQL {base}/graphql")
    uvicorn.run(
        "datatier.api._serve:app_from_environment",
        factory=True,
        host=listen_host,
        port=listen_port,
        workers=None if reload else workers or options.workers,
        reload=reload,
        log_level="warning",
        timeout_graceful_shutdown=options.graceful_timeout,
    )


async def _seed_demo(path: Path, url: str) -> None:
    from datatier.api._demo import seed_demo
    from datatier.client import Client

    async with Client(path, url) as db:
        if await seed_demo(db):
            typer.echo("seeded the demo: 300 users, 3000 posts, 9000 comments")


@app.command()
@_reports_errors
def generate(
    schema: SchemaOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Package folder to write (default: the datatier generator block's output, "
            "relative to the schema, else ./datatier_client).",
        ),
    ] = None,
) -> None:
    """Write a typed Python client package for the schema (never connects to a database)."""
    from datatier.codegen import default_output, generate_client

    path, _ = _schema_path(schema)
    loaded = load_schema(path)
    _print_warnings(loaded)
    target = output if output is not None else default_output(loaded, path, Path.cwd())
    files = generate_client(loaded, path, target)
    typer.echo(f"wrote the typed client ({len(files)} files) to {_shown(target.absolute())}")


@app.command("prisma-generator", hidden=True)
def prisma_generator() -> None:
    """Speak Prisma's generator protocol on stdin/stderr (what `prisma generate` runs)."""
    import sys

    from datatier.codegen._prisma_generator import serve_generator

    serve_generator(sys.stdin, sys.stderr, typer.echo)


def main() -> None:
    """Entry point of the ``datatier`` console command."""
    import sys

    from datatier.codegen._prisma_generator import ENV_VAR

    # `prisma generate` runs a generator block's provider ("datatier") without arguments.
    if os.environ.get(ENV_VAR) and len(sys.argv) == 1:
        sys.argv.append("prisma-generator")
    app(prog_name="datatier")


if __name__ == "__main__":  # pragma: no cover
    main()
