"""``GraphqlSettings``: the limits of ``/graphql``, checked on every request before any SQL runs."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GraphqlSettings"]


@dataclass(frozen=True, slots=True)
class GraphqlSettings:
    """Limits and switches of the GraphQL endpoint (``ApiSettings.graphql``).

    ``max_depth``: field levels of one operation (a root field is level 1);
    ``max_aliases``: aliased fields in one operation; ``max_root_fields``: root fields in one
    operation; ``max_batch``: operations in one batched (JSON array) request;
    ``max_complexity``: the estimated number of records one operation reads — every list
    field counts its ``take`` (a missing one counts as ``ApiSettings.default_page``) times the
    records of the lists around it; ``max_fields``: field selections in one operation, each
    fragment counted every time it is spread (validating a query costs time that grows
    faster than its size, so the size is bounded before it is validated). ``introspection`` and ``graphiql`` switch ``__schema``/``__type``
    and the browser page off when False.
    """

    max_depth: int = 10
    max_aliases: int = 30
    max_root_fields: int = 20
    max_batch: int = 10
    max_complexity: int = 200_000
    max_fields: int = 500
    introspection: bool = True
    graphiql: bool = True

    def __post_init__(self) -> None:
        for name in (
            "max_depth",
            "max_aliases",
            "max_root_fields",
            "max_batch",
            "max_complexity",
            "max_fields",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(
                    f"GraphqlSettings.{name} must be a positive integer, not {value!r}"
                )
        for name in ("introspection", "graphiql"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"GraphqlSettings.{name} must be true or false")
