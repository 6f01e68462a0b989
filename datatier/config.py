"""Where datatier's settings come from, and the connection rules built on them.

Settings are read, lowest precedence first, from ``[tool.datatier]`` in
``pyproject.toml``, ``datatier.toml``, the environment and command-line flags.
The database URL then follows Prisma's order (``--url``, ``DATABASE_URL``, the
config file, the schema's datasource) and decides which database a schema runs on.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from datatier.errors import ConfigError, ProviderMismatch, SchemaNotFound
from datatier.schema._ir import UrlSource

__all__ = [
    "CONFIG_FILE",
    "Config",
    "check_provider",
    "find_schema",
    "load_config",
    "mask_url",
    "provider_for_url",
    "resolve_url",
]

CONFIG_FILE = "datatier.toml"
PYPROJECT_FILE = "pyproject.toml"
SCHEMA_ENV = "DATATIER_SCHEMA"
URL_ENV = "DATABASE_URL"
DEFAULT_SCHEMAS = ("schema.prisma", "prisma/schema.prisma")

# Keys that become fields of ``Config``, with the TOML type each must have.
_FIELD_KEYS: Mapping[str, type] = {"schema": str, "url": str}
# Keys that later features own; their values land in ``Config.extra`` unchanged.
_EXTRA_KEYS: Mapping[str, type] = {"seed": str, "server": dict, "cache": dict}
# Keys holding paths, taken relative to the file that sets them.
_PATH_KEYS = frozenset({"schema", "seed"})
_TYPE_NAMES: Mapping[type, str] = {str: "a string", dict: "a table", bool: "true or false", int: "an integer"}

_SCHEMES: Mapping[str, str] = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "file": "sqlite",
    "sqlite": "sqlite",
    "mysql": "mysql",
}
_PORTABLE_TARGETS = frozenset({"sqlite", "postgresql"})
_PASSWORD_PARAM = re.compile(r"(?i)(\bpassword=)[^&;\s]*")


@dataclass(frozen=True, slots=True)
class Config:
    """Settings after merging every source; ``origin`` names where each one came from.

    ``schema`` is absolute once ``load_config`` made it (config-file values are
    relative to their file, environment and flag values to the working directory).
    """

    schema: Path | None = None
    url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    origin: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def load_config(
    cwd: Path, env: Mapping[str, str], *, schema: str | None = None, url: str | None = None
) -> Config:
    """Merge ``pyproject.toml``, ``datatier.toml``, ``env`` and the flags ``schema``/``url`` into a ``Config``."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for path, table in (
        (cwd / PYPROJECT_FILE, ("tool", "datatier")),
        (cwd / CONFIG_FILE, ()),
    ):
        for key, value in _read_file(path, table).items():
            values[key] = (path.parent / value) if key in _PATH_KEYS else value
            origin[key] = str(path)

    for key, env_name in (("schema", SCHEMA_ENV), ("url", URL_ENV)):
        if env.get(env_name):
            values[key] = cwd / env[env_name] if key == "schema" else env[env_name]
            origin[key] = env_name
    for key, flag in (("schema", schema), ("url", url)):
        if flag is not None:
            values[key] = cwd / flag if key == "schema" else flag
            origin[key] = f"--{key}"

    schema_path = values.pop("schema", None)
    return Config(
        schema=Path(os.path.normpath(schema_path)) if schema_path is not None else None,
        url=values.pop("url", None),
        extra=MappingProxyType(values),
        origin=MappingProxyType(origin),
    )


def _read_file(path: Path, table: tuple[str, ...]) -> dict[str, Any]:
    """The checked datatier settings of one TOML file (inside ``table``), or nothing if the file is absent."""
    if not path.is_file():
        return {}
    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    where = ".".join(table)
    for name in table:
        data = data.get(name, {}) if isinstance(data, dict) else None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: [{where}] must be a table")
    known = {**_FIELD_KEYS, **_EXTRA_KEYS}
    prefix = f"{where}." if where else ""
    for key, value in data.items():
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known keys: {', '.join(sorted(known))})"
            raise ConfigError(f"{path}: unknown key {prefix}{key!r}{hint}")
        expected = known[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"{path}: {prefix}{key} must be {_TYPE_NAMES.get(expected, expected.__name__)}, "
                f"not {type(value).__name__}"
            )
    return dict(data)


def find_schema(config: Config, cwd: Path) -> Path:
    """The schema file or folder to use: the configured one, else ``./schema.prisma``, else ``./prisma/schema.prisma``."""
    if config.schema is not None:
        candidate = cwd / config.schema
        if _is_schema(candidate):
            return candidate
        source = config.origin.get("schema", "configuration")
        raise SchemaNotFound(
            f"schema not found: {candidate} (from {source}) is not a .prisma file "
            "or a folder of .prisma files"
        )
    looked = [cwd / name for name in DEFAULT_SCHEMAS]
    for candidate in looked:
        if _is_schema(candidate):
            return candidate
    places = ", ".join(str(p) for p in looked)
    raise SchemaNotFound(
        f"no schema found; looked at {places}. Pass --schema PATH "
        f"(or set {SCHEMA_ENV}, or schema in {CONFIG_FILE})"
    )


def _is_schema(path: Path) -> bool:
    if path.is_dir():
        return any(p.is_file() for p in path.rglob("*.prisma"))
    return path.is_file()


def resolve_url(
    config: Config,
    env: Mapping[str, str],
    datasource_url: UrlSource | None,
    schema_path: Path,
    *,
    datasource_line: int | None = None,
) -> str:
    """The database URL to connect to, first found of ``--url``, ``DATABASE_URL``, config file, datasource.

    ``config.url`` already holds the flag, environment or file value when
    ``load_config`` built it. A ``file:``/``sqlite:`` URL comes back as
    ``file:/absolute/path``, a relative path taken from the schema's directory.
    """
    url = config.url or env.get(URL_ENV) or None
    if url is None and datasource_url is not None:
        url = _datasource_url(datasource_url, env, schema_path, datasource_line)
    if url is None:
        raise ConfigError(
            f"no database URL: pass --url, set {URL_ENV}, set url in {CONFIG_FILE}, "
            f"or give the datasource in {schema_path} a url"
        )
    if provider_for_url(url) == "sqlite":
        base = schema_path if schema_path.is_dir() else schema_path.parent
        return _normalize_sqlite(url, base)
    return url


def _datasource_url(
    source: UrlSource, env: Mapping[str, str], schema_path: Path, line: int | None
) -> str | None:
    if source.env is None:
        return source.value
    where = f"{schema_path}:{line}: " if line is not None else f"{schema_path}: "
    value = env.get(source.env)
    if value is None:
        raise ConfigError(
            f'{where}environment variable {source.env} is not set (datasource url = env("{source.env}")); '
            f"set it, or pass --url"
        )
    if not value.strip():
        raise ConfigError(f'{where}environment variable {source.env} is empty (datasource url = env("{source.env}"))')
    return value


def _normalize_sqlite(url: str, base: Path) -> str:
    """``file:``/``sqlite:`` in any common spelling -> ``file:/abs/path`` (query string kept)."""
    scheme, _, rest = url.partition(":")
    rest, sep, query = rest.partition("?")
    if rest.startswith("//"):
        # URI form: file:///abs, file://localhost/abs, sqlite:///relative, sqlite:////abs
        host, slash, path = rest[2:].partition("/")
        if host not in ("", "localhost"):
            raise ConfigError(f"{mask_url(url)}: a SQLite URL cannot name a host ({host!r})")
        if scheme.lower() == "file":
            path = slash + path
    else:
        path = rest
    if path in ("", ":memory:"):
        return f"file::memory:{sep}{query}"
    resolved = Path(os.path.normpath(base.absolute() / path))
    return f"file:{resolved.as_posix()}{sep}{query}"


def provider_for_url(url: str) -> str:
    """The provider a URL is for: ``postgresql``, ``sqlite`` or ``mysql``; ``ConfigError`` for anything else."""
    scheme, colon, _ = url.partition(":")
    provider = _SCHEMES.get(scheme.lower()) if colon else None
    if provider is None:
        accepted = ", ".join(f"{s}:" for s in _SCHEMES)
        shown = f"scheme {scheme!r}" if colon else "no scheme"
        raise ConfigError(f"unsupported database URL {mask_url(url)!r} ({shown}); accepted: {accepted}")
    return provider


def check_provider(schema_provider: str, is_portable: bool, url: str) -> str:
    """The provider to run on: the URL's, when the schema declares it or is portable; else ``ProviderMismatch``.

    A portable schema uses nothing provider-specific (no ``@db.*``, no scalar
    lists), so it runs on SQLite and PostgreSQL alike and the URL picks.
    """
    declared = _SCHEMES.get(schema_provider, schema_provider)
    target = provider_for_url(url)
    if target == declared:
        return target
    if is_portable and target in _PORTABLE_TARGETS:
        return target
    if is_portable:
        why = f'a schema runs on {target} only when its datasource says provider = "{target}"'
    else:
        why = "the schema uses provider-specific features (native types or scalar lists)"
    raise ProviderMismatch(
        f'the schema declares provider "{declared}" but the URL {mask_url(url)} is a {target} URL; '
        f"it cannot run there: {why}"
    )


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (in the user info and in a ``password=`` parameter)."""
    masked = _PASSWORD_PARAM.sub(r"\1***", url)
    try:
        parts = urlsplit(masked)
    except ValueError:
        return masked
    userinfo, at, hostinfo = parts.netloc.rpartition("@")
    if not at:
        return masked
    user, colon, password = userinfo.partition(":")
    if not colon or not password:
        return masked
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostinfo}"))
