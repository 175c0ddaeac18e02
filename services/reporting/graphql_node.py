"""Relay's ``Node``: objects a client cache can key on, ``node(id:)`` and ``nodes(ids:)`` to refetch them.

An object read now has its own id. An object read at another moment (``asOf``, ``inForceOn``) has an opaque id that
names the moment too (``m_`` and base64url of ``[type, id, asOf, inForceOn]``), so a normalising cache (Apollo's
``Type:id``, Relay's store) holds the same tasking at two dates as two objects and never mixes their fields;
``node(id:)`` with such an id answers that slice. Types join by ``register``-ing a loader: which query's grant
reads them (a partner client or the public may run ``node`` only for what that query lets it read) and how one is
read at a moment.

Implemented by: Tasking (``coordination.graphql``), Target and Objective (``strategy.graphql``). Not yet: the
other entity types (see docs/architecture.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import GatewayError, IsAuthenticated, bad_input
from services.reporting.temporal import When, at, in_force_day, recorded_moment

MOMENT_PREFIX = "m_"


@strawberry.interface(description="An object with an id no other object has (Relay's Node): refetch it with "
                                  "node(id:). Read at another moment than now (asOf, inForceOn), its id names that "
                                  "moment too, and node(id:) answers as of it.")
class Node:
    id: strawberry.ID


def scoped_id(type_name: str, key: str, when: When) -> strawberry.ID:
    """The id of ``key`` (of ``type_name``) read at ``when``: the key itself when read now."""
    if when is None:
        return strawberry.ID(key)
    moment, day = recorded_moment(when), in_force_day(when)
    raw = json.dumps([type_name, key, moment.isoformat() if moment else None, day.isoformat() if day else None],
                     separators=(",", ":"))
    return strawberry.ID(MOMENT_PREFIX + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("="))


@dataclass(frozen=True)
class ParsedId:
    type_name: str | None
    """None for an id read now (its type is found by asking each registered type)."""
    key: str
    when: When


def parse_id(value: str) -> ParsedId:
    if not value.startswith(MOMENT_PREFIX):
        return ParsedId(None, value, None)
    text = value[len(MOMENT_PREFIX):]
    try:
        parts = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        type_name, key, moment, day = parts
        when = at(datetime.fromisoformat(moment) if moment else None, date.fromisoformat(day) if day else None)
        assert isinstance(type_name, str) and isinstance(key, str)
    except (ValueError, TypeError, AssertionError, binascii.Error, UnicodeDecodeError):
        raise bad_input(f"{value!r} is not an id this API gave out", "id") from None
    return ParsedId(type_name, key, when)


@dataclass(frozen=True)
class NodeType:
    query: str
    """The root query whose grant reads this type (``Principal.may_query``)."""
    load: Callable[[Info, str, When], Any]


NODE_TYPES: dict[str, NodeType] = {}


def register(type_name: str, query: str, load: Callable[[Info, str, When], Any]) -> None:
    NODE_TYPES[type_name] = NodeType(query, load)


def _resolve(info: Info, value: str) -> Node | None:
    parsed = parse_id(value)
    principal = info.context.get("principal")
    candidates = NODE_TYPES.items() if parsed.type_name is None else (
        [(parsed.type_name, NODE_TYPES[parsed.type_name])] if parsed.type_name in NODE_TYPES else [])
    for name, kind in candidates:
        if principal is not None and not principal.may_query(kind.query):
            if parsed.type_name is not None:
                raise GatewayError(f"Your grants do not read {name} ({kind.query}).", "FORBIDDEN")
            continue
        found = kind.load(info, parsed.key, parsed.when)
        if isinstance(found, Node):
            return found
    return None


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The object of this id (Relay), as of the moment the id names; null if none.")
    def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return _resolve(info, str(id))

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The objects of these ids, in their order (null for an id of nothing).")
    def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > 100:
            raise bad_input("at most 100 ids at once", "ids")
        return [_resolve(info, str(i)) for i in ids]
