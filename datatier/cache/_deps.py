"""What a read depends on: the models its document touches, or the one row it names.

A read's answer can change when any model it reads changes: the model itself, every model
reached through ``include``/``select``, relation filters (``some``/``every``/``none``/``is``)
and relation ``orderBy``, and ``_count`` (every relation it may count), at any depth.
``find_unique`` of exactly one primary key, selecting no relation, depends on that one
row only (an "entity" read).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from datatier.query._changes import key_text
from datatier.query._model_info import ModelInfo, SchemaInfo

__all__ = ["Dependencies", "ReadDeps"]

_ENTITY_OPS = frozenset({"find_unique", "find_unique_or_raise"})
_EXACT_TEXT = frozenset({"Text", "VarChar"})


class ReadDeps(NamedTuple):
    """An entity read's ``row`` (key text of its primary key) or a query's ``models`` (sorted)."""

    row: str | None
    models: tuple[str, ...]


class Dependencies:
    """Computes ``ReadDeps`` from a schema's relations."""

    def __init__(self, info: SchemaInfo) -> None:
        self.info = info

    def of(self, operation: str, model: str, document: Mapping[str, Any]) -> ReadDeps:
        """The dependencies of ``operation`` on ``model`` with ``document``."""
        info = self.info.models.get(model)
        if info is None:
            return ReadDeps(None, (model,))
        if operation in _ENTITY_OPS:
            row = _entity_row(info, document)
            if row is not None:
                return ReadDeps(row, (model,))
        found = {model}
        self._walk(info, document, found)
        return ReadDeps(None, tuple(sorted(found)))

    def _walk(self, info: ModelInfo, value: Any, found: set[str]) -> None:
        # Conservative by construction: any key naming a relation of the current model,
        # wherever it appears (include, select, where, orderBy, _count), adds its target.
        if isinstance(value, Mapping):
            for key, inner in value.items():
                link = info.relations.get(key) if isinstance(key, str) else None
                if link is not None:
                    found.add(link.target)
                    self._walk(self.info.models[link.target], inner, found)
                elif key == "_count":
                    for other in info.relations.values():
                        found.add(other.target)
                    self._walk(info, inner, found)
                else:
                    self._walk(info, inner, found)
        elif isinstance(value, list | tuple):
            for inner in value:
                self._walk(info, inner, found)


def _entity_row(info: ModelInfo, document: Mapping[str, Any]) -> str | None:
    """Key text of the row a ``find_unique`` names by its whole primary key, selecting only
    scalar fields; None for anything else. Only ``int`` values and ``str`` values of text
    columns that compare exactly qualify: a row the database finds by them has exactly that
    key text in its change events."""
    if not info.key_fields or not set(document) <= {"where", "select"}:
        return None
    select = document.get("select")
    if select is not None:
        if not isinstance(select, Mapping):
            return None
        for name, wanted in select.items():
            if name not in info.scalars or not isinstance(wanted, bool):
                return None
    where = document.get("where")
    if not isinstance(where, Mapping) or len(where) != 1:
        return None
    ((name, value),) = where.items()
    if len(info.key_fields) == 1:
        values = [value] if name == info.key_fields[0] else []
    elif info.compound_uniques.get(name) == info.key_fields and isinstance(value, Mapping):
        values = (
            [value.get(field) for field in info.key_fields]
            if len(value) == len(info.key_fields)
            else []
        )
    else:
        values = []
    if not values:
        return None
    for field, value in zip(info.key_fields, values, strict=True):
        if type(value) is str:
            native = info.scalars[field].native_type
            # Uuid, Char(n), citext...: the database matches other spellings of the value
            # (case, padding), which the row's key text would not name.
            if native is not None and native.name not in _EXACT_TEXT:
                return None
        elif type(value) is not int:
            return None
    return key_text(values)
