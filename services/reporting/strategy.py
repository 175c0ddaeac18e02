"""Strategy read models (from ``priorities.events``): the objectives tree, as of any time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import Actor, Decision, IsAuthenticated, decision_from, moment, read_model
from services.reporting.readmodel import Handlers, as_of_clause, close_current, decision_json, timestamp
from shared.contracts import Fact, contract_type
from shared.contracts.priorities import ObjectiveAdded
from shared.envelope import Envelope
from shared.readstore import ReadStore, Tx

DDL = [
    "CREATE TABLE IF NOT EXISTS objectives ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, title TEXT NOT NULL, level TEXT NOT NULL,"
    " strategy TEXT NOT NULL, parent_id TEXT, changed_by TEXT NOT NULL, changed_by_organisation TEXT NOT NULL,"
    " changed_by_role TEXT NOT NULL, decision TEXT, valid_from TEXT NOT NULL, valid_to TEXT,"
    " PRIMARY KEY (id, version))",
    "CREATE INDEX IF NOT EXISTS objectives_current ON objectives (valid_to, id)",
]


def _objective_added(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, ObjectiveAdded)
    at = timestamp(envelope.time)
    close_current(tx, "objectives", envelope.subject, at)
    tx.execute(
        "INSERT INTO objectives (id, version, title, level, strategy, parent_id, changed_by,"
        " changed_by_organisation, changed_by_role, decision, valid_from, valid_to)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (envelope.subject, envelope.sequence, fact.title, fact.level.value, fact.strategy,
         None if fact.parent_id is None else str(fact.parent_id), fact.actor.user_id,
         fact.actor.organisation, fact.actor.role, decision_json(fact), at),
    )


HANDLERS: Handlers = {
    contract_type(ObjectiveAdded): _objective_added,
}


def objectives(store: ReadStore, as_of: datetime | None = None, level: str | None = None) -> list[dict[str, Any]]:
    clause, params = as_of_clause(as_of)
    if level is not None:
        clause += " AND level = ?"
        params.append(level)
    return store.query(f"SELECT * FROM objectives WHERE {clause} ORDER BY valid_from, id", params)


def objective(store: ReadStore, objective_id: str, as_of: datetime | None = None) -> dict[str, Any] | None:
    clause, params = as_of_clause(as_of)
    rows = store.query(f"SELECT * FROM objectives WHERE id = ? AND {clause}", [objective_id, *params])
    return rows[0] if rows else None


@strawberry.type
class Objective:
    id: strawberry.ID
    version: int
    title: str
    level: str
    strategy: str
    parent_id: strawberry.ID | None
    changed_by: Actor
    decision: Decision | None
    valid_from: datetime
    valid_to: datetime | None

    @staticmethod
    def from_row(row: dict[str, Any]) -> Objective:
        return Objective(
            id=strawberry.ID(row["id"]), version=row["version"], title=row["title"], level=row["level"],
            strategy=row["strategy"], parent_id=row["parent_id"],
            changed_by=Actor(user_id=row["changed_by"], organisation=row["changed_by_organisation"],
                             role=row["changed_by_role"]),
            decision=decision_from(row["decision"]), valid_from=datetime.fromisoformat(row["valid_from"]),
            valid_to=moment(row["valid_to"]),
        )


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Objectives of the SCS and the county strategies, as of a time (default now).")
    def objectives(self, info: Info, as_of: datetime | None = None, level: str | None = None) -> list[Objective]:
        return [Objective.from_row(r) for r in objectives(read_model(info).store, as_of, level)]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def objective(self, info: Info, id: strawberry.ID, as_of: datetime | None = None) -> Objective | None:
        row = objective(read_model(info).store, str(id), as_of)
        return Objective.from_row(row) if row else None
