"""Role rules for the models a query document reaches beyond its root model.

The root rule (``authorize``) says whether a role may run an operation on the model named in
the URL or root field. A document reaches further: an ``include``/``select``/``_count``
returns related records, a ``where``/``orderBy``/``cursor`` that goes through a relation
reads the related model to decide which rows match, and a nested write creates, changes or
deletes related records. ``authorize_document`` walks the document once, before any SQL,
and raises ``Forbidden`` (its ``path`` naming the place in the document) for the first model
the role may not touch that way.

What each part of a document needs on the model it reaches:

- a relation in ``include``/``select``/``_count``, in a ``where`` at any depth (``some``,
  ``every``, ``none``, ``is``, ``isNot``, the to-one shorthand, ``null``), in an ``orderBy``
  (a related field or a ``_count``) or a ``cursor``: ``read``;
- a nested ``create``/``createMany``: ``create``; ``update``/``updateMany``: ``update``;
  ``upsert``: ``create`` and ``update``; ``delete``/``deleteMany``: ``delete``;
- ``connect``/``set``/``disconnect`` (and the connect half of ``connectOrCreate``): ``read`` on
  the connected model, which they look up, and ``update`` on the model whose rows hold the
  foreign key. When that is the record being written (``post.author``, or the join table of
  an implicit many-to-many, which belongs to the record it is changed through), its own
  create/update rule already covers the link; when it is the other side (``user.posts``
  connects posts by setting their ``authorId``), the other side needs ``update``.

Filtering a model by its own fields needs nothing more than the operation's own kind, as at
the root: an ``updateMany`` with a ``where`` on the model's scalars needs ``update`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datatier.api._auth import AuthSettings, Identity, OperationKind, _model_key
from datatier.errors import Forbidden
from datatier.query._links import Link
from datatier.query._model_info import SchemaInfo

__all__ = ["authorize_document"]

Path = tuple[str | int, ...]

# Root operations whose `data` may hold nested writes (createMany's rows are walked too: a
# relation there is refused by the engine, but only after this check).
_DATA_OPERATIONS = frozenset(
    (
        "create",
        "createMany",
        "createManyAndReturn",
        "update",
        "updateMany",
        "updateManyAndReturn",
    )
)
_TO_MANY_FILTERS = ("some", "every", "none")
_TO_ONE_FILTERS = frozenset(("is", "isNot"))
# Nested write operation -> the kinds it needs on the related model (links aside).
_NESTED_KINDS: Mapping[str, tuple[OperationKind, ...]] = {
    "create": ("create",),
    "createMany": ("create",),
    "connect": ("read",),
    "connectOrCreate": ("read", "create"),
    "set": ("read",),
    "disconnect": ("read",),
    "update": ("update",),
    "updateMany": ("update",),
    "upsert": ("create", "update"),
    "delete": ("delete",),
    "deleteMany": ("delete",),
}
_LINKING = frozenset(("connect", "connectOrCreate", "set", "disconnect"))
_READ = frozenset(("read",))
_WRITES = frozenset(("read", "create", "update", "delete"))


def authorize_document(
    identity: Identity | None,
    info: SchemaInfo,
    model: str,
    operation: str,
    document: Mapping[str, Any],
    auth: AuthSettings,
) -> None:
    """Raise ``Forbidden`` unless ``identity``'s role may reach every related model that
    ``document`` (of ``operation`` on ``model``) reads or writes; the root rule is checked
    apart, by ``authorize``."""
    walk = _Walk(identity, info, auth)
    # A `*` rule for a kind allows it on every model: no need to walk for it.
    if not walk.everywhere(_READ):
        walk.read_arguments(model, document, ())
    if walk.everywhere(_WRITES):
        return
    if operation in _DATA_OPERATIONS:
        data = document.get("data")
        rows = data if isinstance(data, list) else [data]
        for index, row in enumerate(rows):
            walk.data(model, row, ("data", index) if isinstance(data, list) else ("data",))
    elif operation == "upsert":
        walk.data(model, document.get("create"), ("create",))
        walk.data(model, document.get("update"), ("update",))


class _Walk:
    """One document's walk: the role, the schema's relations and the rules."""

    def __init__(self, identity: Identity | None, info: SchemaInfo, auth: AuthSettings) -> None:
        self.role = identity.role if identity is not None else None
        self.info = info
        self.auth = auth

    def everywhere(self, kinds: frozenset[str]) -> bool:
        """Whether the role's ``*`` rule allows every one of ``kinds``."""
        return self.role is not None and kinds <= self.auth.wildcard(self.role)

    def require(self, model: str, kind: OperationKind, path: Path) -> None:
        if self.role is not None and self.auth.allows(self.role, model, kind):
            return
        place = ".".join(str(part) for part in path)
        error = Forbidden(
            f"role {self.role!r} may not {kind} {model}, which `{place}` reaches; add {kind!r} "
            f"for {_model_key(model)!r} to the role's rules, or leave the relation out",
            role=self.role,
            model=model,
            operation=kind,
        )
        error.path = path  # type: ignore[attr-defined]  # the problem body names the relation
        raise error

    def relations(self, model: str) -> Mapping[str, Link]:
        # An unknown model is the engine's error to report, with its own message.
        found = self.info.models.get(model)
        return found.relations if found is not None else {}

    # -- reads -------------------------------------------------------------------------

    def read_arguments(self, model: str, args: Mapping[str, Any], path: Path) -> None:
        """``where``, ``cursor``, ``orderBy`` and ``include``/``select`` of a read of ``model``."""
        for key in ("where", "cursor"):
            if key in args:
                self.where(model, args[key], (*path, key))
        if "orderBy" in args:
            self.order_by(model, args["orderBy"], (*path, "orderBy"))
        for key in ("include", "select"):
            selection = args.get(key)
            if isinstance(selection, Mapping):
                self.selection(model, selection, (*path, key))

    def selection(self, model: str, selection: Mapping[str, Any], path: Path) -> None:
        relations = self.relations(model)
        for name, value in selection.items():
            if value is None or value is False:
                continue
            if name == "_count":
                self.count(relations, value, (*path, "_count"))
                continue
            link = relations.get(name)
            if link is None:
                continue
            self.require(link.target, "read", (*path, name))
            if isinstance(value, Mapping):
                self.read_arguments(link.target, value, (*path, name))

    def count(self, relations: Mapping[str, Link], value: Any, path: Path) -> None:
        """``_count: true`` counts every list relation; ``{select: {posts: {where}}}`` some."""
        if value is True:
            for name, counted in relations.items():
                if counted.is_list:
                    self.require(counted.target, "read", (*path, name))
            return
        chosen = value.get("select") if isinstance(value, Mapping) else None
        if not isinstance(chosen, Mapping):
            return
        for name, spec in chosen.items():
            link = relations.get(name)
            if link is None or spec is None or spec is False:
                continue
            self.require(link.target, "read", (*path, name))
            if isinstance(spec, Mapping) and "where" in spec:
                self.where(link.target, spec["where"], (*path, name, "where"))

    def where(self, model: str, where: Any, path: Path) -> None:
        """Every relation a filter goes through, inside ``AND``/``OR``/``NOT`` at any depth."""
        if not isinstance(where, Mapping):
            return
        relations = self.relations(model)
        for name, value in where.items():
            if name in ("AND", "OR", "NOT"):
                if isinstance(value, list):
                    for index, item in enumerate(value):
                        self.where(model, item, (*path, name, index))
                else:
                    self.where(model, value, (*path, name))
                continue
            link = relations.get(name)
            if link is not None:
                self.require(link.target, "read", (*path, name))
                self.relation_filter(link, value, (*path, name))

    def relation_filter(self, link: Link, value: Any, path: Path) -> None:
        if not isinstance(value, Mapping):
            return  # `author: null`: checked above, nothing inside
        if link.is_list:
            for kind in _TO_MANY_FILTERS:
                if kind in value:
                    self.where(link.target, value[kind], (*path, kind))
        elif value and set(value) <= _TO_ONE_FILTERS:
            for kind, inner in value.items():
                self.where(link.target, inner, (*path, kind))
        else:  # the shorthand: {author: {email: ...}} means {author: {is: {email: ...}}}
            self.where(link.target, value, path)

    def order_by(self, model: str, order: Any, path: Path) -> None:
        entries = order if isinstance(order, list) else [order]
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                continue
            where = (*path, index) if isinstance(order, list) else path
            relations = self.relations(model)
            for name, spec in entry.items():
                link = relations.get(name)
                if link is None:
                    continue
                self.require(link.target, "read", (*where, name))
                if not link.is_list:  # {author: {name: asc}}, or deeper through author
                    self.order_by(link.target, spec, (*where, name))

    # -- writes ------------------------------------------------------------------------

    def data(self, model: str, data: Any, path: Path) -> None:
        """The nested writes in the ``data`` of a create or update of ``model``."""
        if not isinstance(data, Mapping):
            return
        relations = self.relations(model)
        for name, value in data.items():
            link = relations.get(name)
            if link is None or not isinstance(value, Mapping):
                continue
            for op, arg in value.items():
                self.nested(link, op, arg, (*path, name, op))

    def nested(self, link: Link, op: str, arg: Any, path: Path) -> None:
        kinds = _NESTED_KINDS.get(op)
        if kinds is None:
            return  # not a nested write: the engine says so
        target = link.target
        for kind in kinds:
            self.require(target, kind, path)
        if op in _LINKING and not link.holds_foreign_key and link.through is None:
            self.require(target, "update", path)  # the link is the target rows' foreign key
        if op == "createMany":
            rows = arg.get("data") if isinstance(arg, Mapping) else None
            for index, row in enumerate(rows if isinstance(rows, list) else [rows]):
                self.data(target, row, (*path, "data", index))
            return
        items = arg if isinstance(arg, list) else [arg]
        for index, item in enumerate(items):
            self.nested_item(link, op, item, (*path, index) if isinstance(arg, list) else path)

    def nested_item(self, link: Link, op: str, item: Any, path: Path) -> None:
        """The filters and data inside one nested write on ``link``'s target."""
        target = link.target
        if not isinstance(item, Mapping):
            return  # `delete: true`, `disconnect: true`
        if op == "create":
            self.data(target, item, path)
        elif op in ("connect", "set", "disconnect", "delete", "deleteMany"):
            self.where(target, item, path)
        elif op == "connectOrCreate":
            self.where(target, item.get("where"), (*path, "where"))
            self.data(target, item.get("create"), (*path, "create"))
        elif op == "upsert":
            self.where(target, item.get("where"), (*path, "where"))
            self.data(target, item.get("create"), (*path, "create"))
            self.data(target, item.get("update"), (*path, "update"))
        elif link.is_list or op == "updateMany" or "data" in item:
            self.where(target, item.get("where"), (*path, "where"))
            self.data(target, item.get("data"), (*path, "data"))
        else:  # a to-one `update` may give its data directly
            self.data(target, item, path)
