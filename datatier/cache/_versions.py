"""Versions: which change events this process has applied, as tokens for cache keys.

A model's version is the seq of the last applied event touching it (directly, through an
implicit many-to-many ``link``, or through a referential action the database ran). A row's
version is the seq of the last event naming it; the row map is bounded, and evicting a
row raises its model's floor to that row's version, so every row not in the map gets a
new key (a miss, never a stale hit). Keys embed these tokens, so a write makes the old
entries unreachable instead of deleting them; a key computed before a database read can
only be filled with what that read saw, and is unreachable once a later event is applied.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from datatier.query._changes import ChangeEvent
from datatier.query._model_info import SchemaInfo
from datatier.schema._ir import ReferentialAction

__all__ = ["Versions", "referential_dependents"]

_ACTS = frozenset(
    {ReferentialAction.CASCADE, ReferentialAction.SET_NULL, ReferentialAction.SET_DEFAULT}
)


def referential_dependents(info: SchemaInfo) -> dict[str, tuple[str, ...]]:
    """For each model, the models whose rows the database may change when one of its rows
    is deleted or has its referenced fields updated (ON DELETE/UPDATE CASCADE, SET NULL,
    SET DEFAULT), followed transitively. Those changes record no events of their own."""
    direct: dict[str, set[str]] = {}
    for relation in info.schema.relations:
        if relation.join_table is not None:
            continue
        if relation.on_delete in _ACTS or relation.on_update in _ACTS:
            direct.setdefault(relation.referenced_model, set()).add(relation.referencing_model)
    closure: dict[str, tuple[str, ...]] = {}
    for model in direct:
        seen: set[str] = set()
        todo = list(direct[model])
        while todo:
            other = todo.pop()
            if other not in seen:
                seen.add(other)
                todo.extend(direct.get(other, ()))
        closure[model] = tuple(sorted(seen))
    return closure


class Versions:
    """Model and row versions of the events applied so far (see the module docstring)."""

    def __init__(self, info: SchemaInfo, max_rows: int = 100_000) -> None:
        self.info = info
        self.max_rows = max_rows
        self.applied = 0
        self.vouched = True
        self.events = 0  # events applied
        self.events_by_model: dict[str, int] = {}  # the invalidations metric
        self._base = 0
        self._models: dict[str, int] = {}
        self._floors: dict[str, int] = {}
        self._rows: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._dependents = referential_dependents(info)
        self._on_resume: list[Callable[[], None]] = []

    def start_at(self, seq: int) -> None:
        """Begin at ``seq`` without replaying the events before it: every model and row
        version becomes ``seq``, so no key from before can be reused by mistake."""
        self.applied = self._base = seq
        self._models.clear()
        self._floors.clear()
        self._rows.clear()

    def apply(self, events: Iterable[ChangeEvent]) -> None:
        """Apply ``events`` in seq order; those at or below ``applied`` are ignored."""
        for event in events:
            seq = event.seq
            if seq <= self.applied:
                continue
            model = event.model
            self._models[model] = seq
            row = (model, event.key)
            self._rows[row] = seq
            self._rows.move_to_end(row)
            if event.op != "create" and event.op != "link":
                for dependent in self._dependents.get(model, ()):
                    # Rows changed by the database itself: which ones is unknown, so all of them.
                    self._models[dependent] = seq
                    self._floors[dependent] = seq
            while len(self._rows) > self.max_rows:
                (old_model, _), version = self._rows.popitem(last=False)
                if version > self._floors.get(old_model, self._base):
                    self._floors[old_model] = version
            self.applied = seq
            self.events += 1
            self.events_by_model[model] = self.events_by_model.get(model, 0) + 1

    def suspend(self) -> None:
        """The bus cannot vouch for freshness: the cache is bypassed until ``resume``."""
        self.vouched = False

    def resume(self) -> None:
        """Caught up again: the cache serves again (listeners clear the memory tier)."""
        for callback in self._on_resume:
            callback()
        self.vouched = True

    def on_resume(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on every ``resume`` (before reads are served again)."""
        self._on_resume.append(callback)

    def models_token(self, models: Iterable[str]) -> str:
        """``"Post=12,User=7"``: the versions of ``models`` (given sorted)."""
        versions = self._models
        base = self._base
        return ",".join(f"{m}={versions.get(m, base)}" for m in models)

    def row_token(self, model: str, key: str) -> str:
        """The version of one row: its own, or its model's floor when that is newer."""
        floor = self._floors.get(model, self._base)
        version = self._rows.get((model, key), floor)
        return str(version if version > floor else floor)
