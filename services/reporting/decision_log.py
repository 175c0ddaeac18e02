"""The decisions log: every decision that rode on an event of any service, a page at a time.

Each read model serves its own pages (``<list>Connection(first, after, ...filters)`` in its ``graphql``); this log
reads the event log, which every event reaches whichever read models follow it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import (
    AFTER,
    BEFORE,
    FIRST,
    IN_FORCE_ON,
    LAST,
    Actor,
    Connection,
    Decision,
    IsAuthenticated,
    bad_input,
    decision_from,
    paginate_listing,
    read_model,
)
from services.reporting.graphql_node import Node, key_parts, register, typed_id
from services.reporting.listing import Listing
from services.reporting.temporal import timestamp


@strawberry.type(description="A decision as it rode on an event of any service: who decided, when, why, on what.")
class DecisionLogEntry(Node):
    id: strawberry.ID = strawberry.field(description="Unique among all objects (opaque): the event's aggregate and "
                                                     "version name it (it does not change).")
    aggregate_id: strawberry.ID
    version: int
    service: str
    kind: str
    type: str
    recorded_at: datetime
    recorded_by: Actor
    decision: Decision


def decision_listing(postgres: bool, *, body: str | None, decided_from: date | None, decided_to: date | None,
                     kind: str | None, service: str | None, as_of: datetime | None) -> Listing:
    """The decided events of the event log that the filters keep, in the order the log shows them (recorded, then
    aggregate and version), as SQL: a page of them is read in the database (the log has every decision of the
    history). The decision's body and date are read from its JSON there."""
    def decided(name: str) -> str:
        return f"(decision::json ->> '{name}')" if postgres else f"json_extract(decision, '$.{name}')"

    clause, params = "decision IS NOT NULL", []
    if as_of is not None:
        clause += " AND time <= ?"
        params.append(timestamp(as_of))
    if service is not None:
        clause += " AND type LIKE ? ESCAPE '!'"
        params.append(f"{_literally(service)}.%")
    if body is not None:
        clause += f" AND {decided('body')} = ?"
        params.append(body)
    if decided_from is not None:
        clause += f" AND {decided('decided_on')} >= ?"
        params.append(decided_from.isoformat())
    if decided_to is not None:
        clause += f" AND {decided('decided_on')} <= ?"
        params.append(decided_to.isoformat())
    if kind is not None and "." in kind:
        clause += " AND 1 = 0"  # every event type is <service>.<Kind>.v<N> (shared.contracts): no kind is dotted
    elif kind is not None:
        clause += " AND type LIKE ? ESCAPE '!'"
        params.append(f"%.{_literally(kind)}.v%")
    return Listing("event_log", clause, tuple(params), ("time", "subject", "version"), (str, str, int))


def _literally(text: str) -> str:
    """``text`` matched as it is in a LIKE pattern (ESCAPE '!'): a service or kind may not widen the match."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _entry_row(row: dict[str, Any]) -> dict[str, Any]:
    kind = row["type"].split(".")[1] if row["type"].count(".") >= 2 else row["type"]
    return {**row, "kind": kind, "service": row["type"].split(".")[0]}


def _log_entry(row: dict[str, Any]) -> DecisionLogEntry:
    decision = decision_from(row["decision"])
    assert decision is not None
    return DecisionLogEntry(
        id=typed_id("DecisionLogEntry", (row["subject"], row["version"])), aggregate_id=strawberry.ID(row["subject"]),
        version=row["version"], service=row["service"], kind=row["kind"],
        type=row["type"], recorded_at=datetime.fromisoformat(row["time"]),
        recorded_by=Actor(user_id=row["actor"], organisation=row["actor_organisation"], role=row["actor_role"]),
        decision=decision)


def _check_range(start: date | datetime | None, end: date | datetime | None) -> None:
    if start is not None and end is not None and start > end:
        raise bad_input("the period ends before it starts", "to")


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Every decision of every service (priorities, tasking, projects): by body, "
                                  "decision date range, kind of event (e.g. TaskingRetasked) and service.")
    def decision_log(self, info: Info, first: FIRST = None, after: AFTER = None,
                     last: LAST = None, before: BEFORE = None,
                     body: str | None = None, decided_from: date | None = None, decided_to: date | None = None,
                     kind: str | None = None, service: str | None = None,
                     as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None
                     ) -> Connection[DecisionLogEntry]:
        _check_range(decided_from, decided_to)
        if in_force_on is not None:  # a decision is in force from its date
            decided_to = in_force_on if decided_to is None else min(decided_to, in_force_on)
        store = read_model(info).store
        listed = decision_listing(store.postgres, body=body, decided_from=decided_from, decided_to=decided_to,
                                  kind=kind, service=service, as_of=as_of)
        return paginate_listing(store, listed, lambda r: _log_entry(_entry_row(store.open_row(r))), first, after,
                                last, before, sealed=True)  # only the page's rows are read and opened


def _log_node(info: Info, key: str, when: object) -> DecisionLogEntry | None:
    parts = key_parts(key, 2)
    if parts is None:
        return None
    rows = read_model(info).store.query(
        "SELECT subject, version, type, time, actor, actor_organisation, actor_role, decision FROM event_log"
        " WHERE subject = ? AND version = ? AND decision IS NOT NULL", [str(parts[0]), parts[1]])
    if not rows:
        return None
    return _log_entry(_entry_row(rows[0]))


register("DecisionLogEntry", "decisionLog", _log_node, own_ids=False)
