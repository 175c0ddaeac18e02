"""Relay's ``Node``: objects a client cache can key on, ``node(id:)`` and ``nodes(ids:)`` to refetch them.

Every entity type is a ``Node`` (``tests/unit/reporting/test_global_ids.py`` walks the schema: each object type is
one, or a value listed there with why it has no identity of its own). Two kinds of id, both unique among all
objects:

- an entity with an id of its own that no other object has (a UUID: a tasking, a project, a meeting...) read now
  has that id; read at another moment (``asOf``, ``inForceOn``) it has an opaque id that names the moment too;
- any other (a district or body of the partnership definition, known by a slug; a membership, a project's outcome,
  an event of history, known by their parts) always has an opaque id that names its type, and the moment it was
  read at when that is not now.

The opaque form is ``m_`` and base64url of ``[type, key, asOf, inForceOn]``. So a normalising cache (Apollo's
``Type:id``, Relay's store) holds the same tasking at two dates as two objects and never mixes their fields, and
``node(id:)`` answers the slice the id names. Types join by ``register``-ing a loader: which root queries' grants
read them (a partner client or the public may run ``node`` only for what one of those lets it read: what it may
not read is answered as an id of nothing, NOT_FOUND, so ``node`` tells nobody what exists beyond their grants) and
how one is read at a moment.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import GatewayError, IsAuthenticated, bad_input, read_model
from services.reporting.temporal import When, at, in_force_day, recorded_moment
from shared.readstore import ReadStore

MOMENT_PREFIX = "m_"


@strawberry.interface(description="An object with an id no other object has (Relay's Node): refetch it with "
                                  "node(id:). Read at another moment than now (asOf, inForceOn), its id names that "
                                  "moment too, and node(id:) answers as of it.")
class Node:
    id: strawberry.ID


def scoped_id(type_name: str, key: str, when: When) -> strawberry.ID:
    """The id of ``key`` (of ``type_name``, whose own ids are unique among all objects) read at ``when``: the key
    itself when read now."""
    if when is None:
        return strawberry.ID(key)
    return typed_id(type_name, key, when)


def typed_id(type_name: str, key: str | Sequence[Any], when: When = None) -> strawberry.ID:
    """The opaque id naming ``type_name``, ``key`` (its parts, for an object known by several) and ``when``."""
    if not isinstance(key, str):
        key = json.dumps(list(key), separators=(",", ":"), default=str)
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


def key_parts(key: str, count: int) -> list[Any] | None:
    """The parts of a key ``typed_id`` made of several (None when it is not ``count`` of them)."""
    try:
        parts = json.loads(key)
    except ValueError:
        return None
    return parts if isinstance(parts, list) and len(parts) == count else None


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
    queries: frozenset[str]
    """The root queries whose grants read this type (``Principal.may_query``): any one of them will do."""
    load: Callable[[Info, str, When], Any]
    own_ids: bool
    """Its objects read now have their own key as id (``scoped_id``), else always an opaque one (``typed_id``)."""


NODE_TYPES: dict[str, NodeType] = {}


def register(type_name: str, queries: str | Sequence[str], load: Callable[[Info, str, When], Any],
             own_ids: bool = True) -> None:
    NODE_TYPES[type_name] = NodeType(frozenset([queries] if isinstance(queries, str) else queries), load, own_ids)


def _may_read(info: Info, kind: NodeType) -> bool:
    principal = info.context.get("principal")
    return principal is None or any(principal.may_query(query) for query in kind.queries)


def _resolve(info: Info, value: str) -> Node | GatewayError:
    """The object of the id, or the error that says there is none the caller may read."""
    parsed = parse_id(value)
    if parsed.type_name is None:
        candidates = [kind for kind in NODE_TYPES.values() if kind.own_ids]
    else:
        candidates = [NODE_TYPES[parsed.type_name]] if parsed.type_name in NODE_TYPES else []
    for kind in candidates:
        if not _may_read(info, kind):
            continue
        found = kind.load(info, parsed.key, parsed.when)
        if isinstance(found, Node):
            return found
    return GatewayError(f"No object you may read has the id {value!r}.", "NOT_FOUND", id=value)


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The object of this id (Relay), as of the moment the id names. Null, with the "
                                  "error NOT_FOUND, for an id of nothing or of what your grants do not read.")
    def node(self, info: Info, id: strawberry.ID) -> Node | None:
        found = _resolve(info, str(id))
        if isinstance(found, GatewayError):
            raise found
        return found

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The objects of these ids, in their order: null, with a NOT_FOUND error at its "
                                  "index, for an id of nothing or of what your grants do not read.")
    def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > 100:
            raise bad_input("at most 100 ids at once", "ids")
        # An error in the list is raised by the executor at its item's path (that item null, the others kept).
        return [_resolve(info, str(i)) for i in ids]  # type: ignore[misc]


def loader_of(type_name: str, read: Callable[[ReadStore, str, When], dict[str, Any] | None],
              make: Callable[[dict[str, Any], When], Any]) -> Callable[[Info, str, When], Any]:
    """How ``node`` (and a type's own ``x(id:)`` query) reads one ``type_name`` at a moment: ``read`` its row by key
    at ``when`` and ``make`` the object. ``key`` may be an id this module made, whose moment then holds unless
    ``when`` names one."""

    def load(info: Info, key: str, when: When) -> Any:
        parsed = parse_id(key)
        if parsed.type_name not in (None, type_name):
            return None
        when = when if when is not None else parsed.when
        row = read(read_model(info).store, parsed.key, when)
        return make(row, when) if row else None

    return load


def one(rows: Sequence[dict[str, Any]], key: str, column: str = "id") -> dict[str, Any] | None:
    """The row of ``rows`` whose ``column`` is ``key`` (a type read by filtering its list)."""
    return next((row for row in rows if str(row[column]) == key), None)
