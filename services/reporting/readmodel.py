"""Temporal read models: every row knows from when to when it was true, so any question can be asked ``asOf``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from shared.readstore import ReadStore, Tx

DDL = [
    "CREATE TABLE IF NOT EXISTS event_log ("
    " subject TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL,"
    " time TEXT NOT NULL, actor TEXT NOT NULL, actor_organisation TEXT NOT NULL, actor_role TEXT NOT NULL,"
    " correlation_id TEXT NOT NULL, decision TEXT, data TEXT NOT NULL,"
    " PRIMARY KEY (subject, version))",
    "CREATE INDEX IF NOT EXISTS event_log_time ON event_log (time)",
    "CREATE TABLE IF NOT EXISTS objectives ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, title TEXT NOT NULL, level TEXT NOT NULL,"
    " strategy TEXT NOT NULL, parent_id TEXT, changed_by TEXT NOT NULL, changed_by_organisation TEXT NOT NULL,"
    " changed_by_role TEXT NOT NULL, decision TEXT, valid_from TEXT NOT NULL, valid_to TEXT,"
    " PRIMARY KEY (id, version))",
    "CREATE INDEX IF NOT EXISTS objectives_current ON objectives (valid_to, id)",
]


def timestamp(moment: datetime) -> str:
    """One sortable text form for both engines: UTC, microseconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def as_of_clause(as_of: datetime | None) -> tuple[str, list[Any]]:
    if as_of is None:
        return "valid_to IS NULL", []
    at = timestamp(as_of)
    return "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)", [at, at]


def close_current(tx: Tx, table: str, entity_id: str, at: str) -> None:
    """End the validity of an entity's current row (a new row then says what is true from ``at``)."""
    tx.execute(f"UPDATE {table} SET valid_to = ? WHERE id = ? AND valid_to IS NULL", (at, entity_id))


class ReportingReadModel:
    """Queries over the reporting read models."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store
        store.migrate(DDL)

    def objectives(self, as_of: datetime | None = None, level: str | None = None) -> list[dict[str, Any]]:
        clause, params = as_of_clause(as_of)
        if level is not None:
            clause += " AND level = ?"
            params.append(level)
        return self.store.query(f"SELECT * FROM objectives WHERE {clause} ORDER BY valid_from, id", params)

    def objective(self, objective_id: str, as_of: datetime | None = None) -> dict[str, Any] | None:
        clause, params = as_of_clause(as_of)
        rows = self.store.query(f"SELECT * FROM objectives WHERE id = ? AND {clause}", [objective_id, *params])
        return rows[0] if rows else None

    def history(self, aggregate_id: str) -> list[dict[str, Any]]:
        rows = self.store.query("SELECT * FROM event_log WHERE subject = ? ORDER BY version", [aggregate_id])
        for row in rows:
            row["data"] = json.loads(row["data"])
            row["decision"] = json.loads(row["decision"]) if row["decision"] else None
        return rows

    def event_count(self) -> int:
        rows = self.store.query("SELECT COUNT(*) AS n FROM event_log")
        return int(rows[0]["n"])
