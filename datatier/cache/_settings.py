"""Cache settings: the ``[cache]`` table of datatier.toml, ``Client(cache=...)`` and the
per-call ``cache=`` option, checked once into frozen dataclasses.

Every bad value is a ``ConfigError`` naming its key path (``cache.models.Post.ttl``), what
was expected and what was found.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

from datatier.errors import ConfigError, ValidationError

__all__ = [
    "CacheSettings",
    "CallOptions",
    "ModelSettings",
    "WarmQuery",
    "call_options",
    "to_settings",
]

WriteMode = Literal["through", "back"]
_READ_OPERATIONS = frozenset(
    {
        "find_unique",
        "find_unique_or_raise",
        "find_first",
        "find_first_or_raise",
        "find_many",
        "count",
        "aggregate",
        "group_by",
    }
)


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """One model's cache policy: ``enabled`` (cache its reads), freshness in seconds, how its
    writes reach the cache (``through``: invalidate on commit; ``back``: write-back) and,
    for write-back, which ``fields`` may be written back."""

    enabled: bool = True
    ttl: float = 60.0
    swr: float = 0.0
    negative_ttl: float = 5.0
    write: WriteMode = "through"
    fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _non_negative(self, ("ttl", "swr", "negative_ttl"), "ModelSettings")
        if self.write not in ("through", "back"):
            raise ConfigError(
                f'ModelSettings.write must be "through" or "back", not {self.write!r}'
            )


@dataclass(frozen=True, slots=True)
class WarmQuery:
    """A read run at start-up to fill the cache: ``db.<model>.<operation>(**args)``."""

    model: str
    operation: str
    args: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class CallOptions:
    """A call's ``cache={...}``: None keeps the model's setting."""

    ttl: float | None = None
    swr: float | None = None
    negative_ttl: float | None = None


@dataclass(frozen=True, slots=True)
class CacheSettings:
    """The whole ``[cache]`` table (see docs/cache.md for every key)."""

    enabled: bool = True
    redis: str | None = None
    namespace: str = "datatier"
    memory: bool = True
    ttl: float = 60.0
    swr: float = 0.0
    negative_ttl: float = 5.0
    max_entries: int = 10_000
    max_bytes: int = 64 * 1024 * 1024
    max_rows: int = 100_000
    lease_ms: int = 200
    wait_ms: int = 100
    redis_timeout: float = 0.5
    poll_interval: float = 0.2
    external_writes: bool = False
    flush_interval: float = 0.1
    batch_size: int = 500
    models: Mapping[str, ModelSettings] = field(default_factory=lambda: MappingProxyType({}))
    warm: tuple[WarmQuery, ...] = ()

    def __post_init__(self) -> None:
        numbers = [k for k, kind in _TOP.items() if kind in (int, float)]
        _non_negative(self, numbers, "CacheSettings")

    def model(self, name: str) -> ModelSettings:
        """``name``'s settings: its ``[cache.models.<name>]`` table over the top-level defaults."""
        found = self.models.get(name)
        if found is not None:
            return found
        return ModelSettings(ttl=self.ttl, swr=self.swr, negative_ttl=self.negative_ttl)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "cache") -> CacheSettings:
        """Settings from a ``[cache]`` table (or the same keys in a dict); ``ConfigError``
        with the key path for anything unknown or mistyped."""
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "models":
                continue
            if key == "warm":
                values["warm"] = _warm(value, f"{where}.warm")
                continue
            kind = _TOP.get(key)
            if kind is None:
                _unknown(key, where, _TOP.keys() | {"models", "warm"})
            values[key] = _check(value, kind, f"{where}.{key}")
        defaults = cls(**values)
        models_table = data.get("models", {})
        if not isinstance(models_table, Mapping):
            raise ConfigError(
                f"{where}.models must be a table of model names, not {type(models_table).__name__}"
            )
        models = {}
        for name, table in models_table.items():
            path = f"{where}.models.{name}"
            if isinstance(table, bool):
                table = {"enabled": table}
            if not isinstance(table, Mapping):
                raise ConfigError(
                    f"{path} must be a table (or true/false), not {type(table).__name__}"
                )
            models[name] = _model(table, path, defaults)
        return replace(defaults, models=MappingProxyType(models))


_TOP: Mapping[str, Any] = {
    "enabled": bool,
    "redis": (str, type(None)),
    "namespace": str,
    "memory": bool,
    "ttl": float,
    "swr": float,
    "negative_ttl": float,
    "max_entries": int,
    "max_bytes": int,
    "max_rows": int,
    "lease_ms": int,
    "wait_ms": int,
    "redis_timeout": float,
    "poll_interval": float,
    "external_writes": bool,
    "flush_interval": float,
    "batch_size": int,
}
_MODEL: Mapping[str, Any] = {
    "enabled": bool,
    "ttl": float,
    "swr": float,
    "negative_ttl": float,
    "write": str,
    "fields": list,
}
_NAMES = {
    bool: "true or false",
    float: "a number of seconds (>= 0)",
    int: "a whole number (>= 0)",
    str: "a string",
    list: "a list of field names",
}


def _non_negative(settings: Any, names: Any, owner: str) -> None:
    """Settings built in code check themselves too (the table reader names key paths)."""
    for name in names:
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{owner}.{name} must be a number >= 0, not {value!r}")


def _unknown(key: str, where: str, known: Any) -> None:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    hint = (
        f"; did you mean {close[0]!r}?" if close else f" (known keys: {', '.join(sorted(known))})"
    )
    raise ConfigError(f"unknown key {where}.{key}{hint}")


def _check(value: Any, kind: Any, path: str) -> Any:
    if isinstance(kind, tuple):  # optional string
        if value is None or isinstance(value, str):
            return value
        raise ConfigError(f"{path} must be a string, not {type(value).__name__}")
    ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok or (kind in (int, float) and value < 0):
        raise ConfigError(f"{path} must be {_NAMES[kind]}, not {value!r}")
    if kind is list:
        if not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{path} must be {_NAMES[list]}, not {value!r}")
        return tuple(value)
    return value


def _model(table: Mapping[str, Any], path: str, defaults: CacheSettings) -> ModelSettings:
    values: dict[str, Any] = {
        "ttl": defaults.ttl,
        "swr": defaults.swr,
        "negative_ttl": defaults.negative_ttl,
    }
    for key, value in table.items():
        kind = _MODEL.get(key)
        if kind is None:
            _unknown(key, path, _MODEL.keys())
        values[key] = _check(value, kind, f"{path}.{key}")
    if values.get("write", "through") not in ("through", "back"):
        raise ConfigError(f'{path}.write must be "through" or "back", not {values["write"]!r}')
    return ModelSettings(**values)


def _warm(value: Any, path: str) -> tuple[WarmQuery, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{path} must be a list of {{model, operation, args}} tables")
    queries = []
    for i, item in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where} must be a table with model, operation and args")
        for key in item:
            if key not in ("model", "operation", "args"):
                _unknown(key, where, {"model", "operation", "args"})
        model, operation, args = (
            item.get("model"),
            item.get("operation", "find_many"),
            item.get("args", {}),
        )
        if not isinstance(model, str):
            raise ConfigError(f"{where}.model must be a model name")
        if operation not in _READ_OPERATIONS:
            raise ConfigError(
                f"{where}.operation must be a read ({', '.join(sorted(_READ_OPERATIONS))}), not {operation!r}"
            )
        if not isinstance(args, Mapping):
            raise ConfigError(f"{where}.args must be a table (the query document)")
        queries.append(WarmQuery(model, operation, MappingProxyType(dict(args))))
    return tuple(queries)


def to_settings(
    value: bool | Mapping[str, Any] | CacheSettings | None, table: Any
) -> CacheSettings | None:
    """The settings ``Client(cache=value)`` runs with, given the config file's ``[cache]``
    ``table`` (or None): ``None``/``False`` -> off unless the table turns it on, ``True`` ->
    the table (or defaults), a mapping -> its keys over the table's."""
    if table is not None and not isinstance(table, Mapping):
        raise ConfigError("[cache] must be a table")
    if isinstance(value, CacheSettings):
        settings = value
    elif value is False:
        return None
    elif value is None:
        if table is None:
            return None
        settings = CacheSettings.from_mapping(table)
    elif value is True:
        settings = CacheSettings.from_mapping(table or {})
    elif isinstance(value, Mapping):
        settings = CacheSettings.from_mapping({**(table or {}), **value})
    else:
        raise ConfigError(
            f"Client(cache=...) takes True, False, a mapping or CacheSettings, not {type(value).__name__}"
        )
    return settings if settings.enabled else None


def call_options(value: Any) -> CallOptions:
    """A call's ``cache={"ttl": .., "swr": .., "negative_ttl": ..}`` checked."""
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"cache= takes true, false or a mapping like {{'ttl': 30}}, not {type(value).__name__}",
            ("cache",),
        )
    values: dict[str, float] = {}
    for key, seconds in value.items():
        if key not in ("ttl", "swr", "negative_ttl"):
            raise ValidationError(
                f"cache= option {key!r} is unknown; known: ttl, swr, negative_ttl",
                ("cache", str(key)),
            )
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValidationError(
                f"cache= option {key} must be a number of seconds >= 0, not {seconds!r}",
                ("cache", key),
            )
        values[key] = float(seconds)
    return CallOptions(**values)
