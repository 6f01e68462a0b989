"""User-defined RPC procedures: typed Python functions served as ``/rpc/{name}``.

A procedure is an ``async def`` whose input is one typed parameter (a pydantic model, a
``TypedDict`` or any type pydantic validates) and whose return annotation is its output; an
optional parameter annotated ``ProcedureContext`` receives the caller's identity and a
database handle (the client for read-only procedures, else a transaction that commits when
the procedure returns). pydantic's ``TypeAdapter`` validates the input, checks the output and
gives both JSON Schemas for ``/openapi.json``.

Register procedures on a ``Procedures`` registry (``@procedures.register``) or wrap single
functions with ``procedure(...)`` and pass them to ``create_app(..., procedures=...)``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints, overload

import pydantic
from pydantic import TypeAdapter

from datatier.errors import ConfigError

if TYPE_CHECKING:
    from starlette.requests import Request

    from datatier.api._auth import Identity
    from datatier.client import Client, Transaction

__all__ = [
    "Procedure",
    "ProcedureContext",
    "Procedures",
    "procedure",
    "to_problem_errors",
]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class ProcedureContext:
    """What a procedure gets besides its input: ``db`` (the client, or the transaction the
    call runs in), the caller's ``identity`` (None when auth is off) and the HTTP ``request``."""

    db: Client | Transaction
    identity: Identity | None
    request: Request


@dataclass(frozen=True, slots=True)
class Procedure:
    """One registered procedure: ``function`` with its validated input and output types.

    ``input`` is None for a procedure that takes no input (only the context); ``context_param``
    and ``input_param`` name the function's parameters that receive them.
    """

    name: str
    function: Callable[..., Awaitable[Any]]
    input: TypeAdapter[Any] | None
    output: TypeAdapter[Any]
    read_only: bool
    summary: str
    context_param: str | None
    input_param: str | None

    async def run(self, context: ProcedureContext, value: Any) -> Any:
        """Call the function with the context and the already validated input."""
        kwargs: dict[str, Any] = {}
        if self.context_param is not None:
            kwargs[self.context_param] = context
        if self.input_param is not None:
            kwargs[self.input_param] = value
        return await self.function(**kwargs)


def _build(function: Callable[..., Any], name: str | None, read_only: bool) -> Procedure:
    """A ``Procedure`` for ``function``; ``ConfigError`` naming what is wrong with it if it is
    not async, not fully typed, or takes more than a context and one input."""
    label = getattr(function, "__qualname__", repr(function))
    if not inspect.iscoroutinefunction(function):
        raise ConfigError(f"procedure {label}: must be an `async def` function")
    name = name or function.__name__
    if not _NAME.fullmatch(name):
        raise ConfigError(f"procedure name {name!r}: use letters, digits and `_` only")
    try:
        hints = get_type_hints(function)
    except Exception as error:  # an annotation naming something not importable
        raise ConfigError(f"procedure {name}: cannot resolve its type hints: {error}") from None
    if "return" not in hints:
        raise ConfigError(
            f"procedure {name}: annotate its return type (the output), e.g. `-> MyOutput`"
        )
    context_param: str | None = None
    input_param: str | None = None
    input_type: Any = None
    for param in inspect.signature(function).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigError(f"procedure {name}: *args/**kwargs are not supported")
        hint = hints.get(param.name)
        if hint is None:
            raise ConfigError(
                f"procedure {name}: parameter `{param.name}` has no type annotation; annotate "
                "the input (a pydantic model or TypedDict) and, optionally, a ProcedureContext"
            )
        if hint is ProcedureContext:
            context_param = param.name
        elif input_param is None:
            input_param, input_type = param.name, hint
        else:
            raise ConfigError(
                f"procedure {name}: takes one input parameter (plus an optional "
                f"ProcedureContext); `{input_param}` and `{param.name}` are two"
            )
    try:
        adapter = TypeAdapter(input_type) if input_param is not None else None
        output = TypeAdapter(hints["return"])
        if adapter is not None:
            adapter.json_schema()
        output.json_schema(mode="serialization")
    except pydantic.PydanticUserError as error:
        raise ConfigError(f"procedure {name}: pydantic cannot use its types: {error}") from None
    summary = (inspect.getdoc(function) or "").split("\n\n", 1)[0].replace("\n", " ")
    return Procedure(
        name=name,
        function=function,
        input=adapter,
        output=output,
        read_only=read_only,
        summary=summary or f"procedure {name}",
        context_param=context_param,
        input_param=input_param,
    )


@overload
def procedure(
    function: Callable[..., Awaitable[Any]], /, *, name: str | None = None, read_only: bool = False
) -> Procedure: ...
@overload
def procedure(
    function: None = None, /, *, name: str | None = None, read_only: bool = False
) -> Callable[[Callable[..., Awaitable[Any]]], Procedure]: ...
def procedure(
    function: Callable[..., Awaitable[Any]] | None = None,
    /,
    *,
    name: str | None = None,
    read_only: bool = False,
) -> Procedure | Callable[[Callable[..., Awaitable[Any]]], Procedure]:
    """``function`` as a ``Procedure`` (named after it unless ``name``); ``read_only`` ones
    also answer ``GET /rpc/{name}?q=<json>`` and get the client instead of a transaction."""
    if function is not None:
        return _build(function, name, read_only)
    return lambda f: _build(f, name, read_only)


class Procedures:
    """A registry of procedures for one app: ``@procedures.register`` adds a function."""

    def __init__(self, items: Iterable[Procedure | Callable[..., Awaitable[Any]]] = ()) -> None:
        self._by_name: dict[str, Procedure] = {}
        for item in items:
            self.add(item if isinstance(item, Procedure) else _build(item, None, False))

    @overload
    def register(self, function: F, /, *, name: None = None, read_only: bool = False) -> F: ...
    @overload
    def register(
        self, function: None = None, /, *, name: str | None = None, read_only: bool = False
    ) -> Callable[[F], F]: ...
    def register(
        self, function: Any = None, /, *, name: str | None = None, read_only: bool = False
    ) -> Any:
        """Decorator: register ``function`` (returned unchanged, so it stays callable)."""

        def register_one(f: F) -> F:
            self.add(_build(f, name, read_only))
            return f

        return register_one(function) if function is not None else register_one

    def add(self, item: Procedure) -> None:
        """Add a built procedure; ``ConfigError`` if its name is taken."""
        if item.name in self._by_name:
            raise ConfigError(f"procedure {item.name!r} is registered twice; names must be unique")
        self._by_name[item.name] = item

    def get(self, name: str) -> Procedure | None:
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def check_names(self, accessors: Iterable[str]) -> None:
        """``ConfigError`` if a procedure's name is a model accessor or ``$batch`` (its route
        ``/rpc/{name}`` would be ambiguous with the model's RPC routes and rules)."""
        taken = set(accessors)
        for item in self:
            if item.name in taken or item.name[:1].lower() + item.name[1:] in taken:
                raise ConfigError(
                    f"procedure {item.name!r} has the name of a model accessor; rename it "
                    "(models answer /rpc/{model}/{operation} and own their role rules)"
                )

    @classmethod
    def of(
        cls, value: Procedures | Iterable[Procedure | Callable[..., Awaitable[Any]]] | None
    ) -> Procedures:
        """``value`` as a registry (a registry as it is; a list of procedures or functions)."""
        if isinstance(value, Procedures):
            return value
        return cls(value or ())


def to_problem_errors(error: pydantic.ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as ``{"path": [...], "message": ...}`` items for a problem body."""
    return [
        {"path": list(item["loc"]), "message": item["msg"], "type": item["type"]}
        for item in error.errors(include_url=False, include_context=False, include_input=False)
    ]
