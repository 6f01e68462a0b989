"""What ``datatier serve`` runs: settings from the ``[server]`` table, and the app factory
each uvicorn worker process calls.

The command resolves the schema and URL once and hands them to the workers through
``DATATIER_SERVE_SCHEMA`` / ``DATATIER_SERVE_URL``, so one and N workers start alike.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from datatier.api._app import create_app
from datatier.api._auth import AuthSettings
from datatier.api._compression import CompressionSettings
from datatier.api._cors import CorsSettings
from datatier.api._graphql_settings import GraphqlSettings
from datatier.api._procedures import Procedures
from datatier.api._ratelimit import RateLimitSettings
from datatier.api._responsecache import ResponseCacheSettings
from datatier.api._settings import ApiSettings
from datatier.client import Client
from datatier.config import load_config
from datatier.errors import ConfigError

__all__ = [
    "SCHEMA_ENV",
    "URL_ENV",
    "ServerOptions",
    "app_from_environment",
    "load_procedures",
    "server_options",
]

SCHEMA_ENV = "DATATIER_SERVE_SCHEMA"
URL_ENV = "DATATIER_SERVE_URL"
DEBUG_ENV = "DATATIER_SERVE_DEBUG"

_LISTEN_KEYS: Mapping[str, type] = {
    "host": str,
    "port": int,
    "workers": int,
    "procedures": str,
    "graceful_timeout": int,
}
_TABLES = ("auth", "rate_limit", "graphql", "cors", "compression", "response_cache")
_SETTING_KEYS: Mapping[str, type] = {
    "default_page": int,
    "max_page": int,
    "max_include_depth": int,
    "max_batch": int,
    "debug": bool,
    "metrics": bool,
    "access_log": bool,
    "max_body_size": int,
    "etag": bool,
}


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Where to listen and how many worker processes, the module whose ``procedures`` the app
    serves (``"myapp.procs"``; None: none), how long a stopping server lets in-flight
    requests finish (``graceful_timeout`` seconds), plus the app's settings."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    procedures: str | None = None
    graceful_timeout: int = 30
    settings: ApiSettings = field(default_factory=ApiSettings)


def server_options(table: Mapping[str, Any], env: Mapping[str, str]) -> ServerOptions:
    """Options from a ``[server]`` table (``auth``, ``rate_limit``, ``graphql`` sub-tables)."""
    listen: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("compression", "response_cache") and value is False:
            values[key] = None
            continue
        if key in _TABLES:
            if not isinstance(value, Mapping):
                raise ConfigError(f"[server.{key}] must be a table")
            if key == "cors":
                values["cors"] = CorsSettings.from_config(value)
            elif key == "compression":
                try:
                    values["compression"] = CompressionSettings(**value)
                except (TypeError, ValueError) as error:
                    raise ConfigError(f"[server.compression]: {error}") from None
            elif key == "auth":
                values["auth"] = AuthSettings.from_config(value, env)
            elif key == "rate_limit":
                values["rate_limit"] = RateLimitSettings.from_config(value)
            elif key == "response_cache":
                try:
                    values["response_cache"] = ResponseCacheSettings(**value)
                except (TypeError, ValueError) as error:
                    raise ConfigError(f"[server.response_cache]: {error}") from None
            else:
                try:
                    values["graphql"] = GraphqlSettings(**value)
                except (TypeError, ValueError) as error:
                    raise ConfigError(f"[server.graphql]: {error}") from None
            continue
        expected = _LISTEN_KEYS.get(key) or _SETTING_KEYS.get(key)
        if expected is None:
            known = sorted([*_LISTEN_KEYS, *_SETTING_KEYS, *_TABLES])
            raise ConfigError(f"[server]: unknown key `{key}`; known: {', '.join(known)}")
        if type(value) is not expected:
            raise ConfigError(
                f"[server] {key} must be {'an integer' if expected is int else expected.__name__}"
                f", not {value!r}"
            )
        (listen if key in _LISTEN_KEYS else values)[key] = value
    if env.get(DEBUG_ENV) == "1":
        values["debug"] = True
    try:
        settings = ApiSettings(**values)
    except ValueError as error:
        raise ConfigError(f"[server]: {error}") from None
    return ServerOptions(settings=settings, **listen)


def app_from_environment() -> Starlette:
    """The app of one ``datatier serve`` worker (a uvicorn factory)."""
    schema = os.environ.get(SCHEMA_ENV)
    url = os.environ.get(URL_ENV)
    if not schema or not url:
        raise ConfigError(f"{SCHEMA_ENV} and {URL_ENV} must be set (`datatier serve` sets them)")
    config = load_config(Path.cwd(), os.environ)
    table = config.extra.get("server", {})
    options = server_options(table, os.environ)
    procedures = load_procedures(options.procedures) if options.procedures else None
    return create_app(
        Client(schema, url), options.settings, procedures=procedures, close_client=True
    )


def load_procedures(module_name: str) -> Procedures:
    """The ``procedures`` registry of module ``module_name`` (importable from the working
    directory, the project's root); ``ConfigError`` saying what is missing otherwise."""
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(
            f"[server] procedures = {module_name!r}: cannot import it ({error}); give a module "
            "importable from the project's directory"
        ) from None
    registry = getattr(module, "procedures", None)
    if not isinstance(registry, Procedures):
        raise ConfigError(
            f"[server] procedures = {module_name!r}: the module must define "
            "`procedures = Procedures()` and register its functions on it"
        )
    return registry
