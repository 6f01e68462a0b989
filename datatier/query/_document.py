"""What the planner's walks share: values in database form, and small document helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeGuard

from datatier.errors import ValidationError
from datatier.query._model_info import ModelInfo

__all__ = [
    "DbValue",
    "Path",
    "Shape",
    "Source",
    "all_of",
    "integer",
    "is_mapping",
    "json_text",
    "unknown_field",
]

Shape = tuple[Any, ...]
Path = tuple[str | int, ...]
# where a parameter comes from in a document (None: a constant), and how it is converted
Source = tuple[Path | None, Callable[[Any], Any]]


class DbValue:
    """A value already in database form (read back from the database): used as it is."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)


def json_text(value: Any, path: Path) -> str:
    import orjson

    try:
        return orjson.dumps(value).decode()
    except TypeError:
        raise ValidationError("expected a JSON value", path) from None


_NOT_MAPPINGS = (str, int, float, list, tuple, bytes, type(None))


def is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(value, Mapping)``, without the ABC check for the usual suspects (it is slow)."""
    if isinstance(value, dict):
        return True
    if isinstance(value, _NOT_MAPPINGS):
        return False
    return isinstance(value, Mapping)


def all_of(conditions: Sequence[Shape]) -> Shape | None:
    real = [c for c in conditions if c != ("true",)]
    if not real:
        return ("true",) if conditions else None
    if len(real) == 1:
        return real[0]
    return ("and", tuple(real))


def integer(value: Any, path: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("expected an integer", path)
    return value


def unknown_field(info: ModelInfo, name: str) -> str:
    import difflib

    candidates = [*info.scalars, *info.relations]
    close = difflib.get_close_matches(name, candidates, n=1)
    hint = f"; did you mean `{close[0]}`?" if close else ""
    return f"`{info.name}` has no field `{name}`{hint}"
