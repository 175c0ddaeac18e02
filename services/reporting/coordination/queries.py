"""The coordination read model's questions, as of any time and in force on any day: taskings, retasking chains,
decisions by body and date, memberships, commitments, meetings, agreed actions, and districts missing a kind of
partner."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from services.reporting.coordination import chains
from services.reporting.coordination.tables import (
    AGREED_ACTIONS,
    COORDINATION_DECISIONS,
    DISTRICT_COMMITMENTS,
    MEETINGS,
    MEMBERSHIPS,
    TASKING_CHANGES,
    TASKINGS,
)
from services.reporting.temporal import as_of_clause, recorded_clause, source, timestamp
from shared.partnership import PartnershipDefinition
from shared.readstore import ReadStore

ACTIVE_STATUSES = ("issued", "accepted", "in_delivery")
"""A tasking still to be delivered."""


def taskings(store: ReadStore, as_of: datetime | None = None, *, district: str | None = None,
             theme_group: str | None = None, target_id: str | None = None, status: str | None = None,
             lead_partner: str | None = None, in_force_on: date | None = None) -> list[dict[str, Any]]:
    clause, params = as_of_clause(as_of, in_force_on, TASKINGS.name)
    for column, value in (("district", district), ("theme_group", theme_group), ("target_id", target_id),
                          ("status", status), ("lead_partner", lead_partner)):
        if value is not None:
            clause += f" AND {column} = ?"
            params.append(value)
    rows_from = source(TASKINGS.name, as_of, in_force_on)
    return store.query(f"SELECT * FROM {rows_from} WHERE {clause} ORDER BY target_id, district, id", params)


def tasking(store: ReadStore, tasking_id: str, as_of: datetime | None = None,
            in_force_on: date | None = None) -> dict[str, Any] | None:
    clause, params = as_of_clause(as_of, in_force_on, TASKINGS.name)
    rows = store.query(f"SELECT * FROM {source(TASKINGS.name, as_of, in_force_on)} WHERE id = ? AND {clause}",
                       [tasking_id, *params])
    return rows[0] if rows else None


def tasking_changes(store: ReadStore, as_of: datetime | None = None,
                    in_force_on: date | None = None) -> list[dict[str, Any]]:
    """Every assignment change (issue or retasking) recorded by ``as_of`` and in force by ``in_force_on``, in the
    order recorded."""
    clause, params = recorded_clause(as_of, in_force_on, on="in_force_from")
    return store.query(f"SELECT * FROM {TASKING_CHANGES.name} WHERE {clause}"
                       " ORDER BY at, tasking_id, version", params)


def retasked_taskings(store: ReadStore, as_of: datetime) -> list[str]:
    """The taskings retasked by ``as_of``."""
    return [row["tasking_id"] for row in store.query(
        f"SELECT DISTINCT tasking_id FROM {TASKING_CHANGES.name} WHERE kind = 'retasked' AND at <= ?",
        [timestamp(as_of)])]


def retasking_chain(store: ReadStore, tasking_id: str, names: chains.Names,
                    as_of: datetime | None = None, in_force_on: date | None = None) -> dict[str, Any]:
    """The retasking chain of this tasking as the record stood at ``as_of``, in force on ``in_force_on``
    (``chains.chain``), its districts and bodies named by ``names``."""
    return chains.chain(tasking_changes(store, as_of, in_force_on), tasking_id, names)


def decisions(store: ReadStore, as_of: datetime | None = None, *, body: str | None = None,
              decided_from: date | None = None, decided_to: date | None = None,
              in_force_on: date | None = None) -> list[dict[str, Any]]:
    clause, params = recorded_clause(as_of, in_force_on, on="decided_on")
    if body is not None:
        clause += " AND body = ?"
        params.append(body)
    if decided_from is not None:
        clause += " AND decided_on >= ?"
        params.append(decided_from.isoformat())
    if decided_to is not None:
        clause += " AND decided_on <= ?"
        params.append(decided_to.isoformat())
    return store.query(f"SELECT * FROM {COORDINATION_DECISIONS.name} WHERE {clause} ORDER BY decided_on, at, subject",
                       params)


def memberships(store: ReadStore, as_of: datetime | None = None, *, body: str | None = None,
                organisation: str | None = None, include_former: bool = False,
                in_force_on: date | None = None) -> list[dict[str, Any]]:
    clause, params = as_of_clause(as_of, in_force_on, MEMBERSHIPS.name)
    if not include_former:
        clause += " AND is_member = 1"
    for column, value in (("body", body), ("organisation", organisation)):
        if value is not None:
            clause += f" AND {column} = ?"
            params.append(value)
    rows_from = source(MEMBERSHIPS.name, as_of, in_force_on)
    return store.query(f"SELECT * FROM {rows_from} WHERE {clause} ORDER BY body, organisation", params)


def commitments(store: ReadStore, as_of: datetime | None = None,
                organisation: str | None = None, in_force_on: date | None = None) -> list[dict[str, Any]]:
    clause, params = as_of_clause(as_of, in_force_on, DISTRICT_COMMITMENTS.name)
    if organisation is not None:
        clause += " AND organisation = ?"
        params.append(organisation)
    rows_from = source(DISTRICT_COMMITMENTS.name, as_of, in_force_on)
    return store.query(f"SELECT * FROM {rows_from} WHERE {clause} ORDER BY organisation", params)


def meetings(store: ReadStore, as_of: datetime | None = None, body: str | None = None,
             in_force_on: date | None = None) -> list[dict[str, Any]]:
    clause, params = recorded_clause(as_of, in_force_on, on="held_on")
    if body is not None:
        clause += " AND body = ?"
        params.append(body)
    return store.query(f"SELECT * FROM {MEETINGS.name} WHERE {clause} ORDER BY held_on, id", params)


def agreed_actions(store: ReadStore, as_of: datetime | None = None, *, body: str | None = None,
                   owner: str | None = None, overdue_on: date | None = None,
                   in_force_on: date | None = None) -> list[dict[str, Any]]:
    clause, params = as_of_clause(as_of, in_force_on, AGREED_ACTIONS.name)
    for column, value in (("body", body), ("owner", owner)):
        if value is not None:
            clause += f" AND {column} = ?"
            params.append(value)
    if overdue_on is not None:
        clause += " AND done_on IS NULL AND due_on < ?"
        params.append(overdue_on.isoformat())
    rows_from = source(AGREED_ACTIONS.name, as_of, in_force_on)
    return store.query(f"SELECT * FROM {rows_from} WHERE {clause} ORDER BY due_on, id", params)


def districts_without_partner_kind(store: ReadStore, kind: str, definition: PartnershipDefinition,
                                   as_of: datetime | None = None,
                                   in_force_on: date | None = None) -> list[dict[str, Any]]:
    """Districts holding a live tasking (issued, accepted, in delivery) with no partner of ``kind`` at their
    partnership's table (members, including theme groups' representatives)."""
    held: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in taskings(store, as_of, in_force_on=in_force_on):
        if row["status"] in ACTIVE_STATUSES:
            held[row["district"]].append(row)
    answer = []
    for district, rows in sorted(held.items()):
        seated = [m["organisation"] for m in memberships(store, as_of, body=district, in_force_on=in_force_on)]
        kinds = sorted({o.kind for org in seated if (o := definition.organisation(org)) is not None})
        if kind not in kinds:
            answer.append({"district": district,
                           "taskings": rows, "partner_kinds": kinds, "partners": seated})
    return answer
