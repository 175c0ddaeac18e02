"""Temporal read models: every row knows from when to when it was true, so any question can be asked ``asOf``.

This module holds what every reporting module shares: the event log (history of every aggregate), the temporal
helpers, and the handle on the store. Each context's tables live in its own module (strategy, coordination,
delivery), listed in ``services.reporting.modules``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from shared.contracts import Fact
from shared.envelope import Envelope
from shared.readstore import ReadStore, Tx

Handlers = dict[str, Callable[[Tx, Envelope, Fact], None]]

DDL = [
    "CREATE TABLE IF NOT EXISTS event_log ("
    " subject TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL,"
    " time TEXT NOT NULL, actor TEXT NOT NULL, actor_organisation TEXT NOT NULL, actor_role TEXT NOT NULL,"
    " correlation_id TEXT NOT NULL, decision TEXT, data TEXT NOT NULL,"
    " PRIMARY KEY (subject, version))",
    "CREATE INDEX IF NOT EXISTS event_log_time ON event_log (time)",
    # A counter, not a set: applying an event twice would show, so it also witnesses exactly-once in effect.
    "CREATE TABLE IF NOT EXISTS event_counts (type TEXT PRIMARY KEY, n INTEGER NOT NULL)",
]


def timestamp(moment: datetime) -> str:
    """One sortable text form for both engines: UTC, microseconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def as_of_clause(as_of: datetime | None) -> tuple[str, list[Any]]:
    """The rows true at ``as_of`` (the current rows when None)."""
    if as_of is None:
        return "valid_to IS NULL", []
    at = timestamp(as_of)
    return "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)", [at, at]


def close_current(tx: Tx, table: str, entity_id: str, at: str) -> None:
    """End the validity of an entity's current row (a new row then says what is true from ``at``)."""
    tx.execute(f"UPDATE {table} SET valid_to = ? WHERE id = ? AND valid_to IS NULL", (at, entity_id))


def decision_json(fact: Fact) -> str | None:
    if fact.decision is None:
        return None
    return json.dumps(asdict(fact.decision), default=str, sort_keys=True)


def log_event(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    tx.execute(
        "INSERT INTO event_log (subject, version, type, source, time, actor, actor_organisation, actor_role,"
        " correlation_id, decision, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (envelope.subject, envelope.sequence, envelope.type, envelope.source, timestamp(envelope.time),
         envelope.actor, envelope.actororganisation, envelope.actorrole, envelope.correlationid,
         decision_json(fact), json.dumps(envelope.data, sort_keys=True)),
    )
    tx.execute(
        "INSERT INTO event_counts (type, n) VALUES (?, 1) ON CONFLICT (type) DO UPDATE SET n = event_counts.n + 1",
        (envelope.type,),
    )


class ReportingReadModel:
    """The reporting store with every module's tables."""

    def __init__(self, store: ReadStore, ddl: list[str]) -> None:
        self.store = store
        store.migrate([*DDL, *ddl])

    def history(self, aggregate_id: str) -> list[dict[str, Any]]:
        rows = self.store.query("SELECT * FROM event_log WHERE subject = ? ORDER BY version", [aggregate_id])
        for row in rows:
            row["data"] = json.loads(row["data"])
            row["decision"] = json.loads(row["decision"]) if row["decision"] else None
        return rows

    def event_count(self) -> int:
        rows = self.store.query("SELECT COUNT(*) AS n FROM event_log")
        return int(rows[0]["n"])

    def event_counts(self) -> dict[str, int]:
        """How many events of each type were applied (each exactly once)."""
        return {row["type"]: int(row["n"]) for row in self.store.query("SELECT type, n FROM event_counts")}
