"""Paged lists (Relay cursor connections) over the read models: ``<list>Connection(first, after, ...filters)``.

The plain list fields (``objectives``, ``taskings``, ...) stay for small dashboards; these are for anything that can
grow. Each page is in a stable order and its cursors are keyset cursors, so a page does not shift when rows are
added before it. A cross-context decisions log (every decision that rode on any event) is here too.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting import coordination, delivery, strategy
from services.reporting.graphql_common import (
    Actor,
    Connection,
    Decision,
    IsAuthenticated,
    bad_input,
    decision_from,
    paginate,
    read_model,
)
from services.reporting.readmodel import timestamp


def _id(value: strawberry.ID | None) -> str | None:
    return None if value is None else str(value)


@strawberry.type(description="A decision as it rode on an event of any service: who decided, when, why, on what.")
class DecisionLogEntry:
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
        aggregate_id=strawberry.ID(row["subject"]), version=row["version"], service=row["service"], kind=row["kind"],
        type=row["type"], recorded_at=datetime.fromisoformat(row["time"]),
        recorded_by=Actor(user_id=row["actor"], organisation=row["actor_organisation"], role=row["actor_role"]),
        decision=decision)


def _check_range(start: date | datetime | None, end: date | datetime | None) -> None:
    if start is not None and end is not None and start > end:
        raise bad_input("the period ends before it starts", "to")


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Objectives, a page at a time.")
    def objectives_connection(self, info: Info, first: int | None = None, after: str | None = None,
                              as_of: datetime | None = None,
                              level: str | None = None) -> Connection[strategy.Objective]:
        rows = strategy.objectives(read_model(info).store, as_of, level)
        return paginate(rows, lambda r: (r["added_at"], r["id"]), lambda r: strategy.Objective.from_row(r, as_of),
                        first, after)

    @strawberry.field(permission_classes=[IsAuthenticated], description="SMART targets, a page at a time.")
    def targets_connection(self, info: Info, first: int | None = None, after: str | None = None,
                           as_of: datetime | None = None, objective_id: strawberry.ID | None = None,
                           status: str | None = None) -> Connection[strategy.Target]:
        rows = strategy.targets(read_model(info).store, as_of, _id(objective_id), status)
        return paginate(rows, lambda r: (r["added_at"], r["id"]), strategy.Target.from_row, first, after)

    @strawberry.field(permission_classes=[IsAuthenticated], description="District priorities, a page at a time.")
    def district_priorities_connection(self, info: Info, first: int | None = None, after: str | None = None,
                                       as_of: datetime | None = None, district: str | None = None,
                                       status: str | None = None, objective_id: strawberry.ID | None = None
                                       ) -> Connection[strategy.DistrictPriority]:
        rows = strategy.district_priorities(read_model(info).store, as_of, district, status, _id(objective_id))
        return paginate(rows, lambda r: (r["added_at"], r["id"]), strategy.DistrictPriority.from_row, first, after)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Local evidence, a page at a time.")
    def evidence_connection(self, info: Info, first: int | None = None, after: str | None = None,
                            as_of: datetime | None = None, district: str | None = None,
                            status: str | None = None) -> Connection[strategy.Evidence]:
        rows = strategy.evidence(read_model(info).store, as_of, district, status)
        return paginate(rows, lambda r: (r["added_at"], r["id"]), strategy.Evidence.from_row, first, after)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Taskings, a page at a time.")
    def taskings_connection(self, info: Info, first: int | None = None, after: str | None = None,
                            as_of: datetime | None = None, district: str | None = None,
                            theme_group: str | None = None, target_id: strawberry.ID | None = None,
                            status: str | None = None,
                            lead_partner: str | None = None) -> Connection[coordination.Tasking]:
        rows = coordination.taskings(read_model(info).store, as_of, district=district, theme_group=theme_group,
                                     target_id=_id(target_id), status=status, lead_partner=lead_partner)
        return paginate(rows, lambda r: (r["target_id"], r["district"], r["id"]), coordination.Tasking.from_row,
                        first, after)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Agreed actions, a page at a time; overdueOnly keeps those past due and not done.")
    def agreed_actions_connection(self, info: Info, first: int | None = None, after: str | None = None,
                                  as_of: datetime | None = None, body: str | None = None, owner: str | None = None,
                                  overdue_only: bool = False) -> Connection[coordination.AgreedAction]:
        today = (as_of or datetime.now(UTC)).date()
        rows = coordination.agreed_actions(read_model(info).store, as_of, body=body, owner=owner,
                                           overdue_on=today if overdue_only else None)
        return paginate(rows, lambda r: (r["due_on"], r["id"]),
                        lambda r: coordination.AgreedAction.from_row(r, today), first, after)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Projects by district, status and RAG, a page at a time.")
    def delivery_projects_connection(self, info: Info, first: int | None = None, after: str | None = None,
                                     as_of: datetime | None = None, district: str | None = None,
                                     status: str | None = None,
                                     rag: str | None = None) -> Connection[delivery.DeliveryProject]:
        rows = [r for r in delivery.projects(read_model(info).store, as_of, district, status)
                if rag is None or r["rag"] == rag]
        return paginate(rows, lambda r: (r["district"], r["opened_at"], r["id"]),
                        lambda r: delivery.DeliveryProject.from_row(r, as_of), first, after)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Every decision of every service (priorities, tasking, projects): by body, "
                                  "decision date range, kind of event (e.g. TaskingRetasked) and service.")
    def decision_log(self, info: Info, first: int | None = None, after: str | None = None,
                     body: str | None = None, decided_from: date | None = None, decided_to: date | None = None,
                     kind: str | None = None, service: str | None = None,
                     as_of: datetime | None = None) -> Connection[DecisionLogEntry]:
        _check_range(decided_from, decided_to)
        rows = decision_log(read_model(info).store, body=body, decided_from=decided_from, decided_to=decided_to,
                            kind=kind, service=service, as_of=as_of)
        return paginate(rows, lambda r: (r["time"], r["subject"], r["version"]), _log_entry, first, after)
