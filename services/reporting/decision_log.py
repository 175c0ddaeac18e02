"""The decisions log: every decision that rode on an event of any service, a page at a time.

Each read model serves its own pages (``<list>Connection(first, after, ...filters)`` in its ``graphql``); this log
reads the event log, which every event reaches whichever read models follow it.
"""

from __future__ import annotations

import json
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
    paginate,
    read_model,
)
from services.reporting.graphql_node import Node, key_parts, register, typed_id
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


def decision_log(store: Any, *, body: str | None, decided_from: date | None, decided_to: date | None,
                 kind: str | None, service: str | None, as_of: datetime | None) -> list[dict[str, Any]]:
    clause, params = "decision IS NOT NULL", []
    if as_of is not None:
        clause += " AND time <= ?"
        params.append(timestamp(as_of))
    if service is not None:
        clause += " AND type LIKE ?"
        params.append(f"{service}.%")
    rows = store.query(f"SELECT subject, version, type, time, actor, actor_organisation, actor_role, decision"
                       f" FROM event_log WHERE {clause} ORDER BY time, subject, version", params)
    kept = []
    for row in rows:
        decision = json.loads(row["decision"])
        event_kind = row["type"].split(".")[1] if row["type"].count(".") >= 2 else row["type"]
        if body is not None and decision["body"] != body:
            continue
        if decided_from is not None and decision["decided_on"] < decided_from.isoformat():
            continue
        if decided_to is not None and decision["decided_on"] > decided_to.isoformat():
            continue
        if kind is not None and event_kind != kind:
            continue
        kept.append({**row, "kind": event_kind, "service": row["type"].split(".")[0]})
    return kept


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
        rows = decision_log(read_model(info).store, body=body, decided_from=decided_from, decided_to=decided_to,
                            kind=kind, service=service, as_of=as_of)
        return paginate(rows, lambda r: (r["time"], r["subject"], r["version"]), _log_entry, first, after, last, before)


def _log_node(info: Info, key: str, when: object) -> DecisionLogEntry | None:
    parts = key_parts(key, 2)
    if parts is None:
        return None
    rows = read_model(info).store.query(
        "SELECT subject, version, type, time, actor, actor_organisation, actor_role, decision FROM event_log"
        " WHERE subject = ? AND version = ? AND decision IS NOT NULL", [str(parts[0]), parts[1]])
    if not rows:
        return None
    row = rows[0]
    kind = row["type"].split(".")[1] if row["type"].count(".") >= 2 else row["type"]
    return _log_entry({**row, "kind": kind, "service": row["type"].split(".")[0]})


register("DecisionLogEntry", "decisionLog", _log_node, own_ids=False)
