"""What generated client packages import at runtime: select classes -> select documents.

A select class is a ``TypedDict`` naming the fields a read returns::

    class PostCard(TypedDict, closed=True):
        id: int
        title: str
        author: AuthorName                    # a relation: a select class of User
        tags: list[TagName]                   # a to-many relation: a list of them
        _count: PostCounts                    # relation counts: {comments: int, ...}

``db.post.find_many(select=PostCard)`` reads ``{"id": True, "title": True, "author":
{"select": {...}}, "tags": {"select": {...}}, "_count": {"select": {...}}}``. A relation's
annotation may carry arguments for it (``Annotated[list[TagName], {"take": 3}]``). Each class
is turned into its document once and remembered; a class that does not fit the model is a
``ValidationError`` before any SQL runs.
"""

from __future__ import annotations

import collections.abc
import difflib
import types
import typing
import weakref
from collections.abc import Mapping
from typing import Any

import typing_extensions

from datatier.errors import ValidationError

__all__ = ["FieldSpec", "SelectClasses"]

FieldSpec = tuple[str, bool, bool]
"""A field as select classes see it: related model ("" for a scalar), is a list, is optional."""

_QUALIFIERS = {
    typing.Required,
    typing.NotRequired,
    typing_extensions.Required,
    typing_extensions.NotRequired,
    typing_extensions.ReadOnly,
}
_SEQUENCES = {list, collections.abc.Sequence, typing.Sequence}
_UNIONS = {typing.Union, types.UnionType}
_RELATION_ARGS = frozenset(("where", "orderBy", "cursor", "take", "skip", "distinct"))


class SelectClasses:
    """The select documents of select classes, for the models of one generated package."""

    def __init__(self, models: Mapping[str, Mapping[str, FieldSpec]]) -> None:
        self._models = models
        self._documents: dict[str, weakref.WeakKeyDictionary[type, dict[str, Any]]] = {}

    def arguments(self, model: str, args: dict[str, Any]) -> dict[str, Any]:
        """``args`` of a call on ``model``, with a ``select`` class replaced by its document."""
        select = args.get("select")
        if isinstance(select, type):
            return {**args, "select": self.document(model, select)}
        return args

    def document(self, model: str, cls: type) -> dict[str, Any]:
        """The select document ``cls`` describes (built on first use, then remembered)."""
        cache = self._documents.setdefault(model, weakref.WeakKeyDictionary())
        found = cache.get(cls)
        if found is None:
            found = cache[cls] = self._build(model, cls, ("select",))
        return found

    def _build(self, model: str, cls: type, path: tuple[str, ...]) -> dict[str, Any]:
        name = cls.__qualname__
        if not typing_extensions.is_typeddict(cls):
            raise ValidationError(
                f"`select` takes a dict or a TypedDict class naming {model} fields; "
                f"`{name}` is not a TypedDict",
                path,
            )
        hints = _hints(cls, path)
        if not hints:
            raise ValidationError(
                f"select class `{name}` names no field; declare at least one {model} field",
                path,
            )
        fields = self._models[model]
        document: dict[str, Any] = {}
        for key, hint in hints.items():
            here = (*path, key)
            annotation, arguments = _unwrap(hint)
            if key == "_count":
                document[key] = self._counts(model, name, annotation, here)
                continue
            spec = fields.get(key)
            if spec is None:
                close = difflib.get_close_matches(key, list(fields), n=1)
                hint_text = f" (did you mean `{close[0]}`?)" if close else ""
                raise ValidationError(
                    f"select class `{name}` names `{key}`, which is not a field of "
                    f"{model}{hint_text}; fix the spelling or remove it",
                    here,
                )
            target, is_list, is_optional = spec
            nullable, inner = _without_none(annotation)
            if is_optional and not is_list and not nullable:
                raise ValidationError(
                    f"`{model}.{key}` is optional but `{name}.{key}` does not allow None; "
                    f"declare it `{_show(annotation)} | None`",
                    here,
                )
            if not target:
                if arguments:
                    raise ValidationError(
                        f"`{model}.{key}` is a scalar field; only relations take arguments",
                        here,
                    )
                document[key] = True
                continue
            document[key] = self._relation(target, key, name, inner, is_list, arguments, here)
        return document

    def _relation(
        self,
        target: str,
        key: str,
        owner: str,
        annotation: Any,
        is_list: bool,
        arguments: dict[str, Any],
        path: tuple[str, ...],
    ) -> dict[str, Any]:
        """``{"select": {...}, **arguments}`` of a relation annotated with a select class."""
        example = f"list[{target}Card]" if is_list else f"{target}Card"
        nested = annotation
        if is_list:
            if typing.get_origin(annotation) not in _SEQUENCES:
                nested = None
            else:
                (nested,) = typing.get_args(annotation) or (None,)
        if not isinstance(nested, type) or not typing_extensions.is_typeddict(nested):
            raise ValidationError(
                f"`{owner}.{key}` is a relation to {target}: annotate it with a select class "
                f"(a TypedDict of the {target} fields to read), e.g. `{key}: {example}`",
                path,
            )
        unknown = sorted(set(arguments) - _RELATION_ARGS)
        if unknown:
            raise ValidationError(
                f"`{owner}.{key}` has unknown relation arguments {unknown}; "
                f"expected some of {sorted(_RELATION_ARGS)}",
                path,
            )
        return {"select": self._build(target, nested, (*path, "select")), **arguments}

    def _counts(self, model: str, owner: str, annotation: Any, path: tuple[str, ...]) -> Any:
        """``_count: PostCounts`` -> ``{"select": {"comments": True, ...}}``."""
        lists = [
            name for name, (target, is_list, _) in self._models[model].items() if target and is_list
        ]
        if not isinstance(annotation, type) or not typing_extensions.is_typeddict(annotation):
            raise ValidationError(
                f"`{owner}._count` takes a TypedDict of {model}'s to-many relations "
                f"({', '.join(lists) or 'it has none'}), each an int",
                path,
            )
        counted = _hints(annotation, path)
        for name in counted:
            if name not in lists:
                raise ValidationError(
                    f"`{annotation.__qualname__}` counts `{name}`, which is not a to-many "
                    f"relation of {model}; it may count {', '.join(lists) or 'nothing'}",
                    (*path, name),
                )
        return {"select": dict.fromkeys(counted, True)}


def _hints(cls: type, path: tuple[str, ...]) -> dict[str, Any]:
    """The annotations of ``cls``, resolved (``ReadOnly``, ``Annotated`` and the like kept)."""
    try:
        return typing_extensions.get_type_hints(cls, include_extras=True)
    except NameError as error:
        raise ValidationError(
            f"the annotations of select class `{cls.__qualname__}` cannot be read ({error}); "
            "define the classes it names at module level",
            path,
        ) from None


def _unwrap(hint: Any) -> tuple[Any, dict[str, Any]]:
    """The annotation without ``ReadOnly``/``Required``/``NotRequired``/``Annotated``, and the
    relation arguments an ``Annotated`` carried."""
    arguments: dict[str, Any] = {}
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated or origin is typing_extensions.Annotated:
            for extra in hint.__metadata__:
                if isinstance(extra, Mapping):
                    arguments.update(extra)
            hint = typing.get_args(hint)[0]
        elif origin in _QUALIFIERS:
            hint = typing.get_args(hint)[0]
        else:
            return hint, arguments


def _without_none(annotation: Any) -> tuple[bool, Any]:
    """Whether ``annotation`` admits None, and the annotation without None."""
    if annotation is Any or annotation is object:
        return True, annotation
    if annotation is None or annotation is type(None):
        return True, annotation
    if typing.get_origin(annotation) in _UNIONS:
        members = typing.get_args(annotation)
        rest = [m for m in members if m is not type(None)]
        if len(rest) == len(members):
            return False, annotation
        return True, rest[0] if len(rest) == 1 else annotation  # several: not one class
    return False, annotation


def _show(annotation: Any) -> str:
    return annotation.__qualname__ if isinstance(annotation, type) else repr(annotation)
