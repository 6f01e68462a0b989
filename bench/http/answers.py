"""Peers' answers made comparable: each peer's request and answer in the REST contract's shape.

Peers spell DateTime values differently (``...T14:43:32.35``, ``...32.350Z``,
``...32.350000``); ``normalized`` reads every ISO-8601 string as a UTC instant (naive
ones are UTC: the columns are ``timestamp(3)`` holding UTC) and writes it one way.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from bench.http.contract import Request
from bench.http.datatier_wire import from_datatier, to_datatier
from bench.http.fleet import Fleet, send
from bench.http.graphql import from_graphql, to_graphql
from bench.http.peers import Peer

_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)?$")


def normalized(value: Any) -> Any:
    """``value`` with every ISO-8601 DateTime string as one spelling of its UTC instant."""
    if isinstance(value, dict):
        return {key: normalized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalized(item) for item in value]
    if isinstance(value, str) and _ISO.match(value):
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    return value


def on_the_wire(peer: Peer, request: Request, cursors: dict[int, str]) -> Request:
    """The request as ``peer`` takes it (GraphQL for PostGraphile, datatier's own paths)."""
    if peer.wire is not None:
        request = to_datatier(peer.wire, request)
    elif peer.graphql:
        request = to_graphql(request, cursors)
    if peer.headers:
        request = replace(request, headers=(*request.headers, *peer.headers))
    return request


def ask(fleet: Fleet, peer: Peer, request: Request, cursors: dict[int, str]) -> tuple[int, Any]:
    """``peer``'s status and normalized answer to ``request``, in the REST contract's shape.

    A 404's body is each peer's own business: it comes back as None.
    """
    server = fleet.servers[peer.key]
    status, answer = send(server.base_url, on_the_wire(peer, request, cursors))
    if peer.wire is not None:
        status, answer = from_datatier(peer.wire, request, status, answer)
    elif peer.graphql:
        status, answer = from_graphql(request, answer)
    return status, None if status == 404 else normalized(answer)
